"""Money: amounts exact to the currency's minor unit, known currencies, conversions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from medexchange.funding.money import (
    Money,
    check_rate,
    convert,
    currency_choices,
    currency_name,
    format_money,
    minor_digits,
    parse_amount,
    validate_currency,
)

D = Decimal


def test_minor_units() -> None:
    assert (minor_digits("EUR"), minor_digits("JPY"), minor_digits("KWD")) == (2, 0, 3)
    assert minor_digits("XOF") == 0


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("250", "EUR", D("250.00")),
        (" 250.5 ", "EUR", D("250.50")),
        ("1,234.56", "USD", D("1234.56")),
        ("1 234.56", "EUR", D("1234.56")),
        ("1'234.56", "CHF", D("1234.56")),
        ("15000", "JPY", D("15000")),
        ("1.234", "KWD", D("1.234")),
        (D("12.30"), "EUR", D("12.30")),
    ],
)
def test_parse_amount(text: str, currency: str, expected: Decimal) -> None:
    assert parse_amount(text, currency) == expected
    assert parse_amount(text, currency).as_tuple().exponent == -minor_digits(currency)


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("", "EUR", "Enter an amount"),
        ("0", "EUR", "more than zero"),
        ("0.00", "EUR", "more than zero"),
        ("-3", "EUR", "more than zero"),
        ("12.345", "EUR", "at most 2 decimals"),
        ("100.5", "JPY", "no decimals"),
        ("12,50", "EUR", "Use a dot for decimals"),
        ("1,500", "EUR", "ambiguous"),
        ("1e3", "EUR", "not an amount"),
        ("NaN", "EUR", "not an amount"),
        ("Infinity", "EUR", "not an amount"),
        ("€12", "EUR", "not an amount"),
        ("99999999999999", "EUR", "too large"),
    ],
)
def test_bad_amounts_are_refused_never_rounded(text: str, currency: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_amount(text, currency)
    assert message in caught.value.messages[0]


def test_negative_amounts_where_they_are_allowed() -> None:
    assert parse_amount("-2.50", "EUR", positive=False) == D("-2.50")


def test_floats_are_never_money() -> None:
    with pytest.raises(TypeError):
        Money(0.1, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["EUR", "USD", "KES", "XOF", "JPY", "HTG"])
def test_known_currencies(code: str) -> None:
    validate_currency(code)


@pytest.mark.parametrize("code", ["EURO", "eur", "ZZZ", "XAU", "XTS", "XXX", "", None, 978])
def test_unknown_currencies(code: object) -> None:
    with pytest.raises(ValidationError):
        validate_currency(code)


def test_currency_names_are_translated() -> None:
    assert currency_name("USD", "es") == "Dólar estadounidense"
    assert ("EUR", "EUR — Euro") in currency_choices()


def test_convert_rounds_half_to_even_to_the_target() -> None:
    assert convert(D("100.00"), "USD", "EUR", D("0.92345")) == D("92.34")
    assert convert(D("100.00"), "USD", "EUR", D("0.92355")) == D("92.36")
    assert convert(D("100.00"), "EUR", "JPY", D("162.555")) == D("16256")
    assert convert(D("10"), "EUR", "EUR", None) == D("10.00")
    with pytest.raises(ValueError, match="needs a rate"):
        convert(D("10"), "EUR", "USD", None)


def test_rates() -> None:
    assert check_rate("1.08345") == D("1.08345000")
    for bad in ("0", "-1", "1.000000001", "x", "Infinity"):
        with pytest.raises(ValidationError):
            check_rate(bad)


def test_format_money_follows_the_language() -> None:
    assert format_money(D("1234.5"), "EUR", "en") == "1,234.50\u00a0EUR"
    assert format_money(D("1234.5"), "EUR", "es") == "1\u00a0234,50\u00a0EUR"
    assert format_money(D("15000"), "JPY", "en") == "15,000\u00a0JPY"
    with translation.override("it"):
        assert format_money(D("3"), "USD") == "3,00\u00a0USD"


def test_money_adds_only_the_same_currency() -> None:
    assert (Money(D("1.10"), "EUR") + Money(D("2.20"), "EUR")).amount == D("3.30")
    with pytest.raises(TypeError):
        Money(D("1"), "EUR") + Money(D("1"), "USD")  # type: ignore[operator]
    with pytest.raises(ValidationError):
        Money(D("1.001"), "EUR")


@pytest.mark.parametrize("text", ["1" * 30, "9" * 40, "123456789012345678901234567.5"])
def test_absurdly_long_amounts_are_refused_not_a_crash(text: str) -> None:
    with pytest.raises(ValidationError) as error:
        parse_amount(text, "EUR")
    assert error.value.code == "too_large"


@pytest.mark.parametrize("rate", ["9" * 35, "1e40", "1" * 30])
def test_absurdly_large_rates_are_refused_not_a_crash(rate: str) -> None:
    with pytest.raises(ValidationError) as error:
        check_rate(rate)
    assert error.value.code == "too_large"
