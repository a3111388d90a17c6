"""Applications in the host's hands, for the review, endorsement and dashboard tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.utils import timezone

from medexchange.applications import services
from medexchange.applications.models import Application, ApplicationDocument, ReviewCriterion
from tests.applications.conftest import Exchange, applicant_with_profile


def use_private_root(settings: Any, tmp_path: Path) -> Path:
    """Vault files of the test go to its own temporary folder (call from a fixture)."""
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def attach_cv(application: Application, *, expires_on: dt.date | None = None) -> Any:
    """A CV version of the applicant's vault, attached to ``application``."""
    from tests.documents.factories import DocumentFactory, DocumentVersionFactory

    version = DocumentVersionFactory(
        document=DocumentFactory(owner=application.applicant, expires_on=expires_on)
    )
    ApplicationDocument.objects.create(application=application, version=version)
    return version


def submit(
    exchange: Exchange,
    applicant: Any = None,
    *,
    endorsement: bool = False,
    statement: str = "I want to learn emergency care in Lima.",
) -> Application:
    """An application of ``applicant`` (default: exchange.applicant), submitted through services."""
    applicant = applicant or exchange.applicant
    opportunity = exchange.session.opportunity
    if opportunity.endorsement_required != endorsement:
        opportunity.endorsement_required = endorsement
        opportunity.save()
    application = services.application_start(
        applicant=applicant, session=exchange.session, actor=applicant
    )
    services.application_save_draft(application=application, actor=applicant, statement=statement)
    return services.application_submit(application=application, actor=applicant)


def criteria(exchange: Exchange) -> list[ReviewCriterion]:
    opportunity = exchange.session.opportunity
    return [
        ReviewCriterion.objects.create(
            opportunity=opportunity, name="Motivation", max_score=5, weight=2, position=1
        ),
        ReviewCriterion.objects.create(
            opportunity=opportunity, name="Fit", max_score=10, weight=1, position=2
        ),
    ]


def many_in_queue(exchange: Exchange, count: int, *, scored: bool = True) -> list[Application]:
    """``count`` submitted applications straight in the database, with scores and a CV."""
    from medexchange.applications.models import ReviewScore

    rows = criteria(exchange) if scored else []
    now = timezone.now()
    made = []
    for index in range(count):
        applicant = applicant_with_profile(exchange.home, full_name=f"Queue Applicant {index:03}")
        application = Application.objects.create(
            applicant=applicant,
            session=exchange.session,
            state="submitted",
            statement="Statement.",
            submitted_at=now,
            reached_host_at=now - dt.timedelta(minutes=index),
            home_institution=exchange.home,
            home_country=applicant.applicant_profile.home_country,
        )
        soon = timezone.localdate() + dt.timedelta(days=10)
        attach_cv(application, expires_on=soon if index % 3 == 0 else None)
        for criterion in rows:
            ReviewScore.objects.create(
                application=application,
                reviewer=exchange.reviewer,
                criterion=criterion,
                score=index % (criterion.max_score + 1),
            )
        made.append(application)
    return made
