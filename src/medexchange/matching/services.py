"""Every state change of match cycles, rankings and runs: validated, audited, notified.

Rankings and releases lock the cycle row first, so a ranking change cannot slip between
the release's check of the instance and its placements. A release then locks the cycle's
session rows in primary-key order (the applications' services lock a session before its
application, and always one session at a time), rebuilds the instance and refuses when
its hash differs from the run's: the result released is exactly the result of the places
and rankings as they are under the lock.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from medexchange.accounts.models import User
from medexchange.applications import services as application_services
from medexchange.applications.models import HOST_ROLES, Application
from medexchange.applications.permissions import is_applicant
from medexchange.catalog.models import Session
from medexchange.common.notifications import notify_users
from medexchange.common.runs import RunCancelled, run_stage
from medexchange.common.services import audit_record
from medexchange.engines import matching as engine
from medexchange.engines.matching.explain import build_result
from medexchange.engines.matching.solve import solve_compiled
from medexchange.matching import selectors
from medexchange.matching.choices import (
    CYCLE_TRANSITIONS,
    OPEN_STATUSES,
    CycleStatus,
    RankSide,
    RunKind,
    RunStage,
    RunStatus,
)
from medexchange.matching.models import MatchCycle, MatchRun, Ranking
from medexchange.matching.permissions import (
    active_member_ids,
    can_manage_cycle,
    can_rank_for_host,
    organised_hosts,
    organised_networks,
)

C = CycleStatus
NAME_MAX_LENGTH = 200
MAX_RESERVED_PLACES = 100
EMAIL_TEMPLATE = "matching/email/result"
UP, DOWN = "up", "down"


def _when(value: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


# --------------------------------------------------------------------------- cycles


#: How far ahead a cycle's timeline may reach.
CYCLE_YEARS_AHEAD = 5


def _latest_date() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=365 * CYCLE_YEARS_AHEAD)


def match_cycle_create(
    *,
    actor: Any,
    name: str,
    sessions: Sequence[Session],
    ranking_opens_at: dt.datetime,
    ranking_closes_at: dt.datetime,
    results_planned_at: dt.datetime,
    network: Any = None,
    host: Any = None,
    binding: bool = True,
    reserved_places: int = 0,
) -> MatchCycle:
    """A draft cycle over ``sessions``, organised by ``network``'s staff or by ``host``."""
    if (network is None) == (host is None):
        raise ValidationError({"organiser": _("Choose one organiser.")}, code="organiser")
    if network is not None and not organised_networks(actor).filter(pk=network.pk).exists():
        raise PermissionDenied
    if host is not None and not organised_hosts(actor).filter(pk=host.pk).exists():
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or "\x00" in name or len(name) > NAME_MAX_LENGTH:
        errors.setdefault("name", []).append(
            _("Give the cycle a name of up to %(limit)d characters.") % {"limit": NAME_MAX_LENGTH}
        )
    for field, value in (
        ("ranking_opens_at", ranking_opens_at),
        ("ranking_closes_at", ranking_closes_at),
        ("results_planned_at", results_planned_at),
    ):
        if value is None or timezone.is_naive(value):
            errors.setdefault(field, []).append(_("Give a date and a time."))
        elif not dt.datetime(2000, 1, 1, tzinfo=dt.UTC) <= value <= _latest_date():
            # A cycle's dates lie within a few years; far ones could not even be stored
            # once converted to UTC.
            errors.setdefault(field, []).append(
                _("Choose a date within the next %(years)d years.") % {"years": CYCLE_YEARS_AHEAD}
            )
    if not errors:
        if ranking_closes_at <= ranking_opens_at:
            errors["ranking_closes_at"] = [_("Ranking closes after it opens.")]
        if results_planned_at < ranking_closes_at:
            errors["results_planned_at"] = [_("Results come after the ranking closes.")]
    if not 0 <= reserved_places <= MAX_RESERVED_PLACES:
        errors["reserved_places"] = [
            _("Reserve from 0 to %(limit)d places.") % {"limit": MAX_RESERVED_PLACES}
        ]
    chosen = list({session.pk: session for session in sessions}.values())
    if not chosen:
        errors["sessions"] = [_("Choose at least one session.")]
    allowed = Session.objects.scheduled()
    if network is not None:
        allowed = allowed.filter(opportunity__host_id__in=active_member_ids(network))
    else:
        allowed = allowed.filter(opportunity__host=host)
    allowed_ids = set(allowed.filter(pk__in=[s.pk for s in chosen]).values_list("pk", flat=True))
    if any(session.pk not in allowed_ids for session in chosen):
        errors.setdefault("sessions", []).append(
            _("Choose sessions of the organiser's own hosts that are not cancelled.")
        )
    busy = MatchCycle.objects.filter(status__in=OPEN_STATUSES, sessions__in=chosen).first()
    if busy is not None:
        errors.setdefault("sessions", []).append(
            _("Some of these sessions are already in the open cycle “%(cycle)s”.")
            % {"cycle": busy.name}
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # Two organisers choosing the same session at once: the session rows, locked in
        # primary-key order, make the second wait and then see the first's cycle.
        list(
            Session.objects.select_for_update()
            .filter(pk__in=[s.pk for s in chosen])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        busy = MatchCycle.objects.filter(status__in=OPEN_STATUSES, sessions__in=chosen).first()
        if busy is not None:
            raise ValidationError(
                {
                    "sessions": _(
                        "Some of these sessions are already in the open cycle “%(cycle)s”."
                    )
                    % {"cycle": busy.name}
                }
            )
        cycle = MatchCycle.objects.create(
            name=name,
            network=network,
            host=host,
            binding=binding,
            reserved_places=reserved_places,
            ranking_opens_at=ranking_opens_at,
            ranking_closes_at=ranking_closes_at,
            results_planned_at=results_planned_at,
            created_by=actor if actor.is_authenticated else None,
        )
        cycle.sessions.set(chosen)
        audit_record(
            actor=actor,
            action="match_cycle.created",
            target=cycle,
            to_state=C.DRAFT,
            data={"sessions": sorted(s.pk for s in chosen), "binding": binding},
        )
    return cycle


def _cycle_move(cycle: MatchCycle, *, to: str, actor: Any, action: str, **values: Any) -> None:
    source = cycle.status
    if to not in CYCLE_TRANSITIONS[source]:
        raise ValidationError(
            _("A cycle that is “%(from)s” cannot become “%(to)s”.")
            % {"from": C(source).label, "to": C(to).label},
            code="invalid_transition",
        )
    cycle.status = to
    for field, value in values.items():
        setattr(cycle, field, value)
    cycle.save()
    audit_record(actor=actor, action=action, target=cycle, from_state=source, to_state=to)


def _locked(cycle: MatchCycle) -> MatchCycle:
    return MatchCycle.objects.select_for_update().get(pk=cycle.pk)


#: The organisers' status buttons: verb → (target status, audit action).
CYCLE_ACTIONS: dict[str, tuple[str, str]] = {
    "open": (C.RANKING, "match_cycle.ranking_opened"),
    "close": (C.CLOSED, "match_cycle.ranking_closed"),
    "cancel": (C.CANCELLED, "match_cycle.cancelled"),
    "finish": (C.FINISHED, "match_cycle.finished"),
}


def match_cycle_act(*, cycle: MatchCycle, actor: Any, verb: str) -> MatchCycle:
    """Open the ranking, close it (early, or after its window), cancel, or close for good."""
    if not can_manage_cycle(actor, cycle):
        raise PermissionDenied
    if verb not in CYCLE_ACTIONS:
        raise ValidationError(_("Unknown action."), code="unknown")
    to, action = CYCLE_ACTIONS[verb]
    with transaction.atomic():
        cycle = _locked(cycle)
        if to == C.RANKING and timezone.now() >= cycle.ranking_closes_at:
            raise ValidationError(
                _("The ranking window ended on %(date)s: it cannot open again.")
                % {"date": _when(cycle.ranking_closes_at)},
                code="window_over",
            )
        _cycle_move(cycle, to=to, actor=actor, action=action)
    return cycle


def match_cycles_close_due(*, now: dt.datetime | None = None) -> int:
    """Close the ranking of cycles whose window has ended (periodic task)."""
    now = now or timezone.now()
    closed = 0
    for pk in MatchCycle.objects.filter(status=C.RANKING, ranking_closes_at__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            cycle = MatchCycle.objects.select_for_update().get(pk=pk)
            if cycle.status == C.RANKING:
                _cycle_move(cycle, to=C.CLOSED, actor=None, action="match_cycle.ranking_closed")
                closed += 1
    return closed


def cycle_blocking_offers(session: Session) -> MatchCycle | None:
    """The open cycle that allocates ``session``'s places, if any (no direct offers then)."""
    from medexchange.matching.choices import OFFER_BLOCKING

    return MatchCycle.objects.filter(status__in=OFFER_BLOCKING, sessions=session).first()


# --------------------------------------------------------------------------- rankings


def _check_window(cycle: MatchCycle, now: dt.datetime) -> None:
    if cycle.status != C.RANKING or now < cycle.ranking_opens_at:
        if cycle.status in {C.DRAFT, C.RANKING} and now < cycle.ranking_opens_at:
            raise ValidationError(
                _("Ranking opens on %(date)s.") % {"date": _when(cycle.ranking_opens_at)},
                code="not_open",
            )
        raise ValidationError(_("Ranking is closed in this cycle."), code="closed")
    if now >= cycle.ranking_closes_at:
        raise ValidationError(
            _("Ranking closed on %(date)s.") % {"date": _when(cycle.ranking_closes_at)},
            code="closed",
        )


def _taking_part(cycle: MatchCycle, application: Application) -> None:
    if not cycle.applications().filter(pk=application.pk).exists():
        raise ValidationError(
            _(
                "This application no longer takes part in the match: it was withdrawn, "
                "decided or is not in this cycle."
            ),
            code="not_in_cycle",
        )


def _new_index(current: int, length: int, direction: str | None, position: int | None) -> int:
    if direction == UP:
        return max(0, current - 1)
    if direction == DOWN:
        return min(length - 1, current + 1)
    if position is None or not 1 <= position <= length:
        raise ValidationError(
            {"position": _("Give a position from 1 to %(count)d.") % {"count": length}},
            code="position",
        )
    return position - 1


def _rewrite(
    cycle: MatchCycle, side: str, ranked: Sequence[int], unranked: Iterable[int] = ()
) -> None:
    """Store one list 1..n (and its unranked rows) in place of its earlier rows."""
    unranked = list(unranked)
    Ranking.objects.filter(cycle=cycle, side=side, application_id__in=[*ranked, *unranked]).delete()
    Ranking.objects.bulk_create(
        [
            Ranking(cycle=cycle, side=side, application_id=pk, position=index)
            for index, pk in enumerate(ranked, start=1)
        ]
        + [Ranking(cycle=cycle, side=side, application_id=pk, position=None) for pk in unranked]
    )


def applicant_rank_move(
    *,
    cycle: MatchCycle,
    application: Application,
    actor: Any,
    direction: str | None = None,
    position: int | None = None,
    now: dt.datetime | None = None,
) -> list[Application]:
    """Move one of the applicant's applications up, down or to ``position`` (1-based)."""
    if not is_applicant(actor, application):
        raise PermissionDenied
    now = now or timezone.now()
    with transaction.atomic():
        cycle = _locked(cycle)
        _check_window(cycle, now)
        _taking_part(cycle, application)
        order = [a.pk for a in selectors.applicant_order(cycle, actor)]
        old = order.index(application.pk)
        new = _new_index(old, len(order), direction, position)
        order.insert(new, order.pop(old))
        _rewrite(cycle, RankSide.APPLICANT, order)
        audit_record(
            actor=actor,
            action="match_ranking.applicant_moved",
            target=application,
            data={"cycle": cycle.pk, "from": old + 1, "to": new + 1},
        )
    return selectors.applicant_order(cycle, actor)


def _host_check(cycle: MatchCycle, application: Application, actor: Any, now: dt.datetime) -> None:
    if is_applicant(actor, application) or not can_rank_for_host(
        actor, application.session.opportunity.host_id
    ):
        raise PermissionDenied
    _check_window(cycle, now)
    _taking_part(cycle, application)


def host_rank_move(
    *,
    cycle: MatchCycle,
    application: Application,
    actor: Any,
    direction: str | None = None,
    position: int | None = None,
    now: dt.datetime | None = None,
) -> selectors.HostOrder:
    """Move a ranked applicant of a session up, down or to ``position`` (1-based)."""
    now = now or timezone.now()
    with transaction.atomic():
        cycle = _locked(cycle)
        _host_check(cycle, application, actor, now)
        order = selectors.host_order(cycle, application.session)
        ranked = [a.pk for a in order.ranked]
        if application.pk not in ranked:
            raise ValidationError(_("Rank this applicant first, then move them."), code="unranked")
        old = ranked.index(application.pk)
        new = _new_index(old, len(ranked), direction, position)
        ranked.insert(new, ranked.pop(old))
        _rewrite(cycle, RankSide.HOST, ranked, [a.pk for a in order.unranked])
        audit_record(
            actor=actor,
            action="match_ranking.host_moved",
            target=application,
            data={"cycle": cycle.pk, "from": old + 1, "to": new + 1},
        )
    return selectors.host_order(cycle, application.session)


def host_rank_set(
    *,
    cycle: MatchCycle,
    application: Application,
    actor: Any,
    ranked: bool,
    now: dt.datetime | None = None,
) -> selectors.HostOrder:
    """Leave an applicant unranked (unacceptable to the session), or rank them last."""
    now = now or timezone.now()
    with transaction.atomic():
        cycle = _locked(cycle)
        _host_check(cycle, application, actor, now)
        order = selectors.host_order(cycle, application.session)
        ranked_ids = [a.pk for a in order.ranked if a.pk != application.pk]
        unranked_ids = [a.pk for a in order.unranked if a.pk != application.pk]
        if ranked:
            ranked_ids.append(application.pk)
        else:
            unranked_ids.append(application.pk)
        _rewrite(cycle, RankSide.HOST, ranked_ids, unranked_ids)
        audit_record(
            actor=actor,
            action="match_ranking.host_ranked" if ranked else "match_ranking.host_unranked",
            target=application,
            data={"cycle": cycle.pk},
        )
    return selectors.host_order(cycle, application.session)


# --------------------------------------------------------------------------- runs


def match_run_start(*, cycle: MatchCycle, actor: Any, kind: str = RunKind.DRY) -> MatchRun:
    """Queue a run; it is solved in the background (in-process without a broker)."""
    from medexchange.matching import tasks

    if not can_manage_cycle(actor, cycle):
        raise PermissionDenied
    if kind not in RunKind.values:
        raise ValidationError({"kind": _("Choose a dry run or a final run.")}, code="kind")
    with transaction.atomic():
        cycle = _locked(cycle)
        if cycle.status not in {C.RANKING, C.CLOSED}:
            raise ValidationError(
                _("Runs are made while the cycle ranks or once its ranking closed."),
                code="status",
            )
        if kind == RunKind.FINAL and cycle.status != C.CLOSED:
            raise ValidationError(
                {"kind": _("A final run needs the ranking closed: close it first.")},
                code="not_closed",
            )
        run = MatchRun.objects.create(cycle=cycle, kind=kind, started_by=actor)
        audit_record(actor=actor, action="match_run.queued", target=run, to_state=RunStatus.QUEUED)
        transaction.on_commit(lambda: tasks.match_run_execute.delay(run.pk))
    return run


def match_run_cancel(*, run: MatchRun, actor: Any) -> MatchRun:
    """A queued run is cancelled at once; a running one stops at its next stage."""
    if not can_manage_cycle(actor, run.cycle):
        raise PermissionDenied
    now = timezone.now()
    with transaction.atomic():
        run = MatchRun.objects.select_for_update().get(pk=run.pk)
        if run.status == RunStatus.QUEUED:
            run.status = RunStatus.CANCELLED
            run.finished_at = now
            run.cancel_requested_at = now
            run.save(update_fields=["status", "finished_at", "cancel_requested_at"])
            audit_record(
                actor=actor,
                action="match_run.cancelled",
                target=run,
                from_state=RunStatus.QUEUED,
                to_state=RunStatus.CANCELLED,
            )
        elif run.status == RunStatus.RUNNING:
            run.cancel_requested_at = now
            run.save(update_fields=["cancel_requested_at"])
            audit_record(actor=actor, action="match_run.cancel_requested", target=run)
        else:
            raise ValidationError(_("Only a queued or running run can be cancelled."))
    return run


def _stage(run_id: int, stage: str, progress: int, **values: Any) -> None:
    run_stage(MatchRun, run_id, stage, progress, **values)


def match_run_execute(*, run_id: int) -> MatchRun | None:
    """The background work of a run: build, solve, explain, save; cancel between stages."""
    with transaction.atomic():
        run = MatchRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != RunStatus.QUEUED:
            return run
        run.status = RunStatus.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at"])
        audit_record(
            actor=None,
            action="match_run.started",
            target=run,
            from_state=RunStatus.QUEUED,
            to_state=RunStatus.RUNNING,
        )
    started = time.perf_counter()
    try:
        _stage(run_id, "building", 10)
        built = selectors.build_instance(run.cycle)
        _stage(
            run_id,
            "solving",
            35,
            instance_json=built.text,
            instance_hash=built.hash,
            key=built.key,
            engine_version=engine.ENGINE_VERSION,
        )
        compiled = engine.compile_instance(engine.parse_instance(built.data))
        outcome = solve_compiled(compiled)
        _stage(run_id, "explaining", 65)
        result = build_result(compiled, outcome, explain=True)
        _stage(run_id, "saving", 85)
        result_text = result_json_text(result)
        statistics = selectors.run_statistics(
            built.data, engine.result_to_json(result, timing=False), built.key
        )
        statistics["solve_seconds"] = result.stats.seconds
        statistics["total_seconds"] = round(time.perf_counter() - started, 4)
        statistics["quotas"] = len(built.data.get("quotas", []))
    except RunCancelled:
        return _finish(run_id, RunStatus.CANCELLED, action="match_run.cancelled")
    except Exception as error:  # any failure is recorded on the run, not lost
        return _finish(run_id, RunStatus.FAILED, action="match_run.failed", error=repr(error))
    return _finish(
        run_id,
        RunStatus.DONE,
        action="match_run.done",
        result_json=result_text,
        statistics=statistics,
        stage=RunStage.FINISHED,
        progress=100,
    )


def result_json_text(result: engine.Result) -> str:
    """The stored result: the engine's JSON without timing, compact, in its key order."""
    import json

    return json.dumps(
        engine.result_to_json(result, timing=False), separators=(",", ":"), ensure_ascii=False
    )


def _finish(run_id: int, status: str, *, action: str, **values: Any) -> MatchRun:
    with transaction.atomic():
        run = MatchRun.objects.select_for_update().get(pk=run_id)
        source = run.status
        run.status = status
        run.finished_at = timezone.now()
        for field, value in values.items():
            setattr(run, field, value)
        run.save()
        audit_record(
            actor=None,
            action=action,
            target=run,
            from_state=source,
            to_state=status,
            data={"error": values["error"]} if "error" in values else None,
        )
    return run


# --------------------------------------------------------------------------- release


class _Explanation:
    """A person's explanation, rendered when ``str()`` is called: in the language
    ``notify_users`` activates for each recipient."""

    def __init__(self, entry: dict[str, Any], labels: dict[str, str]) -> None:
        self.entry, self.labels = entry, labels

    def __str__(self) -> str:
        return " ".join(selectors.explanation_sentences(self.entry, self.labels))


def match_run_release(*, run: MatchRun, actor: Any) -> MatchCycle:
    """Release a done run: places (binding) or offers (non-binding), then the post-match
    round. Unmatched applications stay awaiting a decision."""
    cycle = run.cycle
    if not can_manage_cycle(actor, cycle):
        raise PermissionDenied
    now = timezone.now()
    with transaction.atomic():
        cycle = _locked(cycle)
        run = MatchRun.objects.select_for_update().get(pk=run.pk)
        if run.cycle_id != cycle.pk:
            raise PermissionDenied
        if cycle.released_run_id is not None:
            raise ValidationError(_("This cycle's results were already released."), code="done")
        if cycle.status != C.CLOSED:
            raise ValidationError(
                _("Close the ranking before releasing the results."), code="not_closed"
            )
        if run.status != RunStatus.DONE:
            raise ValidationError(_("Only a finished run can be released."), code="not_done")
        # Session rows in primary-key order, before any application: the same order for
        # every release, and session-before-application like the applications' services.
        list(
            Session.objects.select_for_update()
            .filter(pk__in=cycle.sessions.values("pk"))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if selectors.build_instance(cycle).hash != run.instance_hash:
            raise ValidationError(
                _(
                    "Rankings or places changed since this run. Start a new run and "
                    "release that one."
                ),
                code="stale",
            )
        _cycle_move(
            cycle,
            to=C.RELEASED,
            actor=actor,
            action="match_cycle.released",
            released_at=now,
            released_run=run,
        )
        result = selectors.result_of(run)
        matches = [
            (selectors.session_of(program), run.key[person][program])
            for person, program in result["matching"].items()
            if program is not None
        ]
        reason = _("Matched in %(cycle)s.") % {"cycle": cycle.name}
        for _session_id, application_id in sorted(matches):
            application = Application.objects.get(pk=application_id)
            if cycle.binding:
                application_services.application_place_by_match(
                    application=application, actor=actor, reason=reason
                )
            else:
                application_services.application_offer(
                    application=application, actor=None, reason=reason
                )
        audit_record(
            actor=actor,
            action="match_run.released",
            target=run,
            data={"matched": len(matches), "binding": cycle.binding},
        )
        _cycle_move(cycle, to=C.POST_MATCH, actor=actor, action="match_cycle.post_match_opened")
        _tell_people(cycle, run, result)
        _tell_hosts(cycle, run)
    return cycle


def _tell_people(cycle: MatchCycle, run: MatchRun, result: dict[str, Any]) -> None:
    explained = result.get("explanations", {}).get("applicants", {})
    programs = {program for choices in run.key.values() for program in choices}
    labels = selectors.session_labels(programs)
    users = {
        selectors.person_id(user.pk): user
        for user in User.objects.filter(
            pk__in=[int(person.removeprefix("u")) for person in result["matching"]], is_active=True
        )
    }
    unfilled = selectors.unfilled_sessions(cycle)
    unfilled_labels = selectors.session_labels(selectors.program_id(s.pk) for s, _n in unfilled)
    open_places = "; ".join(
        f"{unfilled_labels.get(selectors.program_id(s.pk), s)} ({n})" for s, n in unfilled
    )
    for person, program in result["matching"].items():
        user = users.get(person)
        if user is None:
            continue
        notify_users(
            users=[user],
            message=gettext_noop("Match results of %(cycle)s: %(explanation)s"),
            params={"cycle": cycle.name, "explanation": _Explanation(explained[person], labels)},
            url=cycle.get_absolute_url(),
            email_template=EMAIL_TEMPLATE,
            email_context={"cycle": cycle.name},
        )
        if program is None and unfilled:
            notify_users(
                users=[user],
                message=gettext_noop(
                    "The post-match round of %(cycle)s is open. Sessions with places left: "
                    "%(sessions)s. Their hosts may now offer you a place directly."
                ),
                params={"cycle": cycle.name, "sessions": open_places},
                url=cycle.get_absolute_url() + "post-match/",
            )


def _tell_hosts(cycle: MatchCycle, run: MatchRun) -> None:
    by_host: dict[int, list[selectors.SessionResult]] = {}
    for row in selectors.session_results(run, selectors.cycle_sessions(cycle)):
        by_host.setdefault(row.session.opportunity.host_id, []).append(row)
    for host_id, rows in by_host.items():
        people = User.objects.filter(
            is_active=True,
            institution_roles__institution_id=host_id,
            institution_roles__role__in=HOST_ROLES,
        ).distinct()
        notify_users(
            users=people,
            message=gettext_noop(
                "Match results of %(cycle)s are released: %(filled)s of %(places)s places of "
                "your sessions are filled."
            ),
            params={
                "cycle": cycle.name,
                "filled": sum(row.filled for row in rows),
                "places": sum(row.places for row in rows),
            },
            url=cycle.get_absolute_url(),
        )


# --------------------------------------------------------------------------- replay


@dataclass
class ReplayVerdict:
    hash_matches: bool
    result_matches: bool
    engine_version: str
    stored_engine_version: str

    @property
    def ok(self) -> bool:
        return self.hash_matches and self.result_matches


def match_run_replay(*, run: MatchRun) -> ReplayVerdict:
    """Solve the stored instance again: same hash, and the same result bytes (no timing).

    A read: nothing is written.
    """
    if run.status != RunStatus.DONE:
        raise ValidationError(_("Only a finished run can be replayed."), code="not_done")
    data = selectors.instance_of(run)
    hash_matches = selectors.sha256(selectors.canonical_json(data)) == run.instance_hash
    result = engine.solve(engine.parse_instance(data))
    return ReplayVerdict(
        hash_matches=hash_matches,
        result_matches=result_json_text(result) == run.result_json,
        engine_version=engine.ENGINE_VERSION,
        stored_engine_version=run.engine_version,
    )
