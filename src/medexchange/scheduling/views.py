"""Pages of rotation plans: the plan grid, its settings, cells, solves and their progress.

Plans are found through ``RotationPlan.objects.visible_to`` (changes through
``editable_by``), solves through ``PlanSolve.objects.visible_to``: "not yours" is a 404.
Every page works without JavaScript; htmx only polls a running solve's progress.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from medexchange.catalog.models import Session
from medexchange.common.runs import json_attachment
from medexchange.scheduling import calendars, selectors, services
from medexchange.scheduling.choices import PairKind
from medexchange.scheduling.forms import (
    AbsenceForm,
    CellForm,
    PairForm,
    PairRemoveForm,
    ParticipantForm,
    SettingsForm,
    SiteForm,
)
from medexchange.scheduling.models import (
    AbsenceReport,
    CalendarFeed,
    PlanParticipant,
    PlanSite,
    PlanSolve,
    RotationPlan,
)
from medexchange.scheduling.permissions import can_plan_session, can_read_participant


def _plan(request: HttpRequest, pk: int) -> RotationPlan:
    return get_object_or_404(
        RotationPlan.objects.visible_to(request.user).select_related("session__opportunity"),
        pk=pk,
    )


def _edited(request: HttpRequest, pk: int) -> RotationPlan:
    return get_object_or_404(
        RotationPlan.objects.editable_by(request.user).select_related("session__opportunity"),
        pk=pk,
    )


def _solve(request: HttpRequest, pk: int) -> PlanSolve:
    return get_object_or_404(
        PlanSolve.objects.visible_to(request.user).select_related(
            "plan__session__opportunity", "started_by"
        ),
        pk=pk,
    )


def _errors(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    """Service errors onto the form: on their field when the form has it."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, errors in error.message_dict.items():
        form.add_error(key if key in form.fields else None, errors)


# --------------------------------------------------------------------------- plan


