"""Scheduled work of agreements."""

from __future__ import annotations

from celery import shared_task

from medexchange.agreements import services


@shared_task
def agreements_advance() -> dict[str, int]:
    """Run daily: agreements start and expire with their academic years; renewal
    reminders go out 90 and 30 days before expiry."""
    return services.agreements_advance()
