"""Network staff must protect their accounts with two-factor authentication."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

# Paths a staff member without two-factor may still reach: setting it up, signing out.
_ALLOWED_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/healthz")


def has_two_factor(user: object) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class RequireTwoFactorForStaffMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and (user.is_network_staff or user.is_staff)
            and not request.path.startswith(_ALLOWED_PREFIXES)
            and not has_two_factor(user)
        ):
            messages.warning(
                request,
                _("Network staff must set up two-factor authentication before continuing."),
            )
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
