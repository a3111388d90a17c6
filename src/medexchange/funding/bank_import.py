"""Bank statement import: gifts received by transfer, read from a CSV file.

The format (docs/funding.md): UTF-8 text, comma- (or semicolon-) separated, a first row
of column names in any order:

    date, amount, currency, reference, payer_name, payer_email, memo

``payer_email`` may be left out; other columns are ignored (and listed). ``date`` is
YYYY-MM-DD; ``amount`` has a dot for decimals and no more decimals than the currency;
``reference`` is the bank's unique reference of the transfer; ``memo`` names the fund
by its short name (slug) or its name, or the rows without a fund go to the fund chosen
on the form. A gift in another currency than its fund's is converted at the rate
recorded for its date (or the latest before).

A preview writes nothing; a commit records every OK row in one transaction, or
nothing. A reference already recorded is a duplicate: skipped, and said so.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medexchange.common.services import audit_record
from medexchange.funding import selectors
from medexchange.funding.choices import DonationMethod
from medexchange.funding.models import Donation, Fund
from medexchange.funding.money import MAX_AMOUNT, convert, parse_amount, validate_currency
from medexchange.network.models import Network

COLUMNS = ("date", "amount", "currency", "reference", "payer_name", "payer_email", "memo")
OPTIONAL_COLUMNS = frozenset({"payer_email"})
ALIASES = {
    "payer": "payer_name",
    "name": "payer_name",
    "email": "payer_email",
    "e_mail": "payer_email",
    "payer_e_mail": "payer_email",
    "ref": "reference",
    "value_date": "date",
}
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000

OK = "ok"
ERROR = "error"
DUPLICATE = "duplicate"


class BankFileError(ValidationError):
    """The file as a whole cannot be read (encoding, size, columns)."""


class ImportChanged(ValidationError):
    """The file or the ledger changed between the preview and the commit."""

    def __init__(self, preview: ImportPreview) -> None:
        self.preview = preview
        super().__init__(
            _(
                "The result changed since you checked the file (a gift or a rate was "
                "recorded meanwhile): nothing was recorded. Check the new result below."
            ),
            code="changed",
        )


@dataclass
class ImportRow:
    line: int
    cells: dict[str, str]
    status: str = OK
    errors: list[str] = field(default_factory=list)
    fund: Fund | None = None
    received_on: dt.date | None = None
    amount: Decimal | None = None
    currency: str = ""
    fund_amount: Decimal | None = None
    rate: Decimal | None = None

    @property
    def is_ok(self) -> bool:
        return self.status == OK

    @property
    def is_duplicate(self) -> bool:
        return self.status == DUPLICATE

    @property
    def is_error(self) -> bool:
        return self.status == ERROR

    def refuse(self, message: str) -> None:
        self.status = ERROR
        self.errors.append(message)

    @property
    def reference(self) -> str:
        return self.cells.get("reference", "").strip()

    @property
    def payer_name(self) -> str:
        return self.cells.get("payer_name", "").strip()

    @property
    def payer_email(self) -> str:
        return self.cells.get("payer_email", "").strip().lower()

    @property
    def memo(self) -> str:
        return self.cells.get("memo", "").strip()


@dataclass
class ImportPreview:
    rows: list[ImportRow]
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.is_ok]

    @property
    def error_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.is_error]

    @property
    def duplicate_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.is_duplicate]

    @property
    def ok_lines(self) -> set[int]:
        return {row.line for row in self.ok_rows}

    @property
    def is_clean(self) -> bool:
        return not self.error_rows

    def totals(self) -> list[tuple[Fund, str, Decimal]]:
        """(fund, its currency, Σ of the OK rows in it) per fund, for the summary."""
        sums: dict[int, tuple[Fund, Decimal]] = {}
        for row in self.ok_rows:
            if row.fund is None or row.fund_amount is None:
                continue  # an OK row always has both
            fund, total = sums.get(row.fund.pk, (row.fund, Decimal(0)))
            sums[row.fund.pk] = (fund, total + row.fund_amount)
        return [(fund, fund.currency, total) for fund, total in sums.values()]


@dataclass
class ImportResult:
    preview: ImportPreview
    donations: list[Donation]

    @property
    def duplicates(self) -> list[ImportRow]:
        return self.preview.duplicate_rows

    @property
    def not_recorded(self) -> list[ImportRow]:
        return self.preview.error_rows


# --------------------------------------------------------------------------- reading


def read_upload(csv_file: Any) -> bytes:
    """The bytes of an upload, of bytes, or of a text (tests); at most ``MAX_BYTES``."""
    if isinstance(csv_file, bytes):
        content = csv_file
    elif isinstance(csv_file, str):
        content = csv_file.encode("utf-8")
    else:
        if hasattr(csv_file, "seek"):
            csv_file.seek(0)
        content = csv_file.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise BankFileError(_("The file is larger than 2 MB: split it."), code="too_large")
    if not content.strip():
        raise BankFileError(_("The file is empty."), code="empty")
    return content


def _column_name(header: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")
    return ALIASES.get(name, name)


def read_rows(content: bytes) -> tuple[list[ImportRow], list[str]]:
    """The data rows (line number, cells by column) and the ignored column names."""
    if b"\x00" in content:
        raise BankFileError(_("This is not a CSV text file."), code="not_text")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BankFileError(
            _(
                "This file is not UTF-8 text. Save it as “CSV UTF-8” (in a spreadsheet: "
                "Save as… CSV UTF-8) and upload it again."
            ),
            code="not_utf8",
        ) from None
    first_line = text.lstrip().split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        lines: list[tuple[int, list[str]]] = []
        start = 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                lines.append((start, cells))
                if len(lines) > MAX_ROWS + 1:
                    raise BankFileError(
                        _("Import at most %(max)d rows at a time: split the file.")
                        % {"max": MAX_ROWS},
                        code="too_many_rows",
                    )
            start = reader.line_num + 1
    except csv.Error:
        raise BankFileError(
            _("The CSV file cannot be read near line %(line)d.") % {"line": reader.line_num},
            code="bad_csv",
        ) from None
    if not lines:
        raise BankFileError(_("The file is empty."), code="empty")
    _line, header = lines[0]
    names = [_column_name(cell) for cell in header]
    duplicates = sorted({name for name in names if name and names.count(name) > 1})
    if duplicates:
        raise BankFileError(
            _("These columns appear twice: %(columns)s.") % {"columns": ", ".join(duplicates)},
            code="duplicate_columns",
        )
    missing = [name for name in COLUMNS if name not in names and name not in OPTIONAL_COLUMNS]
    if missing:
        raise BankFileError(
            _(
                "The first row must name the columns; missing: %(missing)s. The columns are: "
                "%(columns)s (payer_email may be left out)."
            )
            % {"missing": ", ".join(missing), "columns": ", ".join(COLUMNS)},
            code="missing_columns",
        )
    ignored = [header[i].strip() for i, name in enumerate(names) if name not in COLUMNS]
    rows: list[ImportRow] = []
    for line, cells in lines[1:]:
        values = {
            name: cells[index].strip() if index < len(cells) else ""
            for index, name in enumerate(names)
            if name in COLUMNS
        }
        row = ImportRow(line=line, cells=values)
        extra = cells[len(names) :]
        if len(cells) < len(names) or any(cell.strip() for cell in extra):
            row.refuse(
                _("This row has %(found)d values; the first row names %(expected)d columns.")
                % {"found": len(cells), "expected": len(names)}
            )
        rows.append(row)
    return rows, ignored


# --------------------------------------------------------------------------- funds in memos


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[^\W_]+", text.casefold())) + " "


def _keys(fund: Fund) -> list[str]:
    return [key for key in {_words(fund.slug), _words(fund.name)} if key.strip()]


def match_fund(memo: str, funds: list[Fund]) -> tuple[Fund | None, list[Fund]]:
    """(the fund the memo names, or None; every fund it could mean). A fund whose name
    contains another's ("EM residents" and "EM") wins over it."""
    text = _words(memo)
    matched: dict[int, tuple[Fund, str]] = {}
    for fund in funds:
        hits = [key for key in _keys(fund) if key in text]
        if hits:
            matched[fund.pk] = (fund, max(hits, key=len))
    if not matched:
        return None, []
    for fund, key in matched.values():
        if all(other in key for _f, other in matched.values()):
            return fund, [fund]
    return None, [fund for fund, _key in matched.values()]


