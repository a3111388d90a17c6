"""The applicant's side: apply, keep a draft, submit, follow, answer offers, withdraw.

Every page finds its application through ``Application.objects.visible_to`` (or
``owned_by`` for the applicant's own actions): someone else's application answers 404.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medexchange.accounts.models import User
from medexchange.applications import selectors, services
from medexchange.applications.choices import ApplicationState
from medexchange.applications.forms import DraftForm, ReasonForm
from medexchange.applications.models import Application
from medexchange.applications.permissions import can_decide, can_endorse, is_applicant
from medexchange.catalog.models import Session
from medexchange.catalog.selectors import host_zone
from medexchange.common.selectors import audit_trail_for

S = ApplicationState
PAGE_SIZE = 25
#: What the applicant's timeline leaves out: the host's private review work.
PRIVATE_ACTIONS = frozenset({"application.scored", "application.commented"})


def _visible(request: HttpRequest, pk: int) -> Application:
    return get_object_or_404(
        Application.objects.visible_to(request.user).select_related(
            "applicant", "session__opportunity__host__country", "home_institution"
        ),
        pk=pk,
    )


def _own(request: HttpRequest, pk: int) -> Application:
    return get_object_or_404(
        Application.objects.owned_by(request.user).select_related(
            "applicant", "session__opportunity__host__country"
        ),
        pk=pk,
    )


def _show_errors(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@login_required
@require_GET
def my_applications(request: HttpRequest) -> HttpResponse:
    applications = (
        Application.objects.owned_by(request.user)
        .select_related("session__opportunity__host")
        .order_by("-updated_at", "-pk")
    )
    page = Paginator(applications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "applications/my_applications.html",
        {"page": page, "applications": page.object_list},
    )


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, session_id: int) -> HttpResponse:
    """Start (or resume) an application to a session the applicant can see."""
    session = get_object_or_404(
        Session.objects.visible_to(request.user)
        .scheduled()
        .select_related("opportunity__host__country"),
        pk=session_id,
    )
    existing = Application.objects.owned_by(request.user).active().filter(session=session).first()
    if existing is not None:
        return redirect(
            "applications:edit" if existing.state == S.DRAFT else "applications:detail",
            pk=existing.pk,
        )
    if request.method == "POST":
        try:
            application = services.application_start(
                applicant=cast(User, request.user), session=session, actor=request.user
            )
        except ValidationError as error:
            _show_errors(request, error)
        else:
            return redirect("applications:edit", pk=application.pk)
    zone = host_zone(session.opportunity)
    return render(
        request,
        "applications/apply.html",
        {
            "session": session,
            "opportunity": session.opportunity,
            "host_zone": str(zone),
            "closes_host": timezone.localtime(session.applications_close_at, zone),
            "open_now": session.applications_open_at
            <= timezone.now()
            < session.applications_close_at,
        },
    )


def _draft_context(application: Application, form: DraftForm) -> dict[str, Any]:
    session = application.session
    zone = host_zone(session.opportunity)
    return {
        "application": application,
        "session": session,
        "opportunity": session.opportunity,
        "form": form,
        "requirements": form.requirements,
        "problems": services.submission_problems(application),
        "host_zone": str(zone),
        "closes_host": timezone.localtime(session.applications_close_at, zone),
    }


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The draft: statement, documents from the vault, and what is still missing."""
    from medexchange.documents.models import DocumentVersion
    from medexchange.documents.selectors import vault_for

    application = _own(request, pk)
    if application.state != S.DRAFT:
        return redirect("applications:detail", pk=application.pk)
    requirements = selectors.requirements_checklist(application)
    vault = list(vault_for(request.user))
    form = DraftForm(
        request.POST or None,
        requirements=requirements,
        vault=vault,
        initial={
            "statement": application.statement,
            "extra_documents": [
                str(pk)
                for pk in application.attachments.values_list("version_id", flat=True)
                if pk not in {row.attached.pk for row in requirements if row.attached}
            ],
        },
    )
    if request.method == "POST" and form.is_valid():
        # Only versions of the applicant's own vault (referee letters included).
        versions = list(
            DocumentVersion.objects.filter(
                document__in=vault_for(request.user), pk__in=form.chosen_version_ids()
            ).select_related("document")
        )
        try:
            services.application_save_draft(
                application=application,
                actor=request.user,
                statement=form.cleaned_data["statement"],
                versions=versions,
            )
            if request.POST.get("action") == "submit":
                services.application_submit(application=application, actor=request.user)
                messages.success(
                    request, _("Your application is submitted. You will hear at each step.")
                )
                return redirect("applications:detail", pk=application.pk)
        except ValidationError as error:
            _show_errors(request, error)
            application.refresh_from_db()
            requirements = selectors.requirements_checklist(application)
            form.requirements = requirements
        else:
            messages.success(request, _("Your draft is saved."))
            return redirect("applications:edit", pk=application.pk)
    return render(request, "applications/edit.html", _draft_context(application, form))


