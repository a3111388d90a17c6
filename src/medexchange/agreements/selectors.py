"""Reads of agreements: quota usage, the caps a match cycle must respect, the ledger.

Nothing here is stored: quota usage and balances are derived from applications and
placements on each read, in a bounded number of queries (rows are grouped in SQL by
direction and session, person-months are summed per session in Python).

**What uses a quota.** An application under the agreement (``Application.agreement``)
claims a place while it waits for the host's decision (submitted, endorsed, under
review), while it holds an open offer, and while it holds a seat (a placement not
released). A waitlisted, declined or withdrawn application claims nothing. On
acceptance the application must fit beside the seats others hold under the quota
(``services.agreement_recheck``), or it goes on without the agreement.
Every quota an application matches is a cap it must fit under.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from medexchange.agreements import years
from medexchange.agreements.choices import AgreementStatus, QuotaUnit
from medexchange.agreements.models import Agreement, Quota
from medexchange.applications.choices import ApplicationState
from medexchange.applications.models import Application, Placement
from medexchange.catalog.models import Session
from medexchange.network.choices import MembershipStatus
from medexchange.network.models import Institution, Membership, Network

A = ApplicationState
DAYS_PER_PERSON_MONTH = Decimal(30)
#: States in which an application under an agreement claims a quota place (besides a seat).
CLAIM_STATES = frozenset({A.SUBMITTED, A.ENDORSED, A.UNDER_REVIEW, A.OFFERED})
ZERO = Decimal(0)


def person_months(start: dt.date, end: dt.date) -> Decimal:
    """A placement's length in days (both ends included) / 30, rounded to one decimal."""
    days = (end - start).days + 1
    return (Decimal(days) / DAYS_PER_PERSON_MONTH).quantize(Decimal("0.1"), ROUND_HALF_UP)


def in_year(prefix: str, year: int) -> Q:
    """Sessions (reached through ``prefix``) starting in academic year ``year``."""
    return Q(
        **{
            f"{prefix}start_date__gte": years.year_starts(year),
            f"{prefix}start_date__lte": years.year_ends(year),
        }
    )


def active_member_ids(network_id: int) -> set[int]:
    return set(
        Membership.objects.filter(
            network_id=network_id, status=MembershipStatus.ACTIVE
        ).values_list("institution_id", flat=True)
    )


# --------------------------------------------------------------------------- quota usage


@dataclass(frozen=True)
class UsageRow:
    """Claims grouped by direction and session: ``count`` applications of one session."""

    agreement_id: int
    sender_id: int
    host_id: int
    start: dt.date
    end: dt.date
    level: str
    specialty_id: int
    count: int

    @property
    def year(self) -> int:
        return years.academic_year_of(self.start)

    def amount(self, unit: str) -> Decimal:
        if unit == QuotaUnit.PERSON_MONTHS:
            return person_months(self.start, self.end) * self.count
        return Decimal(self.count)


def claims(agreement_ids: Collection[int], *, seats_only: bool = False) -> QuerySet[Application]:
    """Applications under these agreements that claim a quota place now (``seats_only``:
    those holding a seat, which is what an acceptance must fit beside)."""
    seat = Q(placement__isnull=False, placement__released_at__isnull=True)
    condition = seat if seats_only else Q(state__in=sorted(CLAIM_STATES)) | seat
    return Application.objects.filter(agreement_id__in=agreement_ids).filter(condition)


def usage_rows(
    agreement_ids: Collection[int], *, exclude: Collection[int] = (), seats_only: bool = False
) -> list[UsageRow]:
    """One query: the claims of these agreements, grouped by direction and session."""
    rows = (
        claims(agreement_ids, seats_only=seats_only)
        .exclude(pk__in=list(exclude))
        .values(
            "agreement_id",
            "home_institution_id",
            "session__opportunity__host_id",
            "session__start_date",
            "session__end_date",
            "session__opportunity__level",
            "session__opportunity__specialty_id",
        )
        .annotate(count=Count("pk", distinct=True))
        .order_by()
    )
    return [
        UsageRow(
            agreement_id=row["agreement_id"],
            sender_id=row["home_institution_id"],
            host_id=row["session__opportunity__host_id"],
            start=row["session__start_date"],
            end=row["session__end_date"],
            level=row["session__opportunity__level"],
            specialty_id=row["session__opportunity__specialty_id"],
            count=row["count"],
        )
        for row in rows
        if row["home_institution_id"] is not None
    ]


