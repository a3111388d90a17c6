"""Stripe's webhook, fed payloads signed exactly the way Stripe signs them (the HMAC is
computed here, the library's verification is not mocked): valid, tampered, wrong
secret, replayed, duplicate, out of order, failed; each checks the gift and the ledger."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

import pytest

from medexchange.funding import selectors, services
from medexchange.funding.choices import DonationStatus, PledgeStatus
from medexchange.funding.models import Donation, LedgerEntry, Pledge, ProviderEvent, Receipt
from tests.funding.fake_stripe import FakeStripe, event, next_id, signature_header
from tests.funding.online import (
    body_of,
    charge_refunded,
    completed,
    deliver,
    start_gift,
    stripe_api_fixture,  # noqa: F401 - the stripe_api fixture
)

pytestmark = pytest.mark.django_db
D = DonationStatus


def held(fund: Any) -> Decimal:
    return selectors.fund_totals(fund).held


def test_a_signed_completed_checkout_receives_the_gift(
    client: Any,
    fund: Any,
    stripe_api: FakeStripe,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    gift = start_gift(client, fund, preset="50")
    assert gift.status == D.PENDING
    assert held(fund) == 0
    body, _session = completed(stripe_api, gift)

    response = deliver(client, body, capture=django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert body_of(response)["status"] == "processed"
    gift.refresh_from_db()
    assert gift.status == D.SUCCEEDED
    totals = selectors.fund_totals(fund)
    assert (totals.held, totals.raised) == (Decimal("50.00"), Decimal("50.00"))
    receipt = Receipt.objects.get(donation=gift)
    assert receipt.number == 1
    assert [message.to for message in mailoutbox] == [["dana@example.org"]]
    assert mailoutbox[0].attachments[0][2] == "application/pdf"


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("body", "No signatures found matching the expected signature"),
        ("secret", "No signatures found matching the expected signature"),
        ("replay", "Timestamp outside the tolerance zone"),
        ("missing", "Missing Stripe-Signature header"),
        ("garbled", "Unable to extract timestamp and signatures from header"),
    ],
)
def test_unverifiable_deliveries_are_refused_and_change_nothing(
    client: Any, fund: Any, stripe_api: FakeStripe, tamper: str, reason: str
) -> None:
    gift = start_gift(client, fund)
    body, _session = completed(stripe_api, gift)
    header = signature_header(body)
    if tamper == "body":
        # Same signature, but the amount was raised on the way.
        body = body.replace('"amount_total": 5000', '"amount_total": 500000')
        assert "500000" in body
    elif tamper == "secret":
        header = signature_header(body, secret="whsec_somebody_else")
    elif tamper == "replay":
        header = signature_header(body, timestamp=int(time.time()) - 301)
    elif tamper == "missing":
        header = ""
    else:
        header = "v1=deadbeef"

    response = deliver(client, body, header=header)

    assert response.status_code == 400
    assert reason in response.content.decode()
    gift.refresh_from_db()
    assert gift.status == D.PENDING
    assert held(fund) == 0
    assert not ProviderEvent.objects.exists()
    assert not Receipt.objects.exists()


def test_without_a_webhook_secret_every_delivery_is_refused(
    client: Any, fund: Any, stripe_api: FakeStripe, settings: Any
) -> None:
    gift = start_gift(client, fund)
    body, _session = completed(stripe_api, gift)
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = deliver(client, body)
    assert response.status_code == 400
    assert "not configured" in response.content.decode()
    assert held(fund) == 0


def test_the_webhook_takes_only_posts(client: Any, stripe_api: FakeStripe) -> None:
    assert client.get("/funding/webhooks/stripe/").status_code == 405


def test_a_duplicate_delivery_records_one_gift(
    client: Any,
    fund: Any,
    stripe_api: FakeStripe,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    gift = start_gift(client, fund)
    body, _session = completed(stripe_api, gift)
    capture = django_capture_on_commit_callbacks

    first = deliver(client, body, capture=capture)
    second = deliver(client, body, capture=capture)  # the same event id, delivered again

    assert (first.status_code, second.status_code) == (200, 200)
    assert body_of(second)["status"] == "duplicate"
    assert ProviderEvent.objects.count() == 1
    assert LedgerEntry.objects.filter(donation=gift).count() == 1
    assert held(fund) == Decimal("50.00")
    assert Receipt.objects.count() == 1
    assert len(mailoutbox) == 1


def test_the_same_payment_under_two_event_ids_is_still_one_gift(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    gift = start_gift(client, fund)
    body, session = completed(stripe_api, gift, payment_intent="pi_twice")
    again = event("checkout.session.completed", session)
    assert deliver(client, body).status_code == 200
    assert deliver(client, again).status_code == 200
    assert ProviderEvent.objects.count() == 2
    assert held(fund) == Decimal("50.00")
    assert Receipt.objects.count() == 1


def test_a_refund_arriving_before_the_payment_is_applied_once_the_gift_is_received(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    gift = start_gift(client, fund, preset="100")
    refund = charge_refunded(gift, "pi_early", refunded_minor=10000)

    early = deliver(client, refund)

    assert early.status_code == 200
    assert body_of(early)["status"] == "waiting"
    gift.refresh_from_db()
    assert gift.status == D.PENDING
    assert held(fund) == 0

    body, _session = completed(stripe_api, gift, payment_intent="pi_early")
    assert deliver(client, body).status_code == 200

    gift.refresh_from_db()
    assert gift.status == D.REFUNDED
    totals = selectors.fund_totals(fund)
    assert (totals.raised, totals.refunded, totals.held) == (
        Decimal("100.00"),
        Decimal("100.00"),
        Decimal("0.00"),
    )
    waiting = ProviderEvent.objects.get(type="charge.refunded")
    assert waiting.processed_at is not None
    assert "refunded" in waiting.outcome
    # Delivered again later, the refund changes nothing more.
    assert body_of(deliver(client, refund))["status"] == "duplicate"
    assert selectors.fund_totals(fund).refunded == Decimal("100.00")


def test_partial_refunds_follow_the_charge_even_out_of_order(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    gift = start_gift(client, fund, preset="100")
    body, _session = completed(stripe_api, gift, payment_intent="pi_parts")
    deliver(client, body)
    first_refund = charge_refunded(gift, "pi_parts", refunded_minor=2500)
    second_refund = charge_refunded(gift, "pi_parts", refunded_minor=4000)

    # Stripe sent 25.00 then 15.00 more; they arrive the other way round.
    assert body_of(deliver(client, second_refund))["status"] == "processed"
    gift.refresh_from_db()
    assert gift.status == D.PARTIALLY_REFUNDED
    assert gift.refunded_amount == Decimal("40.00")
    assert "nothing new" in body_of(deliver(client, first_refund))["outcome"]

    totals = selectors.fund_totals(fund)
    assert (totals.raised, totals.refunded, totals.held) == (
        Decimal("100.00"),
        Decimal("40.00"),
        Decimal("60.00"),
    )


@pytest.mark.parametrize("failure", ["payment_intent.payment_failed", "async_payment_failed"])
def test_a_failed_payment_fails_the_gift_and_moves_no_money(
    client: Any,
    fund: Any,
    stripe_api: FakeStripe,
    failure: str,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    gift = start_gift(client, fund)
    if failure == "payment_intent.payment_failed":
        body = event(
            "payment_intent.payment_failed",
            {
                "id": next_id("pi"),
                "object": "payment_intent",
                "amount": 5000,
                "currency": "eur",
                "status": "requires_payment_method",
                "metadata": {"donation": str(gift.pk), "fund": str(fund.pk)},
                "last_payment_error": {"message": "Your card was declined."},
            },
        )
    else:
        _completed, session = completed(stripe_api, gift, paid=False)
        body = event("checkout.session.async_payment_failed", session)

    response = deliver(client, body, capture=django_capture_on_commit_callbacks)

    assert response.status_code == 200
    gift.refresh_from_db()
    assert gift.status == D.FAILED
    assert held(fund) == 0
    assert not Receipt.objects.exists()
    assert mailoutbox == []


def test_a_retry_after_a_declined_card_still_receives_the_gift(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    gift = start_gift(client, fund)
    declined = event(
        "payment_intent.payment_failed",
        {"id": "pi_retry", "object": "payment_intent", "metadata": {"donation": str(gift.pk)}},
    )
    deliver(client, declined)
    body, _session = completed(stripe_api, gift, payment_intent="pi_retry")
    deliver(client, body)
    gift.refresh_from_db()
    assert gift.status == D.SUCCEEDED
    assert held(fund) == Decimal("50.00")


def test_a_late_failure_leaves_a_received_gift_received(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    gift = start_gift(client, fund)
    body, session = completed(stripe_api, gift)
    deliver(client, body)
    late = deliver(client, event("checkout.session.expired", session))
    assert "already received" in body_of(late)["outcome"]
    gift.refresh_from_db()
    assert gift.status == D.SUCCEEDED
    assert held(fund) == Decimal("50.00")


def test_a_delayed_payment_waits_for_its_confirmation(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    gift = start_gift(client, fund)
    body, session = completed(stripe_api, gift, paid=False)
    deliver(client, body)
    gift.refresh_from_db()
    assert gift.status == D.PENDING
    assert held(fund) == 0
    paid = {**session, "payment_status": "paid"}
    deliver(client, event("checkout.session.async_payment_succeeded", paid))
    gift.refresh_from_db()
    assert gift.status == D.SUCCEEDED
    assert held(fund) == Decimal("50.00")


def test_an_amount_other_than_the_gift_is_refused(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    gift = start_gift(client, fund)
    _body, session = completed(stripe_api, gift)
    body = event("checkout.session.completed", {**session, "amount_total": 1})
    response = deliver(client, body)
    assert body_of(response)["status"] == "refused"
    gift.refresh_from_db()
    assert gift.status == D.PENDING
    assert held(fund) == 0


def test_other_event_types_are_stored_and_ignored(client: Any, stripe_api: FakeStripe) -> None:
    body = event("customer.created", {"id": "cus_1", "object": "customer"})
    response = deliver(client, body)
    assert response.status_code == 200
    assert body_of(response)["status"] == "ignored"
    assert ProviderEvent.objects.get().type == "customer.created"


def test_a_gift_in_another_currency_enters_the_fund_converted(
    client: Any, fund: Any, finance: Any, stripe_api: FakeStripe
) -> None:
    services.exchange_rate_record(
        network=fund.network,
        from_currency="USD",
        to_currency="EUR",
        rate="0.9",
        on=dt.date(2026, 1, 1),
        actor=finance,
    )
    gift = start_gift(client, fund, currency="USD", preset="", custom_amount="110.00")
    assert (gift.amount, gift.currency, gift.fund_amount) == (
        Decimal("110.00"),
        "USD",
        Decimal("99.00"),
    )
    assert stripe_api.requests[-1][2]["line_items"][0]["price_data"]["currency"] == "usd"
    body, _session = completed(stripe_api, gift)
    deliver(client, body)
    assert selectors.fund_totals(fund).held == Decimal("99.00")


def _invoice(subscription: str, *, reason: str, amount: int = 2000) -> dict[str, Any]:
    """An invoice of the 2025+ API shape: the subscription under ``parent``."""
    return {
        "id": next_id("in"),
        "object": "invoice",
        "billing_reason": reason,
        "amount_paid": amount,
        "currency": "eur",
        "status": "paid",
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription, "metadata": {}},
        },
    }


def test_a_monthly_pledge_records_a_gift_each_month_until_cancelled(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    gift = start_gift(client, fund, preset="", custom_amount="20", frequency="monthly")
    request = stripe_api.requests[-1][2]
    assert request["mode"] == "subscription"
    assert request["line_items"][0]["price_data"]["recurring"]["interval"] == "month"
    body, session = completed(stripe_api, gift)
    deliver(client, body)

    pledge = Pledge.objects.get()
    assert (pledge.provider_reference, pledge.status) == (session["subscription"], "active")
    gift.refresh_from_db()
    assert gift.pledge == pledge
    assert gift.status == D.SUCCEEDED
    # The first invoice is the checkout's payment: not a second gift.
    first = deliver(
        client,
        event("invoice.paid", _invoice(pledge.provider_reference, reason="subscription_create")),
    )
    assert "first payment" in body_of(first)["outcome"]
    assert held(fund) == Decimal("20.00")

    month = _invoice(pledge.provider_reference, reason="subscription_cycle")
    month_event = event("invoice.paid", month)
    deliver(client, month_event)
    deliver(client, month_event)  # delivered twice
    deliver(client, event("invoice.paid", month))  # the same invoice under a new event id

    assert held(fund) == Decimal("40.00")
    second = Donation.objects.get(provider_reference=month["id"])
    assert (second.pledge, second.status, second.donor_email) == (
        pledge,
        D.SUCCEEDED,
        "dana@example.org",
    )
    assert Receipt.objects.filter(donation__pledge=pledge).count() == 2

    ended = {"id": pledge.provider_reference, "object": "subscription", "status": "canceled"}
    deliver(client, event("customer.subscription.deleted", ended))
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.CANCELLED
    assert pledge.cancelled_at is not None


def test_a_monthly_payment_before_its_pledge_waits_for_it(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    gift = start_gift(client, fund, preset="", custom_amount="20", frequency="monthly")
    body, session = completed(stripe_api, gift)
    early = deliver(
        client,
        event("invoice.paid", _invoice(session["subscription"], reason="subscription_cycle")),
    )
    assert body_of(early)["status"] == "waiting"
    assert held(fund) == 0
    deliver(client, body)
    assert held(fund) == Decimal("40.00")
    assert Donation.objects.filter(status=D.SUCCEEDED).count() == 2


def test_finance_staff_refund_an_online_gift_at_stripe_and_the_ledger_follows(
    client: Any, fund: Any, finance: Any, stripe_api: FakeStripe
) -> None:
    from django.core.exceptions import PermissionDenied

    from medexchange.funding import donations
    from tests import factories

    gift = start_gift(client, fund, preset="100")
    body, _session = completed(stripe_api, gift, payment_intent="pi_to_refund")
    deliver(client, body)
    gift.refresh_from_db()
    with pytest.raises(PermissionDenied):
        donations.donation_refund_online(
            donation=gift, amount=Decimal("30.00"), actor=factories.UserFactory(), reason="no"
        )

    refund_id = donations.donation_refund_online(
        donation=gift, amount=Decimal("30.00"), actor=finance, reason="Asked by the donor"
    )

    assert refund_id.startswith("re_test_")
    assert stripe_api.requests[-1] == (
        "POST",
        "/v1/refunds",
        {"payment_intent": "pi_to_refund", "amount": "3000"},
    )
    assert held(fund) == Decimal("100.00")  # nothing moves until Stripe says so
    deliver(client, charge_refunded(gift, "pi_to_refund", refunded_minor=3000))
    assert held(fund) == Decimal("70.00")


def _invoice_payment(invoice_id: str, payment_intent: str) -> dict[str, Any]:
    """An InvoicePayment as ``invoice_payment.paid`` carries it (API 2025-03-31 and later:
    the invoice itself no longer names its PaymentIntent)."""
    return {
        "id": next_id("inpay"),
        "object": "invoice_payment",
        "invoice": invoice_id,
        "is_default": True,
        "status": "paid",
        "payment": {"type": "payment_intent", "payment_intent": payment_intent},
    }


def _monthly_gift_paid(client: Any, fund: Any, stripe_api: FakeStripe) -> tuple[Any, Any]:
    gift = start_gift(client, fund, preset="", custom_amount="20", frequency="monthly")
    body, session = completed(stripe_api, gift)
    deliver(client, body)
    first_invoice = {**_invoice(session["subscription"], reason="subscription_create")}
    first_invoice["id"] = session["invoice"]
    deliver(client, event("invoice.paid", first_invoice))
    gift.refresh_from_db()
    return gift, session


def test_a_refund_of_a_monthly_pledges_first_payment_finds_the_checkout_gift(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    gift, session = _monthly_gift_paid(client, fund, stripe_api)
    refund = charge_refunded(gift, "pi_first_month", refunded_minor=2000)

    early = deliver(client, refund)  # before Stripe said which payment paid the invoice
    assert body_of(early)["status"] == "waiting"
    assert held(fund) == Decimal("20.00")
    deliver(
        client,
        event("invoice_payment.paid", _invoice_payment(session["invoice"], "pi_first_month")),
    )

    gift.refresh_from_db()
    assert gift.status == D.REFUNDED
    assert held(fund) == Decimal("0.00")


def test_a_refund_of_a_later_monthly_payment_finds_that_months_gift(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    first, session = _monthly_gift_paid(client, fund, stripe_api)
    later_invoice = _invoice(session["subscription"], reason="subscription_cycle")
    deliver(client, event("invoice.paid", later_invoice))
    deliver(
        client, event("invoice_payment.paid", _invoice_payment(later_invoice["id"], "pi_month_2"))
    )
    later = Donation.objects.get(provider_reference=later_invoice["id"])
    assert held(fund) == Decimal("40.00")

    deliver(client, charge_refunded(later, "pi_month_2", refunded_minor=500))

    later.refresh_from_db()
    first.refresh_from_db()
    assert later.status == D.PARTIALLY_REFUNDED
    assert first.status == D.SUCCEEDED
    assert held(fund) == Decimal("35.00")


def test_finance_staff_refund_a_monthly_pledges_first_payment_at_stripe(
    client: Any, fund: Any, finance: Any, stripe_api: FakeStripe
) -> None:
    from medexchange.funding import donations

    gift, session = _monthly_gift_paid(client, fund, stripe_api)
    deliver(
        client, event("invoice_payment.paid", _invoice_payment(session["invoice"], "pi_of_first"))
    )

    donations.donation_refund_online(
        donation=gift, amount=Decimal("20.00"), actor=finance, reason="Asked by the donor"
    )

    assert stripe_api.requests[-1] == (
        "POST",
        "/v1/refunds",
        {"payment_intent": "pi_of_first", "amount": "2000"},
    )


def test_a_refund_of_a_month_recorded_as_no_gift_never_refunds_the_first_month(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    first, session = _monthly_gift_paid(client, fund, stripe_api)
    fund.is_active = False  # closed: Stripe's next monthly payment is recorded as no gift
    fund.save()
    month_2 = _invoice(session["subscription"], reason="subscription_cycle")
    deliver(client, event("invoice.paid", month_2))
    assert not Donation.objects.filter(provider_reference=month_2["id"]).exists()
    deliver(client, event("invoice_payment.paid", _invoice_payment(month_2["id"], "pi_month_2")))

    answer = deliver(client, charge_refunded(first, "pi_month_2", refunded_minor=2000))

    assert body_of(answer)["status"] == "waiting"  # no gift of this payment: nothing moves
    first.refresh_from_db()
    assert first.status == D.SUCCEEDED
    assert held(fund) == Decimal("20.00")
