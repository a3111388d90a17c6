"""Bulk import and export of a host's opportunities and sessions (CSV or XLSX).

One row per session, with the opportunity's columns repeated on each of its rows; an
opportunity without sessions is one row with the session columns empty. The first row holds
the column names below (in any order; every one must be present, no others):

Opportunity columns (``slug`` identifies the opportunity: an existing slug of this host
updates that opportunity and attaches the sessions; a new slug creates a draft; a slug of
another institution is an error; every row of one slug must repeat the same values):

    slug, title, kind, level, specialty, summary, description, languages, duration_days,
    sites, training_levels, min_year_of_study, max_year_of_study, home_country_rule,
    eligible_countries, required_documents, required_immunisations, currency,
    application_fee, tuition_fee, international_surcharge, fee_notes,
    waiver_under_agreement, waiver_for_lower_income, waiver_notes, scholarship_eligible,
    accommodation, accommodation_notes, monthly_housing_cost, monthly_transport_cost,
    monthly_insurance_cost, contact_name, contact_email

Session columns (a session of the same opportunity starting on the same day is updated;
otherwise a session is added):

    session_start, session_end, capacity, applications_open, applications_close,
    decision_date

Values: codes as in the choice lists (``kind``, ``level``, ``home_country_rule``,
``accommodation``, ``training_levels`` …); ``specialty`` is a specialty code
(``emergency-medicine``); lists are separated by ``;`` (``student; resident``); languages are
``code:level`` pairs (``es:B2; en:C1``); sites are site names of the host;
``eligible_countries`` are ISO 3166 alpha-2 codes; yes/no columns take ``yes``/``no``
(also true/false, 1/0); dates are ``YYYY-MM-DD``; ``applications_open``/``_close`` are
``YYYY-MM-DD HH:MM`` in the host's time zone; amounts use a dot for decimals.

Exports neutralise spreadsheet formulas by prefixing a cell that starts with ``= + - @`` with
an apostrophe; imports remove that apostrophe again, so an export re-imports unchanged.

Import runs in one transaction through the same services as the pages. In a dry run, and
whenever any row has an error, the transaction is rolled back: nothing is written until the
whole file is clean. Status is not imported: new opportunities start as drafts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medexchange.catalog import services
from medexchange.catalog.models import Opportunity, Session, Specialty
from medexchange.network.models import CountryProfile, Institution, Site

OPPORTUNITY_COLUMNS = (
    "slug",
    "title",
    "kind",
    "level",
    "specialty",
    "summary",
    "description",
    "languages",
    "duration_days",
    "sites",
    "training_levels",
    "min_year_of_study",
    "max_year_of_study",
    "home_country_rule",
    "eligible_countries",
    "required_documents",
    "required_immunisations",
    "currency",
    "application_fee",
    "tuition_fee",
    "international_surcharge",
    "fee_notes",
    "waiver_under_agreement",
    "waiver_for_lower_income",
    "waiver_notes",
    "scholarship_eligible",
    "accommodation",
    "accommodation_notes",
    "monthly_housing_cost",
    "monthly_transport_cost",
    "monthly_insurance_cost",
    "contact_name",
    "contact_email",
)
SESSION_COLUMNS = (
    "session_start",
    "session_end",
    "capacity",
    "applications_open",
    "applications_close",
    "decision_date",
)
COLUMNS = OPPORTUNITY_COLUMNS + SESSION_COLUMNS
MAX_ROWS = 5000

TEXT_FIELDS = {
    "title",
    "kind",
    "level",
    "summary",
    "description",
    "home_country_rule",
    "currency",
    "fee_notes",
    "waiver_notes",
    "accommodation",
    "accommodation_notes",
    "contact_name",
    "contact_email",
}
LIST_FIELDS = {"training_levels", "required_documents", "required_immunisations"}
BOOLEAN_FIELDS = {
    "waiver_under_agreement",
    "waiver_for_lower_income",
    "scholarship_eligible",
}
MONEY_FIELDS = {
    "application_fee",
    "tuition_fee",
    "international_surcharge",
    "monthly_housing_cost",
    "monthly_transport_cost",
    "monthly_insurance_cost",
}
OPTIONAL_INTEGER_FIELDS = {"min_year_of_study", "max_year_of_study"}
TRUE_WORDS = {"yes", "true", "1", "y", "x"}
FALSE_WORDS = {"no", "false", "0", "n", ""}
DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _not_xlsx_message() -> str:
    return _("This file cannot be read as an Excel workbook (.xlsx).")


class ImportFileError(Exception):
    """The file as a whole cannot be read (type, encoding, headers)."""


@dataclass
class ImportRow:
    line: int
    cells: dict[str, str]
    errors: list[str] = field(default_factory=list)
    action: str = ""

    @property
    def slug(self) -> str:
        return self.cells.get("slug", "")

    @property
    def title(self) -> str:
        return self.cells.get("title", "")

    @property
    def session_start(self) -> str:
        return self.cells.get("session_start", "")


@dataclass
class ImportResult:
    rows: list[ImportRow]
    written: bool = False

    @property
    def is_clean(self) -> bool:
        return all(not row.errors for row in self.rows)

    @property
    def error_count(self) -> int:
        return sum(1 for row in self.rows if row.errors)

    @property
    def opportunity_count(self) -> int:
        return len({row.slug for row in self.rows})

    @property
    def session_count(self) -> int:
        return sum(1 for row in self.rows if row.session_start)


# --------------------------------------------------------------------------- reading


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _unescape(value: str) -> str:
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def read_table(content: bytes, filename: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank row of a CSV or XLSX file, header included."""
    name = filename.lower()
    if content.startswith(b"PK\x03\x04") or name.endswith(".xlsx"):
        return _read_xlsx(content)
    if name.endswith((".csv", ".txt")) or not name.rpartition(".")[1]:
        return _read_csv(content)
    raise ImportFileError(_("Upload a CSV file (.csv) or an Excel workbook (.xlsx)."))