@login_required
@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    """Every rotation plan the person plans, takes part in or supervises a site of."""
    return render(
        request,
        "scheduling/plan_list.html",
        {"rows": selectors.plans_for(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def session_plan(request: HttpRequest, session_id: int) -> HttpResponse:
    """The session's plan, or (for its host's coordinators) the page that opens one."""
    session = get_object_or_404(Session.objects.select_related("opportunity__host"), pk=session_id)
    plan = RotationPlan.objects.visible_to(request.user).filter(session=session).first()
    if plan is not None:
        return redirect(plan)
    if not can_plan_session(request.user, session):
        raise Http404
    errors: list[str] = []
    if request.method == "POST":
        try:
            plan = services.rotation_plan_create(session=session, actor=request.user)
        except ValidationError as error:
            errors = _errors(error)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, _("The rotation plan is ready to set up and solve."))
            return redirect(plan)
    return render(
        request,
        "scheduling/session_plan.html",
        {
            "session": session,
            "errors": errors,
            "seats": selectors.seat_placements(session).count(),
            "sites": list(session.opportunity.sites.order_by("name")),
        },
        status=400 if errors else 200,
    )


def _pair_rows(plan: RotationPlan, people: list[PlanParticipant]) -> list[dict[str, Any]]:
    names = {p.pk: p.name for p in people}
    rows = []
    for kind in PairKind:
        for index, pair in enumerate(getattr(plan, kind.value)):
            rows.append(
                {
                    "kind": kind.value,
                    "label": kind.label,
                    "index": index,
                    "names": [names.get(pk, "?") for pk in pair],
                }
            )
    return rows


def _plan_context(request: HttpRequest, plan: RotationPlan) -> dict[str, Any]:
    manager = RotationPlan.objects.managed_by(request.user).filter(pk=plan.pk).exists()
    editor = RotationPlan.objects.editable_by(request.user).filter(pk=plan.pk).exists()
    sites = selectors.plan_sites(plan)
    everyone = selectors.plan_participants(plan)
    people = everyone if manager else selectors.visible_participants(plan, request.user)
    feedback = selectors.plan_feedback(plan, sites=sites, people=everyone)
    last_solve = plan.solves.filter(is_proposal=False).order_by("-pk").first() if manager else None
    conflicts = (
        selectors.conflict_sentences(last_solve.input_json, last_solve.conflicts)
        if last_solve is not None and last_solve.outcome in {"infeasible", "unknown"}
        else []
    )
    own = {p.pk for p in people}
    problems = [p for p in feedback.problems if manager or p.participant in own]
    return {
        "plan": plan,
        "session": plan.session,
        "sites": sites,
        "people": people,
        "is_manager": manager,
        "can_edit": editor,
        "heads": selectors.period_heads(plan),
        "grid": selectors.grid(plan, people, sites, feedback, published=not manager),
        "occupancy": selectors.occupancy(plan, sites, feedback) if manager else [],
        "problems": problems,
        "invalid": feedback.invalid if manager else "",
        "last_solve": last_solve,
        "conflicts": conflicts,
        "pairs": _pair_rows(plan, everyone) if manager else [],
        "out_of_date": manager and services.participants_out_of_date(plan),
        "unpublished": selectors.unpublished_changes(plan) if manager else [],
        "publications": list(plan.publications.select_related("published_by")[:5])
        if manager
        else [],
        "absences": list(
            AbsenceReport.objects.visible_to(request.user)
            .filter(plan=plan)
            .select_related("participant__placement__application__applicant", "reported_by")[:10]
        )
        if manager
        else [],
        "excluded": list(plan.participants.filter(excluded=True)) if manager else [],
        "own_feed": _own_feed(plan, people) if not manager else None,
        "own_participant": people[0] if people and not manager else None,
        "supervised": selectors.supervised_sites(plan, request.user) if plan.published_at else [],
    }


def _own_feed(plan: RotationPlan, people: list[PlanParticipant]) -> CalendarFeed | None:
    if not people:
        return None
    return CalendarFeed.objects.active().filter(plan=plan, participant=people[0]).first()


@login_required
@require_GET
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    context = _plan_context(request, plan)
    if not context["is_manager"] and not context["people"]:
        # A site supervisor (and no participant): their page is the roster of their sites.
        return redirect("scheduling:roster", pk=plan.pk)
    if context["own_feed"] is not None:
        context["own_feed_url"] = request.build_absolute_uri(context["own_feed"].get_absolute_url())
    return render(request, "scheduling/plan_detail.html", context)


@login_required
@require_POST
def plan_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _edited(request, pk)
    result = services.rotation_plan_refresh(plan=plan, actor=request.user)
    if result.changed:
        messages.success(
            request,
            _("Participants updated: %(added)d added, %(removed)d removed.")
            % {"added": len(result.added), "removed": len(result.removed)},
        )
    else:
        messages.info(request, _("The participants already match the session's seats."))
    return redirect(plan)


@login_required
@require_http_methods(["GET", "POST"])
def plan_settings(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _edited(request, pk)
    form = SettingsForm.for_plan(plan, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.rotation_plan_update(
                plan=plan,
                actor=request.user,
                unit=data["unit"],
                start_date=data["start_date"],
                min_sites=data["min_sites"],
                min_stay=data["min_stay"],
                max_stay=data["max_stay"],
                balance=data["balance"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The plan's settings are saved."))
            return redirect(plan)
    people = selectors.plan_participants(plan)
    return render(
        request,
        "scheduling/plan_settings.html",
        {
            "plan": plan,
            "form": form,
            "pair_form": PairForm(people=people),
            "pairs": _pair_rows(plan, people),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_POST
def pair_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _edited(request, pk)
    people = selectors.plan_participants(plan)
    form = PairForm(request.POST, people=people)
    if form.is_valid():
        by_pk = {p.pk: p for p in people}
        try:
            services.plan_pair_add(
                plan=plan,
                actor=request.user,
                kind=form.cleaned_data["kind"],
                first=by_pk[form.cleaned_data["first"]],
                second=by_pk[form.cleaned_data["second"]],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The rule is added."))
            return redirect("scheduling:settings", pk=plan.pk)
    return render(
        request,
        "scheduling/plan_settings.html",
        {
            "plan": plan,
            "form": SettingsForm.for_plan(plan),
            "pair_form": form,
            "pairs": _pair_rows(plan, people),
        },
        status=400,
    )


@login_required
@require_POST
def pair_remove(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _edited(request, pk)
    form = PairRemoveForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("That rule is no longer there."))
        services.plan_pair_remove(
            plan=plan,
            actor=request.user,
            kind=form.cleaned_data["kind"],
            index=form.cleaned_data["index"],
        )
    except ValidationError as error:
        for message in _errors(error):
            messages.error(request, message)
    else:
        messages.success(request, _("The rule is removed."))
    return redirect("scheduling:settings", pk=plan.pk)


@login_required
@require_http_methods(["GET", "POST"])
def site_edit(request: HttpRequest, pk: int, site_id: int) -> HttpResponse:
    plan = _edited(request, pk)
    site = get_object_or_404(PlanSite.objects.select_related("site", "plan"), plan=plan, pk=site_id)
    form = SiteForm.for_site(site, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.plan_site_update(
                plan_site=site,
                actor=request.user,
                short_name=data["short_name"],
                capacity=data["capacity"],
                min_staff=data["min_staff"],
                closed=data["closed"],
                languages=data["languages"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("%(site)s is saved.") % {"site": site.site.name})
            return redirect(plan)
    return render(
        request,
        "scheduling/site_form.html",
        {"plan": plan, "site": site, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def participant_edit(request: HttpRequest, pk: int, participant_id: int) -> HttpResponse:
    plan = _edited(request, pk)
    person = get_object_or_404(
        PlanParticipant.objects.select_related("placement__application__applicant", "plan"),
        plan=plan,
        pk=participant_id,
    )
    sites = selectors.plan_sites(plan)
    form = ParticipantForm.for_participant(
        person, sites, request.POST if request.method == "POST" else None
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.plan_participant_update(
                participant=person,
                actor=request.user,
                arrival=data["arrival"],
                departure=data["departure"],
                languages=data["languages"],
                preferences=form.preferences(),
                must_visit=data["must_visit"],
                must_not_visit=data["must_not_visit"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("%(who)s is saved.") % {"who": person.name})
            return redirect(plan)
    return render(
        request,
        "scheduling/participant_form.html",
        {"plan": plan, "person": person, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def cell_edit(request: HttpRequest, pk: int, participant_id: int, period: int) -> HttpResponse:
    plan = _edited(request, pk)
    person = get_object_or_404(
        PlanParticipant.objects.select_related("placement__application__applicant"),
        plan=plan,
        pk=participant_id,
    )
    if not 0 <= period < plan.period_count:
        raise Http404
    sites = selectors.plan_sites(plan)
    cell = plan.cells.filter(participant=person, period=period).first()
    form = CellForm(
        request.POST if request.method == "POST" else None,
        sites=sites,
        initial={"site": cell.site_id if cell else None, "pinned": cell.pinned if cell else False},
    )
    if request.method == "POST" and form.is_valid():
        by_pk = {site.pk: site for site in sites}
        try:
            services.plan_cell_set(
                plan=plan,
                actor=request.user,
                participant=person,
                period=period,
                site=by_pk.get(form.cleaned_data["site"] or 0),
                pinned=form.cleaned_data["pinned"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            broken = len(selectors.plan_feedback(plan).problems)
            if broken:
                messages.warning(
                    request,
                    ngettext(
                        "Saved. The plan now breaks %(n)d rule: see “Rules the plan breaks”.",
                        "Saved. The plan now breaks %(n)d rules: see “Rules the plan breaks”.",
                        broken,
                    )
                    % {"n": broken},
                )
            else:
                messages.success(request, _("Saved. The plan keeps every rule."))
            return redirect(plan.get_absolute_url() + f"#cell-{person.pk}-{period}")
    return render(
        request,
        "scheduling/cell_form.html",
        {
            "plan": plan,
            "person": person,
            "period": period,
            "period_label": selectors.period_label(plan, period),
            "cell": cell,
            "form": form,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


# --------------------------------------------------------------------------- solves


@login_required
@require_POST
def solve_start(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _edited(request, pk)
    try:
        solve = services.plan_solve_start(plan=plan, actor=request.user)
    except ValidationError as error:
        context = _plan_context(request, plan)
        context["errors"] = _errors(error)
        return render(request, "scheduling/plan_detail.html", context, status=400)
    return redirect(solve)


def _solve_context(solve: PlanSolve) -> dict[str, Any]:
    return {
        "solve": solve,
        "plan": solve.plan,
        "conflicts": selectors.conflict_sentences(solve.input_json, solve.conflicts),
        "can_edit": False,
    }


@login_required
@require_GET
def solve_detail(request: HttpRequest, pk: int) -> HttpResponse:
    solve = _solve(request, pk)
    context = _solve_context(solve)
    context["can_edit"] = (
        RotationPlan.objects.editable_by(request.user).filter(pk=solve.plan_id).exists()
    )
    return render(request, "scheduling/solve_detail.html", context)


@login_required
@require_GET
def solve_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar alone (htmx polls it); once the solve ends the page reloads."""
    solve = _solve(request, pk)
    if getattr(request, "htmx", False) and not solve.is_pending:
        return HttpResponseClientRefresh()
    return render(request, "scheduling/_solve_progress.html", {"solve": solve})


@login_required
@require_POST
def solve_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    solve = _solve(request, pk)
    try:
        services.plan_solve_cancel(solve=solve, actor=request.user)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        context = _solve_context(solve)
        context["errors"] = _errors(error)
        return render(request, "scheduling/solve_detail.html", context, status=400)
    return redirect(solve)


@login_required
@require_GET
def solve_input(request: HttpRequest, pk: int) -> HttpResponse:
    solve = _solve(request, pk)
    if not solve.input_json:
        raise Http404
    return json_attachment(solve.input_json, f"rotation-solve-{solve.pk}-plan.json")


@login_required
@require_GET
def solve_result(request: HttpRequest, pk: int) -> HttpResponse:
    solve = _solve(request, pk)
    if not solve.result_json:
        raise Http404
    return json_attachment(solve.result_json, f"rotation-solve-{solve.pk}-result.json")


# --------------------------------------------------------------------------- publishing


@login_required
@require_POST
def plan_publish(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _edited(request, pk)
    try:
        publication = services.rotation_plan_publish(plan=plan, actor=request.user)
    except ValidationError as error:
        context = _plan_context(request, plan)
        context["errors"] = _errors(error)
        return render(request, "scheduling/plan_detail.html", context, status=400)
    if publication is None:
        messages.info(request, _("Nothing changed since the last publication: nobody was told."))
    elif publication.version == 1:
        messages.success(
            request,
            ngettext(
                "The plan is published: %(n)d person was told.",
                "The plan is published: %(n)d people were told.",
                publication.notified,
            )
            % {"n": publication.notified},
        )
    else:
        messages.success(
            request,
            ngettext(
                "The changes are published: %(n)d person affected was told.",
                "The changes are published: %(n)d people affected were told.",
                publication.notified,
            )
            % {"n": publication.notified},
        )
    return redirect(plan)


def _published(request: HttpRequest, pk: int) -> RotationPlan:
    plan = _plan(request, pk)
    if plan.published_at is None:
        raise Http404
    return plan


def _readable_participant(request: HttpRequest, plan: RotationPlan, pid: int) -> PlanParticipant:
    person = get_object_or_404(
        plan.participants.select_related("placement__application__applicant__applicant_profile"),
        pk=pid,
    )
    if not can_read_participant(request.user, person):
        raise Http404
    return person


def _readable_site(request: HttpRequest, plan: RotationPlan, site_id: int) -> PlanSite:
    for site in selectors.supervised_sites(plan, request.user):
        if site.pk == site_id:
            return site
    raise Http404


@login_required
@require_GET
def plan_roster(request: HttpRequest, pk: int) -> HttpResponse:
    """Site supervisors' view: who is on each of their sites in each published period."""
    plan = _published(request, pk)
    sites = selectors.supervised_sites(plan, request.user)
    if not sites:
        raise Http404
    people = selectors.roster_people(plan)
    feeds = {
        feed.site_id: feed
        for feed in CalendarFeed.objects.active().filter(plan=plan, site__in=sites)
    }
    rosters = [
        {
            "site": site,
            "periods": selectors.site_roster(plan, site, people),
            "feed": feeds.get(site.pk),
            "feed_url": request.build_absolute_uri(feeds[site.pk].get_absolute_url())
            if site.pk in feeds
            else "",
        }
        for site in sites
    ]
    reports = list(
        AbsenceReport.objects.visible_to(request.user)
        .filter(plan=plan)
        .select_related("participant__placement__application__applicant")[:20]
    )
    return render(
        request,
        "scheduling/roster.html",
        {
            "plan": plan,
            "session": plan.session,
            "rosters": rosters,
            "reports": reports,
            "is_manager": RotationPlan.objects.managed_by(request.user).filter(pk=plan.pk).exists(),
        },
    )


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def participant_roster_pdf(request: HttpRequest, pk: int, participant_id: int) -> HttpResponse:
    plan = _published(request, pk)
    person = _readable_participant(request, plan, participant_id)
    return _pdf_response(
        calendars.participant_roster_pdf(plan, person), f"rotation-{plan.pk}-{person.pk}.pdf"
    )


@login_required
@require_GET
def site_roster_pdf(request: HttpRequest, pk: int, site_id: int) -> HttpResponse:
    plan = _published(request, pk)
    site = _readable_site(request, plan, site_id)
    language = getattr(request, "LANGUAGE_CODE", "") or "en"
    return _pdf_response(
        calendars.site_roster_pdf(plan, site, language), f"roster-{plan.pk}-{site.pk}.pdf"
    )


@login_required
@require_POST
def feed_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue (or show) the private calendar link of a participant or a site."""
    plan = _published(request, pk)
    participant = site = None
    back = plan.get_absolute_url()
    if request.POST.get("participant"):
        participant = _readable_participant(request, plan, _int(request.POST["participant"]))
    elif request.POST.get("site"):
        site = _readable_site(request, plan, _int(request.POST["site"]))
        back = reverse("scheduling:roster", kwargs={"pk": plan.pk})
    else:
        raise Http404
    try:
        services.calendar_feed_issue(
            plan=plan, actor=request.user, participant=participant, site=site
        )
    except PermissionDenied:
        raise Http404 from None
    messages.success(
        request, _("Your private calendar link is ready: add it to your calendar app.")
    )
    return redirect(back)


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


@login_required
@require_POST
def feed_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    feed = get_object_or_404(
        CalendarFeed.objects.active()
        .filter(plan__in=RotationPlan.objects.visible_to(request.user))
        .select_related("plan", "participant__placement__application", "site__site"),
        pk=pk,
    )
    try:
        services.calendar_feed_revoke(feed=feed, actor=request.user)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(_errors(error)))
    else:
        messages.success(
            request,
            _("The calendar link is revoked: calendars using it get nothing from now on."),
        )
    if feed.site_id:
        return redirect("scheduling:roster", pk=feed.plan_id)
    return redirect(feed.plan)


@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The private feed itself: no sign-in (calendar apps cannot), the token is the key."""
    found = services.calendar_feed_read(token=token)
    if found is None:
        raise Http404
    response = HttpResponse(
        calendars.feed_calendar(found), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'inline; filename="rotation-{found.plan_id}.ics"'
    response["Cache-Control"] = "private, max-age=900"
    response["X-Robots-Tag"] = "noindex"
    return response


# --------------------------------------------------------------------------- absences


@login_required
@require_http_methods(["GET", "POST"])
def absence_new(request: HttpRequest, pk: int, participant_id: int) -> HttpResponse:
    plan = _plan(request, pk)
    person = get_object_or_404(plan.participants.filter(excluded=False), pk=participant_id)
    editor = RotationPlan.objects.editable_by(request.user).filter(pk=plan.pk).exists()
    supervised = {s.pk for s in selectors.supervised_sites(plan, request.user)}
    row = (plan.published_assignment or {}).get(str(person.pk), {})
    if not editor and not supervised & set(row.values()):
        raise Http404
    form = AbsenceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            report = services.absence_report_create(
                plan=plan,
                participant=person,
                kind=form.cleaned_data["kind"],
                day=form.cleaned_data["day"],
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request, _("Thank you: the coordinator is told and a repaired plan is proposed.")
            )
            return redirect(report)
    return render(
        request,
        "scheduling/absence_form.html",
        {"plan": plan, "session": plan.session, "person": person, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


def _absence(request: HttpRequest, pk: int) -> AbsenceReport:
    return get_object_or_404(
        AbsenceReport.objects.visible_to(request.user).select_related(
            "plan__session__opportunity",
            "participant__placement__application__applicant",
            "proposal",
            "reported_by",
            "decided_by",
        ),
        pk=pk,
    )


def _absence_context(request: HttpRequest, report: AbsenceReport) -> dict[str, Any]:
    plan = report.plan
    editor = RotationPlan.objects.editable_by(request.user).filter(pk=plan.pk).exists()
    proposal = services.absence_proposal(report)
    sites = {site.pk: site for site in selectors.plan_sites(plan)}
    names = {
        p.pk: p.name for p in plan.participants.select_related("placement__application__applicant")
    }
    changes = []
    if proposal is not None and report.status == "proposed":
        for change in selectors.assignment_changes(report.base, proposal):
            changes.append(
                {
                    "who": names.get(change.participant, "?"),
                    "when": selectors.period_span_label(plan, change.period, change.period),
                    "before": sites[change.before].short_name if change.before in sites else None,
                    "after": sites[change.after].short_name if change.after in sites else None,
                }
            )
    stale = (
        report.status == "proposed" and editor and selectors.working_assignment(plan) != report.base
    )
    return {
        "report": report,
        "plan": plan,
        "session": plan.session,
        "sentence": services.absence_sentence(report),
        "changes": changes,
        "can_decide": editor,
        "stale": stale,
        "solve": report.proposal,
    }


@login_required
@require_GET
def absence_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _absence(request, pk)
    if (
        report.proposal is not None
        and report.proposal.is_pending
        and getattr(request, "htmx", False)
    ):
        return render(request, "scheduling/_solve_progress.html", {"solve": report.proposal})
    return render(request, "scheduling/absence_detail.html", _absence_context(request, report))


@login_required
@require_POST
def absence_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    report = _absence(request, pk)
    actions = {
        "accept": lambda: services.absence_accept(report=report, actor=request.user),
        "reject": lambda: services.absence_reject(
            report=report, actor=request.user, reason=request.POST.get("reason", "")[:500]
        ),
        "repropose": lambda: services.absence_repropose(report=report, actor=request.user),
    }
    if decision not in actions:
        raise Http404
    try:
        actions[decision]()
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        context = _absence_context(request, report)
        context["errors"] = _errors(error)
        return render(request, "scheduling/absence_detail.html", context, status=400)
    if decision == "accept":
        messages.success(
            request,
            _("The repair is applied. Publish the changes to tell everyone affected."),
        )
        return redirect(report.plan)
    if decision == "reject":
        messages.info(request, _("The report is set aside; the plan stays as it is."))
    return redirect("scheduling:absence", pk=report.pk)
