"""A person's rights over their data: a copy of all of it, and erasure.

``personal_data_export`` builds a ZIP: ``data.json`` (account, profile, applications with
their timelines, documents' metadata, referee requests, notifications, saved searches)
and ``documents/`` with every file of the person's vault they may read. A confidential
referee letter is listed (that it exists, from whom, when) but its file is never
included: the applicant may not read it, so a copy must not hand it over either.

``account_delete`` erases the person and keeps anonymised statistics:

* open applications are withdrawn first through ``application_withdraw`` (seats are
  freed and waitlists move up); a stay *in progress* refuses the deletion — the host is
  responsible for someone on its wards, so the participant withdraws first, explicitly;
* every file and row of the vault, referee requests, the profile, notifications, saved
  searches, roles, e-mail addresses and second factors are deleted;
* applications are kept with ``applicant`` NULL and their free text blanked (statement,
  notes, reasons, checklist notes; the reviewers' private comments are deleted), so
  counts per session, state, home country and home institution stay true; their letters
  are revoked and lose the holder's name;
* audit entries about the person keep what happened but lose the name, the e-mail
  address and the person's own words;
* the user row itself is deleted (not deactivated): every foreign key to it is either
  ``CASCADE`` (their own data) or ``SET_NULL`` (other people's records), so nothing
  dangles and no scrubbed shell account can be signed into or re-registered against.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from medexchange.accounts.models import ApplicantProfile, Invitation, User
from medexchange.applications.choices import ACTIVE_STATES, ApplicationState
from medexchange.applications.models import (
    Application,
    ApplicationDocument,
    ChecklistItem,
    Letter,
    ReviewComment,
)
from medexchange.common.models import AuditEntry, Notification
from medexchange.common.services import audit_record
from medexchange.documents.models import (
    Document,
    DocumentAccess,
    DocumentVersion,
    RefereeRequest,
    private_storage,
)

S = ApplicationState
ERASED = "[erased]"
#: What the applicant's own timeline leaves out (the host's private review work).
PRIVATE_ACTIONS = frozenset({"application.scored", "application.commented"})
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


# --------------------------------------------------------------------------- export


def _value(value: Any) -> Any:
    """A JSON-ready form of a model field's value."""
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _fields(instance: models.Model, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """Every concrete field of ``instance``; a foreign key as its id and its text."""
    skipped = {"id", *exclude}
    result: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in skipped:
            continue
        if field.is_relation:
            related = getattr(instance, field.name)
            result[field.name] = None if related is None else str(related)
        else:
            result[field.name] = _value(getattr(instance, field.attname))
    return result


def safe_file_name(name: str, *, limit: int = 80) -> str:
    cleaned = UNSAFE_NAME.sub("_", name).strip("._") or "file"
    return cleaned[-limit:]


def _account(user: User) -> dict[str, Any]:
    from allauth.account.models import EmailAddress

    return {
        "email": user.email,
        "full_name": user.full_name,
        "preferred_language": user.preferred_language,
        "time_zone": user.time_zone,
        "date_joined": _value(user.date_joined),
        "last_login": _value(user.last_login),
        "email_addresses": [
            {"email": row.email, "verified": row.verified, "primary": row.primary}
            for row in EmailAddress.objects.filter(user=user).order_by("pk")
        ],
        "institution_roles": [
            {
                "institution": str(role.institution),
                "role": role.role,
                "granted_at": _value(role.granted_at),
            }
            for role in user.institution_roles.select_related("institution").order_by("pk")
        ],
        "network_staff_roles": [
            {"network": str(role.network), "granted_at": _value(role.granted_at)}
            for role in user.network_staff_roles.select_related("network").order_by("pk")
        ],
    }


def _profile(user: User) -> dict[str, Any] | None:
    profile = ApplicantProfile.objects.filter(user=user).first()
    if profile is None:
        return None
    data = _fields(profile, exclude=["user"])
    for field in profile._meta.many_to_many:
        data[field.name] = [str(item) for item in getattr(profile, field.name).all()]
    return data


def _applications(user: User) -> list[dict[str, Any]]:
    from medexchange.common.selectors import audit_trail_for

    rows = []
    applications = (
        Application.objects.owned_by(user)
        .select_related("session__opportunity__host", "home_institution", "home_country")
        .prefetch_related("attachments__version__document", "checklist", "letters")
        .order_by("created_at", "pk")
    )
    for application in applications:
        session = application.session
        data = _fields(application, exclude=["applicant", "session", "updated_at"])
        data.update(
            {
                "id": application.pk,
                "opportunity": session.opportunity.title,
                "host": session.opportunity.host.name,
                "session": {
                    "start_date": _value(session.start_date),
                    "end_date": _value(session.end_date),
                },
                "documents": [
                    {
                        "document": attachment.version.document_id,
                        "version": attachment.version.number,
                        "kind": attachment.version.document.kind,
                        "title": attachment.version.document.title,
                        "attached_at": _value(attachment.attached_at),
                    }
                    for attachment in application.attachments.all()
                ],
                "checklist": [
                    {
                        "step": item.kind,
                        "note": item.note,
                        "participant_done_at": _value(item.applicant_done_at),
                        "host_done_at": _value(item.host_done_at),
                    }
                    for item in application.checklist.all()
                ],
                "letters": [
                    {
                        "kind": letter.kind,
                        "verification_code": letter.verification_code,
                        "issued_at": _value(letter.issued_at),
                        "revoked_at": _value(letter.revoked_at),
                        "text": letter.body,
                    }
                    for letter in application.letters.all()
                ],
                "timeline": [
                    {
                        "at": _value(entry.created_at),
                        "action": entry.action,
                        "from": entry.from_state,
                        "to": entry.to_state,
                        "by": str(entry.actor) if entry.actor else "MedExchange",
                        "reason": entry.reason,
                    }
                    for entry in audit_trail_for(application)
                    .exclude(action__in=PRIVATE_ACTIONS)
                    .order_by("created_at", "pk")
                ],
            }
        )
        rows.append(data)
    return rows


def personal_data_export(user: User) -> bytes:
    """A ZIP of everything MedExchange holds about ``user`` that they may read."""
    storage = private_storage()
    buffer = io.BytesIO()
    documents: list[dict[str, Any]] = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for document in (
            Document.objects.filter(owner=user).prefetch_related("versions").order_by("pk")
        ):
            versions = []
            for version in sorted(document.versions.all(), key=lambda v: v.number):
                entry = _fields(version, exclude=["document", "storage_name", "uploaded_by"])
                entry["number"] = version.number
                entry["file"] = None
                if document.is_confidential:
                    entry["withheld"] = "confidential referee letter"
                else:
                    path = (
                        f"documents/{document.kind}-{version.pk}-"
                        f"{safe_file_name(version.original_name)}"
                    )
                    try:
                        with storage.open(version.storage_name, "rb") as handle:
                            archive.writestr(path, handle.read())
                    except FileNotFoundError:
                        entry["missing"] = True
                    else:
                        entry["file"] = path
                versions.append(entry)
            documents.append(
                {"id": document.pk, **_fields(document, exclude=["owner"]), "versions": versions}
            )
        data = {
            "format": "medexchange-personal-data/1",
            "exported_at": _value(timezone.now()),
            "account": _account(user),
            "profile": _profile(user),
            "applications": _applications(user),
            "documents": documents,
            "referee_requests": [
                {
                    **_fields(row, exclude=["applicant", "token_hash", "document"]),
                    "status": row.status(),
                    "letter_document": row.document_id,
                }
                for row in RefereeRequest.objects.filter(applicant=user).order_by("pk")
            ],
            "notifications": [
                _fields(row, exclude=["user"])
                for row in Notification.objects.filter(user=user).order_by("pk")
            ],
            "saved_searches": _saved_searches(user),
        }
        archive.writestr(
            "data.json", json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
        )
    audit_record(
        actor=user,
        action="account.data_exported",
        target=user,
        data={"documents": len(documents), "applications": len(data["applications"])},
    )
    return buffer.getvalue()


def _saved_searches(user: User) -> list[dict[str, Any]]:
    from medexchange.catalog.models import SavedSearch

    return [
        _fields(row, exclude=["user"])
        for row in SavedSearch.objects.filter(user=user).order_by("pk")
    ]


# --------------------------------------------------------------------------- erasure


def _scrub(value: Any, needles: list[str]) -> Any:
    """``value`` (JSON) with every string holding one of ``needles`` erased."""
    if isinstance(value, str):
        lowered = value.lower()
        return ERASED if any(needle in lowered for needle in needles) else value
    if isinstance(value, list):
        return [_scrub(item, needles) for item in value]
    if isinstance(value, dict):
        return {key: _scrub(item, needles) for key, item in value.items()}
    return value


def _replace(text: str, needles: list[str]) -> str:
    for needle in needles:
        text = re.sub(re.escape(needle), ERASED, text, flags=re.IGNORECASE)
    return text


def _emails(user: User) -> set[str]:
    """Every e-mail address of ``user``, in lower case."""
    from allauth.account.models import EmailAddress

    found = {user.email.lower()}
    found |= {row.email.lower() for row in EmailAddress.objects.filter(user=user)}
    return found


def _needles(user: User) -> list[str]:
    """The strings that identify ``user`` in other rows: e-mail addresses and name."""
    found = _emails(user)
    name = user.full_name.strip().lower()
    if len(name) >= 4:  # a two-letter name would erase half the log
        found.add(name)
    return sorted(found, key=len, reverse=True)


def _anonymise_audit(user: User, application_ids: list[int], needles: list[str]) -> int:
    """Keep what happened, lose who it happened to (name, address, own words)."""
    content_type = ContentType.objects.get_for_model
    own = {
        content_type(User): [user.pk],
        content_type(ApplicantProfile): list(
            ApplicantProfile.objects.filter(user=user).values_list("pk", flat=True)
        ),
        content_type(Document): list(
            Document.objects.filter(owner=user).values_list("pk", flat=True)
        ),
        content_type(RefereeRequest): list(
            RefereeRequest.objects.filter(applicant=user).values_list("pk", flat=True)
        ),
        content_type(Application): application_ids,
    }
    about = Q(pk__in=[])
    for kind, ids in own.items():
        if ids:
            about |= Q(target_type=kind, target_id__in=[str(pk) for pk in ids])
    mentions = Q(pk__in=[])
    for needle in needles:
        mentions |= Q(target_repr__icontains=needle) | Q(reason__icontains=needle)
        mentions |= Q(data_text__icontains=needle)
    entries = AuditEntry.objects.annotate(data_text=Cast("data", TextField())).filter(
        about | mentions
    )
    application_type = content_type(Application)
    own_keys = {(kind.pk, str(pk)) for kind, ids in own.items() for pk in ids}
    changed = 0
    for entry in entries.select_related("target_type"):
        if (entry.target_type_id, entry.target_id) in own_keys:
            if entry.target_type_id == application_type.pk:
                entry.target_repr = _replace(entry.target_repr, needles)
            else:
                entry.target_repr = f"{entry.target_type.model} #{entry.target_id} ({ERASED})"
                entry.data = {}  # e.g. the referee's e-mail address, the old profile values
            if entry.actor_id == user.pk:
                entry.reason = ""  # the person's own words (a withdrawal's reason…)
        entry.target_repr = _replace(entry.target_repr, needles)[:255]
        entry.reason = _replace(entry.reason, needles)
        entry.data = _scrub(entry.data, needles)
        entry.save(update_fields=["target_repr", "reason", "data"])
        changed += 1
    return changed


def account_delete(*, user: User, actor: Any, password_confirmation: str) -> dict[str, int]:
    """Erase ``user`` (see the module's docstring). Only the person themselves may."""
    from medexchange.applications.services import application_withdraw

    if actor is None or actor.pk != user.pk:
        raise PermissionDenied
    if not password_confirmation or not user.check_password(password_confirmation):
        raise ValidationError({"password": _("That is not your password.")}, code="password")
    if user.is_superuser:
        raise ValidationError(
            _("A platform administrator's account is removed by another administrator."),
            code="superuser",
        )
    in_progress = Application.objects.filter(applicant=user, state=S.IN_PROGRESS)
    if in_progress.exists():
        raise ValidationError(
            _(
                "You are on a placement now (%(opportunity)s). Withdraw from it on its page, "
                "or wait until it is completed, then delete your account."
            )
            % {
                "opportunity": in_progress.select_related("session__opportunity")[
                    0
                ].session.opportunity.title
            },
            code="in_progress",
        )
    user_pk = user.pk
    needles = _needles(user)
    with transaction.atomic():
        withdrawn = 0
        for application in Application.objects.filter(
            applicant=user, state__in=ACTIVE_STATES
        ).order_by("pk"):
            application_withdraw(application=application, actor=user, reason="")
            withdrawn += 1
        applications = Application.objects.filter(applicant=user)
        application_ids = list(applications.values_list("pk", flat=True))
        names = list(
            DocumentVersion.objects.filter(document__owner=user).values_list(
                "storage_name", flat=True
            )
        )
        # The audit log first: it needs the rows that are about to go.
        _anonymise_audit(user, application_ids, needles)
        applications.update(
            applicant=None,
            statement="",
            endorsement_note="",
            decision_reason="",
            updated_at=timezone.now(),
        )
        # Attachments protect their versions; the person's files go, wherever attached.
        ApplicationDocument.objects.filter(version__document__owner=user).delete()
        ChecklistItem.objects.filter(application_id__in=application_ids).update(note="")
        ReviewComment.objects.filter(application_id__in=application_ids).delete()
        now = timezone.now()
        Letter.objects.filter(application_id__in=application_ids, revoked_at__isnull=True).update(
            revoked_at=now
        )
        Letter.objects.filter(application_id__in=application_ids).update(holder_name="", body="")
        # Other people's notifications that name the person (a withdrawal told the host).
        for notification in Notification.objects.exclude(user=user).filter(
            _any_contains("message", needles)
        ):
            notification.message = _replace(notification.message, needles)[:500]
            notification.save(update_fields=["message"])
        DocumentAccess.objects.filter(user=user).update(ip=None)
        Invitation.objects.filter(_any_iexact("email", _emails(user))).delete()
        documents = Document.objects.filter(owner=user).count()
        # Everything else is the person's own and goes with the row (``CASCADE``): the
        # vault, referee requests, profile, notifications, saved searches, roles, e-mail
        # addresses and second factors. Other people's rows pointing here are SET_NULL.
        user.delete()
        transaction.on_commit(partial(_delete_files, names))
        counts = {
            "applications_withdrawn": withdrawn,
            "applications_anonymised": len(application_ids),
            "documents_deleted": documents,
            "files_deleted": len(names),
        }
        # The row is gone: the entry names only its type and id.
        entry = audit_record(
            actor=None, action="account.deleted", target=User(pk=user_pk), data=counts
        )
        entry.target_repr = f"user #{user_pk}"
        entry.save(update_fields=["target_repr"])
    return counts


def _any_contains(field: str, needles: list[str]) -> Q:
    condition = Q(pk__in=[])
    for needle in needles:
        condition |= Q(**{f"{field}__icontains": needle})
    return condition


def _any_iexact(field: str, values: Iterable[str]) -> Q:
    condition = Q(pk__in=[])
    for value in values:
        condition |= Q(**{f"{field}__iexact": value})
    return condition


def _delete_files(names: list[str]) -> None:
    storage = private_storage()
    for name in names:
        storage.delete(name)
