"""Scholarship objects of the security walk's world, made on demand (tests/security).

An open call of the global network on the funding walk's fund, the applicant's request
from their application to institution A's session, a committed award of it and a done
allocation run. The applicant and the global network's staff see the request and the
award; institution A's coordinator (the host) and B's are strangers to them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

POLICY_CALL = "Policy walk call"


def policy_call(world: Any) -> Any:
    from django.utils import timezone

    from medexchange.scholarships.models import ScholarshipCall
    from tests.funding.policy_world import policy_fund

    now = timezone.now()
    call, created = ScholarshipCall.objects.get_or_create(
        network=world.network,
        title=POLICY_CALL,
        defaults={
            "currency": "EUR",
            "amount_min": Decimal("50.00"),
            "amount_max": Decimal("500.00"),
            "covers": ["travel"],
            "opens_at": now - dt.timedelta(days=1),
            "closes_at": now + dt.timedelta(days=60),
            "status": "open",
        },
    )
    if created:
        call.funds.add(policy_fund(world))
    return call


def policy_request(world: Any, application: Any) -> Any:
    from medexchange.scholarships.models import ScholarshipRequest

    return ScholarshipRequest.objects.get_or_create(
        call=policy_call(world),
        application=application,
        defaults={
            "need_statement": "Policy walk need.",
            "amount": Decimal("200.00"),
            "covers": ["travel"],
            "status": "awarded",
        },
    )[0]


def policy_award(world: Any, application: Any) -> Any:
    from medexchange.scholarships.models import Award

    request = policy_request(world, application)
    return Award.objects.get_or_create(
        request=request,
        defaults={"amount": Decimal("200.00"), "currency": "EUR", "status": "committed"},
    )[0]


def policy_run(world: Any, application: Any) -> Any:
    from medexchange.scholarships.models import AllocationRun

    call = policy_call(world)
    return AllocationRun.objects.get_or_create(
        call=call, defaults={"status": "done", "input": {}, "result": {"status": "optimal"}}
    )[0]
