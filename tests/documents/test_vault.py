"""My documents: the list, versions, editing, deleting, expiry, and the reads other apps use."""

from __future__ import annotations

import datetime as dt
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import ProtectedError
from django.utils import timezone

from medexchange.common.models import AuditEntry
from medexchange.documents import selectors, services
from medexchange.documents.models import Document, DocumentVersion
from tests.documents.factories import (
    PDF_BYTES,
    PNG_BYTES,
    DocumentFactory,
    DocumentVersionFactory,
    RefereeRequestFactory,
    stored_files,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 1)


def test_the_list_shows_each_document_with_its_flags_and_versions(
    applicant_client: Any, applicant: Any, other_applicant: Any, django_assert_max_num_queries: Any
) -> None:
    today = timezone.localdate()
    expired = DocumentFactory(
        owner=applicant,
        title="Old passport",
        kind="passport",
        issued_on=today - dt.timedelta(days=3650),
        expires_on=today - dt.timedelta(days=1),
    )
    soon = DocumentFactory(
        owner=applicant,
        title="Insurance",
        kind="insurance",
        issued_on=today - dt.timedelta(days=300),
        expires_on=today + dt.timedelta(days=20),
    )
    valid = DocumentFactory(
        owner=applicant,
        title="Language certificate",
        issued_on=today - dt.timedelta(days=30),
        expires_on=today + dt.timedelta(days=700),
    )
    for document in (expired, soon, valid):
        DocumentVersionFactory(document=document, number=1)
    DocumentVersionFactory(document=valid, number=2, original_name="certificate-v2.pdf")
    DocumentVersionFactory(document=DocumentFactory(owner=other_applicant, title="Not mine"))
    RefereeRequestFactory(applicant=applicant, referee_name="Dr Sione Taufa")

    with django_assert_max_num_queries(12):
        response = applicant_client.get("/documents/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Old passport" in page and "Insurance" in page and "Language certificate" in page
    assert "Not mine" not in page
    assert page.count(">Expired<") == 1
    assert page.count(">Expires soon<") == 1
    assert "certificate-v2.pdf" in page
    assert "Dr Sione Taufa" in page and "Waiting for the referee" in page
    assert 'href="/documents/"' in page and "My documents" in page  # the menu link


def test_a_new_version_keeps_the_old_one(
    applicant_client: Any, applicant: Any, private_root: Path
) -> None:
    version = DocumentVersionFactory(document=DocumentFactory(owner=applicant), number=1)
    document = version.document

    response = applicant_client.post(
        f"/documents/{document.pk}/versions/new/",
        {"file": SimpleUploadedFile("cv-2026.png", PNG_BYTES)},
    )

    assert response.status_code == 302
    current = document.current_version
    assert current is not None and current.number == 2
    assert current.content_type == "image/png"
    assert list(document.versions.values_list("number", flat=True)) == [2, 1]
    assert len(stored_files(private_root)) == 2
    entry = AuditEntry.objects.get(action="document.version_added")
    assert (entry.from_state, entry.to_state, entry.actor) == ("v1", "v2", applicant)


def test_a_hostile_new_version_is_refused(
    applicant_client: Any, applicant: Any, private_root: Path
) -> None:
    version = DocumentVersionFactory(document=DocumentFactory(owner=applicant), number=1)

    response = applicant_client.post(
        f"/documents/{version.document.pk}/versions/new/",
        {"file": SimpleUploadedFile("cv.pdf", b"<svg onload=alert(1)>")},
    )

    assert response.status_code == 200
    assert "is not a PDF, JPEG or PNG document" in response.content.decode()
    assert DocumentVersion.objects.count() == 1
    assert stored_files(private_root) == [version.storage_name]


def test_editing_the_metadata_is_audited(applicant_client: Any, applicant: Any) -> None:
    document = DocumentFactory(owner=applicant, title="CV")

    response = applicant_client.post(
        f"/documents/{document.pk}/edit/",
        {"kind": "cv", "title": "CV 2026", "issued_on": "2026-01-10", "expires_on": ""},
    )

    assert response.status_code == 302
    document.refresh_from_db()
    assert (document.title, document.issued_on) == ("CV 2026", dt.date(2026, 1, 10))
    entry = AuditEntry.objects.get(action="document.updated")
    assert entry.data["title"] == {"from": "CV", "to": "CV 2026"}


def test_editing_with_an_expiry_before_the_issue_is_a_field_error(
    applicant_client: Any, applicant: Any
) -> None:
    document = DocumentFactory(owner=applicant)

    response = applicant_client.post(
        f"/documents/{document.pk}/edit/",
        {"kind": "cv", "title": "CV", "issued_on": "2025-05-01", "expires_on": "2024-05-01"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["expires_on"] == [
        "The expiry date cannot be before the issue date."
    ]
    assert not AuditEntry.objects.exists()


def test_deleting_removes_rows_and_files(
    applicant_client: Any,
    applicant: Any,
    private_root: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    document = DocumentFactory(owner=applicant)
    DocumentVersionFactory(document=document, number=1)
    DocumentVersionFactory(document=document, number=2)
    assert applicant_client.get(f"/documents/{document.pk}/delete/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = applicant_client.post(f"/documents/{document.pk}/delete/")

    assert response.status_code == 302
    assert not Document.objects.exists()
    assert not DocumentVersion.objects.exists()
    assert stored_files(private_root) == []
    entry = AuditEntry.objects.get(action="document.deleted")
    assert (entry.target_id, entry.to_state, entry.actor) == (
        str(document.pk),
        "deleted",
        applicant,
    )


def test_a_document_an_application_holds_is_hidden_not_deleted(
    applicant: Any, private_root: Path, monkeypatch: Any
) -> None:
    """A foreign key protecting a version (an application's attachment) keeps the files."""
    version = DocumentVersionFactory(document=DocumentFactory(owner=applicant))

    def protected(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise ProtectedError("attached", set())

    monkeypatch.setattr(Document, "delete", protected)

    assert services.document_delete(document=version.document, actor=applicant) is False

    document = Document.objects.get()
    assert document.deleted_at is not None
    assert not Document.objects.visible_to(applicant).exists()
    assert not DocumentVersion.objects.visible_to(applicant).exists()
    assert stored_files(private_root) == [version.storage_name]
    assert AuditEntry.objects.get(action="document.deleted").to_state == "hidden"


def test_other_peoples_documents_cannot_be_changed(
    client: Any, other_applicant: Any, applicant: Any
) -> None:
    document = DocumentVersionFactory(document=DocumentFactory(owner=applicant)).document
    client.force_login(other_applicant)
    for url in ("edit", "versions/new", "delete"):
        assert client.get(f"/documents/{document.pk}/{url}/").status_code == 404
        assert client.post(f"/documents/{document.pk}/{url}/", {}).status_code == 404
    assert Document.objects.filter(pk=document.pk, title=document.title).exists()


def test_a_referee_letter_cannot_be_edited_or_replaced(
    applicant_client: Any, applicant: Any
) -> None:
    letter = DocumentFactory(owner=applicant, kind="recommendation", is_confidential=True)
    assert applicant_client.get(f"/documents/{letter.pk}/edit/").status_code == 404
    assert applicant_client.get(f"/documents/{letter.pk}/versions/new/").status_code == 404
    # ...but its owner may delete it.
    assert applicant_client.get(f"/documents/{letter.pk}/delete/").status_code == 200


def test_expiry_helpers() -> None:
    document = Document(issued_on=dt.date(2025, 1, 1), expires_on=dt.date(2026, 3, 31))

    assert not document.is_expired(on=TODAY)
    assert document.is_expired(on=dt.date(2026, 4, 1))
    assert not document.is_expired(on=dt.date(2026, 3, 31))  # valid through its last day
    assert document.expires_before(dt.date(2026, 4, 15))
    assert not document.expires_before(dt.date(2026, 3, 31))
    assert document.expiry_flag(TODAY) == "expires_soon"
    assert document.expiry_flag(dt.date(2025, 6, 1)) == "valid"
    assert document.expiry_flag(dt.date(2026, 5, 1)) == "expired"
    assert Document(issued_on=dt.date(2025, 1, 1)).expiry_flag(TODAY) == "valid"


def test_document_check_for() -> None:
    document = Document(
        title="Insurance", issued_on=dt.date(2025, 1, 1), expires_on=dt.date(2026, 3, 31)
    )

    assert services.document_check_for(document, until=dt.date(2026, 3, 31), today=TODAY) == ""
    reason = services.document_check_for(document, until=dt.date(2026, 4, 30), today=TODAY)
    assert reason.startswith("“Insurance” expires on")
    expired = services.document_check_for(document, today=dt.date(2026, 4, 2))
    assert "expired on" in expired
    never = Document(title="CV", issued_on=dt.date(2025, 1, 1))
    assert services.document_check_for(never, until=dt.date(2030, 1, 1)) == ""


def test_vault_for_lists_the_owners_documents_with_their_current_version(
    applicant: Any, other_applicant: Any, django_assert_num_queries: Any
) -> None:
    cv = DocumentFactory(owner=applicant, kind="cv")
    DocumentVersionFactory(document=cv, number=1)
    DocumentVersionFactory(document=cv, number=2)
    letter = DocumentFactory(owner=applicant, kind="recommendation", is_confidential=True)
    DocumentVersionFactory(document=letter, number=1)
    DocumentFactory(owner=other_applicant)
    DocumentFactory(owner=applicant, deleted_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))

    with django_assert_num_queries(2):
        documents = list(selectors.vault_for(applicant))
        current = [document.current_version for document in documents]

    assert [document.pk for document in documents] == [cv.pk, letter.pk]
    assert [version.number for version in current if version] == [2, 1]


def _fake_applications_selectors(monkeypatch: Any, **functions: Any) -> None:
    module = types.ModuleType("medexchange.applications.selectors")
    for name, function in functions.items():
        setattr(module, name, function)
    monkeypatch.setitem(sys.modules, "medexchange.applications.selectors", module)


def test_reviewers_see_versions_the_applications_app_names(
    applicant: Any, coordinator: Any, monkeypatch: Any
) -> None:
    """The extension point: an application's reviewers see what it holds, letters too."""
    letter = DocumentVersionFactory(
        document=DocumentFactory(owner=applicant, kind="recommendation", is_confidential=True)
    )
    cv = DocumentVersionFactory(document=DocumentFactory(owner=applicant))

    def ids(user: Any) -> Any:
        wanted = [letter.pk] if user == coordinator else []
        return DocumentVersion.objects.filter(pk__in=wanted).values("pk")

    _fake_applications_selectors(monkeypatch, document_version_ids_visible_to=ids)

    assert list(DocumentVersion.objects.visible_to(coordinator)) == [letter]
    assert list(DocumentVersion.objects.visible_to(applicant)) == [cv]


def test_without_the_applications_selector_only_the_owner_rule_applies(
    applicant: Any, coordinator: Any, monkeypatch: Any
) -> None:
    cv = DocumentVersionFactory(document=DocumentFactory(owner=applicant))
    _fake_applications_selectors(monkeypatch)  # the module exists, the function not yet

    assert list(DocumentVersion.objects.visible_to(applicant)) == [cv]
    assert not DocumentVersion.objects.visible_to(coordinator).exists()


def test_a_pdf_upload_is_stored_by_the_service(applicant: Any, private_root: Path) -> None:
    from medexchange.documents.uploads import check_upload

    checked = check_upload(SimpleUploadedFile("cv.pdf", PDF_BYTES))
    document = services.document_create(
        owner=applicant,
        kind="cv",
        title="CV",
        issued_on=dt.date(2025, 1, 1),
        expires_on=None,
        upload=checked,
        actor=applicant,
    )

    assert document.current_version is not None
    assert stored_files(private_root) == [document.current_version.storage_name]


def test_a_failed_write_leaves_no_file(applicant: Any, no_files: Any, monkeypatch: Any) -> None:
    from medexchange.documents.uploads import check_upload

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "audit_record", broken)
    with pytest.raises(RuntimeError):
        services.document_create(
            owner=applicant,
            kind="cv",
            title="CV",
            issued_on=dt.date(2025, 1, 1),
            expires_on=None,
            upload=check_upload(SimpleUploadedFile("cv.pdf", PDF_BYTES)),
            actor=applicant,
        )

    assert not Document.objects.exists()
    no_files()


def test_a_new_version_without_a_file_is_a_field_error(
    applicant_client: Any, applicant: Any
) -> None:
    document = DocumentVersionFactory(document=DocumentFactory(owner=applicant)).document

    response = applicant_client.post(f"/documents/{document.pk}/versions/new/", {})

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == ["Choose a file to upload."]
    assert document.versions.count() == 1
