"""Funds and every movement of their money, in one append-only ledger.

A fund's balance, commitments and available amount are never stored: ``selectors``
derive them from ``LedgerEntry`` rows (held = Σ held_delta, committed = Σ
committed_delta, available = held - committed). Rows are written only by
``services``, which lock the fund row first. Amounts are ``Decimal`` in the currency
named next to them (``money``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medexchange.funding.choices import (
    LEDGER_SIGNS,
    DisbursementStatus,
    DonationFrequency,
    DonationMethod,
    DonationStatus,
    FundPurpose,
    LedgerKind,
    PledgeFrequency,
    PledgeStatus,
    ReceiptKind,
)
from medexchange.funding.money import (
    AMOUNT_DECIMAL_PLACES,
    AMOUNT_MAX_DIGITS,
    RATE_DECIMAL_PLACES,
    RATE_MAX_DIGITS,
    quantize,
    validate_currency,
)
from medexchange.network.choices import EmStatus

ZERO = Decimal(0)


def amount_field(verbose_name: Any, **kwargs: Any) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,
        max_digits=AMOUNT_MAX_DIGITS,
        decimal_places=AMOUNT_DECIMAL_PLACES,
        **kwargs,
    )


def currency_field(verbose_name: Any = None, **kwargs: Any) -> models.CharField:
    return models.CharField(
        verbose_name or _("currency"),
        max_length=3,
        validators=[validate_currency],
        help_text=kwargs.pop("help_text", _("Three-letter ISO 4217 code, e.g. EUR.")),
        **kwargs,
    )


def _amount_output() -> DecimalField:
    return DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES)


def validate_em_statuses(value: Any) -> None:
    """A list of Emergency Medicine statuses of countries (``[]`` means any country)."""
    known = {status for status in EmStatus.values if status}
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(_("Give a list of statuses."), code="invalid")
    unknown = [item for item in value if item not in known]
    if unknown:
        raise ValidationError(
            _("Unknown Emergency Medicine status: %(values)s."),
            code="unknown_status",
            params={"values": ", ".join(unknown)},
        )
    if len(set(value)) != len(value):
        raise ValidationError(_("A status is listed twice."), code="duplicate")


# --------------------------------------------------------------------------- funds


class FundQuerySet(models.QuerySet["Fund"]):
    def visible_to(self, user: Any) -> FundQuerySet:
        """Public, active funds to anyone (signed in or not); every fund of a network to
        its staff; everything to superusers."""
        public = Q(is_public=True, is_active=True)
        if not user.is_authenticated or not user.is_active:
            return self.filter(public)
        if user.is_superuser:
            return self
        if user.is_network_staff:
            return self.filter(public | Q(network_id__in=user.staffed_network_ids()))
        return self.filter(public)

    def managed_by(self, user: Any) -> FundQuerySet:
        """The funds whose money ``user`` handles: staff of the fund's network, superusers."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(network_id__in=user.staffed_network_ids())

    def active(self) -> FundQuerySet:
        return self.filter(is_active=True)


