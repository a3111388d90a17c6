"""Pages of match cycles: the cycle, both sides' rankings, runs, results, post-match round.

Cycles are found through ``MatchCycle.objects.visible_to`` (managing actions through
``editable_by``), runs through ``MatchRun.objects.visible_to``, applications through
``owned_by`` (the applicant) or the cycle's own list: "not yours" is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from medexchange.applications.models import Application
from medexchange.catalog.models import Session
from medexchange.common.runs import json_attachment
from medexchange.matching import selectors, services
from medexchange.matching.choices import CycleStatus, RunStatus
from medexchange.matching.forms import CompareForm, CycleForm, MoveForm, RunForm, organiser_choices
from medexchange.matching.models import MatchCycle, MatchRun
from medexchange.matching.permissions import can_manage_cycle, can_rank_for_host
from medexchange.network.models import Institution, Network

C = CycleStatus


def _cycle(request: HttpRequest, pk: int) -> MatchCycle:
    return get_object_or_404(
        MatchCycle.objects.visible_to(request.user).select_related("network", "host"), pk=pk
    )


def _managed(request: HttpRequest, pk: int) -> MatchCycle:
    return get_object_or_404(MatchCycle.objects.editable_by(request.user), pk=pk)


def _run(request: HttpRequest, pk: int) -> MatchRun:
    return get_object_or_404(
        MatchRun.objects.visible_to(request.user).select_related("cycle", "started_by"), pk=pk
    )


def _errors(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]


@login_required
@require_GET
def cycle_list(request: HttpRequest) -> HttpResponse:
    cycles = (
        MatchCycle.objects.visible_to(request.user)
        .select_related("network", "host")
        .order_by("-ranking_opens_at", "-pk")
    )
    return render(
        request,
        "matching/cycle_list.html",
        {"cycles": cycles[:200], "can_create": bool(organiser_choices(request.user))},
    )


@login_required
@require_http_methods(["GET", "POST"])
def cycle_create(request: HttpRequest) -> HttpResponse:
    choices = organiser_choices(request.user)
    if not choices:
        raise PermissionDenied(_("Only network staff and host coordinators open match cycles."))
    source = request.POST if request.method == "POST" else request.GET
    organiser = str(source.get("organiser") or choices[0][0])
    form = CycleForm(
        request.POST if request.method == "POST" else None, user=request.user, organiser=organiser
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            kind, _sep, pk = data["organiser"].partition("-")
            try:
                cycle = services.match_cycle_create(
                    actor=request.user,
                    name=data["name"],
                    sessions=list(data["sessions"]),
                    network=Network.objects.get(pk=pk) if kind == "network" else None,
                    host=Institution.objects.get(pk=pk) if kind == "host" else None,
                    binding=data["binding"],
                    reserved_places=data["reserved_places"],
                    ranking_opens_at=data["ranking_opens_at"],
                    ranking_closes_at=data["ranking_closes_at"],
                    results_planned_at=data["results_planned_at"],
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, problems in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, problems)
                else:
                    form.add_error(None, error)
            else:
                messages.success(request, _("The cycle is saved as a draft."))
                return redirect(cycle)
        status = 400
    return render(
        request, "matching/cycle_form.html", {"form": form, "organiser": organiser}, status=status
    )


def _cycle_context(request: HttpRequest, cycle: MatchCycle) -> dict[str, Any]:
    user = request.user
    manages = can_manage_cycle(user, cycle)
    sessions = selectors.cycle_sessions(cycle)
    ranked_hosts = {
        s.opportunity.host_id for s in sessions if can_rank_for_host(user, s.opportunity.host_id)
    }
    host_sessions = [s for s in sessions if s.opportunity.host_id in ranked_hosts]
    counts = selectors.participant_counts(cycle)
    own = cycle.applications().filter(applicant=user).exists() if user.is_authenticated else False
    run = cycle.released_run
    context: dict[str, Any] = {
        "cycle": cycle,
        "manages": manages,
        "sessions": sessions,
        "host_sessions": [(s, counts.get(s.pk, 0)) for s in host_sessions],
        "session_counts": [(s, counts.get(s.pk, 0)) for s in sessions] if manages else [],
        "ranks_own": own,
        "ranking_open": cycle.status == C.RANKING,
        "runs": list(cycle.runs.select_related("started_by")) if manages else [],
        "run_form": RunForm(),
        "released_run": run,
    }
    if run is not None:
        context["my_result"] = selectors.person_result(run, user)
        shown = sessions if manages else host_sessions
        context["session_results"] = selectors.session_results(run, shown)
    return context


@login_required
@require_GET
def cycle_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _cycle(request, pk)
    return render(request, "matching/cycle_detail.html", _cycle_context(request, cycle))


@login_required
@require_POST
def cycle_act(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _managed(request, pk)
    try:
        services.match_cycle_act(
            cycle=cycle, actor=request.user, verb=str(request.POST.get("verb", ""))
        )
    except ValidationError as error:
        context = _cycle_context(request, cycle)
        context["errors"] = _errors(error)
        return render(request, "matching/cycle_detail.html", context, status=400)
    return redirect(cycle)


# --------------------------------------------------------------------------- rankings


def _move_error(form: MoveForm) -> ValidationError:
    return ValidationError([str(e) for errors in form.errors.values() for e in errors])


@login_required
@require_http_methods(["GET", "POST"])
def my_ranking(request: HttpRequest, pk: int) -> HttpResponse:
    """The applicant orders their applications in the cycle."""
    cycle = _cycle(request, pk)
    owned = Application.objects.owned_by(request.user).filter(session__in=cycle.sessions.all())
    if not owned.filter(submitted_at__isnull=False).exists():
        raise Http404
    errors: list[str] = []
    if request.method == "POST":
        form = MoveForm(request.POST)
        try:
            if not form.is_valid():
                raise _move_error(form)
            application = get_object_or_404(owned, pk=form.cleaned_data["application"])
            direction = form.cleaned_data["direction"]
            services.applicant_rank_move(
                cycle=cycle,
                application=application,
                actor=request.user,
                direction=direction if direction in {"up", "down"} else None,
                position=form.cleaned_data.get("position"),
            )
        except ValidationError as error:
            errors = _errors(error)
        else:
            return redirect(
                reverse("matching:my-ranking", kwargs={"pk": cycle.pk}) + f"#item-{application.pk}"
            )
    order = selectors.applicant_order(cycle, request.user)
    left_out = owned.exclude(pk__in=[a.pk for a in order]).select_related("session__opportunity")
    return render(
        request,
        "matching/my_ranking.html",
        {
            "cycle": cycle,
            "order": order,
            "left_out": left_out,
            "errors": errors,
            "ranking_open": cycle.status == C.RANKING,
        },
        status=400 if errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def host_ranking(request: HttpRequest, pk: int, session_id: int) -> HttpResponse:
    """The host ranks a session's applicants; unranked ones are unacceptable to it."""
    cycle = _cycle(request, pk)
    session = get_object_or_404(cycle.sessions.select_related("opportunity__host"), pk=session_id)
    if not can_rank_for_host(request.user, session.opportunity.host_id):
        raise Http404
    errors: list[str] = []
    if request.method == "POST":
        form = MoveForm(request.POST)
        try:
            if not form.is_valid():
                raise _move_error(form)
            application = get_object_or_404(
                cycle.applications().filter(session=session), pk=form.cleaned_data["application"]
            )
            direction = form.cleaned_data["direction"]
            if direction in {"rank", "unrank"}:
                services.host_rank_set(
                    cycle=cycle,
                    application=application,
                    actor=request.user,
                    ranked=direction == "rank",
                )
            else:
                services.host_rank_move(
                    cycle=cycle,
                    application=application,
                    actor=request.user,
                    direction=direction if direction in {"up", "down"} else None,
                    position=form.cleaned_data.get("position"),
                )
        except ValidationError as error:
            errors = _errors(error)
        except PermissionDenied:
            raise Http404 from None
        else:
            url = reverse(
                "matching:host-ranking", kwargs={"pk": cycle.pk, "session_id": session.pk}
            )
            return redirect(url + f"#item-{application.pk}")
    order = selectors.host_order(cycle, session)
    return render(
        request,
        "matching/host_ranking.html",
        {
            "cycle": cycle,
            "session": session,
            "order": order,
            "errors": errors,
            "ranking_open": cycle.status == C.RANKING,
        },
        status=400 if errors else 200,
    )


