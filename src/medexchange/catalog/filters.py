"""The catalog search filters, shared by the search page, its map and (later) the API.

Every value arrives in the query string, so every filter state is a shareable URL.
Malformed values become field errors; the view then applies the valid ones only.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

import django_filters
from django import forms
from django.db.models import (
    BooleanField,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Abs, Cast, Least
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from medexchange.accounts.models import ApplicantProfile
from medexchange.catalog.choices import SPECIALTIES, Level, OpportunityKind
from medexchange.catalog.eligibility import eligible_for
from medexchange.catalog.models import Opportunity, Session
from medexchange.catalog.search import search_opportunities
from medexchange.common.languages import language_choices
from medexchange.network.choices import MembershipStatus, Region
from medexchange.network.models import Membership, Network

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_POINT = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")


class Sort:
    """Orders of the results."""

    RELEVANCE = "relevance"
    START = "start"
    DEADLINE = "deadline"
    DISTANCE = "distance"


SORT_CHOICES = [
    (Sort.RELEVANCE, _("Relevance")),
    (Sort.START, _("Start date")),
    (Sort.DEADLINE, _("Application deadline")),
    (Sort.DISTANCE, _("Distance")),
]

#: Names of the facet groups, each counted over the results of every other filter.
FACETS = (
    "kind",
    "level",
    "specialty",
    "country",
    "region",
    "network",
    "language",
    "start_month",
    "open_now",
    "fee_free",
    "waiver",
    "scholarship",
    "eligible",
)
# Filters applied outside the facet loop: text (once, with its rank) and ordering.
_NOT_FACETS = ("q", "sort", "near")


class MonthField(forms.CharField):
    """A month as ``YYYY-MM``, cleaned to the first day of that month."""

    default_error_messages = {
        "invalid": _("Enter a month as YYYY-MM, for example 2027-03."),
    }

    def to_python(self, value: Any) -> dt.date | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        match = _MONTH.match(text)
        if match:
            year, month = int(match[1]), int(match[2])
            if 2000 <= year <= 2100 and 1 <= month <= 12:
                return dt.date(year, month, 1)
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class PointField(forms.CharField):
    """A place as ``latitude,longitude`` in degrees."""

    default_error_messages = {
        "invalid": _("Enter a latitude and a longitude, for example -1.2833,36.8167."),
    }

    def to_python(self, value: Any) -> tuple[float, float] | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        match = _POINT.match(text)
        if match:
            lat, lon = float(match[1]), float(match[2])
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                return lat, lon
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class MonthFilter(django_filters.Filter):
    field_class = MonthField


class PointFilter(django_filters.Filter):
    field_class = PointField


class FlagFilter(django_filters.Filter):
    """A checkbox: ticked filters, unticked (or absent) does nothing."""

    field_class = forms.BooleanField


def upcoming_sessions() -> QuerySet[Session]:
    """Scheduled sessions that have not started yet (today in the server's time zone)."""
    return Session.objects.scheduled().filter(start_date__gte=timezone.localdate())


def searchable_opportunities(user: Any) -> QuerySet[Opportunity]:
    """What the search shows: published, visible, with at least one upcoming session."""
    upcoming = upcoming_sessions().filter(opportunity=OuterRef("pk"))
    return Opportunity.objects.visible_to(user).published().filter(Exists(upcoming))


class LanguagesInclude(Func):
    """True when the opportunity's ``languages`` list holds any of ``codes``.

    Correlated per row, like ``eligibility.JsonRulesMet``: the database expands only the
    JSON of the rows it looks at (``jsonb_array_elements`` on PostgreSQL, ``json_each``
    on SQLite), so the condition has the same cheap plan wherever it is used (the
    results, a facet's counts, the search page's one facet query). The column is
    compiled by Django, so it stays correct in a subquery.
    """

    output_field = BooleanField()

    def __init__(self, codes: Iterable[str]) -> None:
        super().__init__(F("languages"))
        self.codes = sorted(set(codes))

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        column, column_params = compiler.compile(self.source_expressions[0])
        placeholders = ", ".join(["%s"] * len(self.codes))
        # Only the compiled column reference is interpolated; every code is a parameter.
        if connection.vendor == "postgresql":
            sql = (
                "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN "  # noqa: S608
                f"jsonb_typeof({column}) = 'array' THEN {column} ELSE '[]' END) e "
                f"WHERE e.value->>'code' IN ({placeholders}))"
            )
            params = [*column_params, *column_params]
        else:
            sql = (
                f"(json_valid({column}) AND EXISTS (SELECT 1 FROM json_each({column}) e "  # noqa: S608
                f"WHERE json_extract(e.value, '$.code') IN ({placeholders})))"
            )
            params = [*column_params, *column_params]
        return sql, [*params, *self.codes]


class OpportunitySearchFilter(django_filters.FilterSet):
    """Free text, facets and sort of the catalog search.

    ``eligible`` narrows to what the signed-in applicant's profile meets; pass
    ``request=`` (or any object with a ``user``) for it to apply.
    """

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_nothing",
        max_length=200,
        help_text=_("Title, description, specialty, institution or city"),
    )
    kind = django_filters.MultipleChoiceFilter(
        label=_("Kind"), choices=OpportunityKind.choices, widget=forms.CheckboxSelectMultiple
    )
    level = django_filters.MultipleChoiceFilter(
        label=_("Level"), choices=Level.choices, widget=forms.CheckboxSelectMultiple
    )
    specialty = django_filters.MultipleChoiceFilter(
        label=_("Specialty"),
        field_name="specialty__code",
        choices=SPECIALTIES,
        widget=forms.CheckboxSelectMultiple,
    )
    country = django_filters.MultipleChoiceFilter(
        label=_("Country"),
        field_name="host__country__code",
        choices=lambda: list(countries),
        widget=forms.CheckboxSelectMultiple,
    )
    region = django_filters.ChoiceFilter(
        label=_("Region"), field_name="host__country__region", choices=Region.choices
    )
    network = django_filters.ModelMultipleChoiceFilter(
        label=_("Network"),
        queryset=Network.objects.all(),
        to_field_name="slug",
        method="filter_condition",
        widget=forms.CheckboxSelectMultiple,
    )
    language = django_filters.MultipleChoiceFilter(
        label=_("Language"),
        choices=language_choices,
        method="filter_condition",
        widget=forms.CheckboxSelectMultiple,
    )
    start_month = MonthFilter(
        label=_("Starting in"), method="filter_condition", help_text=_("YYYY-MM")
    )
    open_now = FlagFilter(label=_("Open for applications now"), method="filter_condition")
    fee_free = FlagFilter(label=_("No fees"), method="filter_condition")
    waiver = FlagFilter(label=_("Fee waiver available"), method="filter_condition")
    scholarship = FlagFilter(label=_("Eligible for scholarships"), method="filter_condition")
    # Eligibility (catalog.eligibility) -------------------------------------------------
    # Needs ``request=`` (any object with a ``user``) to know whose profile to use;
    # without a signed-in user or a profile it is ignored and ``eligibility_notice`` says so.
    eligible = FlagFilter(label=_("Eligible for my profile"), method="filter_condition")
    # -----------------------------------------------------------------------------------
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"), choices=SORT_CHOICES, method="filter_nothing", empty_label=None
    )
    near = PointFilter(
        label=_("Near"),
        method="filter_nothing",
        help_text=_("A host city, for sorting by distance"),
    )

    class Meta:
        model = Opportunity
        fields: list[str] = []

    # Filtering --------------------------------------------------------------------------

    def filter_queryset(self, queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
        return self.ordered(self.facet_queryset(self.text_queryset(queryset)))

    def text_queryset(self, queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
        """``queryset`` narrowed by the free text and annotated with ``rank``."""
        return search_opportunities(queryset, self.form.cleaned_data.get("q") or "")

    def facet_queryset(
        self, queryset: QuerySet[Opportunity], *, without: str | None = None
    ) -> QuerySet[Opportunity]:
        """Every facet filter applied except ``without`` (for that facet's counts)."""
        for name, condition in self.conditions().items():
            if name != without:
                queryset = queryset.filter(condition)
        return queryset

    def conditions(self) -> dict[str, Q]:
        """The condition of each facet filter that filters, by name.

        Each is a condition on one opportunity row (joins only along foreign keys,
        ``EXISTS`` for sessions, memberships and languages), so applying them never
        repeats a row and needs no ``DISTINCT``; the search page's facet counts
        (``selectors.search_facets``) use the very same conditions.
        """
        conditions = {}
        for name, value in self.form.cleaned_data.items():
            if name in _NOT_FACETS:
                continue
            condition = self.condition(name, value)
            if condition is not None:
                conditions[name] = condition
        return conditions

    def condition(self, name: str, value: Any) -> Q | None:
        """The condition of the facet filter ``name`` for ``value``; None when it is off."""
        if not value:
            return None
        lookups = {
            "kind": "kind__in",
            "level": "level__in",
            "specialty": "specialty__code__in",
            "country": "host__country__code__in",
        }
        if name in lookups:
            return Q(**{lookups[name]: list(value)})
        if name == "region":
            return Q(host__country__region=value)
        if name == "network":
            members = Membership.objects.filter(
                network__in=value, status=MembershipStatus.ACTIVE, institution=OuterRef("host")
            )
            return Q(Exists(members))
        if name == "language":
            return Q(LanguagesInclude(value))
        if name == "start_month":
            next_month = (value + dt.timedelta(days=32)).replace(day=1)
            sessions = upcoming_sessions().filter(
                opportunity=OuterRef("pk"), start_date__gte=value, start_date__lt=next_month
            )
            return Q(Exists(sessions))
        if name == "eligible":
            profile = self.applicant_profile()
            if profile is None:
                return None
            # ``eligible_for`` filters a queryset; over the one row it is a row condition.
            same_row = Opportunity.objects.filter(pk=OuterRef("pk"))
            return Q(Exists(eligible_for(same_row, profile)))
        return FLAG_CONDITIONS[name]()

    def ordered(self, queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
        data = self.form.cleaned_data
        sort = data.get("sort") or Sort.RELEVANCE
        queryset = annotate_next_dates(queryset)
        if sort == Sort.DISTANCE and data.get("near"):
            lat, lon = data["near"]
            return annotate_distance(queryset, lat, lon).order_by(
                "distance_sq", "next_start", "title", "pk"
            )
        if sort == Sort.START:
            return queryset.order_by("next_start", "title", "pk")
        if sort == Sort.DEADLINE:
            return queryset.order_by(F("next_deadline").asc(nulls_last=True), "title", "pk")
        if data.get("q"):
            return queryset.order_by("-rank", "next_start", "title", "pk")
        return queryset.order_by("next_start", "title", "pk")

    def filter_nothing(self, queryset: QuerySet[Opportunity], name: str, value: Any) -> Any:
        return queryset

    def filter_condition(self, queryset: QuerySet[Opportunity], name: str, value: Any) -> Any:
        condition = self.condition(name, value)
        return queryset if condition is None else queryset.filter(condition)

    # Eligibility (catalog.eligibility) -------------------------------------------------

    def applicant_profile(self) -> ApplicantProfile | None:
        """The signed-in user's applicant profile (read once per filter set), if any."""
        if not hasattr(self, "_applicant_profile"):
            user = getattr(self.request, "user", None)
            self._applicant_profile = (
                ApplicantProfile.objects.owned_by(user).select_related("home_country").first()
                if user is not None and user.is_authenticated
                else None
            )
        return self._applicant_profile

    def eligibility_notice(self) -> str:
        """Why a ticked ``eligible`` was ignored; empty when it was applied (or not asked)."""
        if not self.form.cleaned_data.get("eligible") or self.applicant_profile():
            return ""
        user = getattr(self.request, "user", None)
        if user is None or not user.is_authenticated:
            return str(_("Sign in and complete your profile to see what you are eligible for."))
        return str(_("Complete your profile to see what you are eligible for."))

    # -----------------------------------------------------------------------------------


FEE_FREE = Q(application_fee=0, tuition_fee=0)
HAS_WAIVER = Q(waiver_under_agreement=True) | Q(waiver_for_lower_income=True)


def open_sessions() -> QuerySet[Session]:
    """Upcoming sessions taking applications right now."""
    now = timezone.now()
    return upcoming_sessions().filter(applications_open_at__lte=now, applications_close_at__gt=now)


#: The ticked-box filters (``FLAGS`` of the facets), each a condition on one row; a
#: function because "now" moves.
FLAG_CONDITIONS: dict[str, Callable[[], Q]] = {
    "open_now": lambda: Q(Exists(open_sessions().filter(opportunity=OuterRef("pk")))),
    "fee_free": lambda: FEE_FREE,
    "waiver": lambda: HAS_WAIVER,
    "scholarship": lambda: Q(scholarship_eligible=True),
}


def annotate_next_dates(queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    """``next_start``: the first upcoming session; ``next_deadline``: the first open deadline."""
    upcoming = upcoming_sessions().filter(opportunity=OuterRef("pk"))
    deadlines = upcoming.filter(applications_close_at__gt=timezone.now())
    return queryset.annotate(
        next_start=Subquery(upcoming.order_by("start_date").values("start_date")[:1]),
        next_deadline=Subquery(
            deadlines.order_by("applications_close_at").values("applications_close_at")[:1]
        ),
    )


def annotate_distance(
    queryset: QuerySet[Opportunity], lat: float, lon: float
) -> QuerySet[Opportunity]:
    """``distance_sq``: squared equirectangular distance to the host, in degrees².

    Computed in SQL on both databases with plain arithmetic (longitudes wrap at the
    antimeridian): good enough to order by, off by a few per cent over thousands of
    kilometres. ``distance_km`` turns it into kilometres for display.
    """
    host_lat = Cast("host__latitude", FloatField())
    host_lon = Cast("host__longitude", FloatField())
    d_lon = Abs(host_lon - Value(lon))
    wrapped = Least(d_lon, Value(360.0) - d_lon)
    x = wrapped * Value(math.cos(math.radians(lat)))
    y = host_lat - Value(lat)
    return queryset.annotate(distance_sq=x * x + y * y)


def distance_km(distance_sq: float | None) -> float | None:
    if distance_sq is None:
        return None
    return math.sqrt(distance_sq) * 111.195
