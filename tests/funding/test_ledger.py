"""Every movement of a fund's money: what it writes to the ledger, what it refuses, the audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from medexchange.common.models import AuditEntry
from medexchange.funding import services
from medexchange.funding.choices import DisbursementStatus, DonationStatus, LedgerKind
from medexchange.funding.models import (
    AppendOnlyError,
    Commitment,
    Disbursement,
    Donation,
    ExchangeRate,
    LedgerEntry,
)
from medexchange.funding.selectors import commitment_outstanding, fund_totals
from tests import factories
from tests.funding.conftest import give, make_fund

pytestmark = pytest.mark.django_db
D = Decimal


def totals(fund: Any) -> tuple[Decimal, Decimal, Decimal]:
    figures = fund_totals(fund)
    return figures.held, figures.committed, figures.available


def actions(target: Any) -> list[str]:
    return list(
        AuditEntry.objects.filter(
            target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk)
        )
        .order_by("pk")
        .values_list("action", flat=True)
    )


def entries(fund: Any) -> list[tuple[str, Decimal, Decimal]]:
    return [
        (entry.kind, entry.held_delta, entry.committed_delta)
        for entry in LedgerEntry.objects.filter(fund=fund).order_by("pk")
    ]


# --------------------------------------------------------------------------- gifts


def test_an_offline_gift_is_in_the_fund_at_once(fund: Any, finance: Any) -> None:
    donation = give(fund, finance, "250.00", reference="BANK-1")
    assert donation.status == DonationStatus.SUCCEEDED
    assert donation.fund_amount == D("250.00") and donation.rate is None
    assert donation.provider == services.bank_provider(fund.network)
    assert entries(fund) == [(LedgerKind.DONATION, D("250.00"), D("0"))]
    assert totals(fund) == (D("250.00"), D("0"), D("250.00"))
    assert actions(donation) == ["donation.recorded"]
    assert AuditEntry.objects.get(action="donation.recorded").actor == finance


def test_a_gift_in_another_currency_uses_the_rate_given(fund: Any, finance: Any) -> None:
    donation = give(fund, finance, "100.00", currency="USD", rate="0.92345")
    # 92.345 rounds half to even: 92.34
    assert donation.fund_amount == D("92.34")
    assert donation.rate == D("0.92345")
    assert donation.amount == D("100.00") and donation.currency == "USD"
    assert fund_totals(fund).held == D("92.34")


def test_a_gift_in_another_currency_uses_the_recorded_rate_of_its_day(
    fund: Any, finance: Any
) -> None:
    for day, rate in ((dt.date(2026, 1, 1), "0.90"), (dt.date(2026, 1, 10), "0.95")):
        services.exchange_rate_record(
            network=fund.network,
            from_currency="USD",
            to_currency="EUR",
            rate=rate,
            on=day,
            actor=finance,
        )
    services.exchange_rate_record(
        network=fund.network,
        from_currency="USD",
        to_currency="EUR",
        rate="0.99",
        on=dt.date(2026, 1, 20),
        actor=finance,
    )
    donation = give(fund, finance, "1000", currency="USD", received_on=dt.date(2026, 1, 15))
    assert donation.rate == D("0.95")
    assert donation.fund_amount == D("950.00")


def test_a_gift_in_another_currency_without_a_rate_is_refused(fund: Any, finance: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        give(fund, finance, "100", currency="USD")
    assert "No exchange rate from USD to EUR" in caught.value.message_dict["rate"][0]
    assert not Donation.objects.exists() and not LedgerEntry.objects.exists()


def test_another_networks_rates_are_not_used(fund: Any, finance: Any, africa_network: Any) -> None:
    services.exchange_rate_record(
        network=africa_network,
        from_currency="USD",
        to_currency="EUR",
        rate="0.9",
        on=dt.date(2026, 1, 1),
        actor=factories.staff_of(africa_network),
    )
    with pytest.raises(ValidationError):
        give(fund, finance, "100", currency="USD")


def test_platform_rates_apply_to_every_network(fund: Any, finance: Any) -> None:
    root = factories.UserFactory(is_superuser=True, is_staff=True)
    services.exchange_rate_record(
        network=None,
        from_currency="USD",
        to_currency="EUR",
        rate="0.9",
        on=dt.date(2026, 1, 1),
        actor=root,
    )
    assert give(fund, finance, "10", currency="USD").fund_amount == D("9.00")


@pytest.mark.parametrize(
    ("amount", "currency", "field", "message"),
    [
        ("0", "EUR", "amount", "more than zero"),
        ("-5.00", "EUR", "amount", "more than zero"),
        ("10.005", "EUR", "amount", "at most 2 decimals"),
        ("100.5", "JPY", "amount", "no decimals"),
        ("10", "EUX", "currency", "not a currency code"),
        ("10", "eur", "currency", "three-letter"),
        ("10", "XAU", "currency", "not a currency code"),
        ("ten", "EUR", "amount", "not an amount"),
    ],
)
def test_bad_gifts_are_refused_and_record_nothing(
    fund: Any, finance: Any, amount: str, currency: str, field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.donation_record_offline(
            fund=fund,
            amount=amount,
            currency=currency,
            method="cheque",
            donor_name="A",
            donor_email="",
            memo="",
            received_on=dt.date(2026, 1, 1),
            rate="1.1",
            actor=finance,
        )
    assert message in " ".join(caught.value.message_dict[field])
    assert not Donation.objects.exists() and not LedgerEntry.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="donation.").exists()


def test_a_gift_received_in_the_future_or_by_an_unknown_method_is_refused(
    fund: Any, finance: Any
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.donation_record_offline(
            fund=fund,
            amount="10",
            currency="EUR",
            method="online",
            donor_name="A",
            donor_email="not-an-address",
            memo="",
            received_on=timezone.localdate() + dt.timedelta(days=2),
            actor=finance,
        )
    errors = caught.value.message_dict
    assert set(errors) >= {"method", "received_on", "donor_email"}
    assert not Donation.objects.exists()


def test_the_same_bank_reference_is_recorded_once(fund: Any, finance: Any) -> None:
    give(fund, finance, "10", reference="TRX-9")
    with pytest.raises(ValidationError) as caught:
        give(fund, finance, "10", reference="TRX-9")
    assert "already recorded" in caught.value.message_dict["reference"][0]
    assert fund_totals(fund).held == D("10.00")


def test_only_finance_staff_record_gifts(fund: Any, member: Any, africa_network: Any) -> None:
    for stranger in (
        factories.UserFactory(),
        factories.coordinator_of(member),
        factories.staff_of(africa_network),
    ):
        with pytest.raises(PermissionDenied):
            give(fund, stranger)
    assert not Donation.objects.exists()


def test_a_closed_fund_takes_no_gift(fund: Any, finance: Any) -> None:
    fund.is_active = False
    fund.save()
    with pytest.raises(ValidationError):
        give(fund, finance)


# --------------------------------------------------------------------------- online gifts


def test_a_pending_gift_enters_the_ledger_when_it_succeeds(fund: Any) -> None:
    donation = services.donation_start(
        fund=fund, amount="40.00", currency="EUR", provider="stripe", provider_reference="pi_1"
    )
    assert donation.status == DonationStatus.PENDING
    assert not LedgerEntry.objects.exists()
    services.donation_succeed(donation=donation)
    services.donation_succeed(donation=donation)  # a second call changes nothing
    assert donation.status == DonationStatus.SUCCEEDED
    assert entries(fund) == [(LedgerKind.DONATION, D("40.00"), D("0"))]
    assert actions(donation) == ["donation.started", "donation.succeeded"]


def test_a_failed_payment_never_reaches_the_ledger(fund: Any) -> None:
    donation = services.donation_start(fund=fund, amount="40.00", currency="EUR")
    services.donation_fail(donation=donation, reason="card declined")
    assert donation.status == DonationStatus.FAILED
    assert not LedgerEntry.objects.exists()
    assert actions(donation) == ["donation.started", "donation.failed"]


def test_a_received_gift_cannot_fail(fund: Any, finance: Any) -> None:
    donation = give(fund, finance)
    with pytest.raises(ValidationError):
        services.donation_fail(donation=donation)


# --------------------------------------------------------------------------- refunds


def test_partial_then_full_refund(fund: Any, finance: Any) -> None:
    donation = give(fund, finance, "100.00")
    services.donation_refund(donation=donation, amount=D("30.00"), actor=finance, reason="asked")
    assert donation.status == DonationStatus.PARTIALLY_REFUNDED
    assert Donation.objects.get().refunded_amount == D("30.00")
    with pytest.raises(ValidationError) as caught:
        services.donation_refund(donation=donation, amount=D("70.01"), actor=finance, reason="")
    assert "At most 70.00" in caught.value.message_dict["amount"][0]
    services.donation_refund(donation=donation, amount=D("70.00"), actor=None, reason="webhook")
    assert donation.status == DonationStatus.REFUNDED
    figures = fund_totals(fund)
    assert (figures.held, figures.raised, figures.refunded) == (D("0.00"), D("100.00"), D("100.00"))
    assert actions(donation) == ["donation.recorded", "donation.refunded", "donation.refunded"]
    annotated = Donation.objects.with_refunded().get()
    assert annotated.refunded_amount == D("100.00")
    assert annotated.refunded_fund_amount == D("100.00")
    with pytest.raises(ValidationError):
        services.donation_refund(donation=donation, amount=D("1"), actor=finance, reason="")


def test_refunds_of_a_converted_gift_give_back_exactly_its_share(fund: Any, finance: Any) -> None:
    donation = give(fund, finance, "100.00", currency="USD", rate="0.33333333")
    assert donation.fund_amount == D("33.33")
    for _step in range(2):
        services.donation_refund(
            donation=donation, amount=D("33.33"), actor=finance, reason="thirds"
        )
    services.donation_refund(donation=donation, amount=D("33.34"), actor=finance, reason="last")
    assert fund_totals(fund).held == D("0.00")
    assert donation.status == DonationStatus.REFUNDED


def test_a_refund_never_takes_committed_money(fund: Any, finance: Any) -> None:
    donation = give(fund, finance, "100.00")
    services.commitment_reserve(fund=fund, amount=D("80"), purpose="Award 1", actor=finance)
    with pytest.raises(ValidationError) as caught:
        services.donation_refund(donation=donation, amount=D("30"), actor=finance, reason="")
    assert "release commitments" in caught.value.message_dict["amount"][0]
    assert fund_totals(fund).held == D("100.00")
    assert Donation.objects.get().status == DonationStatus.SUCCEEDED


def test_a_stranger_cannot_refund(fund: Any, finance: Any) -> None:
    donation = give(fund, finance)
    with pytest.raises(PermissionDenied):
        services.donation_refund(
            donation=donation, amount=D("1"), actor=factories.UserFactory(), reason=""
        )


# --------------------------------------------------------------------------- commitments


def test_a_commitment_reserves_available_money(fund: Any, finance: Any) -> None:
    give(fund, finance, "500.00")
    commitment = services.commitment_reserve(
        fund=fund, amount=D("300.00"), purpose="Award 1", actor=finance
    )
    assert totals(fund) == (D("500.00"), D("300.00"), D("200.00"))
    assert commitment_outstanding(commitment) == D("300.00")
    assert commitment.outstanding == D("300.00")
    assert actions(commitment) == ["commitment.reserved"]
    with pytest.raises(services.InsufficientFunds) as caught:
        services.commitment_reserve(fund=fund, amount=D("200.01"), purpose="Award 2", actor=finance)
    message = caught.value.messages[0]
    assert "EM Residents Fund" in message and "200.00" in message
    assert caught.value.available == D("200.00")
    assert isinstance(caught.value, ValidationError)
    assert Commitment.objects.count() == 1


def test_commitments_need_finance_staff_and_a_purpose(fund: Any, finance: Any) -> None:
    give(fund, finance, "500.00")
    with pytest.raises(PermissionDenied):
        services.commitment_reserve(
            fund=fund, amount=D("1"), purpose="x", actor=factories.UserFactory()
        )
    with pytest.raises(ValidationError):
        services.commitment_reserve(fund=fund, amount=D("1"), purpose=" ", actor=finance)
    with pytest.raises(ValidationError):
        services.commitment_reserve(fund=fund, amount=D("0"), purpose="x", actor=finance)
    assert not Commitment.objects.exists()


def test_release_part_then_all(fund: Any, finance: Any) -> None:
    give(fund, finance, "500.00")
    commitment = services.commitment_reserve(
        fund=fund, amount=D("300.00"), purpose="Award 1", actor=finance
    )
    assert services.commitment_release(
        commitment=commitment, amount=D("100"), actor=finance, reason="smaller"
    ) == D("100.00")
    with pytest.raises(ValidationError) as caught:
        services.commitment_release(
            commitment=commitment, amount=D("200.01"), actor=finance, reason=""
        )
    assert "Only 200.00" in caught.value.message_dict["amount"][0]
    # Anyone may release (the applicant's withdrawal does), the rest at once.
    applicant = factories.UserFactory()
    assert services.commitment_release(
        commitment=commitment, actor=applicant, reason="withdrawn"
    ) == D("200.00")
    assert services.commitment_release(commitment=commitment, actor=None, reason="") == D("0")
    assert totals(fund) == (D("500.00"), D("0.00"), D("500.00"))
    assert actions(commitment) == [
        "commitment.reserved",
        "commitment.released",
        "commitment.released",
    ]


def test_release_leaves_what_planned_disbursements_need(fund: Any, finance: Any) -> None:
    give(fund, finance, "500.00")
    commitment = services.commitment_reserve(
        fund=fund, amount=D("300.00"), purpose="Award", actor=finance
    )
    services.disbursement_plan(commitment=commitment, amount=D("120"), actor=finance)
    with pytest.raises(ValidationError) as caught:
        services.commitment_release(
            commitment=commitment, amount=D("200"), actor=finance, reason=""
        )
    assert "cancel those disbursements first" in caught.value.message_dict["amount"][0]
    assert services.commitment_release(commitment=commitment, actor=finance, reason="") == D(
        "180.00"
    )
    assert commitment_outstanding(commitment) == D("120.00")


# --------------------------------------------------------------------------- disbursements


def test_plan_pay_return(fund: Any, finance: Any) -> None:
    give(fund, finance, "1000.00")
    commitment = services.commitment_reserve(
        fund=fund, amount=D("600.00"), purpose="Award", actor=finance
    )
    flight = services.disbursement_plan(
        commitment=commitment, amount=D("400"), actor=finance, reference="PLAN-1"
    )
    assert flight.status == DisbursementStatus.PLANNED
    assert totals(fund) == (D("1000.00"), D("600.00"), D("400.00"))  # planning moves nothing
    with pytest.raises(ValidationError) as caught:
        services.disbursement_plan(commitment=commitment, amount=D("200.01"), actor=finance)
    assert "At most 200.00" in caught.value.message_dict["amount"][0]
    services.disbursement_pay(disbursement=flight, actor=finance, paid_on=dt.date(2026, 2, 1))
    assert flight.status == DisbursementStatus.PAID and flight.reference == "PLAN-1"
    assert totals(fund) == (D("600.00"), D("200.00"), D("400.00"))
    assert commitment_outstanding(commitment) == D("200.00")
    with pytest.raises(ValidationError):
        services.disbursement_pay(disbursement=flight, actor=finance)
    services.disbursement_return(disbursement=flight, actor=finance, reason="flight cancelled")
    assert flight.status == DisbursementStatus.RETURNED
    # The money is back and free: not committed again.
    assert totals(fund) == (D("1000.00"), D("200.00"), D("800.00"))
    figures = fund_totals(fund)
    assert (figures.paid, figures.returned, figures.disbursed) == (
        D("400.00"),
        D("400.00"),
        D("0.00"),
    )
    assert actions(flight) == ["disbursement.planned", "disbursement.paid", "disbursement.returned"]
    with pytest.raises(ValidationError):
        services.disbursement_return(disbursement=flight, actor=finance)


def test_cancel_a_planned_disbursement(fund: Any, finance: Any) -> None:
    give(fund, finance, "1000.00")
    commitment = services.commitment_reserve(
        fund=fund, amount=D("600.00"), purpose="Award", actor=finance
    )
    housing = services.disbursement_plan(commitment=commitment, amount=D("600"), actor=finance)
    services.disbursement_cancel(disbursement=housing, actor=finance, reason="not needed")
    assert housing.status == DisbursementStatus.CANCELLED
    assert totals(fund) == (D("1000.00"), D("600.00"), D("400.00"))
    with pytest.raises(ValidationError):
        services.disbursement_pay(disbursement=housing, actor=finance)
    with pytest.raises(ValidationError):
        services.disbursement_cancel(disbursement=housing, actor=finance)
    assert actions(housing) == ["disbursement.planned", "disbursement.cancelled"]


def test_a_disbursement_above_outstanding_is_refused_at_payment(fund: Any, finance: Any) -> None:
    give(fund, finance, "1000.00")
    commitment = services.commitment_reserve(
        fund=fund, amount=D("300.00"), purpose="Award", actor=finance
    )
    # Written around the services (as a bug elsewhere could): the payment still checks.
    stray = Disbursement.objects.create(commitment=commitment, amount=D("301.00"))
    with pytest.raises(ValidationError) as caught:
        services.disbursement_pay(disbursement=stray, actor=finance)
    assert "Only 300.00\xa0EUR is outstanding" in caught.value.message_dict["amount"][0]
    assert Disbursement.objects.get(pk=stray.pk).status == DisbursementStatus.PLANNED
    assert totals(fund) == (D("1000.00"), D("300.00"), D("700.00"))


def test_disbursing_needs_finance_staff(fund: Any, finance: Any, africa_network: Any) -> None:
    give(fund, finance, "1000.00")
    commitment = services.commitment_reserve(
        fund=fund, amount=D("300.00"), purpose="Award", actor=finance
    )
    planned = services.disbursement_plan(commitment=commitment, amount=D("100"), actor=finance)
    other = factories.staff_of(africa_network)
    with pytest.raises(PermissionDenied):
        services.disbursement_plan(commitment=commitment, amount=D("100"), actor=other)
    with pytest.raises(PermissionDenied):
        services.disbursement_pay(disbursement=planned, actor=other)
    with pytest.raises(PermissionDenied):
        services.disbursement_cancel(disbursement=planned, actor=other)


# --------------------------------------------------------------------------- adjustments, rates


def test_adjustments_move_held_money_with_a_reason(fund: Any, finance: Any) -> None:
    give(fund, finance, "100.00")
    services.commitment_reserve(fund=fund, amount=D("90"), purpose="Award", actor=finance)
    services.fund_adjust(fund=fund, amount="-2.50", actor=finance, reason="bank fee")
    assert totals(fund) == (D("97.50"), D("90.00"), D("7.50"))
    with pytest.raises(ValidationError):
        services.fund_adjust(fund=fund, amount="-7.51", actor=finance, reason="too much")
    with pytest.raises(ValidationError):
        services.fund_adjust(fund=fund, amount="5", actor=finance, reason="")
    assert actions(fund) == ["fund.adjusted"]


def test_rates_are_checked(network: Any, finance: Any) -> None:
    cases: list[dict[str, Any]] = [
        {"rate": "0", "field": "rate"},
        {"rate": "-1", "field": "rate"},
        {"rate": "1.123456789", "field": "rate"},
        {"rate": "abc", "field": "rate"},
        {"to_currency": "USD", "field": "to_currency"},
        {"from_currency": "ZZZ", "field": "from_currency"},
        {"on": timezone.localdate() + dt.timedelta(days=3), "field": "on"},
    ]
    for case in cases:
        field = case.pop("field")
        values: dict[str, Any] = {
            "network": network,
            "from_currency": "USD",
            "to_currency": "EUR",
            "rate": "0.9",
            "on": dt.date(2026, 1, 1),
            "actor": finance,
            **case,
        }
        with pytest.raises(ValidationError) as caught:
            services.exchange_rate_record(**values)
        assert field in caught.value.message_dict, case
    assert not ExchangeRate.objects.exists()
    with pytest.raises(PermissionDenied):
        services.exchange_rate_record(
            network=None,
            from_currency="USD",
            to_currency="EUR",
            rate="1",
            on=dt.date(2026, 1, 1),
            actor=finance,
        )


# --------------------------------------------------------------------------- the ledger itself


def test_ledger_entries_are_never_changed_or_deleted(fund: Any, finance: Any) -> None:
    give(fund, finance)
    entry = LedgerEntry.objects.get()
    entry.held_delta = D("1000")
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.update(held_delta=D("0"))
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.all().delete()
    assert fund_totals(fund).held == D("100.00")


def test_deleting_a_person_keeps_the_money_on_record(fund: Any, finance: Any) -> None:
    give(fund, finance)
    finance.delete()
    assert LedgerEntry.objects.get().actor is None
    assert fund_totals(fund).held == D("100.00")


def test_the_database_refuses_entries_of_the_wrong_sign(fund: Any) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(fund=fund, kind=LedgerKind.ADJUSTMENT, committed_delta=D("5"))


def test_zero_decimal_funds(network: Any, finance: Any) -> None:
    yen = make_fund(network, currency="JPY", slug="yen", name="Yen fund")
    give(yen, finance, "15000")
    with pytest.raises(ValidationError):
        services.commitment_reserve(fund=yen, amount=D("0.5"), purpose="x", actor=finance)
    services.commitment_reserve(fund=yen, amount=D("14999"), purpose="x", actor=finance)
    assert fund_totals(yen).available == D("1")


def test_receipt_numbers_follow_each_other_per_fiscal_year(db: Any) -> None:
    assert [services.receipt_number_take(fiscal_year=2026) for _i in range(3)] == [1, 2, 3]
    assert services.receipt_number_take(fiscal_year=2027) == 1