# --------------------------------------------------------------------------- checking


def _check(
    row: ImportRow,
    *,
    network: Network,
    funds: list[Fund],
    only_fund: Fund | None,
    default_fund: Fund | None,
    today: dt.date,
) -> None:
    cells = row.cells
    raw_date = cells.get("date", "")
    try:
        row.received_on = dt.date.fromisoformat(raw_date) if len(raw_date) == 10 else None
    except ValueError:
        row.received_on = None
    if not raw_date:
        row.refuse(_("The date is missing."))
    elif row.received_on is None:
        row.refuse(
            _("“%(value)s” is not a date: write it as YYYY-MM-DD.") % {"value": raw_date[:30]}
        )
    elif row.received_on > today:
        row.refuse(_("The date is in the future."))
    row.currency = cells.get("currency", "").strip().upper()
    try:
        validate_currency(row.currency)
    except ValidationError as error:
        row.refuse(_("The currency is missing.") if not row.currency else " ".join(error.messages))
        row.currency = ""
    raw_amount = cells.get("amount", "")
    if row.currency:
        try:
            row.amount = parse_amount(raw_amount, row.currency, positive=False)
        except ValidationError as error:
            row.refuse(" ".join(error.messages))
        else:
            if row.amount < 0:
                row.refuse(_("A negative amount is money going out, not a gift: leave it out."))
                row.amount = None
            elif row.amount == 0:
                row.refuse(_("The amount must be more than zero."))
                row.amount = None
    if not row.reference:
        row.refuse(_("The bank reference is missing: every transfer has one."))
    elif len(row.reference) > 200:
        row.refuse(_("The reference is longer than 200 characters."))
    if len(row.payer_name) > 200:
        row.refuse(_("The payer's name is longer than 200 characters."))
    if row.payer_email:
        try:
            validate_email(row.payer_email)
        except ValidationError:
            row.refuse(_("“%(value)s” is not an e-mail address.") % {"value": row.payer_email[:60]})
    if len(row.memo) > 500:
        row.refuse(_("The memo is longer than 500 characters."))
    if any("\x00" in value for value in cells.values()):
        row.refuse(_("Null characters are not allowed."))
    _choose_fund(row, funds=funds, only_fund=only_fund, default_fund=default_fund)
    if row.fund is not None and row.amount is not None and row.received_on is not None:
        _convert(row, network)


