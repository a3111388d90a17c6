"""Every upload to the vault is checked here, and only here.

The rules: a size limit (``settings.DOCUMENT_MAX_UPLOAD_BYTES``); the type is read from
the content (magic bytes through ``filetype``, then a structural check of the format),
never from the name; only PDF, JPEG and PNG; a file name holding a folder path or control
characters is refused, and the kept name is cleaned and given the extension of the type
found. Each refusal is a ``ValidationError`` with a translated message for the field.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from typing import IO, Any

import filetype  # type: ignore[import-untyped]
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
EXTENSIONS = {PDF: "pdf", PNG: "png", JPEG: "jpg"}
ALL_TYPES = frozenset(EXTENSIONS)
PDF_ONLY = frozenset({PDF})

MAX_NAME_STEM = 100
# Folder separators, plain or percent-encoded: a browser sends a bare file name.
PATH_PARTS = ("/", "\\", "%2f", "%5c")
# Characters no file system or header should see in a name; replaced by "_".
UNSAFE_NAME_CHARACTERS = re.compile(r'[<>:"|?*;%`$]')
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
# Acrobat's rule: the end-of-file marker is within the last 1024 bytes.
PDF_TAIL = 1024
# JPEG header segments (EXIF, ICC profiles, thumbnails) are read up to the start of scan.
JPEG_HEADER_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check; ``file`` is rewound, ready to store."""

    file: Any
    original_name: str
    content_type: str
    size: int
    sha256: str


def check_upload(upload: Any, *, allowed: Collection[str] = ALL_TYPES) -> CheckedUpload:
    """Check ``upload`` (a Django ``UploadedFile``) or raise ``ValidationError``."""
    if upload is None or not getattr(upload, "name", None):
        raise ValidationError(_("Choose a file to upload."), code="required")
    size = int(upload.size or 0)
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    limit = settings.DOCUMENT_MAX_UPLOAD_BYTES
    if size > limit:
        raise ValidationError(
            _("The file is too large (%(size)s). The largest file accepted is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)},
            code="too_large",
        )
    check_name(upload.name)
    content_type = detect_type(upload, allowed=allowed)
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedUpload(
        file=upload,
        original_name=clean_name(upload.name, EXTENSIONS[content_type]),
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
    )


def check_name(name: str) -> None:
    """Refuse names a browser never sends: folder paths, parent folders, control characters."""
    lowered = name.lower()
    if any(part in lowered for part in PATH_PARTS) or name.strip().startswith(".."):
        raise ValidationError(
            _(
                "The file name contains a folder path (“/”, “\\” or “..”). "
                "Rename the file and upload it again."
            ),
            code="path_in_name",
        )
    # Category C: control, format (e.g. the right-to-left override that disguises
    # "cv‮fdp.exe"), surrogate, private use and unassigned characters.
    if any(unicodedata.category(character).startswith("C") for character in name):
        raise ValidationError(
            _("The file name contains control characters. Rename the file and upload it again."),
            code="control_in_name",
        )


def clean_name(name: str, extension: str) -> str:
    """A name safe to show and to send in a header: no unsafe characters, a bounded length,
    and the extension of the type found in the content."""
    name = unicodedata.normalize("NFC", name).strip()
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = UNSAFE_NAME_CHARACTERS.sub("_", stem)
    stem = re.sub(r"\s+", " ", stem).strip(" ._-")[:MAX_NAME_STEM].strip(" ._-")
    return f"{stem or 'document'}.{extension}"


def detect_type(upload: IO[bytes], *, allowed: Collection[str] = ALL_TYPES) -> str:
    """The content type read from the content, checked against its format's structure."""
    upload.seek(0)
    head = upload.read(8192)
    kind = filetype.guess(head)
    mime = kind.mime if kind is not None else ""
    if mime not in allowed:
        if allowed == PDF_ONLY:
            message = _(
                "This file is not a PDF document. Only PDF files are accepted, "
                "whatever the file name says."
            )
        else:
            message = _(
                "This file is not a PDF, JPEG or PNG document. Only those types are "
                "accepted, whatever the file name says."
            )
        raise ValidationError(message, code="type")
    well_formed = {PDF: _is_pdf, PNG: _is_png, JPEG: _is_jpeg}[mime](upload, head)
    upload.seek(0)
    if not well_formed:
        raise ValidationError(
            _(
                "The file looks like a %(type)s document but is damaged or incomplete. "
                "Save or scan it again and upload the new file."
            )
            % {"type": EXTENSIONS[mime].upper()},
            code="damaged",
        )
    return mime


def _tail(upload: IO[bytes], length: int) -> bytes:
    upload.seek(0, 2)
    end = upload.tell()
    upload.seek(max(0, end - length))
    return upload.read()


def _is_pdf(upload: IO[bytes], head: bytes) -> bool:
    return re.match(rb"%PDF-[12]\.\d", head) is not None and b"%%EOF" in _tail(upload, PDF_TAIL)


def _is_png(upload: IO[bytes], head: bytes) -> bool:
    """Signature, then an IHDR chunk of 13 bytes with a non-zero size, and IEND at the end."""
    if not head.startswith(PNG_SIGNATURE) or len(head) < 24:
        return False
    length = int.from_bytes(head[8:12], "big")
    width = int.from_bytes(head[16:20], "big")
    height = int.from_bytes(head[20:24], "big")
    return (
        length == 13
        and head[12:16] == b"IHDR"
        and width > 0
        and height > 0
        and _tail(upload, len(PNG_END)) == PNG_END
    )


def _is_jpeg(upload: IO[bytes], head: bytes) -> bool:
    """Start of image, then well-formed marker segments up to the start of the scan."""
    upload.seek(0)
    data = upload.read(JPEG_HEADER_LIMIT)
    if not data.startswith(b"\xff\xd8"):
        return False
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return False
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xDA:  # start of scan: the header is complete
            return True
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            position += 2
            continue
        if marker in {0x00, 0xD8, 0xD9}:
            return False
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if length < 2:
            return False
        position += 2 + length
    return False
