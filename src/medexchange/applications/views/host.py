"""The host's side: inbound dashboard, review queue, review page, review criteria.

Every page finds its objects through a restricting queryset: ``selectors.reviewed_hosts``
and ``selectors.host_sessions`` (coordinators and reviewers of the host),
``Application.objects.reviewable_by`` and ``Opportunity.objects.editable_by`` (criteria:
coordinators). Anything else is a 404. GET never changes anything; each POST makes one
service call and redirects (or re-renders the page with the form's errors).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from medexchange.applications import selectors, services
from medexchange.applications.choices import (
    AWAITING_DECISION,
    TRANSITIONS,
    ApplicationState,
)
from medexchange.applications.forms import (
    CommentForm,
    CriterionDeleteForm,
    CriterionForm,
    OfferForm,
    QueueFilterForm,
    ReasonForm,
    RequiredReasonForm,
    ScoreForm,
)
from medexchange.applications.models import (
    Application,
    ReviewComment,
    ReviewCriterion,
    ReviewScore,
)
from medexchange.applications.permissions import can_manage_host
from medexchange.catalog.models import Opportunity
from medexchange.catalog.selectors import host_zone
from medexchange.documents.uploads import JPEG, PDF, PNG

S = ApplicationState
QUEUE_PAGE_SIZE = 50
#: What a browser shows inside the document viewer; anything else is downloaded.
VIEWABLE_TYPES = frozenset({PDF, PNG, JPEG})
#: The states a host sees in its queue filter (drafts never reach it).
QUEUE_STATES = [(state, str(label)) for state, label in S.choices if state != S.DRAFT]


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """A service's errors on the matching fields of ``form``, the rest above it."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for field, field_messages in error.message_dict.items():
        target = field if field in form.fields else None
        for message in field_messages:
            form.add_error(target, message)


# --------------------------------------------------------------------------- inbound dashboard


@login_required
@require_GET
def inbound(request: HttpRequest, slug: str) -> HttpResponse:
    """A host's sessions with applications: counts per state, decision dates, queues."""
    institution = get_object_or_404(selectors.reviewed_hosts(request.user), slug=slug)
    rows = selectors.inbound_rows(institution)
    return render(
        request,
        "applications/host/inbound.html",
        {"institution": institution, "rows": rows},
    )


# --------------------------------------------------------------------------- review queue


