"""Demo match cycles for ``load_demo`` (ILLUSTRATIVE DEMO DATA), built after the applications.

- "Demo elective match (ranking open)": a cycle of the global demo network in its ranking
  window over up to three sessions of the demo role institution with applications
  awaiting a decision (Camila Rojas's submitted application first, when she has one), with
  every applicant's and the host's rankings filled in (the host leaves one unranked);
- "Demo elective match (released)": a binding cycle over two sessions of another demo
  host, with a done run released through the services: placements, explanations,
  post-match round. No e-mail is sent for demo data.

Deterministic for a seed: the only randomness is ``random.Random(seed)`` over rows read
in primary-key order.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q
from django.test.utils import override_settings
from django.utils import timezone

from medexchange.accounts.models import User
from medexchange.applications.choices import AWAITING_DECISION
from medexchange.applications.models import Application
from medexchange.catalog.models import Session
from medexchange.common.models import AuditEntry
from medexchange.matching import selectors, services
from medexchange.matching.choices import RankSide
from medexchange.matching.models import MatchCycle, MatchRun, Ranking
from medexchange.network.demo import DEMO_USER_DOMAIN, GLOBAL_SLUG
from medexchange.network.models import Network

RANKING_NAME = "Demo elective match (ranking open)"
RELEASED_NAME = "Demo elective match (released)"
DEMO_NAMES = (RANKING_NAME, RELEASED_NAME)


@dataclass
class DemoCyclesSummary:
    ranking_cycle: int | None = None
    released_cycle: int | None = None
    ranking_sessions: int = 0
    placed: int = 0


def delete_demo_cycles() -> int:
    """Delete the demo cycles, their rankings, runs and audit trail; call before the
    applications and the network go."""
    cycles = MatchCycle.objects.filter(name__in=DEMO_NAMES)
    cycle_ids = [str(pk) for pk in cycles.values_list("pk", flat=True)]
    run_ids = [
        str(pk) for pk in MatchRun.objects.filter(cycle__in=cycles).values_list("pk", flat=True)
    ]
    for model, keys in ((MatchCycle, cycle_ids), (MatchRun, run_ids)):
        AuditEntry.objects.filter(
            target_type=ContentType.objects.get_for_model(model), target_id__in=keys
        ).delete()
    cycles.update(released_run=None)
    cycles.delete()
    return len(cycle_ids)


def _awaiting_sessions(
    host_id: int | None = None, exclude_host: int | None = None
) -> list[Session]:
    """Sessions with at least two applications at the host awaiting a decision."""
    sessions = (
        Session.objects.scheduled()
        .filter(start_date__gt=timezone.localdate())
        .annotate(
            waiting=Count(
                "applications",
                filter=Q(
                    applications__state__in=AWAITING_DECISION,
                    applications__reached_host_at__isnull=False,
                ),
            )
        )
        .filter(waiting__gte=2)
        .order_by("pk")
    )
    if host_id is not None:
        sessions = sessions.filter(opportunity__host_id=host_id)
    if exclude_host is not None:
        sessions = sessions.exclude(opportunity__host_id=exclude_host)
    return list(sessions)


def _fill_rankings(cycle: MatchCycle, rng: random.Random) -> None:
    """Applicants shuffle their lists; hosts keep the score order but leave one out."""
    applications = list(cycle.applications().order_by("pk"))
    by_person: dict[int, list[int]] = defaultdict(list)
    for application in applications:
        assert application.applicant_id is not None  # noqa: S101 - cycle.applications()
        by_person[application.applicant_id].append(application.pk)
    rows: list[Ranking] = []
    for pks in by_person.values():
        rng.shuffle(pks)
        rows += [
            Ranking(cycle=cycle, application_id=pk, side=RankSide.APPLICANT, position=index)
            for index, pk in enumerate(pks, start=1)
        ]
    for session in selectors.cycle_sessions(cycle):
        order = selectors.host_order(cycle, session)
        ranked = [a.pk for a in order.ranked]
        unranked = [ranked.pop()] if len(ranked) > 3 else []
        rows += [
            Ranking(cycle=cycle, application_id=pk, side=RankSide.HOST, position=index)
            for index, pk in enumerate(ranked, start=1)
        ]
        rows += [
            Ranking(cycle=cycle, application_id=pk, side=RankSide.HOST, position=None)
            for pk in unranked
        ]
    Ranking.objects.bulk_create(rows)


def build_demo_cycles(*, seed: int, now: dt.datetime | None = None) -> DemoCyclesSummary:
    """Create the two demo cycles; the caller deletes earlier ones."""
    now = now or timezone.now()
    rng = random.Random(seed)  # noqa: S311 - seeded for reproducibility, not for secrets
    summary = DemoCyclesSummary()
    staff = User.objects.filter(email=f"staff@{DEMO_USER_DOMAIN}").first()
    network = Network.objects.filter(slug=GLOBAL_SLUG).first()
    coordinator = User.objects.filter(email=f"coordinator@{DEMO_USER_DOMAIN}").first()
    if staff is None or network is None:
        return summary
    role_host = (
        coordinator.institution_roles.values_list("institution_id", flat=True).first()
        if coordinator is not None
        else None
    )
    camila = User.objects.filter(email=f"applicant@{DEMO_USER_DOMAIN}").first()
    members = set(
        network.memberships.filter(status="active").values_list("institution_id", flat=True)
    )

    # 1. A cycle in its ranking window at the demo role institution, with Camila in it.
    role_sessions = (
        [s for s in _awaiting_sessions(host_id=role_host) if s.opportunity.host_id in members]
        if role_host is not None
        else []
    )
    if camila is not None:
        hers = set(
            Application.objects.filter(
                applicant=camila, state__in=AWAITING_DECISION, reached_host_at__isnull=False
            ).values_list("session_id", flat=True)
        )
        role_sessions.sort(key=lambda s: (s.pk not in hers, s.pk))
    chosen = role_sessions[:3]
    if chosen:
        cycle = services.match_cycle_create(
            actor=staff,
            network=network,
            name=RANKING_NAME,
            sessions=chosen,
            binding=True,
            reserved_places=1,
            ranking_opens_at=now - dt.timedelta(days=2),
            ranking_closes_at=now + dt.timedelta(days=12),
            results_planned_at=now + dt.timedelta(days=14),
        )
        services.match_cycle_act(cycle=cycle, actor=staff, verb="open")
        _fill_rankings(cycle, rng)
        summary.ranking_cycle = cycle.pk
        summary.ranking_sessions = len(chosen)

    # 2. A released cycle at another member host: two sessions, one done run.
    others = [
        s for s in _awaiting_sessions(exclude_host=role_host) if s.opportunity.host_id in members
    ]
    by_host: dict[int, list[Session]] = defaultdict(list)
    for session in others:
        by_host[session.opportunity.host_id].append(session)
    pairs = [sessions[:2] for _host, sessions in sorted(by_host.items()) if len(sessions) >= 2]
    if pairs:
        sessions = pairs[rng.randrange(len(pairs))]
        cycle = services.match_cycle_create(
            actor=staff,
            network=network,
            name=RELEASED_NAME,
            sessions=sessions,
            binding=True,
            ranking_opens_at=now - dt.timedelta(days=20),
            ranking_closes_at=now + dt.timedelta(hours=1),
            results_planned_at=now + dt.timedelta(days=1),
        )
        services.match_cycle_act(cycle=cycle, actor=staff, verb="open")
        _fill_rankings(cycle, rng)
        services.match_cycle_act(cycle=cycle, actor=staff, verb="close")
        run = services.match_run_start(cycle=cycle, actor=staff, kind="final")
        services.match_run_execute(run_id=run.pk)  # a no-op when its task already ran it
        run.refresh_from_db()
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            services.match_run_release(run=run, actor=staff)
        summary.released_cycle = cycle.pk
        summary.placed = int(run.statistics.get("placed", 0))
    return summary
