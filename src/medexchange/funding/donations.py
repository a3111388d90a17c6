"""Online gifts: starting a checkout, and turning the provider's webhooks into ledger
movements (through ``funding.services``), receipts and pledges.

Idempotency: each event is stored once in ``ProviderEvent`` (unique provider + event
id) and processed under a row lock on it; a second delivery of an event already
processed changes nothing. Handlers read the state the event carries rather than
counting deliveries: a refund event says how much of the payment is refunded *in all*
(``amount_refunded``), and only the part the ledger does not have yet is refunded.

Out-of-order events: an event about a gift the site cannot act on yet (a refund of a
payment whose ``checkout.session.completed`` has not arrived, a monthly payment of a
pledge not yet recorded) is stored with outcome ``waiting: …`` and not marked processed;
after every event that is processed, the waiting events are tried again, so the refund
is applied as soon as the gift is received.

Events handled (Stripe's names): ``checkout.session.completed`` (paid: the gift is
received, receipted, and a monthly gift's pledge recorded; unpaid: it waits for
``checkout.session.async_payment_succeeded``/``_failed``), ``checkout.session.expired``
and ``payment_intent.payment_failed`` (a pending gift fails; a gift already received
stays received), ``charge.refunded`` (full or partial refunds), ``invoice.paid`` (each
later payment of a monthly pledge is a new gift; the first is its checkout's),
``customer.subscription.deleted`` (the pledge is cancelled). Any other type is stored
and ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from medexchange.common.services import audit_record
from medexchange.funding import selectors, services
from medexchange.funding.choices import (
    RECEIVED_STATUSES,
    DonationFrequency,
    DonationMethod,
    DonationStatus,
    PledgeFrequency,
    PledgeStatus,
)
from medexchange.funding.models import (
    Donation,
    DonationQuerySet,
    Fund,
    Pledge,
    ProviderEvent,
    RefundRequest,
)
from medexchange.funding.money import format_money
from medexchange.funding.payments import (
    PaymentProvider,
    ProviderError,
    WebhookEvent,
    get_provider,
    online_provider,
)
from medexchange.funding.payments.stripe import from_minor
from medexchange.funding.permissions import is_finance_staff
from medexchange.funding.receipts import receipt_issue

logger = logging.getLogger(__name__)

D = DonationStatus
STRIPE = "stripe"
WAITING = "waiting: "
#: How many waiting events are tried again after each processed event.
RETRY_LIMIT = 50


class Waiting(Exception):
    """The event is about something the site does not know yet: try it again later."""


# --------------------------------------------------------------------------- donors


def verified_emails(user: Any) -> list[str]:
    """The user's e-mail addresses they proved they own (allauth), lower-cased."""
    if not user.is_authenticated:
        return []
    from allauth.account.models import EmailAddress

    return sorted(
        {
            address.lower()
            for address in EmailAddress.objects.filter(user=user, verified=True).values_list(
                "email", flat=True
            )
        }
    )


def donations_of(user: Any) -> DonationQuerySet:
    """A donor's own gifts: given while signed in, or given with one of their verified
    e-mail addresses (without an account, or before they had one)."""
    if not user.is_authenticated or not user.is_active:
        return Donation.objects.none()
    addresses = verified_emails(user)
    condition = Q(donor=user)
    if addresses:
        condition |= Q(donor__isnull=True, donor_email__in=addresses)
    return Donation.objects.filter(condition)


def pledges_of(user: Any) -> QuerySet[Pledge]:
    """A donor's own pledges (by account or verified e-mail address)."""
    if not user.is_authenticated or not user.is_active:
        return Pledge.objects.none()
    addresses = verified_emails(user)
    condition = Q(donor=user)
    if addresses:
        condition |= Q(donor__isnull=True, donor_email__in=addresses)
    return Pledge.objects.filter(condition)


# --------------------------------------------------------------------------- checkout


@dataclass(frozen=True)
class CheckoutStarted:
    donation: Donation
    url: str


