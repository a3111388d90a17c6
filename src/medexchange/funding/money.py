"""Money: a ``Decimal`` amount with an ISO 4217 currency code, never a float.

Amounts are exact to the currency's minor unit (2 decimals for most currencies, 0 for
JPY or KRW, 3 for KWD or TND): more decimals than that are refused, never rounded
silently. Only conversions round (half to even, to the target currency's minor unit).
Currency codes are checked against pycountry's ISO 4217 list, without the codes that
are not money a donor gives (precious metals, testing codes, fund and accounting units).
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cache
from typing import Any

import pycountry
from django.core.exceptions import ValidationError
from django.utils import formats, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

#: Digits and decimal places of every amount column (at most 3 decimals: see MINOR_DIGITS).
AMOUNT_MAX_DIGITS = 15
AMOUNT_DECIMAL_PLACES = 3
#: Digits of an exchange rate: "1 unit of from_currency is ``rate`` units of to_currency".
RATE_MAX_DIGITS = 18
RATE_DECIMAL_PLACES = 8
#: The largest amount accepted anywhere (well inside the columns' 12 integer digits).
MAX_AMOUNT = Decimal("100000000000")

#: ISO 4217 minor units that are not 2 (the standard's exponents).
MINOR_DIGITS: dict[str, int] = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
#: ISO 4217 codes that are not a currency people pay with.
NOT_MONEY = frozenset(
    {
        # precious metals, SDR and the bond-market units
        "XAG",
        "XAU",
        "XPD",
        "XPT",
        "XDR",
        "XBA",
        "XBB",
        "XBC",
        "XBD",
        "XSU",
        "XUA",
        "XAD",
        # testing and "no currency"
        "XTS",
        "XXX",
        # funds codes and units of account
        "BOV",
        "CHE",
        "CHW",
        "CLF",
        "COU",
        "MXV",
        "USN",
        "UYI",
        "UYW",
    }
)
_CODE = re.compile(r"[A-Z]{3}")
# Digits with an optional dot and decimals; thousands may be grouped with commas, spaces
# or apostrophes (1,234.50 · 1 234.50 · 1'234.50).
_AMOUNT = re.compile(r"[+-]?(\d+|\d{1,3}([,' \u00a0\u202f]\d{3})+)(\.\d+)?")


@cache
def _currency_names() -> dict[str, str]:
    """Code → English name of every currency a gift may be in."""
    return {
        currency.alpha_3: currency.name
        for currency in pycountry.currencies
        if currency.alpha_3 not in NOT_MONEY
    }


@cache
def _catalogue(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso4217", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


def is_known_currency(code: Any) -> bool:
    return isinstance(code, str) and code in _currency_names()


def validate_currency(code: Any) -> None:
    """A model and form validator: an upper-case ISO 4217 code of a real currency."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise ValidationError(
            _("Use a three-letter ISO 4217 currency code in capitals, e.g. EUR or USD."),
            code="invalid_currency",
        )
    if not is_known_currency(code):
        raise ValidationError(
            _("%(code)s is not a currency code we know (ISO 4217)."),
            code="unknown_currency",
            params={"code": code},
        )


def currency_name(code: str, language: str | None = None) -> str:
    """The currency's name in ``language`` (default: the active one); the code if unknown."""
    english = _currency_names().get(code)
    if english is None:
        return code
    return _catalogue((language or get_language() or "en").split("-")[0]).gettext(english)


def currency_choices() -> list[tuple[str, str]]:
    """(code, "EUR — Euro") for forms, sorted by code."""
    return [(code, f"{code} — {currency_name(code)}") for code in sorted(_currency_names())]


def minor_digits(currency: str) -> int:
    """Decimals of the currency's minor unit: 2 for most, 0 for JPY, 3 for KWD."""
    return MINOR_DIGITS.get(currency, 2)


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of the currency as a quantum: 0.01, 1, 0.001."""
    return Decimal(1).scaleb(-minor_digits(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """``amount`` written with exactly the currency's decimals (it must already fit)."""
    return amount.quantize(minor_unit(currency))


def _too_many_decimals(currency: str) -> str:
    digits = minor_digits(currency)
    if digits == 0:
        return _("Amounts in %(currency)s have no decimals.") % {"currency": currency}
    return _("Amounts in %(currency)s have at most %(digits)d decimals.") % {
        "currency": currency,
        "digits": digits,
    }


