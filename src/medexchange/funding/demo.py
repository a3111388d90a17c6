"""Demo funds of a network: a general fund, a fund restricted to residents from countries
where Emergency Medicine is not yet established, and a staff-only travel fund, with
cheques, bank transfers and cash gifts in two currencies converted at a recorded rate.
Deterministic for a given ``random.Random``; every gift goes through the services.

    from medexchange.funding.demo import build_demo_funds
    build_demo_funds(network, random.Random(seed))
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from medexchange.accounts.models import User
from medexchange.funding import services
from medexchange.funding.choices import DonationMethod, FundPurpose
from medexchange.funding.models import (
    Commitment,
    Disbursement,
    Donation,
    ExchangeRate,
    Fund,
    LedgerEntry,
    Pledge,
    Receipt,
)
from medexchange.network.choices import EmStatus
from medexchange.network.models import Network

DEMO_RATE_SOURCE = "Demo rate (fictional)"
FUNDS: tuple[dict[str, Any], ...] = (
    {
        "slug": "general",
        "name": "General scholarship fund",
        "description": "Flights and a month's housing for participants whose hospital "
        "cannot pay them.",
        "purpose": FundPurpose.GENERAL,
        "currency": "EUR",
        "target": Decimal("20000.00"),
        "gifts": (9, 14),
    },
    {
        "slug": "em-residents",
        "name": "Emergency Medicine residents fund",
        "description": "For residents from countries where Emergency Medicine is a young "
        "or unrecognised specialty.",
        "purpose": FundPurpose.RESTRICTED,
        "restriction": "Only for residents from countries where Emergency Medicine is not "
        "recognised or still emerging.",
        "eligible_em_statuses": [EmStatus.NOT_RECOGNISED.value, EmStatus.EMERGING.value],
        "currency": "USD",
        "target": Decimal("15000.00"),
        "gifts": (7, 11),
    },
    {
        "slug": "faculty-travel",
        "name": "Guest educators' travel",
        "description": "Host faculty travelling to partner countries to teach.",
        "purpose": FundPurpose.GENERAL,
        "currency": "EUR",
        "target": None,
        "is_public": False,
        "gifts": (2, 4),
    },
)
DONORS = (
    "Amara Okafor",
    "Lucía Fernández",
    "Giulia Bianchi",
    "Kwame Mensah",
    "Farah Haddad",
    "Noah Schmidt",
    "Mei Lin",
    "Rosa Delgado",
    "Tomás Ribeiro",
    "Yusuf Demir",
    "Old Town Rotary Club",
    "Riverside Emergency Physicians",
)
MEMOS = ("In memory of Dr. A.", "Annual gift", "For the exchange program", "", "")


@dataclass(frozen=True)
class DemoFundsSummary:
    funds: int
    gifts: int
    rates: int


def _finance_actor(network: Network) -> User:
    actor = (
        User.objects.filter(is_active=True, network_staff_roles__network=network)
        .order_by("pk")
        .first()
        or User.objects.filter(is_active=True, is_superuser=True).order_by("pk").first()
    )
    if actor is None:
        raise ValueError(f"Network {network.slug} has no staff to record the demo gifts.")
    return actor


def _amount(rng: random.Random, currency: str) -> Decimal:
    whole = rng.choice((25, 50, 50, 100, 100, 150, 250, 500, 1000, 2500))
    cents = rng.choice((0, 0, 0, 50))
    return Decimal(whole) + Decimal(cents) / 100


def build_demo_funds(
    network: Network, rng: random.Random, *, actor: User | None = None
) -> DemoFundsSummary:
    """Create the demo funds of ``network`` (skipping those whose short name exists)."""
    actor = actor or _finance_actor(network)
    today = timezone.localdate()
    rate_day = today - dt.timedelta(days=120)
    funds = gifts = rates = 0
    with transaction.atomic():
        for from_currency, to_currency, rate in (
            ("USD", "EUR", "0.9215"),
            ("EUR", "USD", "1.0852"),
        ):
            if not ExchangeRate.objects.filter(
                network=network, from_currency=from_currency, to_currency=to_currency
            ).exists():
                services.exchange_rate_record(
                    network=network,
                    from_currency=from_currency,
                    to_currency=to_currency,
                    rate=rate,
                    on=rate_day,
                    source=DEMO_RATE_SOURCE,
                    actor=actor,
                )
                rates += 1
        for spec in FUNDS:
            if Fund.objects.filter(network=network, slug=spec["slug"]).exists():
                continue
            values = {key: value for key, value in spec.items() if key != "gifts"}
            fund = services.fund_create(network=network, actor=actor, values=values)
            funds += 1
            low, high = spec["gifts"]
            for index in range(rng.randint(low, high)):
                # Every third gift is in the other currency, converted at the recorded rate.
                foreign = index % 3 == 2
                currency = (
                    ("USD" if fund.currency == "EUR" else "EUR") if foreign else fund.currency
                )
                method = rng.choice(
                    (DonationMethod.CHEQUE, DonationMethod.BANK_TRANSFER, DonationMethod.CASH)
                )
                donor = rng.choice(DONORS)
                services.donation_record_offline(
                    fund=fund,
                    amount=_amount(rng, currency),
                    currency=currency,
                    method=method,
                    donor_name=donor,
                    donor_email="",
                    memo=rng.choice(MEMOS) or f"Gift for {fund.slug}",
                    received_on=today - dt.timedelta(days=rng.randint(0, 110)),
                    reference=f"DEMO-{fund.slug.upper()}-{index + 1:03d}"
                    if method == DonationMethod.BANK_TRANSFER
                    else "",
                    is_anonymous=rng.random() < 0.2,
                    actor=actor,
                )
                gifts += 1
    return DemoFundsSummary(funds=funds, gifts=gifts, rates=rates)


def delete_demo_funds(networks: Any) -> int:
    """Delete every fund of ``networks`` (a queryset or list of networks) with its money
    and the networks' rates. Only for the demo: real ledgers are never deleted."""
    funds = Fund.objects.filter(network__in=networks)
    LedgerEntry.objects.filter(fund__in=funds).purge()
    Receipt.objects.filter(donation__fund__in=funds).delete()
    Disbursement.objects.filter(commitment__fund__in=funds).delete()
    Commitment.objects.filter(fund__in=funds).delete()
    Donation.objects.filter(fund__in=funds).delete()
    Pledge.objects.filter(fund__in=funds).delete()
    ExchangeRate.objects.filter(Q(network__in=networks) | Q(source=DEMO_RATE_SOURCE)).delete()
    return funds.delete()[0]