def donation_checkout_start(
    *,
    fund: Fund,
    values: dict[str, Any],
    donor: Any,
    language: str,
    urls: Callable[[Donation], tuple[str, str]],
    provider: PaymentProvider | None = None,
) -> CheckoutStarted:
    """Record a pending online gift and open its checkout at the provider.

    ``values``: amount, currency, frequency, donor_name, donor_email, is_anonymous,
    dedication, memo. ``urls(donation)`` gives (success URL, cancel URL). The gift's
    amount in the fund's currency is fixed now, at today's recorded rate. Raises
    ``ValidationError`` (with field errors) for bad input, and when the provider cannot
    be reached (then the pending gift is marked failed: nothing was charged)."""
    provider = provider or online_provider()
    if provider is None:
        raise ValidationError(_("Online giving is not configured on this site."), code="off")
    signed_in = donor if donor is not None and donor.is_authenticated else None
    donation = services.donation_start(
        fund=fund,
        amount=values["amount"],
        currency=values["currency"],
        method=DonationMethod.ONLINE,
        donor=signed_in,
        donor_name=values.get("donor_name", ""),
        donor_email=values.get("donor_email", ""),
        is_anonymous=bool(values.get("is_anonymous")),
        language=language,
        frequency=values.get("frequency") or DonationFrequency.ONE_OFF,
        provider=provider.name,
        dedication=values.get("dedication", ""),
        memo=values.get("memo", ""),
        actor=signed_in,
    )
    success_url, cancel_url = urls(donation)
    try:
        checkout = provider.start_checkout(donation, success_url=success_url, cancel_url=cancel_url)
    except ProviderError as error:
        logger.warning("checkout of donation %s failed: %s", donation.pk, error.detail)
        services.donation_fail(donation=donation, reason=f"checkout not started: {error.detail}")
        raise ValidationError(error.message, code="provider") from error
    except ValidationError:
        services.donation_fail(donation=donation, reason="the provider cannot take this amount")
        raise
    with transaction.atomic():
        locked = Donation.objects.select_for_update().get(pk=donation.pk)
        locked.provider_reference = checkout.reference
        locked.save(update_fields=["provider_reference"])
        audit_record(
            actor=signed_in,
            action="donation.checkout_started",
            target=locked,
            data={"provider": provider.name, "reference": checkout.reference},
        )
    donation.provider_reference = checkout.reference
    return CheckoutStarted(donation=donation, url=checkout.url)


# --------------------------------------------------------------------------- webhooks


@dataclass(frozen=True)
class EventResult:
    """What became of one delivery: processed, duplicate, waiting, refused or ignored."""

    status: str
    outcome: str


def provider_event_receive(*, provider: str, event: WebhookEvent) -> EventResult:
    """Store a verified event once and process it (see the module's docstring)."""
    try:
        with transaction.atomic():
            row = ProviderEvent.objects.create(
                provider=provider, event_id=event.id, type=event.type, payload=event.payload
            )
    except IntegrityError:
        row = ProviderEvent.objects.get(provider=provider, event_id=event.id)
        if row.processed_at is not None:
            return EventResult("duplicate", row.outcome)
    result = _process(row.pk)
    if result.status != "waiting":
        _retry_waiting(provider, exclude=row.pk)
    return result


def _process(event_pk: int) -> EventResult:
    with transaction.atomic():
        row = ProviderEvent.objects.select_for_update().get(pk=event_pk)
        if row.processed_at is not None:
            return EventResult("duplicate", row.outcome)
        handler = HANDLERS.get(row.type)
        data = row.payload.get("data") if isinstance(row.payload, dict) else None
        obj = data.get("object") if isinstance(data, dict) else None
        if handler is None or not isinstance(obj, dict):
            status, outcome = "ignored", "ignored: not an event this site acts on"
        else:
            try:
                with transaction.atomic():
                    status, outcome = "processed", handler(obj)
            except Waiting as waiting:
                row.outcome = f"{WAITING}{waiting}"
                row.save(update_fields=["outcome"])
                return EventResult("waiting", row.outcome)
            except ValidationError as error:
                status, outcome = "refused", "refused: " + " ".join(error.messages)
                audit_record(
                    actor=None, action="provider_event.refused", target=row, reason=outcome
                )
        row.processed_at = timezone.now()
        row.outcome = outcome
        row.save(update_fields=["processed_at", "outcome"])
    return EventResult(status, outcome)


