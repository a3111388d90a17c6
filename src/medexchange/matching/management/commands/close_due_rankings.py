"""Cron alternative to the beat schedule: ``manage.py close_due_rankings`` every few minutes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from medexchange.matching import services


class Command(BaseCommand):
    help = "Stop taking rankings in match cycles whose ranking window has ended."

    def handle(self, *args: Any, **options: Any) -> None:
        closed = services.match_cycles_close_due()
        self.stdout.write(f"{closed} cycle(s) closed for ranking.")
