"""The finance staff's pages, used through the browser: the network's funds, creating and
editing a fund, a fund's books, recording an offline gift, exchange rates and the bank
statement import page.

Who may open them is tests/funding/test_permissions.py's; the import's row-by-row rules
are tests/funding/test_bank_import.py's. Here: what finance staff see and what their
forms record or refuse (a message at the field, and nothing written).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape, strip_tags

from medexchange.common.models import AuditEntry
from medexchange.funding import services
from medexchange.funding.models import Donation, ExchangeRate, Fund, LedgerEntry
from medexchange.funding.money import format_money
from medexchange.funding.selectors import fund_totals
from tests.funding.conftest import give, make_fund

pytestmark = pytest.mark.django_db
HEADER = "date,amount,currency,reference,payer_name,payer_email,memo\n"


# --------------------------------------------------------------------------- helpers


def money(amount: str, currency: str = "EUR") -> str:
    """As the page shows it, with its no-break space read as a space (see ``text``)."""
    return " ".join(format_money(Decimal(amount), currency).split())


def eur(amount: str) -> str:
    return money(amount)


def text(response: Any) -> str:
    """The page as a reader sees it: no tags, entities decoded, spaces collapsed."""
    return " ".join(unescape(strip_tags(response.content.decode())).split())


def row_of(response: Any, name: str) -> str:
    """The text of the table row that names ``name``."""
    rows = re.findall(r"<tr>.*?</tr>", response.content.decode(), flags=re.S)
    found = [row for row in rows if escape(name) in row]
    assert len(found) == 1, f"one row names {name!r}"
    return " ".join(unescape(strip_tags(found[0])).split())


def field_error(response: Any, field: str) -> str:
    """The error shown under ``field`` (Django's ``id_<field>_error`` list), as text."""
    match = re.search(
        rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>',
        response.content.decode(),
        flags=re.S,
    )
    assert match, f"no error shown at {field}"
    return " ".join(unescape(strip_tags(match.group(1))).split())


def funds_url(network: Any) -> str:
    return reverse("funding:funds", kwargs={"network": network.slug})


def create_url(network: Any) -> str:
    return reverse("funding:fund-create", kwargs={"network": network.slug})


def edit_url(fund: Fund) -> str:
    return reverse("funding:fund-edit", kwargs={"network": fund.network.slug, "fund": fund.slug})


def gift_url(fund: Fund) -> str:
    return reverse("funding:gift-record", kwargs={"network": fund.network.slug, "fund": fund.slug})


def rates_url(network: Any) -> str:
    return reverse("funding:rates", kwargs={"network": network.slug})


def import_url(network: Any) -> str:
    return reverse("funding:bank-import", kwargs={"network": network.slug})


def fund_form(**values: Any) -> dict[str, Any]:
    return {
        "name": "Rural Residents Fund",
        "slug": "rural-residents",
        "description": "Scholarships for rural residents.",
        "purpose": "general",
        "restriction": "",
        "currency": "EUR",
        "target": "5000.00",
        "is_public": "on",
        "is_active": "on",
        **values,
    }


def gift_form(**values: Any) -> dict[str, Any]:
    return {
        "method": "bank_transfer",
        "amount": "250.00",
        "currency": "EUR",
        "rate": "",
        "received_on": "2026-01-15",
        "donor_name": "Grace Hopper",
        "donor_email": "Grace@Example.org",
        "reference": "TRX-20260115-7",
        "memo": "For the residents",
        **values,
    }


def everything_recorded() -> tuple[int, int, int, int]:
    return (
        Donation.objects.count(),
        LedgerEntry.objects.count(),
        ExchangeRate.objects.count(),
        AuditEntry.objects.count(),
    )


@pytest.fixture
def signed_in(client: Any, finance: Any) -> Any:
    client.force_login(finance)
    return client


# --------------------------------------------------------------------------- funds list


def test_the_funds_list_shows_each_funds_totals_from_its_ledger(
    signed_in: Any, network: Any, finance: Any, fund: Fund
) -> None:
    give(fund, finance, "300.00")
    give(fund, finance, "1200.50")
    services.commitment_reserve(fund=fund, amount="500.00", purpose="Scholarship A", actor=finance)
    quiet = make_fund(network, slug="quiet", name="Quiet Fund", is_active=False, is_public=False)
    response = signed_in.get(funds_url(network))
    assert response.status_code == 200
    # held, committed, available, raised, disbursed
    assert row_of(response, fund.name) == (
        f"{fund.name} {eur('1500.50')} {eur('500.00')} {eur('1000.50')} {eur('1500.50')} "
        f"{eur('0.00')}"
    )
    quiet_row = row_of(response, quiet.name)
    assert "closed" in quiet_row and "not public" in quiet_row
    assert eur("0.00") in quiet_row
    assert f'href="{fund.get_manage_url()}"' in response.content.decode()


def test_the_funds_list_of_a_network_without_funds_says_what_to_do(
    signed_in: Any, network: Any
) -> None:
    response = signed_in.get(funds_url(network))
    page = text(response)
    assert "This network has no fund yet." in page
    assert "Create a fund" in page


# --------------------------------------------------------------------------- create / edit


def test_finance_staff_create_a_fund(signed_in: Any, network: Any, finance: Any) -> None:
    response = signed_in.post(create_url(network), fund_form())
    fund = Fund.objects.get(network=network, slug="rural-residents")
    assert response.status_code == 302
    assert response["Location"] == fund.get_manage_url()
    assert (fund.name, fund.currency, fund.target, fund.is_public, fund.is_active) == (
        "Rural Residents Fund",
        "EUR",
        Decimal("5000.00"),
        True,
        True,
    )
    audit = AuditEntry.objects.get(action="fund.created")
    assert (audit.actor, audit.target_id) == (finance, str(fund.pk))
    books = signed_in.get(response["Location"])
    assert "The fund is created." in text(books)
    assert "No money has moved in this fund yet." in text(books)
    assert "Rural Residents Fund" in text(signed_in.get(funds_url(network)))


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"currency": "XYZ"}, "currency", "Select a valid choice."),
        ({"currency": "XAU"}, "currency", "Select a valid choice."),
        ({"slug": "reports"}, "slug", "“reports” is a word of the site's addresses"),
        ({"slug": "manage"}, "slug", "“manage” is a word of the site's addresses"),
        ({"slug": "em-residents"}, "slug", "Another fund of this network has this short name."),
        ({"slug": "rural residents"}, "slug", "Use letters, digits and hyphens only"),
        ({"target": "-100"}, "target", "The amount must be more than zero."),
        ({"target": "100.001"}, "target", "at most 2 decimals"),
        ({"name": ""}, "name", "This field is required."),
        (
            {"purpose": "restricted", "restriction": ""},
            "restriction",
            "Say what the money is restricted to.",
        ),
    ],
)
def test_a_fund_with_a_bad_field_is_not_created_and_the_field_says_why(
    signed_in: Any, network: Any, fund: Fund, values: dict[str, str], field: str, message: str
) -> None:
    before = (Fund.objects.count(), AuditEntry.objects.count())
    response = signed_in.post(create_url(network), fund_form(**values))
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert "Nothing was recorded." in text(response)
    assert (Fund.objects.count(), AuditEntry.objects.count()) == before
    # What was typed is kept for correcting.
    assert "Scholarships for rural residents." in response.content.decode()


