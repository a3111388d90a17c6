"""Stripe Checkout through the official ``stripe`` library (``stripe.StripeClient``).

A one-off gift is a Checkout Session in ``payment`` mode, a monthly pledge one in
``subscription`` mode; both carry the donation's id in ``metadata`` and
``client_reference_id`` (and a one-off gift's PaymentIntent in its own metadata), so each
webhook names the gift it is about. Webhooks are verified with
``stripe.Webhook.construct_event`` (HMAC-SHA256 of ``"<timestamp>.<body>"`` with the
endpoint's secret, at most five minutes old).

Settings: ``STRIPE_SECRET_KEY`` (online giving is off without it),
``STRIPE_WEBHOOK_SECRET`` (the endpoint's ``whsec_…``), ``STRIPE_API_BASE`` (another API
address, for the tests' local fake; empty means Stripe's own).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, cast
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from medexchange.funding.choices import DonationFrequency
from medexchange.funding.models import Donation, Pledge
from medexchange.funding.money import minor_digits
from medexchange.funding.payments import Checkout, InvalidWebhook, ProviderError, WebhookEvent

logger = logging.getLogger(__name__)

NAME = "stripe"
#: Stripe's exponent of a currency where it is not ISO 4217's: Stripe takes these as
#: whole units (zero-decimal) or, for ISK, HUF and TWD, as two-decimal amounts.
STRIPE_EXPONENTS: dict[str, int] = {
    "MGA": 0,
    "UGX": 0,
    "ISK": 2,
    "HUF": 2,
    "TWD": 2,
}
#: Where Stripe's hosted checkout pages are.
CHECKOUT_ORIGIN = "https://checkout.stripe.com"
#: Webhooks older than this (seconds) are refused as replays.
WEBHOOK_TOLERANCE = stripe.Webhook.DEFAULT_TOLERANCE
#: The locales Stripe Checkout speaks that are also the site's languages.
CHECKOUT_LOCALES = frozenset({"en", "fr", "es", "pt", "de", "it", "nl", "ja", "zh", "ko"})


def exponent(currency: str) -> int:
    """Decimals of ``currency`` in Stripe's integer amounts."""
    return STRIPE_EXPONENTS.get(currency.upper(), minor_digits(currency.upper()))


def to_minor(amount: Decimal, currency: str) -> int:
    """``amount`` as Stripe's integer in the currency's smallest unit (12.50 EUR → 1250).
    Refused (a ValidationError) when Stripe cannot take it exactly."""
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValidationError(
            {
                "amount": _("Online payments in %(currency)s take whole amounts only.")
                % {"currency": currency.upper()}
            },
            code="not_whole",
        )
    return int(scaled)


def from_minor(value: Any, currency: str) -> Decimal:
    """Stripe's integer amount back to a Decimal of ``currency`` (1250 EUR → 12.50)."""
    return Decimal(int(value)).scaleb(-exponent(currency))


