"""Host side of the catalog: coordinators manage their institution's opportunities and sessions.

Every page needs a signed-in user and finds its object through ``editable_by``: what is not
yours answers 404, exactly like what does not exist. Network staff manage institutions, not
their catalog: only the host's coordinators (and platform superusers) get these pages.
"""

from __future__ import annotations

import base64
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Min, Prefetch, Q
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from medexchange.catalog import importing, services
from medexchange.catalog.choices import OpportunityStatus
from medexchange.catalog.forms import (
    CancelForm,
    ImportForm,
    OpportunityForm,
    SessionForm,
    SessionGenerateForm,
)
from medexchange.catalog.models import Opportunity, Session
from medexchange.catalog.permissions import catalog_hosts
from medexchange.network.models import Institution

IMPORT_SESSION_KEY = "catalog-import-%d"


def _host(request: HttpRequest, slug: str) -> Institution:
    """An institution whose catalog the user manages (its coordinators, or a superuser)."""
    return get_object_or_404(catalog_hosts(request.user), slug=slug)


def _opportunity(request: HttpRequest, slug: str) -> Opportunity:
    return get_object_or_404(
        Opportunity.objects.editable_by(request.user).select_related("host", "specialty"),
        slug=slug,
    )


def _session(request: HttpRequest, pk: int) -> Session:
    return get_object_or_404(
        Session.objects.editable_by(request.user).select_related(
            "opportunity", "opportunity__host"
        ),
        pk=pk,
    )


