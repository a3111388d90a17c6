"""An online refund asked while Stripe's refund event of the same gift is being recorded:
the two take their row locks in one order (fund, then gift), so neither waits for the
other forever (PostgreSQL)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from django.db import connection, connections

from medexchange.funding import donations, services
from medexchange.funding.models import Donation
from tests.funding.fake_stripe import FakeStripe
from tests.funding.online import (
    charge_refunded,
    stripe_api_fixture,  # noqa: F401 - the stripe_api fixture
)
from tests.funding.test_gift_refunds import received_online

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (set DATABASE_URL)"
)
def test_an_online_refund_and_a_refund_event_of_the_gift_never_deadlock(
    client: Any, fund: Any, finance: Any, stripe_api: FakeStripe, monkeypatch: Any
) -> None:
    gift = received_online(client, fund, stripe_api, "pi_both")
    charge = json.loads(charge_refunded(gift, "pi_both", refunded_minor=1000))["data"]["object"]
    fund_locked = threading.Event()
    lock_funds = services.lock_funds

    def lock_then_pause(ids: Any) -> Any:
        locked = lock_funds(ids)
        fund_locked.set()
        time.sleep(1.0)  # the event holds the fund and is about to lock the gift
        return locked

    monkeypatch.setattr(services, "lock_funds", lock_then_pause)
    outcomes: dict[str, object] = {}

    def record_event() -> None:
        try:
            outcomes["event"] = donations.on_charge_refunded(charge)
        except Exception as error:  # reported by the assertion below
            outcomes["event"] = error
        finally:
            connections.close_all()

    def ask_refund() -> None:
        fund_locked.wait(5)
        try:
            outcomes["ask"] = donations.donation_refund_online(
                donation=Donation.objects.get(pk=gift.pk),
                amount="20.00",
                actor=finance,
                reason="Asked by the donor",
            )
        except Exception as error:  # reported by the assertion below
            outcomes["ask"] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=record_event), threading.Thread(target=ask_refund)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert not any(isinstance(value, Exception) for value in outcomes.values()), outcomes
    assert str(outcomes["event"]).endswith("10.00 EUR refunded")
    assert str(outcomes["ask"]).startswith("re_test_")