def test_a_short_name_is_free_in_another_network(
    signed_in: Any, network: Any, africa_network: Any
) -> None:
    make_fund(africa_network, slug="rural-residents")
    response = signed_in.post(create_url(network), fund_form())
    assert response.status_code == 302
    assert Fund.objects.filter(network=network, slug="rural-residents").exists()


def test_finance_staff_edit_a_fund(signed_in: Any, finance: Any, fund: Fund) -> None:
    form = signed_in.get(edit_url(fund))
    assert form.status_code == 200
    assert 'value="EM Residents Fund"' in form.content.decode()
    response = signed_in.post(
        edit_url(fund),
        fund_form(name="EM Residents Fund 2027", slug=fund.slug, target="8000", is_public=""),
    )
    assert response.status_code == 302
    assert response["Location"] == fund.get_manage_url()
    fund.refresh_from_db()
    assert (fund.name, fund.target, fund.is_public) == (
        "EM Residents Fund 2027",
        Decimal("8000.00"),
        False,
    )
    audit = AuditEntry.objects.get(action="fund.updated")
    assert audit.actor == finance
    assert audit.data["name"] == ["EM Residents Fund", "EM Residents Fund 2027"]
    books = text(signed_in.get(response["Location"]))
    assert "The fund is saved." in books
    assert "Books of EM Residents Fund 2027" in books
    assert "not public" in books