@login_required
@require_GET
def queue(request: HttpRequest, pk: int) -> HttpResponse:
    """One session's applications: filters, sort and pages in a shareable GET query."""
    session = get_object_or_404(
        selectors.host_sessions(request.user).select_related("opportunity__host"), pk=pk
    )
    form = QueueFilterForm(
        request.GET or None,
        states=[(selectors.AWAITING, _("Awaiting a decision")), *QUEUE_STATES],
        countries=selectors.queue_countries(request.user, session),
    )
    filters: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()
        filters = {name: value for name, value in form.cleaned_data.items() if value}
    rows = selectors.queue_for_session(request.user, session, **filters)
    page = Paginator(rows, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode(filters)
    zone = host_zone(session.opportunity)
    context = {
        "session": session,
        "opportunity": session.opportunity,
        "form": form,
        "page": page,
        "applications": page.object_list,
        "query": query,
        "filtered": bool(filters.keys() - {"sort"}),
        "sort": filters.get("sort", "date"),
        "host_zone": str(zone),
        "today_host": timezone.localdate(timezone=zone),
        "can_manage_criteria": can_manage_host(request.user, session.opportunity.host_id),
    }
    htmx = getattr(request, "htmx", False)
    template = "applications/host/_queue_results.html" if htmx else "applications/host/queue.html"
    return render(request, template, context)


# --------------------------------------------------------------------------- review page


def _reviewable(request: HttpRequest, pk: int) -> Application:
    return get_object_or_404(
        Application.objects.reviewable_by(request.user).select_related(
            "applicant",
            "home_country",
            "home_institution",
            "session__opportunity__host__country",
        ),
        pk=pk,
    )


def _profile_of(application: Application) -> Any:
    """The applicant's profile with its countries and institution, or None."""
    from medexchange.accounts.models import ApplicantProfile

    if application.applicant_id is None:
        return None
    return (
        ApplicantProfile.objects.select_related("home_country", "nationality", "home_institution")
        .filter(user_id=application.applicant_id)
        .first()
    )


def _offer_initial(application: Application, zone: Any) -> dict[str, Any]:
    deadline = services.default_response_deadline(application.session, timezone.now())
    # Naive, in the host's zone: the form shows it as is and reads it back under that zone.
    return {"respond_by": timezone.localtime(deadline, zone).replace(tzinfo=None)}


def _review_forms(application: Application, criteria: list[Any], user: Any, zone: Any) -> Any:
    mine = {
        f"criterion_{row.criterion_id}": row.score
        for row in ReviewScore.objects.filter(application=application, reviewer=user)
    }
    return {
        "score_form": ScoreForm(criteria=criteria, initial=mine),
        "comment_form": CommentForm(),
        "offer_form": OfferForm(prefix="offer", initial=_offer_initial(application, zone)),
        "waitlist_form": ReasonForm(prefix="waitlist"),
        "decline_form": RequiredReasonForm(prefix="decline"),
    }


def _score_table(application: Application, criteria: list[Any]) -> dict[str, Any]:
    """Every reviewer's scores, per criterion, with each reviewer's and the overall percent."""
    by_criterion = {criterion.pk: criterion for criterion in criteria}
    rows: dict[Any, dict[str, Any]] = {}
    every: list[tuple[int, Any, int]] = []
    for score in ReviewScore.objects.filter(application=application).select_related("reviewer"):
        criterion = by_criterion.get(score.criterion_id)
        if criterion is None:
            continue
        row = rows.setdefault(
            score.reviewer_id, {"reviewer": score.reviewer, "scores": {}, "raw": []}
        )
        row["scores"][criterion.pk] = score.score
        row["raw"].append((score.score, criterion.weight, criterion.max_score))
        every.append((score.score, criterion.weight, criterion.max_score))
    table = []
    for row in rows.values():
        table.append(
            {
                "reviewer": row["reviewer"],
                "cells": [row["scores"].get(criterion.pk) for criterion in criteria],
                "percent": selectors.weighted_percent(row["raw"]),
            }
        )
    table.sort(key=lambda row: str(row["reviewer"] or ""))
    return {"score_rows": table, "weighted_average": selectors.weighted_percent(every)}


def _review_context(
    request: HttpRequest, application: Application, **overrides: Any
) -> dict[str, Any]:
    session = application.session
    opportunity = session.opportunity
    zone = host_zone(opportunity)
    criteria = list(ReviewCriterion.objects.filter(opportunity=opportunity))
    attachments = list(application.attachments.select_related("version__document").order_by("pk"))
    selected = None
    wanted = request.GET.get("document", "")
    for attachment in attachments:
        # isdecimal, not isdigit: int() refuses digits such as "²".
        if wanted.isdecimal() and attachment.version_id == int(wanted):
            selected = attachment.version
    if selected is None and not wanted:
        selected = next(
            (a.version for a in attachments if a.version.content_type in VIEWABLE_TYPES), None
        )
    taken = services.seats_taken(session)
    today_host = timezone.localdate(timezone=zone)
    state = application.state
    moves = TRANSITIONS[state]
    context = {
        "application": application,
        "session": session,
        "opportunity": opportunity,
        "profile": _profile_of(application),
        "attachments": attachments,
        "selected": selected,
        "selected_viewable": selected is not None and selected.content_type in VIEWABLE_TYPES,
        "criteria": criteria,
        "comments": list(
            ReviewComment.objects.filter(application=application).select_related("author")
        ),
        "seats_taken": taken,
        "places_left": max(session.capacity - taken, 0),
        "open_offers": services.open_offers(session),
        "decision_overdue": bool(session.decision_date and session.decision_date < today_host)
        and state in AWAITING_DECISION,
        "host_zone": str(zone),
        "can_score": state in AWAITING_DECISION | {S.OFFERED},
        "can_offer": S.OFFERED in moves,
        "can_waitlist": S.WAITLISTED in moves,
        "can_decline": S.DECLINED in moves,
        "can_confirm": S.CONFIRMED in moves,
        "can_manage_criteria": can_manage_host(request.user, opportunity.host_id),
        "offer_expires_host": timezone.localtime(application.offer_expires_at, zone)
        if application.offer_expires_at
        else None,
        **_score_table(application, criteria),
        **_review_forms(application, criteria, request.user, zone),
    }
    context.update(overrides)
    return context


def _back_to_review(request: HttpRequest, application: Application) -> HttpResponse:
    url = reverse("applications:review", kwargs={"pk": application.pk})
    document = request.GET.get("document", "")
    return redirect(f"{url}?document={document}" if document.isdecimal() else url)


@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """The file beside a document viewer, scores, private comments and the decision.

    Opening it changes nothing; the first score moves the file to "under review".
    """
    application = _reviewable(request, pk)
    if request.method == "GET":
        return render(
            request, "applications/host/review.html", _review_context(request, application)
        )
    action = request.POST.get("action", "")
    handler = REVIEW_ACTIONS.get(action)
    if handler is None:
        messages.error(request, _("Unknown action."))
        return _back_to_review(request, application)
    overrides = handler(request, application)
    if overrides is None:
        return _back_to_review(request, application)
    application.refresh_from_db()
    context = _review_context(request, application, **overrides)
    return render(request, "applications/host/review.html", context, status=400)


def _score(request: HttpRequest, application: Application) -> dict[str, Any] | None:
    opportunity = application.session.opportunity
    criteria = list(ReviewCriterion.objects.filter(opportunity=opportunity))
    form = ScoreForm(request.POST, criteria=criteria)
    if not form.is_valid():
        return {"score_form": form}
    try:
        default_id = None
        if not criteria and form.cleaned_data.get(ScoreForm.DEFAULT_FIELD) is not None:
            default_id = services.review_criterion_default(
                opportunity=opportunity, actor=request.user
            ).pk
        services.application_score(
            application=application, actor=request.user, scores=form.scores(default_id)
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return {"score_form": form}
    messages.success(request, _("Your scores are saved."))
    return None


def _comment(request: HttpRequest, application: Application) -> dict[str, Any] | None:
    form = CommentForm(request.POST)
    if not form.is_valid():
        return {"comment_form": form}
    try:
        services.application_comment(
            application=application, actor=request.user, body=form.cleaned_data["body"]
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return {"comment_form": form}
    messages.success(request, _("Your comment is added. Only the host's reviewers see it."))
    return None


def _offer(request: HttpRequest, application: Application) -> dict[str, Any] | None:
    form = OfferForm(request.POST, prefix="offer")
    with timezone.override(host_zone(application.session.opportunity)):
        valid = form.is_valid()
    if not valid:
        return {"offer_form": form}
    try:
        services.application_offer(
            application=application,
            actor=request.user,
            respond_by=form.cleaned_data["respond_by"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return {"offer_form": form}
    messages.success(request, _("The applicant is offered a place and told the deadline."))
    return None


def _waitlist(request: HttpRequest, application: Application) -> dict[str, Any] | None:
    form = ReasonForm(request.POST, prefix="waitlist")
    if not form.is_valid():
        return {"waitlist_form": form}
    try:
        services.application_waitlist(
            application=application, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return {"waitlist_form": form}
    messages.success(request, _("The applicant is on the waiting list."))
    return None


def _decline(request: HttpRequest, application: Application) -> dict[str, Any] | None:
    form = RequiredReasonForm(request.POST, prefix="decline")
    if not form.is_valid():
        return {"decline_form": form}
    try:
        services.application_decline(
            application=application, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return {"decline_form": form}
    messages.success(request, _("The application is declined; the applicant reads your reason."))
    return None


def _confirm(request: HttpRequest, application: Application) -> dict[str, Any] | None:
    try:
        services.application_confirm(application=application, actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The placement is confirmed."))
    return None


REVIEW_ACTIONS = {
    "score": _score,
    "comment": _comment,
    "offer": _offer,
    "waitlist": _waitlist,
    "decline": _decline,
    "confirm": _confirm,
}


# --------------------------------------------------------------------------- review criteria


def _managed_opportunity(request: HttpRequest, slug: str) -> Opportunity:
    return get_object_or_404(
        Opportunity.objects.editable_by(request.user).select_related("host"), slug=slug
    )


def _criterion(opportunity: Opportunity, pk: int) -> ReviewCriterion:
    return get_object_or_404(ReviewCriterion.objects.filter(opportunity=opportunity), pk=pk)


def _criteria_page(
    request: HttpRequest, opportunity: Opportunity, form: CriterionForm, status: int = 200
) -> HttpResponse:
    criteria = list(ReviewCriterion.objects.filter(opportunity=opportunity))
    counts = dict(
        ReviewScore.objects.filter(criterion__opportunity=opportunity)
        .values_list("criterion_id")
        .annotate(n=Count("pk"))
        .values_list("criterion_id", "n")
    )
    rows = [(criterion, counts.get(criterion.pk, 0)) for criterion in criteria]
    return render(
        request,
        "applications/host/criteria.html",
        {"opportunity": opportunity, "rows": rows, "form": form},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def criteria(request: HttpRequest, slug: str) -> HttpResponse:
    """The opportunity's review criteria, and a form to add one."""
    opportunity = _managed_opportunity(request, slug)
    form = CriterionForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.review_criterion_save(
                    opportunity=opportunity, actor=request.user, values=form.cleaned_data
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The criterion is added."))
                return redirect("applications:criteria", slug=opportunity.slug)
        return _criteria_page(request, opportunity, form, status=400)
    return _criteria_page(request, opportunity, form)


@login_required
@require_http_methods(["GET", "POST"])
def criterion_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    opportunity = _managed_opportunity(request, slug)
    criterion = _criterion(opportunity, pk)
    form = CriterionForm(request.POST or None, instance=criterion)
    if request.method == "POST" and form.is_valid():
        try:
            services.review_criterion_save(
                opportunity=opportunity,
                actor=request.user,
                criterion=criterion,
                values=form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The criterion is saved."))
            return redirect("applications:criteria", slug=opportunity.slug)
    return render(
        request,
        "applications/host/criterion_form.html",
        {"opportunity": opportunity, "criterion": criterion, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def criterion_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Deleting a criterion deletes its scores: with scores, a box must be ticked."""
    opportunity = _managed_opportunity(request, slug)
    criterion = _criterion(opportunity, pk)
    scores = ReviewScore.objects.filter(criterion=criterion)
    score_count = scores.count()
    reviewer_count = scores.values("reviewer").distinct().count()
    form = CriterionDeleteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and (score_count == 0 or form.is_valid()):
        deleted = services.review_criterion_delete(criterion=criterion, actor=request.user)
        messages.success(
            request,
            _("The criterion is deleted, with %(count)d scores.") % {"count": deleted}
            if deleted
            else _("The criterion is deleted."),
        )
        return redirect("applications:criteria", slug=opportunity.slug)
    return render(
        request,
        "applications/host/criterion_delete.html",
        {
            "opportunity": opportunity,
            "criterion": criterion,
            "score_count": score_count,
            "reviewer_count": reviewer_count,
            "form": form,
        },
        status=400 if form.errors else 200,
    )
