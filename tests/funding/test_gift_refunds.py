"""Finance staff give a gift back from the fund's books, and record a cheque with its
receipt in one step.

A gift recorded by hand leaves the ledger at once; an online gift is refunded at Stripe
(the fake speaks Stripe's API to the real client) and leaves the ledger only when Stripe's
signed refund event arrives. Refunding money the fund has committed is refused before
anything is asked of Stripe.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from medexchange.common.models import AuditEntry
from medexchange.funding import services
from medexchange.funding.choices import DonationStatus
from medexchange.funding.models import Donation, LedgerEntry, Receipt
from medexchange.funding.selectors import fund_totals
from tests import factories
from tests.funding.conftest import give
from tests.funding.fake_stripe import FakeStripe
from tests.funding.online import (
    charge_refunded,
    completed,
    deliver,
    start_gift,
    stripe_api_fixture,  # noqa: F401 - the stripe_api fixture
)
from tests.funding.test_staff_pages import field_error, gift_form, gift_url, money, row_of, text

pytestmark = pytest.mark.django_db
D = DonationStatus


def refund_url(gift: Donation) -> str:
    fund = gift.fund
    return reverse(
        "funding:gift-refund",
        kwargs={"network": fund.network.slug, "fund": fund.slug, "pk": gift.pk},
    )


def held(fund: Any) -> Decimal:
    return fund_totals(fund).held


def received_online(client: Any, fund: Any, stripe_api: FakeStripe, payment_intent: str) -> Any:
    """A gift of 100 given on the donation page and paid at (fake) Stripe."""
    gift = start_gift(client, fund, preset="100")
    body, _session = completed(stripe_api, gift, payment_intent=payment_intent)
    deliver(client, body)
    return gift


def refund_requests(stripe_api: FakeStripe) -> list[dict[str, Any]]:
    return [params for _method, path, params in stripe_api.requests if path == "/v1/refunds"]


# --------------------------------------------------------------------------- offline gifts


def test_a_cheque_given_back_in_part_leaves_the_ledger_at_once(
    client: Any, fund: Any, finance: Any
) -> None:
    gift = give(fund, finance, "100.00", donor_name="Ada Donor")
    client.force_login(finance)

    books = client.get(fund.get_manage_url())
    assert "Refund" in row_of(books, "Ada Donor")
    assert refund_url(gift) in books.content.decode()
    form = client.get(refund_url(gift))
    assert form.status_code == 200
    assert 'value="100.00"' in form.content.decode()  # what is left, to start from
    assert f"At most {money('100.00')} can still be refunded" in text(form)

    response = client.post(refund_url(gift), {"amount": "40.00", "reason": "Asked by the donor"})

    assert response.status_code == 302
    assert response["Location"] == fund.get_manage_url()
    gift.refresh_from_db()
    assert gift.status == D.PARTIALLY_REFUNDED
    assert held(fund) == Decimal("60.00")
    entry = LedgerEntry.objects.get(donation=gift, kind="refund")
    assert (entry.held_delta, entry.memo, entry.actor) == (
        Decimal("-40.00"),
        "Asked by the donor",
        finance,
    )
    audit = AuditEntry.objects.get(action="donation.refunded")
    assert (audit.actor, audit.reason, audit.to_state) == (
        finance,
        "Asked by the donor",
        D.PARTIALLY_REFUNDED,
    )
    assert f"{money('40.00')} is given back" in text(client.get(response["Location"]))
    again = client.get(refund_url(gift))
    assert "Asked by the donor" in row_of(again, "Asked by the donor")
    assert f"At most {money('60.00')} can still be refunded" in text(again)


def test_the_rest_of_a_gift_refunds_it_in_full_and_then_nothing_is_left_to_refund(
    client: Any, fund: Any, finance: Any
) -> None:
    gift = give(fund, finance, "100.00")
    client.force_login(finance)
    client.post(refund_url(gift), {"amount": "30.00", "reason": "Part"})
    client.post(refund_url(gift), {"amount": "70.00", "reason": "The rest"})

    gift.refresh_from_db()
    assert gift.status == D.REFUNDED
    assert held(fund) == Decimal("0.00")
    page = client.get(refund_url(gift))
    assert "Nothing of this gift can be refunded" in text(page)
    assert "<form" not in page.content.decode().split("<main", 1)[-1].split("</main>")[0]
    refused = client.post(refund_url(gift), {"amount": "1.00", "reason": "More"})
    assert refused.status_code == 400
    assert "Only a received gift can be refunded." in text(refused)
    assert held(fund) == Decimal("0.00")


@pytest.mark.parametrize(
    ("amount", "reason", "field", "message"),
    [
        ("150.00", "Too much", "amount", "At most 100.00 EUR of this gift can still be refunded."),
        ("0", "Zero", "amount", "more than zero"),
        ("-5", "Negative", "amount", "more than zero"),
        ("10.001", "Decimals", "amount", "decimal"),
        ("ten", "Words", "amount", ""),
        ("10.00", "", "reason", "required"),
    ],
)
def test_a_refund_that_cannot_be_made_is_refused_at_its_field_and_nothing_moves(
    client: Any, fund: Any, finance: Any, amount: str, reason: str, field: str, message: str
) -> None:
    gift = give(fund, finance, "100.00")
    client.force_login(finance)

    response = client.post(refund_url(gift), {"amount": amount, "reason": reason})

    assert response.status_code == 400
    shown = field_error(response, field)
    assert message.replace("100.00 EUR", money("100.00")) in shown
    assert "Nothing was recorded" in text(response)
    assert held(fund) == Decimal("100.00")
    assert not LedgerEntry.objects.filter(kind="refund").exists()


def test_money_committed_to_awards_is_not_refunded_until_released(
    client: Any, fund: Any, finance: Any
) -> None:
    gift = give(fund, finance, "100.00")
    commitment = services.commitment_reserve(
        fund=fund, amount="80.00", purpose="Award to a resident", actor=finance
    )
    client.force_login(finance)

    refused = client.post(refund_url(gift), {"amount": "50.00", "reason": "Asked"})

    assert refused.status_code == 400
    assert (
        f"EM Residents Fund has only {money('20.00')} not committed: release commitments "
        f"before refunding {money('50.00')}." in field_error(refused, "amount")
    )
    assert held(fund) == Decimal("100.00")
    services.commitment_release(commitment=commitment, actor=finance, reason="Declined")
    assert client.post(refund_url(gift), {"amount": "50.00", "reason": "Asked"}).status_code == 302
    assert held(fund) == Decimal("50.00")


def test_only_the_funds_finance_staff_open_the_refund_page(
    client: Any, network: Any, fund: Any, finance: Any
) -> None:
    gift = give(fund, finance, "100.00", donor_email="ada@example.org")
    other_network = factories.NetworkFactory(slug="elsewhere")
    donor = factories.UserFactory(email="ada@example.org")
    Donation.objects.filter(pk=gift.pk).update(donor=donor)
    for person in (factories.staff_of(other_network), donor, factories.UserFactory()):
        client.force_login(person)
        assert client.get(refund_url(gift)).status_code == 404
        assert client.post(refund_url(gift), {"amount": "1.00", "reason": "x"}).status_code == 404
    client.logout()
    assert client.get(refund_url(gift)).status_code == 302  # to sign in
    assert held(fund) == Decimal("100.00")


# --------------------------------------------------------------------------- online gifts


def test_an_online_gift_is_refunded_at_stripe_and_the_ledger_follows_its_event(
    client: Any, fund: Any, finance: Any, stripe_api: FakeStripe
) -> None:
    gift = received_online(client, fund, stripe_api, "pi_back")
    client.force_login(finance)
    assert "paid online" in text(client.get(refund_url(gift)))

    response = client.post(refund_url(gift), {"amount": "30.00", "reason": "Asked by the donor"})

    assert response.status_code == 302
    assert refund_requests(stripe_api) == [{"payment_intent": "pi_back", "amount": "3000"}]
    assert held(fund) == Decimal("100.00")  # nothing moves until Stripe says so
    assert "as soon as the service confirms it" in text(client.get(response["Location"]))
    assert AuditEntry.objects.filter(action="donation.refund_requested").count() == 1
    deliver(client, charge_refunded(gift, "pi_back", refunded_minor=3000))
    assert held(fund) == Decimal("70.00")


def test_a_second_refund_waits_until_stripe_confirms_the_first(
    client: Any, fund: Any, finance: Any, stripe_api: FakeStripe
) -> None:
    """100 given, 40 committed: 60 may go back. Asking 50 and then 40 before Stripe
    confirms the first must not give back 90."""
    gift = received_online(client, fund, stripe_api, "pi_twice")
    services.commitment_reserve(fund=fund, amount="40.00", purpose="Award", actor=finance)
    client.force_login(finance)

    first = client.post(refund_url(gift), {"amount": "50.00", "reason": "Asked by the donor"})
    second = client.post(refund_url(gift), {"amount": "40.00", "reason": "More"})

    assert first.status_code == 302
    assert second.status_code == 400
    assert "is not confirmed yet" in text(second)
    assert len(refund_requests(stripe_api)) == 1
    waiting = client.get(refund_url(gift))
    assert "is not confirmed yet" in text(waiting)
    assert 'name="amount"' not in waiting.content.decode()
    deliver(client, charge_refunded(gift, "pi_twice", refunded_minor=5000))
    assert held(fund) == Decimal("50.00")
    entry = LedgerEntry.objects.get(donation=gift, kind="refund")
    assert entry.memo.startswith("Asked by the donor — refunded at Stripe")
    again = client.get(refund_url(gift))
    assert 'name="amount"' in again.content.decode()
    refused = client.post(
        refund_url(gift), {"amount": "40.00", "reason": "More", "refunded_before": "50.00"}
    )
    assert "release commitments" in field_error(refused, "amount")  # only 10 is free
    assert len(refund_requests(stripe_api)) == 1


def test_one_idempotency_key_makes_one_refund_at_stripe(stripe_api: FakeStripe) -> None:
    from medexchange.funding.payments import get_provider

    provider = get_provider("stripe")
    for _attempt in range(2):  # e.g. asked again after the site's transaction rolled back
        provider.refund(
            payment="pi_once", amount=Decimal("30.00"), currency="EUR", idempotency_key="k-1"
        )
    provider.refund(payment="pi_once", amount=Decimal("30.00"), currency="EUR")

    assert len(refund_requests(stripe_api)) == 3
    assert len(stripe_api.refunds) == 2


def test_a_refund_form_sent_twice_gives_back_once(client: Any, fund: Any, finance: Any) -> None:
    gift = give(fund, finance, "100.00")
    client.force_login(finance)
    page = client.get(refund_url(gift)).content.decode()
    assert 'name="refunded_before"' in page
    form = {"amount": "40.00", "reason": "Asked by the donor", "refunded_before": "0"}

    sent = client.post(refund_url(gift), form)
    again = client.post(refund_url(gift), form)  # the back button, or a second click

    assert sent.status_code == 302
    assert again.status_code == 400
    assert f"This gift changed since the page was opened: {money('40.00')} of it" in text(again)
    assert held(fund) == Decimal("60.00")
    assert LedgerEntry.objects.filter(donation=gift, kind="refund").count() == 1


def test_an_online_refund_of_committed_money_is_refused_before_stripe_is_asked(
    client: Any, fund: Any, finance: Any, stripe_api: FakeStripe
) -> None:
    gift = received_online(client, fund, stripe_api, "pi_committed")
    services.commitment_reserve(fund=fund, amount="90.00", purpose="Award", actor=finance)
    client.force_login(finance)

    refused = client.post(refund_url(gift), {"amount": "50.00", "reason": "Asked"})

    assert refused.status_code == 400
    assert "release commitments" in field_error(refused, "amount")
    assert refund_requests(stripe_api) == []
    assert held(fund) == Decimal("100.00")


# --------------------------------------------------------------------------- receipt at once


def test_a_cheque_recorded_with_its_receipt_is_numbered_and_mailed_in_the_donors_language(
    client: Any,
    fund: Any,
    finance: Any,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            gift_url(fund), gift_form(language="es", issue_receipt="on", reference="TRX-R-1")
        )

    assert response.status_code == 302
    gift = Donation.objects.get(provider_reference="TRX-R-1")
    receipt = Receipt.objects.get(donation=gift)
    assert (receipt.number, receipt.language, receipt.donor_email) == (
        1,
        "es",
        "grace@example.org",
    )
    assert [message.to for message in mailoutbox] == [["grace@example.org"]]
    assert mailoutbox[0].attachments[0][2] == "application/pdf"
    assert "Recibo" in mailoutbox[0].subject or "recibo" in mailoutbox[0].body.lower()
    assert f"receipt {receipt.label} is e-mailed to grace@example.org" in text(
        client.get(response["Location"])
    )


def test_a_cheque_recorded_without_the_box_ticked_waits_for_the_receipts_page(
    client: Any, fund: Any, finance: Any, mailoutbox: list[Any]
) -> None:
    client.force_login(finance)
    form = client.get(gift_url(fund)).content.decode()
    assert 'name="issue_receipt"' in form
    assert "checked" in form.split('name="issue_receipt"')[1].split(">")[0]  # ticked by default

    response = client.post(gift_url(fund), gift_form(reference="TRX-R-2"))

    assert response.status_code == 302
    assert not Receipt.objects.exists()
    assert mailoutbox == []


def test_a_refund_stripe_never_confirmed_stops_holding_up_the_gift_after_a_day(
    client: Any, fund: Any, finance: Any, stripe_api: FakeStripe
) -> None:
    import datetime as dt

    from medexchange.funding.models import RefundRequest
    from medexchange.funding.selectors import REFUND_PENDING_FOR

    gift = received_online(client, fund, stripe_api, "pi_lost")
    client.force_login(finance)
    client.post(refund_url(gift), {"amount": "30.00", "reason": "Asked"})
    assert client.post(refund_url(gift), {"amount": "30.00", "reason": "Again"}).status_code == 400
    RefundRequest.objects.update(
        created_at=dt.datetime.now(dt.UTC) - REFUND_PENDING_FOR - dt.timedelta(minutes=1)
    )

    assert client.post(refund_url(gift), {"amount": "30.00", "reason": "Again"}).status_code == 302
    assert len(refund_requests(stripe_api)) == 2


def test_refunds_asked_of_stripe_count_against_the_whole_fund_until_confirmed(
    client: Any, fund: Any, finance: Any, stripe_api: FakeStripe
) -> None:
    """Two gifts of 100, 120 committed: 80 free. While 60 of the first is on its way back,
    60 of the second, or a commitment of 30, would count on money that is gone."""
    first = received_online(client, fund, stripe_api, "pi_first")
    second = received_online(client, fund, stripe_api, "pi_second")
    services.commitment_reserve(fund=fund, amount="120.00", purpose="Awards", actor=finance)
    client.force_login(finance)

    assert client.post(refund_url(first), {"amount": "60.00", "reason": "A"}).status_code == 302
    refused = client.post(refund_url(second), {"amount": "60.00", "reason": "B"})

    assert refused.status_code == 400
    assert f"has only {money('20.00')} not committed" in field_error(refused, "amount")
    with pytest.raises(services.InsufficientFunds):
        services.commitment_reserve(fund=fund, amount="30.00", purpose="More", actor=finance)
    assert len(refund_requests(stripe_api)) == 1
    deliver(client, charge_refunded(first, "pi_first", refunded_minor=6000))
    assert held(fund) == Decimal("140.00")  # the refund was not refused by the ledger
    assert client.post(refund_url(second), {"amount": "20.00", "reason": "B"}).status_code == 302


def test_a_refund_whose_answer_is_lost_is_kept_as_asked(
    client: Any, fund: Any, finance: Any, stripe_api: FakeStripe
) -> None:
    gift = received_online(client, fund, stripe_api, "pi_lost_answer")
    services.commitment_reserve(fund=fund, amount="40.00", purpose="Award", actor=finance)
    client.force_login(finance)
    stripe_api.drop_refund_answers = 2  # the first try and the library's one retry

    lost = client.post(refund_url(gift), {"amount": "50.00", "reason": "Asked"})

    assert lost.status_code == 400
    assert "did not answer: the refund may have been made" in text(lost)
    assert len(stripe_api.refunds) == 1  # Stripe made it
    again = client.post(refund_url(gift), {"amount": "40.00", "reason": "Again"})
    assert "is not confirmed yet" in text(again)
    assert len(stripe_api.refunds) == 1  # so no second one: 90 of 60 free would go back
    deliver(client, charge_refunded(gift, "pi_lost_answer", refunded_minor=5000))
    assert held(fund) == Decimal("50.00")


def test_the_refused_page_can_be_sent_again_as_it_now_stands(
    client: Any, fund: Any, finance: Any
) -> None:
    gift = give(fund, finance, "100.00")
    client.force_login(finance)
    stale = {"amount": "40.00", "reason": "Asked", "refunded_before": "0"}
    client.post(refund_url(gift), stale)
    refused = client.post(refund_url(gift), stale)
    assert refused.status_code == 400

    shown = refused.content.decode().split('name="refunded_before"')[1].split(">")[0]
    assert 'value="40' in shown  # the page now carries what is refunded now
    resent = {**stale, "amount": "10.00", "refunded_before": "40.000"}
    assert client.post(refund_url(gift), resent).status_code == 302
    assert held(fund) == Decimal("50.00")


def test_the_books_say_how_much_is_on_its_way_back_to_donors(
    client: Any, fund: Any, finance: Any, stripe_api: FakeStripe
) -> None:
    gift = received_online(client, fund, stripe_api, "pi_books")
    client.force_login(finance)
    assert "not confirmed yet" not in text(client.get(fund.get_manage_url()))
    client.post(refund_url(gift), {"amount": "30.00", "reason": "Asked"})

    books = text(client.get(fund.get_manage_url()))

    assert f"{money('30.00')} of refunds asked of the payment service is not confirmed" in books
    deliver(client, charge_refunded(gift, "pi_books", refunded_minor=3000))
    assert "not confirmed yet" not in text(client.get(fund.get_manage_url()))
