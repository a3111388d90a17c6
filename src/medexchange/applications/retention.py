"""Retention: the files of finished applications are deleted after a configurable time.

``settings.DOCUMENT_RETENTION_DAYS`` after an application closed (``closed_at``), its
*attachments* are removed, so the host's reviewers and the home coordinators no longer
reach the files through it, and ``documents_purged_at`` is set. A version whose
attachments are then all gone is deleted with its file only when it is no longer the
applicant's own data: superseded in the vault by a newer version, or its document taken
out of the vault by the owner (``deleted_at``). The current version of a document still
in the vault stays — it belongs to the applicant, who deletes it when they wish.
A version still attached to another application (open, or closed more recently) stays.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from medexchange.applications.choices import FINAL_STATES
from medexchange.applications.models import Application, ApplicationDocument
from medexchange.common.services import audit_record
from medexchange.documents.models import Document, DocumentVersion, private_storage


def retention_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    days = int(getattr(settings, "DOCUMENT_RETENTION_DAYS", 365))
    return (now or timezone.now()) - dt.timedelta(days=days)


def applications_due_for_purge(now: dt.datetime | None = None) -> Any:
    return Application.objects.filter(
        state__in=FINAL_STATES,
        closed_at__isnull=False,
        closed_at__lt=retention_cutoff(now),
        documents_purged_at__isnull=True,
    )


def _removable(version_ids: set[int]) -> list[DocumentVersion]:
    """Of ``version_ids``, those no application holds and that left the owner's vault."""
    candidates = (
        DocumentVersion.objects.filter(pk__in=version_ids)
        .exclude(pk__in=ApplicationDocument.objects.values("version_id"))
        .select_related("document")
    )
    latest = dict(
        DocumentVersion.objects.filter(document_id__in=candidates.values("document_id"))
        .values("document_id")
        .annotate(latest=Max("number"))
        .values_list("document_id", "latest")
    )
    return [
        version
        for version in candidates
        if version.document.deleted_at is not None
        or version.number < latest.get(version.document_id, version.number)
    ]


def documents_purge_finished(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Remove the attachments of applications closed longer than the retention period,
    then the versions (and files) nobody holds any more. Returns what was done."""
    now = now or timezone.now()
    purged_applications = 0
    deleted_versions = 0
    for pk in applications_due_for_purge(now).order_by("pk").values_list("pk", flat=True):
        names: list[str] = []
        with transaction.atomic():
            application = Application.objects.select_for_update().get(pk=pk)
            if application.documents_purged_at is not None:
                continue
            attachments = ApplicationDocument.objects.filter(application=application)
            version_ids = set(attachments.values_list("version_id", flat=True))
            attachments.delete()
            removable = _removable(version_ids)
            names = [version.storage_name for version in removable]
            document_ids = {version.document_id for version in removable}
            DocumentVersion.objects.filter(pk__in=[version.pk for version in removable]).delete()
            # A document that left the vault and has no version left is gone for good.
            Document.objects.filter(
                pk__in=document_ids, deleted_at__isnull=False, versions__isnull=True
            ).delete()
            application.documents_purged_at = now
            application.save(update_fields=["documents_purged_at", "updated_at"])
            audit_record(
                actor=None,
                action="application.documents_purged",
                target=application,
                reason="retention",
                data={
                    "attachments": len(version_ids),
                    "versions_deleted": len(names),
                    "retention_days": int(getattr(settings, "DOCUMENT_RETENTION_DAYS", 365)),
                },
            )
            transaction.on_commit(partial(_delete_files, names))
        purged_applications += 1
        deleted_versions += len(names)
    return {"applications": purged_applications, "versions": deleted_versions}


def _delete_files(names: list[str]) -> None:
    storage = private_storage()
    for name in names:
        storage.delete(name)