class StripeProvider:
    """Stripe Checkout; every call goes through one ``StripeClient``."""

    name = NAME

    def is_configured(self) -> bool:
        return bool(settings.STRIPE_SECRET_KEY)

    def client(self) -> stripe.StripeClient:
        if not self.is_configured():
            raise ProviderError(_("Online giving is not configured on this site."))
        base = settings.STRIPE_API_BASE.rstrip("/")
        addresses: Any = {"api": base} if base else None
        return stripe.StripeClient(
            settings.STRIPE_SECRET_KEY, base_addresses=addresses, max_network_retries=1
        )

    # ----------------------------------------------------------------- checkout

    def checkout_origins(self) -> list[str]:
        """Stripe's hosted checkout; with ``STRIPE_API_BASE`` (a local fake), its origin."""
        base = settings.STRIPE_API_BASE
        if base:
            parts = urlsplit(base)
            return [f"{parts.scheme}://{parts.netloc}"]
        return [CHECKOUT_ORIGIN]

    def checkout_params(
        self, donation: Donation, *, success_url: str, cancel_url: str
    ) -> dict[str, Any]:
        """What ``checkout.sessions.create`` is given for ``donation``."""
        fund = donation.fund
        currency = donation.currency.lower()
        metadata = {"donation": str(donation.pk), "fund": str(fund.pk)}
        monthly = donation.frequency == DonationFrequency.MONTHLY
        price_data: dict[str, Any] = {
            "currency": currency,
            "unit_amount": to_minor(donation.amount, donation.currency),
            "product_data": {"name": (_("Gift to %(fund)s") % {"fund": fund.name})[:250]},
        }
        if monthly:
            price_data["recurring"] = {"interval": "month"}
        params: dict[str, Any] = {
            "mode": "subscription" if monthly else "payment",
            "line_items": [{"quantity": 1, "price_data": price_data}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": str(donation.pk),
            "metadata": metadata,
            "locale": self._locale(donation.language),
        }
        if donation.donor_email:
            params["customer_email"] = donation.donor_email
        if monthly:
            params["subscription_data"] = {"metadata": metadata}
        else:
            params["submit_type"] = "donate"
            params["payment_intent_data"] = {
                "metadata": metadata,
                "description": (_("Gift to %(fund)s") % {"fund": fund.name})[:250],
            }
        return params

    @staticmethod
    def _locale(language: str) -> str:
        code = (language or "").split("-")[0]
        return code if code in CHECKOUT_LOCALES else "auto"

    def start_checkout(self, donation: Donation, *, success_url: str, cancel_url: str) -> Checkout:
        params = self.checkout_params(donation, success_url=success_url, cancel_url=cancel_url)
        try:
            session = self.client().v1.checkout.sessions.create(
                params=cast(Any, params),
                options={"idempotency_key": f"medexchange-donation-{donation.pk}"},
            )
        except stripe.StripeError as error:
            logger.warning("Stripe refused a checkout for donation %s: %s", donation.pk, error)
            raise ProviderError(
                _("The payment service could not start your payment. Nothing was charged."),
                detail=str(error),
            ) from error
        if not session.url:
            raise ProviderError(
                _("The payment service could not start your payment. Nothing was charged."),
                detail=f"checkout session {session.id} has no url",
            )
        return Checkout(url=session.url, reference=session.id)

    # ----------------------------------------------------------------- webhooks

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        secret = settings.STRIPE_WEBHOOK_SECRET
        if not secret:
            raise InvalidWebhook("Stripe webhooks are not configured here (STRIPE_WEBHOOK_SECRET).")
        signature = headers.get("Stripe-Signature") or headers.get("stripe-signature")
        if not signature:
            raise InvalidWebhook("Missing Stripe-Signature header.")
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidWebhook("The body is not UTF-8.") from None
        try:
            stripe.Webhook.construct_event(text, signature, secret, WEBHOOK_TOLERANCE)
        except stripe.SignatureVerificationError as error:
            raise InvalidWebhook(f"Invalid signature: {error.user_message or error}") from None
        except (ValueError, IndexError, KeyError) as error:
            # A malformed header (no timestamp) or a body that is not an event.
            raise InvalidWebhook(f"Unreadable webhook: {error}") from None
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("object") != "event":
            raise InvalidWebhook("The body is not a Stripe event.")
        event_id = data.get("id")
        event_type = data.get("type")
        obj = (data.get("data") or {}).get("object")
        if not isinstance(event_id, str) or not isinstance(event_type, str):
            raise InvalidWebhook("The event has no id or type.")
        if not isinstance(obj, dict):
            raise InvalidWebhook("The event has no object.")
        return WebhookEvent(id=event_id, type=event_type, object=obj, payload=data)

    # ----------------------------------------------------------------- money back

    def refund(
        self, *, payment: str, amount: Decimal, currency: str, idempotency_key: str = ""
    ) -> str:
        try:
            refund = self.client().v1.refunds.create(
                params={"payment_intent": payment, "amount": to_minor(amount, currency)},
                options={"idempotency_key": idempotency_key} if idempotency_key else None,
            )
        except stripe.APIConnectionError as error:
            raise ProviderError(
                _("The payment service did not answer: the refund may have been made."),
                detail=str(error),
                uncertain=True,
            ) from error
        except stripe.StripeError as error:
            raise ProviderError(
                _("The payment service refused the refund: %(reason)s")
                % {"reason": error.user_message or _("no reason given")},
                detail=str(error),
            ) from error
        return str(refund.id)

    def cancel_pledge(self, pledge: Pledge) -> None:
        if not pledge.provider_reference:
            return
        try:
            self.client().v1.subscriptions.cancel(pledge.provider_reference)
        except stripe.InvalidRequestError as error:
            if getattr(error, "code", "") == "resource_missing":
                return  # already gone at Stripe: nothing left to stop
            raise ProviderError(
                _("The payment service could not stop this pledge. Try again later."),
                detail=str(error),
            ) from error
        except stripe.StripeError as error:
            raise ProviderError(
                _("The payment service could not stop this pledge. Try again later."),
                detail=str(error),
            ) from error
