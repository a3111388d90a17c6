"""The public donation page: presets and typed amounts, currencies, once or monthly,
the refusals a donor can make sense of, and the checkout the real Stripe client opens
on the local fake API; the thank-you page and its receipt."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import NoReverseMatch, reverse

from medexchange.funding import services
from medexchange.funding.choices import DonationStatus
from medexchange.funding.models import Donation, LedgerEntry
from tests import factories
from tests.funding.conftest import make_fund
from tests.funding.fake_stripe import FakeStripe
from tests.funding.online import (
    completed,
    deliver,
    donate_form,
    donate_url,
    start_gift,
    stripe_api_fixture,  # noqa: F401 - the stripe_api fixture
)

pytestmark = pytest.mark.django_db
D = DonationStatus


def test_the_page_offers_presets_currencies_and_monthly_giving(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    response = client.get(donate_url(fund))
    assert response.status_code == 200
    page = response.content.decode()
    for preset in ("25", "50", "100", "250"):
        assert f'value="{preset}"' in page
    assert '<option value="EUR" selected>' in page
    assert 'value="monthly"' in page
    assert "Continue to payment" in page


def test_without_stripe_keys_the_page_says_online_giving_is_off(
    client: Any, fund: Any, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = ""
    response = client.get(donate_url(fund))
    assert response.status_code == 200
    assert "Online giving is not configured" in response.content.decode()
    assert "Continue to payment" not in response.content.decode()
    posted = client.post(donate_url(fund), donate_form(fund))
    assert posted.status_code == 400
    assert not Donation.objects.exists()


def test_a_gift_opens_a_stripe_checkout_and_waits_for_the_payment(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    response = client.post(donate_url(fund), donate_form(fund, preset="50", memo="For Lima"))

    gift = Donation.objects.get()
    session = stripe_api.sessions[gift.provider_reference]
    assert response.status_code == 302
    assert response["Location"] == session["url"]
    method, path, params = stripe_api.requests[-1]
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert params["mode"] == "payment"
    assert params["submit_type"] == "donate"
    assert params["line_items"][0]["price_data"]["unit_amount"] == "5000"
    assert params["line_items"][0]["price_data"]["currency"] == "eur"
    assert params["metadata"] == {"donation": str(gift.pk), "fund": str(fund.pk)}
    assert params["payment_intent_data"]["metadata"]["donation"] == str(gift.pk)
    assert params["customer_email"] == "dana@example.org"
    assert "/donate/thanks/" in params["success_url"]
    assert params["cancel_url"].endswith("?cancelled=1")
    assert (gift.status, gift.amount, gift.memo) == (D.PENDING, Decimal("50.00"), "For Lima")
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"preset": "", "custom_amount": "0"}, "custom_amount", "more than zero"),
        ({"preset": "", "custom_amount": "-5"}, "custom_amount", "more than zero"),
        ({"preset": "", "custom_amount": "12.345"}, "custom_amount", "at most 2 decimals"),
        ({"preset": "", "custom_amount": "12,50"}, "custom_amount", "Use a dot for decimals"),
        ({"preset": "", "custom_amount": "lots"}, "custom_amount", "is not an amount"),
        ({"preset": "", "custom_amount": ""}, "custom_amount", "Choose an amount"),
        ({"preset": "75"}, "preset", "Choose one of the amounts"),
        ({"currency": "XYZ"}, "currency", "is not a currency we know"),
        (
            {"currency": "JPY", "preset": "", "custom_amount": "100.5"},
            "custom_amount",
            "no decimals",
        ),
        ({"donor_email": ""}, "donor_email", "your receipt goes there"),
        ({"donor_email": "not-an-address"}, "donor_email", "valid email"),
    ],
)
def test_bad_input_is_refused_at_the_field_and_nothing_is_recorded(
    client: Any, fund: Any, stripe_api: FakeStripe, fields: dict[str, str], field: str, message: str
) -> None:
    response = client.post(donate_url(fund), donate_form(fund, **fields))

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert 'role="alert"' in response.content.decode()
    assert not Donation.objects.exists()
    assert stripe_api.requests == []


def test_a_currency_without_a_recorded_rate_is_refused_with_a_way_out(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    response = client.post(donate_url(fund), donate_form(fund, currency="USD"))
    assert response.status_code == 400
    assert "no exchange rate to EUR is recorded" in " ".join(
        response.context["form"].errors["currency"]
    )
    assert not Donation.objects.exists()


def test_another_currency_is_converted_at_todays_rate(
    client: Any, fund: Any, finance: Any, stripe_api: FakeStripe
) -> None:
    for day, rate in ((dt.date(2026, 1, 1), "0.5"), (dt.date(2026, 2, 1), "0.92")):
        services.exchange_rate_record(
            network=fund.network,
            from_currency="USD",
            to_currency="EUR",
            rate=rate,
            on=day,
            actor=finance,
        )
    gift = start_gift(client, fund, currency="USD", preset="100")
    assert (gift.amount, gift.currency, gift.rate, gift.fund_amount) == (
        Decimal("100.00"),
        "USD",
        Decimal("0.92"),
        Decimal("92.00"),
    )


def test_a_zero_decimal_currency_is_sent_to_stripe_in_whole_units(
    client: Any, network: Any, stripe_api: FakeStripe
) -> None:
    fund = make_fund(network, currency="JPY", slug="yen-fund")
    start_gift(client, fund, preset="", custom_amount="3000")
    price = stripe_api.requests[-1][2]["line_items"][0]["price_data"]
    assert (price["unit_amount"], price["currency"]) == ("3000", "jpy")


def test_a_signed_in_donor_is_prefilled_and_linked(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    donor = factories.UserFactory(email="ines@example.org", full_name="Inés Donor")
    client.force_login(donor)
    page = client.get(donate_url(fund)).content.decode()
    assert 'value="ines@example.org"' in page
    assert 'value="Inés Donor"' in page
    gift = start_gift(client, fund, donor_email="ines@example.org", donor_name="Inés Donor")
    assert gift.donor == donor


def test_an_unreachable_provider_charges_nothing_and_says_so(
    client: Any, fund: Any, stripe_api: FakeStripe, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_wrong_key"  # the fake answers 401
    response = client.post(donate_url(fund), donate_form(fund))
    assert response.status_code == 400
    assert "Nothing was charged" in response.content.decode()
    gift = Donation.objects.get()
    assert gift.status == D.FAILED
    assert not LedgerEntry.objects.exists()


def test_closed_and_private_funds_have_no_donation_page(
    client: Any, network: Any, stripe_api: FakeStripe
) -> None:
    closed = make_fund(network, slug="closed", is_active=False)
    private = make_fund(network, slug="private", is_public=False)
    for fund in (closed, private):
        assert client.get(donate_url(fund)).status_code == 404
        assert client.post(donate_url(fund), donate_form(fund)).status_code == 404
    assert not Donation.objects.exists()


def test_the_cancel_link_says_nothing_was_charged(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    response = client.get(donate_url(fund) + "?cancelled=1")
    assert "nothing was charged" in response.content.decode()


def test_the_thank_you_page_shows_the_state_then_the_receipt(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    gift = start_gift(client, fund)
    thanks = stripe_api.sessions[gift.provider_reference]["success_url"]

    waiting = client.get(thanks)
    assert waiting.status_code == 200
    assert "we are confirming your payment" in waiting.content.decode()
    assert 'hx-trigger="every 3s"' in waiting.content.decode()

    body, _session = completed(stripe_api, gift)
    deliver(client, body)
    page = client.get(thanks).content.decode()
    assert "Thank you for your gift" in page
    receipt_url = thanks.split("://", 1)[1].split("/", 1)[1]
    receipt_url = "/" + receipt_url + "receipt/"
    assert receipt_url in page
    pdf = client.get(receipt_url)
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_a_forged_or_foreign_thank_you_token_is_a_404(
    client: Any, fund: Any, network: Any, stripe_api: FakeStripe
) -> None:
    gift = start_gift(client, fund)
    other = make_fund(network, slug="other-fund")
    token = stripe_api.sessions[gift.provider_reference]["success_url"].rstrip("/").split("/")[-1]
    kwargs = {"network": network.slug, "fund": fund.slug}
    assert (
        client.get(
            reverse("funding:donate-thanks", kwargs={**kwargs, "token": "1:abc"})
        ).status_code
        == 404
    )
    assert (
        client.get(
            reverse("funding:donate-thanks", kwargs={**kwargs, "fund": other.slug, "token": token})
        ).status_code
        == 404
    )
    # No receipt yet: the receipt link is a 404, not an error.
    assert (
        client.get(reverse("funding:donate-receipt", kwargs={**kwargs, "token": token})).status_code
        == 404
    )


def test_an_anonymous_gift_never_shows_the_donors_name_in_public(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    gift = start_gift(client, fund, donor_name="Secret Sasha", is_anonymous="on")
    body, _session = completed(stripe_api, gift)
    deliver(client, body)
    gift.refresh_from_db()
    assert gift.is_anonymous
    assert gift.public_name == ""
    public = [donate_url(fund)]
    with contextlib.suppress(NoReverseMatch):  # the public fund page is another module's
        public.append(
            reverse("funding:fund", kwargs={"network": fund.network.slug, "fund": fund.slug})
        )
    for url in public:
        response = client.get(url)
        assert response.status_code == 200
        assert "Secret Sasha" not in response.content.decode()


def test_the_page_lets_the_browser_follow_the_redirect_to_the_checkout(
    client: Any, fund: Any, stripe_api: FakeStripe, settings: Any
) -> None:
    policy = client.get(donate_url(fund))["Content-Security-Policy"]
    form_action = next(part for part in policy.split(";") if "form-action" in part)
    assert stripe_api.base_url in form_action
    assert "'self'" in form_action
    settings.STRIPE_API_BASE = ""
    policy = client.get(donate_url(fund))["Content-Security-Policy"]
    assert "https://checkout.stripe.com" in policy
