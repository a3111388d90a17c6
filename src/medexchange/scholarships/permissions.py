"""Who may act on a scholarship call. Services call these; views find objects via querysets."""

from __future__ import annotations

from typing import Any

from medexchange.agreements.permissions import staffs
from medexchange.scholarships.models import ScholarshipCall, ScholarshipRequest


def can_manage_network(user: Any, network_id: int) -> bool:
    """Staff of the network (and superusers) run its calls."""
    return staffs(user, network_id)


def can_manage(user: Any, call: ScholarshipCall) -> bool:
    return staffs(user, call.network_id)


def can_review(user: Any, request: ScholarshipRequest) -> bool:
    """The call's managers and named reviewers score requests, never their own."""
    if not user.is_authenticated:
        return False
    if request.application.applicant_id == user.pk:
        return False
    call = request.call
    return can_manage(user, call) or call.reviewers.filter(pk=user.pk).exists()


def can_move_money(user: Any, call: ScholarshipCall) -> bool:
    """Committing awards and disbursing: the finance staff of the call's network."""
    from medexchange.funding.permissions import is_finance_staff

    return bool(user.is_authenticated and is_finance_staff(user, call.network))


def is_applicant(user: Any, request: ScholarshipRequest) -> bool:
    return bool(user.is_authenticated and request.application.applicant_id == user.pk)
