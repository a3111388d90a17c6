"""A demo rotation plan for ``load_demo`` (ILLUSTRATIVE DEMO DATA), built after the cycles.

One exchange-program session with seats taken (the demo coordinator's institution's when
it has one, else the first in primary-key order) gets a plan through the services:
its sites and participants, a wish or two per participant, and a solve with a short time
limit run in-process. When no exchange-program session has a seat taken, there is no demo
plan (the demo applications take seats in the flagship program for the seeds used).

Deterministic for a seed: the only randomness is ``random.Random(seed)`` over rows read
in primary-key order.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.test.utils import override_settings

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.accounts.models import InstitutionRole, User
from medexchange.catalog.choices import OpportunityKind
from medexchange.catalog.models import Session
from medexchange.common.models import AuditEntry
from medexchange.network.demo import DEMO_USER_DOMAIN
from medexchange.scheduling import selectors, services
from medexchange.scheduling.choices import PlanStatus
from medexchange.scheduling.models import PlanSolve, RotationPlan

#: The demo's solve stays short: ``load_demo`` must stay fast.
DEMO_SOLVE_SECONDS = 3


@dataclass
class DemoPlansSummary:
    plan: int | None = None
    participants: int = 0
    status: str = ""


def _demo_plans() -> list[RotationPlan]:
    return list(
        RotationPlan.objects.filter(
            session__opportunity__host__in=_demo_host_ids(),
        )
    )


def _demo_host_ids() -> list[int]:
    from medexchange.catalog.demo import _demo_institutions

    return list(_demo_institutions().values_list("pk", flat=True))


def delete_demo_plans() -> int:
    """Delete the demo institutions' plans, their solves and audit trail; call before the
    applications and the catalog go."""
    plans = _demo_plans()
    plan_ids = [str(plan.pk) for plan in plans]
    solve_ids = [
        str(pk) for pk in PlanSolve.objects.filter(plan__in=plans).values_list("pk", flat=True)
    ]
    for model, keys in ((RotationPlan, plan_ids), (PlanSolve, solve_ids)):
        AuditEntry.objects.filter(
            target_type=ContentType.objects.get_for_model(model), target_id__in=keys
        ).delete()
    RotationPlan.objects.filter(pk__in=[plan.pk for plan in plans]).delete()
    return len(plan_ids)


def _candidates() -> list[Session]:
    return list(
        Session.objects.scheduled()
        .filter(opportunity__kind=OpportunityKind.EXCHANGE_PROGRAM, rotation_plan__isnull=True)
        .annotate(
            n_sites=Count("opportunity__sites", distinct=True),
            seats=Count(
                "placements",
                filter=Q(
                    placements__released_at__isnull=True,
                    placements__application__state__in=selectors.PLAN_SEAT_STATES,
                ),
                distinct=True,
            ),
        )
        .filter(n_sites__gte=2)
        .select_related("opportunity")
        .order_by("pk")
    )


def build_demo_plans(*, seed: int) -> DemoPlansSummary:
    """Create and solve the demo plan; the caller deletes earlier ones."""
    rng = random.Random(seed)  # noqa: S311 - seeded for reproducibility, not for secrets
    summary = DemoPlansSummary()
    coordinator = User.objects.filter(email=f"coordinator@{DEMO_USER_DOMAIN}").first()
    if coordinator is None:
        return summary
    own = set(coordinator.coordinated_institution_ids())
    sessions = [s for s in _candidates() if getattr(s, "seats", 0) > 0]
    # The coordinator's own program first, then the one with the most participants.
    sessions.sort(key=lambda s: (s.opportunity.host_id not in own, -getattr(s, "seats", 0), s.pk))
    if not sessions:
        return summary
    session = sessions[0]
    actor = (
        coordinator
        if session.opportunity.host_id in own
        else User.objects.filter(
            institution_roles__institution_id=session.opportunity.host_id,
            institution_roles__role="coordinator",
        ).first()
    )
    if actor is None:  # no coordinator at that host: a superuser-free demo has no other
        actor = User.objects.filter(is_superuser=True).first()
    if actor is None:
        return summary
    try:
        plan = services.rotation_plan_create(session=session, actor=actor)
    except (ValidationError, PermissionDenied):
        return summary
    sites = selectors.plan_sites(plan)
    for person in selectors.plan_participants(plan):
        wishes = rng.sample([site.pk for site in sites], k=min(2, len(sites)))
        try:
            services.plan_participant_update(
                participant=person,
                actor=actor,
                arrival=person.arrival,
                departure=person.departure,
                languages=person.languages,
                preferences=wishes,
                must_visit=[],
                must_not_visit=[],
            )
        except ValidationError:
            continue
    with override_settings(ROTATION_SOLVE_SECONDS=DEMO_SOLVE_SECONDS):
        try:
            solve = services.plan_solve_start(plan=plan, actor=actor)
        except ValidationError:
            return DemoPlansSummary(plan=plan.pk, participants=plan.participants.count())
        services.plan_solve_execute(solve_id=solve.pk)  # a no-op when its task already ran
    plan.refresh_from_db()
    _demo_supervisor_on_site(plan)
    if plan.status == PlanStatus.SOLVED:
        # Published, so participants and the demo supervisor have something to read; the
        # e-mails stay in memory (the demo tells people in the app).
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            services.rotation_plan_publish(plan=plan, actor=actor)
    return DemoPlansSummary(
        plan=plan.pk, participants=plan.participants.count(), status=plan.status
    )


def _demo_supervisor_on_site(plan: RotationPlan) -> None:
    """The demo supervisor supervises the plan's first site, so their login has a roster."""
    supervisor = User.objects.filter(email=f"supervisor@{DEMO_USER_DOMAIN}").first()
    first = selectors.plan_sites(plan)[:1]
    if supervisor is None or not first:
        return
    InstitutionRole.objects.get_or_create(
        user=supervisor,
        institution_id=first[0].site.institution_id,
        role=InstitutionRoleKind.SUPERVISOR,
    )
