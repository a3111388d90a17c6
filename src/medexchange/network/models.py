"""The network directory: countries, networks, institutions, sites, memberships."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from medexchange.common.fields import HttpsURLField
from medexchange.common.timezones import TIME_ZONE_CHOICES
from medexchange.network.choices import (
    EmStatus,
    IncomeGroup,
    InstitutionKind,
    JoinRequestStatus,
    MembershipStatus,
    NetworkScope,
    OfferKind,
    Region,
    SiteKind,
)

LATITUDE_VALIDATORS = [MinValueValidator(-90), MaxValueValidator(90)]

#: Fixed words of addresses where a network's short name would stand
#: (/funding/my-gifts/, /funding/webhooks/stripe/): a network called so would be unreachable.
RESERVED_NETWORK_SLUGS = frozenset({"my-gifts", "webhooks"})


def validate_network_slug(value: str) -> None:
    if value in RESERVED_NETWORK_SLUGS:
        raise ValidationError(
            _("“%(slug)s” is a word the site's addresses already use; choose another short name."),
            params={"slug": value},
            code="reserved",
        )


LONGITUDE_VALIDATORS = [MinValueValidator(-180), MaxValueValidator(180)]


class CountryProfileQuerySet(models.QuerySet["CountryProfile"]):
    def editable_by(self, user: Any) -> CountryProfileQuerySet:
        return self if user.is_authenticated and user.is_network_staff else self.none()


class CountryProfile(models.Model):
    """An ISO country with the facts that drive priority (EM status, income group)."""

    code = CountryField(_("country"), unique=True)
    region = models.CharField(_("region"), max_length=20, choices=Region.choices, blank=True)
    subregion = models.CharField(_("sub-region"), max_length=60, blank=True)
    income_group = models.CharField(
        _("income group"), max_length=20, choices=IncomeGroup.choices, blank=True
    )
    em_status = models.CharField(
        _("Emergency Medicine specialty"), max_length=20, choices=EmStatus.choices, blank=True
    )
    em_recognised_year = models.PositiveSmallIntegerField(
        _("year EM was recognised"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1950), MaxValueValidator(2100)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = CountryProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("country profile")
        verbose_name_plural = _("country profiles")
        ordering = ["code"]

    def __str__(self) -> str:
        return str(self.code.name)

    def clean(self) -> None:
        if self.em_status == EmStatus.EMERGING and not self.em_recognised_year:
            raise ValidationError(
                {"em_recognised_year": _("Give the year Emergency Medicine was recognised.")}
            )
        if self.em_recognised_year and self.em_status == EmStatus.NOT_RECOGNISED:
            raise ValidationError(
                {"em_recognised_year": _("A country where EM is not recognised has no year.")}
            )

    @property
    def name(self) -> str:
        return str(self.code.name)


class Network(models.Model):
    """A global or regional grouping of institutions."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), unique=True, validators=[validate_network_slug])
    scope = models.CharField(_("scope"), max_length=10, choices=NetworkScope.choices)
    region = models.CharField(_("region"), max_length=20, choices=Region.choices, blank=True)
    description = models.TextField(_("description"), blank=True)
    values_statement = models.TextField(
        _("values members agree to"),
        blank=True,
        help_text=_("Shown on the join form; applicants must agree to it."),
    )
    website = HttpsURLField(_("website"), blank=True)

    class Meta:
        verbose_name = _("network")
        verbose_name_plural = _("networks")
        ordering = ["scope", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope="global") | ~Q(region=""), name="regional_network_has_region"
            )
        ]

    def __str__(self) -> str:
        return self.name


class InstitutionQuerySet(models.QuerySet["Institution"]):
    def members(self) -> InstitutionQuerySet:
        """Institutions with at least one active membership: the public directory."""
        active = Membership.objects.filter(
            institution=OuterRef("pk"), status=MembershipStatus.ACTIVE
        )
        return self.filter(Exists(active))

    def visible_to(self, user: Any) -> InstitutionQuerySet:
        """Everyone sees members; coordinators also their own; staff everything."""
        if user.is_authenticated and user.is_network_staff:
            return self
        if user.is_authenticated:
            own = self.filter(pk__in=user.coordinated_institution_ids())
            return self.members() | own
        return self.members()

    def editable_by(self, user: Any) -> InstitutionQuerySet:
        """Coordinators edit their own institution; network staff those in their networks."""
        if not user.is_authenticated:
            return self.none()
        staffed = user.staffed_network_ids() if user.is_network_staff else None
        if user.is_superuser:
            return self
        condition = Q(pk__in=user.coordinated_institution_ids())
        if staffed is not None:
            # Staff look after their networks' current members, not those that left.
            condition |= Q(
                memberships__network_id__in=staffed,
                memberships__status__in=[
                    MembershipStatus.APPLIED,
                    MembershipStatus.ACTIVE,
                    MembershipStatus.SUSPENDED,
                ],
            )
        return self.filter(condition).distinct()