def _choose_fund(
    row: ImportRow, *, funds: list[Fund], only_fund: Fund | None, default_fund: Fund | None
) -> None:
    if only_fund is not None:
        row.fund = only_fund
    else:
        named, candidates = match_fund(row.memo, funds)
        if named is not None:
            row.fund = named
        elif candidates:
            row.refuse(
                _("The memo could mean several funds: %(funds)s. Name one of them only.")
                % {"funds": ", ".join(sorted(fund.name for fund in candidates))}
            )
            return
        elif default_fund is not None:
            row.fund = default_fund
        else:
            row.refuse(
                _(
                    "The memo names no fund. Name the fund by its short name or its name, "
                    "or choose a fund for such rows on the form."
                )
            )
            return
    if row.fund is not None and not row.fund.is_active:
        row.refuse(_("The fund %(fund)s is closed to new gifts.") % {"fund": row.fund.name})


def _convert(row: ImportRow, network: Network) -> None:
    fund, amount, day = row.fund, row.amount, row.received_on
    if fund is None or amount is None or day is None:
        return
    if row.currency == fund.currency:
        row.fund_amount, row.rate = amount, None
        return
    rate = selectors.rate_on(row.currency, fund.currency, day, network=network)
    if rate is None:
        row.refuse(
            _(
                "No exchange rate from %(from)s to %(to)s is recorded for %(day)s or earlier: "
                "record the rate, then check the file again."
            )
            % {"from": row.currency, "to": fund.currency, "day": day.isoformat()}
        )
        return
    converted = convert(amount, row.currency, fund.currency, rate)
    if converted > MAX_AMOUNT:
        row.refuse(_("In %(currency)s this amount is too large.") % {"currency": fund.currency})
        return
    if converted <= 0:
        row.refuse(_("In %(currency)s this amount rounds to zero.") % {"currency": fund.currency})
        return
    row.fund_amount, row.rate = converted, rate