def _retry_waiting(provider: str, *, exclude: int) -> None:
    waiting = (
        ProviderEvent.objects.filter(
            provider=provider, processed_at__isnull=True, outcome__startswith=WAITING
        )
        .exclude(pk=exclude)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:RETRY_LIMIT]
    )
    for pk in list(waiting):
        _process(pk)


# --------------------------------------------------------------------------- matching


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _donation_named(value: Any) -> Donation | None:
    try:
        pk = int(str(value))
    except (TypeError, ValueError):
        return None
    return Donation.objects.filter(pk=pk, provider=STRIPE).select_related("fund", "donor").first()


def _session_donation(session: dict[str, Any]) -> Donation:
    """The gift a Checkout Session is for (its metadata, else its id)."""
    donation = _donation_named(_metadata(session).get("donation")) or _donation_named(
        session.get("client_reference_id")
    )
    session_id = session.get("id")
    if donation is None and isinstance(session_id, str) and session_id:
        donation = (
            Donation.objects.filter(provider=STRIPE, provider_reference=session_id)
            .select_related("fund", "donor")
            .first()
        )
    if donation is None:
        raise ValidationError(f"no gift for checkout session {session_id}")
    if donation.provider_reference and session_id and donation.provider_reference != session_id:
        raise ValidationError(
            f"gift {donation.pk} belongs to checkout session {donation.provider_reference}, "
            f"not {session_id}"
        )
    return donation


def _stored() -> QuerySet[ProviderEvent]:
    return ProviderEvent.objects.filter(provider=STRIPE, processed_at__isnull=False)


def _invoice_paid_by(payment_intent: str) -> str:
    """The invoice a PaymentIntent paid: on the invoice itself before API 2025-03-31, on
    the ``invoice_payment.paid`` event since."""
    for row in (
        _stored()
        .filter(type="invoice.paid", payload__data__object__payment_intent=payment_intent)
        .order_by("pk")[:1]
    ):
        return str(row.payload["data"]["object"].get("id") or "")
    for row in (
        _stored()
        .filter(
            type="invoice_payment.paid",
            payload__data__object__payment__payment_intent=payment_intent,
        )
        .order_by("pk")[:1]
    ):
        return str(row.payload["data"]["object"].get("invoice") or "")
    return ""


def _payment_of_invoice(invoice_id: str) -> str:
    """The PaymentIntent that paid an invoice, in either API shape."""
    for row in (
        _stored().filter(type="invoice.paid", payload__data__object__id=invoice_id).order_by("pk")
    ):
        value = row.payload["data"]["object"].get("payment_intent")
        if isinstance(value, str) and value:
            return value
    for row in (
        _stored()
        .filter(type="invoice_payment.paid", payload__data__object__invoice=invoice_id)
        .order_by("pk")
    ):
        payment = row.payload["data"]["object"].get("payment")
        value = payment.get("payment_intent") if isinstance(payment, dict) else None
        if isinstance(value, str) and value:
            return value
    return ""