def test_a_fund_keeps_its_short_name_unless_it_is_taken(
    signed_in: Any, network: Any, fund: Fund
) -> None:
    make_fund(network, slug="general", name="General")
    response = signed_in.post(edit_url(fund), fund_form(name=fund.name, slug="general"))
    assert response.status_code == 400
    assert "Another fund of this network has this short name." in field_error(response, "slug")
    fund.refresh_from_db()
    assert fund.slug == "em-residents"
    assert not AuditEntry.objects.filter(action="fund.updated").exists()


def test_a_funds_currency_cannot_change_once_money_has_moved(
    signed_in: Any, finance: Any, fund: Fund
) -> None:
    give(fund, finance, "100.00")
    response = signed_in.post(
        edit_url(fund), fund_form(name=fund.name, slug=fund.slug, currency="USD")
    )
    assert response.status_code == 400
    assert "The currency cannot change once money has moved in the fund." in field_error(
        response, "currency"
    )
    fund.refresh_from_db()
    assert fund.currency == "EUR"


# --------------------------------------------------------------------------- a fund's books


def test_the_books_show_totals_and_the_ledger_newest_first(
    signed_in: Any, finance: Any, fund: Fund
) -> None:
    give(fund, finance, "100.00", donor_name="First Donor")
    give(fund, finance, "40.00", donor_name="Second Donor", reference="TRX-2")
    services.commitment_reserve(fund=fund, amount="30.00", purpose="Visa fees", actor=finance)
    response = signed_in.get(fund.get_manage_url())
    assert response.status_code == 200
    page = text(response)
    assert f"{eur('140.00')} held" in page
    assert f"{eur('30.00')} committed" in page
    assert f"{eur('110.00')} available" in page
    html = response.content.decode()
    assert html.index("Visa fees") < html.index("Second Donor") < html.index("First Donor")
    second = row_of(response, "Second Donor")
    assert "+40.00" in second and "TRX-2" in second and "Bank transfer" not in second
    assert "Cheque" in second


def test_the_books_show_the_original_amount_of_a_converted_gift(
    signed_in: Any, finance: Any, fund: Fund
) -> None:
    give(fund, finance, "100.00", currency="USD", rate="0.9", donor_name="Dollar Donor")
    row = row_of(signed_in.get(fund.get_manage_url()), "Dollar Donor")
    assert "+90.00" in row
    assert money("100.00", "USD") in row


def test_the_ledger_is_paginated_at_50(signed_in: Any, finance: Any, fund: Fund) -> None:
    for index in range(1, 56):
        give(fund, finance, "1.00", donor_name=f"Donor {index:03d}")
    first = signed_in.get(fund.get_manage_url())
    first_page = text(first)
    assert "Page 1 of 2" in first_page
    assert "Donor 055" in first_page and "Donor 006" in first_page
    assert "Donor 005" not in first_page
    assert "?page=2" in first.content.decode()
    second = text(signed_in.get(fund.get_manage_url() + "?page=2"))
    assert "Page 2 of 2" in second
    assert all(f"Donor {index:03d}" in second for index in range(1, 6))
    assert "Donor 006" not in second
    # Totals are the whole ledger's, not the page's.
    assert f"{eur('55.00')} held" in second
    # A page number past the end or not a number shows a page, never an error.
    assert signed_in.get(fund.get_manage_url() + "?page=99").status_code == 200
    assert signed_in.get(fund.get_manage_url() + "?page=x").status_code == 200


def _books_queries(client: Any, fund: Fund, page: int = 1) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(fund.get_manage_url() + f"?page={page}")
    assert response.status_code == 200
    return len(captured)


