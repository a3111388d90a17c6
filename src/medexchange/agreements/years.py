"""Academic years: 2026 means 2026/27, starting on the first day of
``settings.ACADEMIC_YEAR_START_MONTH`` (September by default). Pure functions."""

from __future__ import annotations

import datetime as dt

from django.conf import settings


def start_month() -> int:
    return int(getattr(settings, "ACADEMIC_YEAR_START_MONTH", 9))


def academic_year_of(date: dt.date) -> int:
    """The academic year ``date`` falls in: with September, 2026-08-31 is in 2025/26."""
    return date.year if date.month >= start_month() else date.year - 1


def year_starts(year: int) -> dt.date:
    return dt.date(year, start_month(), 1)


def year_ends(year: int) -> dt.date:
    """The last day of academic year ``year``."""
    return dt.date(year + 1, start_month(), 1) - dt.timedelta(days=1)


def year_label(year: int) -> str:
    """2026 → "2026/27"."""
    return f"{year}/{(year + 1) % 100:02d}"
