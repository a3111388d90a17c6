"""Factories and tiny valid files for the vault's tests."""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
import zlib
from typing import Any

import factory
from django.core.files.base import ContentFile

from medexchange.catalog.choices import DocumentKind
from medexchange.documents.models import (
    Document,
    DocumentVersion,
    RefereeRequest,
    hash_token,
    private_storage,
)
from tests.factories import UserFactory

PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bytes(width: int = 1, height: int = 1) -> bytes:
    """A valid PNG of one white pixel (or more), built byte by byte."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


PNG_BYTES = png_bytes()

# Start of image, a JFIF header, a frame header and a scan: the structure a decoder reads.
JPEG_BYTES = (
    b"\xff\xd8"
    + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\xff\xdb\x00\x43\x00"
    + bytes([1] * 64)
    + b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"
    + b"\xff\xc4\x00\x14\x00\x01"
    + bytes(15)
    + b"\x00"
    + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    + b"\x00\x00"
    + b"\xff\xd9"
)


class DocumentFactory(factory.django.DjangoModelFactory[Document]):
    class Meta:
        model = Document

    owner = factory.SubFactory(UserFactory)
    kind = DocumentKind.CV
    title = factory.Sequence(lambda n: f"Curriculum vitae {n}")
    issued_on = dt.date(2025, 1, 15)
    expires_on = None


class DocumentVersionFactory(factory.django.DjangoModelFactory[DocumentVersion]):
    """A version whose file really is in the private storage."""

    class Meta:
        model = DocumentVersion

    document = factory.SubFactory(DocumentFactory)
    number = factory.Sequence(lambda n: n + 1)
    original_name = "cv.pdf"
    content_type = "application/pdf"
    size = len(PDF_BYTES)
    sha256 = hashlib.sha256(PDF_BYTES).hexdigest()

    @factory.lazy_attribute_sequence
    def storage_name(self, n: int) -> str:
        return private_storage().save(f"factory-{n:06d}", ContentFile(PDF_BYTES))


class RefereeRequestFactory(factory.django.DjangoModelFactory[RefereeRequest]):
    """Pass ``token=…`` to know the link; the row keeps only its hash."""

    class Meta:
        model = RefereeRequest
        exclude = ["token"]

    applicant = factory.SubFactory(UserFactory)
    referee_name = "Dr Amina Okafor"
    referee_email = factory.Sequence(lambda n: f"referee{n}@example.org")
    message = "For my emergency medicine elective applications."
    token = factory.Sequence(lambda n: f"referee-token-{n:04d}")
    token_hash = factory.LazyAttribute(lambda o: hash_token(o.token))


def stored_files(root: Any) -> list[str]:
    """Every file in the private storage's folder."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