def timeline_for(application: Application, user: Any) -> list[Any]:
    """Every transition with time and actor; the host's private work only for the host."""
    entries = audit_trail_for(application).select_related("actor").order_by("created_at", "pk")
    if not can_decide(user, application):
        entries = entries.exclude(action__in=PRIVATE_ACTIONS)
    return list(entries)


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = _visible(request, pk)
    session = application.session
    zone = host_zone(session.opportunity)
    context = {
        "application": application,
        "session": session,
        "opportunity": session.opportunity,
        "host_zone": str(zone),
        "timeline": timeline_for(application, request.user),
        "is_applicant": is_applicant(request.user, application),
        "can_decide": can_decide(request.user, application),
        "can_endorse": can_endorse(request.user, application)
        and application.state == S.SUBMITTED
        and application.endorsement_required,
        "attachments": list(
            application.attachments.select_related("version__document").order_by("pk")
        ),
        "checklist": list(application.checklist.all()),
        "letters": list(application.letters.filter(revoked_at__isnull=True)),
        "S": S,
        "offer_expires_host": timezone.localtime(application.offer_expires_at, zone)
        if application.offer_expires_at
        else None,
    }
    return render(request, "applications/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    application = _own(request, pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.application_withdraw(
                application=application, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            _show_errors(request, error)
        else:
            messages.success(request, _("Your application is withdrawn."))
            return redirect("applications:detail", pk=application.pk)
    return render(request, "applications/withdraw.html", {"application": application, "form": form})


@login_required
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    application = _own(request, pk)
    try:
        services.application_accept(application=application, actor=request.user)
    except ValidationError as error:
        _show_errors(request, error)
    else:
        messages.success(
            request, _("You accepted the place. Your pre-departure checklist is below.")
        )
    return redirect("applications:detail", pk=application.pk)


@login_required
@require_http_methods(["GET", "POST"])
def decline_offer(request: HttpRequest, pk: int) -> HttpResponse:
    application = _own(request, pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.application_decline_offer(
                application=application, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            _show_errors(request, error)
        else:
            messages.success(request, _("You declined the offer."))
            return redirect("applications:detail", pk=application.pk)
    return render(
        request, "applications/decline_offer.html", {"application": application, "form": form}
    )


@login_required
@require_POST
def checklist_tick(request: HttpRequest, pk: int) -> HttpResponse:
    """Either side ticks its own column of a pre-departure step."""
    from medexchange.applications.models import ChecklistItem

    item = get_object_or_404(
        ChecklistItem.objects.select_related("application__session__opportunity").filter(
            application__in=Application.objects.visible_to(request.user)
        ),
        pk=pk,
    )
    try:
        services.checklist_tick(
            item=item,
            actor=request.user,
            done=request.POST.get("done") == "1",
            note=request.POST.get("note"),
        )
    except ValidationError as error:
        _show_errors(request, error)
    except PermissionDenied:
        messages.error(request, _("Only the participant and the host tick this checklist."))
    return redirect(f"{item.application.get_absolute_url()}#checklist-heading")
