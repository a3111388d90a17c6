"""Cron alternative to the beat schedule: ``manage.py purge_documents`` daily."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from medexchange.applications.retention import documents_purge_finished


class Command(BaseCommand):
    help = (
        "Delete the attachments of applications closed longer than DOCUMENT_RETENTION_DAYS, "
        "and the document versions and files nobody holds any more."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = documents_purge_finished()
        self.stdout.write(
            f"{counts['applications']} application(s) purged, "
            f"{counts['versions']} document version(s) deleted."
        )
