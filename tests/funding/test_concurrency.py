"""Money is law: twenty commitments at the same moment against a fund that covers six."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections

from medexchange.funding import services
from medexchange.funding.models import Commitment, Fund
from medexchange.funding.selectors import fund_totals
from tests import factories
from tests.funding.conftest import give

# Threads need committed rows; the serialized rollback puts back the country profiles.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ATTEMPTS = 20
AWARD = Decimal("150.00")
HELD = Decimal("1000.00")  # six awards fit (900.00), the seventh would not


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (set DATABASE_URL)"
)
def test_simultaneous_commitments_take_exactly_what_fits(network: Any) -> None:
    finance = factories.staff_of(network)
    fund = Fund.objects.create(network=network, slug="race", name="Race fund", currency="EUR")
    give(fund, finance, HELD)
    barrier = threading.Barrier(ATTEMPTS)
    refused: list[str] = []
    unexpected: list[str] = []
    lock = threading.Lock()

    def reserve(index: int) -> None:
        try:
            mine = Fund.objects.get(pk=fund.pk)
            barrier.wait(timeout=30)
            services.commitment_reserve(
                fund=mine, amount=AWARD, purpose=f"Award {index}", actor=finance
            )
        except services.InsufficientFunds as error:
            with lock:
                refused.append(error.messages[0])
        except Exception as error:  # pragma: no cover - would be a bug
            with lock:
                unexpected.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reserve, args=(index,)) for index in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    fits = int(HELD // AWARD)
    assert unexpected == []
    assert Commitment.objects.filter(fund=fund).count() == fits
    assert len(refused) == ATTEMPTS - fits
    assert all("Race fund has 100.00\xa0EUR available" in message for message in refused)
    totals = fund_totals(fund)
    assert totals.committed == AWARD * fits
    assert totals.available == HELD - AWARD * fits
    assert totals.held >= totals.committed