class Institution(models.Model):
    """A medical school, teaching hospital, health organisation or training institution."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("web address"), max_length=220, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=InstitutionKind.choices)
    country = models.ForeignKey(
        CountryProfile, verbose_name=_("country"), on_delete=models.PROTECT, related_name="+"
    )
    city = models.CharField(_("city"), max_length=120)
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=8, decimal_places=5, validators=LATITUDE_VALIDATORS
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=8, decimal_places=5, validators=LONGITUDE_VALIDATORS
    )
    languages = models.JSONField(
        _("working languages"), default=list, blank=True, help_text=_("ISO 639-1 codes.")
    )
    website = HttpsURLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        choices=TIME_ZONE_CHOICES,
        default="UTC",
        help_text=_("Application deadlines are set in this time zone."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InstitutionQuerySet.as_manager()

    class Meta:
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        ordering = ["name"]
        indexes = [models.Index(fields=["kind"]), models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("network:institution", kwargs={"slug": self.slug})


class SiteQuerySet(models.QuerySet["Site"]):
    def visible_to(self, user: Any) -> SiteQuerySet:
        return self.filter(institution__in=Institution.objects.visible_to(user))

    def editable_by(self, user: Any) -> SiteQuerySet:
        return self.filter(institution__in=Institution.objects.editable_by(user))


class Site(models.Model):
    """A place where participants work, owned by an institution."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=SiteKind.choices)
    city = models.CharField(_("city"), max_length=120)
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=LATITUDE_VALIDATORS,
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=LONGITUDE_VALIDATORS,
    )
    description = models.TextField(_("description"), blank=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.institution})"


class Membership(models.Model):
    """An institution's membership of a network: applied → active → suspended/left."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="memberships"
    )
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="memberships")
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=MembershipStatus.choices,
        default=MembershipStatus.APPLIED,
    )
    applied_on = models.DateField(_("applied on"))
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["network__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "network"], name="one_membership_per_network"
            )
        ]
        indexes = [models.Index(fields=["network", "status"])]

    def __str__(self) -> str:
        return f"{self.institution} · {self.network} ({self.get_status_display()})"


class JoinRequestQuerySet(models.QuerySet["JoinRequest"]):
    def visible_to(self, user: Any) -> JoinRequestQuerySet:
        """Only staff of the network applied to (or superusers) see a join request."""
        if not user.is_authenticated or not user.is_network_staff:
            return self.none()
        staffed = user.staffed_network_ids()
        return self if staffed is None else self.filter(network_id__in=staffed)


class JoinRequest(models.Model):
    """An institution's application to join a network, reviewed by network staff."""

    network = models.ForeignKey(
        Network, verbose_name=_("network"), on_delete=models.PROTECT, related_name="join_requests"
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=JoinRequestStatus.choices,
        default=JoinRequestStatus.SUBMITTED,
    )
    institution_name = models.CharField(_("institution name"), max_length=200)
    kind = models.CharField(
        _("kind of institution"), max_length=30, choices=InstitutionKind.choices
    )
    country = models.ForeignKey(
        CountryProfile, verbose_name=_("country"), on_delete=models.PROTECT, related_name="+"
    )
    city = models.CharField(_("city"), max_length=120)
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=8, decimal_places=5, validators=LATITUDE_VALIDATORS
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=8, decimal_places=5, validators=LONGITUDE_VALIDATORS
    )
    website = HttpsURLField(_("website"), blank=True)
    languages = models.JSONField(_("working languages"), default=list, blank=True)
    description = models.TextField(_("about the institution"))
    contact_name = models.CharField(_("contact person"), max_length=200)
    contact_email = models.EmailField(_("contact e-mail"))
    contact_position = models.CharField(_("position"), max_length=200, blank=True)
    contact_phone = models.CharField(_("telephone"), max_length=40, blank=True)
    can_offer = models.JSONField(_("what it can offer"), default=list, blank=True)
    places_per_year = models.PositiveIntegerField(
        _("visitors it can host per year"), default=0, validators=[MaxValueValidator(10_000)]
    )
    offer_details = models.TextField(_("what it can offer and host"), blank=True)
    agrees_to_values = models.BooleanField(_("agrees to the network's values"), default=False)
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, default="en")
    submitted_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.TextField(_("reason"), blank=True)
    institution = models.ForeignKey(
        Institution, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = JoinRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("join request")
        verbose_name_plural = _("join requests")
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.institution_name} → {self.network}"

    def offer_labels(self) -> list[str]:
        return [str(OfferKind(kind).label) for kind in self.can_offer if kind in OfferKind.values]