def test_the_books_make_as_many_queries_for_120_entries_as_for_10(
    signed_in: Any, network: Any, finance: Any
) -> None:
    small = make_fund(network, slug="small")
    large = make_fund(network, slug="large")
    for index in range(10):
        give(small, finance, "10.00", reference=f"S-{index}")
    for index in range(110):
        give(large, finance, "10.00", currency="USD", rate="0.9", reference=f"L-{index}")
    for index in range(10):
        services.commitment_reserve(fund=large, amount="1.00", purpose=f"C{index}", actor=finance)
    assert LedgerEntry.objects.filter(fund=large).count() == 120
    _books_queries(signed_in, small)  # the session and the like, once
    small_count = _books_queries(signed_in, small)
    assert _books_queries(signed_in, large) == small_count
    assert _books_queries(signed_in, large, page=3) == small_count


# --------------------------------------------------------------------------- offline gifts


def test_finance_staff_record_a_gift(signed_in: Any, finance: Any, fund: Fund) -> None:
    give(fund, finance, "100.00")
    form = signed_in.get(gift_url(fund))
    assert form.status_code == 200
    response = signed_in.post(gift_url(fund), gift_form())
    assert response.status_code == 302
    assert response["Location"] == fund.get_manage_url()
    gift = Donation.objects.get(provider_reference="TRX-20260115-7")
    assert (gift.fund, gift.amount, gift.currency, gift.method, gift.donor_email) == (
        fund,
        Decimal("250.00"),
        "EUR",
        "bank_transfer",
        "grace@example.org",
    )
    assert gift.received_on == dt.date(2026, 1, 15)
    assert gift.recorded_by == finance
    entry = LedgerEntry.objects.get(donation=gift)
    assert entry.held_delta == Decimal("250.00")
    assert fund_totals(fund).held == Decimal("350.00")
    audit = AuditEntry.objects.filter(action="donation.recorded").latest("pk")
    assert (audit.actor, audit.target_id, audit.data["amount"]) == (finance, str(gift.pk), "250.00")
    books = signed_in.get(response["Location"])
    page = text(books)
    assert "The gift of 250.00 EUR is recorded." in page
    assert f"{eur('350.00')} held" in page
    assert "Grace Hopper" in row_of(books, "TRX-20260115-7")


def test_a_gift_in_another_currency_is_converted_at_the_recorded_rate(
    signed_in: Any, network: Any, finance: Any, fund: Fund
) -> None:
    services.exchange_rate_record(
        network=network,
        from_currency="USD",
        to_currency="EUR",
        rate="0.92",
        on=dt.date(2026, 1, 2),
        actor=finance,
    )
    response = signed_in.post(gift_url(fund), gift_form(amount="100.00", currency="USD"))
    assert response.status_code == 302
    gift = Donation.objects.get()
    assert (gift.amount, gift.currency, gift.fund_amount, gift.rate) == (
        Decimal("100.00"),
        "USD",
        Decimal("92.00"),
        Decimal("0.92"),
    )
    assert fund_totals(fund).held == Decimal("92.00")


def test_a_gift_in_another_currency_may_give_its_own_rate(signed_in: Any, fund: Fund) -> None:
    response = signed_in.post(
        gift_url(fund), gift_form(amount="10000", currency="JPY", rate="0.0061")
    )
    assert response.status_code == 302
    assert fund_totals(fund).held == Decimal("61.00")


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"amount": "0"}, "amount", "The amount must be more than zero."),
        ({"amount": "0.00"}, "amount", "The amount must be more than zero."),
        ({"amount": "-50.00"}, "amount", "The amount must be more than zero."),
        ({"amount": "10.001"}, "amount", "Amounts in EUR have at most 2 decimals."),
        ({"amount": "10.5", "currency": "JPY", "rate": "0.006"}, "amount", "have no decimals"),
        ({"amount": "12,50"}, "amount", "Use a dot for decimals"),
        ({"amount": "ten"}, "amount", "is not an amount"),
        ({"amount": ""}, "amount", "This field is required."),
        ({"currency": "XYZ"}, "currency", "Select a valid choice."),
        ({"currency": "USD"}, "rate", "No exchange rate from USD to EUR is recorded"),
        ({"currency": "USD", "rate": "0"}, "rate", "An exchange rate is more than zero."),
        ({"currency": "USD", "rate": "-1.1"}, "rate", "An exchange rate is more than zero."),
        ({"received_on": "2099-01-01"}, "received_on", "cannot be received in the future"),
        ({"donor_email": "not-an-address"}, "donor_email", "Enter a valid"),
        ({"method": "card"}, "method", "Select a valid choice."),
    ],
)
def test_a_bad_gift_is_refused_at_the_field_and_nothing_is_recorded(
    signed_in: Any, fund: Fund, values: dict[str, str], field: str, message: str
) -> None:
    before = everything_recorded()
    response = signed_in.post(gift_url(fund), gift_form(**values))
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert "Nothing was recorded." in text(response)
    assert everything_recorded() == before
    assert fund_totals(fund).held == Decimal(0)


