"""Cron alternative to the beat schedule: ``manage.py agreements_advance`` daily."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from medexchange.agreements import services


class Command(BaseCommand):
    help = "Start and expire agreements with their academic years; send renewal reminders."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = services.agreements_advance()
        self.stdout.write(
            f"{counts['activated']} activated, {counts['expired']} expired, "
            f"{counts['reminded']} reminded."
        )
