"""Every change to the vault: documents, versions, deletion, referee requests and letters.

Each service validates, writes, records the audit entry and queues the notifications.
Uploads arrive already checked (``uploads.check_upload``); a file reaches the private
storage only after every check passed, and is removed again if the rows cannot be saved.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, ProtectedError, RestrictedError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from medexchange.catalog.choices import DocumentKind
from medexchange.common.notifications import email_after_commit, notify_users
from medexchange.common.services import audit_record
from medexchange.documents.models import (
    REFEREE_LINK_DAYS,
    Document,
    DocumentAccess,
    DocumentVersion,
    RefereeRequest,
    hash_token,
    private_storage,
)
from medexchange.documents.uploads import CheckedUpload

# An applicant may have this many referee requests waiting at once (the platform must
# not become a way to send e-mail to anyone).
OPEN_REFEREE_REQUEST_LIMIT = 10
# A request can be sent again once this long has passed since the last e-mail.
REFEREE_RESEND_INTERVAL = dt.timedelta(hours=1)
REFEREE_LINK_LIFETIME = dt.timedelta(days=REFEREE_LINK_DAYS)


# --- Documents and versions -----------------------------------------------------------


def validate_dates(*, issued_on: dt.date, expires_on: dt.date | None) -> None:
    errors = {}
    if issued_on > timezone.localdate():
        errors["issued_on"] = _("The issue date cannot be in the future.")
    if expires_on is not None and expires_on < issued_on:
        errors["expires_on"] = _("The expiry date cannot be before the issue date.")
    if errors:
        raise ValidationError(errors)


def document_create(
    *,
    owner: Any,
    kind: str,
    title: str,
    issued_on: dt.date,
    expires_on: dt.date | None,
    upload: CheckedUpload,
    actor: Any,
) -> Document:
    """A new document in ``owner``'s vault, with ``upload`` as its version 1."""
    validate_dates(issued_on=issued_on, expires_on=expires_on)
    with _stored(upload) as storage_name, transaction.atomic():
        document = Document.objects.create(
            owner=owner, kind=kind, title=title, issued_on=issued_on, expires_on=expires_on
        )
        version = _version_create(
            document=document, upload=upload, storage_name=storage_name, number=1, actor=actor
        )
        audit_record(
            actor=actor,
            action="document.created",
            target=document,
            to_state="active",
            data={"kind": kind, "version": version.pk, "sha256": upload.sha256},
        )
    return document


def document_add_version(
    *, document: Document, upload: CheckedUpload, actor: Any
) -> DocumentVersion:
    """A new version of ``document``; earlier versions stay (applications may hold them)."""
    if document.is_confidential:
        raise ValidationError(_("A referee's letter cannot be replaced."))
    with _stored(upload) as storage_name, transaction.atomic():
        # Lock the document so two uploads at once cannot take the same number.
        locked = Document.objects.select_for_update().get(pk=document.pk)
        latest = locked.versions.aggregate(latest=Max("number"))["latest"] or 0
        version = _version_create(
            document=locked,
            upload=upload,
            storage_name=storage_name,
            number=latest + 1,
            actor=actor,
        )
        locked.save(update_fields=["updated_at"])
        audit_record(
            actor=actor,
            action="document.version_added",
            target=locked,
            from_state=f"v{latest}",
            to_state=f"v{version.number}",
            data={"version": version.pk, "sha256": upload.sha256},
        )
    return version


def document_update(
    *,
    document: Document,
    actor: Any,
    kind: str,
    title: str,
    issued_on: dt.date,
    expires_on: dt.date | None,
) -> Document:
    """Change the metadata (type, title, dates) of a document."""
    if document.is_confidential:
        raise ValidationError(_("A referee's letter cannot be changed."))
    validate_dates(issued_on=issued_on, expires_on=expires_on)
    new = {"kind": kind, "title": title, "issued_on": issued_on, "expires_on": expires_on}
    changed = {
        name: {"from": _jsonable(getattr(document, name)), "to": _jsonable(value)}
        for name, value in new.items()
        if getattr(document, name) != value
    }
    if not changed:
        return document
    with transaction.atomic():
        for name, value in new.items():
            setattr(document, name, value)
        document.save(update_fields=[*new, "updated_at"])
        audit_record(actor=actor, action="document.updated", target=document, data=changed)
    return document


