"""Money in the funding templates: ``{{ amount|money:fund.currency }}``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from medexchange.funding.money import format_money

register = template.Library()


@register.filter
def money(amount: Any, currency: str) -> str:
    """``1,250.00 EUR`` in the reader's language; a dash for no amount."""
    if amount is None or amount == "":
        return "—"
    return format_money(Decimal(str(amount)), currency)


@register.filter
def signed_money(amount: Any, currency: str) -> str:
    """A ledger delta: ``+250.00 EUR``, ``\u221280.00 EUR``, or a dash for zero."""
    if amount is None or amount == "":
        return "—"
    value = Decimal(str(amount))
    if value == 0:
        return "—"
    sign = "+" if value > 0 else "\u2212"
    return sign + format_money(abs(value), currency)


@register.filter
def rate(value: Any) -> str:
    """An exchange rate without trailing zeros or an exponent: ``1.08345``, ``150``."""
    if value is None or value == "":
        return "—"
    return format(Decimal(str(value)).normalize(), "f")