# --------------------------------------------------------------------------- runs


@login_required
@require_POST
def run_start(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _managed(request, pk)
    form = RunForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Choose a dry run or a final run."))
        run = services.match_run_start(
            cycle=cycle, actor=request.user, kind=form.cleaned_data["kind"]
        )
    except ValidationError as error:
        context = _cycle_context(request, cycle)
        context["errors"] = _errors(error)
        return render(request, "matching/cycle_detail.html", context, status=400)
    return redirect(run)


def _run_context(run: MatchRun) -> dict[str, Any]:
    statistics = run.statistics or {}
    earlier = run.cycle.runs.filter(status=RunStatus.DONE).exclude(pk=run.pk)
    return {
        "run": run,
        "cycle": run.cycle,
        "statistics": statistics,
        "balance": selectors.balance_rows(statistics) if statistics else None,
        "unmatched": selectors.unmatched_people(run) if statistics else [],
        "session_results": selectors.session_results(run, selectors.cycle_sessions(run.cycle))
        if run.status == RunStatus.DONE
        else [],
        "earlier_runs": list(earlier.order_by("-created_at", "-pk")),
        "can_release": run.status == RunStatus.DONE
        and run.cycle.status == C.CLOSED
        and run.cycle.released_run_id is None,
    }


@login_required
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    return render(request, "matching/run_detail.html", _run_context(run))


@login_required
@require_GET
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar alone (htmx polls it); once the run ends the page reloads."""
    run = _run(request, pk)
    if getattr(request, "htmx", False) and not run.is_pending:
        return HttpResponseClientRefresh()
    return render(request, "matching/_run_progress.html", {"run": run})


@login_required
@require_POST
def run_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    try:
        services.match_run_cancel(run=run, actor=request.user)
    except ValidationError as error:
        context = _run_context(run)
        context["errors"] = _errors(error)
        return render(request, "matching/run_detail.html", context, status=400)
    return redirect(run)


@login_required
@require_POST
def run_release(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    try:
        cycle = services.match_run_release(run=run, actor=request.user)
    except ValidationError as error:
        context = _run_context(run)
        context["errors"] = _errors(error)
        return render(request, "matching/run_detail.html", context, status=400)
    messages.success(request, _("The results are released and everyone is told."))
    return redirect(cycle)


@login_required
@require_GET
def run_compare(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    form = CompareForm(request.GET)
    if not form.is_valid():
        context = _run_context(run)
        context["errors"] = [_("Choose an earlier run of this cycle to compare with.")]
        return render(request, "matching/run_detail.html", context, status=400)
    other = get_object_or_404(
        MatchRun.objects.visible_to(request.user).filter(cycle=run.cycle, status=RunStatus.DONE),
        pk=form.cleaned_data["other"],
    )
    if run.status != RunStatus.DONE:
        raise Http404
    return render(
        request,
        "matching/run_compare.html",
        {
            "run": run,
            "other": other,
            "cycle": run.cycle,
            "comparison": selectors.run_comparison(run, other),
        },
    )


@login_required
@require_GET
def run_instance(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    if not run.instance_json:
        raise Http404
    return json_attachment(run.instance_json, f"match-run-{run.pk}-instance.json")


@login_required
@require_GET
def run_result(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    if not run.result_json:
        raise Http404
    return json_attachment(run.result_json, f"match-run-{run.pk}-result.json")


@login_required
@require_POST
def run_replay(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    context = _run_context(run)
    try:
        context["verdict"] = services.match_run_replay(run=run)
    except ValidationError as error:
        context["errors"] = _errors(error)
        return render(request, "matching/run_detail.html", context, status=400)
    return render(request, "matching/run_detail.html", context)


# --------------------------------------------------------------------------- post-match


@login_required
@require_GET
def post_match(request: HttpRequest, pk: int) -> HttpResponse:
    """Sessions with places left after the match; hosts may offer directly again."""
    cycle = _cycle(request, pk)
    unfilled: list[tuple[Session, int]] = (
        selectors.unfilled_sessions(cycle) if cycle.status in {C.POST_MATCH, C.FINISHED} else []
    )
    return render(request, "matching/post_match.html", {"cycle": cycle, "unfilled": unfilled})
