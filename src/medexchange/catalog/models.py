"""The opportunity catalog: what hosts offer (opportunities) and when (sessions)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medexchange.catalog.choices import (
    SPECIALTIES,
    AccommodationKind,
    HomeCountryRule,
    Level,
    OpportunityKind,
    OpportunityStatus,
)
from medexchange.network.models import CountryProfile, Institution, Site

ZERO = Decimal("0.00")
DAYS_PER_MONTH = Decimal("30.44")


def money_field(verbose_name: Any) -> models.DecimalField[Decimal, Decimal]:
    """An amount in the opportunity's currency; never negative, zero by default."""
    return models.DecimalField(
        verbose_name,
        max_digits=10,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO)],
    )


def compose_search_text(
    *,
    title: str,
    kind: str,
    summary: str,
    description: str,
    specialty: str,
    host_name: str,
    host_city: str,
) -> str:
    kind_words = kind.replace("_", " ")
    return "\n".join([title, kind_words, summary, description, specialty, host_name, host_city])


def refresh_search_text(opportunities: Any) -> int:
    """Recompute ``search_text`` of ``opportunities`` (after a host is renamed, say)."""
    changed = []
    for opportunity in opportunities.select_related("host", "specialty"):
        text = opportunity.compose_search_text()
        if text != opportunity.search_text:
            opportunity.search_text = text
            changed.append(opportunity)
    Opportunity.objects.bulk_update(changed, ["search_text"], batch_size=500)
    return len(changed)


class Specialty(models.Model):
    """A specialty from the maintained list (``choices.SPECIALTIES``)."""

    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the reader's language when it is on the maintained list."""
        return str(dict(SPECIALTIES).get(self.code, self.name))


