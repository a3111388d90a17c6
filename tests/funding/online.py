"""Helpers of the online-gift tests: the local fake Stripe API, signed webhook
deliveries, and starting a gift through the real donation page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse

from medexchange.funding.models import Donation, Fund
from tests.funding.fake_stripe import (
    API_KEY,
    WEBHOOK_SECRET,
    FakeStripe,
    completed_session,
    event,
    signature_header,
)

WEBHOOK = "/funding/webhooks/stripe/"


@pytest.fixture(name="stripe_api")
def stripe_api_fixture(settings: Any) -> Iterator[FakeStripe]:
    """Stripe configured, its API answered by the local fake."""
    with FakeStripe() as fake:
        settings.STRIPE_SECRET_KEY = API_KEY
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.STRIPE_API_BASE = fake.base_url
        yield fake


def deliver(client: Any, body: str, *, header: str | None = None, capture: Any = None) -> Any:
    """POST ``body`` to the webhook, signed with the endpoint's secret unless ``header``
    gives another Stripe-Signature ("" for none). With ``capture`` (pytest-django's
    ``django_capture_on_commit_callbacks``) what runs after commit (e-mails) runs."""
    headers = {}
    signature = signature_header(body) if header is None else header
    if signature:
        headers["HTTP_STRIPE_SIGNATURE"] = signature
    if capture is None:
        return client.post(WEBHOOK, data=body, content_type="application/json", **headers)
    with capture(execute=True):
        return client.post(WEBHOOK, data=body, content_type="application/json", **headers)


def donate_form(fund: Fund, **fields: Any) -> dict[str, Any]:
    data = {
        "currency": fund.currency,
        "preset": "50",
        "custom_amount": "",
        "frequency": "one_off",
        "donor_name": "Dana Donor",
        "donor_email": "dana@example.org",
        "dedication": "",
        "memo": "",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def donate_url(fund: Fund) -> str:
    return reverse("funding:donate", kwargs={"network": fund.network.slug, "fund": fund.slug})


def start_gift(client: Any, fund: Fund, **fields: Any) -> Donation:
    """Give through the donation page; the fake answers the checkout."""
    response = client.post(donate_url(fund), donate_form(fund, **fields))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Donation.objects.order_by("-pk").first()  # type: ignore[return-value]


def session_of(fake: FakeStripe, donation: Donation) -> dict[str, Any]:
    return fake.sessions[donation.provider_reference]


def completed(
    fake: FakeStripe,
    donation: Donation,
    *,
    payment_intent: str | None = None,
    event_id: str | None = None,
    paid: bool = True,
) -> tuple[str, dict[str, Any]]:
    """The ``checkout.session.completed`` body of a gift's session, and the session."""
    session = completed_session(
        session_of(fake, donation), payment_intent=payment_intent, paid=paid
    )
    fake.sessions[session["id"]] = session
    return event("checkout.session.completed", session, event_id=event_id), session


def charge_refunded(
    donation: Donation, payment_intent: str, *, refunded_minor: int, event_id: str | None = None
) -> str:
    amount = int(donation.amount * 100)
    return event(
        "charge.refunded",
        {
            "id": f"ch_for_{payment_intent}",
            "object": "charge",
            "amount": amount,
            "amount_refunded": refunded_minor,
            "currency": donation.currency.lower(),
            "payment_intent": payment_intent,
            "refunded": refunded_minor == amount,
            "status": "succeeded",
            "metadata": {},
        },
        event_id=event_id,
    )


def body_of(response: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(response.content)
    return data
