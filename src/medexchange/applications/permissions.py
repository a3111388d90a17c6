"""Who may act on an application. Services call these; views find objects via querysets."""

from __future__ import annotations

from typing import Any

from medexchange.applications.models import Application, reviewed_institution_ids
from medexchange.catalog.permissions import catalog_hosts


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
    return reviewed_institution_ids(user).filter(institution_id=host_id_of(application)).exists()


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
    return (
        user.coordinated_institution_ids()
        .filter(institution_id=application.home_institution_id)
        .exists()
    )


def can_manage_host(user: Any, institution_id: int) -> bool:
    """Coordinators of the host set review criteria and letter templates."""
    return catalog_hosts(user).filter(pk=institution_id).exists()
