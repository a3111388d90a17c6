"""Issue (and e-mail) each donor's statement of a fiscal year: ``--year 2026``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from medexchange.funding.receipts import fiscal_year_label, fiscal_year_of, year_end_statements


class Command(BaseCommand):
    help = (
        "Issue one year-end statement per donor who gave in a fiscal year (numbered in "
        "that year's receipt sequence) and e-mail it. Donors who already have the year's "
        "statement are skipped, so running it twice sends nothing twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--year",
            type=int,
            required=True,
            help="The fiscal year, named by the calendar year it begins in.",
        )
        parser.add_argument(
            "--no-email", action="store_true", help="Issue the statements without e-mailing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        year: int = options["year"]
        current = fiscal_year_of(timezone.localdate())
        if not 2000 <= year <= current:
            raise CommandError(f"Give a fiscal year between 2000 and {current}.")
        run = year_end_statements(fiscal_year=year, send=not options["no_email"])
        self.stdout.write(
            f"Fiscal year {fiscal_year_label(year)}: {len(run.issued)} statement(s) issued, "
            f"{len(run.already)} already issued, {run.without_email} gift(s) without a donor "
            "or e-mail address (no statement)."
        )