def _read_csv(content: bytes) -> list[tuple[int, list[str]]]:
    if b"\x00" in content:
        raise ImportFileError(_("This file is not a CSV text file."))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("cp1252")
        except UnicodeDecodeError as error:
            raise ImportFileError(_("Save the CSV file with UTF-8 encoding.")) from error
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        start = 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((start, cells))
            start = reader.line_num + 1
            if len(rows) > MAX_ROWS + 1:
                raise ImportFileError(
                    _("Import at most %(max)d rows at a time.") % {"max": MAX_ROWS}
                )
    except csv.Error as error:
        raise ImportFileError(
            _("The CSV file cannot be read near line %(line)d.") % {"line": reader.line_num}
        ) from error
    return rows


def _read_xlsx(content: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a bad file
        raise ImportFileError(_not_xlsx_message()) from error
    try:
        sheet = workbook.worksheets[0]
        rows: list[tuple[int, list[str]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(value) for value in values]
            if any(cell.strip() for cell in cells):
                rows.append((number, cells))
            if len(rows) > MAX_ROWS + 1:
                raise ImportFileError(
                    _("Import at most %(max)d rows at a time.") % {"max": MAX_ROWS}
                )
    except ImportFileError:
        raise
    except Exception as error:
        raise ImportFileError(_not_xlsx_message()) from error
    finally:
        workbook.close()
    return rows


def parse_rows(content: bytes, filename: str) -> list[ImportRow]:
    table = read_table(content, filename)
    if not table:
        raise ImportFileError(_("The file has no rows."))
    header = table[0][1]
    names = [_unescape(cell).strip().lower() for cell in header]
    while names and not names[-1]:
        names.pop()
    missing = [column for column in COLUMNS if column not in names]
    unknown = [name for name in names if name not in COLUMNS]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    problems = []
    if missing:
        problems.append(_("missing columns: %(names)s") % {"names": ", ".join(missing)})
    if unknown:
        problems.append(_("unknown columns: %(names)s") % {"names": ", ".join(unknown)})
    if duplicated:
        problems.append(_("repeated columns: %(names)s") % {"names": ", ".join(duplicated)})
    if problems:
        raise ImportFileError(
            _("The first row must hold the column names (%(problems)s).")
            % {"problems": "; ".join(problems)}
        )
    rows = []
    for line, cells in table[1:]:
        values = {
            name: _unescape(cells[index]).strip() if index < len(cells) else ""
            for index, name in enumerate(names)
        }
        row = ImportRow(line=line, cells=values)
        if any(cell.strip() for cell in cells[len(names) :]):
            row.errors.append(_("This row has more cells than there are columns."))
        rows.append(row)
    if not rows:
        raise ImportFileError(_("The file has column names but no rows."))
    return rows


# --------------------------------------------------------------------------- converting


class _Errors:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, column: str, message: str) -> None:
        self.messages.append(f"{column}: {message}")


def _split(value: str, *, commas: bool = True) -> list[str]:
    """Items separated by ";" (or "," too, for lists of codes)."""
    if commas:
        value = value.replace(",", ";")
    return [part.strip() for part in value.split(";") if part.strip()]


def _decimal(value: str) -> Decimal:
    amount = Decimal(value or "0")
    if not amount.is_finite():
        raise InvalidOperation
    return amount.quantize(Decimal("0.01"))


def _integer(value: str) -> int:
    number = Decimal(value)
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError(value)
    return int(number)


def opportunity_values(
    cells: dict[str, str], host: Institution, errors: _Errors
) -> tuple[dict[str, Any], list[Site], list[CountryProfile]]:
    values: dict[str, Any] = {"slug": cells["slug"]}
    for name in TEXT_FIELDS:
        values[name] = cells[name]
    values["currency"] = cells["currency"].upper() or "USD"
    for name in LIST_FIELDS:
        values[name] = _split(cells[name])
    for name in BOOLEAN_FIELDS:
        word = cells[name].lower()
        if word in TRUE_WORDS:
            values[name] = True
        elif word in FALSE_WORDS:
            values[name] = False
        else:
            errors.add(name, _("write yes or no, not “%(value)s”.") % {"value": cells[name]})
    for name in MONEY_FIELDS:
        try:
            values[name] = _decimal(cells[name])
        except (InvalidOperation, ValueError):
            errors.add(name, _("“%(value)s” is not an amount.") % {"value": cells[name]})
    for name in OPTIONAL_INTEGER_FIELDS:
        try:
            values[name] = _integer(cells[name]) if cells[name] else None
        except (InvalidOperation, ValueError):
            errors.add(name, _("“%(value)s” is not a whole number.") % {"value": cells[name]})
    try:
        values["duration_days"] = _integer(cells["duration_days"])
    except (InvalidOperation, ValueError):
        errors.add(
            "duration_days",
            _("“%(value)s” is not a whole number of days.") % {"value": cells["duration_days"]},
        )
    specialty = Specialty.objects.filter(code=cells["specialty"]).first()
    if specialty is None:
        errors.add(
            "specialty", _("“%(value)s” is not a specialty code.") % {"value": cells["specialty"]}
        )
    else:
        values["specialty"] = specialty
    languages = []
    for part in _split(cells["languages"]):
        code, separator, level = part.partition(":")
        if not separator:
            errors.add(
                "languages", _("write “code:level”, e.g. es:B2, not “%(value)s”.") % {"value": part}
            )
            continue
        languages.append({"code": code.strip().lower(), "level": level.strip().upper()})
    values["languages"] = languages
    sites = []
    host_sites = list(Site.objects.filter(institution=host))
    for name in _split(cells["sites"], commas=False):
        matches = [site for site in host_sites if site.name.strip().lower() == name.lower()]
        if len(matches) == 1:
            sites.append(matches[0])
        elif not matches:
            errors.add("sites", _("“%(value)s” is not a site of yours.") % {"value": name})
        else:
            errors.add("sites", _("more than one site is called “%(value)s”.") % {"value": name})
    countries = []
    for code in _split(cells["eligible_countries"]):
        country = CountryProfile.objects.filter(code=code.upper()).first()
        if country is None:
            errors.add(
                "eligible_countries", _("“%(value)s” is not a country code.") % {"value": code}
            )
        else:
            countries.append(country)
    return values, sites, countries


def _date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def _datetime(value: str, zone: ZoneInfo) -> dt.datetime:
    for pattern in DATETIME_FORMATS:
        try:
            return dt.datetime.strptime(value, pattern).replace(tzinfo=zone)
        except ValueError:
            continue
    # A bare date: that day at 00:00.
    return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(0, 0), tzinfo=zone)


