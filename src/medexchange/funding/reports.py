"""Reads for the fund pages and the finance staff's reports, all derived from the ledger.

Every figure is one grouped query of ``LedgerEntry`` (never a stored balance). Rows are
grouped by the *day the money moved* and folded into months, quarters or years in
Python, so the same code runs on SQLite and PostgreSQL without date-truncation
functions (and SQLite calls no Python function per row).

The day the money moved (``movement_day``):
    donation      the day the gift was received (``Donation.received_on``)
    disbursement  the day it was paid (``Disbursement.paid_on``)
    return        the day it came back (``Disbursement.returned_on``)
    anything else the day the entry was written (refunds, commitments, releases,
                  adjustments), in the current time zone
so a cheque received in January and recorded in March counts in January.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import models
from django.db.models import Case, DateField, F, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.db.models.query import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries as country_names

from medexchange.funding.choices import RECEIVED_STATUSES, LedgerKind
from medexchange.funding.models import Donation, Fund, LedgerEntry
from medexchange.funding.money import quantize
from medexchange.funding.selectors import FundTotals, totals_from_sums

ZERO = Decimal(0)
K = LedgerKind

#: The kinds of a scholarship's money (the by-country and by-program tables).
AWARD_KINDS = (K.COMMITMENT, K.RELEASE, K.DISBURSEMENT, K.RETURN)


def movement_day() -> Coalesce:
    """The day an entry's money moved (see the module's docstring), as a date."""
    return Coalesce(
        Case(
            When(kind=K.DONATION, then=F("donation__received_on")),
            When(kind=K.DISBURSEMENT, then=F("disbursement__paid_on")),
            When(kind=K.RETURN, then=F("disbursement__returned_on")),
            default=Value(None, output_field=DateField()),
            output_field=DateField(),
        ),
        TruncDate("created_at"),
        output_field=DateField(),
    )


def as_date(value: Any) -> dt.date:
    """SQLite hands grouped dates back as text; PostgreSQL as dates."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# --------------------------------------------------------------------------- periods


class Granularity(models.TextChoices):
    """The periods of a report."""

    MONTH = "month", gettext_lazy("Month")
    QUARTER = "quarter", gettext_lazy("Quarter")
    YEAR = "year", gettext_lazy("Year")


def period_start(day: dt.date, granularity: str) -> dt.date:
    """The first day of the month, quarter or year holding ``day``."""
    if granularity == Granularity.YEAR:
        return dt.date(day.year, 1, 1)
    if granularity == Granularity.QUARTER:
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, day.month, 1)


def next_period(start: dt.date, granularity: str) -> dt.date:
    months = {"month": 1, "quarter": 3, "year": 12}[granularity]
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def periods(start: dt.date, end: dt.date, granularity: str) -> list[tuple[dt.date, dt.date]]:
    """(first day, last day) of each period from ``start`` to ``end``, both clipped to
    the range: the first and last period may be partial."""
    result = []
    cursor = period_start(start, granularity)
    while cursor <= end:
        following = next_period(cursor, granularity)
        result.append((max(cursor, start), min(following - dt.timedelta(days=1), end)))
        cursor = following
    return result


def period_label(first: dt.date, granularity: str) -> str:
    """The period's name in the reader's language: "March 2026", "Q1 2026" or "2026"."""
    if granularity == Granularity.YEAR:
        return str(first.year)
    if granularity == Granularity.QUARTER:
        return _("Q%(quarter)d %(year)d") % {
            "quarter": (first.month - 1) // 3 + 1,
            "year": first.year,
        }
    return formats.date_format(first, "YEAR_MONTH_FORMAT")


