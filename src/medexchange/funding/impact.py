"""What a fund achieved, for public pages: counts of the participants it funded, never
who they are.

A participant is funded by a fund when a scholarship award that was given (committed or
paid; not proposed, released or cancelled) holds a commitment on the fund; an
application counts once, in the year its award was first committed. The public sees:

- how many participants, per year, and the total awarded from the fund;
- per home country and per program — but a country or a program with fewer than
  ``SMALL_GROUP`` (3) participants is not named: its participants are counted together
  under "other countries" / "other programs", so that nobody can be singled out (a
  country with one funded resident would name that resident to anyone who knows them);
- a recipient's first name only when the recipient ticked "my name may be shown
  publicly" on their scholarship request (``ScholarshipRequest.consent_public_name``).

The queries read only the columns listed here: no name, e-mail address or need
statement of a recipient who did not consent is ever loaded.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, Sum
from django.utils import timezone
from django_countries import countries as country_names

from medexchange.funding.models import Commitment, Fund
from medexchange.funding.money import quantize
from medexchange.scholarships.choices import GIVEN_AWARDS

ZERO = Decimal(0)
#: A country or program with fewer participants than this is not named in public.
SMALL_GROUP = 3
#: The award statuses of a participant the fund actually gave money to.
GIVEN = sorted(GIVEN_AWARDS)
STORIES_SHOWN = 12

_REQUEST = "awards__request"
_APPLICATION = f"{_REQUEST}__application"


@dataclass(frozen=True)
class Group:
    label: str
    participants: int


@dataclass(frozen=True)
class Story:
    """A recipient who agreed to be named: first name, program, year."""

    first_name: str
    program: str
    year: int | None


@dataclass
class FundImpact:
    participants: int = 0
    total_awarded: Decimal = ZERO
    years: list[tuple[int, int]] = field(default_factory=list)  # (year, participants)
    countries: list[Group] = field(default_factory=list)  # named, most first
    other_countries: int = 0  # participants of countries with fewer than SMALL_GROUP
    programs: list[Group] = field(default_factory=list)
    other_programs: int = 0
    country_count: int = 0  # distinct home countries (named or not)
    program_count: int = 0
    stories: list[Story] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.participants == 0


def _group(counter: Counter[str], labels: dict[str, str]) -> tuple[list[Group], int]:
    named = [
        Group(labels[key], count) for key, count in counter.items() if key and count >= SMALL_GROUP
    ]
    other = sum(count for key, count in counter.items() if not key or count < SMALL_GROUP)
    named.sort(key=lambda group: (-group.participants, group.label))
    return named, other


def _year(moment: dt.datetime | None) -> int | None:
    return timezone.localtime(moment).year if moment is not None else None


def fund_impact(fund: Fund, *, stories: bool = False) -> FundImpact:
    """The fund's impact (see the module's docstring): one grouped query, plus one for
    the consenting recipients' first names when ``stories``."""
    rows = (
        Commitment.objects.filter(fund=fund, awards__status__in=GIVEN)
        .order_by()
        .values(
            application=F(f"{_APPLICATION}_id"),
            country=F(f"{_APPLICATION}__home_country__code"),
            program=F(f"{_APPLICATION}__session__opportunity_id"),
            program_title=F(f"{_APPLICATION}__session__opportunity__title"),
            committed_at=F("awards__committed_at"),
        )
        .annotate(amount=Sum("amount"))
    )
    first_year: dict[int, int | None] = {}
    country_of: dict[int, str] = {}
    program_of: dict[int, str] = {}
    program_titles: dict[str, str] = {}
    total = ZERO
    for row in rows:
        application = row["application"]
        total += Decimal(row["amount"] or 0)
        year = _year(row["committed_at"])
        known = first_year.get(application)
        if application not in first_year or (year is not None and (known is None or year < known)):
            first_year[application] = year
        country_of.setdefault(application, row["country"] or "")
        program = str(row["program"] or "")
        program_of.setdefault(application, program)
        if program:
            program_titles[program] = row["program_title"]
    countries = Counter(country_of.values())
    programs = Counter(program_of.values())
    named_countries, other_countries = _group(
        countries, {code: str(country_names.name(code)) for code in countries if code}
    )
    named_programs, other_programs = _group(programs, program_titles)
    years = Counter(year for year in first_year.values() if year is not None)
    impact = FundImpact(
        participants=len(first_year),
        total_awarded=quantize(total, fund.currency),
        years=sorted(years.items()),
        countries=named_countries,
        other_countries=other_countries,
        programs=named_programs,
        other_programs=other_programs,
        country_count=len([code for code in countries if code]),
        program_count=len([key for key in programs if key]),
    )
    if stories and impact.participants:
        impact.stories = consented_stories(fund)
    return impact


def first_name(full_name: str) -> str:
    parts = (full_name or "").split()
    return parts[0] if parts else ""


def consented_stories(fund: Fund, *, limit: int = STORIES_SHOWN) -> list[Story]:
    """Recipients of the fund who agreed to be named publicly: first name (never the
    family name or e-mail address), program, year; newest award first."""
    rows = (
        Commitment.objects.filter(
            fund=fund,
            awards__status__in=GIVEN,
            **{f"{_REQUEST}__consent_public_name": True},
        )
        .exclude(**{f"{_APPLICATION}__applicant__full_name": ""})
        .filter(**{f"{_APPLICATION}__applicant__isnull": False})
        .order_by("-awards__committed_at", "-pk")
        .values_list(
            f"{_APPLICATION}_id",
            f"{_APPLICATION}__applicant__full_name",
            f"{_APPLICATION}__session__opportunity__title",
            "awards__committed_at",
        )[: limit * 2]
    )
    seen: set[int] = set()
    found = []
    for application, full_name, program, committed_at in rows:
        if application in seen:
            continue
        seen.add(application)
        name = first_name(full_name)
        if name:
            found.append(Story(first_name=name, program=program or "", year=_year(committed_at)))
        if len(found) == limit:
            break
    return found
