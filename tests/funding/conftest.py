"""Funds of the global network, its finance staff, and helpers to put money in them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from medexchange.funding import services
from medexchange.funding.choices import DonationMethod, FundPurpose
from medexchange.funding.models import Donation, Fund
from tests import factories

TODAY = dt.date(2026, 3, 2)


def make_fund(network: Any, *, currency: str = "EUR", **values: Any) -> Fund:
    index = Fund.objects.count() + 1
    defaults: dict[str, Any] = {
        "slug": f"fund-{index}",
        "name": f"Fund {index}",
        "purpose": FundPurpose.GENERAL,
    }
    return Fund.objects.create(network=network, currency=currency, **{**defaults, **values})


def give(
    fund: Fund,
    actor: Any,
    amount: str | Decimal = "100.00",
    *,
    currency: str | None = None,
    rate: str | None = None,
    received_on: dt.date | None = None,
    **extra: Any,
) -> Donation:
    """A cheque recorded by ``actor`` (finance staff)."""
    return services.donation_record_offline(
        fund=fund,
        amount=Decimal(amount),
        currency=currency or fund.currency,
        method=extra.pop("method", DonationMethod.CHEQUE),
        donor_name=extra.pop("donor_name", "Ada Donor"),
        donor_email=extra.pop("donor_email", "ada@example.org"),
        memo=extra.pop("memo", "For the residents"),
        received_on=received_on or dt.date(2026, 1, 15),
        rate=rate,
        actor=actor,
        **extra,
    )


@pytest.fixture
def finance(network: Any) -> Any:
    """Staff of the global network: its finance staff."""
    return factories.staff_of(network)


@pytest.fixture
def fund(network: Any) -> Fund:
    return make_fund(network, slug="em-residents", name="EM Residents Fund")