def test_the_same_bank_reference_is_not_recorded_twice(signed_in: Any, fund: Fund) -> None:
    assert signed_in.post(gift_url(fund), gift_form()).status_code == 302
    before = everything_recorded()
    response = signed_in.post(gift_url(fund), gift_form(amount="99.00"))
    assert response.status_code == 400
    assert "A gift with the bank reference TRX-20260115-7 is already recorded." in field_error(
        response, "reference"
    )
    assert everything_recorded() == before
    assert fund_totals(fund).held == Decimal("250.00")


def test_a_bank_reference_recorded_in_another_fund_of_the_network_is_refused(
    signed_in: Any, network: Any, fund: Fund
) -> None:
    other = make_fund(network, slug="general", name="General")
    assert signed_in.post(gift_url(other), gift_form()).status_code == 302
    response = signed_in.post(gift_url(fund), gift_form())
    assert response.status_code == 400
    assert "already recorded" in field_error(response, "reference")
    assert Donation.objects.count() == 1


def test_gifts_without_a_bank_reference_are_never_duplicates(signed_in: Any, fund: Fund) -> None:
    for _ in range(2):
        response = signed_in.post(gift_url(fund), gift_form(method="cheque", reference=""))
        assert response.status_code == 302
    assert fund_totals(fund).held == Decimal("500.00")


def test_a_closed_fund_takes_no_gift(signed_in: Any, network: Any) -> None:
    closed = make_fund(network, slug="closed", is_active=False)
    response = signed_in.post(gift_url(closed), gift_form())
    assert response.status_code == 400
    assert "This fund is closed to new gifts." in text(response)
    assert not Donation.objects.exists()


# --------------------------------------------------------------------------- rates


def test_finance_staff_record_a_rate(signed_in: Any, network: Any, finance: Any) -> None:
    page = signed_in.get(rates_url(network))
    assert "No rate is recorded yet." in text(page)
    response = signed_in.post(
        rates_url(network),
        {
            "from_currency": "USD",
            "to_currency": "EUR",
            "rate": "0.9215",
            "on": "2026-01-02",
            "source": "Bank statement",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == rates_url(network)
    rate = ExchangeRate.objects.get()
    assert (rate.network, rate.from_currency, rate.to_currency, rate.rate, rate.on) == (
        network,
        "USD",
        "EUR",
        Decimal("0.9215"),
        dt.date(2026, 1, 2),
    )
    assert rate.recorded_by == finance
    audit = AuditEntry.objects.get(action="exchange_rate.recorded")
    assert (audit.actor, Decimal(audit.data["rate"])) == (finance, Decimal("0.9215"))
    shown = signed_in.get(response["Location"])
    assert "Recorded:" in text(shown)
    row = row_of(shown, "Bank statement")
    assert "1 USD = 0.9215 EUR" in row


def test_a_rate_recorded_on_the_page_converts_the_next_gift(
    signed_in: Any, network: Any, fund: Fund
) -> None:
    rate = {"from_currency": "GBP", "to_currency": "EUR", "rate": "1.2", "on": "2026-01-02"}
    assert signed_in.post(rates_url(network), rate).status_code == 302
    response = signed_in.post(gift_url(fund), gift_form(amount="50.00", currency="GBP"))
    assert response.status_code == 302
    assert fund_totals(fund).held == Decimal("60.00")


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"rate": "0"}, "rate", "An exchange rate is more than zero."),
        ({"rate": "-0.9"}, "rate", "An exchange rate is more than zero."),
        ({"rate": "abc"}, "rate", "Enter the rate"),
        ({"rate": "0.123456789"}, "rate", "at most 8 decimals"),
        ({"to_currency": "USD"}, "to_currency", "Choose two different currencies."),
        ({"from_currency": "XYZ"}, "from_currency", "Select a valid choice."),
        ({"on": "2099-01-01"}, "on", "Rates are recorded for today or an earlier day."),
    ],
)
def test_a_bad_rate_is_refused_at_the_field_and_nothing_is_recorded(
    signed_in: Any, network: Any, values: dict[str, str], field: str, message: str
) -> None:
    data = {"from_currency": "USD", "to_currency": "EUR", "rate": "0.9", "on": "2026-01-02"}
    response = signed_in.post(rates_url(network), {**data, **values})
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert "Nothing was recorded." in text(response)
    assert not ExchangeRate.objects.exists()
    assert not AuditEntry.objects.filter(action="exchange_rate.recorded").exists()


