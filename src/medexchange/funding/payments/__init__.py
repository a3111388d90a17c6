"""Payment providers: the interface online gifts go through, and the registry of them.

A provider starts a hosted checkout for a pending ``Donation`` (the donor pays on the
provider's page and comes back to ``success_url``), turns a webhook request into a
verified ``WebhookEvent`` (or refuses it with a reason), refunds a payment and cancels a
recurring pledge. It knows nothing of funds or the ledger: ``funding.donations`` turns
its events into ledger movements through ``funding.services``.

Only Stripe Checkout is implemented (``payments.stripe``); another provider is a class
with the same methods, registered in ``PROVIDERS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from medexchange.funding.models import Donation, Pledge


class ProviderError(Exception):
    """The provider could not be reached or refused the request; ``message`` is safe to
    show a person (translated), ``detail`` is for the log. ``uncertain``: no answer came
    (a lost connection, a timeout), so the provider may have done it all the same."""

    def __init__(self, message: str, *, detail: str = "", uncertain: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.uncertain = uncertain


class InvalidWebhook(Exception):
    """A webhook request that is not verifiably from the provider: the reason is
    answered with a 400."""


@dataclass(frozen=True)
class Checkout:
    """A hosted checkout the donor is sent to: its address and the provider's id."""

    url: str
    reference: str


@dataclass(frozen=True)
class WebhookEvent:
    """One verified event: its id (unique per provider), type, the object it is about
    (as plain JSON) and the whole payload as sent."""

    id: str
    type: str
    object: dict[str, Any]
    payload: dict[str, Any] = field(default_factory=dict)


class PaymentProvider(Protocol):
    name: str

    def is_configured(self) -> bool:
        """Whether this site has the provider's keys (else online giving is off)."""
        ...

    def checkout_origins(self) -> list[str]:
        """Where the donation form's POST is redirected to (the page's CSP
        ``form-action`` must allow them, or browsers refuse the redirect)."""
        ...

    def start_checkout(self, donation: Donation, *, success_url: str, cancel_url: str) -> Checkout:
        """Create the hosted checkout of a pending donation (a subscription for a
        monthly one). Raises ``ProviderError``."""
        ...

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Verify the request's signature and read its event. Raises ``InvalidWebhook``."""
        ...

    def refund(
        self, *, payment: str, amount: Decimal, currency: str, idempotency_key: str = ""
    ) -> str:
        """Refund ``amount`` of the payment ``payment`` (the provider's id); returns the
        refund's id. The ledger follows when the provider's refund event arrives. The
        same ``idempotency_key`` twice makes one refund."""
        ...

    def cancel_pledge(self, pledge: Pledge) -> None:
        """Stop a recurring gift at the provider. Raises ``ProviderError``."""
        ...


def get_provider(name: str = "stripe") -> PaymentProvider:
    """The provider called ``name`` (``KeyError`` for an unknown one)."""
    from medexchange.funding.payments.stripe import StripeProvider

    providers: dict[str, type[Any]] = {"stripe": StripeProvider}
    provider: PaymentProvider = providers[name]()
    return provider


def online_provider() -> PaymentProvider | None:
    """The provider online gifts use, or None when none is configured on this site."""
    provider = get_provider("stripe")
    return provider if provider.is_configured() else None


__all__ = [
    "Checkout",
    "InvalidWebhook",
    "PaymentProvider",
    "ProviderError",
    "WebhookEvent",
    "get_provider",
    "online_provider",
]
