"""Who may do what with rotation plans. Services call these; views find objects via querysets."""

from __future__ import annotations

from typing import Any

from medexchange.catalog.choices import OpportunityKind
from medexchange.catalog.models import Session
from medexchange.scheduling.models import PlanParticipant, PlanSite, RotationPlan


def can_edit_plan(user: Any, plan: RotationPlan) -> bool:
    """The coordinators of the session's host (and superusers)."""
    return RotationPlan.objects.editable_by(user).filter(pk=plan.pk).exists()


def can_plan_session(user: Any, session: Session) -> bool:
    """A coordinator of the host may open a plan for a scheduled exchange-program session."""
    return (
        Session.objects.editable_by(user)
        .scheduled()
        .filter(pk=session.pk, opportunity__kind=OpportunityKind.EXCHANGE_PROGRAM)
        .exists()
    )


def can_read_participant(user: Any, participant: PlanParticipant) -> bool:
    """The participant themself (once published) and the host's people."""
    if RotationPlan.objects.managed_by(user).filter(pk=participant.plan_id).exists():
        return True
    return bool(
        user.is_authenticated
        and participant.placement.application.applicant_id == user.pk
        and RotationPlan.objects.filter(pk=participant.plan_id, published_at__isnull=False).exists()
    )


def can_read_site(user: Any, site: PlanSite) -> bool:
    """The host's people, and the site's supervisors once the plan is published."""
    from medexchange.scheduling.selectors import supervised_sites

    return any(s.pk == site.pk for s in supervised_sites(site.plan, user))