def _invoice_donation(invoice_id: str) -> Donation | None:
    """The gift an invoice paid: a later month's gift is named by its invoice; the first
    month's is its checkout session's (the session names its first invoice, and the first
    invoice names the subscription of the pledge the checkout gift started)."""
    if not invoice_id:
        return None
    gifts = Donation.objects.filter(provider=STRIPE).select_related("fund", "donor")
    later = gifts.filter(provider_reference=invoice_id).first()
    if later is not None:
        return later
    for row in (
        _stored()
        .filter(type="checkout.session.completed", payload__data__object__invoice=invoice_id)
        .order_by("pk")[:1]
    ):
        session = row.payload["data"]["object"]
        return _donation_named(_metadata(session).get("donation")) or _donation_named(
            session.get("client_reference_id")
        )
    for row in (
        _stored()
        .filter(
            type="invoice.paid",
            payload__data__object__id=invoice_id,
            payload__data__object__billing_reason="subscription_create",
        )
        .order_by("pk")
    ):
        # Only the first invoice is the checkout gift's: a later invoice with no gift of
        # its own (refused, say, because the fund had closed) paid for no gift here.
        subscription = _subscription_id(row.payload["data"]["object"])
        if subscription:
            return gifts.filter(pledge__provider_reference=subscription).order_by("pk").first()
    return None


def _payment_donation(payment_intent: Any) -> Donation | None:
    """The gift paid by a PaymentIntent, from the completed checkouts and paid invoices
    stored so far."""
    if not isinstance(payment_intent, str) or not payment_intent:
        return None
    session = (
        _stored()
        .filter(
            type="checkout.session.completed",
            payload__data__object__payment_intent=payment_intent,
        )
        .order_by("pk")
        .first()
    )
    if session is not None:
        return _donation_named(
            _metadata(session.payload["data"]["object"]).get("donation")
        ) or _donation_named(session.payload["data"]["object"].get("client_reference_id"))
    return _invoice_donation(_invoice_paid_by(payment_intent))


def _check_amount(donation: Donation, obj: dict[str, Any], field: str) -> None:
    total = obj.get(field)
    currency = str(obj.get("currency") or "").upper()
    if total is None or not currency:
        return
    if currency != donation.currency or from_minor(total, currency) != donation.amount:
        raise ValidationError(
            f"paid {total} {currency}, but gift {donation.pk} is "
            f"{donation.amount} {donation.currency}"
        )


# --------------------------------------------------------------------------- handlers


def _received(donation: Donation) -> str:
    services.donation_succeed(donation=donation, received_on=timezone.localdate())
    receipt = receipt_issue(donation=donation)
    return f"gift {donation.pk} received, receipt {receipt.label}"


def _subscription_id(obj: dict[str, Any]) -> str:
    """A subscription's id on a session or an invoice, in every API version's shape."""
    value = obj.get("subscription")
    if isinstance(value, dict):
        value = value.get("id")
    if not value:
        parent = obj.get("parent") or {}
        details = parent.get("subscription_details") if isinstance(parent, dict) else None
        value = details.get("subscription") if isinstance(details, dict) else None
        if isinstance(value, dict):
            value = value.get("id")
    return value if isinstance(value, str) else ""


def _pledge_record(donation: Donation, subscription: str) -> Pledge:
    """The pledge of a monthly gift whose first payment went through."""
    existing = Pledge.objects.filter(provider=STRIPE, provider_reference=subscription).first()
    if existing is not None:
        return existing
    pledge = Pledge.objects.create(
        fund=donation.fund,
        donor=donation.donor,
        donor_name=donation.donor_name,
        donor_email=donation.donor_email,
        language=donation.language,
        amount=donation.amount,
        currency=donation.currency,
        frequency=PledgeFrequency.MONTHLY,
        status=PledgeStatus.ACTIVE,
        provider=STRIPE,
        provider_reference=subscription,
    )
    locked = Donation.objects.select_for_update().get(pk=donation.pk)
    locked.pledge = pledge
    locked.save(update_fields=["pledge"])
    audit_record(
        actor=None,
        action="pledge.started",
        target=pledge,
        to_state=PledgeStatus.ACTIVE,
        data={"donation": donation.pk, "subscription": subscription},
    )
    return pledge


def on_session_completed(session: dict[str, Any]) -> str:
    donation = _session_donation(session)
    _check_amount(donation, session, "amount_total")
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        return f"gift {donation.pk}: payment not yet confirmed (delayed payment method)"
    outcome = _received(donation)
    if session.get("mode") == "subscription":
        subscription = _subscription_id(session)
        if subscription:
            pledge = _pledge_record(donation, subscription)
            outcome += f", pledge {pledge.pk}"
    return outcome


