"""The finance staff's reports: per fund and period, by recipient home country and by
program, and the CSV exports for accounting — all derived from the ledger."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from medexchange.funding import reports, services
from medexchange.funding.models import Fund, LedgerEntry
from medexchange.funding.reports import Granularity, add_months, period_start, periods
from medexchange.funding.selectors import fund_totals
from tests import factories
from tests.funding.conftest import give, make_fund
from tests.scholarships import conftest as scholarships
from tests.scholarships.conftest import Scene, ask, committed

scene = scholarships.scene

D = Decimal
MONTH = Granularity.MONTH


def month(offset: int) -> dt.date:
    """The first day of the month ``offset`` months from this one."""
    return add_months(period_start(timezone.localdate(), MONTH), offset)


def report_url(network: Any, **query: str) -> str:
    url = reverse("funding:reports", kwargs={"network": network.slug})
    return url + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


def the_range(**extra: str) -> dict[str, str]:
    return {
        "fund": "",
        "granularity": MONTH,
        "start": month(-3).isoformat(),
        "end": timezone.localdate().isoformat(),
        **extra,
    }


@pytest.fixture
def books(network: Any, finance: Any) -> Fund:
    """A gift before the range; in the range a gift received two months ago (recorded
    today), and today a refund, two commitments, a payment returned, a release and a
    bank fee."""
    fund = make_fund(network, slug="em-residents", name="EM Residents Fund")
    give(fund, finance, "1000.00", received_on=month(-5).replace(day=3), memo="Old cheque")
    gift = give(
        fund, finance, "500.00", received_on=month(-2).replace(day=10), memo="=HYPERLINK(x)"
    )
    services.donation_refund(donation=gift, amount=D("100.00"), actor=finance, reason="Asked")
    first = services.commitment_reserve(fund=fund, amount=D("600.00"), purpose="A", actor=finance)
    payment = services.disbursement_plan(commitment=first, amount=D("200.00"), actor=finance)
    services.disbursement_pay(disbursement=payment, actor=finance)
    services.disbursement_return(disbursement=payment, actor=finance, reason="Flight cancelled")
    second = services.commitment_reserve(fund=fund, amount=D("300.00"), purpose="B", actor=finance)
    services.commitment_release(commitment=second, amount=D("100.00"), actor=finance, reason="Less")
    services.fund_adjust(fund=fund, amount=D("-10.00"), actor=finance, reason="Bank fee")
    return fund


# --------------------------------------------------------------------------- periods


def test_periods_are_clipped_to_the_range() -> None:
    spans = periods(dt.date(2026, 2, 15), dt.date(2026, 8, 3), Granularity.QUARTER)
    assert spans == [
        (dt.date(2026, 2, 15), dt.date(2026, 3, 31)),
        (dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
        (dt.date(2026, 7, 1), dt.date(2026, 8, 3)),
    ]
    assert periods(dt.date(2025, 12, 31), dt.date(2026, 1, 1), Granularity.YEAR) == [
        (dt.date(2025, 12, 31), dt.date(2025, 12, 31)),
        (dt.date(2026, 1, 1), dt.date(2026, 1, 1)),
    ]
    assert reports.period_label(dt.date(2026, 4, 1), Granularity.QUARTER) == "Q2 2026"
    assert reports.count_periods(dt.date(2025, 11, 5), dt.date(2026, 2, 1), MONTH) == 4


# --------------------------------------------------------------------------- the report


def test_the_report_per_month_adds_up_to_the_ledger(books: Fund) -> None:
    (report,) = reports.period_report(
        [books], start=month(-3), end=timezone.localdate(), granularity=MONTH
    )
    assert report.opening_held == D("1000.00") and report.opening_committed == 0
    rows = {row.start: row for row in report.rows}
    assert len(rows) == 4
    # The gift counts in the month it was received, though it was recorded today.
    assert rows[month(-2)].figures.raised == D("500.00")
    assert rows[month(-2)].held_end == D("1500.00")
    now = rows[month(0)].figures
    assert (now.raised, now.refunded, now.committed, now.released) == (0, 100, 900, 100)
    assert (now.paid, now.returned, now.adjusted) == (200, 200, -10)
    closing = report.rows[-1]
    assert closing.held_end == D("1390.00")
    assert closing.committed_end == D("600.00")
    assert closing.available_end == D("790.00")
    totals = fund_totals(books)
    assert (closing.held_end, closing.committed_end) == (totals.held, totals.committed)
    assert not report.rows[0].partial  # a whole month
    last_day = add_months(month(0), 1) - dt.timedelta(days=1)
    assert closing.partial == (timezone.localdate() != last_day)  # cut at today
    assert report.total.raised == D("500.00")


def test_the_report_page_shows_each_fund_and_period(
    client: Any, books: Fund, finance: Any, network: Any
) -> None:
    client.force_login(finance)
    response = client.get(report_url(network, **the_range(granularity="quarter")))
    assert response.status_code == 200
    body = response.content.decode()
    assert "EM Residents Fund" in body
    assert "1,390.00\xa0EUR" in body  # held at the end
    assert "790.00\xa0EUR" in body  # available at the end
    assert "\u221210.00\xa0EUR" in body  # the bank fee, with a minus sign
    assert "Download the ledger (CSV)" in body


def test_the_report_opens_on_this_year_by_month(client: Any, books: Fund, finance: Any) -> None:
    client.force_login(finance)
    response = client.get(report_url(books.network))
    assert response.status_code == 200
    assert response.context["start"] == dt.date(timezone.localdate().year, 1, 1)
    assert response.context["form"]["granularity"].value() == MONTH


def test_a_link_naming_only_a_fund_reports_that_fund_for_this_year(
    client: Any, books: Fund, finance: Any, network: Any
) -> None:
    make_fund(network, slug="other", name="Other Fund")
    client.force_login(finance)
    response = client.get(report_url(network, fund=books.slug))
    assert response.status_code == 200
    assert [report.fund for report in response.context["reports"]] == [books]
    assert response.context["exports"]["ledger"].startswith(f"fund={books.slug}&")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-05-01", "end": "2026-04-01"}, "The end is before the start"),
        ({"start": "2000-01-01", "end": "2026-01-01"}, "a report shows at most 120"),
        ({"start": "31/12/2026"}, "Enter a valid date."),
        ({"fund": "no-such-fund"}, "Select a valid choice."),
        ({"granularity": "week"}, "Select a valid choice."),
    ],
)
def test_a_bad_range_is_refused_with_a_clear_message(
    client: Any, books: Fund, finance: Any, query: dict[str, str], message: str
) -> None:
    client.force_login(finance)
    response = client.get(report_url(books.network, **the_range(**query)))
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "Download the ledger" not in body


def test_a_fund_of_another_network_cannot_be_reported_here(
    client: Any, books: Fund, finance: Any, africa_network: Any
) -> None:
    other = make_fund(africa_network, slug="africa-fund")
    client.force_login(finance)
    response = client.get(report_url(books.network, **the_range(fund=other.slug)))
    assert response.status_code == 400


@pytest.mark.parametrize("who", ["applicant", "coordinator", "other_staff"])
def test_only_the_networks_finance_staff_see_its_reports(
    client: Any, books: Fund, member: Any, africa_network: Any, who: str
) -> None:
    url = report_url(books.network, **the_range())
    assert client.get(url).status_code == 302  # anonymous: sign in first
    people = {
        "applicant": factories.UserFactory,
        "coordinator": lambda: factories.coordinator_of(member),
        "other_staff": lambda: factories.staff_of(africa_network),
    }
    client.force_login(people[who]())
    assert client.get(url).status_code == 404
    assert client.get(url + "&export=ledger").status_code == 404


def test_a_superuser_sees_every_networks_reports(client: Any, books: Fund) -> None:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    admin = factories.UserFactory(is_superuser=True, is_staff=True)
    TOTP.activate(admin, generate_totp_secret())
    client.force_login(admin)
    assert client.get(report_url(books.network, **the_range())).status_code == 200


# --------------------------------------------------------------------------- CSV exports


def _csv(response: Any) -> tuple[str, list[list[str]]]:
    content = b"".join(response.streaming_content).decode("utf-8")
    return content, list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))


def test_the_ledger_export_has_one_row_per_entry_of_the_range(
    client: Any, books: Fund, finance: Any
) -> None:
    client.force_login(finance)
    response = client.get(report_url(books.network, **the_range(export="ledger")))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="global-')
    assert response["Content-Disposition"].endswith('-ledger.csv"')
    content, rows = _csv(response)
    assert content.startswith("\ufeff")  # Excel reads UTF-8 with its byte-order mark
    header, *entries = rows
    assert tuple(header) == reports.LEDGER_COLUMNS
    in_range = LedgerEntry.objects.filter(fund=books).exclude(memo="Old cheque")
    assert len(entries) == in_range.count() == 8
    by_kind = {row[header.index("kind")]: row for row in entries}
    gift = by_kind["donation"]
    assert gift[header.index("date")] == month(-2).replace(day=10).isoformat()
    assert gift[header.index("amount")] == "500.00"
    assert gift[header.index("currency")] == "EUR"
    assert gift[header.index("memo")] == "'=HYPERLINK(x)"  # never a formula in a spreadsheet
    assert gift[header.index("donation_id")]
    fee = by_kind["adjustment"]
    assert fee[header.index("held_change")] == "-10.00"
    commitment = [row for row in entries if row[header.index("kind")] == "commitment"]
    assert {row[header.index("committed_change")] for row in commitment} == {"600.00", "300.00"}
    assert all(row[header.index("commitment_id")] for row in commitment)


def test_the_table_export_has_a_row_per_fund_and_period(
    client: Any, books: Fund, finance: Any
) -> None:
    client.force_login(finance)
    response = client.get(report_url(books.network, **the_range(export="table")))
    assert response["Content-Disposition"].endswith('-months.csv"')
    _content, rows = _csv(response)
    header, *lines = rows
    assert header[:3] == ["fund", "currency", "period"]
    assert len(lines) == 4
    assert lines[-1][header.index("available_at_end")] == "790.00"
    assert lines[-1][header.index("raised")] == "0.00"


def test_an_unknown_export_is_a_404(client: Any, books: Fund, finance: Any) -> None:
    client.force_login(finance)
    assert client.get(report_url(books.network, **the_range(export="pdf"))).status_code == 404


# --------------------------------------------------------------------------- by country, program


def test_scholarship_money_by_home_country_and_program(client: Any, scene: Scene) -> None:
    from medexchange.scholarships import services as scholarship_services

    award = committed(
        ask(scene.call, scene.application(0), "800.00"), scene.staff, (scene.fund, "800.00")
    )
    committed(ask(scene.call, scene.application(1), "500.00"), scene.staff, (scene.fund, "500.00"))
    payment = scholarship_services.award_disbursement_plan(
        award=award, actor=scene.staff, amount="300.00", commitment=award.commitments.get()
    )
    scholarship_services.award_disbursement_pay(
        award=award, disbursement=payment, actor=scene.staff
    )
    today = timezone.localdate()
    (line,) = reports.awards_by([scene.fund], start=month(0), end=today, by=reports.BY_COUNTRY)
    assert (line.label, line.participants) == ("Ghana", 2)
    assert (line.figures.committed, line.figures.paid) == (D("1300.00"), D("300.00"))
    (program,) = reports.awards_by([scene.fund], start=month(0), end=today, by=reports.BY_PROGRAM)
    assert program.label == "Fictional Lima EM Elective"

    client.force_login(scene.staff)
    query = the_range(start=month(0).isoformat())
    body = client.get(report_url(scene.network, **query)).content.decode()
    assert '<th scope="row">Ghana</th>' in body
    response = client.get(report_url(scene.network, **query, export="countries"))
    _content, rows = _csv(response)
    assert rows[1][:4] == [scene.fund.slug, "USD", "Ghana", "2"]
