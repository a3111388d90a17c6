"""Scheduled work of applications: expire offers, move stays along, purge old documents."""

from __future__ import annotations

from celery import shared_task

from medexchange.applications import services


@shared_task
def expire_offers() -> int:
    """Run every few minutes: unanswered offers expire and the waitlist moves up."""
    return len(services.offers_expire())


@shared_task
def advance_placements() -> dict[str, int]:
    """Run daily: confirmed stays start on their first day and complete after their last."""
    return services.placements_advance()


@shared_task
def purge_finished_documents() -> dict[str, int]:
    """Run daily: files of applications closed longer than DOCUMENT_RETENTION_DAYS go."""
    from medexchange.applications.retention import documents_purge_finished

    return documents_purge_finished()
