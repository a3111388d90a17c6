from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from medexchange.accounts import services
from medexchange.accounts.forms import ApplicantProfileForm, PreferencesForm
from medexchange.accounts.models import (
    ApplicantProfile,
    InstitutionRole,
    Invitation,
    NetworkStaffRole,
    User,
)


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)  # login_required
    # The form edits a copy; the service compares it with the saved row and audits.
    form = PreferencesForm(request.POST or None, instance=User.objects.get(pk=user.pk))
    if request.method == "POST" and form.is_valid():
        services.user_update_preferences(
            user=user,
            actor=user,
            full_name=form.cleaned_data["full_name"],
            preferred_language=form.cleaned_data["preferred_language"],
            time_zone=form.cleaned_data["time_zone"],
        )
        messages.success(request, _("Your preferences are saved."))
        response = redirect("accounts:preferences")
        # The saved language applies now, not only after the next sign-in.
        response.delete_cookie("django_language")
        return response
    roles = InstitutionRole.objects.filter(user=user).select_related("institution")
    staff_roles = NetworkStaffRole.objects.filter(user=user).select_related("network")
    return render(
        request,
        "accounts/preferences.html",
        {"form": form, "roles": roles, "staff_roles": staff_roles},
    )


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The one-time link from an invitation e-mail; the token is the credential."""
    invitation = get_object_or_404(Invitation.objects.select_related("institution"), token=token)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if request.method == "POST":
        try:
            services.invitation_accept(invitation=invitation, user=request.user)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(
                request,
                _("You are now %(role)s at %(institution)s.")
                % {"role": invitation.get_role_display(), "institution": invitation.institution},
            )
            return redirect(invitation.institution.get_absolute_url())
    return render(request, "accounts/invitation.html", {"invitation": invitation})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own applicant profile; nobody else's is reachable here."""
    user = cast(User, request.user)  # login_required
    current = (
        ApplicantProfile.objects.owned_by(user)
        .select_related("home_country", "nationality", "home_institution")
        .prefetch_related("specialty_interests")
        .first()
    )
    form = ApplicantProfileForm(request.POST or None, user=user, profile=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.applicant_profile_update(user=user, actor=user, values=form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("accounts:profile")
    missing = (current or ApplicantProfile(user=user)).is_complete_for_applying()
    return render(
        request, "accounts/profile.html", {"form": form, "profile": current, "missing": missing}
    )


def _add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's errors next to the fields they are about (the names match)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)
