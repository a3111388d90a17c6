"""The demo funds: three funds, gifts in two currencies at a recorded rate, deterministic."""

from __future__ import annotations

import random
from typing import Any

import pytest

from medexchange.funding.demo import build_demo_funds, delete_demo_funds
from medexchange.funding.models import Donation, ExchangeRate, Fund
from medexchange.funding.selectors import fund_totals_many
from tests import factories


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - the demo's determinism, not security


pytestmark = pytest.mark.django_db


def snapshot() -> list[tuple[str, str, str, str]]:
    return [
        (d.fund.slug, str(d.amount), d.currency, str(d.fund_amount))
        for d in Donation.objects.select_related("fund").order_by("pk")
    ]


def test_demo_funds(network: Any) -> None:
    factories.staff_of(network)
    summary = build_demo_funds(network, seeded(7))
    funds = {fund.slug: fund for fund in Fund.objects.filter(network=network)}
    assert set(funds) == {"general", "em-residents", "faculty-travel"}
    assert summary.funds == 3 and summary.rates == 2
    assert funds["em-residents"].eligible_em_statuses == ["not_recognised", "emerging"]
    assert funds["em-residents"].is_restricted and not funds["faculty-travel"].is_public
    gifts = Donation.objects.all()
    assert gifts.count() == summary.gifts
    assert {gift.currency for gift in gifts} == {"EUR", "USD"}
    converted = gifts.exclude(rate=None)
    assert converted.exists()
    assert all(gift.currency != gift.fund.currency for gift in converted)
    totals = fund_totals_many(funds.values())
    assert all(totals[fund.pk].held > 0 for fund in funds.values())
    # Again: nothing doubles.
    assert build_demo_funds(network, seeded(7)).gifts == 0


def test_the_demo_is_deterministic_and_can_be_deleted(network: Any) -> None:
    factories.staff_of(network)
    build_demo_funds(network, seeded(11))
    first = snapshot()
    assert delete_demo_funds([network]) == 3
    assert not Donation.objects.exists() and not ExchangeRate.objects.exists()
    build_demo_funds(network, seeded(11))
    assert snapshot() == first