def document_delete(*, document: Document, actor: Any) -> bool:
    """Delete a document, its versions and their files.

    A version attached to an application is protected by its foreign key: then the
    document only leaves the vault (``deleted_at``) and its files stay for the
    application's reviewers. Returns True when the files were deleted.
    """
    names = list(document.versions.values_list("storage_name", flat=True))
    pk = document.pk
    with transaction.atomic():
        try:
            with transaction.atomic():
                document.delete()
        except (ProtectedError, RestrictedError):
            document.deleted_at = timezone.now()
            document.save(update_fields=["deleted_at", "updated_at"])
            deleted = False
        else:
            document.pk = pk  # for the audit entry, which names the deleted row

            def remove_files() -> None:
                storage = private_storage()
                for name in names:
                    storage.delete(name)

            transaction.on_commit(remove_files)
            deleted = True
        audit_record(
            actor=actor,
            action="document.deleted",
            target=document,
            from_state="active",
            to_state="deleted" if deleted else "hidden",
            reason="" if deleted else "Attached to an application: files kept for reviewers.",
            data={"versions": len(names)},
        )
    return deleted


def document_access_record(
    *, version: DocumentVersion, user: Any, ip: str | None, inline: bool
) -> DocumentAccess:
    """Who opened which version: written by the download view before the file is sent."""
    try:
        address = str(ipaddress.ip_address(ip or ""))
    except ValueError:
        address = None
    return DocumentAccess.objects.create(
        version=version,
        user=user if user is not None and user.is_authenticated else None,
        ip=address,
        inline=inline,
    )


def document_check_for(
    document: Document, until: dt.date | None = None, *, today: dt.date | None = None
) -> str:
    """Why ``document`` will not do for an application: expired today, or no longer valid
    on ``until`` (e.g. the last day of the session). An empty string when it will do."""
    today = today or timezone.localdate()
    if document.expires_on is None:
        return ""
    if document.is_expired(today):
        return _("“%(title)s” expired on %(date)s.") % {
            "title": document.title,
            "date": date_format(document.expires_on, "DATE_FORMAT"),
        }
    if until is not None and document.expires_before(until):
        return _("“%(title)s” expires on %(date)s, before %(until)s.") % {
            "title": document.title,
            "date": date_format(document.expires_on, "DATE_FORMAT"),
            "until": date_format(until, "DATE_FORMAT"),
        }
    return ""


# --- Referee letters --------------------------------------------------------------------


def referee_request_create(
    *, applicant: Any, referee_name: str, referee_email: str, message: str, actor: Any
) -> tuple[RefereeRequest, str]:
    """Ask a referee for a letter; e-mails them a one-time link. Returns the request and
    the link's token (known only to the e-mail; the database keeps its hash)."""
    with transaction.atomic():
        # Lock the applicant's row so two requests at once cannot pass the limit together.
        get_user_model().objects.select_for_update().filter(pk=applicant.pk).first()
        if RefereeRequest.objects.filter(applicant=applicant).open().count() >= (
            OPEN_REFEREE_REQUEST_LIMIT
        ):
            raise ValidationError(
                _(
                    "You already have %(count)s requests waiting for a letter. Cancel one, or "
                    "wait for a referee to answer, before asking another."
                )
                % {"count": OPEN_REFEREE_REQUEST_LIMIT}
            )
        token = secrets.token_urlsafe(32)
        now = timezone.now()
        referee_request = RefereeRequest.objects.create(
            applicant=applicant,
            referee_name=referee_name,
            referee_email=referee_email,
            message=message,
            token_hash=hash_token(token),
            sent_at=now,
            expires_at=now + REFEREE_LINK_LIFETIME,
        )
        audit_record(
            actor=actor,
            action="referee_request.created",
            target=referee_request,
            to_state="pending",
            data={"referee_email": referee_email},
        )
        _email_referee(referee_request, token)
    return referee_request, token


def referee_request_resend(*, referee_request: RefereeRequest, actor: Any) -> str:
    """Send the request again with a new link (the old one stops working) and a new expiry."""
    with transaction.atomic():
        locked = RefereeRequest.objects.select_for_update().get(pk=referee_request.pk)
        if locked.used_at or locked.cancelled_at:
            raise ValidationError(_("This request is closed and cannot be sent again."))
        now = timezone.now()
        if locked.sent_at > now - REFEREE_RESEND_INTERVAL:
            raise ValidationError(
                _("The request was sent less than an hour ago. Please give the referee time.")
            )
        before = locked.status(now)
        token = secrets.token_urlsafe(32)
        locked.token_hash = hash_token(token)
        locked.sent_at = now
        locked.expires_at = now + REFEREE_LINK_LIFETIME
        locked.save(update_fields=["token_hash", "sent_at", "expires_at"])
        audit_record(
            actor=actor,
            action="referee_request.resent",
            target=locked,
            from_state=before,
            to_state="pending",
        )
        _email_referee(locked, token)
    return token