def check_amount(amount: Any, currency: str, *, positive: bool = True) -> Decimal:
    """``amount`` as a Decimal of ``currency``, refused with a translated message when it
    is not a finite number, has more decimals than the currency, is too large, or (with
    ``positive``) is zero or negative."""
    validate_currency(currency)
    if isinstance(amount, float | bool):
        raise TypeError("Money is never a float: pass a Decimal or a string.")
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError(_("Enter an amount."), code="invalid_amount") from None
    if not value.is_finite():
        raise ValidationError(_("Enter an amount."), code="invalid_amount")
    if positive and value <= 0:
        raise ValidationError(_("The amount must be more than zero."), code="not_positive")
    # Before quantizing: a 30-digit number overflows the decimal context there.
    if abs(value) > MAX_AMOUNT:
        raise ValidationError(_("This amount is too large."), code="too_large")
    if value != value.quantize(minor_unit(currency), rounding=ROUND_HALF_EVEN):
        raise ValidationError(_too_many_decimals(currency), code="too_many_decimals")
    return quantize(value, currency)


def parse_amount(text: Any, currency: str, *, positive: bool = True) -> Decimal:
    """Read an amount typed by a person or found in a file: a dot for decimals, thousands
    optionally grouped (``1,234.50``); no exponents, no currency signs.

    Raises ``ValidationError`` with a translated message; never rounds.
    """
    validate_currency(currency)
    if isinstance(text, Decimal):
        return check_amount(text, currency, positive=positive)
    raw = str(text if text is not None else "").strip()
    if not raw:
        raise ValidationError(_("Enter an amount."), code="required")
    if not _AMOUNT.fullmatch(raw):
        if re.fullmatch(r"[+-]?\d+,\d{1,2}", raw):
            raise ValidationError(
                _("Use a dot for decimals, e.g. 12.50 (not 12,50)."), code="decimal_comma"
            )
        raise ValidationError(
            _("“%(value)s” is not an amount: write digits with a dot for decimals, e.g. 1250.00.")
            % {"value": raw[:40]},
            code="invalid_amount",
        )
    if "," in raw and "." not in raw:
        raise ValidationError(
            _("“%(value)s” is ambiguous: write 1500 or 1500.00, with a dot for decimals.")
            % {"value": raw[:40]},
            code="ambiguous_amount",
        )
    digits = re.sub(r"[,' \u00a0\u202f]", "", raw)
    return check_amount(Decimal(digits), currency, positive=positive)


def check_rate(rate: Any) -> Decimal:
    """An exchange rate: more than zero, at most eight decimals."""
    if isinstance(rate, float):
        raise TypeError("A rate is never a float: pass a Decimal or a string.")
    try:
        value = Decimal(str(rate).strip()) if not isinstance(rate, Decimal) else rate
    except (InvalidOperation, ValueError):
        raise ValidationError(
            _("Enter the rate as a number with a dot for decimals, e.g. 1.0825."),
            code="invalid_rate",
        ) from None
    if not value.is_finite():
        raise ValidationError(_("Enter the rate as a number."), code="invalid_rate")
    if value <= 0:
        raise ValidationError(_("An exchange rate is more than zero."), code="not_positive")
    if value >= Decimal(10) ** (RATE_MAX_DIGITS - RATE_DECIMAL_PLACES):
        raise ValidationError(_("This rate is too large."), code="too_large")
    quantum = Decimal(1).scaleb(-RATE_DECIMAL_PLACES)
    if value != value.quantize(quantum):
        raise ValidationError(
            _("Give the rate with at most %(digits)d decimals.") % {"digits": RATE_DECIMAL_PLACES},
            code="too_many_decimals",
        )
    if value >= Decimal(10) ** (RATE_MAX_DIGITS - RATE_DECIMAL_PLACES):
        raise ValidationError(_("This rate is too large."), code="too_large")
    return value.quantize(quantum)


def convert(amount: Decimal, from_currency: str, to_currency: str, rate: Decimal | None) -> Decimal:
    """``amount`` of ``from_currency`` in ``to_currency`` at ``rate`` (1 from = rate to),
    rounded half to even to the target's minor unit. The same currency needs no rate."""
    if from_currency == to_currency:
        return quantize(amount, to_currency)
    if rate is None:
        raise ValueError(f"Converting {from_currency} to {to_currency} needs a rate.")
    return (amount * rate).quantize(minor_unit(to_currency), rounding=ROUND_HALF_EVEN)


def format_money(amount: Decimal, currency: str, locale: str | None = None) -> str:
    """``1,234.50 EUR`` written the way ``locale``'s readers write numbers (default: the
    active language), with the currency's decimals and its ISO code."""
    with translation.override(locale or get_language() or "en"):
        number = formats.number_format(
            amount, decimal_pos=minor_digits(currency), use_l10n=True, force_grouping=True
        )
    return f"{number}\u00a0{currency}"


@dataclass(frozen=True)
class Money:
    """An amount and its currency, checked on creation."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", check_amount(self.amount, self.currency, positive=False))

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money) or other.currency != self.currency:
            return NotImplemented
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money) or other.currency != self.currency:
            return NotImplemented
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def converted(self, to_currency: str, rate: Decimal | None) -> Money:
        return Money(convert(self.amount, self.currency, to_currency, rate), to_currency)
