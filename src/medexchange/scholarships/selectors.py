"""Reads of scholarships: counts, the allocation page's rows, award money, and impact.

``impact_for_fund(fund)`` counts the participants a fund gives scholarships to, by
country and by program, and returns no identity: it is meant for public pages.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Q, Sum

from medexchange.catalog.choices import OpportunityKind, TrainingLevel
from medexchange.network.choices import EmStatus, IncomeGroup
from medexchange.scholarships import reasons
from medexchange.scholarships.choices import (
    GIVEN_AWARDS,
    PENDING_REQUESTS,
    AwardStatus,
    RequestStatus,
)
from medexchange.scholarships.models import (
    AllocationRun,
    Award,
    ScholarshipCall,
    ScholarshipRequest,
)

ZERO = Decimal(0)


def labels(choices: Any, values: Any) -> list[str]:
    names = dict(choices.choices)
    return [str(names.get(value, value)) for value in values or []]


def rule_labels(call: ScholarshipCall) -> dict[str, str]:
    """The call's eligibility rules in words (empty: any)."""
    return {
        "em": ", ".join(labels(EmStatus, call.eligible_em_statuses)),
        "income": ", ".join(labels(IncomeGroup, call.eligible_income_groups)),
        "levels": ", ".join(labels(TrainingLevel, call.eligible_training_levels)),
        "kinds": ", ".join(labels(OpportunityKind, call.eligible_opportunity_kinds)),
    }


def request_counts(call: ScholarshipCall) -> dict[str, int]:
    """Requests per status, by the status's label."""
    rows = call.requests.order_by().values("status").annotate(count=Count("pk"))
    names = dict(RequestStatus.choices)
    return {str(names.get(row["status"], row["status"])): row["count"] for row in rows}


@dataclass(frozen=True)
class FundLine:
    fund: Any
    available: Decimal
    held: Decimal
    committed: Decimal
    committed_here: Decimal


def call_funds(call: ScholarshipCall) -> list[FundLine]:
    """The call's funds with what each has available now and what this call holds of it."""
    from medexchange.funding.models import Commitment
    from medexchange.funding.selectors import fund_totals_many

    funds = list(call.funds.order_by("name", "pk"))
    totals = fund_totals_many(funds)
    here = dict(
        Commitment.objects.filter(awards__request__call=call, awards__status__in=GIVEN_AWARDS)
        .order_by()
        .values("fund_id")
        .annotate(total=Sum("amount"))
        .values_list("fund_id", "total")
    )
    return [
        FundLine(
            fund=fund,
            available=totals[fund.pk].available,
            held=totals[fund.pk].held,
            committed=totals[fund.pk].committed,
            committed_here=Decimal(here.get(fund.pk) or 0),
        )
        for fund in funds
    ]


def call_money(call: ScholarshipCall) -> dict[str, Decimal]:
    """Asked for, and given (committed or paid awards), in the call's currency."""
    asked = call.requests.exclude(status="withdrawn").aggregate(total=Sum("amount"))["total"]
    given = Award.objects.filter(request__call=call, status__in=GIVEN_AWARDS).aggregate(
        total=Sum("amount")
    )["total"]
    available = sum((line.available for line in call_funds(call)), ZERO)
    return {
        "asked": Decimal(asked or 0),
        "given": Decimal(given or 0),
        "available": available,
    }


@dataclass
class AllocationRow:
    """One request on the allocation page: its facts, the proposal and why."""

    request: ScholarshipRequest
    mean: Decimal | None
    review_count: int
    award: Award | None
    funded: bool | None  # None: not in the latest run
    reasoning: str
    shares: list[tuple[str, Decimal]] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        return self.request.status in PENDING_REQUESTS