def referee_request_cancel(*, referee_request: RefereeRequest, actor: Any) -> RefereeRequest:
    """Withdraw a request: its link stops working."""
    with transaction.atomic():
        locked = RefereeRequest.objects.select_for_update().get(pk=referee_request.pk)
        if locked.used_at or locked.cancelled_at:
            raise ValidationError(_("This request is already closed."))
        before = locked.status()
        locked.cancelled_at = timezone.now()
        locked.save(update_fields=["cancelled_at"])
        audit_record(
            actor=actor,
            action="referee_request.cancelled",
            target=locked,
            from_state=before,
            to_state="cancelled",
        )
    return locked


def referee_letter_upload(*, referee_request: RefereeRequest, upload: CheckedUpload) -> Document:
    """The referee's letter, through their one-time link: a confidential recommendation in
    the applicant's vault. The link stops working; the applicant is told in the app."""
    with transaction.atomic():
        locked = (
            RefereeRequest.objects.select_for_update()
            .select_related("applicant")
            .get(pk=referee_request.pk)
        )
        if not locked.is_open():
            raise ValidationError(_("This link has already been used or is no longer valid."))
        applicant = locked.applicant
        with translation.override(applicant.preferred_language or "en"):
            title = _("Recommendation letter from %(name)s") % {"name": locked.referee_name}
        with _stored(upload) as storage_name:
            document = Document.objects.create(
                owner=applicant,
                kind=DocumentKind.RECOMMENDATION,
                title=title[:200],
                issued_on=timezone.localdate(),
                is_confidential=True,
            )
            version = _version_create(
                document=document, upload=upload, storage_name=storage_name, number=1, actor=None
            )
            locked.used_at = timezone.now()
            locked.document = document
            locked.save(update_fields=["used_at", "document"])
        audit_record(
            actor=None,
            action="referee_request.received",
            target=locked,
            from_state="pending",
            to_state="received",
            data={"document": document.pk, "version": version.pk, "sha256": upload.sha256},
        )
        audit_record(
            actor=None,
            action="document.created",
            target=document,
            to_state="active",
            reason="Uploaded by the referee through a one-time link.",
            data={"kind": document.kind, "version": version.pk, "referee_request": locked.pk},
        )
        notify_users(
            users=[applicant],
            message=gettext_noop(
                "%(referee)s sent your recommendation letter. It is confidential: you can "
                "attach it to your applications, but not read it."
            ),
            params={"referee": locked.referee_name},
            url=reverse("documents:list"),
        )
    return document


# --- Helpers --------------------------------------------------------------------------------


@contextmanager
def _stored(upload: CheckedUpload) -> Iterator[str]:
    """Save the upload to the private storage under a random name; delete it again if the
    block raises, so a failed write leaves no file behind."""
    upload.file.seek(0)
    storage = private_storage()
    name = storage.save(secrets.token_hex(20), upload.file)
    try:
        yield name
    except BaseException:
        storage.delete(name)
        raise


def _version_create(
    *,
    document: Document,
    upload: CheckedUpload,
    storage_name: str,
    number: int,
    actor: Any,
) -> DocumentVersion:
    return DocumentVersion.objects.create(
        document=document,
        number=number,
        storage_name=storage_name,
        original_name=upload.original_name,
        content_type=upload.content_type,
        size=upload.size,
        sha256=upload.sha256,
        uploaded_by=actor if actor is not None and actor.is_authenticated else None,
    )


def _email_referee(referee_request: RefereeRequest, token: str) -> None:
    applicant = referee_request.applicant
    language = applicant.preferred_language or "en"
    with translation.override(language):
        expires_on = date_format(timezone.localdate(referee_request.expires_at), "DATE_FORMAT")
    email_after_commit(
        to=referee_request.referee_email,
        template="documents/email/referee_request",
        context={
            "referee_name": referee_request.referee_name,
            "applicant_name": applicant.get_full_name(),
            "applicant_email": applicant.email,
            "message": referee_request.message,
            "url": reverse("documents:referee-upload", kwargs={"token": token}),
            "expires_on": expires_on,
        },
        language=language,
    )


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value