def _add_service_errors(form: BaseForm, error: ValidationError) -> None:
    """Show a service's errors on the matching fields, the rest above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages_ in error.message_dict.items():
        target = field if field in form.fields else None
        for message in messages_:
            if target is None and field != "__all__":
                label = field.replace("_", " ")
                message = f"{label}: {message}"
            form.add_error(target, message)


@login_required
@require_GET
def host_opportunities(request: HttpRequest, slug: str) -> HttpResponse:
    institution = _host(request, slug)
    today = timezone.localdate()
    scheduled = Q(sessions__cancelled_at__isnull=True)
    opportunities = (
        Opportunity.objects.editable_by(request.user)
        .filter(host=institution)
        .annotate(
            session_count=Count("sessions", filter=scheduled),
            next_start=Min(
                "sessions__start_date", filter=scheduled & Q(sessions__start_date__gte=today)
            ),
        )
        # Each scheduled session links to its review queue (applications app).
        .prefetch_related(
            Prefetch(
                "sessions",
                queryset=Session.objects.scheduled().order_by("start_date", "pk"),
                to_attr="scheduled_sessions",
            )
        )
        .order_by("title", "pk")
    )
    return render(
        request,
        "catalog/host/opportunity_list.html",
        {"institution": institution, "opportunities": opportunities},
    )


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_add(request: HttpRequest, slug: str) -> HttpResponse:
    institution = _host(request, slug)
    form = OpportunityForm(
        request.POST or None, host=institution, instance=Opportunity(host=institution)
    )
    if request.method == "POST" and form.is_valid():
        try:
            opportunity = services.opportunity_create(
                host=institution,
                actor=request.user,
                values=form.service_values(),
                sites=form.cleaned_data["sites"],
                eligible_countries=form.cleaned_data["eligible_countries"],
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(
                request, _("The opportunity is saved as a draft. Add sessions, then publish it.")
            )
            return redirect("catalog:opportunity-edit", slug=opportunity.slug)
    return render(
        request,
        "catalog/host/opportunity_form.html",
        {"form": form, "institution": institution, "opportunity": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_edit(request: HttpRequest, slug: str) -> HttpResponse:
    opportunity = _opportunity(request, slug)
    institution = opportunity.host
    form = OpportunityForm(
        request.POST or None,
        host=institution,
        instance=opportunity,
        initial={
            "sites": list(opportunity.sites.all()),
            "eligible_countries": list(opportunity.eligible_countries.all()),
        },
    )
    if request.method == "POST" and form.is_valid():
        fresh = Opportunity.objects.select_related("host").get(pk=opportunity.pk)
        try:
            services.opportunity_update(
                opportunity=fresh,
                actor=request.user,
                values=form.service_values(),
                sites=form.cleaned_data["sites"],
                eligible_countries=form.cleaned_data["eligible_countries"],
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("The opportunity is saved."))
            return redirect("catalog:opportunity-edit", slug=fresh.slug)
    sessions = opportunity.sessions.all().order_by("start_date", "pk")
    return render(
        request,
        "catalog/host/opportunity_form.html",
        {
            "form": form,
            "institution": institution,
            "opportunity": opportunity,
            "sessions": sessions,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_duplicate(request: HttpRequest, slug: str) -> HttpResponse:
    opportunity = _opportunity(request, slug)
    if request.method == "POST":
        try:
            copy = services.opportunity_duplicate(opportunity=opportunity, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("catalog:opportunity-edit", slug=opportunity.slug)
        messages.success(request, _("This is the copy, saved as a draft. Edit it, then publish."))
        return redirect("catalog:opportunity-edit", slug=copy.slug)
    return render(request, "catalog/host/opportunity_duplicate.html", {"opportunity": opportunity})


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_status(request: HttpRequest, slug: str) -> HttpResponse:
    opportunity = _opportunity(request, slug)
    publishing = opportunity.status != OpportunityStatus.PUBLISHED
    errors: list[str] = []
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "publish":
                services.opportunity_publish(opportunity=opportunity, actor=request.user)
                messages.success(request, _("The opportunity is published."))
            elif action == "unpublish":
                services.opportunity_unpublish(opportunity=opportunity, actor=request.user)
                messages.success(request, _("The opportunity is no longer published."))
            else:
                raise ValidationError(_("Choose to publish or to unpublish."))
        except ValidationError as error:
            errors = [
                f"{field.replace('_', ' ')}: {message}" if field != "__all__" else message
                for field, messages_ in (
                    error.message_dict.items()
                    if hasattr(error, "error_dict")
                    else [("__all__", error.messages)]
                )
                for message in messages_
            ]
        else:
            return redirect("catalog:host-opportunities", slug=opportunity.host.slug)
    return render(
        request,
        "catalog/host/opportunity_status.html",
        {"opportunity": opportunity, "publishing": publishing, "errors": errors},
        status=400 if errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def session_add(request: HttpRequest, slug: str) -> HttpResponse:
    opportunity = _opportunity(request, slug)
    zone = opportunity.host.time_zone
    form = SessionForm(request.POST or None, zone=zone)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_create(
                opportunity=opportunity, actor=request.user, values=form.service_values()
            )
        except ValidationError as error:
            _add_service_errors(form, _session_errors_to_form(error))
        else:
            messages.success(request, _("The session is added."))
            return redirect("catalog:opportunity-edit", slug=opportunity.slug)
    return render(
        request,
        "catalog/host/session_form.html",
        {"form": form, "opportunity": opportunity, "session": None, "zone": zone},
    )


def _session_errors_to_form(error: ValidationError) -> ValidationError:
    """Service field names → the form's (the window is two fields on the form)."""
    if not hasattr(error, "error_dict"):
        return error
    renamed = {"applications_open_at": "opens_on", "applications_close_at": "closes_on"}
    return ValidationError(
        {renamed.get(field, field): messages_ for field, messages_ in error.message_dict.items()}
    )


