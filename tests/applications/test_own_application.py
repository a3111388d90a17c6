"""An applicant who also reviews for the host, or coordinates their home institution, is
only the applicant on their own file: no private review work, no confidential letter."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from rest_framework.test import APIClient

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.accounts.models import InstitutionRole
from medexchange.applications import services
from medexchange.applications.models import Application, ApplicationDocument
from medexchange.documents.models import private_storage
from tests.applications.conftest import Exchange
from tests.applications.review_helpers import submit
from tests.documents.factories import PDF_BYTES, DocumentFactory, DocumentVersionFactory

pytestmark = pytest.mark.django_db


def with_referee_letter(application: Application) -> Any:
    version = DocumentVersionFactory(
        document=DocumentFactory(
            owner=application.applicant, kind="recommendation", is_confidential=True
        )
    )
    private_storage().save(version.storage_name, ContentFile(PDF_BYTES))
    ApplicationDocument.objects.create(application=application, version=version)
    return version


@pytest.mark.parametrize(
    ("where", "role"),
    [
        ("host", InstitutionRoleKind.REVIEWER),
        ("host", InstitutionRoleKind.COORDINATOR),
        ("home", InstitutionRoleKind.COORDINATOR),
    ],
)
def test_own_application_is_not_reviewed_or_endorsed_by_its_applicant(
    exchange: Exchange, client: Any, where: str, role: str
) -> None:
    application = submit(exchange)
    version = with_referee_letter(application)
    services.application_comment(
        application=application, actor=exchange.reviewer, body="Weak statement, between us."
    )
    InstitutionRole.objects.create(
        user=exchange.applicant, institution=getattr(exchange, where), role=role
    )
    client.force_login(exchange.applicant)

    # Their own application page still works, without the reviewers' work.
    assert client.get(application.get_absolute_url()).status_code == 200
    assert client.get(reverse("applications:review", args=[application.pk])).status_code == 404
    response = client.post(
        reverse("applications:review", args=[application.pk]),
        {"action": "comment", "body": "Hi"},
    )
    assert response.status_code == 404
    assert client.get(reverse("applications:endorsement", args=[application.pk])).status_code == (
        404
    )
    # The referee's letter stays confidential.
    assert client.get(reverse("documents:download", args=[version.pk])).status_code == 404

    api = APIClient()
    api.force_authenticate(exchange.applicant)
    assert api.get(f"/api/v1/applications/{application.pk}/comments/").status_code == 404
    assert api.get(f"/api/v1/applications/{application.pk}/scores/").status_code == 404
    data = api.get(f"/api/v1/applications/{application.pk}/").json()
    assert data["scores"] is None
    assert "application.commented" not in {entry["action"] for entry in data["timeline"]}
