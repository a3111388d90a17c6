"""Cron alternative to the beat schedule: ``manage.py expire_offers`` every few minutes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from medexchange.applications import services


class Command(BaseCommand):
    help = "Expire unanswered offers past their deadline and move the waitlists up."

    def handle(self, *args: Any, **options: Any) -> None:
        expired = services.offers_expire()
        self.stdout.write(f"{len(expired)} offer(s) expired.")
