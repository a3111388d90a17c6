"""Uploads are safe: hostile files are refused with a clear message and nothing is stored."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.datastructures import MultiValueDict

from medexchange.common.models import AuditEntry
from medexchange.documents.forms import DocumentUploadForm
from medexchange.documents.models import Document, DocumentVersion, private_storage
from medexchange.documents.uploads import clean_name
from tests.documents.factories import JPEG_BYTES, PDF_BYTES, PNG_BYTES, png_bytes, stored_files

pytestmark = pytest.mark.django_db

UPLOAD_URL = "/documents/new/"
METADATA = {"kind": "transcript", "title": "Transcript", "issued_on": "2025-06-30"}

EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(200)
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)


def upload(client: Any, name: str, content: bytes, **data: Any) -> Any:
    file = SimpleUploadedFile(name, content, content_type="application/pdf")
    return client.post(UPLOAD_URL, {**METADATA, **data, "file": file})


def field_errors(response: Any, field: str = "file") -> list[str]:
    return list(response.context["form"].errors.get(field, []))


@pytest.mark.parametrize(
    ("name", "content", "content_type", "kept_name"),
    [
        ("transcript.pdf", PDF_BYTES, "application/pdf", "transcript.pdf"),
        ("photo.png", PNG_BYTES, "image/png", "photo.png"),
        ("scan.jpeg", JPEG_BYTES, "image/jpeg", "scan.jpg"),
        # The name does not decide the type: the content does, and the name follows it.
        ("scan.pdf", PNG_BYTES, "image/png", "scan.png"),
        ("كشف الدرجات.pdf", PDF_BYTES, "application/pdf", "كشف الدرجات.pdf"),
    ],
)
def test_valid_files_are_accepted(
    applicant_client: Any,
    applicant: Any,
    private_root: Path,
    name: str,
    content: bytes,
    content_type: str,
    kept_name: str,
) -> None:
    response = upload(applicant_client, name, content)

    assert response.status_code == 302
    document = Document.objects.get(owner=applicant)
    version = document.current_version
    assert version is not None
    assert (version.number, version.content_type, version.original_name) == (
        1,
        content_type,
        kept_name,
    )
    assert version.size == len(content)
    assert version.sha256 == hashlib.sha256(content).hexdigest()
    assert version.uploaded_by == applicant
    # Stored under a random name that owes nothing to the uploaded one.
    assert stored_files(private_root) == [version.storage_name]
    assert len(version.storage_name) == 40
    assert kept_name.split(".")[0] not in version.storage_name
    with private_storage().open(version.storage_name) as handle:
        assert handle.read() == content
    entry = AuditEntry.objects.get(action="document.created")
    assert entry.actor == applicant
    assert entry.target_id == str(document.pk)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("cv.pdf", EXECUTABLE, "is not a PDF, JPEG or PNG document"),
        ("cv.exe", EXECUTABLE, "is not a PDF, JPEG or PNG document"),
        ("letter.pdf", HTML, "is not a PDF, JPEG or PNG document"),
        ("letter.pdf", SVG, "is not a PDF, JPEG or PNG document"),
        ("notes.pdf", b"Just some text, not a PDF at all.", "is not a PDF, JPEG or PNG document"),
        # Starts like a PDF but stops: no end-of-file marker.
        ("cut.pdf", b"%PDF-1.7\n1 0 obj << >> endobj\n" + bytes(2000), "damaged or incomplete"),
        # An HTML page behind a PDF signature is not a PDF either.
        ("mixed.pdf", b"%PDF-" + HTML, "damaged or incomplete"),
        # A PNG signature with its end cut off.
        ("photo.png", PNG_BYTES[:-12], "damaged or incomplete"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(40), "damaged or incomplete"),
        ("photo.jpg", b"\xff\xd8\xff\xe0" + bytes(40), "damaged or incomplete"),
    ],
)
def test_hostile_or_broken_files_are_refused(
    applicant_client: Any, no_files: Any, name: str, content: bytes, message: str
) -> None:
    response = upload(applicant_client, name, content)

    assert response.status_code == 200
    assert any(message in error for error in field_errors(response)), field_errors(response)
    assert message in response.content.decode()
    assert not Document.objects.exists()
    assert not DocumentVersion.objects.exists()
    assert not AuditEntry.objects.exists()
    no_files()


def test_an_oversized_file_is_refused(applicant_client: Any, settings: Any, no_files: Any) -> None:
    settings.DOCUMENT_MAX_UPLOAD_BYTES = 1000
    response = upload(applicant_client, "big.png", png_bytes(40, 40) + bytes(1000))

    [error] = field_errors(response)
    assert "The file is too large" in error
    assert "The largest file accepted is 1000" in error
    assert not Document.objects.exists()
    no_files()


def test_the_size_limit_defaults_to_ten_megabytes() -> None:
    from django.conf import settings

    assert settings.DOCUMENT_MAX_UPLOAD_BYTES == 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("..\\..\\windows\\system32\\cv.pdf", "contains a folder path"),
        ("C:\\Users\\cv.pdf", "contains a folder path"),
        ("..%2F..%2Fetc%2Fpasswd.pdf", "contains a folder path"),
        ("..%5c..%5cboot.ini.pdf", "contains a folder path"),
        ("..cv.pdf", "contains a folder path"),
        ("cv\x00.pdf", "contains control characters"),
        ("cv\r\nX-Injected: yes.pdf", "contains control characters"),
        ("cv\x1b[31m.pdf", "contains control characters"),
        # The right-to-left override that shows "cv\u202efdp.exe" as "cvexe.pdf".
        ("cv\u202efdp.exe", "contains control characters"),
    ],
)
def test_hostile_file_names_are_refused(no_files: Any, name: str, message: str) -> None:
    """What reaches the form from any client. (Django cuts "/" folders out of every
    uploaded file's name, and its multipart parser also "\\" folders and control
    characters; this check refuses what is left, and guards every other way in.)"""
    form = DocumentUploadForm(
        data=METADATA, files=MultiValueDict({"file": [SimpleUploadedFile(name, PDF_BYTES)]})
    )

    assert not form.is_valid()
    [error] = form.errors["file"]
    assert message in error
    assert "Rename the file" in error
    no_files()


def multipart(file_name: str, content: bytes) -> tuple[bytes, str]:
    """A raw multipart body, as a hostile client would send it, with any file name."""
    boundary = "BoUnDaRy"
    fields = {"kind": "cv", "title": "CV", "issued_on": "2025-01-01"}
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    body += (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    body += content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_an_encoded_traversal_name_sent_over_http_is_refused(
    applicant_client: Any, no_files: Any
) -> None:
    body, content_type = multipart("..%2F..%2Fetc%2Fcron.d%2Fx.pdf", PDF_BYTES)

    response = applicant_client.generic("POST", UPLOAD_URL, body, content_type=content_type)

    assert response.status_code == 200
    [error] = field_errors(response)
    assert "contains a folder path" in error
    assert not Document.objects.exists()
    no_files()


def test_a_traversal_name_sent_over_http_never_reaches_the_storage(
    applicant_client: Any, applicant: Any, private_root: Path
) -> None:
    """Django's parser keeps only the last part of a name with folders: the file is stored
    under a random name inside the private folder, and the kept name has no folder."""
    body, content_type = multipart("../../../etc/cron.d/x.pdf", PDF_BYTES)

    response = applicant_client.generic("POST", UPLOAD_URL, body, content_type=content_type)

    assert response.status_code == 302
    version = DocumentVersion.objects.get(document__owner=applicant)
    assert version.original_name == "x.pdf"
    assert stored_files(private_root) == [version.storage_name]
    assert not (private_root.parent / "etc").exists()


def test_a_missing_file_is_a_field_error(applicant_client: Any, no_files: Any) -> None:
    response = applicant_client.post(UPLOAD_URL, METADATA)

    assert response.status_code == 200
    assert field_errors(response) == ["Choose a file to upload."]
    no_files()


def test_an_empty_file_is_a_field_error(applicant_client: Any, no_files: Any) -> None:
    response = upload(applicant_client, "empty.pdf", b"")

    assert field_errors(response) == ["The file is empty."]
    no_files()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"issued_on": "not-a-date"}, "issued_on", "Enter a valid date."),
        ({"issued_on": ""}, "issued_on", "This field is required."),
        ({"expires_on": "31/31/2030"}, "expires_on", "Enter a valid date."),
        (
            {"issued_on": "2025-06-30", "expires_on": "2025-06-29"},
            "expires_on",
            "The expiry date cannot be before the issue date.",
        ),
        ({"issued_on": "2999-01-01"}, "issued_on", "The issue date cannot be in the future."),
        ({"kind": "malware"}, "kind", "Select a valid choice."),
        ({"title": ""}, "title", "This field is required."),
    ],
)
def test_bad_metadata_is_a_field_error(
    applicant_client: Any, no_files: Any, data: dict[str, str], field: str, message: str
) -> None:
    response = upload(applicant_client, "cv.pdf", PDF_BYTES, **data)

    assert response.status_code == 200
    assert any(message in error for error in field_errors(response, field)), response.context[
        "form"
    ].errors
    assert not Document.objects.exists()
    no_files()


@pytest.mark.parametrize(
    ("name", "extension", "expected"),
    [
        ("cv.pdf", "pdf", "cv.pdf"),
        ("cv.exe", "pdf", "cv.pdf"),
        ("cv", "pdf", "cv.pdf"),
        (".pdf", "pdf", "document.pdf"),
        ("   ", "png", "document.png"),
        ('my "best" <cv>: final?.pdf', "pdf", "my _best_ _cv__ final.pdf"),
        ("O'Brien — lettre de recommandation.PDF", "pdf", "O'Brien — lettre de recommandation.pdf"),
        ("x" * 300 + ".pdf", "pdf", "x" * 100 + ".pdf"),
        ("e\u0301cole.pdf", "pdf", "\u00e9cole.pdf"),  # normalised (NFC)
    ],
)
def test_kept_names_are_clean(name: str, extension: str, expected: str) -> None:
    assert clean_name(name, extension) == expected
