"""Every movement of a fund's money: validated, written to the ledger, audited.

Locking discipline: each movement runs in ``transaction.atomic()``, locks the fund's row
with ``select_for_update()`` first (funds in primary-key order when there are several),
then the donation or disbursement row it changes, re-derives the fund's balances from
the ledger, checks, and only then writes. So two movements of one fund never interleave,
and held ≥ committed ≥ 0 holds for every fund after every commit. Callers that lock rows
of their own (a scholarship award) lock them before calling these, never after.

Who may call: gifts recorded by hand, bank imports, rates, adjustments, commitments and
disbursements need finance staff (``permissions.is_finance_staff``). Services a payment
provider's webhook calls (``donation_succeed``/``fail``/``refund``) also accept
``actor=None`` (the system). ``commitment_release`` accepts any actor, or none: freeing
money is what happens automatically when a placement is withdrawn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from medexchange.common.services import audit_record
from medexchange.funding import selectors
from medexchange.funding.choices import (
    OFFLINE_METHODS,
    DisbursementStatus,
    DonationFrequency,
    DonationMethod,
    DonationStatus,
    FundPurpose,
    LedgerKind,
)
from medexchange.funding.models import (
    Commitment,
    Disbursement,
    Donation,
    ExchangeRate,
    Fund,
    LedgerEntry,
    ReceiptSequence,
    validate_em_statuses,
)
from medexchange.funding.money import (
    MAX_AMOUNT,
    check_amount,
    check_rate,
    convert,
    format_money,
    parse_amount,
    validate_currency,
)
from medexchange.funding.permissions import is_finance_staff
from medexchange.network.models import Network

ZERO = Decimal(0)
D = DonationStatus
DS = DisbursementStatus
K = LedgerKind
REASON_MAX_LENGTH = 2000
BANK_PROVIDER_PREFIX = "bank:"
#: Words of the funding pages' addresses a fund's short name cannot be.
#: Money dates before this year are typing mistakes (a receipt of fiscal year 1).
EARLIEST_YEAR = 1990
#: Words that are fixed path segments beside fund short names (/funding/<network>/<word>/).
RESERVED_SLUGS = frozenset(
    {"manage", "new", "import", "rates", "donate", "donations", "reports", "impact"}
)


class InsufficientFunds(ValidationError):
    """A commitment that does not fit in what the fund has available."""

    def __init__(self, *, fund: Fund, available: Decimal, requested: Decimal) -> None:
        self.fund = fund
        self.available = available
        self.requested = requested
        super().__init__(
            _("%(fund)s has %(available)s available, not enough to commit %(requested)s.")
            % {
                "fund": fund.name,
                "available": format_money(available, fund.currency),
                "requested": format_money(requested, fund.currency),
            },
            code="insufficient_funds",
        )


# --------------------------------------------------------------------------- helpers


def bank_provider(network: Network | int) -> str:
    """The ``provider`` of gifts from a network's bank account: ``bank:<network id>``, so
    one bank's reference never collides with another network's."""
    network_id = network.pk if isinstance(network, Network) else network
    return f"{BANK_PROVIDER_PREFIX}{network_id}"


def _person(actor: Any) -> Any:
    return actor if actor is not None and actor.is_authenticated else None


def _require_finance(actor: Any, network_id: int | None) -> None:
    if not is_finance_staff(actor, network_id):
        raise PermissionDenied


def _require_finance_or_system(actor: Any, network_id: int | None) -> None:
    if actor is not None and not is_finance_staff(actor, network_id):
        raise PermissionDenied


def _text(
    value: Any, field: str, *, max_length: int, required: bool = False, label: str = ""
) -> str:
    text = str(value or "").strip()
    if "\x00" in text:
        raise ValidationError({field: _("Null characters are not allowed.")}, code="null")
    if required and not text:
        raise ValidationError({field: label or _("This field is required.")}, code="required")
    if len(text) > max_length:
        raise ValidationError(
            {field: _("Keep it under %(limit)d characters.") % {"limit": max_length}},
            code="max_length",
        )
    return text


def _reason(value: Any, *, required: bool = False) -> str:
    return _text(
        value,
        "reason",
        max_length=REASON_MAX_LENGTH,
        required=required,
        label=_("Please give a reason."),
    )


def _amount(value: Any, currency: str, field: str = "amount", *, positive: bool = True) -> Decimal:
    """``value`` (a Decimal or typed text) as an amount of ``currency``, or a field error."""
    try:
        if isinstance(value, Decimal | int):
            return check_amount(value, currency, positive=positive)
        return parse_amount(value, currency, positive=positive)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from None


def _day(value: Any, field: str, *, label: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ValidationError({field: _("Give the date, e.g. 2026-03-31.")}, code="invalid_date")
    if value > timezone.localdate():
        raise ValidationError({field: label}, code="future_date")
    if value.year < EARLIEST_YEAR:
        raise ValidationError(
            {field: _("Give a date from %(year)d on.") % {"year": EARLIEST_YEAR}},
            code="too_early",
        )
    return value


def lock_funds(fund_ids: Iterable[int]) -> dict[int, Fund]:
    """Lock the rows of these funds in primary-key order (so two transactions never wait
    on each other in a circle) and return them fresh, by id."""
    ids = sorted(set(fund_ids))
    return {
        fund.pk: fund for fund in Fund.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }


def _lock_fund(fund_id: int) -> Fund:
    locked = lock_funds([fund_id])
    if fund_id not in locked:
        raise Fund.DoesNotExist
    return locked[fund_id]


def _entry(
    fund: Fund,
    kind: str,
    *,
    held: Decimal = ZERO,
    committed: Decimal = ZERO,
    actor: Any,
    memo: str = "",
    **links: Any,
) -> LedgerEntry:
    return LedgerEntry.objects.create(
        fund=fund,
        kind=kind,
        held_delta=held,
        committed_delta=committed,
        actor=_person(actor),
        memo=memo[:500],
        **links,
    )


def _check_balanced(fund: Fund) -> None:
    """The invariant, re-derived after a write: held ≥ committed ≥ 0 (else roll back)."""
    held, committed = selectors.balances(fund.pk)
    if committed < 0 or held < committed:
        raise ValidationError(
            _("This would leave %(fund)s with more committed than it holds.") % {"fund": fund.name},
            code="unbalanced",
        )


def _money(amount: Decimal, currency: str) -> str:
    return format_money(amount, currency)


# --------------------------------------------------------------------------- funds

FUND_FIELDS = (
    "slug",
    "name",
    "description",
    "purpose",
    "restriction",
    "eligible_em_statuses",
    "currency",
    "target",
    "is_public",
    "is_active",
)


def _fund_values(values: dict[str, Any], *, network: Network, fund: Fund | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for field in ("slug", "name", "description", "restriction"):
        limit = {"slug": 80, "name": 200, "description": 10000, "restriction": 2000}[field]
        try:
            cleaned[field] = _text(
                values.get(field, getattr(fund, field, "")),
                field,
                max_length=limit,
                required=field in {"slug", "name"},
            )
        except ValidationError as error:
            for message in error.message_dict[field]:
                add(field, message)
    slug = cleaned.get("slug", "")
    if slug and not all(c.isascii() and (c.isalnum() or c in "-_") for c in slug):
        add("slug", _("Use letters, digits and hyphens only, e.g. em-residents."))
    elif slug in RESERVED_SLUGS:
        add(
            "slug",
            _("“%(slug)s” is a word of the site's addresses: choose another.") % {"slug": slug},
        )
    elif slug:
        taken = Fund.objects.filter(network=network, slug=slug)
        if fund is not None:
            taken = taken.exclude(pk=fund.pk)
        if taken.exists():
            add("slug", _("Another fund of this network has this short name."))
    purpose = values.get("purpose", getattr(fund, "purpose", FundPurpose.GENERAL))
    if purpose not in FundPurpose.values:
        add("purpose", _("Choose general or restricted."))
    cleaned["purpose"] = purpose
    statuses = values.get("eligible_em_statuses", getattr(fund, "eligible_em_statuses", []))
    try:
        validate_em_statuses(statuses)
    except ValidationError as error:
        for message in error.messages:
            add("eligible_em_statuses", message)
    cleaned["eligible_em_statuses"] = list(statuses or [])
    if purpose == FundPurpose.RESTRICTED and not (
        cleaned.get("restriction") or cleaned["eligible_em_statuses"]
    ):
        add("restriction", _("Say what the money is restricted to."))
    currency = values.get("currency", getattr(fund, "currency", ""))
    try:
        validate_currency(currency)
    except ValidationError as error:
        for message in error.messages:
            add("currency", message)
    else:
        if (
            fund is not None
            and currency != fund.currency
            and LedgerEntry.objects.filter(fund=fund).exists()
        ):
            add("currency", _("The currency cannot change once money has moved in the fund."))
    cleaned["currency"] = currency
    target = values.get("target", getattr(fund, "target", None))
    if target in (None, ""):
        cleaned["target"] = None
    elif "currency" not in errors:
        try:
            cleaned["target"] = _amount(target, currency, "target")
        except ValidationError as error:
            for message in error.message_dict["target"]:
                add("target", message)
    for flag in ("is_public", "is_active"):
        cleaned[flag] = bool(values.get(flag, getattr(fund, flag, True)))
    if errors:
        raise ValidationError(errors)
    return cleaned


def fund_create(*, network: Network, actor: Any, values: dict[str, Any]) -> Fund:
    """A new fund of ``network``, by its finance staff."""
    _require_finance(actor, network.pk)
    cleaned = _fund_values(values, network=network, fund=None)
    with transaction.atomic():
        fund = Fund.objects.create(network=network, created_by=_person(actor), **cleaned)
        audit_record(
            actor=actor,
            action="fund.created",
            target=fund,
            to_state="active" if fund.is_active else "inactive",
            data={**{k: str(v) for k, v in cleaned.items()}, "network": network.pk},
        )
    return fund


def fund_update(*, fund: Fund, actor: Any, values: dict[str, Any]) -> Fund:
    """Change a fund's description, target or visibility (its currency only while its
    ledger is empty)."""
    _require_finance(actor, fund.network_id)
    cleaned = _fund_values(values, network=fund.network, fund=fund)
    with transaction.atomic():
        fund = _lock_fund(fund.pk)
        changed = {
            name: [str(getattr(fund, name)), str(value)]
            for name, value in cleaned.items()
            if getattr(fund, name) != value
        }
        for name, value in cleaned.items():
            setattr(fund, name, value)
        fund.save()
        if changed:
            audit_record(actor=actor, action="fund.updated", target=fund, data=changed)
    return fund


# --------------------------------------------------------------------------- rates


def exchange_rate_record(
    *,
    network: Network | None,
    from_currency: str,
    to_currency: str,
    rate: Any,
    on: dt.date,
    source: str = "",
    actor: Any,
) -> ExchangeRate:
    """Record that 1 ``from_currency`` was ``rate`` ``to_currency`` on ``on``. A network's
    finance staff record its own rates; platform-wide rates (``network=None``) are the
    superusers'. A later rate for the same day replaces the earlier one for conversions;
    both stay on record."""
    if network is None:
        if not (actor is not None and actor.is_authenticated and actor.is_superuser):
            raise PermissionDenied
    else:
        _require_finance(actor, network.pk)
    errors: dict[str, list[str]] = {}
    for field, code in (("from_currency", from_currency), ("to_currency", to_currency)):
        try:
            validate_currency(code)
        except ValidationError as error:
            errors[field] = error.messages
    if not errors and from_currency == to_currency:
        errors["to_currency"] = [_("Choose two different currencies.")]
    try:
        clean_rate = check_rate(rate)
    except ValidationError as error:
        errors["rate"] = error.messages
    try:
        day = _day(on, "on", label=_("Rates are recorded for today or an earlier day."))
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        clean_source = _text(source, "source", max_length=200)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        recorded = ExchangeRate.objects.create(
            network=network,
            from_currency=from_currency,
            to_currency=to_currency,
            rate=clean_rate,
            on=day,
            source=clean_source,
            recorded_by=_person(actor),
        )
        audit_record(
            actor=actor,
            action="exchange_rate.recorded",
            target=recorded,
            data={
                "network": network.pk if network else None,
                "from": from_currency,
                "to": to_currency,
                "rate": str(clean_rate),
                "on": day.isoformat(),
                "source": clean_source,
            },
        )
    return recorded


def _conversion(
    fund: Fund, amount: Decimal, currency: str, rate: Any, on: dt.date
) -> tuple[Decimal, Decimal | None]:
    """(amount in the fund's currency, rate used or None for the same currency)."""
    if currency == fund.currency:
        return amount, None
    if rate not in (None, ""):
        try:
            used = check_rate(rate)
        except ValidationError as error:
            raise ValidationError({"rate": error.messages}) from None
    else:
        found = selectors.rate_on(currency, fund.currency, on, network=fund.network)
        if found is None:
            raise ValidationError(
                {
                    "rate": _(
                        "No exchange rate from %(from)s to %(to)s is recorded for %(day)s or "
                        "earlier: give the rate used (1 %(from)s = ? %(to)s) or record it first."
                    )
                    % {"from": currency, "to": fund.currency, "day": on.isoformat()}
                },
                code="no_rate",
            )
        used = found
    converted = convert(amount, currency, fund.currency, used)
    if converted > MAX_AMOUNT:
        raise ValidationError(
            {
                "amount": _("In %(currency)s this amount is too large.")
                % {"currency": fund.currency}
            },
            code="too_large",
        )
    if converted <= 0:
        raise ValidationError(
            {
                "amount": _("In %(currency)s this amount rounds to zero.")
                % {"currency": fund.currency}
            },
            code="rounds_to_zero",
        )
    return converted, used


# --------------------------------------------------------------------------- money in


def _donor_fields(donor_name: Any, donor_email: Any) -> tuple[str, str]:
    name = _text(donor_name, "donor_name", max_length=200)
    email = _text(donor_email, "donor_email", max_length=254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError(
                {"donor_email": _("Enter a valid e-mail address, or leave it empty.")}
            ) from None
    return name, email.lower()


def _collect(errors: dict[str, list[str]], work: Any) -> Any:
    """Run ``work``; on a ValidationError add its messages to ``errors`` and return None."""
    try:
        return work()
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                errors.setdefault(field, []).extend(messages)
        else:
            errors.setdefault("__all__", []).extend(error.messages)
        return None


def donation_record_offline(
    *,
    fund: Fund,
    amount: Any,
    currency: str,
    method: str,
    donor_name: str,
    donor_email: str,
    memo: str,
    received_on: dt.date,
    rate: Any = None,
    actor: Any,
    reference: str = "",
    is_anonymous: bool = False,
    dedication: str = "",
    language: str = "en",
) -> Donation:
    """A cheque, bank transfer or cash gift, recorded by the fund's finance staff: the
    money is in the fund at once. A gift in another currency is converted at ``rate``
    or, without one, at the rate recorded for ``received_on`` (or the latest before).
    A bank ``reference`` is remembered so the same transfer is never recorded twice."""
    _require_finance(actor, fund.network_id)
    errors: dict[str, list[str]] = {}
    if method not in OFFLINE_METHODS:
        errors["method"] = [_("Choose cheque, bank transfer, cash or other.")]
    currency_ok = _collect(errors, lambda: _currency(currency)) is not None
    clean_amount = _collect(errors, lambda: _amount(amount, currency)) if currency_ok else None
    day = _collect(
        errors,
        lambda: _day(
            received_on, "received_on", label=_("A gift cannot be received in the future.")
        ),
    )
    donor = _collect(errors, lambda: _donor_fields(donor_name, donor_email))
    clean_memo = _collect(errors, lambda: _text(memo, "memo", max_length=500))
    clean_dedication = _collect(errors, lambda: _text(dedication, "dedication", max_length=300))
    clean_reference = _collect(errors, lambda: _text(reference, "reference", max_length=200))
    if not fund.is_active:
        errors.setdefault("__all__", []).append(_("This fund is closed to new gifts."))
    converted: tuple[Decimal, Decimal | None] | None = None
    if clean_amount is not None and day is not None:
        converted = _collect(errors, lambda: _conversion(fund, clean_amount, currency, rate, day))
    provider = bank_provider(fund.network_id) if clean_reference else ""
    if (
        clean_reference
        and Donation.objects.filter(provider=provider, provider_reference=clean_reference).exists()
    ):
        errors.setdefault("reference", []).append(_duplicate_message(clean_reference))
    if errors or converted is None or donor is None or clean_amount is None:
        raise ValidationError(errors)
    fund_amount, used_rate = converted
    with transaction.atomic():
        return _record_received(
            fund=fund,
            actor=actor,
            amount=clean_amount,
            currency=currency,
            fund_amount=fund_amount,
            rate=used_rate,
            method=method,
            donor_name=donor[0],
            donor_email=donor[1],
            memo=clean_memo or "",
            received_on=day,
            provider=provider,
            reference=clean_reference or "",
            is_anonymous=bool(is_anonymous),
            dedication=clean_dedication or "",
            language=language,
        )


def _currency(code: str) -> str:
    try:
        validate_currency(code)
    except ValidationError as error:
        raise ValidationError({"currency": error.messages}) from None
    return code


def _duplicate_message(reference: str) -> str:
    return _("A gift with the bank reference %(reference)s is already recorded.") % {
        "reference": reference
    }


def _record_received(
    *,
    fund: Fund,
    actor: Any,
    amount: Decimal,
    currency: str,
    fund_amount: Decimal,
    rate: Decimal | None,
    method: str,
    donor_name: str,
    donor_email: str,
    memo: str,
    received_on: dt.date | None,
    provider: str,
    reference: str,
    is_anonymous: bool,
    dedication: str,
    language: str,
    action: str = "donation.recorded",
    audit_data: dict[str, Any] | None = None,
) -> Donation:
    """Write one received gift and its ledger entry (inside the caller's transaction)."""
    locked = _lock_fund(fund.pk)
    try:
        with transaction.atomic():
            donation = Donation.objects.create(
                fund=locked,
                donor_name=donor_name,
                donor_email=donor_email,
                is_anonymous=is_anonymous,
                language=language or "en",
                amount=amount,
                currency=currency,
                fund_amount=fund_amount,
                rate=rate,
                method=method,
                status=D.SUCCEEDED,
                provider=provider,
                provider_reference=reference,
                dedication=dedication,
                memo=memo,
                received_on=received_on,
                recorded_by=_person(actor),
            )
    except IntegrityError:
        raise ValidationError({"reference": _duplicate_message(reference)}) from None
    _entry(
        locked,
        K.DONATION,
        held=fund_amount,
        actor=actor,
        memo=memo,
        donation=donation,
        source_amount=amount,
    )
    audit_record(
        actor=actor,
        action=action,
        target=donation,
        to_state=D.SUCCEEDED,
        data={
            "fund": locked.pk,
            "amount": str(amount),
            "currency": currency,
            "fund_amount": str(fund_amount),
            "rate": str(rate) if rate is not None else None,
            "method": method,
            "reference": reference,
            **(audit_data or {}),
        },
    )
    return donation


def donation_start(
    *,
    fund: Fund,
    amount: Any,
    currency: str,
    method: str = DonationMethod.ONLINE,
    donor: Any = None,
    donor_name: str = "",
    donor_email: str = "",
    is_anonymous: bool = False,
    language: str = "en",
    frequency: str = DonationFrequency.ONE_OFF,
    pledge: Any = None,
    provider: str = "",
    provider_reference: str = "",
    dedication: str = "",
    memo: str = "",
    rate: Any = None,
    actor: Any = None,
) -> Donation:
    """A gift on its way (an online payment): pending, not yet in the ledger. The
    amount in the fund's currency is fixed now (today's recorded rate, or ``rate``)."""
    errors: dict[str, list[str]] = {}
    currency_ok = _collect(errors, lambda: _currency(currency)) is not None
    clean_amount = _collect(errors, lambda: _amount(amount, currency)) if currency_ok else None
    names = _collect(errors, lambda: _donor_fields(donor_name, donor_email))
    clean_dedication = _collect(errors, lambda: _text(dedication, "dedication", max_length=300))
    clean_memo = _collect(errors, lambda: _text(memo, "memo", max_length=500))
    if frequency not in DonationFrequency.values:
        errors["frequency"] = [_("Choose how often you give.")]
    if not fund.is_active:
        errors.setdefault("__all__", []).append(_("This fund is closed to new gifts."))
    converted = None
    if clean_amount is not None:
        converted = _collect(
            errors, lambda: _conversion(fund, clean_amount, currency, rate, timezone.localdate())
        )
    if errors or converted is None or names is None:
        raise ValidationError(errors)
    fund_amount, used_rate = converted
    with transaction.atomic():
        donation = Donation.objects.create(
            fund=fund,
            donor=_person(donor),
            donor_name=names[0],
            donor_email=names[1],
            is_anonymous=bool(is_anonymous),
            language=language or "en",
            amount=clean_amount,
            currency=currency,
            fund_amount=fund_amount,
            rate=used_rate,
            method=method,
            status=D.PENDING,
            frequency=frequency,
            pledge=pledge,
            provider=provider,
            provider_reference=provider_reference,
            dedication=clean_dedication or "",
            memo=clean_memo or "",
        )
        audit_record(
            actor=actor,
            action="donation.started",
            target=donation,
            to_state=D.PENDING,
            data={"fund": fund.pk, "amount": str(clean_amount), "currency": currency},
        )
    return donation


def _lock_donation(donation: Donation) -> tuple[Fund, Donation]:
    fund = _lock_fund(donation.fund_id)
    locked = Donation.objects.select_for_update().get(pk=donation.pk)
    return fund, locked


def _move(
    locked: Donation | Disbursement,
    to: str,
    *,
    actor: Any,
    action: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
    **values: Any,
) -> None:
    """The one way a gift's or a payment's status changes (with the fields that go with
    it), audited from where it was to where it goes."""
    source = locked.status
    locked.status = to
    for name, value in values.items():
        setattr(locked, name, value)
    locked.save(update_fields=["status", *values])
    audit_record(
        actor=actor,
        action=action,
        target=locked,
        from_state=source,
        to_state=to,
        reason=reason,
        data=data,
    )


def _sync(target: Any, source: Any, *fields: str) -> None:
    for name in fields:
        setattr(target, name, getattr(source, name))


def donation_succeed(
    *, donation: Donation, actor: Any = None, received_on: dt.date | None = None
) -> Donation:
    """The provider says the money arrived: the gift enters the fund's ledger. Doing it
    again for a gift already received changes nothing."""
    _require_finance_or_system(actor, donation.fund.network_id)
    with transaction.atomic():
        fund, locked = _lock_donation(donation)
        if locked.status in (D.SUCCEEDED, D.PARTIALLY_REFUNDED, D.REFUNDED):
            _sync(donation, locked, "status", "received_on")
            return donation
        _move(
            locked,
            D.SUCCEEDED,
            actor=actor,
            action="donation.succeeded",
            data={"fund_amount": str(locked.fund_amount)},
            received_on=received_on or locked.received_on or timezone.localdate(),
        )
        _entry(
            fund,
            K.DONATION,
            held=locked.fund_amount,
            actor=actor,
            memo=locked.memo,
            donation=locked,
            source_amount=locked.amount,
        )
    _sync(donation, locked, "status", "received_on")
    return donation


def donation_fail(*, donation: Donation, actor: Any = None, reason: str = "") -> Donation:
    """The payment did not go through: nothing enters the ledger."""
    _require_finance_or_system(actor, donation.fund.network_id)
    clean_reason = _reason(reason)
    with transaction.atomic():
        _fund, locked = _lock_donation(donation)
        if locked.status == D.FAILED:
            _sync(donation, locked, "status")
            return donation
        if locked.status != D.PENDING:
            raise ValidationError(
                _("This gift was received: refund it instead."), code="invalid_transition"
            )
        _move(locked, D.FAILED, actor=actor, action="donation.failed", reason=clean_reason)
    _sync(donation, locked, "status")
    return donation


def refund_unchanged(donation: Donation, expected_refunded: Decimal | None) -> None:
    """Refuse a refund asked on a page that showed another refunded total than the gift has
    now: the same form sent twice, or two people refunding at once, give back once."""
    if expected_refunded is None:
        return
    refunded = donation.refunded_amount
    if refunded != expected_refunded:
        raise ValidationError(
            _(
                "This gift changed since the page was opened: %(refunded)s of it is refunded "
                "now. Check the amount and try again."
            )
            % {"refunded": _money(refunded, donation.currency)},
            code="changed",
        )


def refund_amount(donation: Donation, value: Any) -> Decimal:
    """``value`` as an amount of the gift's currency that may still be refunded."""
    if donation.status not in (D.SUCCEEDED, D.PARTIALLY_REFUNDED):
        raise ValidationError(_("Only a received gift can be refunded."), code="invalid_transition")
    amount = _amount(value, donation.currency)
    left = donation.amount - donation.refunded_amount
    if amount > left:
        raise ValidationError(
            {
                "amount": _("At most %(left)s of this gift can still be refunded.")
                % {"left": _money(left, donation.currency)}
            },
            code="above_refundable",
        )
    return amount


def refund_share(donation: Donation, fund: Fund, amount: Decimal) -> Decimal:
    """What refunding ``amount`` (in the gift's currency) takes from the fund: its share at
    the gift's own rate, all that is left of it on the last refund. Refused when it rounds
    to nothing or when the fund has not that much free of commitments."""
    left = donation.amount - donation.refunded_amount
    fund_left = donation.fund_amount - donation.refunded_fund_amount
    if amount == left:
        share = fund_left
    else:
        share = min(convert(amount, donation.currency, fund.currency, donation.rate), fund_left)
    if share <= 0:
        raise ValidationError(
            {
                "amount": _(
                    "This refund is too small to take from the fund at the gift's exchange "
                    "rate: give a larger amount, or refund all that is left."
                )
            },
            code="rounds_to_zero",
        )
    # The gift's own pending refund is the one this may be confirming.
    held, committed = selectors.balances_to_count_on(fund.pk, exclude_donation=donation.pk)
    if held - share < committed:
        raise ValidationError(
            {
                "amount": _(
                    "%(fund)s has only %(available)s not committed: release commitments "
                    "before refunding %(share)s."
                )
                % {
                    "fund": fund.name,
                    "available": _money(held - committed, fund.currency),
                    "share": _money(share, fund.currency),
                }
            },
            code="insufficient_funds",
        )
    return share


def donation_refund(
    *,
    donation: Donation,
    amount: Any,
    actor: Any = None,
    reason: str,
    expected_refunded: Decimal | None = None,
) -> Donation:
    """Give back part or all of a received gift. ``amount`` is in the currency given;
    the fund gives back its share at the gift's own rate (the last refund takes exactly
    what is left). Never more than what is left, and never more than the fund has free:
    release commitments first. With ``expected_refunded`` (what the person saw refunded),
    refused when the gift's refunds changed meanwhile."""
    _require_finance_or_system(actor, donation.fund.network_id)
    clean_reason = _reason(reason)
    _amount(amount, donation.currency)  # a typing mistake is told before any lock
    with transaction.atomic():
        fund, locked = _lock_donation(donation)
        clean_amount = refund_amount(locked, amount)
        refund_unchanged(locked, expected_refunded)
        share = refund_share(locked, fund, clean_amount)
        last = clean_amount == locked.amount - locked.refunded_amount
        _move(
            locked,
            D.REFUNDED if last else D.PARTIALLY_REFUNDED,
            actor=actor,
            action="donation.refunded",
            reason=clean_reason,
            data={"amount": str(clean_amount), "fund_amount": str(share)},
        )
        _entry(
            fund,
            K.REFUND,
            held=-share,
            actor=actor,
            memo=clean_reason,
            donation=locked,
            source_amount=clean_amount,
        )
        _check_balanced(fund)
    _sync(donation, locked, "status")
    return donation


def fund_adjust(*, fund: Fund, amount: Any, actor: Any, reason: str) -> LedgerEntry:
    """Correct the money held (bank fees, an error found in a reconciliation): plus or
    minus, with a reason; never below what is committed."""
    _require_finance(actor, fund.network_id)
    clean_reason = _reason(reason, required=True)
    clean_amount = _amount(amount, fund.currency, positive=False)
    if clean_amount == 0:
        raise ValidationError({"amount": _("An adjustment is not zero.")}, code="zero")
    with transaction.atomic():
        locked = _lock_fund(fund.pk)
        held, committed = selectors.balances_to_count_on(locked.pk)
        if held + clean_amount < committed:
            raise ValidationError(
                {
                    "amount": _("%(fund)s would hold less than it has committed (%(committed)s).")
                    % {"fund": locked.name, "committed": _money(committed, locked.currency)}
                },
                code="insufficient_funds",
            )
        entry = _entry(locked, K.ADJUSTMENT, held=clean_amount, actor=actor, memo=clean_reason)
        _check_balanced(locked)
        audit_record(
            actor=actor,
            action="fund.adjusted",
            target=locked,
            reason=clean_reason,
            data={"amount": str(clean_amount), "entry": entry.pk},
        )
    return entry


# --------------------------------------------------------------------------- money out


def commitment_reserve(*, fund: Fund, amount: Any, purpose: str, actor: Any) -> Commitment:
    """Reserve ``amount`` (in the fund's currency) for ``purpose``. The fund's row is
    locked, then its available amount re-derived from the ledger: if it does not cover
    the amount, ``InsufficientFunds`` is raised and nothing is written."""
    _require_finance(actor, fund.network_id)
    clean_amount = _amount(amount, fund.currency)
    clean_purpose = _text(
        purpose, "purpose", max_length=300, required=True, label=_("Say what it is for.")
    )
    with transaction.atomic():
        locked = _lock_fund(fund.pk)
        held, committed = selectors.balances_to_count_on(locked.pk)
        available = held - committed
        if clean_amount > available:
            raise InsufficientFunds(fund=locked, available=available, requested=clean_amount)
        commitment = Commitment.objects.create(
            fund=locked, amount=clean_amount, purpose=clean_purpose, created_by=_person(actor)
        )
        _entry(
            locked,
            K.COMMITMENT,
            committed=clean_amount,
            actor=actor,
            memo=clean_purpose,
            commitment=commitment,
        )
        _check_balanced(locked)
        audit_record(
            actor=actor,
            action="commitment.reserved",
            target=commitment,
            to_state="reserved",
            data={"fund": locked.pk, "amount": str(clean_amount), "available": str(available)},
        )
    return commitment


def _planned(commitment_id: int) -> Decimal:
    total = Disbursement.objects.filter(commitment_id=commitment_id, status=DS.PLANNED).aggregate(
        total=Sum("amount")
    )["total"]
    return Decimal(total or 0)


def commitment_release(
    *, commitment: Commitment, amount: Any = None, actor: Any, reason: str
) -> Decimal:
    """Give back to the fund's available money part (``amount``) or all (``None``) of
    what is outstanding on ``commitment``, except what planned disbursements still
    need (cancel those first). Returns the amount released: 0 when ``amount`` is None
    and nothing is left to release (then nothing is written)."""
    clean_reason = _reason(reason)
    fund = commitment.fund
    clean_amount = None if amount is None else _amount(amount, fund.currency)
    with transaction.atomic():
        locked = _lock_fund(commitment.fund_id)
        outstanding = selectors.commitment_outstanding(commitment)
        planned = _planned(commitment.pk)
        releasable = outstanding - planned
        if clean_amount is None:
            if releasable <= 0:
                return ZERO
            clean_amount = releasable
        elif clean_amount > outstanding:
            raise ValidationError(
                {
                    "amount": _("Only %(outstanding)s is outstanding on this commitment.")
                    % {"outstanding": _money(outstanding, locked.currency)}
                },
                code="above_outstanding",
            )
        elif clean_amount > releasable:
            raise ValidationError(
                {
                    "amount": _(
                        "%(planned)s of this commitment is planned for disbursement: cancel "
                        "those disbursements first, or release at most %(releasable)s."
                    )
                    % {
                        "planned": _money(planned, locked.currency),
                        "releasable": _money(max(releasable, ZERO), locked.currency),
                    }
                },
                code="planned_disbursements",
            )
        _entry(
            locked,
            K.RELEASE,
            committed=-clean_amount,
            actor=actor,
            memo=clean_reason,
            commitment=commitment,
        )
        _check_balanced(locked)
        audit_record(
            actor=actor,
            action="commitment.released",
            target=commitment,
            reason=clean_reason,
            data={"amount": str(clean_amount), "outstanding": str(outstanding - clean_amount)},
        )
    return clean_amount


def disbursement_plan(
    *,
    commitment: Commitment,
    amount: Any,
    actor: Any,
    reference: str = "",
    note: str = "",
) -> Disbursement:
    """Plan a payment out of ``commitment`` (no money moves yet); the planned payments of
    a commitment never exceed what is outstanding on it."""
    fund = commitment.fund
    _require_finance(actor, fund.network_id)
    clean_amount = _amount(amount, fund.currency)
    clean_reference = _text(reference, "reference", max_length=200)
    clean_note = _text(note, "note", max_length=2000)
    with transaction.atomic():
        locked = _lock_fund(commitment.fund_id)
        outstanding = selectors.commitment_outstanding(commitment)
        room = outstanding - _planned(commitment.pk)
        if clean_amount > room:
            raise ValidationError(
                {
                    "amount": _("At most %(room)s of this commitment can still be planned.")
                    % {"room": _money(max(room, ZERO), locked.currency)}
                },
                code="above_outstanding",
            )
        disbursement = Disbursement.objects.create(
            commitment=commitment,
            amount=clean_amount,
            reference=clean_reference,
            note=clean_note,
            created_by=_person(actor),
        )
        audit_record(
            actor=actor,
            action="disbursement.planned",
            target=disbursement,
            to_state=DS.PLANNED,
            data={"commitment": commitment.pk, "amount": str(clean_amount)},
        )
    return disbursement


def _lock_disbursement(disbursement: Disbursement) -> tuple[Fund, Disbursement]:
    fund_id = Commitment.objects.filter(pk=disbursement.commitment_id).values_list(
        "fund_id", flat=True
    )[0]
    fund = _lock_fund(fund_id)
    locked = (
        Disbursement.objects.select_for_update()
        .select_related("commitment")
        .get(pk=disbursement.pk)
    )
    return fund, locked


def _wrong_status(disbursement: Disbursement, wanted: str) -> ValidationError:
    return ValidationError(
        _("This disbursement is “%(status)s”; only a “%(wanted)s” one can be changed this way.")
        % {"status": DS(disbursement.status).label, "wanted": DS(wanted).label},
        code="invalid_transition",
    )


def disbursement_pay(
    *,
    disbursement: Disbursement,
    actor: Any,
    paid_on: dt.date | None = None,
    reference: str | None = None,
) -> Disbursement:
    """The planned payment went out: held -amount, committed -amount. A ``reference``
    (the bank's, of the payment) replaces the planned one; empty keeps it."""
    _require_finance(actor, disbursement.commitment.fund.network_id)
    day = _day(
        paid_on or timezone.localdate(),
        "paid_on",
        label=_("A payment cannot be made in the future."),
    )
    clean_reference = None if reference is None else _text(reference, "reference", max_length=200)
    with transaction.atomic():
        fund, locked = _lock_disbursement(disbursement)
        if locked.status != DS.PLANNED:
            raise _wrong_status(locked, DS.PLANNED)
        outstanding = selectors.commitment_outstanding(locked.commitment)
        if locked.amount > outstanding:
            raise ValidationError(
                {
                    "amount": _("Only %(outstanding)s is outstanding on this commitment.")
                    % {"outstanding": _money(outstanding, fund.currency)}
                },
                code="above_outstanding",
            )
        _move(
            locked,
            DS.PAID,
            actor=actor,
            action="disbursement.paid",
            data={"amount": str(locked.amount), "paid_on": day.isoformat()},
            paid_on=day,
            **({"reference": clean_reference} if clean_reference else {}),
        )
        _entry(
            fund,
            K.DISBURSEMENT,
            held=-locked.amount,
            committed=-locked.amount,
            actor=actor,
            memo=locked.reference,
            commitment=locked.commitment,
            disbursement=locked,
        )
        _check_balanced(fund)
    _sync(disbursement, locked, "status", "paid_on", "reference")
    return disbursement


def disbursement_return(
    *,
    disbursement: Disbursement,
    actor: Any,
    returned_on: dt.date | None = None,
    reason: str = "",
) -> Disbursement:
    """Paid money came back (a cancelled flight, an unused stipend): held +amount; it is
    available again, not committed."""
    _require_finance(actor, disbursement.commitment.fund.network_id)
    clean_reason = _reason(reason)
    day = _day(
        returned_on or timezone.localdate(),
        "returned_on",
        label=_("Money cannot come back in the future."),
    )
    with transaction.atomic():
        fund, locked = _lock_disbursement(disbursement)
        if locked.status != DS.PAID:
            raise _wrong_status(locked, DS.PAID)
        if locked.paid_on is not None and day < locked.paid_on:
            raise ValidationError(
                {"returned_on": _("Money cannot come back before it was paid.")},
                code="before_paid",
            )
        _move(
            locked,
            DS.RETURNED,
            actor=actor,
            action="disbursement.returned",
            reason=clean_reason,
            data={"amount": str(locked.amount), "returned_on": day.isoformat()},
            returned_on=day,
        )
        _entry(
            fund,
            K.RETURN,
            held=locked.amount,
            actor=actor,
            memo=clean_reason,
            commitment=locked.commitment,
            disbursement=locked,
        )
    _sync(disbursement, locked, "status", "returned_on")
    return disbursement


def disbursement_cancel(
    *, disbursement: Disbursement, actor: Any, reason: str = ""
) -> Disbursement:
    """A planned payment will not be made; its money stays committed (release it to free it)."""
    _require_finance(actor, disbursement.commitment.fund.network_id)
    clean_reason = _reason(reason)
    with transaction.atomic():
        _fund, locked = _lock_disbursement(disbursement)
        if locked.status != DS.PLANNED:
            raise _wrong_status(locked, DS.PLANNED)
        _move(
            locked, DS.CANCELLED, actor=actor, action="disbursement.cancelled", reason=clean_reason
        )
    _sync(disbursement, locked, "status")
    return disbursement


# --------------------------------------------------------------------------- receipts


def receipt_number_take(*, fiscal_year: int) -> int:
    """The next receipt number of ``fiscal_year`` (1, 2, 3 …), taken under a row lock.

    Call it inside the transaction that creates the receipt: if that rolls back, so
    does the number, so the numbers of a year have no gaps and no repeats."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                ReceiptSequence.objects.get_or_create(fiscal_year=fiscal_year)
        except IntegrityError:
            pass  # another transaction created the year's row first; lock theirs
        sequence = ReceiptSequence.objects.select_for_update().get(fiscal_year=fiscal_year)
        sequence.last_number += 1
        sequence.save(update_fields=["last_number"])
        return sequence.last_number


# --------------------------------------------------------------------------- bank import


def bank_import_preview(
    *,
    fund_or_network: Fund | Network,
    csv_file: Any,
    actor: Any,
    default_fund: Fund | None = None,
) -> Any:
    """Read a bank CSV and say, row by row, what committing it would do (nothing is
    written). See ``bank_import`` for the format."""
    from medexchange.funding import bank_import

    network = _import_network(fund_or_network)
    _require_finance(actor, network.pk)
    return bank_import.preview(
        network=network,
        content=bank_import.read_upload(csv_file),
        only_fund=fund_or_network if isinstance(fund_or_network, Fund) else None,
        default_fund=default_fund,
    )


def bank_import_commit(
    *,
    fund_or_network: Fund | Network,
    csv_file: Any,
    actor: Any,
    default_fund: Fund | None = None,
    expected: Iterable[int] | None = None,
) -> Any:
    """Record every OK row of the file at once, or nothing. Rows whose bank reference is
    already recorded are skipped as duplicates; rows with errors are not recorded.
    ``expected`` (the lines the person saw as OK in the preview): if the file now gives
    other OK lines, nothing is recorded and the new preview is raised as an error."""
    from medexchange.funding import bank_import

    network = _import_network(fund_or_network)
    _require_finance(actor, network.pk)
    return bank_import.commit(
        network=network,
        content=bank_import.read_upload(csv_file),
        only_fund=fund_or_network if isinstance(fund_or_network, Fund) else None,
        default_fund=default_fund,
        actor=actor,
        expected=None if expected is None else set(expected),
        record=_record_received,
    )


def _import_network(fund_or_network: Fund | Network) -> Network:
    if isinstance(fund_or_network, Fund):
        return fund_or_network.network
    if isinstance(fund_or_network, Network):
        return fund_or_network
    raise TypeError("Import into a Fund or a Network.")


__all__ = [
    "InsufficientFunds",
    "bank_import_commit",
    "bank_import_preview",
    "bank_provider",
    "commitment_release",
    "commitment_reserve",
    "disbursement_cancel",
    "disbursement_pay",
    "disbursement_plan",
    "disbursement_return",
    "donation_fail",
    "donation_record_offline",
    "donation_refund",
    "donation_start",
    "donation_succeed",
    "exchange_rate_record",
    "fund_adjust",
    "fund_create",
    "fund_update",
    "lock_funds",
    "receipt_number_take",
    "refund_amount",
    "refund_share",
    "refund_unchanged",
]
