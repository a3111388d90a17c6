"""Funding objects of the security walk's world, made on demand (tests/security).

A fund of the global network holding a recorded cheque, a commitment with one planned
disbursement, a rate, a pledge, a provider event and a receipt: the global network's
staff handle them; nobody else sees its books.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

POLICY_FUND = "policy-walk-fund"


def policy_fund(world: Any) -> Any:
    from medexchange.funding import services
    from medexchange.funding.models import Fund

    fund, created = Fund.objects.get_or_create(
        network=world.network,
        slug=POLICY_FUND,
        defaults={"name": "Policy walk fund", "currency": "EUR"},
    )
    if created:
        staff = world.user("network_staff")
        services.donation_record_offline(
            fund=fund,
            amount=Decimal("500.00"),
            currency="EUR",
            method="cheque",
            donor_name="Policy Donor",
            donor_email="donor@example.org",
            memo="Policy walk",
            received_on=dt.date(2026, 1, 5),
            actor=staff,
            reference="POLICY-1",
        )
        commitment = services.commitment_reserve(
            fund=fund, amount=Decimal("100.00"), purpose="Policy walk award", actor=staff
        )
        services.disbursement_plan(commitment=commitment, amount=Decimal("40.00"), actor=staff)
    return fund


def policy_donation(world: Any) -> Any:
    return policy_fund(world).donations.get()


def policy_commitment(world: Any) -> Any:
    return policy_fund(world).commitments.get()


def policy_disbursement(world: Any) -> Any:
    return policy_commitment(world).disbursements.get()


def policy_entry(world: Any) -> Any:
    return policy_fund(world).ledger.order_by("pk").first()


def policy_rate(world: Any) -> Any:
    from medexchange.funding.models import ExchangeRate

    return ExchangeRate.objects.get_or_create(
        network=world.network,
        from_currency="USD",
        to_currency="EUR",
        on=dt.date(2026, 1, 1),
        defaults={"rate": Decimal("0.9"), "source": "policy walk"},
    )[0]


def policy_pledge(world: Any) -> Any:
    from medexchange.funding.models import Pledge

    return Pledge.objects.get_or_create(
        fund=policy_fund(world),
        provider="stripe",
        provider_reference="sub_policy",
        defaults={"amount": Decimal("10.00"), "currency": "EUR"},
    )[0]


def policy_event(world: Any) -> Any:
    from medexchange.funding.models import ProviderEvent

    return ProviderEvent.objects.get_or_create(
        provider="stripe", event_id="evt_policy", defaults={"type": "checkout.session.completed"}
    )[0]


def policy_receipt(world: Any) -> Any:
    from medexchange.funding.models import Receipt

    return Receipt.objects.get_or_create(
        donation=policy_donation(world),
        defaults={"fiscal_year": 2026, "number": 1, "donor_email": "donor@example.org"},
    )[0]
