"""Match-cycle objects of the security walk's world, made on demand (tests/security).

A network cycle of the global network over institution A's session, in its ranking
window, holding the applicant's submitted application; and a done run of it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

POLICY_CYCLE = "Policy walk match cycle"


def policy_cycle(world: Any, application: Any) -> Any:
    from django.utils import timezone

    from medexchange.matching.models import MatchCycle

    now = timezone.now()
    cycle, created = MatchCycle.objects.get_or_create(
        name=POLICY_CYCLE,
        defaults={
            "network": world.network,
            "status": "ranking",
            "ranking_opens_at": now - dt.timedelta(days=1),
            "ranking_closes_at": now + dt.timedelta(days=7),
            "results_planned_at": now + dt.timedelta(days=8),
        },
    )
    if created:
        cycle.sessions.set([application.session_id])
    return cycle


def policy_run(world: Any, application: Any) -> Any:
    from medexchange.matching.models import MatchRun

    cycle = policy_cycle(world, application)
    run = MatchRun.objects.filter(cycle=cycle).first()
    if run is None:
        person, program = f"u{application.applicant_id}", f"p{application.session_id}"
        run = MatchRun.objects.create(
            cycle=cycle,
            kind="dry",
            status="done",
            progress=100,
            stage="finished",
            engine_version="1.0.0",
            instance_json=f'{{"applicants":[{{"id":"{person}","ranks":["{program}"]}}],'
            f'"programs":[{{"capacity":1,"id":"{program}","ranks":["{person}"]}}]}}',
            result_json=f'{{"matching":{{"{person}":"{program}"}},"unfilled":{{}},'
            '"stable":true,"instability":[],"stats":{}}',
            key={person: {program: application.pk}},
            statistics={"people": 1, "places": 1, "placed": 1, "unmatched": []},
        )
    return run


def policy_ranking(world: Any, application: Any) -> Any:
    from medexchange.matching.models import Ranking

    return Ranking.objects.get_or_create(
        cycle=policy_cycle(world, application),
        application=application,
        side="applicant",
        defaults={"position": 1},
    )[0]
