"""Exchange agreements between member institutions (or network-wide), and their quotas.

An agreement's balance is never stored: ``selectors`` derive it from placements.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from medexchange.agreements import years
from medexchange.agreements.choices import AgreementStatus, QuotaUnit, Side
from medexchange.catalog.choices import Level
from medexchange.network.choices import MembershipStatus
from medexchange.network.models import Membership

S = AgreementStatus


def _staffed_member_ids(user: Any) -> Any:
    """Institutions with an active membership of a network ``user`` runs."""
    return Membership.objects.filter(
        network_id__in=user.staffed_network_ids(), status=MembershipStatus.ACTIVE
    ).values("institution_id")


class AgreementQuerySet(models.QuerySet["Agreement"]):
    def visible_to(self, user: Any) -> AgreementQuerySet:
        """Coordinators of either party, and staff of the networks concerned.

        A network-wide agreement is the terms of every active member: their coordinators
        see it once proposed; its drafts are the staff's. A bilateral agreement is seen by
        the staff of the networks either party is an active member of (read only).
        """
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        mine = user.coordinated_institution_ids()
        member_networks = Membership.objects.filter(
            network_id=OuterRef("network_id"),
            status=MembershipStatus.ACTIVE,
            institution_id__in=mine,
        )
        condition = (
            Q(party_a_id__in=mine)
            | Q(party_b_id__in=mine)
            | Q(Q(network__isnull=False), ~Q(status=S.DRAFT), Exists(member_networks))
        )
        if user.is_network_staff:
            staffed = user.staffed_network_ids()
            members = _staffed_member_ids(user)
            condition |= (
                Q(network_id__in=staffed) | Q(party_a_id__in=members) | Q(party_b_id__in=members)
            )
        return self.filter(condition)

    def editable_by(self, user: Any) -> AgreementQuerySet:
        """Drafts ``user`` may change: a party's coordinators; the network's staff."""
        if not user.is_authenticated:
            return self.none()
        drafts = self.filter(status=S.DRAFT)
        if user.is_superuser:
            return drafts
        mine = user.coordinated_institution_ids()
        condition = Q(network__isnull=True) & (Q(party_a_id__in=mine) | Q(party_b_id__in=mine))
        if user.is_network_staff:
            condition |= Q(network_id__in=user.staffed_network_ids())
        return drafts.filter(condition)

    def active(self) -> AgreementQuerySet:
        return self.filter(status=S.ACTIVE)


class Agreement(models.Model):
    """Exchange terms between two institutions, or between every pair of a network's members."""

    title = models.CharField(_("title"), max_length=200)
    network = models.ForeignKey(
        "network.Network",
        verbose_name=_("network"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agreements",
        help_text=_("Network-wide agreements only: they apply between all active members."),
    )
    party_a = models.ForeignKey(
        "network.Institution",
        verbose_name=_("party A"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agreements_as_a",
    )
    party_b = models.ForeignKey(
        "network.Institution",
        verbose_name=_("party B"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agreements_as_b",
    )
    first_year = models.PositiveSmallIntegerField(
        _("first academic year"),
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
        help_text=_("2026 means the academic year 2026/27."),
    )
    last_year = models.PositiveSmallIntegerField(
        _("last academic year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    tuition_waiver = models.BooleanField(_("tuition waived"), default=False)
    other_terms = models.TextField(_("other terms"), blank=True, max_length=10000)
    unit = models.CharField(
        _("unit of quotas"),
        max_length=20,
        choices=QuotaUnit.choices,
        default=QuotaUnit.PARTICIPANTS,
    )
    tolerance = models.PositiveIntegerField(
        _("tolerance of the balance"),
        default=0,
        validators=[MaxValueValidator(10000)],
        help_text=_("How far a side may fall behind (in the unit of quotas) before a warning."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=AgreementStatus.choices, default=S.DRAFT, db_index=True
    )
    proposed_by_side = models.CharField(
        _("proposed by"), max_length=10, choices=Side.choices, blank=True
    )
    # Each side's approval. Network-wide: A is the proposing staff member, B the accepting one.
    a_approved_at = models.DateTimeField(_("approved by party A"), null=True, blank=True)
    a_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    b_approved_at = models.DateTimeField(_("approved by party B"), null=True, blank=True)
    b_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status_reason = models.TextField(_("reason"), blank=True, max_length=2000)
    # The signed document, in the private storage under a random name.
    document_storage_name = models.CharField(max_length=100, blank=True)
    document_name = models.CharField(_("signed document"), max_length=150, blank=True)
    document_size = models.PositiveBigIntegerField(null=True, blank=True)
    document_sha256 = models.CharField(max_length=64, blank=True)
    document_uploaded_at = models.DateTimeField(null=True, blank=True)
    document_uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Renewal reminders already sent (each once).
    reminded_90_at = models.DateTimeField(null=True, blank=True)
    reminded_30_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["-first_year", "title", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(network__isnull=False, party_a__isnull=True, party_b__isnull=True)
                    | (
                        Q(network__isnull=True, party_a__isnull=False, party_b__isnull=False)
                        & ~Q(party_a=F("party_b"))
                    )
                ),
                name="agreement_network_wide_or_two_parties",
            ),
            models.CheckConstraint(
                condition=Q(last_year__gte=F("first_year")), name="agreement_years_in_order"
            ),
        ]
        indexes = [models.Index(fields=["status", "first_year", "last_year"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("agreements:detail", kwargs={"pk": self.pk})

    @property
    def is_network_wide(self) -> bool:
        return self.network_id is not None

    @property
    def years(self) -> range:
        return range(self.first_year, self.last_year + 1)

    @property
    def starts_on(self) -> dt.date:
        return years.year_starts(self.first_year)

    @property
    def ends_on(self) -> dt.date:
        return years.year_ends(self.last_year)

    @property
    def period_label(self) -> str:
        first, last = years.year_label(self.first_year), years.year_label(self.last_year)
        return first if first == last else f"{first}-{last}"

    @property
    def has_document(self) -> bool:
        return bool(self.document_storage_name)

    @property
    def is_person_months(self) -> bool:
        return self.unit == QuotaUnit.PERSON_MONTHS


class Quota(models.Model):
    """How many a sender may send to a host under the agreement (in the agreement's unit).

    Empty year: every year of validity. Empty level or specialty: any. For a network-wide
    agreement, empty sender and host: the amount holds for each ordered pair of members.
    Every quota an application matches is a cap it must fit under.
    """

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="quotas")
    sender = models.ForeignKey(
        "network.Institution",
        verbose_name=_("sending institution"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    host = models.ForeignKey(
        "network.Institution",
        verbose_name=_("host institution"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    academic_year = models.PositiveSmallIntegerField(
        _("academic year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
        help_text=_("Empty: every year of the agreement."),
    )
    level = models.CharField(_("level"), max_length=20, choices=Level.choices, blank=True)
    specialty = models.ForeignKey(
        "catalog.Specialty",
        verbose_name=_("specialty"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount = models.PositiveIntegerField(
        _("amount"), validators=[MinValueValidator(1), MaxValueValidator(10000)]
    )

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        ordering = ["agreement", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=1), name="quota_amount_positive"),
            models.CheckConstraint(
                condition=Q(sender__isnull=True, host__isnull=True)
                | (Q(sender__isnull=False, host__isnull=False) & ~Q(sender=F("host"))),
                name="quota_direction_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement} · {self.amount}"

    @property
    def stable_id(self) -> str:
        return f"agreement-{self.agreement_id}-quota-{self.pk}"

    def covers(
        self, *, sender_id: int, host_id: int, year: int, level: str, specialty_id: int
    ) -> bool:
        """Whether an application of these facts counts against this quota."""
        return (
            (self.sender_id is None or self.sender_id == sender_id)
            and (self.host_id is None or self.host_id == host_id)
            and (self.academic_year is None or self.academic_year == year)
            and (not self.level or self.level == level)
            and (self.specialty_id is None or self.specialty_id == specialty_id)
        )
