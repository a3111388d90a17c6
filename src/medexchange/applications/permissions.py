"""Who may act on an application. Services call these; views find objects via querysets."""

from __future__ import annotations

from typing import Any

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.applications.models import HOST_ROLES, Application


def is_applicant(user: Any, application: Application) -> bool:
    return bool(user.is_authenticated and application.applicant_id == user.pk)


def host_id_of(application: Application) -> int:
    return application.session.opportunity.host_id


def can_review(user: Any, application: Application) -> bool:
    """Coordinators and reviewers of the host, once the file reached the host; never the
    applicant (``Application.objects.reviewable_by`` excludes their own file too)."""
    if not user.is_authenticated or application.reached_host_at is None:
        return False
    if is_applicant(user, application):
        return False
    if user.is_superuser:
        return True
    return user.institution_roles.filter(
        institution_id=host_id_of(application), role__in=HOST_ROLES
    ).exists()


def can_decide(user: Any, application: Application) -> bool:
    """Offers, waitlists and declines: the same people who review."""
    return can_review(user, application)


def can_endorse(user: Any, application: Application) -> bool:
    """Coordinators of the applicant's home institution, the applicant excepted."""
    if not user.is_authenticated or application.home_institution_id is None:
        return False
    if is_applicant(user, application):
        return False
    if user.is_superuser:
        return True
    return user.institution_roles.filter(
        institution_id=application.home_institution_id, role=InstitutionRoleKind.COORDINATOR
    ).exists()


def can_manage_host(user: Any, institution_id: int) -> bool:
    """Coordinators of the host set review criteria and letter templates."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.institution_roles.filter(
        institution_id=institution_id, role=InstitutionRoleKind.COORDINATOR
    ).exists()