@login_required
@require_http_methods(["GET", "POST"])
def session_edit(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    opportunity = session.opportunity
    zone = opportunity.host.time_zone
    form = SessionForm(request.POST or None, zone=zone, instance=session)
    if request.method == "POST" and form.is_valid():
        fresh = Session.objects.select_related("opportunity__host").get(pk=session.pk)
        try:
            services.session_update(session=fresh, actor=request.user, values=form.service_values())
        except ValidationError as error:
            _add_service_errors(form, _session_errors_to_form(error))
        else:
            messages.success(request, _("The session is saved."))
            return redirect("catalog:opportunity-edit", slug=opportunity.slug)
    return render(
        request,
        "catalog/host/session_form.html",
        {"form": form, "opportunity": opportunity, "session": session, "zone": zone},
    )


@login_required
@require_http_methods(["GET", "POST"])
def session_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_cancel(
                session=session, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The session is cancelled."))
            return redirect("catalog:opportunity-edit", slug=session.opportunity.slug)
    return render(
        request,
        "catalog/host/session_cancel.html",
        {"form": form, "session": session, "opportunity": session.opportunity},
    )


@login_required
@require_http_methods(["GET", "POST"])
def session_generate(request: HttpRequest, slug: str) -> HttpResponse:
    """Step 1: the recurrence; step 2 ("preview"): the sessions it makes; step 3: "create"."""
    opportunity = _opportunity(request, slug)
    form = SessionGenerateForm(request.POST or None)
    planned: list[Session] = []
    if request.method == "POST" and form.is_valid():
        values: dict[str, Any] = form.service_values()
        try:
            if request.POST.get("action") == "create":
                created = services.sessions_generate(
                    opportunity=opportunity, actor=request.user, **values
                )
                messages.success(
                    request,
                    _("%(count)d sessions are added.") % {"count": len(created)},
                )
                return redirect("catalog:opportunity-edit", slug=opportunity.slug)
            planned = services.sessions_plan(opportunity=opportunity, **values)
        except ValidationError as error:
            _add_service_errors(form, error)
    return render(
        request,
        "catalog/host/session_generate.html",
        {
            "form": form,
            "opportunity": opportunity,
            "planned": planned,
            "zone": opportunity.host.time_zone,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_import(request: HttpRequest, slug: str) -> HttpResponse:
    """Upload → dry run listing every row; "import" writes the stored file in one go."""
    institution = _host(request, slug)
    key = IMPORT_SESSION_KEY % institution.pk
    form = ImportForm()
    result: importing.ImportResult | None = None
    file_error = ""
    if request.method == "POST":
        if request.POST.get("action") == "import":
            stored = request.session.get(key)
            if not stored:
                file_error = _("Upload the file again: the checked file is no longer available.")
            else:
                content = base64.b64decode(stored["content"])
                result, file_error = _run_import(
                    request, institution, content, stored["name"], dry_run=False
                )
                if result is not None and result.written:
                    del request.session[key]
                    messages.success(
                        request,
                        _("Imported %(rows)d rows: %(opportunities)d opportunities.")
                        % {"rows": len(result.rows), "opportunities": result.opportunity_count},
                    )
                    return redirect("catalog:host-opportunities", slug=institution.slug)
        else:
            form = ImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                content = upload.read()
                name = upload.name or ""
                result, file_error = _run_import(request, institution, content, name, dry_run=True)
                if result is not None and result.is_clean:
                    request.session[key] = {
                        "name": name,
                        "content": base64.b64encode(content).decode("ascii"),
                    }
                else:
                    request.session.pop(key, None)
    return render(
        request,
        "catalog/host/opportunity_import.html",
        {
            "institution": institution,
            "form": form,
            "result": result,
            "file_error": file_error,
            "columns": importing.COLUMNS,
        },
        status=400 if file_error or (result is not None and not result.is_clean) else 200,
    )


def _run_import(
    request: HttpRequest, institution: Institution, content: bytes, name: str, *, dry_run: bool
) -> tuple[importing.ImportResult | None, str]:
    try:
        rows = importing.parse_rows(content, name)
    except importing.ImportFileError as error:
        return None, str(error)
    return (
        importing.import_opportunities(
            host=institution, actor=request.user, rows=rows, dry_run=dry_run
        ),
        "",
    )


@login_required
@require_GET
def opportunity_export(request: HttpRequest, slug: str) -> HttpResponse:
    institution = _host(request, slug)
    stamp = timezone.localdate().isoformat()
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            importing.export_xlsx(institution),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        extension = "xlsx"
    else:
        response = HttpResponse(
            importing.export_csv(institution), content_type="text/csv; charset=utf-8"
        )
        extension = "csv"
    response["Content-Disposition"] = (
        f'attachment; filename="{institution.slug}-opportunities-{stamp}.{extension}"'
    )
    return response
