"""Cron alternative to the beat schedule: ``manage.py advance_placements`` daily."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from medexchange.applications import services


class Command(BaseCommand):
    help = "Start confirmed stays on their first day and complete them after their last."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = services.placements_advance()
        self.stdout.write(f"{counts['started']} started, {counts['completed']} completed.")
