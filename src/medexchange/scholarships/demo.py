"""Demo scholarships for one network: two funds with gifts, a call, requests from the
network's submitted applications, the staff's scores and a proposed allocation.

Not wired into ``load_demo``; call it after the demo network and applications exist::

    import random
    from medexchange.network.models import Network
    from medexchange.scholarships.demo import build_demo_scholarships

    build_demo_scholarships(Network.objects.get(slug="global"), random.Random(7))

(for example in ``manage.py shell``). Everything goes through the services, so the
audit log, the funds' ledger and the allocation are real; deterministic for a seed.
``delete_demo_scholarships(network)`` removes the calls again (the funds' gifts stay:
ledger entries are never deleted).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from medexchange.accounts.models import User
from medexchange.applications.models import Application
from medexchange.network.choices import MembershipStatus
from medexchange.network.models import Membership, Network
from medexchange.scholarships import services
from medexchange.scholarships.eligibility import REQUESTABLE_STATES
from medexchange.scholarships.models import (
    AllocationRun,
    Award,
    RequestReview,
    ScholarshipCall,
    ScholarshipRequest,
)

DEMO_CALL_TITLE = "Travel and housing scholarships (demo)"
CURRENCY = "USD"
NEEDS = (
    "My hospital pays residents' salaries but not travel abroad; the flight costs two "
    "months of my salary.",
    "I can cover the fees, but not a month's rent in the host city.",
    "Our emergency department is new and has no budget for training; this stay would let "
    "me start the first ultrasound teaching programme in my region.",
    "I support my parents and cannot take unpaid leave without a stipend.",
    "The exchange rate doubled the cost of the trip since I applied.",
)


@dataclass(frozen=True)
class DemoScholarshipsSummary:
    call_id: int
    requests: int
    reviews: int
    proposed_awards: int
    run_status: str


def _staff(network: Network) -> list[User]:
    return list(
        User.objects.filter(is_active=True, network_staff_roles__network=network)
        .distinct()
        .order_by("pk")
    )


def _fund(network: Network, staff: User, rng: random.Random, **values: Any) -> Any:
    from medexchange.funding import services as funding
    from medexchange.funding.models import Fund

    fund = Fund.objects.filter(network=network, slug=values["slug"]).first()
    if fund is None:
        fund = funding.fund_create(network=network, actor=staff, values=values)
        for index in range(rng.randint(4, 8)):
            funding.donation_record_offline(
                fund=fund,
                amount=Decimal(rng.choice([250, 500, 1000, 1500, 2500])),
                currency=CURRENCY,
                method=rng.choice(["cheque", "bank_transfer"]),
                donor_name=f"Demo donor {index + 1}",
                donor_email=f"donor{index + 1}@example.org",
                memo=values["name"],
                received_on=timezone.localdate() - dt.timedelta(days=rng.randint(1, 200)),
                actor=staff,
            )
    return fund


def delete_demo_scholarships(network: Network) -> int:
    """Remove the network's demo calls with their requests, reviews, runs and awards;
    returns how many calls went.

    Only proposals are removed (a demo never commits): committed money is history.
    """
    calls = ScholarshipCall.objects.filter(network=network, title=DEMO_CALL_TITLE)
    Award.objects.filter(request__call__in=calls, status="proposed").delete()
    RequestReview.objects.filter(request__call__in=calls).delete()
    ScholarshipRequest.objects.filter(call__in=calls, award__isnull=True).delete()
    AllocationRun.objects.filter(call__in=calls).delete()
    empty = list(calls.filter(requests__isnull=True).values_list("pk", flat=True))
    ScholarshipCall.objects.filter(pk__in=empty).delete()
    return len(empty)


@transaction.atomic
def build_demo_scholarships(network: Network, rng: random.Random) -> DemoScholarshipsSummary:
    """A call of ``network`` in review, with requests, scores and a proposal."""
    staff = _staff(network)
    if not staff:
        raise ValueError(f"The network {network.slug} has no staff to run its scholarships.")
    lead = staff[0]
    restricted = _fund(
        network,
        lead,
        rng,
        slug="demo-em-pioneers",
        name="EM Pioneers Fund (demo)",
        purpose="restricted",
        restriction="Residents from countries where Emergency Medicine is not yet established.",
        eligible_em_statuses=["not_recognised", "emerging"],
        currency=CURRENCY,
    )
    general = _fund(
        network,
        lead,
        rng,
        slug="demo-travel",
        name="Travel Fund (demo)",
        purpose="general",
        currency=CURRENCY,
    )
    now = timezone.now()
    call = services.call_create(
        network=network,
        actor=lead,
        values={
            "title": DEMO_CALL_TITLE,
            "description": "For participants whose home institution cannot pay their way.",
            "currency": CURRENCY,
            "eligible_em_statuses": [],
            "eligible_income_groups": [],
            "eligible_training_levels": [],
            "eligible_opportunity_kinds": [],
            "amount_min": "200.00",
            "amount_max": "2000.00",
            "covers": ["travel", "housing", "stipend"],
            "partial_awards": True,
            "opens_at": now - dt.timedelta(days=10),
            "closes_at": now + dt.timedelta(days=20),
        },
        funds=[restricted, general],
    )
    services.call_move(call=call, to="open", actor=lead)
    members = Membership.objects.filter(network=network, status=MembershipStatus.ACTIVE).values(
        "institution_id"
    )
    applications = list(
        Application.objects.filter(
            state__in=REQUESTABLE_STATES,
            applicant__isnull=False,
            session__opportunity__host_id__in=members,
        )
        .select_related("applicant", "session__opportunity", "home_country")
        .order_by("pk")[:200]
    )
    rng.shuffle(applications)
    requests: list[ScholarshipRequest] = []
    for application in applications:
        if len(requests) >= 30:
            break
        if services.eligibility_reasons(call, application, now=now):
            continue
        amount = Decimal(rng.randrange(200, 2001, 50))
        requests.append(
            services.scholarship_request_create(
                call=call,
                application=application,
                actor=application.applicant,
                need_statement=rng.choice(NEEDS),
                amount=amount,
                # Larger requests say two thirds (to 50) would still let them go.
                least_amount=(amount * 2 / 3 // 50) * 50 if amount >= 600 else None,
                covers=rng.sample(["travel", "housing", "stipend"], rng.randint(1, 3)),
                consent_public_name=rng.random() < 0.3,
                now=now,
            )
        )
    services.call_move(call=call, to="reviewing", actor=lead)
    reviews = 0
    for request in requests:
        for reviewer in staff[:3]:
            if request.application.applicant_id == reviewer.pk:
                continue
            services.request_review_save(
                request=request, actor=reviewer, score=rng.randint(3, 10), comment=""
            )
            reviews += 1
    run = services.allocation_propose(call=call, actor=lead)
    return DemoScholarshipsSummary(
        call_id=call.pk,
        requests=len(requests),
        reviews=reviews,
        proposed_awards=run.awards.count(),
        run_status=str(run.result.get("status", run.status)),
    )
