"""Totals derived from the ledger, for one fund or many in one query; rates on a day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from medexchange.funding import services
from medexchange.funding.selectors import fund_totals, fund_totals_many, rate_on
from tests import factories
from tests.funding.conftest import give, make_fund

pytestmark = pytest.mark.django_db
D = Decimal


def test_totals_of_many_funds_in_one_query(
    network: Any, finance: Any, django_assert_num_queries: Any
) -> None:
    funds = [make_fund(network, slug=f"f{i}", name=f"F{i}") for i in range(6)]
    for position, fund in enumerate(funds[:5]):
        give(fund, finance, str(100 * (position + 1)))
        services.commitment_reserve(fund=fund, amount=D("50"), purpose="award", actor=finance)
    with django_assert_num_queries(1):
        totals = fund_totals_many(funds)
    assert [totals[fund.pk].held for fund in funds] == [
        D("100.00"),
        D("200.00"),
        D("300.00"),
        D("400.00"),
        D("500.00"),
        D("0.00"),
    ]
    assert totals[funds[4].pk].available == D("450.00")
    assert totals[funds[5].pk].committed == D("0.00")
    with django_assert_num_queries(1):
        assert fund_totals(funds[0]).raised == D("100.00")


def test_the_number_of_queries_does_not_grow_with_entries(
    network: Any, finance: Any, django_assert_num_queries: Any
) -> None:
    fund = make_fund(network)
    for _index in range(30):
        give(fund, finance, "10")
    with django_assert_num_queries(1):
        assert fund_totals(fund).held == D("300.00")


def test_rate_on_takes_the_latest_on_or_before_the_day(network: Any, finance: Any) -> None:
    for day, rate in ((1, "0.90"), (10, "0.95"), (20, "0.99")):
        services.exchange_rate_record(
            network=network,
            from_currency="USD",
            to_currency="EUR",
            rate=rate,
            on=dt.date(2026, 1, day),
            actor=finance,
        )
    assert rate_on("USD", "EUR", dt.date(2025, 12, 31), network=network) is None
    assert rate_on("USD", "EUR", dt.date(2026, 1, 1), network=network) == D("0.90")
    assert rate_on("USD", "EUR", dt.date(2026, 1, 19), network=network) == D("0.95")
    assert rate_on("USD", "EUR", dt.date(2026, 2, 1), network=network) == D("0.99")
    assert rate_on("EUR", "USD", dt.date(2026, 2, 1), network=network) is None  # no inverse
    assert rate_on("EUR", "EUR", dt.date(2026, 2, 1)) == D("1")
    # Without a network: only platform-wide rates.
    assert rate_on("USD", "EUR", dt.date(2026, 2, 1)) is None


def test_the_networks_own_rate_wins_over_the_platforms_on_the_same_day(
    network: Any, finance: Any
) -> None:
    root = factories.UserFactory(is_superuser=True, is_staff=True)
    day = dt.date(2026, 1, 5)
    services.exchange_rate_record(
        network=network, from_currency="USD", to_currency="EUR", rate="0.91", on=day, actor=finance
    )
    services.exchange_rate_record(
        network=None, from_currency="USD", to_currency="EUR", rate="0.80", on=day, actor=root
    )
    assert rate_on("USD", "EUR", day, network=network) == D("0.91")
    # A corrected rate for the same day replaces the earlier one.
    services.exchange_rate_record(
        network=network, from_currency="USD", to_currency="EUR", rate="0.92", on=day, actor=finance
    )
    assert rate_on("USD", "EUR", day, network=network) == D("0.92")