def session_values(cells: dict[str, str], zone: ZoneInfo, errors: _Errors) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column, name in (
        ("session_start", "start_date"),
        ("session_end", "end_date"),
        ("decision_date", "decision_date"),
    ):
        if not cells[column]:
            if column != "decision_date":
                errors.add(column, _("give a date."))
            values[name] = None
            continue
        try:
            values[name] = _date(cells[column])
        except ValueError:
            errors.add(
                column, _("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": cells[column]}
            )
    for column, name in (
        ("applications_open", "applications_open_at"),
        ("applications_close", "applications_close_at"),
    ):
        try:
            values[name] = _datetime(cells[column], zone)
        except ValueError:
            errors.add(
                column,
                _("“%(value)s” is not a date and time (YYYY-MM-DD HH:MM).")
                % {"value": cells[column]},
            )
    try:
        values["capacity"] = _integer(cells["capacity"])
    except (InvalidOperation, ValueError):
        errors.add(
            "capacity", _("“%(value)s” is not a whole number.") % {"value": cells["capacity"]}
        )
    return values


def _service_messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [
            message if field == "__all__" else f"{field}: {message}"
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return list(error.messages)


# --------------------------------------------------------------------------- importing


class _Rollback(Exception):
    pass


def import_opportunities(
    *, host: Institution, actor: Any, rows: list[ImportRow], dry_run: bool
) -> ImportResult:
    """Validate (and, unless ``dry_run``, write) every row in one transaction."""
    result = ImportResult(rows=rows)
    try:
        with transaction.atomic():
            _apply(host=host, actor=actor, rows=rows)
            if dry_run or not result.is_clean:
                raise _Rollback
            result.written = True
    except _Rollback:
        result.written = False
    return result


def _apply(*, host: Institution, actor: Any, rows: list[ImportRow]) -> None:
    zone = ZoneInfo(host.time_zone or "UTC")
    first_rows: dict[str, ImportRow] = {}
    opportunities: dict[str, Opportunity | None] = {}
    for row in rows:
        slug = row.slug
        if not slug:
            row.errors.append(_("slug: give the opportunity's web address (slug)."))
            continue
        first = first_rows.get(slug)
        if first is None:
            first_rows[slug] = row
            opportunities[slug] = _apply_opportunity(row, host=host, actor=actor)
        else:
            different = [
                column for column in OPPORTUNITY_COLUMNS if row.cells[column] != first.cells[column]
            ]
            if different:
                row.errors.append(
                    _("The opportunity columns differ from line %(line)d: %(columns)s.")
                    % {"line": first.line, "columns": ", ".join(different)}
                )
        if not any(row.cells[column] for column in SESSION_COLUMNS):
            continue
        errors = _Errors()
        values = session_values(row.cells, zone, errors)
        row.errors.extend(errors.messages)
        opportunity = opportunities.get(slug)
        if opportunity is None:
            if first is not None and not row.errors:
                row.errors.append(
                    _("The opportunity on line %(line)d has errors.") % {"line": first.line}
                )
            continue
        if errors.messages:
            continue
        _apply_session(row, opportunity=opportunity, values=values, actor=actor)


def _apply_opportunity(row: ImportRow, *, host: Institution, actor: Any) -> Opportunity | None:
    errors = _Errors()
    values, sites, countries = opportunity_values(row.cells, host, errors)
    existing = Opportunity.objects.filter(slug=row.slug).select_related("host").first()
    if existing is not None and existing.host_id != host.pk:
        row.errors.append(
            _("slug: “%(slug)s” is used by another institution; choose another.")
            % {"slug": row.slug}
        )
        return None
    if errors.messages:
        row.errors.extend(errors.messages)
        return None
    try:
        with transaction.atomic():
            if existing is None:
                opportunity = services.opportunity_create(
                    host=host, actor=actor, values=values, sites=sites, eligible_countries=countries
                )
                row.action = _("new opportunity")
            else:
                before = _audit_count()
                opportunity = services.opportunity_update(
                    opportunity=existing,
                    actor=actor,
                    values=values,
                    sites=sites,
                    eligible_countries=countries,
                )
                changed = _audit_count() != before
                row.action = _("opportunity updated") if changed else _("opportunity unchanged")
    except ValidationError as error:
        row.errors.extend(_service_messages(error))
        return None
    return opportunity


def _audit_count() -> int:
    """The newest audit entry's id: it moves when a service recorded a change."""
    from medexchange.common.models import AuditEntry

    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _apply_session(
    row: ImportRow, *, opportunity: Opportunity, values: dict[str, Any], actor: Any
) -> None:
    existing = (
        Session.objects.scheduled()
        .filter(opportunity=opportunity, start_date=values["start_date"])
        .order_by("pk")
        .first()
    )
    try:
        with transaction.atomic():
            if existing is None:
                services.session_create(opportunity=opportunity, actor=actor, values=values)
                action = _("new session")
            else:
                before = _audit_count()
                services.session_update(session=existing, actor=actor, values=values)
                changed = _audit_count() != before
                action = _("session updated") if changed else _("session unchanged")
    except ValidationError as error:
        row.errors.extend(_service_messages(error))
        return
    row.action = f"{row.action}, {action}" if row.action else action


# --------------------------------------------------------------------------- exporting


def _escape(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def export_rows(host: Institution) -> Iterable[list[str]]:
    """The header, then one row per scheduled session (or per opportunity without any)."""
    zone = ZoneInfo(host.time_zone or "UTC")
    yield list(COLUMNS)
    opportunities = (
        Opportunity.objects.filter(host=host)
        .select_related("specialty")
        .prefetch_related("sites", "eligible_countries")
        .order_by("slug")
    )
    sessions: dict[int, list[Session]] = {}
    for session in (
        Session.objects.scheduled().filter(opportunity__host=host).order_by("start_date", "pk")
    ):
        sessions.setdefault(session.opportunity_id, []).append(session)
    for opportunity in opportunities:
        cells = _opportunity_cells(opportunity)
        own = sessions.get(opportunity.pk, [])
        if not own:
            yield [_escape(cells[c]) for c in OPPORTUNITY_COLUMNS] + [""] * len(SESSION_COLUMNS)
        for session in own:
            session_cells = {
                "session_start": session.start_date.isoformat(),
                "session_end": session.end_date.isoformat(),
                "capacity": str(session.capacity),
                "applications_open": timezone.localtime(
                    session.applications_open_at, zone
                ).strftime("%Y-%m-%d %H:%M"),
                "applications_close": timezone.localtime(
                    session.applications_close_at, zone
                ).strftime("%Y-%m-%d %H:%M"),
                "decision_date": session.decision_date.isoformat() if session.decision_date else "",
            }
            yield [_escape(cells[c]) for c in OPPORTUNITY_COLUMNS] + [
                session_cells[c] for c in SESSION_COLUMNS
            ]


def _opportunity_cells(opportunity: Opportunity) -> dict[str, str]:
    cells = {name: str(getattr(opportunity, name) or "") for name in TEXT_FIELDS}
    cells["slug"] = opportunity.slug
    cells["specialty"] = opportunity.specialty.code
    for name in LIST_FIELDS:
        cells[name] = "; ".join(getattr(opportunity, name) or [])
    for name in BOOLEAN_FIELDS:
        cells[name] = _yes_no(getattr(opportunity, name))
    for name in MONEY_FIELDS:
        cells[name] = str(getattr(opportunity, name))
    for name in OPTIONAL_INTEGER_FIELDS:
        value = getattr(opportunity, name)
        cells[name] = "" if value is None else str(value)
    cells["duration_days"] = str(opportunity.duration_days)
    cells["languages"] = "; ".join(
        f"{item.get('code', '')}:{item.get('level', '')}" for item in opportunity.languages or []
    )
    cells["sites"] = "; ".join(site.name for site in opportunity.sites.all())
    cells["eligible_countries"] = "; ".join(
        sorted(str(country.code) for country in opportunity.eligible_countries.all())
    )
    return cells


def export_csv(host: Institution) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(export_rows(host))
    return buffer.getvalue().encode("utf-8-sig")


def export_xlsx(host: Institution) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "opportunities"
    for row in export_rows(host):
        # Text cells throughout: dates and amounts survive a round trip exactly.
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
