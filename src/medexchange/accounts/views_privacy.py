"""The person's own data: download a copy of it, or delete the account.

Kept apart from ``views.py`` (the profile and preferences pages) so the two change
independently; the work is in ``privacy.py``.
"""

from __future__ import annotations

from typing import cast

from allauth.core import ratelimit
from django import forms
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from medexchange.accounts import privacy
from medexchange.accounts.models import User
from medexchange.applications.choices import FINAL_STATES


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand that this cannot be undone."), required=True
    )


@login_required
@require_http_methods(["GET", "POST"])
def data_export(request: HttpRequest) -> HttpResponse:
    """GET explains what the copy holds; POST builds it and sends the ZIP."""
    user = cast(User, request.user)
    if request.method == "POST":
        if not ratelimit.consume(request, action="data_export"):
            return render(request, "accounts/privacy/export.html", {"too_many": True}, status=429)
        response = HttpResponse(privacy.personal_data_export(user), content_type="application/zip")
        filename = f"medexchange-data-{timezone.localdate().isoformat()}.zip"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response
    return render(request, "accounts/privacy/export.html", {})


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    """Confirm with the password; then everything personal is erased and the person is
    signed out."""
    user = cast(User, request.user)
    form = AccountDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            privacy.account_delete(
                user=user, actor=user, password_confirmation=form.cleaned_data["password"]
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
        else:
            logout(request)
            return render(request, "accounts/privacy/deleted.html", {})
    return render(
        request,
        "accounts/privacy/delete.html",
        {
            "form": form,
            "open_applications": user.applications.exclude(state__in=FINAL_STATES).count(),
            "title": _("Delete your account"),
        },
    )
