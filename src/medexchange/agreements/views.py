"""Pages of agreements: list, detail, drafting, the status buttons, the signed document,
and the network's reciprocity page. Thin: a form, one service call, a template.

Agreements are found through ``Agreement.objects.visible_to`` / ``editable_by`` and
networks through ``selectors.reciprocity_networks``: anything else is a 404.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medexchange.agreements import selectors, services, years
from medexchange.agreements.charts import flow_chart
from medexchange.agreements.choices import AgreementStatus, Side
from medexchange.agreements.forms import (
    AgreementForm,
    DocumentForm,
    FilterForm,
    QuotaFormSet,
    ReasonForm,
    YearForm,
)
from medexchange.agreements.models import Agreement
from medexchange.agreements.permissions import can_edit, sides_of
from medexchange.applications.views.host import add_service_errors
from medexchange.common.models import AuditEntry
from medexchange.documents.models import private_storage
from medexchange.documents.views import ATTACHMENT_POLICY

logger = logging.getLogger(__name__)
S = AgreementStatus
LIST_LIMIT = 200


def _visible(request: HttpRequest, pk: int) -> Agreement:
    return get_object_or_404(
        Agreement.objects.visible_to(request.user).select_related("network", "party_a", "party_b"),
        pk=pk,
    )


def _may_draft(user: Any) -> bool:
    return bool(user.coordinated_institution_ids().exists() or user.is_network_staff)


@login_required
@require_GET
def agreement_list(request: HttpRequest) -> HttpResponse:
    """The agreements of my institutions and networks, filtered by status and year."""
    form = FilterForm(request.GET or None)
    agreements = Agreement.objects.visible_to(request.user).select_related(
        "network", "party_a", "party_b"
    )
    if form.is_valid():
        if form.cleaned_data["status"]:
            agreements = agreements.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["year"]:
            year = form.cleaned_data["year"]
            agreements = agreements.filter(first_year__lte=year, last_year__gte=year)
    return render(
        request,
        "agreements/list.html",
        {
            "form": form,
            "agreements": list(agreements.order_by("-first_year", "title", "pk")[:LIST_LIMIT]),
            "filtered": form.is_bound,
            "may_draft": _may_draft(request.user),
            "networks": list(selectors.reciprocity_networks(request.user).order_by("name")),
        },
    )


def _timeline(agreement: Agreement) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            target_type=ContentType.objects.get_for_model(Agreement), target_id=str(agreement.pk)
        )
        .select_related("actor")
        .order_by("created_at", "pk")
    )


def _detail_context(request: HttpRequest, agreement: Agreement, **forms: Any) -> dict[str, Any]:
    sides = sides_of(request.user, agreement)
    proposed = agreement.status == S.PROPOSED
    other = (
        Side.NETWORK
        if agreement.is_network_wide
        else (Side.B if agreement.proposed_by_side == Side.A else Side.A)
    )
    answering = (
        proposed
        and other in sides
        and (not agreement.is_network_wide or request.user.pk != agreement.a_approved_by_id)
    )
    return {
        "agreement": agreement,
        "quota_lines": selectors.quota_lines(agreement),
        "quotas": list(agreement.quotas.select_related("sender", "host", "specialty")),
        "ledgers": [
            selectors.agreement_ledger(agreement, y) for y in selectors.ledger_years(agreement)
        ],
        "timeline": _timeline(agreement),
        "acts": bool(sides),
        "can_edit": can_edit(request.user, agreement),
        "can_propose": agreement.status == S.DRAFT and bool(sides),
        "can_answer": answering,
        "can_reopen": proposed and bool(sides),
        "can_terminate": agreement.status in {S.ACCEPTED, S.ACTIVE} and bool(sides),
        "can_upload": bool(sides) and agreement.status not in {S.DECLINED, S.TERMINATED, S.EXPIRED},
        "reason_form": forms.get("reason_form") or ReasonForm(),
        "status_errors": forms.get("status_errors") or [],
    }


@login_required
@require_GET
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = _visible(request, pk)
    return render(request, "agreements/detail.html", _detail_context(request, agreement))


def _save(request: HttpRequest, agreement: Agreement | None) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = AgreementForm(data, instance=agreement, user=request.user)
    formset: Any = QuotaFormSet(data, instance=agreement or Agreement(), prefix="quotas")
    if data is not None and form.is_valid():
        formset.parent = {**form.cleaned_data}
        if "party_a" not in form.cleaned_data:
            formset.parent |= {"party_a": None, "party_b": None}
        if formset.is_valid():
            values = {
                "network": None,
                "party_a": None,
                "party_b": None,
                **form.cleaned_data,
            }
            try:
                if agreement is None:
                    saved = services.agreement_create(
                        actor=request.user, values=values, quotas=formset.quotas()
                    )
                else:
                    saved = services.agreement_update(
                        agreement=agreement,
                        actor=request.user,
                        values=values,
                        quotas=formset.quotas(),
                    )
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The draft is saved."))
                return redirect(saved)
    elif data is not None:
        formset.is_valid()
    return render(
        request,
        "agreements/form.html",
        {"form": form, "formset": formset, "agreement": agreement},
        status=400 if data is not None else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def agreement_create(request: HttpRequest) -> HttpResponse:
    if not _may_draft(request.user):
        raise Http404
    return _save(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def agreement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_object_or_404(Agreement.objects.visible_to(request.user), pk=pk)
    if not can_edit(request.user, agreement):
        if agreement.status != S.DRAFT:
            messages.error(request, _("Only a draft can be changed."))
            return redirect(agreement)
        raise Http404
    return _save(request, agreement)


STATUS_ACTIONS: dict[str, tuple[Any, bool, str]] = {
    "propose": (
        services.agreement_propose,
        False,
        gettext_noop("The agreement is proposed to the other side."),
    ),
    "accept": (services.agreement_accept, False, gettext_noop("You accepted the agreement.")),
    "decline": (services.agreement_decline, True, gettext_noop("You declined the agreement.")),
    "reopen": (
        services.agreement_return_to_draft,
        True,
        gettext_noop("The agreement is back to draft."),
    ),
    "terminate": (
        services.agreement_terminate,
        True,
        gettext_noop("The agreement is terminated."),
    ),
}


@login_required
@require_POST
def agreement_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The status buttons: one service call each; a reason where the other side reads one."""
    agreement = _visible(request, pk)
    action = STATUS_ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        return render(
            request,
            "agreements/detail.html",
            _detail_context(request, agreement, status_errors=[_("Unknown action.")]),
            status=400,
        )
    service, needs_reason, done = action
    reason_form = ReasonForm(request.POST)
    kwargs: dict[str, Any] = {"agreement": agreement, "actor": request.user}
    errors: list[str] = []
    if needs_reason:
        if reason_form.is_valid():
            kwargs["reason"] = reason_form.cleaned_data["reason"]
        else:
            errors = [str(e) for e in reason_form.errors.get("reason", [])]
    if not errors:
        try:
            service(**kwargs)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_service_errors(reason_form, error)
            errors = [str(message) for message in error.messages]
        else:
            messages.success(request, _(done))
            return redirect(agreement)
    agreement.refresh_from_db()
    context = _detail_context(request, agreement, reason_form=reason_form, status_errors=errors)
    return render(request, "agreements/detail.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = _visible(request, pk)
    if not sides_of(request.user, agreement):
        raise Http404
    form = DocumentForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.agreement_document_upload(
                agreement=agreement, actor=request.user, upload=form.cleaned_data["document"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The signed agreement is uploaded."))
            return redirect(agreement)
    return render(
        request,
        "agreements/document.html",
        {"agreement": agreement, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The signed PDF, to those who see the agreement; never from a public URL."""
    agreement = _visible(request, pk)
    if not agreement.has_document:
        raise Http404
    try:
        with private_storage().open(agreement.document_storage_name, "rb") as handle:
            content = handle.read()
    except OSError:
        logger.exception("Agreement %s has no signed document in the storage", agreement.pk)
        raise Http404 from None
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Length"] = str(len(content))
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=True, filename=agreement.document_name)
        or "attachment"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = ATTACHMENT_POLICY
    return response


@login_required
@require_GET
def reciprocity(request: HttpRequest, slug: str) -> HttpResponse:
    """Who sent whom in a year between the network's members, as a table and a chart."""
    network = get_object_or_404(selectors.reciprocity_networks(request.user), slug=slug)
    form = YearForm(request.GET or None)
    year, sort = selectors.current_year(), "pair"
    if form.is_valid():
        year = form.cleaned_data["year"] or year
        sort = form.cleaned_data["sort"] or sort
    report = selectors.network_reciprocity(network, year, sort=sort)
    return render(
        request,
        "agreements/reciprocity.html",
        {
            "network": network,
            "form": form,
            "report": report,
            "year_label": years.year_label(year),
            "year": year,
            "sort": sort,
            "chart": flow_chart(report.flows),
        },
        status=200 if form.is_valid() or not form.is_bound else 400,
    )
