"""For any sequence of money movements, valid or not, the ledger balances to the cent.

Hypothesis draws sequences of gifts (in the fund's currency and in another one),
refunds, commitments, releases, planned payments, payments, returns, cancellations and
adjustments, many of them invalid (zero, negative, too many decimals, more than is
left). The test keeps its own books, in plain Decimals, and decides for each movement
whether the rules allow it; the services must agree: do what is allowed, refuse what
is not (``ValidationError``) and then write nothing at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medexchange.common.models import AuditEntry
from medexchange.funding import services
from medexchange.funding.models import Commitment, Disbursement, Donation, LedgerEntry
from medexchange.funding.selectors import balances, commitment_outstanding, fund_totals
from tests.funding.conftest import make_fund

pytestmark = pytest.mark.django_db
CENT = Decimal("0.01")
ZERO = Decimal(0)
RATES = (Decimal("0.9"), Decimal("1.08345"), Decimal("0.33333333"), Decimal("150"))

# An amount: mostly whole cents (some zero or negative), some with a third decimal.
amounts = st.one_of(
    st.integers(min_value=-2000, max_value=60000).map(lambda cents: Decimal(cents) * CENT),
    st.integers(min_value=1, max_value=60000).map(lambda mills: Decimal(mills) / 1000),
)
index = st.integers(min_value=0, max_value=7)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("donate"), amounts),
        st.tuples(st.just("donate_usd"), amounts, st.sampled_from(RATES)),
        st.tuples(st.just("refund"), index, amounts),
        st.tuples(st.just("refund_rest"), index),
        st.tuples(st.just("reserve"), amounts),
        st.tuples(st.just("release"), index, amounts),
        st.tuples(st.just("release_all"), index),
        st.tuples(st.just("plan"), index, amounts),
        st.tuples(st.just("pay"), index),
        st.tuples(st.just("return"), index),
        st.tuples(st.just("cancel"), index),
        st.tuples(st.just("adjust"), amounts),
    ),
    min_size=1,
    max_size=25,
)


@dataclass
class Gift:
    pk: int
    amount: Decimal  # in the currency given
    rate: Decimal | None
    fund_amount: Decimal
    refunded: Decimal = ZERO  # in the currency given
    refunded_fund: Decimal = ZERO


@dataclass
class Promise:
    pk: int
    outstanding: Decimal


@dataclass
class Payment:
    pk: int
    promise: Promise
    amount: Decimal
    status: str = "planned"


@dataclass
class Books:
    """The test's own books: every sum kept by hand, independently of the ledger."""

    donations: Decimal = ZERO
    refunds: Decimal = ZERO
    paid: Decimal = ZERO
    returned: Decimal = ZERO
    adjustments: Decimal = ZERO
    reserved: Decimal = ZERO
    released: Decimal = ZERO
    gifts: list[Gift] = field(default_factory=list)
    promises: list[Promise] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)

    @property
    def held(self) -> Decimal:
        return self.donations - self.refunds - self.paid + self.returned + self.adjustments

    @property
    def committed(self) -> Decimal:
        return self.reserved - self.released - self.paid

    @property
    def available(self) -> Decimal:
        return self.held - self.committed

    def planned(self, promise: Promise) -> Decimal:
        return sum(
            (p.amount for p in self.payments if p.promise is promise and p.status == "planned"),
            ZERO,
        )


def is_money(amount: Decimal) -> bool:
    return amount > 0 and amount == amount.quantize(CENT)


def pick(items: list[Any], position: int) -> Any:
    return items[position % len(items)] if items else None


def footprint() -> tuple[int, ...]:
    return (
        LedgerEntry.objects.count(),
        Donation.objects.count(),
        Commitment.objects.count(),
        Disbursement.objects.count(),
        Disbursement.objects.exclude(status="planned").count(),
        AuditEntry.objects.count(),
    )


def attempt(allowed: bool, work: Any) -> Any:
    """Run ``work``: it must succeed when ``allowed``; otherwise be refused, writing nothing."""
    if allowed:
        return work()
    before = footprint()
    with pytest.raises(ValidationError):
        work()
    assert footprint() == before, "a refused movement wrote something"
    return None