def on_async_payment_succeeded(session: dict[str, Any]) -> str:
    donation = _session_donation(session)
    _check_amount(donation, session, "amount_total")
    return _received(donation)


def _fail(donation: Donation, reason: str) -> str:
    if donation.status in RECEIVED_STATUSES or donation.status == D.REFUNDED:
        return f"gift {donation.pk} was already received: left as it is"
    services.donation_fail(donation=donation, reason=reason)
    return f"gift {donation.pk} failed ({reason})"


def on_async_payment_failed(session: dict[str, Any]) -> str:
    return _fail(_session_donation(session), "the delayed payment failed")


def on_session_expired(session: dict[str, Any]) -> str:
    return _fail(_session_donation(session), "the checkout expired unpaid")


def on_payment_failed(intent: dict[str, Any]) -> str:
    donation = _donation_named(_metadata(intent).get("donation"))
    if donation is None:
        return "ignored: a payment of no gift of this site"
    error = intent.get("last_payment_error") or {}
    message = error.get("message") if isinstance(error, dict) else ""
    return _fail(donation, str(message or "the payment failed")[:500])


def on_charge_refunded(charge: dict[str, Any]) -> str:
    donation = _donation_named(_metadata(charge).get("donation")) or _payment_donation(
        charge.get("payment_intent")
    )
    if donation is None:
        raise Waiting(f"no received gift yet for payment {charge.get('payment_intent')}")
    donation.refresh_from_db()
    if donation.status not in RECEIVED_STATUSES and donation.status != D.REFUNDED:
        raise Waiting(f"gift {donation.pk} is not received yet")
    currency = str(charge.get("currency") or "").upper()
    if currency != donation.currency:
        raise ValidationError(f"refund in {currency} of a gift in {donation.currency}")
    refunded_in_all = from_minor(charge.get("amount_refunded") or 0, currency)
    with transaction.atomic():
        # What is already refunded is read under the fund's and the gift's locks (in the
        # services' order), so two refund events delivered at once never both count it.
        services.lock_funds([donation.fund_id])
        donation = Donation.objects.select_for_update().get(pk=donation.pk)
        new = refunded_in_all - donation.refunded_amount
        if new <= 0:
            return f"gift {donation.pk}: nothing new to refund"
        memo = f"refunded at Stripe ({charge.get('id')})"
        asked = selectors.pending_refund(donation)
        if asked is not None and asked.reason and asked.amount == new:
            # The reason finance staff gave when they asked (cut to fit a ledger memo).
            memo = f"{asked.reason[:1800]} — {memo}"
        services.donation_refund(donation=donation, amount=new, reason=memo)
    return f"gift {donation.pk}: {new} {currency} refunded"


def on_invoice_paid(invoice: dict[str, Any]) -> str:
    if invoice.get("billing_reason") == "subscription_create":
        return "first payment of a pledge: recorded with its checkout session"
    subscription = _subscription_id(invoice)
    if not subscription:
        return "ignored: an invoice of no subscription"
    pledge = (
        Pledge.objects.filter(provider=STRIPE, provider_reference=subscription)
        .select_related("fund", "donor")
        .first()
    )
    if pledge is None:
        raise Waiting(f"no pledge yet for subscription {subscription}")
    invoice_id = str(invoice.get("id") or "")
    already = Donation.objects.filter(provider=STRIPE, provider_reference=invoice_id).first()
    if already is not None:
        return f"invoice {invoice_id} already recorded as gift {already.pk}"
    currency = str(invoice.get("currency") or pledge.currency).upper()
    amount = from_minor(invoice.get("amount_paid") or 0, currency)
    if amount <= 0:
        return f"invoice {invoice_id}: nothing paid"
    first = pledge.donations.order_by("pk").first()
    donation = services.donation_start(
        fund=pledge.fund,
        amount=amount,
        currency=currency,
        method=DonationMethod.ONLINE,
        donor=pledge.donor,
        donor_name=pledge.donor_name,
        donor_email=pledge.donor_email,
        is_anonymous=first.is_anonymous if first is not None else False,
        language=pledge.language,
        frequency=DonationFrequency.MONTHLY,
        pledge=pledge,
        provider=STRIPE,
        provider_reference=invoice_id,
        dedication=first.dedication if first is not None else "",
        memo=first.memo if first is not None else "",
    )
    return _received(donation) + f" (pledge {pledge.pk})"


