"""The home institution's side: endorsing applicants, and following outbound applications.

Applications are found through ``Application.objects.endorsable_by`` and institutions
through ``selectors.coordinated_homes`` (its coordinators): anything else is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from medexchange.applications import selectors, services
from medexchange.applications.choices import ApplicationState
from medexchange.applications.forms import NoteForm, RequiredReasonForm
from medexchange.applications.models import Application
from medexchange.applications.views.host import add_service_errors
from medexchange.catalog.selectors import host_zone

S = ApplicationState
OUTBOUND_PAGE_SIZE = 50


def _endorsable(request: HttpRequest, pk: int) -> Application:
    return get_object_or_404(
        Application.objects.endorsable_by(request.user).select_related(
            "applicant",
            "home_country",
            "home_institution",
            "session__opportunity__host__country",
        ),
        pk=pk,
    )


def _endorsement_context(application: Application, **forms: Any) -> dict[str, Any]:
    from medexchange.accounts.models import ApplicantProfile

    session = application.session
    profile = (
        ApplicantProfile.objects.select_related("home_country", "nationality", "home_institution")
        .filter(user_id=application.applicant_id)
        .first()
        if application.applicant_id
        else None
    )
    return {
        "application": application,
        "session": session,
        "opportunity": session.opportunity,
        "profile": profile,
        "host_zone": str(host_zone(session.opportunity)),
        "attachments": list(
            application.attachments.select_related("version__document").order_by("pk")
        ),
        "waiting": application.state == S.SUBMITTED and application.endorsement_required,
        "endorse_form": forms.get("endorse_form") or NoteForm(prefix="endorse"),
        "decline_form": forms.get("decline_form") or RequiredReasonForm(prefix="decline"),
    }


@login_required
@require_http_methods(["GET", "POST"])
def endorsement(request: HttpRequest, pk: int) -> HttpResponse:
    """The file summary; endorse (optional note) or decline (reason required)."""
    application = _endorsable(request, pk)
    if request.method == "GET":
        return render(
            request, "applications/home/endorsement.html", _endorsement_context(application)
        )
    action = request.POST.get("action")
    if action == "endorse":
        endorse_form = NoteForm(request.POST, prefix="endorse")
        if endorse_form.is_valid():
            try:
                services.application_endorse(
                    application=application,
                    actor=request.user,
                    note=endorse_form.cleaned_data["note"],
                )
            except ValidationError as error:
                add_service_errors(endorse_form, error)
            else:
                messages.success(request, _("You endorsed the application: the host now has it."))
                return redirect("applications:endorsement", pk=application.pk)
        context = _endorsement_context(application, endorse_form=endorse_form)
    elif action == "decline":
        decline_form = RequiredReasonForm(request.POST, prefix="decline")
        if decline_form.is_valid():
            try:
                services.application_endorsement_decline(
                    application=application,
                    actor=request.user,
                    reason=decline_form.cleaned_data["reason"],
                )
            except ValidationError as error:
                add_service_errors(decline_form, error)
            else:
                messages.success(
                    request, _("You declined to endorse; the applicant reads your reason.")
                )
                return redirect("applications:endorsement", pk=application.pk)
        context = _endorsement_context(application, decline_form=decline_form)
    else:
        messages.error(request, _("Unknown action."))
        return redirect("applications:endorsement", pk=application.pk)
    application.refresh_from_db()
    context["application"] = application
    return render(request, "applications/home/endorsement.html", context, status=400)


@login_required
@require_GET
def outbound(request: HttpRequest, slug: str) -> HttpResponse:
    """The institution's people's applications: those to endorse first, then all of them."""
    institution = get_object_or_404(selectors.coordinated_homes(request.user), slug=slug)
    applications = selectors.outbound_applications(request.user, institution)
    waiting = list(
        applications.filter(state=S.SUBMITTED, endorsement_required=True).order_by(
            "submitted_at", "pk"
        )
    )
    every = applications.order_by("-abroad_now", "-submitted_at", "-pk")
    page = Paginator(every, OUTBOUND_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "applications/home/outbound.html",
        {
            "institution": institution,
            "waiting": waiting,
            "page": page,
            "applications": page.object_list,
            "today": timezone.localdate(),
        },
    )