def quota_used(
    quota: Quota, rows: Iterable[UsageRow], *, sender_id: int, host_id: int, year: int, unit: str
) -> Decimal:
    """What the claims in ``rows`` use of ``quota`` in one direction and year."""
    return sum(
        (
            row.amount(unit)
            for row in rows
            if row.agreement_id == quota.agreement_id
            and row.sender_id == sender_id
            and row.host_id == host_id
            and row.year == year
            and quota.covers(
                sender_id=sender_id,
                host_id=host_id,
                year=year,
                level=row.level,
                specialty_id=row.specialty_id,
            )
        ),
        ZERO,
    )


def need_of(application: Application, unit: str) -> Decimal:
    """What one application takes from a quota, in the agreement's unit."""
    session = application.session
    if unit == QuotaUnit.PERSON_MONTHS:
        return person_months(session.start_date, session.end_date)
    return Decimal(1)


@dataclass(frozen=True)
class Facts:
    """What decides which quotas an application falls under."""

    sender_id: int
    host_id: int
    year: int
    level: str
    specialty_id: int

    def matching(self, quotas: Iterable[Quota]) -> list[Quota]:
        return [
            quota
            for quota in quotas
            if quota.covers(
                sender_id=self.sender_id,
                host_id=self.host_id,
                year=self.year,
                level=self.level,
                specialty_id=self.specialty_id,
            )
        ]


def facts_of(application: Application, *, home_id: int | None = None) -> Facts | None:
    sender = home_id if home_id is not None else application.home_institution_id
    if sender is None:
        return None
    opportunity = application.session.opportunity
    return Facts(
        sender_id=sender,
        host_id=opportunity.host_id,
        year=years.academic_year_of(application.session.start_date),
        level=opportunity.level,
        specialty_id=opportunity.specialty_id,
    )


def covering_agreements(facts: Facts, *, status: str = AgreementStatus.ACTIVE) -> list[Agreement]:
    """Agreements in ``status`` between the sender and the host valid in the year:
    bilateral ones first, then network-wide ones whose network has both as active members."""
    if facts.sender_id == facts.host_id:
        return []
    pair = Q(party_a_id=facts.sender_id, party_b_id=facts.host_id) | Q(
        party_a_id=facts.host_id, party_b_id=facts.sender_id
    )
    both_members = Membership.objects.filter(
        institution_id=facts.host_id, status=MembershipStatus.ACTIVE
    ).values("network_id")
    sender_networks = Membership.objects.filter(
        institution_id=facts.sender_id,
        status=MembershipStatus.ACTIVE,
        network_id__in=both_members,
    ).values("network_id")
    found = Agreement.objects.filter(
        pair | Q(network_id__in=sender_networks),
        status=status,
        first_year__lte=facts.year,
        last_year__gte=facts.year,
    ).prefetch_related("quotas")
    return sorted(found, key=lambda agreement: (agreement.is_network_wide, agreement.pk))


# --------------------------------------------------------------------------- for match cycles


@dataclass(frozen=True)
class QuotaCap:
    """At most ``capacity`` of ``application_ids`` may be placed in ``session_ids``."""

    id: str  # stable: "agreement-12-quota-3-2026" (+ "-<sender>-<host>" for pair quotas)
    capacity: int
    session_ids: tuple[int, ...]
    application_ids: tuple[int, ...]


