"""Bank statement import: a dry run row by row, then all OK rows at once or nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from medexchange.common.models import AuditEntry
from medexchange.funding import services
from medexchange.funding.bank_import import BankFileError, ImportChanged
from medexchange.funding.choices import DonationMethod
from medexchange.funding.models import Donation, LedgerEntry
from medexchange.funding.selectors import fund_totals
from tests import factories
from tests.funding.conftest import give, make_fund

pytestmark = pytest.mark.django_db
D = Decimal
HEADER = "date,amount,currency,reference,payer_name,payer_email,memo\n"


@pytest.fixture
def funds(network: Any) -> tuple[Any, Any]:
    return (
        make_fund(network, slug="em-residents", name="EM Residents Fund"),
        make_fund(network, slug="general", name="General scholarship fund"),
    )


def preview(network: Any, actor: Any, text: str | bytes, **kwargs: Any) -> Any:
    return services.bank_import_preview(
        fund_or_network=network, csv_file=text, actor=actor, **kwargs
    )


def commit(network: Any, actor: Any, text: str | bytes, **kwargs: Any) -> Any:
    return services.bank_import_commit(
        fund_or_network=network, csv_file=text, actor=actor, **kwargs
    )


def test_a_clean_file_is_previewed_then_recorded(
    network: Any, finance: Any, funds: tuple[Any, Any]
) -> None:
    residents, general = funds
    text = (
        HEADER
        + "2026-01-10,250.00,EUR,TRX-1,Ada Lovelace,ADA@example.org,Gift for em-residents\n"
        + "2026-01-11,1 000.50,EUR,TRX-2,Grace Hopper,,general scholarship fund - annual\n"
    )
    checked = preview(network, finance, text)
    assert [(row.line, row.status, row.fund) for row in checked.rows] == [
        (2, "ok", residents),
        (3, "ok", general),
    ]
    assert not Donation.objects.exists(), "a preview writes nothing"
    result = commit(network, finance, text, expected=checked.ok_lines)
    assert len(result.donations) == 2
    gift = Donation.objects.get(provider_reference="TRX-1")
    assert (gift.fund, gift.amount, gift.method, gift.donor_email, gift.received_on) == (
        residents,
        D("250.00"),
        DonationMethod.BANK_TRANSFER,
        "ada@example.org",
        dt.date(2026, 1, 10),
    )
    assert fund_totals(general).held == D("1000.50")
    assert AuditEntry.objects.filter(action="donation.recorded").count() == 2
    assert AuditEntry.objects.get(action="bank_import.committed").data["recorded"] == 2


def test_every_bad_row_says_why(network: Any, finance: Any, funds: tuple[Any, Any]) -> None:
    today = timezone.localdate()
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    rows = [
        "2026-13-01,10.00,EUR,R1,A,,em-residents",
        "01/02/2026,10.00,EUR,R2,A,,em-residents",
        "2026-01-05,12.345,EUR,R3,A,,em-residents",
        "2026-01-05,10.00,EUX,R4,A,,em-residents",
        "2026-01-05,-50.00,EUR,R5,A,,em-residents",
        "2026-01-05,0.00,EUR,R6,A,,em-residents",
        "2026-01-05,10.00,EUR,,A,,em-residents",
        "2026-01-05,10.00,EUR,R8,A,,no fund named here",
        "2026-01-05,10.00,EUR,R9,A,not-an-email,em-residents",
        "2026-01-05,10.00,EUR,R10",
        f"{tomorrow},10.00,EUR,R11,A,,em-residents",
        "2026-01-05,10.00,USD,R12,A,,em-residents",
        "2026-01-05,10.00,EUR,R13,A,,em-residents and general",
        "2026-01-05,100,JPY,R14,A,,general",
        "2026-01-05,10.00,EUR,R15,A,,em-residents",
        "2026-01-05,11.00,EUR,R15,A,,em-residents",
        "2026-01-05,,EUR,R17,A,,em-residents",
        "2026-01-05,12,50,EUR,R18,A,,em-residents",
    ]
    checked = preview(network, finance, HEADER + "\n".join(rows) + "\n")
    by_line = {row.line: row for row in checked.rows}
    expected = {
        2: "is not a date",
        3: "is not a date",
        4: "at most 2 decimals",
        5: "not a currency code",
        6: "negative amount",
        7: "more than zero",
        8: "bank reference is missing",
        9: "memo names no fund",
        10: "is not an e-mail address",
        11: "first row names 7 columns",
        12: "in the future",
        13: "No exchange rate from USD to EUR",
        14: "could mean several funds",
        15: "No exchange rate from JPY to EUR",
        17: "same reference is on line 16",
        18: "Enter an amount",
        19: "first row names 7 columns",
    }
    for line, message in expected.items():
        row = by_line[line]
        assert row.is_error, (line, row.status)
        assert message in " ".join(row.errors), (line, row.errors)
    assert by_line[16].is_ok
    assert checked.ok_lines == {16}
    assert not Donation.objects.exists()


def test_rows_without_a_fund_go_to_the_chosen_fund(
    network: Any, finance: Any, funds: tuple[Any, Any]
) -> None:
    residents, general = funds
    text = HEADER + "2026-01-05,10.00,EUR,R1,A,,thank you\n2026-01-05,5,EUR,R2,B,,em-residents\n"
    checked = preview(network, finance, text, default_fund=general)
    assert [row.fund for row in checked.rows] == [general, residents]


def test_an_import_into_one_fund_puts_every_row_there(
    network: Any, finance: Any, funds: tuple[Any, Any]
) -> None:
    residents, _general = funds
    text = HEADER + "2026-01-05,10.00,EUR,R1,A,,general\n"
    checked = services.bank_import_preview(fund_or_network=residents, csv_file=text, actor=finance)
    assert checked.rows[0].fund == residents


def test_gifts_in_another_currency_are_converted_at_the_recorded_rate(
    network: Any, finance: Any, funds: tuple[Any, Any]
) -> None:
    services.exchange_rate_record(
        network=network,
        from_currency="USD",
        to_currency="EUR",
        rate="0.9",
        on=dt.date(2026, 1, 1),
        actor=finance,
    )
    text = HEADER + "2026-01-05,100.00,usd,R1,A,,em-residents\n"
    checked = preview(network, finance, text)
    row = checked.rows[0]
    assert (row.status, row.fund_amount, row.rate) == ("ok", D("90.00"), D("0.9"))
    commit(network, finance, text)
    gift = Donation.objects.get()
    assert (gift.amount, gift.currency, gift.fund_amount) == (D("100.00"), "USD", D("90.00"))


def test_duplicates_are_skipped_and_said_so(
    network: Any, finance: Any, funds: tuple[Any, Any]
) -> None:
    residents, _general = funds
    give(residents, finance, "10", reference="R1")
    text = HEADER + "2026-01-05,10.00,EUR,R1,A,,em-residents\n2026-01-05,7,EUR,R2,A,,general\n"
    checked = preview(network, finance, text)
    assert [row.status for row in checked.rows] == ["duplicate", "ok"]
    assert "Already recorded" in checked.rows[0].errors[0]
    result = commit(network, finance, text)
    assert [row.reference for row in result.duplicates] == ["R1"]
    assert Donation.objects.count() == 2
    # The same file again: nothing left to record, nothing recorded.
    with pytest.raises(ValidationError, match="No row of this file can be recorded"):
        commit(network, finance, text)
    assert Donation.objects.count() == 2


def test_a_commit_that_no_longer_matches_the_preview_records_nothing(
    network: Any, finance: Any, funds: tuple[Any, Any]
) -> None:
    residents, _general = funds
    text = HEADER + "2026-01-05,10.00,EUR,R1,A,,em-residents\n2026-01-05,7,EUR,R2,A,,general\n"
    checked = preview(network, finance, text)
    give(residents, finance, "10", reference="R2")  # someone records line 3 meanwhile
    entries = LedgerEntry.objects.count()
    with pytest.raises(ImportChanged) as caught:
        commit(network, finance, text, expected=checked.ok_lines)
    assert caught.value.preview.ok_lines == {2}
    assert LedgerEntry.objects.count() == entries
    assert not Donation.objects.filter(provider_reference="R1").exists()


def test_rows_with_errors_are_left_out_of_a_commit(
    network: Any, finance: Any, funds: tuple[Any, Any]
) -> None:
    text = HEADER + "2026-01-05,10.00,EUR,R1,A,,em-residents\n2026-01-05,-3,EUR,R2,A,,general\n"
    result = commit(network, finance, text)
    assert [donation.provider_reference for donation in result.donations] == ["R1"]
    assert [row.line for row in result.not_recorded] == [3]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Jos\xe9,10\n".encode("latin-1"), "not UTF-8"),
        (b"", "empty"),
        (b"date,amount\x00\n", "not a CSV text file"),
        ("date,amount,currency,memo\n2026-01-05,1,EUR,x\n", "missing: reference, payer_name"),
        ("date,date,amount,currency,reference,payer_name,memo\n", "appear twice"),
        ('date,amount\n"2026-01-05,1\n', "missing"),
    ],
)
def test_unreadable_files_are_refused_as_a_whole(
    network: Any, finance: Any, funds: tuple[Any, Any], content: bytes | str, message: str
) -> None:
    with pytest.raises(BankFileError) as caught:
        preview(network, finance, content)
    assert message in caught.value.messages[0]
    with pytest.raises(BankFileError):
        commit(network, finance, content)
    assert not Donation.objects.exists()


def test_semicolons_a_bom_other_column_names_and_extra_columns(
    network: Any, finance: Any, funds: tuple[Any, Any]
) -> None:
    text = (
        "\ufeffDate;Amount;Currency;Reference;Payer name;Memo;Balance\n"
        "2026-01-05;10.00;EUR;R1;Ada;em-residents;1234.00\n"
    )
    checked = preview(network, finance, text.encode("utf-8"))
    assert checked.rows[0].is_ok, checked.rows[0].errors
    assert checked.ignored_columns == ["Balance"]


def test_only_the_networks_finance_staff_import(
    network: Any, member: Any, africa_network: Any, funds: tuple[Any, Any]
) -> None:
    text = HEADER + "2026-01-05,10.00,EUR,R1,A,,em-residents\n"
    for stranger in (
        factories.UserFactory(),
        factories.coordinator_of(member),
        factories.staff_of(africa_network),
    ):
        with pytest.raises(PermissionDenied):
            preview(network, stranger, text)
        with pytest.raises(PermissionDenied):
            commit(network, stranger, text)
    assert not Donation.objects.exists()
