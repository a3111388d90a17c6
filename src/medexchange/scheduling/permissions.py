"""Who may do what with rotation plans. Services call these; views find objects via querysets."""

from __future__ import annotations

from typing import Any

from medexchange.catalog.choices import OpportunityKind
from medexchange.catalog.models import Session
from medexchange.scheduling.models import RotationPlan


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