def preview(
    *,
    network: Network,
    content: bytes,
    only_fund: Fund | None = None,
    default_fund: Fund | None = None,
) -> ImportPreview:
    """What committing the file would do, row by row. Writes nothing."""
    from medexchange.funding.services import bank_provider

    for chosen in (only_fund, default_fund):
        if chosen is not None and chosen.network_id != network.pk:
            raise ValueError("The fund must be one of the network's.")
    rows, ignored = read_rows(content)
    funds = list(Fund.objects.filter(network=network).order_by("pk"))
    today = timezone.localdate()
    for row in rows:
        if row.is_error:  # the row's cells do not line up with the columns
            continue
        _check(
            row,
            network=network,
            funds=funds,
            only_fund=only_fund,
            default_fund=default_fund,
            today=today,
        )
    first_line: dict[str, int] = {}
    for row in rows:
        if row.reference and row.reference in first_line:
            row.refuse(
                _("The same reference is on line %(line)d: a transfer is listed once.")
                % {"line": first_line[row.reference]}
            )
        elif row.reference:
            first_line[row.reference] = row.line
    recorded = set(
        Donation.objects.filter(
            provider=bank_provider(network), provider_reference__in=list(first_line)
        ).values_list("provider_reference", flat=True)
    )
    for row in rows:
        if row.reference in recorded and first_line.get(row.reference) == row.line:
            row.status = DUPLICATE
            row.errors = [
                _("Already recorded (bank reference %(reference)s): skipped.")
                % {"reference": row.reference}
            ]
    return ImportPreview(rows=rows, ignored_columns=ignored)


def commit(
    *,
    network: Network,
    content: bytes,
    only_fund: Fund | None,
    default_fund: Fund | None,
    actor: Any,
    expected: set[int] | None,
    record: Any,
) -> ImportResult:
    """Record every OK row in one transaction (or nothing), under the funds' locks."""
    from medexchange.funding.services import bank_provider, lock_funds

    with transaction.atomic():
        lock_funds(Fund.objects.filter(network=network).values_list("pk", flat=True))
        checked = preview(
            network=network, content=content, only_fund=only_fund, default_fund=default_fund
        )
        if expected is not None and checked.ok_lines != expected:
            raise ImportChanged(checked)
        if not checked.ok_rows:
            raise ValidationError(
                _("No row of this file can be recorded."), code="nothing_to_record"
            )
        provider = bank_provider(network)
        donations = []
        for row in checked.ok_rows:
            if row.fund is None or row.amount is None:
                continue  # an OK row always has both
            donations.append(
                record(
                    fund=row.fund,
                    actor=actor,
                    amount=row.amount,
                    currency=row.currency,
                    fund_amount=row.fund_amount,
                    rate=row.rate,
                    method=DonationMethod.BANK_TRANSFER,
                    donor_name=row.payer_name,
                    donor_email=row.payer_email,
                    memo=row.memo,
                    received_on=row.received_on,
                    provider=provider,
                    reference=row.reference,
                    is_anonymous=False,
                    dedication="",
                    language="en",
                    audit_data={"bank_import_line": row.line},
                )
            )
        audit_record(
            actor=actor,
            action="bank_import.committed",
            target=network,
            data={
                "recorded": len(donations),
                "duplicates": [row.reference for row in checked.duplicate_rows],
                "not_recorded": [row.line for row in checked.error_rows],
                "donations": [donation.pk for donation in donations],
            },
        )
    return ImportResult(preview=checked, donations=donations)