class OpportunityQuerySet(models.QuerySet["Opportunity"]):
    def published(self) -> OpportunityQuerySet:
        return self.filter(status=OpportunityStatus.PUBLISHED)

    def visible_to(self, user: Any) -> OpportunityQuerySet:
        """Published ones for everyone; drafts also for the host's coordinators and staff."""
        if user.is_authenticated and user.is_superuser:
            return self
        published = Q(status=OpportunityStatus.PUBLISHED)
        if user.is_authenticated:
            published |= Q(host_id__in=user.coordinated_institution_ids())
        return self.filter(published)

    def editable_by(self, user: Any) -> OpportunityQuerySet:
        """Only the host's coordinators (and platform superusers) change an opportunity."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(host_id__in=user.coordinated_institution_ids())


class Opportunity(models.Model):
    """Something a host offers: an elective, a program, a fellowship, a course…"""

    host = models.ForeignKey(
        Institution,
        verbose_name=_("host"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    kind = models.CharField(_("kind"), max_length=30, choices=OpportunityKind.choices)
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("web address"), max_length=220, unique=True)
    summary = models.CharField(_("summary"), max_length=300, help_text=_("One or two sentences."))
    description = models.TextField(
        _("description"), blank=True, help_text=_("Markdown: headings, lists, links, emphasis.")
    )
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    specialty = models.ForeignKey(
        Specialty, verbose_name=_("specialty"), on_delete=models.PROTECT, related_name="+"
    )
    languages = models.JSONField(
        _("languages"),
        default=list,
        blank=True,
        help_text=_(
            'Working languages with the minimum level, e.g. [{"code": "es", "level": "B2"}].'
        ),
    )
    duration_days = models.PositiveIntegerField(
        _("duration in days"), validators=[MinValueValidator(1), MaxValueValidator(5 * 366)]
    )
    sites = models.ManyToManyField(Site, verbose_name=_("sites"), blank=True, related_name="+")

    # Eligibility
    training_levels = models.JSONField(
        _("training levels accepted"), default=list, blank=True, help_text=_("Empty: any.")
    )
    min_year_of_study = models.PositiveSmallIntegerField(
        _("from year of study"), null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    max_year_of_study = models.PositiveSmallIntegerField(
        _("up to year of study"), null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    home_country_rule = models.CharField(
        _("home-country rule"),
        max_length=30,
        choices=HomeCountryRule.choices,
        default=HomeCountryRule.ANY,
    )
    eligible_countries = models.ManyToManyField(
        CountryProfile, verbose_name=_("eligible countries"), blank=True, related_name="+"
    )
    required_documents = models.JSONField(_("required documents"), default=list, blank=True)
    required_immunisations = models.JSONField(_("required immunisations"), default=list, blank=True)

    # Cost: never hidden.
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    application_fee = money_field(_("application fee"))
    tuition_fee = money_field(_("tuition or program fee"))
    international_surcharge = money_field(_("extra fee for international applicants"))
    fee_notes = models.TextField(_("about the fees"), blank=True)
    waiver_under_agreement = models.BooleanField(
        _("fees waived under an exchange agreement"), default=False
    )
    waiver_for_lower_income = models.BooleanField(
        _("fees waived for low and lower-middle income countries"), default=False
    )
    waiver_notes = models.TextField(_("about waivers"), blank=True)
    scholarship_eligible = models.BooleanField(_("eligible for scholarships"), default=False)
    accommodation = models.CharField(
        _("accommodation"),
        max_length=20,
        choices=AccommodationKind.choices,
        default=AccommodationKind.NONE,
    )
    accommodation_notes = models.TextField(_("about accommodation"), blank=True)
    monthly_housing_cost = money_field(_("typical housing cost per month"))
    monthly_transport_cost = money_field(_("local transport per month"))
    monthly_insurance_cost = money_field(_("insurance per month"))

    endorsement_required = models.BooleanField(
        _("home institution must endorse"),
        default=False,
        help_text=_(
            "Applications reach you only after the applicant's home institution endorses them."
        ),
    )
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)

    status = models.CharField(
        _("status"),
        max_length=20,
        choices=OpportunityStatus.choices,
        default=OpportunityStatus.DRAFT,
    )
    # Everything free text searches, in one column with one index (``catalog.search``):
    # derived from the opportunity, its specialty and host, and kept current on save.
    search_text = models.TextField(editable=False, blank=True, default="")
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["title", "pk"]
        indexes = [
            models.Index(fields=["status", "kind"]),
            models.Index(fields=["host", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_year_of_study__isnull=True)
                | Q(max_year_of_study__isnull=True)
                | Q(min_year_of_study__lte=F("max_year_of_study")),
                name="opportunity_years_of_study_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_text = self.compose_search_text()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("catalog:opportunity", kwargs={"slug": self.slug})

    def compose_search_text(self) -> str:
        """The words a search finds this opportunity by."""
        return compose_search_text(
            title=self.title,
            kind=self.kind,
            summary=self.summary,
            description=self.description,
            specialty=self.specialty.name if self.specialty_id else "",
            host_name=self.host.name if self.host_id else "",
            host_city=self.host.city if self.host_id else "",
        )

    def clean(self) -> None:
        if (
            self.min_year_of_study is not None
            and self.max_year_of_study is not None
            and self.min_year_of_study > self.max_year_of_study
        ):
            raise ValidationError(
                {"max_year_of_study": _("The last year of study comes after the first.")}
            )
        money = [
            self.application_fee,
            self.tuition_fee,
            self.international_surcharge,
            self.monthly_housing_cost,
            self.monthly_transport_cost,
            self.monthly_insurance_cost,
        ]
        if any(amount is not None and amount < 0 for amount in money):
            raise ValidationError(_("Amounts cannot be negative."))

    @property
    def months(self) -> Decimal:
        """The stay in months, rounded up to a tenth, for the monthly costs."""
        months = Decimal(self.duration_days) / DAYS_PER_MONTH
        return Decimal(math.ceil(months * 10)) / 10

    def cost_estimate(self, *, international: bool = False) -> dict[str, Decimal]:
        """The all-in estimate for one stay: fees, housing, transport and insurance."""
        months = self.months
        lines = {
            "fees": self.application_fee
            + self.tuition_fee
            + (self.international_surcharge if international else ZERO),
            "housing": (self.monthly_housing_cost * months).quantize(Decimal("0.01")),
            "transport": (self.monthly_transport_cost * months).quantize(Decimal("0.01")),
            "insurance": (self.monthly_insurance_cost * months).quantize(Decimal("0.01")),
        }
        lines["total"] = sum(lines.values(), ZERO)
        return lines

    @property
    def is_fee_free(self) -> bool:
        return self.application_fee == ZERO and self.tuition_fee == ZERO

    @property
    def has_waiver(self) -> bool:
        return self.waiver_under_agreement or self.waiver_for_lower_income


class SessionQuerySet(models.QuerySet["Session"]):
    def visible_to(self, user: Any) -> SessionQuerySet:
        return self.filter(opportunity__in=Opportunity.objects.visible_to(user))

    def editable_by(self, user: Any) -> SessionQuerySet:
        return self.filter(opportunity__in=Opportunity.objects.editable_by(user))

    def scheduled(self) -> SessionQuerySet:
        return self.filter(cancelled_at__isnull=True)

    def open_for_applications(self, now: Any = None) -> SessionQuerySet:
        now = now or timezone.now()
        return self.scheduled().filter(applications_open_at__lte=now, applications_close_at__gt=now)


class Session(models.Model):
    """One dated run of an opportunity, with its capacity and application window."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="sessions")
    start_date = models.DateField(_("starts"))
    end_date = models.DateField(_("ends"))
    capacity = models.PositiveIntegerField(_("places"))
    applications_open_at = models.DateTimeField(_("applications open"))
    applications_close_at = models.DateTimeField(_("applications close"))
    decision_date = models.DateField(_("decisions by"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["start_date", "pk"]
        indexes = [
            models.Index(fields=["opportunity", "start_date"]),
            models.Index(fields=["applications_close_at"]),
            models.Index(fields=["start_date"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="session_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(applications_close_at__gt=F("applications_open_at")),
                name="session_window_closes_after_opening",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity} ({self.start_date:%Y-%m-%d})"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = _("A session ends on or after the day it starts.")
        if (
            self.applications_open_at
            and self.applications_close_at
            and self.applications_close_at <= self.applications_open_at
        ):
            errors["applications_close_at"] = _("Applications close after they open.")
        if self.applications_close_at and self.start_date:
            # The session starts at midnight of its first day in the host's time zone.
            host_zone = self.opportunity.host.time_zone if self.opportunity_id else "UTC"
            starts_at = dt.datetime.combine(self.start_date, dt.time.min, ZoneInfo(host_zone))
            if self.applications_close_at > starts_at:
                errors.setdefault(
                    "applications_close_at",
                    _("Applications must close before the session starts."),
                )
        if self.decision_date and self.start_date and self.decision_date > self.start_date:
            errors["decision_date"] = _("Decisions are due before the session starts.")
        if errors:
            raise ValidationError(errors)


# Saved searches ---------------------------------------------------------------------------

#: How many saved searches one person may keep.
SAVED_SEARCH_LIMIT = 20


class SavedSearchQuerySet(models.QuerySet["SavedSearch"]):
    def visible_to(self, user: Any) -> SavedSearchQuerySet:
        """Each person sees (and deletes) only their own saved searches."""
        return self.filter(user=user) if user.is_authenticated else self.none()

    def active(self) -> SavedSearchQuerySet:
        return self.filter(is_active=True)


class SavedSearch(models.Model):
    """A search someone keeps, and is told about when a new matching session is published.

    ``query`` is the normalised query string of the search filters (no page, sort or view),
    the same one the search page reads, so the saved search links back to its results.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="saved_searches",
    )
    name = models.CharField(_("name"), max_length=200)
    query = models.CharField(_("filters"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_notified_at = models.DateTimeField(_("last alert"), null=True, blank=True)
    is_active = models.BooleanField(
        _("send alerts"), default=True, help_text=_("E-mail when a new matching session appears.")
    )

    objects = SavedSearchQuerySet.as_manager()

    class Meta:
        verbose_name = _("saved search")
        verbose_name_plural = _("saved searches")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        url = reverse("catalog:search")
        return f"{url}?{self.query}" if self.query else url


class SavedSearchHit(models.Model):
    """A session a saved search has already alerted about: never twice for the same one."""

    saved_search = models.ForeignKey(SavedSearch, on_delete=models.CASCADE, related_name="hits")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("saved search alert")
        verbose_name_plural = _("saved search alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["saved_search", "session"], name="saved_search_hit_once_per_session"
            )
        ]

    def __str__(self) -> str:
        return f"{self.saved_search} → {self.session}"