def count_periods(start: dt.date, end: dt.date, granularity: str) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    if granularity == Granularity.YEAR:
        return end.year - start.year + 1
    if granularity == Granularity.QUARTER:
        return (end.year * 4 + (end.month - 1) // 3) - (start.year * 4 + (start.month - 1) // 3) + 1
    return months + 1


# --------------------------------------------------------------------------- the fund page


@dataclass(frozen=True)
class MonthFlow:
    """One month of a fund's money: in = donations - refunds, out = disbursements -
    returns (both in the fund's currency; either may be negative in a month with only
    refunds or only returns)."""

    month: dt.date
    money_in: Decimal
    money_out: Decimal

    @property
    def label(self) -> str:
        return formats.date_format(self.month, "YEAR_MONTH_FORMAT")

    @property
    def short_label(self) -> str:
        return formats.date_format(self.month, "M")


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


#: (kind, first day of a month) → (Σ held_delta, Σ committed_delta) of a fund's ledger.
MonthSums = dict[tuple[str, dt.date], tuple[Decimal, Decimal]]


@dataclass(frozen=True)
class FundFigures:
    """A fund's totals and its money in and out per month over its whole history, both
    folded from its ledger up to the entry ``version``."""

    version: int
    currency: str
    sums: MonthSums

    @property
    def totals(self) -> FundTotals:
        """The same figures as ``selectors.fund_totals`` (the same formula)."""
        by_kind: dict[str, tuple[Decimal, Decimal]] = {}
        for (kind, _month), (held, committed) in self.sums.items():
            total_held, total_committed = by_kind.get(kind, (ZERO, ZERO))
            by_kind[kind] = (total_held + held, total_committed + committed)
        return totals_from_sums(by_kind, self.currency)

    def flows(self, *, months: int = 24, today: dt.date | None = None) -> list[MonthFlow]:
        """Money in (donations - refunds) and out (disbursements - returns) in each of
        the last ``months`` months up to this one (from the first month with a movement,
        if later); ``[]`` when no money has moved in or out."""
        money_in: dict[dt.date, Decimal] = defaultdict(Decimal)
        money_out: dict[dt.date, Decimal] = defaultdict(Decimal)
        for (kind, month), (held, _committed) in self.sums.items():
            if kind in (K.DONATION, K.REFUND):
                money_in[month] += held
            elif kind in (K.DISBURSEMENT, K.RETURN):
                money_out[month] -= held
        seen = set(money_in) | set(money_out)
        if not seen:
            return []
        this_month = period_start(today or timezone.localdate(), Granularity.MONTH)
        cursor = max(add_months(this_month, -(months - 1)), min(seen))
        last = max(this_month, max(seen))
        flows = []
        while cursor <= last:
            flows.append(
                MonthFlow(
                    month=cursor,
                    money_in=quantize(money_in.get(cursor, ZERO), self.currency),
                    money_out=quantize(money_out.get(cursor, ZERO), self.currency),
                )
            )
            cursor = add_months(cursor, 1)
        return flows


def month_sums(fund: Fund, *, after: int = 0, upto: int) -> MonthSums:
    """(kind, month) → sums of the fund's ledger entries with ``after < id <= upto``,
    by the month their money moved: one grouped query."""
    rows = (
        LedgerEntry.objects.filter(fund=fund, pk__gt=after, pk__lte=upto)
        .order_by()
        .annotate(day=movement_day())
        .values("day", "kind")
        .annotate(held=Sum("held_delta"), committed=Sum("committed_delta"))
    )
    sums: MonthSums = {}
    for row in rows:
        key = (row["kind"], period_start(as_date(row["day"]), Granularity.MONTH))
        held, committed = sums.get(key, (ZERO, ZERO))
        sums[key] = (held + Decimal(row["held"] or 0), committed + Decimal(row["committed"] or 0))
    return sums


def _merged(earlier: MonthSums, later: MonthSums) -> MonthSums:
    merged = dict(earlier)
    for key, (held, committed) in later.items():
        old_held, old_committed = merged.get(key, (ZERO, ZERO))
        merged[key] = (old_held + held, old_committed + committed)
    return merged


#: How long a fund's figures stay cached (they are checked against the ledger's latest
#: entry on every read: this only bounds how long they could linger if someone wrote to
#: the ledger bypassing the services, or changed a gift's day after the fact).
FIGURES_CACHE_SECONDS = 24 * 3600


def ledger_version(fund: Fund) -> int:
    """The id of the fund's latest ledger entry (0 when none): one indexed lookup.

    Ledger entries are never changed or deleted, and every service writes a fund's
    entries under the lock of the fund's row, so a fund's entry ids grow in the order
    their transactions commit: when ``v`` is the latest id one can see, every entry of
    the fund up to ``v`` is committed, and the ledger up to ``v`` never changes."""
    last = (
        LedgerEntry.objects.filter(fund=fund).order_by("-pk").values_list("pk", flat=True).first()
    )
    return last or 0


def fund_figures(fund: Fund) -> FundFigures:
    """The fund's ``FundFigures``, folded from its ledger (see ``ledger_version``):

    - the fund's latest figures are kept in the cache with the ledger entry they reach;
    - when no entry came since, they are used as they are (one indexed query);
    - when entries came, only those are read and added (one grouped query of the new
      entries: the page stays fast however many donations the fund holds);
    - otherwise (an empty cache) the whole ledger is folded (one grouped query).

    Every sum is exact (Decimal) and always the ledger's up to a known entry: nothing is
    stored that could drift from it."""
    version = ledger_version(fund)
    key = f"funding:figures:{fund.pk}:{fund.currency}:{timezone.get_current_timezone_name()}"
    cached = cache.get(key)
    if isinstance(cached, FundFigures) and cached.version == version:
        return cached
    if isinstance(cached, FundFigures) and 0 < cached.version < version:
        sums = _merged(cached.sums, month_sums(fund, after=cached.version, upto=version))
    else:
        sums = month_sums(fund, upto=version) if version else {}
    figures = FundFigures(version=version, currency=fund.currency, sums=sums)
    cache.set(key, figures, FIGURES_CACHE_SECONDS)
    return figures


@dataclass(frozen=True)
class Supporter:
    """A recent gift as the public sees it: a name (or "Anonymous") and a month; never
    an amount, an e-mail address, a dedication or a memo."""

    name: str
    month: dt.date | None

    @property
    def is_anonymous(self) -> bool:
        return not self.name


SUPPORTERS_SHOWN = 10


def recent_supporters(fund: Fund, *, limit: int = SUPPORTERS_SHOWN) -> list[Supporter]:
    """The donors of the fund's latest received gifts (one query, latest received first).
    A donor who asked to stay anonymous, or gave no name, is ``Supporter("")``; a name
    appears once even when its owner gave several times."""
    rows = (
        Donation.objects.filter(fund=fund, status__in=RECEIVED_STATUSES, received_on__isnull=False)
        .order_by("-received_on", "-pk")
        .values_list("donor_name", "is_anonymous", "received_on")[: limit * 3]
    )
    shown: list[Supporter] = []
    names: set[str] = set()
    for name, anonymous, received_on in rows:
        public = "" if anonymous else (name or "").strip()
        if public:
            if public in names:
                continue
            names.add(public)
        month = period_start(received_on, Granularity.MONTH) if received_on else None
        shown.append(Supporter(name=public, month=month))
        if len(shown) == limit:
            break
    return shown


# --------------------------------------------------------------------------- reports


@dataclass
class Figures:
    """The movements of one fund over some days, by kind (fund currency)."""

    raised: Decimal = ZERO
    refunded: Decimal = ZERO
    committed: Decimal = ZERO
    released: Decimal = ZERO
    paid: Decimal = ZERO
    returned: Decimal = ZERO
    adjusted: Decimal = ZERO

    def add(self, kind: str, held: Decimal, committed: Decimal) -> None:
        if kind == K.DONATION:
            self.raised += held
        elif kind == K.REFUND:
            self.refunded -= held
        elif kind == K.COMMITMENT:
            self.committed += committed
        elif kind == K.RELEASE:
            self.released -= committed
        elif kind == K.DISBURSEMENT:
            self.paid -= held
        elif kind == K.RETURN:
            self.returned += held
        elif kind == K.ADJUSTMENT:
            self.adjusted += held

    @property
    def held_change(self) -> Decimal:
        return self.raised - self.refunded - self.paid + self.returned + self.adjusted

    @property
    def committed_change(self) -> Decimal:
        return self.committed - self.released - self.paid


@dataclass
class PeriodRow:
    """One period of one fund: what moved in it, and where the fund stood at its end."""

    start: dt.date
    end: dt.date
    label: str
    figures: Figures
    held_end: Decimal
    committed_end: Decimal
    partial: bool = False  # cut by the start or end of the range

    @property
    def available_end(self) -> Decimal:
        return self.held_end - self.committed_end


@dataclass
class FundReport:
    fund: Fund
    opening_held: Decimal
    opening_committed: Decimal
    rows: list[PeriodRow]
    total: Figures

    @property
    def currency(self) -> str:
        return self.fund.currency

    @property
    def opening_available(self) -> Decimal:
        return self.opening_held - self.opening_committed

    @property
    def closing(self) -> PeriodRow | None:
        return self.rows[-1] if self.rows else None

    @property
    def moved(self) -> bool:
        return any(
            (
                self.opening_held,
                self.opening_committed,
                *(getattr(self.total, name) for name in REPORT_FIGURES),
            )
        )


#: The columns of a report, in order: (attribute of Figures, heading).
REPORT_FIGURES = ("raised", "refunded", "committed", "released", "paid", "returned", "adjusted")


def report_headings() -> list[str]:
    return [
        _("Raised"),
        _("Refunded"),
        _("Committed"),
        _("Released"),
        _("Disbursed"),
        _("Returned"),
        _("Adjustments"),
    ]


def period_report(
    funds: Sequence[Fund], *, start: dt.date, end: dt.date, granularity: str
) -> list[FundReport]:
    """Per fund and per period from ``start`` to ``end`` (inclusive): what was raised,
    refunded, committed, released, disbursed, returned and adjusted, and held /
    committed / available at each period's end. One grouped query for all the funds."""
    rows = (
        LedgerEntry.objects.filter(fund__in=[fund.pk for fund in funds])
        .order_by()
        .annotate(day=movement_day())
        .filter(day__lte=end)
        .values("fund_id", "day", "kind")
        .annotate(held=Sum("held_delta"), committed=Sum("committed_delta"))
    )
    spans = periods(start, end, granularity)
    opening: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    moved: dict[tuple[int, dt.date], Figures] = defaultdict(Figures)
    for row in rows:
        day = as_date(row["day"])
        held, committed = Decimal(row["held"] or 0), Decimal(row["committed"] or 0)
        if day < start:
            opening[row["fund_id"]][0] += held
            opening[row["fund_id"]][1] += committed
            continue
        first = max(period_start(day, granularity), start)
        moved[(row["fund_id"], first)].add(row["kind"], held, committed)
    reports = []
    for fund in funds:
        held, committed = opening[fund.pk]
        opening_held, opening_committed = held, committed
        total = Figures()
        lines = []
        for first, last in spans:
            figures = moved.get((fund.pk, first), Figures())
            for name in REPORT_FIGURES:
                setattr(total, name, getattr(total, name) + getattr(figures, name))
            held += figures.held_change
            committed += figures.committed_change
            natural = period_start(first, granularity)
            lines.append(
                PeriodRow(
                    start=first,
                    end=last,
                    label=period_label(natural, granularity),
                    figures=figures,
                    held_end=held,
                    committed_end=committed,
                    partial=first != natural
                    or last != next_period(natural, granularity) - dt.timedelta(days=1),
                )
            )
        reports.append(
            FundReport(
                fund=fund,
                opening_held=opening_held,
                opening_committed=opening_committed,
                rows=lines,
                total=total,
            )
        )
    return reports


@dataclass
class AwardLine:
    """Scholarship money of one fund for one home country or one program, in a range."""

    fund: Fund
    key: str
    label: str
    participants: int = 0
    figures: Figures = field(default_factory=Figures)


_AWARD = "commitment__awards__request__application"
BY_COUNTRY = f"{_AWARD}__home_country__code"
BY_PROGRAM = f"{_AWARD}__session__opportunity__title"


def awards_by(funds: Sequence[Fund], *, start: dt.date, end: dt.date, by: str) -> list[AwardLine]:
    """Scholarship money (awarded = committed, released, disbursed, returned) per fund
    and per recipient home country (``by=BY_COUNTRY``) or program (``BY_PROGRAM``) over
    the range, with how many participants had money move: one grouped query. Only
    commitments made for a scholarship award count (other commitments are in the
    period report only)."""
    by_id = {fund.pk: fund for fund in funds}
    rows = (
        LedgerEntry.objects.filter(
            fund__in=list(by_id), kind__in=AWARD_KINDS, commitment__awards__isnull=False
        )
        .order_by()
        .annotate(day=movement_day())
        .filter(day__gte=start, day__lte=end)
        .values("fund_id", by, f"{_AWARD}_id", "kind")
        .annotate(held=Sum("held_delta"), committed=Sum("committed_delta"))
    )
    lines: dict[tuple[int, str], AwardLine] = {}
    people: dict[tuple[int, str], set[int]] = defaultdict(set)
    for row in rows:
        key = row[by] or ""
        if by == BY_COUNTRY:
            label = str(country_names.name(key)) if key else _("Country not recorded")
        else:
            label = key or _("Program not recorded")
        line = lines.setdefault(
            (row["fund_id"], key), AwardLine(fund=by_id[row["fund_id"]], key=key, label=label)
        )
        line.figures.add(row["kind"], Decimal(row["held"] or 0), Decimal(row["committed"] or 0))
        people[(row["fund_id"], key)].add(row[f"{_AWARD}_id"])
    for index, line in lines.items():
        line.participants = len(people[index])
    return sorted(lines.values(), key=lambda line: (line.fund.name, line.fund.pk, line.label))


# --------------------------------------------------------------------------- the ledger export

LEDGER_COLUMNS = (
    "entry_id",
    "date",
    "recorded_at",
    "fund",
    "fund_name",
    "kind",
    "amount",
    "held_change",
    "committed_change",
    "currency",
    "amount_given",
    "currency_given",
    "reference",
    "memo",
    "donation_id",
    "commitment_id",
    "disbursement_id",
)


def ledger_entries(
    funds: Sequence[Fund], *, start: dt.date, end: dt.date
) -> QuerySet[LedgerEntry, dict[str, Any]]:
    """Every ledger entry of ``funds`` whose money moved from ``start`` to ``end``,
    oldest first, as the values the export writes (one query, read in chunks)."""
    return (
        LedgerEntry.objects.filter(fund__in=[fund.pk for fund in funds])
        .annotate(day=movement_day())
        .filter(day__gte=start, day__lte=end)
        .order_by("day", "created_at", "pk")
        .values(
            "pk",
            "day",
            "created_at",
            "fund__slug",
            "fund__name",
            "fund__currency",
            "kind",
            "held_delta",
            "committed_delta",
            "source_amount",
            "donation__currency",
            "donation__provider_reference",
            "disbursement__reference",
            "memo",
            "donation_id",
            "commitment_id",
            "disbursement_id",
        )
    )


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: str) -> str:
    """Text a spreadsheet will not run as a formula (a memo could say ``=HYPERLINK(…)``)."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def ledger_rows(entries: Iterable[dict[str, Any]]) -> Iterator[list[str]]:
    """The export's rows (without the header): amounts as plain decimals with the fund
    currency's digits, ``amount`` the size of the movement (the held change, or the
    committed change for commitments and releases)."""
    for entry in entries:
        currency = entry["fund__currency"]
        held = Decimal(entry["held_delta"])
        committed = Decimal(entry["committed_delta"])
        amount = abs(held) if held else abs(committed)
        given = entry["source_amount"]
        yield [
            str(entry["pk"]),
            as_date(entry["day"]).isoformat(),
            entry["created_at"].isoformat(timespec="seconds"),
            spreadsheet_text(entry["fund__slug"]),
            spreadsheet_text(entry["fund__name"]),
            entry["kind"],
            str(quantize(amount, currency)),
            str(quantize(held, currency)),
            str(quantize(committed, currency)),
            currency,
            "" if given is None else str(quantize(given, entry["donation__currency"] or currency)),
            entry["donation__currency"] or "",
            spreadsheet_text(
                entry["donation__provider_reference"] or entry["disbursement__reference"] or ""
            ),
            spreadsheet_text(entry["memo"]),
            str(entry["donation_id"] or ""),
            str(entry["commitment_id"] or ""),
            str(entry["disbursement_id"] or ""),
        ]


def report_rows(reports: Sequence[FundReport]) -> Iterator[list[str]]:
    """The report table as CSV rows, header first: one row per fund and period."""
    yield [
        "fund",
        "currency",
        "period",
        "from",
        "to",
        *REPORT_FIGURES,
        "held_at_end",
        "committed_at_end",
        "available_at_end",
    ]
    for report in reports:
        currency = report.currency
        for row in report.rows:
            yield [
                spreadsheet_text(report.fund.slug),
                currency,
                row.label,
                row.start.isoformat(),
                row.end.isoformat(),
                *(str(quantize(getattr(row.figures, name), currency)) for name in REPORT_FIGURES),
                str(quantize(row.held_end, currency)),
                str(quantize(row.committed_end, currency)),
                str(quantize(row.available_end, currency)),
            ]


def award_rows(lines: Sequence[AwardLine], heading: str) -> Iterator[list[str]]:
    yield ["fund", "currency", heading, "participants", *AWARD_FIGURES]
    for line in lines:
        currency = line.fund.currency
        yield [
            spreadsheet_text(line.fund.slug),
            currency,
            spreadsheet_text(line.label),
            str(line.participants),
            *(str(quantize(getattr(line.figures, name), currency)) for name in AWARD_FIGURES),
        ]


#: The columns of the by-country and by-program tables.
AWARD_FIGURES = ("committed", "released", "paid", "returned")