def on_invoice_payment_paid(invoice_payment: dict[str, Any]) -> str:
    """Kept: since API 2025-03-31 this is what ties an invoice to the PaymentIntent that
    paid it, so a later refund of that payment finds its gift."""
    payment = invoice_payment.get("payment")
    intent = payment.get("payment_intent") if isinstance(payment, dict) else None
    return f"invoice {invoice_payment.get('invoice')} paid by {intent or 'another kind of payment'}"


def on_subscription_deleted(subscription: dict[str, Any]) -> str:
    subscription_id = str(subscription.get("id") or "")
    pledge = Pledge.objects.filter(provider=STRIPE, provider_reference=subscription_id).first()
    if pledge is None:
        return f"ignored: no pledge for subscription {subscription_id}"
    if _pledge_stop(pledge, actor=None, reason="ended at Stripe"):
        return f"pledge {pledge.pk} cancelled"
    return f"pledge {pledge.pk} was already cancelled"


HANDLERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "checkout.session.completed": on_session_completed,
    "checkout.session.async_payment_succeeded": on_async_payment_succeeded,
    "checkout.session.async_payment_failed": on_async_payment_failed,
    "checkout.session.expired": on_session_expired,
    "payment_intent.payment_failed": on_payment_failed,
    "charge.refunded": on_charge_refunded,
    "invoice.paid": on_invoice_paid,
    "invoice_payment.paid": on_invoice_payment_paid,
    "customer.subscription.deleted": on_subscription_deleted,
}


# --------------------------------------------------------------------------- pledges


def _pledge_stop(pledge: Pledge, *, actor: Any, reason: str) -> bool:
    with transaction.atomic():
        locked = Pledge.objects.select_for_update().get(pk=pledge.pk)
        if locked.status == PledgeStatus.CANCELLED:
            return False
        source = locked.status
        locked.status = PledgeStatus.CANCELLED
        locked.cancelled_at = timezone.now()
        locked.save(update_fields=["status", "cancelled_at"])
        audit_record(
            actor=actor,
            action="pledge.cancelled",
            target=locked,
            from_state=source,
            to_state=PledgeStatus.CANCELLED,
            reason=reason,
        )
    pledge.status = locked.status
    pledge.cancelled_at = locked.cancelled_at
    return True


def pledge_cancel(*, pledge: Pledge, actor: Any) -> Pledge:
    """The donor (or the fund's finance staff) stops a monthly gift: at the provider
    first when it is configured (if that fails nothing changes here), then here."""
    own = pledges_of(actor).filter(pk=pledge.pk).exists()
    if not own and not is_finance_staff(actor, pledge.fund.network_id):
        raise PermissionDenied
    if pledge.status == PledgeStatus.CANCELLED:
        raise ValidationError(_("This pledge is already cancelled."), code="cancelled")
    if pledge.provider and pledge.provider_reference:
        provider = get_provider(pledge.provider)
        if provider.is_configured():
            try:
                provider.cancel_pledge(pledge)
            except ProviderError as error:
                raise ValidationError(error.message, code="provider") from error
    _pledge_stop(pledge, actor=actor, reason="cancelled by the donor" if own else "by staff")
    return pledge


# --------------------------------------------------------------------------- refunds