# --------------------------------------------------------------------------- bank import page


def upload(text_: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("statement.csv", text_.encode(), content_type="text/csv")


def test_a_statement_is_checked_then_recorded_through_the_page(
    signed_in: Any, network: Any, fund: Fund
) -> None:
    csv = (
        HEADER
        + "2026-01-10,250.00,EUR,TRX-1,Ada Lovelace,ada@example.org,Gift for em-residents\n"
        + "2026-01-11,0,EUR,TRX-2,Grace Hopper,,em-residents\n"
    )
    checked = signed_in.post(import_url(network), {"action": "check", "file": upload(csv)})
    assert checked.status_code == 200
    page = text(checked)
    assert "Nothing has been recorded yet." in page
    assert "1 row can be recorded." in page
    assert "1 row has errors" in page
    assert "The amount must be more than zero." in row_of(checked, "TRX-2")
    assert not Donation.objects.exists()
    committed = signed_in.post(import_url(network), {"action": "commit"})
    assert committed.status_code == 302
    assert committed["Location"] == funds_url(network)
    assert list(Donation.objects.values_list("provider_reference", flat=True)) == ["TRX-1"]
    listing = signed_in.get(committed["Location"])
    assert "1 gift recorded. 1 row with errors was not recorded." in text(listing)
    assert eur("250.00") in row_of(listing, fund.name)
    # The checked file is used once: a second "Record" asks for the file again.
    again = signed_in.post(import_url(network), {"action": "commit"})
    assert again.status_code == 400
    assert "Upload the file again" in text(again)
    assert Donation.objects.count() == 1


def test_a_file_without_a_recordable_row_is_refused_with_nothing_to_record(
    signed_in: Any, network: Any, fund: Fund
) -> None:
    csv = HEADER + "2026-01-11,10.001,EUR,TRX-3,Grace Hopper,,em-residents\n"
    checked = signed_in.post(import_url(network), {"action": "check", "file": upload(csv)})
    assert checked.status_code == 400
    assert "0 rows can be recorded." in text(checked)
    assert 'value="commit"' not in checked.content.decode()
    assert signed_in.post(import_url(network), {"action": "commit"}).status_code == 400
    assert not Donation.objects.exists()


def test_an_unreadable_or_empty_file_is_refused_at_the_page(
    signed_in: Any, network: Any, fund: Fund
) -> None:
    empty = signed_in.post(
        import_url(network), {"action": "check", "file": SimpleUploadedFile("e.csv", b"")}
    )
    assert empty.status_code == 400
    assert "empty" in field_error(empty, "file")
    garbage = signed_in.post(
        import_url(network), {"action": "check", "file": upload("just,some\nwords,here\n")}
    )
    assert garbage.status_code == 400
    assert "error-summary" in garbage.content.decode()
    assert not Donation.objects.exists()
