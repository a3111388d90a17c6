"""Demo agreements: a handful of bilateral agreements in every status, one network-wide,
quotas, and demo applications under the active ones (consistently with their quotas), so
the ledger and the reciprocity page show real balances. Deterministic per seed; bulk."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.accounts.models import InstitutionRole
from medexchange.agreements import years
from medexchange.agreements.choices import AgreementStatus, QuotaUnit, Side
from medexchange.agreements.models import Agreement, Quota
from medexchange.agreements.selectors import CLAIM_STATES, need_of
from medexchange.applications.models import Application, Placement
from medexchange.common.models import AuditEntry
from medexchange.network.demo import DEMO_NETWORK_SLUGS, DEMO_USER_DOMAIN, GLOBAL_SLUG
from medexchange.network.models import Institution, Network

S = AgreementStatus
DEMO_TITLE_SUFFIX = " (demo)"
REASONS: dict[str, str] = {
    S.DECLINED: "Our wards cannot take more students this year.",
    S.TERMINATED: "The partner's programme was closed.",
}


@dataclass(frozen=True)
class DemoAgreementsSummary:
    agreements: int
    attached: int
    statuses: dict[str, int]


def delete_demo_agreements() -> int:
    """Delete the demo agreements and their audit trail (call after the applications)."""
    agreements = Agreement.objects.filter(
        Q(title__endswith=DEMO_TITLE_SUFFIX) | Q(network__slug__in=DEMO_NETWORK_SLUGS)
    )
    ids = list(agreements.values_list("pk", flat=True))
    Application.objects.filter(agreement_id__in=ids).update(agreement=None)
    AuditEntry.objects.filter(
        target_type=ContentType.objects.get_for_model(Agreement),
        target_id__in=[str(pk) for pk in ids],
    ).delete()
    Quota.objects.filter(agreement_id__in=ids).delete()
    return Agreement.objects.filter(pk__in=ids).delete()[0]


def _partners(role_id: int) -> list[int]:
    """Institutions exchanging the most demo placements with the role institution."""
    pairs: Counter[int] = Counter()
    rows = Placement.objects.filter(released_at__isnull=True).values_list(
        "application__home_institution_id", "session__opportunity__host_id"
    )
    for home, host in rows.filter(
        Q(application__home_institution_id=role_id) | Q(session__opportunity__host_id=role_id)
    ):
        other = host if home == role_id else home
        if other is not None and other != role_id:
            pairs[other] += 1
    return [pk for pk, _count in sorted(pairs.items(), key=lambda item: (-item[1], item[0]))]


@transaction.atomic
def build_demo_agreements(*, seed: int) -> DemoAgreementsSummary:
    rng = random.Random(seed)  # noqa: S311 - determinism, not security
    coordinator_role = (
        InstitutionRole.objects.filter(
            user__email=f"coordinator@{DEMO_USER_DOMAIN}", role=InstitutionRoleKind.COORDINATOR
        )
        .select_related("institution", "user")
        .first()
    )
    network = Network.objects.filter(slug=GLOBAL_SLUG).first()
    if coordinator_role is None or network is None:
        return DemoAgreementsSummary(0, 0, {})
    role = coordinator_role.institution
    user = coordinator_role.user
    partners = _partners(role.pk)
    members = list(
        Institution.objects.filter(memberships__network=network, memberships__status="active")
        .exclude(pk__in=[role.pk, *partners])
        .order_by("pk")
        .values_list("pk", flat=True)[:12]
    )
    pool = partners + members
    this_year = years.academic_year_of(timezone.localdate())
    now = timezone.now()
    plans: list[tuple[str, int, int, int, int]] = [
        # status, partner index, first year, last year (offsets), quota per direction
        (S.ACTIVE, 0, -1, 2, 6),
        (S.ACTIVE, 1, 0, 1, 3),
        (S.PROPOSED, 2, 1, 3, 4),
        (S.DRAFT, 3, 1, 2, 2),
        (S.ACCEPTED, 4, 1, 3, 3),
        (S.EXPIRED, 5, -4, -2, 2),
        (S.DECLINED, 6, 0, 2, 5),
        (S.TERMINATED, 7, -1, 1, 2),
    ]
    institutions = Institution.objects.in_bulk(pool[: len(plans)])
    agreements: list[Agreement] = []
    for status, index, first, last, _amount in plans:
        if index >= len(pool):
            continue
        partner = institutions[pool[index]]
        approved = status not in {S.DRAFT}
        both = status in {S.ACTIVE, S.ACCEPTED, S.EXPIRED, S.TERMINATED}
        agreements.append(
            Agreement(
                title=f"{role.name} / {partner.name}{DEMO_TITLE_SUFFIX}",
                party_a=role,
                party_b=partner,
                first_year=this_year + first,
                last_year=this_year + last,
                tuition_waiver=rng.random() < 0.7,
                other_terms="Housing help for incoming participants; joint teaching days.",
                unit=QuotaUnit.PARTICIPANTS if index != 1 else QuotaUnit.PERSON_MONTHS,
                tolerance=rng.choice([0, 1, 2]),
                status=status,
                proposed_by_side=Side.A if approved else "",
                a_approved_at=now if approved else None,
                a_approved_by=user if approved else None,
                b_approved_at=now if both else None,
                status_reason=REASONS.get(status, ""),
                created_by=user,
            )
        )
    agreements.append(
        Agreement(
            title=f"{network.name} reciprocity terms{DEMO_TITLE_SUFFIX}",
            network=network,
            first_year=this_year - 1,
            last_year=this_year + 2,
            tuition_waiver=True,
            tolerance=3,
            status=S.ACTIVE,
            proposed_by_side=Side.NETWORK,
            a_approved_at=now,
            b_approved_at=now,
        )
    )
    Agreement.objects.bulk_create(agreements)
    saved = list(Agreement.objects.filter(title__endswith=DEMO_TITLE_SUFFIX).order_by("pk"))
    amounts = {plan[0]: plan[4] for plan in plans}
    quotas: list[Quota] = []
    for agreement in saved:
        if agreement.is_network_wide:
            quotas.append(Quota(agreement=agreement, amount=2))
            continue
        amount = amounts.get(agreement.status, 2)
        if agreement.is_person_months:
            amount *= 2
        quotas.append(
            Quota(agreement=agreement, sender=role, host=agreement.party_b, amount=amount)
        )
        quotas.append(
            Quota(agreement=agreement, sender=agreement.party_b, host=role, amount=amount)
        )
    Quota.objects.bulk_create(quotas)
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=None,
                action="agreement.created",
                target_type=ContentType.objects.get_for_model(Agreement),
                target_id=str(agreement.pk),
                target_repr=str(agreement)[:255],
                to_state=agreement.status,
                data={"demo": True},
            )
            for agreement in saved
        ]
    )
    attached = _attach_demo_applications(saved)
    return DemoAgreementsSummary(
        agreements=len(saved),
        attached=attached,
        statuses=dict(Counter(agreement.status for agreement in saved)),
    )


def _attach_demo_applications(agreements: list[Agreement]) -> int:
    """Put demo applications between active bilateral parties under their agreement, up
    to each direction's quota per year (seats first, then open claims)."""
    attach: dict[int, list[int]] = defaultdict(list)
    for agreement in agreements:
        if agreement.status != S.ACTIVE or agreement.is_network_wide:
            continue
        quotas: dict[tuple[Any, ...], int] = {
            (q.sender_id, q.host_id): q.amount for q in agreement.quotas.all()
        }
        candidates = (
            Application.objects.filter(
                Q(home_institution=agreement.party_a, session__opportunity__host=agreement.party_b)
                | Q(
                    home_institution=agreement.party_b,
                    session__opportunity__host=agreement.party_a,
                ),
                session__start_date__gte=agreement.starts_on,
                session__start_date__lte=agreement.ends_on,
                agreement__isnull=True,
            )
            .filter(
                Q(state__in=sorted(CLAIM_STATES))
                | Q(placement__isnull=False, placement__released_at__isnull=True)
            )
            .select_related("session", "session__opportunity")
            .order_by("-placement__created_at", "pk")
        )
        used: dict[tuple[Any, ...], Any] = defaultdict(int)
        for application in candidates:
            key = (application.home_institution_id, application.session.opportunity.host_id)
            year = years.academic_year_of(application.session.start_date)
            need = need_of(application, agreement.unit)
            if used[(*key, year)] + need > quotas.get(key, 0):
                continue
            used[(*key, year)] += need
            attach[agreement.pk].append(application.pk)
    for agreement_pk, ids in attach.items():
        Application.objects.filter(pk__in=ids).update(agreement_id=agreement_pk)
    return sum(len(ids) for ids in attach.values())