def payment_of(donation: Donation) -> str:
    """The provider's payment id (a PaymentIntent) of an online gift, from its events: a
    one-off gift's checkout names it; a monthly gift's invoice is paid by it (the first
    month's invoice is the one its checkout session names)."""
    reference = donation.provider_reference
    if not reference.startswith("cs_"):
        return _payment_of_invoice(reference)
    row = (
        _stored()
        .filter(
            type__in=["checkout.session.completed", "checkout.session.async_payment_succeeded"],
            payload__data__object__id=reference,
        )
        .order_by("pk")
        .first()
    )
    if row is None:
        return ""
    session = row.payload["data"]["object"]
    value = session.get("payment_intent")
    if isinstance(value, str) and value:
        return value
    invoice = session.get("invoice")
    if isinstance(invoice, dict):
        invoice = invoice.get("id")
    return _payment_of_invoice(invoice) if isinstance(invoice, str) and invoice else ""


def donation_refund_online(
    *,
    donation: Donation,
    amount: Any,
    actor: Any,
    reason: str,
    expected_refunded: Decimal | None = None,
) -> str:
    """Ask the provider to refund part or all of an online gift (finance staff). The
    ledger changes when the provider's refund event arrives; returns the refund's id.

    Refused beforehand when the fund could not give the money back (it is committed), so
    the provider never pays out what the ledger would then refuse; and while an earlier
    refund of the gift is not confirmed (both would be checked against the same ledger).
    The gift is locked while the provider is asked, and the request carries an
    idempotency key of the gift, what it had refunded and the amount."""
    if not is_finance_staff(actor, donation.fund.network_id):
        raise PermissionDenied
    uncertain: ProviderError | None = None
    with transaction.atomic():
        # Only the gift's row: the fund's is the webhook's to lock first (fund, then gift),
        # and is not held while the provider is asked.
        locked = Donation.objects.select_for_update().get(pk=donation.pk)
        clean_amount = services.refund_amount(locked, amount)
        services.refund_unchanged(locked, expected_refunded)
        waiting = selectors.pending_refund(locked)
        if waiting is not None:
            raise ValidationError(
                _(
                    "A refund of %(amount)s asked of the payment service at %(when)s is not "
                    "confirmed yet: wait for it (usually under a minute) before asking for "
                    "another."
                )
                % {
                    "amount": format_money(waiting.amount, locked.currency),
                    "when": date_format(
                        timezone.localtime(waiting.created_at), "SHORT_DATETIME_FORMAT"
                    ),
                },
                code="refund_pending",
            )
        services.refund_share(locked, locked.fund, clean_amount)
        payment = payment_of(locked)
        if not payment:
            raise ValidationError(
                _("The payment of this gift is not known here: refund it at the provider."),
                code="no_payment",
            )
        refunded = locked.refunded_amount
        key = f"medexchange-refund-{locked.pk}-{refunded}-{clean_amount}"
        provider = get_provider(locked.provider)
        try:
            refund = provider.refund(
                payment=payment,
                amount=clean_amount,
                currency=locked.currency,
                idempotency_key=key,
            )
        except ProviderError as error:
            if not error.uncertain:
                raise ValidationError(error.message, code="provider") from error
            # No answer: the refund may be on its way, so it is kept as pending (and
            # counted against the fund) until the ledger holds it or the day is over.
            uncertain, refund = error, ""
        RefundRequest.objects.create(
            donation=locked,
            amount=clean_amount,
            refunded_before=refunded,
            provider_refund=refund,
            reason=reason,
            requested_by=actor,
        )
        audit_record(
            actor=actor,
            action="donation.refund_uncertain" if uncertain else "donation.refund_requested",
            target=locked,
            reason=reason,
            data={"amount": str(clean_amount), "refund": refund},
        )
    if uncertain is not None:
        raise ValidationError(
            _(
                "%(error)s It is counted as asked: if the payment service made it, the fund's "
                "ledger shows it within minutes; if not, ask again tomorrow."
            )
            % {"error": uncertain.message},
            code="provider_uncertain",
        )
    return refund