def step(books: Books, fund: Any, actor: Any, operation: tuple[Any, ...]) -> None:
    kind = operation[0]
    if kind in {"donate", "donate_usd"}:
        amount = operation[1]
        currency, rate = ("EUR", None) if kind == "donate" else ("USD", operation[2])
        fund_amount = (
            amount if rate is None else (amount * rate).quantize(CENT, rounding=ROUND_HALF_EVEN)
        )
        allowed = is_money(amount) and fund_amount > 0
        donation = attempt(
            allowed,
            lambda: services.donation_record_offline(
                fund=fund,
                amount=amount,
                currency=currency,
                method="bank_transfer",
                donor_name="Donor",
                donor_email="",
                memo="",
                received_on=dt.date(2026, 1, 5),
                rate=rate,
                actor=actor,
            ),
        )
        if donation is not None:
            assert donation.fund_amount == fund_amount
            books.gifts.append(Gift(donation.pk, amount, rate, fund_amount))
            books.donations += fund_amount
    elif kind in {"refund", "refund_rest"}:
        gift = pick(books.gifts, operation[1])
        if gift is None:
            return
        left = gift.amount - gift.refunded
        amount = left if kind == "refund_rest" else operation[2]
        fund_left = gift.fund_amount - gift.refunded_fund
        if not is_money(amount) or amount > left:
            allowed, share = False, ZERO
        else:
            if amount == left:
                share = fund_left
            elif gift.rate is None:
                share = min(amount, fund_left)
            else:
                converted = (amount * gift.rate).quantize(CENT, rounding=ROUND_HALF_EVEN)
                share = min(converted, fund_left)
            allowed = share > 0 and books.held - share >= books.committed
        attempt(
            allowed,
            lambda: services.donation_refund(
                donation=Donation.objects.get(pk=gift.pk), amount=amount, actor=actor, reason="r"
            ),
        )
        if allowed:
            gift.refunded += amount
            gift.refunded_fund += share
            books.refunds += share
    elif kind == "reserve":
        amount = operation[1]
        allowed = is_money(amount) and amount <= books.available
        commitment = attempt(
            allowed,
            lambda: services.commitment_reserve(
                fund=fund, amount=amount, purpose="award", actor=actor
            ),
        )
        if commitment is not None:
            books.promises.append(Promise(commitment.pk, amount))
            books.reserved += amount
    elif kind in {"release", "release_all"}:
        promise = pick(books.promises, operation[1])
        if promise is None:
            return
        releasable = promise.outstanding - books.planned(promise)
        commitment = Commitment.objects.get(pk=promise.pk)
        if kind == "release_all":
            released = services.commitment_release(commitment=commitment, actor=None, reason="")
            assert released == max(releasable, ZERO)
        else:
            released = operation[2]
            allowed = is_money(released) and released <= releasable
            attempt(
                allowed,
                lambda: services.commitment_release(
                    commitment=commitment, amount=released, actor=actor, reason=""
                ),
            )
            if not allowed:
                return
        promise.outstanding -= released
        books.released += released
    elif kind == "plan":
        promise = pick(books.promises, operation[1])
        if promise is None:
            return
        amount = operation[2]
        allowed = is_money(amount) and amount <= promise.outstanding - books.planned(promise)
        planned = attempt(
            allowed,
            lambda: services.disbursement_plan(
                commitment=Commitment.objects.get(pk=promise.pk), amount=amount, actor=actor
            ),
        )
        if planned is not None:
            books.payments.append(Payment(planned.pk, promise, amount))
    elif kind in {"pay", "return", "cancel"}:
        payment = pick(books.payments, operation[1])
        if payment is None:
            return
        wanted = {"pay": "planned", "return": "paid", "cancel": "planned"}[kind]
        allowed = payment.status == wanted
        service = {
            "pay": services.disbursement_pay,
            "return": services.disbursement_return,
            "cancel": services.disbursement_cancel,
        }[kind]
        attempt(
            allowed,
            lambda: service(disbursement=Disbursement.objects.get(pk=payment.pk), actor=actor),
        )
        if not allowed:
            return
        if kind == "pay":
            payment.status = "paid"
            payment.promise.outstanding -= payment.amount
            books.paid += payment.amount
        elif kind == "return":
            payment.status = "returned"
            books.returned += payment.amount
        else:
            payment.status = "cancelled"
    elif kind == "adjust":
        amount = operation[1]
        allowed = (
            amount != 0
            and amount == amount.quantize(CENT)
            and books.held + amount >= books.committed
        )
        attempt(
            allowed,
            lambda: services.fund_adjust(fund=fund, amount=amount, actor=actor, reason="fix"),
        )
        if allowed:
            books.adjustments += amount


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=operations)
def test_the_ledger_balances_for_any_sequence(
    network: Any, finance: Any, operations: list[tuple[Any, ...]]
) -> None:
    fund = make_fund(network)
    books = Books()
    for operation in operations:
        step(books, fund, finance, operation)
        held, committed = balances(fund.pk)
        assert committed >= 0
        assert held >= committed, "the fund has committed more than it holds"
    totals = fund_totals(fund)
    # held = donations - refunds - paid + returned (+ adjustments), to the cent.
    assert totals.held == books.held
    assert totals.committed == books.committed
    assert totals.available == books.held - books.committed
    assert totals.raised == books.donations
    assert totals.refunded == books.refunds
    assert totals.disbursed == books.paid - books.returned
    for promise in books.promises:
        outstanding = commitment_outstanding(Commitment.objects.get(pk=promise.pk))
        assert outstanding == promise.outstanding
        assert outstanding >= 0
    for gift in books.gifts:
        donation = Donation.objects.get(pk=gift.pk)
        assert donation.refunded_amount == gift.refunded
        assert donation.refunded_fund_amount == gift.refunded_fund