class Fund(models.Model):
    """Money given for a purpose: general, or restricted (for example to residents from
    countries where Emergency Medicine is not yet established)."""

    network = models.ForeignKey(
        "network.Network", verbose_name=_("network"), on_delete=models.PROTECT, related_name="funds"
    )
    slug = models.SlugField(
        _("short name"),
        max_length=80,
        help_text=_("Used in web addresses and in bank memos, e.g. em-residents."),
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=10000)
    purpose = models.CharField(
        _("purpose"), max_length=20, choices=FundPurpose.choices, default=FundPurpose.GENERAL
    )
    restriction = models.TextField(
        _("restriction"),
        blank=True,
        max_length=2000,
        help_text=_("What the money may be used for, as donors read it."),
    )
    eligible_em_statuses = models.JSONField(
        _("home countries where Emergency Medicine is"),
        default=list,
        blank=True,
        validators=[validate_em_statuses],
        help_text=_("Empty: participants from any country."),
    )
    currency = currency_field()
    target = amount_field(_("target"), null=True, blank=True)
    is_public = models.BooleanField(
        _("shown to the public"), default=True, help_text=_("Donors can find and give to it.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = FundQuerySet.as_manager()

    class Meta:
        verbose_name = _("fund")
        verbose_name_plural = _("funds")
        ordering = ["network", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "slug"], name="fund_slug_unique_per_network"
            ),
            models.CheckConstraint(
                condition=Q(target__isnull=True) | Q(target__gt=0), name="fund_target_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_manage_url(self) -> str:
        return reverse("funding:manage", kwargs={"network": self.network.slug, "fund": self.slug})

    @property
    def is_restricted(self) -> bool:
        return self.purpose == FundPurpose.RESTRICTED

    def accepts_em_status(self, status: str) -> bool:
        """Whether a participant from a country of this EM status may be paid from it."""
        return not self.eligible_em_statuses or status in self.eligible_em_statuses

    def em_status_labels(self) -> list[str]:
        return [str(EmStatus(status).label) for status in self.eligible_em_statuses]


# --------------------------------------------------------------------------- exchange rates


class ExchangeRate(models.Model):
    """1 ``from_currency`` is ``rate`` ``to_currency`` on ``on`` (and after, until the
    next rate). A network's own rates are used for its funds; rates without a network
    (recorded by platform superusers) for every network."""

    network = models.ForeignKey(
        "network.Network",
        verbose_name=_("network"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exchange_rates",
    )
    from_currency = currency_field(_("from"))
    to_currency = currency_field(_("to"))
    rate = models.DecimalField(
        _("rate"), max_digits=RATE_MAX_DIGITS, decimal_places=RATE_DECIMAL_PLACES
    )
    on = models.DateField(_("on"))
    source = models.CharField(
        _("source"), max_length=200, blank=True, help_text=_("Where the rate comes from.")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["-on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
            models.CheckConstraint(
                condition=~Q(from_currency=models.F("to_currency")),
                name="exchange_rate_two_currencies",
            ),
        ]
        indexes = [models.Index(fields=["from_currency", "to_currency", "on"])]

    def __str__(self) -> str:
        return f"1 {self.from_currency} = {self.rate} {self.to_currency} ({self.on})"


# --------------------------------------------------------------------------- money in


def _refunds(field: str) -> Subquery:
    """Σ of a donation's refund entries: ``held_delta`` (fund currency, negative) or
    ``source_amount`` (the donor's currency, positive)."""
    return Subquery(
        LedgerEntry.objects.filter(donation=OuterRef("pk"), kind=LedgerKind.REFUND)
        .order_by()
        .values("donation")
        .annotate(total=Sum(field))
        .values("total"),
        output_field=_amount_output(),
    )


class DonationQuerySet(models.QuerySet["Donation"]):
    def owned_by(self, user: Any) -> DonationQuerySet:
        """The donor's own gifts."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(donor=user)

    def visible_to(self, user: Any) -> DonationQuerySet:
        """Donors see their own gifts; finance staff those of their networks' funds."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        condition = Q(donor=user)
        if user.is_network_staff:
            condition |= Q(fund__network_id__in=user.staffed_network_ids())
        return self.filter(condition)

    def received(self) -> DonationQuerySet:
        return self.filter(status__in=[DonationStatus.SUCCEEDED, DonationStatus.PARTIALLY_REFUNDED])

    def with_refunded(self) -> DonationQuerySet:
        """Annotate ``refunded_total`` (donor's currency) and ``refunded_fund_total``
        (fund currency), both derived from the ledger and 0 when nothing was refunded."""
        zero = Value(ZERO, output_field=_amount_output())
        return self.annotate(
            refunded_total=Coalesce(_refunds("source_amount"), zero),
            refunded_fund_total=Coalesce(-_refunds("held_delta"), zero),
        )


class Donation(models.Model):
    """A gift to a fund: online (through a payment provider) or offline (recorded by staff)."""

    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="donations"
    )
    donor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("donor account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="donations",
    )
    donor_name = models.CharField(_("donor's name"), max_length=200, blank=True)
    donor_email = models.EmailField(_("donor's e-mail"), blank=True)
    is_anonymous = models.BooleanField(
        _("anonymous"), default=False, help_text=_("Never show the donor's name in public.")
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    amount = amount_field(_("amount given"))
    currency = currency_field(_("currency given"))
    fund_amount = amount_field(_("amount in the fund's currency"))
    rate = models.DecimalField(
        _("exchange rate"),
        max_digits=RATE_MAX_DIGITS,
        decimal_places=RATE_DECIMAL_PLACES,
        null=True,
        blank=True,
        help_text=_("1 unit given = rate units of the fund's currency; empty when the same."),
    )
    method = models.CharField(_("method"), max_length=20, choices=DonationMethod.choices)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=DonationStatus.choices,
        default=DonationStatus.PENDING,
        db_index=True,
    )
    frequency = models.CharField(
        _("frequency"),
        max_length=10,
        choices=DonationFrequency.choices,
        default=DonationFrequency.ONE_OFF,
    )
    pledge = models.ForeignKey(
        "funding.Pledge",
        verbose_name=_("pledge"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="donations",
    )
    provider = models.CharField(
        _("provider"),
        max_length=40,
        blank=True,
        help_text=_("Who handled the money: stripe, or bank:<network id> for bank imports."),
    )
    provider_reference = models.CharField(_("provider's reference"), max_length=200, blank=True)
    dedication = models.CharField(_("dedication"), max_length=300, blank=True)
    memo = models.CharField(_("memo"), max_length=500, blank=True)
    received_on = models.DateField(_("received on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = DonationQuerySet.as_manager()

    class Meta:
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="donation_amount_positive"),
            models.CheckConstraint(
                condition=Q(fund_amount__gt=0), name="donation_fund_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(rate__isnull=True) | Q(rate__gt=0), name="donation_rate_positive"
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="donation_provider_reference_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["fund", "status"]),
            models.Index(fields=["received_on"]),
        ]

    def __str__(self) -> str:
        return (
            f"{quantize(self.amount, self.currency)} {self.currency} → {self.fund_id} (#{self.pk})"
        )

    @property
    def public_name(self) -> str:
        """What a public page may show: the name, unless the donor asked to stay anonymous."""
        return "" if self.is_anonymous else self.donor_name

    def _refunded(self, annotation: str, field: str, sign: int) -> Decimal:
        cached = getattr(self, annotation, None)
        if cached is not None:
            return Decimal(cached)
        if self.pk is None:
            return ZERO
        entries = self.ledger_entries.filter(kind=LedgerKind.REFUND)
        return sign * Decimal(entries.aggregate(total=Sum(field))["total"] or 0)

    @property
    def refunded_amount(self) -> Decimal:
        """Refunded so far, in the currency given (derived from the ledger)."""
        return self._refunded("refunded_total", "source_amount", 1)

    @property
    def refunded_fund_amount(self) -> Decimal:
        """Refunded so far, in the fund's currency (derived from the ledger)."""
        return self._refunded("refunded_fund_total", "held_delta", -1)

    @property
    def refundable_amount(self) -> Decimal:
        """What may still be refunded, in the currency given."""
        if self.status not in (DonationStatus.SUCCEEDED, DonationStatus.PARTIALLY_REFUNDED):
            return ZERO
        return self.amount - self.refunded_amount


class RefundRequest(models.Model):
    """A refund of an online gift asked of the payment provider. The ledger changes only
    when the provider's refund event arrives; until then the request is *pending*, and
    another refund of the gift waits for it (two requests checked against the same
    unchanged ledger could together give back more than the fund may)."""

    donation = models.ForeignKey(
        Donation,
        verbose_name=_("donation"),
        on_delete=models.PROTECT,
        related_name="refund_requests",
    )
    amount = amount_field(_("amount"))
    refunded_before = amount_field(_("refunded before"))
    provider_refund = models.CharField(_("provider's refund"), max_length=200)
    reason = models.TextField(_("reason"), max_length=2000, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("asked"), auto_now_add=True)

    class Meta:
        verbose_name = _("refund request")
        verbose_name_plural = _("refund requests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="refund_request_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider_refund} ({self.amount} of #{self.donation_id})"

    def is_confirmed(self, refunded: Decimal) -> bool:
        """Whether the ledger, having refunded ``refunded`` of the gift, holds this refund."""
        return refunded >= self.refunded_before + self.amount


class PledgeQuerySet(models.QuerySet["Pledge"]):
    def visible_to(self, user: Any) -> PledgeQuerySet:
        """Donors see their own pledges; finance staff those of their networks' funds."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        condition = Q(donor=user)
        if user.is_network_staff:
            condition |= Q(fund__network_id__in=user.staffed_network_ids())
        return self.filter(condition)


class Pledge(models.Model):
    """A recurring gift: each payment the provider collects becomes a donation."""

    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="pledges"
    )
    donor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pledges",
    )
    donor_name = models.CharField(_("donor's name"), max_length=200, blank=True)
    donor_email = models.EmailField(_("donor's e-mail"), blank=True)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    amount = amount_field(_("amount"))
    currency = currency_field()
    frequency = models.CharField(
        _("frequency"),
        max_length=10,
        choices=PledgeFrequency.choices,
        default=PledgeFrequency.MONTHLY,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=PledgeStatus.choices, default=PledgeStatus.ACTIVE
    )
    provider = models.CharField(_("provider"), max_length=40, blank=True)
    provider_reference = models.CharField(_("provider's reference"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    objects = PledgeQuerySet.as_manager()

    class Meta:
        verbose_name = _("pledge")
        verbose_name_plural = _("pledges")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="pledge_amount_positive"),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="pledge_provider_reference_unique",
            ),
        ]

    def __str__(self) -> str:
        amount = quantize(self.amount, self.currency)
        return f"{amount} {self.currency} {self.get_frequency_display()} → {self.fund_id}"


class ProviderEvent(models.Model):
    """One event a payment provider sent (a webhook), stored once: the same event
    delivered twice is recognised by (provider, event_id) and processed once."""

    provider = models.CharField(_("provider"), max_length=40)
    event_id = models.CharField(_("event id"), max_length=200)
    type = models.CharField(_("type"), max_length=100)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)

    class Meta:
        verbose_name = _("provider event")
        verbose_name_plural = _("provider events")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_unique")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.type} {self.event_id}"


class ReceiptSequence(models.Model):
    """The last receipt number given in a fiscal year: the row ``receipt_number_take``
    locks, so numbers follow each other with no gaps and no repeats."""

    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"), unique=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("receipt sequence")
        verbose_name_plural = _("receipt sequences")

    def __str__(self) -> str:
        return f"{self.fiscal_year}: {self.last_number}"


class Receipt(models.Model):
    """A numbered receipt for one donation, or a donor's year-end statement."""

    donation = models.OneToOneField(
        Donation,
        verbose_name=_("donation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="receipt",
    )
    donor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="receipts",
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=ReceiptKind.choices, default=ReceiptKind.RECEIPT
    )
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"))
    number = models.PositiveIntegerField(_("number"))
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    donor_email = models.EmailField(_("donor's e-mail"), blank=True)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-fiscal_year", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["fiscal_year", "number"], name="receipt_number_unique_per_year"
            ),
            models.CheckConstraint(
                condition=Q(kind=ReceiptKind.RECEIPT, donation__isnull=False)
                | Q(kind=ReceiptKind.STATEMENT, donation__isnull=True),
                name="receipt_for_a_donation_statement_for_a_year",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The number printed on the receipt, e.g. 2026-000042."""
        return f"{self.fiscal_year}-{self.number:06d}"


# --------------------------------------------------------------------------- money out


class CommitmentQuerySet(models.QuerySet["Commitment"]):
    def visible_to(self, user: Any) -> CommitmentQuerySet:
        """Commitments are the finance staff's (of the fund's network)."""
        return self.filter(fund__in=Fund.objects.managed_by(user))

    def with_outstanding(self) -> CommitmentQuerySet:
        """Annotate ``outstanding_total``: amount - released - paid, from the ledger."""
        total = Subquery(
            LedgerEntry.objects.filter(commitment=OuterRef("pk"))
            .order_by()
            .values("commitment")
            .annotate(total=Sum("committed_delta"))
            .values("total"),
            output_field=_amount_output(),
        )
        return self.annotate(
            outstanding_total=Coalesce(total, Value(ZERO, output_field=_amount_output()))
        )


class Commitment(models.Model):
    """Money of a fund reserved for something (a scholarship award), in the fund's currency.

    Outstanding = amount - released - paid out, derived from the ledger.
    """

    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="commitments"
    )
    amount = amount_field(_("amount"))
    purpose = models.CharField(_("purpose"), max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = CommitmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="commitment_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.purpose} (#{self.pk})"

    @property
    def outstanding(self) -> Decimal:
        """Still reserved: amount - released - paid (derived from the ledger)."""
        cached = getattr(self, "outstanding_total", None)
        if cached is not None:
            return Decimal(cached)
        total = self.ledger_entries.aggregate(total=Sum("committed_delta"))["total"]
        return Decimal(total or 0)


class DisbursementQuerySet(models.QuerySet["Disbursement"]):
    def visible_to(self, user: Any) -> DisbursementQuerySet:
        return self.filter(commitment__fund__in=Fund.objects.managed_by(user))


class Disbursement(models.Model):
    """A payment out of a commitment: planned, then paid (or cancelled); paid money can
    come back (returned)."""

    commitment = models.ForeignKey(
        Commitment,
        verbose_name=_("commitment"),
        on_delete=models.PROTECT,
        related_name="disbursements",
    )
    amount = amount_field(_("amount"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=DisbursementStatus.choices,
        default=DisbursementStatus.PLANNED,
        db_index=True,
    )
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    returned_on = models.DateField(_("returned on"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = DisbursementQuerySet.as_manager()

    class Meta:
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="disbursement_amount_positive")
        ]

    def __str__(self) -> str:
        return f"#{self.pk} ({self.get_status_display()})"


# --------------------------------------------------------------------------- the ledger


class AppendOnlyError(Exception):
    """Ledger entries are never changed or deleted: correct with a new entry."""


class LedgerEntryQuerySet(models.QuerySet["LedgerEntry"]):
    def visible_to(self, user: Any) -> LedgerEntryQuerySet:
        return self.filter(fund__in=Fund.objects.managed_by(user))

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Ledger entries are never changed: write a correcting entry.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Ledger entries are never deleted: write a correcting entry.")

    def purge(self) -> tuple[int, dict[str, int]]:
        """Delete for real: only for removing demo data, never for correcting money."""
        return super().delete()


def _signs_condition() -> Q:
    """One Q per kind: its deltas have the kind's fixed signs (``LEDGER_SIGNS``)."""

    def sign(field: str, value: int | None) -> Q:
        if value is None:
            return ~Q(**{field: 0})
        if value > 0:
            return Q(**{f"{field}__gt": 0})
        if value < 0:
            return Q(**{f"{field}__lt": 0})
        return Q(**{field: 0})

    condition = Q(pk__in=[])
    for kind, (held, committed) in LEDGER_SIGNS.items():
        condition |= Q(kind=kind) & sign("held_delta", held) & sign("committed_delta", committed)
    return condition


class LedgerEntry(models.Model):
    """One movement of a fund's money, in the fund's currency. Append-only.

    kind          held_delta  committed_delta
    donation      +a          0
    refund        -a          0
    commitment    0           +a
    release       0           -a
    disbursement  -a          -a
    return        +a          0
    adjustment    ±a          0
    """

    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="ledger"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=LedgerKind.choices)
    held_delta = amount_field(_("held"), default=ZERO)
    committed_delta = amount_field(_("committed"), default=ZERO)
    donation = models.ForeignKey(
        Donation, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    commitment = models.ForeignKey(
        Commitment, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    disbursement = models.ForeignKey(
        Disbursement,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    source_amount = amount_field(
        _("amount in the currency given"),
        null=True,
        blank=True,
        help_text=_("Donations and refunds: the amount in the donor's currency."),
    )
    memo = models.CharField(_("memo"), max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=_signs_condition(), name="ledger_entry_signs"),
            models.CheckConstraint(
                condition=~Q(kind__in=[LedgerKind.DONATION, LedgerKind.REFUND])
                | Q(donation__isnull=False),
                name="ledger_entry_donation_named",
            ),
            models.CheckConstraint(
                condition=~Q(
                    kind__in=[
                        LedgerKind.COMMITMENT,
                        LedgerKind.RELEASE,
                        LedgerKind.DISBURSEMENT,
                        LedgerKind.RETURN,
                    ]
                )
                | Q(commitment__isnull=False),
                name="ledger_entry_commitment_named",
            ),
        ]
        indexes = [models.Index(fields=["fund", "kind"]), models.Index(fields=["fund", "-id"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.held_delta}/{self.committed_delta}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Ledger entries are never changed: write a correcting entry.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Ledger entries are never deleted: write a correcting entry.")