def match_quota_caps(
    *, sessions: Iterable[Session], applications: Iterable[Application]
) -> list[QuotaCap]:
    """The quota caps over a match cycle's sessions and applications, ordered by id.

    A cap covers the given applications *under* an active agreement
    (``Application.agreement``, set at submission) that match the quota, and the given
    sessions of the quota's host, year, level and specialty. Its capacity is the quota's
    amount less what applications outside the given ones already claim. Person-month
    quotas: remaining person-months // the longest covered session's person-months
    (so the cap never lets the quota overrun). Quotas covering nothing are left out.
    """
    sessions = list(sessions)
    applications = sorted(applications, key=lambda application: application.pk)
    agreement_ids = {a.agreement_id for a in applications if a.agreement_id is not None}
    if not agreement_ids or not sessions:
        return []
    agreements = {
        agreement.pk: agreement
        for agreement in Agreement.objects.filter(
            pk__in=agreement_ids, status=AgreementStatus.ACTIVE
        ).prefetch_related("quotas")
    }
    session_facts = {
        session.pk: (
            session.opportunity.host_id,
            years.academic_year_of(session.start_date),
            session.opportunity.level,
            session.opportunity.specialty_id,
            person_months(session.start_date, session.end_date),
        )
        for session in Session.objects.filter(pk__in=[s.pk for s in sessions]).select_related(
            "opportunity"
        )
    }
    rows = usage_rows(list(agreements), exclude=[a.pk for a in applications])
    # (quota, year, sender, host) → covered application ids
    covered: dict[tuple[int, int, int, int], list[int]] = defaultdict(list)
    quotas: dict[int, Quota] = {}
    for application in applications:
        agreement = agreements.get(application.agreement_id or 0)
        facts = facts_of(application)
        if agreement is None or facts is None:
            continue
        for quota in facts.matching(agreement.quotas.all()):
            quotas[quota.pk] = quota
            covered[(quota.pk, facts.year, facts.sender_id, facts.host_id)].append(application.pk)
    caps: list[QuotaCap] = []
    for (quota_pk, year, sender_id, host_id), application_ids in sorted(covered.items()):
        quota = quotas[quota_pk]
        agreement = agreements[quota.agreement_id]
        session_ids = tuple(
            sorted(
                pk
                for pk, (host, session_year, level, specialty, _months) in session_facts.items()
                if host == host_id
                and session_year == year
                and quota.covers(
                    sender_id=sender_id,
                    host_id=host_id,
                    year=year,
                    level=level,
                    specialty_id=specialty,
                )
            )
        )
        if not session_ids:
            continue
        used = quota_used(
            quota, rows, sender_id=sender_id, host_id=host_id, year=year, unit=agreement.unit
        )
        remaining = max(Decimal(quota.amount) - used, ZERO)
        if agreement.is_person_months:
            per_place = max(session_facts[pk][4] for pk in session_ids) or Decimal(1)
            capacity = int(remaining // per_place)
        else:
            capacity = int(remaining)
        suffix = "" if quota.sender_id is not None else f"-{sender_id}-{host_id}"
        caps.append(
            QuotaCap(
                id=f"{quota.stable_id}-{year}{suffix}",
                capacity=capacity,
                session_ids=session_ids,
                application_ids=tuple(application_ids),
            )
        )
    return sorted(caps, key=lambda cap: cap.id)


# --------------------------------------------------------------------------- the agreement page


@dataclass(frozen=True)
class QuotaLine:
    quota: Quota
    year: int
    sender: Institution
    host: Institution
    used: Decimal
    remaining: Decimal

    @property
    def year_label(self) -> str:
        return years.year_label(self.year)


def quota_lines(agreement: Agreement) -> list[QuotaLine]:
    """Each quota's use per year of validity (and per direction used, for pair quotas)."""
    quotas = list(agreement.quotas.select_related("sender", "host", "specialty"))
    rows = usage_rows([agreement.pk])
    institutions = Institution.objects.in_bulk(
        {row.sender_id for row in rows} | {row.host_id for row in rows}
    )
    lines: list[QuotaLine] = []
    for quota in quotas:
        quota_years = [quota.academic_year] if quota.academic_year else list(agreement.years)
        if quota.sender is not None and quota.host is not None:
            directions = [(quota.sender, quota.host)]
        else:  # network-wide, per ordered pair: the pairs that used some
            directions = sorted(
                {
                    (institutions[row.sender_id], institutions[row.host_id])
                    for row in rows
                    if row.sender_id in institutions and row.host_id in institutions
                },
                key=lambda pair: (pair[0].name, pair[1].name),
            )
        for year in quota_years:
            for sender, host in directions:
                used = quota_used(
                    quota,
                    rows,
                    sender_id=sender.pk,
                    host_id=host.pk,
                    year=year,
                    unit=agreement.unit,
                )
                if quota.sender is None and not used:
                    continue
                lines.append(
                    QuotaLine(
                        quota=quota,
                        year=year,
                        sender=sender,
                        host=host,
                        used=used,
                        remaining=max(Decimal(quota.amount) - used, ZERO),
                    )
                )
    return lines


# --------------------------------------------------------------------------- the ledger


def held_placements() -> QuerySet[Placement]:
    """Seats held (placements not released), with the application's home institution."""
    return Placement.objects.filter(
        released_at__isnull=True, application__home_institution__isnull=False
    )


@dataclass
class SideBalance:
    institution: Institution
    hosted: int = 0
    sent: int = 0
    hosted_months: Decimal = ZERO
    sent_months: Decimal = ZERO
    balance: Decimal = ZERO
    behind: bool = False


@dataclass
class Ledger:
    agreement: Agreement
    year: int
    sides: list[SideBalance] = field(default_factory=list)

    @property
    def year_label(self) -> str:
        return years.year_label(self.year)

    @property
    def warnings(self) -> list[SideBalance]:
        return [side for side in self.sides if side.behind]


def _flows(placements: QuerySet[Placement]) -> list[tuple[int, int, int, Decimal]]:
    """(sender, host, placements, person-months) per direction: one query."""
    grouped = (
        placements.values(
            "application__home_institution_id",
            "session__opportunity__host_id",
            "session__start_date",
            "session__end_date",
        )
        .annotate(count=Count("pk"))
        .order_by()
    )
    totals: dict[tuple[int, int], list[Any]] = defaultdict(lambda: [0, ZERO])
    for row in grouped:
        key = (row["application__home_institution_id"], row["session__opportunity__host_id"])
        totals[key][0] += row["count"]
        months = person_months(row["session__start_date"], row["session__end_date"])
        totals[key][1] += months * row["count"]
    return [(s, h, n, m) for (s, h), (n, m) in sorted(totals.items())]


def agreement_ledger(agreement: Agreement, year: int) -> Ledger:
    """Per side: placements hosted and sent under the agreement in ``year``, and the
    balance (hosted - sent, in the agreement's unit); a side behind by more than the
    tolerance is flagged."""
    flows = _flows(
        held_placements().filter(in_year("session__", year), application__agreement=agreement)
    )
    ids = {agreement.party_a_id, agreement.party_b_id} - {None}
    for sender, host, _count, _months in flows:
        ids |= {sender, host}
    institutions = Institution.objects.in_bulk(ids)
    sides = {pk: SideBalance(institution=institution) for pk, institution in institutions.items()}
    for sender, host, count, months in flows:
        sides[sender].sent += count
        sides[sender].sent_months += months
        sides[host].hosted += count
        sides[host].hosted_months += months
    for side in sides.values():
        if agreement.is_person_months:
            side.balance = side.hosted_months - side.sent_months
        else:
            side.balance = Decimal(side.hosted - side.sent)
        side.behind = side.balance < -agreement.tolerance
    order = [agreement.party_a_id, agreement.party_b_id]
    ordered = sorted(
        sides.values(),
        key=lambda side: (
            order.index(side.institution.pk) if side.institution.pk in order else 2,
            side.institution.name,
        ),
    )
    return Ledger(agreement=agreement, year=year, sides=ordered)


def current_year() -> int:
    return years.academic_year_of(timezone.localdate())


def ledger_years(agreement: Agreement) -> list[int]:
    """The years of validity up to the current one (at least the first)."""
    last = min(agreement.last_year, max(current_year(), agreement.first_year))
    return list(range(agreement.first_year, last + 1))


# --------------------------------------------------------------------------- the network page


def reciprocity_networks(user: Any) -> QuerySet[Network]:
    """Networks whose reciprocity page ``user`` may read: staff, and members' coordinators."""
    if not user.is_authenticated:
        return Network.objects.none()
    if user.is_superuser:
        return Network.objects.all()
    condition = Q(
        memberships__status=MembershipStatus.ACTIVE,
        memberships__institution_id__in=user.coordinated_institution_ids(),
    )
    if user.is_network_staff:
        condition |= Q(pk__in=user.staffed_network_ids())
    return Network.objects.filter(condition).distinct()


@dataclass
class PairBalance:
    """Two members' exchange in a year; ``first`` is the one whose name sorts first."""

    first: Institution
    second: Institution
    first_to_second: int = 0
    second_to_first: int = 0
    first_to_second_months: Decimal = ZERO
    second_to_first_months: Decimal = ZERO

    @property
    def total(self) -> int:
        return self.first_to_second + self.second_to_first

    @property
    def balance(self) -> int:
        """The first's balance: hosted - sent."""
        return self.second_to_first - self.first_to_second


@dataclass
class FlowBand:
    sender: Institution
    host: Institution
    count: int
    months: Decimal


@dataclass
class NetworkReciprocity:
    network: Network
    year: int
    pairs: list[PairBalance]
    flows: list[FlowBand]

    @property
    def year_label(self) -> str:
        return years.year_label(self.year)


PAIR_SORTS = {
    "pair": lambda pair: (pair.first.name, pair.second.name),
    "total": lambda pair: (-pair.total, pair.first.name, pair.second.name),
    "balance": lambda pair: (-abs(pair.balance), pair.first.name, pair.second.name),
}


def network_reciprocity(network: Network, year: int, *, sort: str = "pair") -> NetworkReciprocity:
    """Every pair of active members that exchanged anyone in ``year`` (under an
    agreement or not): two queries, whatever the number of placements."""
    members = Membership.objects.filter(network=network, status=MembershipStatus.ACTIVE).values(
        "institution_id"
    )
    flows = _flows(
        held_placements().filter(
            in_year("session__", year),
            application__home_institution_id__in=members,
            session__opportunity__host_id__in=members,
        )
    )
    flows = [flow for flow in flows if flow[0] != flow[1]]
    institutions = Institution.objects.in_bulk({f[0] for f in flows} | {f[1] for f in flows})
    pairs: dict[tuple[int, int], PairBalance] = {}
    bands: list[FlowBand] = []
    for sender_id, host_id, count, months in flows:
        sender, host = institutions[sender_id], institutions[host_id]
        bands.append(FlowBand(sender=sender, host=host, count=count, months=months))
        first, second = sorted((sender, host), key=lambda inst: (inst.name, inst.pk))
        pair = pairs.setdefault((first.pk, second.pk), PairBalance(first=first, second=second))
        if sender == first:
            pair.first_to_second += count
            pair.first_to_second_months += months
        else:
            pair.second_to_first += count
            pair.second_to_first_months += months
    ordered = sorted(pairs.values(), key=PAIR_SORTS.get(sort, PAIR_SORTS["pair"]))
    bands.sort(key=lambda band: (band.sender.name, band.host.name))
    return NetworkReciprocity(network=network, year=year, pairs=ordered, flows=bands)


# --------------------------------------------------------------------------- the application page


@dataclass(frozen=True)
class Standing:
    """An application's place under agreements: under ``agreement``, or left out in ``year``."""

    agreement: Agreement | None
    year: int

    @property
    def year_label(self) -> str:
        return years.year_label(self.year)


def agreement_standing(application: Application) -> Standing | None:
    """Under which agreement the application is, or why it is not (from the audit log)."""
    from django.contrib.contenttypes.models import ContentType

    from medexchange.common.models import AuditEntry

    year = years.academic_year_of(application.session.start_date)
    if application.agreement_id is not None:
        return Standing(agreement=application.agreement, year=year)
    left_out = AuditEntry.objects.filter(
        target_type=ContentType.objects.get_for_model(Application),
        target_id=str(application.pk),
        action__in=["agreement.quota_used_up", "agreement.application_detached"],
    ).exists()
    return Standing(agreement=None, year=year) if left_out else None
