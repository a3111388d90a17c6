"""Recommendation letters: the applicant asks, the referee uploads once, without an
account, and the applicant never reads the letter."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from medexchange.common.models import AuditEntry, Notification
from medexchange.documents import services
from medexchange.documents.models import Document, DocumentVersion, RefereeRequest
from tests.documents.factories import PDF_BYTES, PNG_BYTES, RefereeRequestFactory, stored_files

pytestmark = pytest.mark.django_db

REQUEST_URL = "/documents/referees/new/"


def ask(client: Any, capture: Any, **data: Any) -> Any:
    form = {
        "referee_name": "Dr Amina Okafor",
        "referee_email": "amina.okafor@example.org",
        "message": "For my emergency medicine elective in Nairobi.",
        **data,
    }
    with capture(execute=True):
        return client.post(REQUEST_URL, form)


def link_in(message: Any) -> str:
    match = re.search(r"https?://[^\s]+(/referee/[^\s/]+/)", message.body)
    assert match, message.body
    return match.group(1)


def letter(name: str = "letter.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_the_whole_referee_flow(
    applicant_client: Any,
    applicant: Any,
    client: Any,
    mailoutbox: Any,
    private_root: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # The applicant asks.
    response = ask(applicant_client, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    referee_request = RefereeRequest.objects.get()
    [email] = mailoutbox
    assert email.to == ["amina.okafor@example.org"]
    assert "Wanjiru Kamau asks you for a recommendation letter" in email.subject
    assert "For my emergency medicine elective in Nairobi." in email.body
    link = link_in(email)
    # The token is in the e-mail only: the database keeps its hash.
    token = link.split("/")[2]
    assert token not in referee_request.token_hash
    assert AuditEntry.objects.filter(action="referee_request.created").count() == 1

    # The referee, with no account, opens the link and uploads.
    referee = client.__class__()
    page = referee.get(link)
    assert page.status_code == 200
    assert "Dear Dr Amina Okafor" in page.content.decode()
    assert "Wanjiru Kamau" in page.content.decode()
    response = referee.post(link, {"file": letter()})
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()

    document = Document.objects.get()
    assert (document.owner, document.kind, document.is_confidential) == (
        applicant,
        "recommendation",
        True,
    )
    assert document.title == "Recommendation letter from Dr Amina Okafor"
    version = DocumentVersion.objects.get()
    assert version.uploaded_by is None
    assert stored_files(private_root) == [version.storage_name]
    referee_request.refresh_from_db()
    assert referee_request.used_at is not None
    assert referee_request.document == document
    assert {entry.action for entry in AuditEntry.objects.all()} == {
        "referee_request.created",
        "referee_request.received",
        "document.created",
    }
    [notification] = Notification.objects.filter(user=applicant)
    assert "Dr Amina Okafor sent your recommendation letter" in notification.message

    # The link works once.
    again = referee.get(link)
    assert again.status_code == 410
    assert "already uploaded" in again.content.decode()
    assert referee.post(link, {"file": letter()}).status_code == 410
    assert DocumentVersion.objects.count() == 1

    # The applicant sees that the letter exists, and cannot read it.
    vault = applicant_client.get("/documents/").content.decode()
    assert "Confidential letter from Dr Amina Okafor" in vault
    assert version.get_download_url() not in vault
    assert applicant_client.get(version.get_download_url()).status_code == 404
    assert applicant_client.get(version.get_inline_url()).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("letter.png", PNG_BYTES, "Only PDF files are accepted"),
        ("letter.pdf", b"<html><script>alert(1)</script></html>", "Only PDF files are accepted"),
        ("letter.pdf", b"MZ\x90\x00" + bytes(100), "Only PDF files are accepted"),
        ("letter.pdf", b"", "The file is empty."),
    ],
)
def test_the_referee_may_upload_only_a_pdf(
    client: Any, no_files: Any, name: str, content: bytes, message: str
) -> None:
    RefereeRequestFactory(token="the-link")

    response = client.post("/referee/the-link/", {"file": letter(name, content)})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Document.objects.exists()
    assert RefereeRequest.objects.get().used_at is None  # the link still works
    no_files()


def test_the_referee_must_choose_a_file(client: Any, no_files: Any) -> None:
    RefereeRequestFactory(token="the-link")

    response = client.post("/referee/the-link/", {})

    assert "Choose a file to upload." in response.content.decode()
    no_files()


def test_an_oversized_letter_is_refused(client: Any, settings: Any, no_files: Any) -> None:
    settings.DOCUMENT_MAX_UPLOAD_BYTES = 100
    RefereeRequestFactory(token="the-link")

    response = client.post("/referee/the-link/", {"file": letter()})

    assert "The file is too large" in response.content.decode()
    no_files()


def test_an_expired_link_no_longer_works(client: Any, no_files: Any) -> None:
    RefereeRequestFactory(token="the-link", expires_at=timezone.now() - dt.timedelta(minutes=1))

    response = client.get("/referee/the-link/")
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert client.post("/referee/the-link/", {"file": letter()}).status_code == 410
    no_files()


def test_an_unknown_link_is_404(client: Any) -> None:
    response = client.get("/referee/no-such-token/")

    assert response.status_code == 404
    assert "This link no longer works" in response.content.decode()


def test_resending_gives_a_new_link_and_kills_the_old_one(
    applicant_client: Any,
    applicant: Any,
    client: Any,
    mailoutbox: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    referee_request = RefereeRequestFactory(
        applicant=applicant, token="old-link", sent_at=timezone.now() - dt.timedelta(days=2)
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = applicant_client.post(f"/documents/referees/{referee_request.pk}/resend/")

    assert response.status_code == 302
    [email] = mailoutbox
    new_link = link_in(email)
    assert client.get("/referee/old-link/").status_code == 404
    assert client.get(new_link).status_code == 200
    entry = AuditEntry.objects.get(action="referee_request.resent")
    assert entry.to_state == "pending"


def test_resending_too_soon_is_refused_with_a_message(
    applicant_client: Any, applicant: Any, mailoutbox: Any
) -> None:
    referee_request = RefereeRequestFactory(applicant=applicant)

    response = applicant_client.post(
        f"/documents/referees/{referee_request.pk}/resend/", follow=True
    )

    assert "less than an hour ago" in response.content.decode()
    assert mailoutbox == []
    assert not AuditEntry.objects.exists()


def test_a_cancelled_request_closes_the_link(
    applicant_client: Any, applicant: Any, client: Any
) -> None:
    referee_request = RefereeRequestFactory(applicant=applicant, token="the-link")

    response = applicant_client.post(f"/documents/referees/{referee_request.pk}/cancel/")

    assert response.status_code == 302
    assert client.get("/referee/the-link/").status_code == 410
    assert AuditEntry.objects.get(action="referee_request.cancelled").to_state == "cancelled"
    # A closed request cannot be cancelled or resent again.
    url = f"/documents/referees/{referee_request.pk}"
    assert applicant_client.post(f"{url}/cancel/").status_code == 404
    assert applicant_client.post(f"{url}/resend/").status_code == 404


def test_only_the_applicant_can_resend_or_cancel(client: Any, other_applicant: Any) -> None:
    referee_request = RefereeRequestFactory(sent_at=timezone.now() - dt.timedelta(days=2))
    client.force_login(other_applicant)

    for action in ("resend", "cancel"):
        assert client.post(f"/documents/referees/{referee_request.pk}/{action}/").status_code == 404
        assert client.get(f"/documents/referees/{referee_request.pk}/{action}/").status_code == 405
    assert not AuditEntry.objects.exists()


def test_an_applicant_cannot_flood_referees(
    applicant_client: Any, applicant: Any, mailoutbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    RefereeRequestFactory.create_batch(services.OPEN_REFEREE_REQUEST_LIMIT, applicant=applicant)

    response = ask(applicant_client, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert "requests waiting for a letter" in response.content.decode()
    assert mailoutbox == []


def test_a_bad_referee_address_is_a_field_error(
    applicant_client: Any, django_capture_on_commit_callbacks: Any, mailoutbox: Any
) -> None:
    response = ask(applicant_client, django_capture_on_commit_callbacks, referee_email="not-mail")

    assert response.status_code == 200
    assert "referee_email" in response.context["form"].errors
    assert not RefereeRequest.objects.exists()
    assert mailoutbox == []


def test_the_referee_email_is_in_the_applicants_language(
    applicant: Any, mailoutbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    applicant.preferred_language = "es"
    applicant.save()

    with django_capture_on_commit_callbacks(execute=True):
        services.referee_request_create(
            applicant=applicant,
            referee_name="Dra. Lucía Pérez",
            referee_email="lucia@example.org",
            message="",
            actor=applicant,
        )

    [email] = mailoutbox
    assert "/referee/" in email.body