def allocation_rows(call: ScholarshipCall, run: AllocationRun | None) -> list[AllocationRow]:
    """Every request of the call that is not withdrawn, highest mean score first."""
    fund_names = dict(call.funds.values_list("pk", "name"))
    requests = (
        call.requests.exclude(status="withdrawn")
        .select_related(
            "application__applicant",
            "application__home_country",
            "application__session__opportunity__host",
        )
        .annotate(mean=Avg("reviews__score"), review_count=Count("reviews"))
    )
    awards = {
        award.request_id: award
        for award in Award.objects.filter(request__call=call).exclude(
            status=AwardStatus.CANCELLED, request__status__in=PENDING_REQUESTS
        )
    }
    explanations = (run.result.get("explanations", {}) if run is not None else {}) or {}
    excluded = (run.excluded if run is not None else {}) or {}
    in_run = {item["id"] for item in (run.input.get("requests", []) if run else [])}
    rows = []
    for request in requests:
        key = str(request.pk)
        award = awards.get(request.pk)
        explanation = explanations.get(key) or excluded.get(key)
        funded: bool | None = None
        if key in in_run or key in excluded:
            funded = bool(explanation and explanation.get("funded"))
        text = (
            reasons.explain(
                explanation.get("reason_code", ""),
                explanation.get("params", {}),
                currency=call.currency,
            )
            if explanation
            else ""
        )
        annotated: Any = request
        rows.append(
            AllocationRow(
                request=request,
                mean=Decimal(str(annotated.mean)) if annotated.mean is not None else None,
                review_count=annotated.review_count,
                award=award,
                funded=funded,
                reasoning=text,
                shares=[
                    (
                        fund_names.get(int(share["fund"]), str(share["fund"])),
                        Decimal(share["amount"]),
                    )
                    for share in (award.shares if award is not None else [])
                ],
            )
        )
    rows.sort(
        key=lambda row: (
            not row.pending,
            -(row.mean if row.mean is not None else Decimal(-1)),
            row.request.pk,
        )
    )
    return rows


def run_conflicts(run: AllocationRun | None, currency: str) -> list[str]:
    """The committee's pins that cannot all hold, in words."""
    if run is None:
        return []
    return [
        reasons.explain_conflict(item.get("code", ""), item.get("params", {}), currency=currency)
        for item in run.result.get("conflicts", [])
    ]


def run_is_stale(call: ScholarshipCall, run: AllocationRun) -> bool:
    """Whether reviews, pins, amounts or requests changed since ``run``."""
    from medexchange.scholarships.services import allocation_instance

    return allocation_instance(call).differs_from(run)


# --------------------------------------------------------------------------- awards


@dataclass(frozen=True)
class ShareLine:
    commitment: Any
    fund: Any
    amount: Decimal
    outstanding: Decimal
    planned: Decimal


def award_shares(award: Award) -> list[ShareLine]:
    from medexchange.funding.choices import DisbursementStatus

    commitments = (
        award.commitments.select_related("fund")
        .with_outstanding()
        .annotate(
            planned_total=Sum(
                "disbursements__amount",
                filter=Q(disbursements__status=DisbursementStatus.PLANNED),
            )
        )
        .order_by("fund__name", "pk")
    )
    lines = []
    commitment: Any
    for commitment in commitments:
        lines.append(
            ShareLine(
                commitment=commitment,
                fund=commitment.fund,
                amount=commitment.amount,
                outstanding=commitment.outstanding,
                planned=Decimal(commitment.planned_total or 0),
            )
        )
    return lines


def award_disbursements(award: Award) -> list[Any]:
    from medexchange.funding.models import Disbursement

    return list(
        Disbursement.objects.filter(commitment__in=award.commitments.all())
        .select_related("commitment__fund")
        .order_by("created_at", "pk")
    )


def award_disbursement(award: Award, pk: Any) -> Any:
    from medexchange.funding.models import Disbursement

    try:
        number = int(pk)
    except (TypeError, ValueError):
        return None
    return (
        Disbursement.objects.filter(pk=number, commitment__in=award.commitments.all())
        .select_related("commitment__fund")
        .first()
    )


# --------------------------------------------------------------------------- impact


@dataclass(frozen=True)
class Impact:
    """What a fund achieved, without anybody's identity."""

    participants: int
    countries: list[tuple[str, int]]  # (country name, participants), most first
    programs: list[tuple[str, int]]  # (opportunity title, participants), most first

    @property
    def country_count(self) -> int:
        return len(self.countries)

    @property
    def program_count(self) -> int:
        return len(self.programs)


def impact_for_fund(fund: Any) -> Impact:
    """Participants given a scholarship from ``fund`` (committed or paid awards holding a
    commitment on it; released and cancelled ones do not count), by home country and by
    program (the opportunity), in one query. No names, no ids of people."""
    rows = (
        Award.objects.given()
        .filter(commitments__fund=fund)
        .order_by()
        .values(
            "request__application_id",
            "request__application__home_country__code",
            "request__application__session__opportunity__title",
        )
        .distinct()
    )
    countries: Counter[str] = Counter()
    programs: Counter[str] = Counter()
    participants = 0
    from django_countries import countries as country_names

    for row in rows:
        participants += 1
        code = row["request__application__home_country__code"]
        countries[str(country_names.name(code)) if code else ""] += 1
        programs[row["request__application__session__opportunity__title"] or ""] += 1
    countries.pop("", None)
    return Impact(
        participants=participants,
        countries=sorted(countries.items(), key=lambda item: (-item[1], item[0])),
        programs=sorted(programs.items(), key=lambda item: (-item[1], item[0])),
    )
