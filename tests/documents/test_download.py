"""Files leave the vault only through the download view: permission checked, access logged."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile

from medexchange.documents.models import DocumentAccess, private_storage
from tests.documents.factories import PDF_BYTES, PNG_BYTES, DocumentFactory, DocumentVersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(applicant: Any) -> Any:
    return DocumentVersionFactory(
        document=DocumentFactory(owner=applicant, title="CV"), original_name="Mon CV — été.pdf"
    )


def url(version: Any) -> str:
    return f"/documents/versions/{version.pk}/download/"


def test_the_owner_downloads_and_the_access_is_recorded(
    applicant_client: Any, applicant: Any, version: Any
) -> None:
    response = applicant_client.get(url(version), REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 200
    assert response.content == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert (
        "filename*=utf-8''Mon%20CV%20%E2%80%94%20%C3%A9t%C3%A9.pdf"
        in (response["Content-Disposition"])
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert "sandbox" in response["Content-Security-Policy"]
    access = DocumentAccess.objects.get()
    assert (access.version, access.user, access.ip, access.inline) == (
        version,
        applicant,
        "203.0.113.7",
        False,
    )


def test_a_pdf_can_be_viewed_inline(applicant_client: Any, version: Any) -> None:
    response = applicant_client.get(url(version), {"inline": "1"})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline;")
    policy = response["Content-Security-Policy"]
    assert policy.startswith("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'")
    assert DocumentAccess.objects.get().inline is True


def test_an_image_viewed_inline_is_sandboxed(applicant_client: Any, applicant: Any) -> None:
    image = DocumentVersionFactory(
        document=DocumentFactory(owner=applicant),
        content_type="image/png",
        original_name="passport.png",
        size=len(PNG_BYTES),
        storage_name=private_storage().save("passport", ContentFile(PNG_BYTES)),
    )

    response = applicant_client.get(url(image), {"inline": "1"})

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    )


@pytest.mark.parametrize("who", ["other_applicant", "coordinator"])
def test_others_get_404_and_nothing_is_recorded(
    client: Any, version: Any, who: str, request: Any
) -> None:
    client.force_login(request.getfixturevalue(who))

    assert client.get(url(version)).status_code == 404
    assert client.get(url(version), {"inline": "1"}).status_code == 404
    assert not DocumentAccess.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client: Any, version: Any) -> None:
    response = client.get(url(version))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert not DocumentAccess.objects.exists()


def test_an_unknown_version_is_404(applicant_client: Any) -> None:
    assert applicant_client.get("/documents/versions/999999/download/").status_code == 404


def test_a_missing_file_is_404_not_500(applicant_client: Any, version: Any, caplog: Any) -> None:
    private_storage().delete(version.storage_name)

    assert applicant_client.get(url(version)).status_code == 404
    assert not DocumentAccess.objects.exists()


def test_the_private_storage_is_outside_every_served_folder() -> None:
    """The default settings: the vault's folder is neither media nor static files."""
    from pathlib import Path

    from medexchange import settings as project_settings

    location = Path(project_settings.STORAGES["private"]["OPTIONS"]["location"]).resolve()
    for served in (project_settings.MEDIA_ROOT, project_settings.STATIC_ROOT):
        served = Path(served).resolve()
        assert served not in location.parents and served != location
    assert not str(location).startswith(str(Path(project_settings.MEDIA_ROOT).resolve()))
