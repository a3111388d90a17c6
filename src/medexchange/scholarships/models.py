"""Scholarship calls, the requests applicants make from their applications, the
committee's reviews, allocation runs, and the awards that reserve money of funds.

No balance is stored here: the money an award holds is its commitments in the funding
ledger (``funding.LedgerEntry``), one commitment per fund share.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from medexchange.funding.money import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS, validate_currency
from medexchange.scholarships.choices import (
    AwardStatus,
    CallStatus,
    Pin,
    RequestStatus,
    RunStatus,
)

NEED_STATEMENT_MAX_LENGTH = 1500
MAX_SCORE = 10


def _money(verbose_name: Any, **kwargs: Any) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,
        max_digits=AMOUNT_MAX_DIGITS,
        decimal_places=AMOUNT_DECIMAL_PLACES,
        **kwargs,
    )


def _staffed(user: Any) -> Any:
    return user.staffed_network_ids()


class ScholarshipCallQuerySet(models.QuerySet["ScholarshipCall"]):
    def visible_to(self, user: Any) -> ScholarshipCallQuerySet:
        """Published calls to anyone signed in; drafts to the network's staff."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        condition = ~Q(status=CallStatus.DRAFT) | Q(reviewers=user)
        if user.is_network_staff:
            condition |= Q(network_id__in=_staffed(user))
        return self.filter(pk__in=self.filter(condition).values("pk"))

    def managed_by(self, user: Any) -> ScholarshipCallQuerySet:
        """Calls ``user`` runs: staff of the call's network, and superusers."""
        if not user.is_authenticated or not user.is_network_staff:
            return self.none()
        staffed = _staffed(user)
        return self if staffed is None else self.filter(network_id__in=staffed)

    def reviewable_by(self, user: Any) -> ScholarshipCallQuerySet:
        """Calls whose requests ``user`` scores: the managers and the named reviewers."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        condition = Q(reviewers=user)
        if user.is_network_staff:
            condition |= Q(network_id__in=_staffed(user))
        return self.filter(pk__in=self.filter(condition).values("pk"))

    def taking_requests(self, now: Any) -> ScholarshipCallQuerySet:
        return self.filter(status=CallStatus.OPEN, opens_at__lte=now, closes_at__gt=now)


class ScholarshipCall(models.Model):
    """A network's call for scholarship requests, drawing on one or more of its funds."""

    network = models.ForeignKey(
        "network.Network",
        verbose_name=_("network"),
        on_delete=models.PROTECT,
        related_name="scholarship_calls",
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    funds = models.ManyToManyField(
        "funding.Fund",
        verbose_name=_("funds"),
        related_name="scholarship_calls",
        blank=True,
        help_text=_("The funds whose available money the awards draw on."),
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        validators=[validate_currency],
        help_text=_("ISO 4217 code, e.g. USD. The call's funds must hold this currency."),
    )
    eligible_em_statuses = models.JSONField(
        _("home-country Emergency Medicine status"), default=list, blank=True
    )
    eligible_income_groups = models.JSONField(
        _("home-country income groups"), default=list, blank=True
    )
    eligible_training_levels = models.JSONField(_("training levels"), default=list, blank=True)
    eligible_opportunity_kinds = models.JSONField(
        _("kinds of opportunity"), default=list, blank=True
    )
    amount_min = _money(_("smallest amount"))
    amount_max = _money(_("largest amount"))
    covers = models.JSONField(_("covers"), default=list)
    partial_awards = models.BooleanField(
        _("awards may be smaller than asked"),
        default=False,
        help_text=_(
            "The allocation may give a request less than it asks, down to the least its "
            "applicant says would still let them go, so the money reaches more people."
        ),
    )
    opens_at = models.DateTimeField(_("opens"))
    closes_at = models.DateTimeField(_("closes"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=CallStatus.choices,
        default=CallStatus.DRAFT,
        db_index=True,
    )
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewers"),
        related_name="reviewed_scholarship_calls",
        blank=True,
        help_text=_("Besides the network's staff, who scores the requests."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScholarshipCallQuerySet.as_manager()

    class Meta:
        verbose_name = _("scholarship call")
        verbose_name_plural = _("scholarship calls")
        ordering = ["-opens_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_min__gt=0), name="scholarship_call_min_positive"
            ),
            models.CheckConstraint(
                condition=Q(amount_max__gte=models.F("amount_min")),
                name="scholarship_call_range_in_order",
            ),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="scholarship_call_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("scholarships:call", kwargs={"pk": self.pk})

    def covers_labels(self) -> list[str]:
        from medexchange.scholarships.choices import Cover

        names = dict(Cover.choices)
        return [str(names.get(value, value)) for value in self.covers or []]


class ScholarshipRequestQuerySet(models.QuerySet["ScholarshipRequest"]):
    def visible_to(self, user: Any) -> ScholarshipRequestQuerySet:
        """The applicant's own; every request of the calls ``user`` reviews."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        calls = ScholarshipCall.objects.reviewable_by(user).values("pk")
        return self.filter(Q(application__applicant=user) | Q(call_id__in=calls))

    def owned_by(self, user: Any) -> ScholarshipRequestQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(application__applicant=user)

    def reviewable_by(self, user: Any) -> ScholarshipRequestQuerySet:
        """Requests ``user`` may score: of the calls they review, never their own."""
        if not user.is_authenticated:
            return self.none()
        calls = ScholarshipCall.objects.reviewable_by(user).values("pk")
        return self.filter(call_id__in=calls).exclude(application__applicant=user)

    def managed_by(self, user: Any) -> ScholarshipRequestQuerySet:
        calls = ScholarshipCall.objects.managed_by(user).values("pk")
        return self.filter(call_id__in=calls)


class ScholarshipRequest(models.Model):
    """An applicant's request for money from a call, made from one of their applications."""

    call = models.ForeignKey(
        ScholarshipCall,
        verbose_name=_("call"),
        on_delete=models.PROTECT,
        related_name="requests",
    )
    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="scholarship_requests",
    )
    need_statement = models.TextField(
        _("why you need it"),
        max_length=NEED_STATEMENT_MAX_LENGTH,
        help_text=_(
            "What the scholarship would pay for and why you need it. Up to 1,500 characters."
        ),
    )
    amount = _money(_("amount requested"))
    least_amount = _money(
        _("least that still helps"),
        null=True,
        blank=True,
        help_text=_("Only in calls with smaller awards: below this the applicant could not go."),
    )
    covers = models.JSONField(_("covers"), default=list)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=RequestStatus.choices,
        default=RequestStatus.SUBMITTED,
        db_index=True,
    )
    consent_public_name = models.BooleanField(
        _("my name may be shown publicly"),
        default=False,
        help_text=_("Donors' pages may name you as a recipient. Without this, they never do."),
    )
    # The committee's adjustments, read by the next allocation run.
    pin = models.CharField(_("decision"), max_length=10, choices=Pin.choices, blank=True)
    adjusted_amount = _money(_("amount to award"), null=True, blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    objects = ScholarshipRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("scholarship request")
        verbose_name_plural = _("scholarship requests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "application"],
                condition=~Q(status=RequestStatus.WITHDRAWN),
                name="one_scholarship_request_per_application_and_call",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="scholarship_request_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(least_amount__isnull=True)
                | Q(least_amount__gt=0, least_amount__lte=models.F("amount")),
                name="scholarship_request_least_amount_in_range",
            ),
        ]
        indexes = [models.Index(fields=["call", "status"])]

    def __str__(self) -> str:
        return f"#{self.pk} · {self.call}"

    def get_absolute_url(self) -> str:
        return reverse("scholarships:request", kwargs={"pk": self.pk})

    @property
    def amount_to_award(self) -> Decimal:
        return self.adjusted_amount if self.adjusted_amount is not None else self.amount


class RequestReview(models.Model):
    """One reviewer's score (0-10) of one request, with an optional comment."""

    request = models.ForeignKey(
        ScholarshipRequest, on_delete=models.CASCADE, related_name="reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(0), MaxValueValidator(MAX_SCORE)]
    )
    comment = models.TextField(_("comment"), max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("request review")
        verbose_name_plural = _("request reviews")
        ordering = ["request", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "reviewer"], name="one_review_per_reviewer_and_request"
            ),
            models.CheckConstraint(
                condition=Q(score__lte=MAX_SCORE), name="request_review_score_at_most_10"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request} · {self.score}"


class AllocationRunQuerySet(models.QuerySet["AllocationRun"]):
    def visible_to(self, user: Any) -> AllocationRunQuerySet:
        return self.filter(call_id__in=ScholarshipCall.objects.managed_by(user).values("pk"))


class AllocationRun(models.Model):
    """One solve of a call's allocation: the engine's exact input and output."""

    call = models.ForeignKey(ScholarshipCall, on_delete=models.PROTECT, related_name="runs")
    input = models.JSONField(_("input"), default=dict)
    result = models.JSONField(_("result"), default=dict)
    # Pending requests left out of the instance, with why ({id: {"reason_code", "params"}}).
    excluded = models.JSONField(_("left out"), default=dict)
    # Each request's mean review score when the run was made ({id: "7.50"}).
    mean_scores = models.JSONField(_("mean scores"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices)
    # Total priority (sum of mean scores) of the awards, and the proven upper bound of it.
    objective = models.DecimalField(
        _("objective"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    bound = models.DecimalField(_("bound"), max_digits=14, decimal_places=2, null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("run at"), auto_now_add=True)

    objects = AllocationRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("allocation run")
        verbose_name_plural = _("allocation runs")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.call} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_optimal(self) -> bool:
        return self.result.get("status") == "optimal"


class AwardQuerySet(models.QuerySet["Award"]):
    def visible_to(self, user: Any) -> AwardQuerySet:
        return self.filter(request__in=ScholarshipRequest.objects.visible_to(user).values("pk"))

    def managed_by(self, user: Any) -> AwardQuerySet:
        return self.filter(request__call__in=ScholarshipCall.objects.managed_by(user).values("pk"))

    def given(self) -> AwardQuerySet:
        from medexchange.scholarships.choices import GIVEN_AWARDS

        return self.filter(status__in=GIVEN_AWARDS)


class Award(models.Model):
    """The money a request is given: proposed by a run, committed by finance staff.

    ``shares`` is the split over the call's funds (``[{"fund": id, "amount": "…"}]``);
    committing reserves each share (one ``funding.Commitment`` per share).
    """

    request = models.OneToOneField(
        ScholarshipRequest, on_delete=models.PROTECT, related_name="award"
    )
    run = models.ForeignKey(
        AllocationRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="awards"
    )
    amount = _money(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=AwardStatus.choices,
        default=AwardStatus.PROPOSED,
        db_index=True,
    )
    shares = models.JSONField(_("split over funds"), default=list)
    commitments = models.ManyToManyField(
        "funding.Commitment", verbose_name=_("commitments"), related_name="awards", blank=True
    )
    reasoning = models.JSONField(_("reasoning"), default=dict)
    status_reason = models.TextField(_("reason"), blank=True, max_length=2000)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    committed_at = models.DateTimeField(_("committed"), null=True, blank=True)
    closed_at = models.DateTimeField(_("released or cancelled"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AwardQuerySet.as_manager()

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="award_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.request} · {self.amount} {self.currency}"

    def get_absolute_url(self) -> str:
        return reverse("scholarships:award", kwargs={"pk": self.pk})
