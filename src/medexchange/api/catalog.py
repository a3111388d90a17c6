"""The catalog in the public API, version 1: opportunities and their sessions.

Reads are public. Writes (create, edit, duplicate, publish and unpublish an opportunity;
add, edit and cancel a session) are for the host's coordinators and superusers, signed in
with their session (so with a CSRF token), and go through ``medexchange.catalog.services``:
validation and audit are those of the pages, and a service's error is a 400 naming the
field. Writes find their object through ``editable_by(request.user)``: what is not yours is
a 404, like what does not exist. Nothing is deleted: unpublish or cancel instead (405).

Field lists are explicit so that a new model field never leaks. Every read queryset starts
from ``visible_to(request.user)``, so drafts stay with their host and "not visible" and
"does not exist" are the same 404.

``CatalogFilter`` (and its two concrete FilterSets) is shared with the iCalendar feed
(``medexchange.catalog.views.feeds``) so that a feed URL accepts the same query string as
the API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import django_filters
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Exists, Field, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.settings import api_settings

from medexchange.api.permissions import ReadOnlyOrSignedIn
from medexchange.api.serializers import CountrySummarySerializer, SiteSerializer
from medexchange.api.views import PublicViewSet
from medexchange.catalog import services
from medexchange.catalog.choices import (
    SPECIALTIES,
    AccommodationKind,
    Cefr,
    DocumentKind,
    Immunisation,
    Level,
    OpportunityKind,
    TrainingLevel,
)
from medexchange.catalog.models import Opportunity, Session, Specialty
from medexchange.catalog.permissions import catalog_hosts
from medexchange.catalog.services import OPPORTUNITY_EDITABLE_FIELDS, SESSION_EDITABLE_FIELDS
from medexchange.network.choices import MembershipStatus
from medexchange.network.models import CountryProfile, Institution, Membership, Network, Site

# --- Filters -----------------------------------------------------------------------------

TRUE_VALUES = frozenset({"true", "1"})


class CatalogFilter(django_filters.FilterSet):
    """The catalog's filters, for opportunities or for sessions.

    ``opportunity_path`` is how the filtered model reaches the opportunity ("" for
    opportunities, "opportunity__" for sessions). The session conditions (``open_now``,
    ``start_after``, ``start_before``) apply together: an opportunity matches when one of
    its scheduled sessions meets all of them. Malformed values are field errors (400).
    """

    opportunity_path: ClassVar[str] = ""

    kind = django_filters.MultipleChoiceFilter(
        label=_("Kind"), choices=OpportunityKind.choices, method="filter_opportunity"
    )
    level = django_filters.MultipleChoiceFilter(
        label=_("Level"), choices=Level.choices, method="filter_opportunity"
    )
    # The maintained list, not a query: a specialty filter costs no extra round trip.
    specialty = django_filters.MultipleChoiceFilter(
        label=_("Specialty"),
        field_name="specialty__code",
        choices=SPECIALTIES,
        method="filter_opportunity",
    )
    country = django_filters.MultipleChoiceFilter(
        label=_("Host country"),
        field_name="host__country__code",
        # A callable, so country names follow the language of each request.
        choices=lambda: list(countries),
        method="filter_opportunity",
        help_text=_("ISO 3166-1 alpha-2 code of the host's country."),
    )
    network = django_filters.ModelMultipleChoiceFilter(
        label=_("Network"),
        queryset=Network.objects.all(),
        to_field_name="slug",
        method="filter_network",
        help_text=_("Slug of a network the host is an active member of."),
    )
    # A choice, not a BooleanFilter: that one reads "perhaps" as "no filter" silently.
    open_now = django_filters.ChoiceFilter(
        label=_("Open for applications now"),
        choices=[("true", _("Yes")), ("false", _("Any")), ("1", _("Yes")), ("0", _("Any"))],
        method="filter_sessions",
        help_text=_("true: only with a session whose application window is open now."),
    )
    start_after = django_filters.DateFilter(
        label=_("Starts on or after"),
        method="filter_sessions",
        help_text=_("YYYY-MM-DD: a session starts on or after this day."),
    )
    start_before = django_filters.DateFilter(
        label=_("Starts on or before"),
        method="filter_sessions",
        help_text=_("YYYY-MM-DD: a session starts on or before this day."),
    )

    def filter_opportunity(self, queryset: QuerySet[Any], name: str, value: list[str]) -> Any:
        if not value:
            return queryset
        return queryset.filter(**{f"{self.opportunity_path}{name}__in": value})

    def filter_network(self, queryset: QuerySet[Any], name: str, value: list[Network]) -> Any:
        if not value:
            return queryset
        hosts = Membership.objects.filter(network__in=value, status=MembershipStatus.ACTIVE).values(
            "institution_id"
        )
        return queryset.filter(**{f"{self.opportunity_path}host_id__in": hosts})

    def filter_sessions(self, queryset: QuerySet[Any], name: str, value: Any) -> Any:
        # Applied once, for all three fields together, in filter_queryset.
        return queryset

    def session_condition(self) -> Q | None:
        """The conditions on one session from open_now, start_after and start_before."""
        data = self.form.cleaned_data
        condition = Q()
        if data.get("open_now") in TRUE_VALUES:
            now = timezone.now()
            condition &= Q(applications_open_at__lte=now, applications_close_at__gt=now)
        if data.get("start_after") is not None:
            condition &= Q(start_date__gte=data["start_after"])
        if data.get("start_before") is not None:
            condition &= Q(start_date__lte=data["start_before"])
        return condition or None

    def filter_queryset(self, queryset: QuerySet[Any]) -> Any:
        queryset = super().filter_queryset(queryset)
        condition = self.session_condition()
        if condition is None:
            return queryset
        return self.apply_session_condition(queryset, condition)

    def apply_session_condition(self, queryset: QuerySet[Any], condition: Q) -> Any:
        raise NotImplementedError


class OpportunityFilter(CatalogFilter):
    class Meta:
        model = Opportunity
        fields = [
            "kind",
            "level",
            "specialty",
            "country",
            "network",
            "open_now",
            "start_after",
            "start_before",
        ]

    def apply_session_condition(self, queryset: QuerySet[Any], condition: Q) -> Any:
        sessions = Session.objects.scheduled().filter(condition, opportunity=OuterRef("pk"))
        return queryset.filter(Exists(sessions))


class SessionFilter(CatalogFilter):
    opportunity_path = "opportunity__"

    class Meta:
        model = Session
        fields = OpportunityFilter.Meta.fields

    def apply_session_condition(self, queryset: QuerySet[Any], condition: Q) -> Any:
        return queryset.filter(condition)


# --- Serializers -------------------------------------------------------------------------


class HostSerializer(serializers.ModelSerializer):
    """The host institution: enough to label it without a second request."""

    country = CountrySummarySerializer(read_only=True)
    time_zone = serializers.CharField(read_only=True, help_text="IANA time zone name.")

    class Meta:
        model = Institution
        fields = ["slug", "name", "city", "country", "time_zone"]
        read_only_fields = fields


class SpecialtySerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="label", read_only=True)

    class Meta:
        model = Specialty
        fields = ["code", "name"]
        read_only_fields = fields


class LanguageRequirementSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True, help_text="ISO 639-1 code.")
    minimum_level = serializers.ChoiceField(
        source="level", choices=Cefr.choices, read_only=True, help_text="CEFR level."
    )


class EligibilitySerializer(serializers.ModelSerializer):
    """Who may apply. Empty lists and nulls mean "no restriction"."""

    training_levels = serializers.ListField(
        child=serializers.ChoiceField(choices=TrainingLevel.choices), read_only=True
    )
    eligible_countries = serializers.SerializerMethodField(
        help_text="ISO codes of the listed countries (home_country_rule 'listed')."
    )
    required_documents = serializers.ListField(
        child=serializers.ChoiceField(choices=DocumentKind.choices), read_only=True
    )
    required_immunisations = serializers.ListField(
        child=serializers.ChoiceField(choices=Immunisation.choices), read_only=True
    )

    class Meta:
        model = Opportunity
        fields = [
            "training_levels",
            "min_year_of_study",
            "max_year_of_study",
            "home_country_rule",
            "eligible_countries",
            "required_documents",
            "required_immunisations",
        ]
        read_only_fields = fields

    def get_eligible_countries(self, obj: Opportunity) -> list[str]:
        # Prefetched by the view: reading .all() costs no query.
        return sorted(str(profile.code) for profile in obj.eligible_countries.all())


class FeesSerializer(serializers.ModelSerializer):
    """Every fee, up front, in the opportunity's currency."""

    notes = serializers.CharField(source="fee_notes", read_only=True)
    is_fee_free = serializers.BooleanField(read_only=True)

    class Meta:
        model = Opportunity
        fields = [
            "currency",
            "application_fee",
            "tuition_fee",
            "international_surcharge",
            "is_fee_free",
            "notes",
        ]
        read_only_fields = fields


class WaiversSerializer(serializers.ModelSerializer):
    under_agreement = serializers.BooleanField(source="waiver_under_agreement", read_only=True)
    for_lower_income = serializers.BooleanField(source="waiver_for_lower_income", read_only=True)
    notes = serializers.CharField(source="waiver_notes", read_only=True)

    class Meta:
        model = Opportunity
        fields = ["under_agreement", "for_lower_income", "notes"]
        read_only_fields = fields


class AccommodationSerializer(serializers.ModelSerializer):
    help = serializers.ChoiceField(
        source="accommodation", choices=AccommodationKind.choices, read_only=True
    )
    notes = serializers.CharField(source="accommodation_notes", read_only=True)

    class Meta:
        model = Opportunity
        fields = [
            "help",
            "notes",
            "monthly_housing_cost",
            "monthly_transport_cost",
            "monthly_insurance_cost",
        ]
        read_only_fields = fields


class CostLinesSerializer(serializers.Serializer):
    fees = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    housing = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    transport = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    insurance = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    total = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)


class CostEstimateSerializer(serializers.Serializer):
    """The all-in estimate for one stay, for local and for international applicants."""

    currency = serializers.CharField(read_only=True)
    months = serializers.DecimalField(max_digits=5, decimal_places=1, read_only=True)
    domestic = CostLinesSerializer(read_only=True)
    international = CostLinesSerializer(read_only=True)


def cost_estimate(opportunity: Opportunity) -> dict[str, Any]:
    return {
        "currency": opportunity.currency,
        "months": opportunity.months,
        "domestic": opportunity.cost_estimate(),
        "international": opportunity.cost_estimate(international=True),
    }


def _host_local(value: dt.datetime, zone_name: str) -> str:
    """An ISO 8601 datetime with the offset of the host's time zone."""
    return value.astimezone(ZoneInfo(zone_name)).isoformat()


class SessionSerializer(serializers.ModelSerializer):
    """One dated run: its window is shown in the host's time zone."""

    opportunity: serializers.SlugRelatedField[Opportunity] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    time_zone = serializers.SerializerMethodField(help_text="The host's time zone.")
    applications_open_at = serializers.SerializerMethodField()
    applications_close_at = serializers.SerializerMethodField()
    open_for_applications = serializers.SerializerMethodField()

    class Meta:
        model = Session
        fields = [
            "id",
            "opportunity",
            "start_date",
            "end_date",
            "capacity",
            "time_zone",
            "applications_open_at",
            "applications_close_at",
            "open_for_applications",
            "decision_date",
        ]
        read_only_fields = fields

    def get_time_zone(self, obj: Session) -> str:
        return obj.opportunity.host.time_zone

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_applications_open_at(self, obj: Session) -> str:
        return _host_local(obj.applications_open_at, obj.opportunity.host.time_zone)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_applications_close_at(self, obj: Session) -> str:
        return _host_local(obj.applications_close_at, obj.opportunity.host.time_zone)

    def get_open_for_applications(self, obj: Session) -> bool:
        now = self.context.get("now") or timezone.now()
        return bool(obj.applications_open_at <= now < obj.applications_close_at)


class OpportunitySerializer(serializers.ModelSerializer):
    """An opportunity as listed in the catalog: what, where, for whom, and all it costs."""

    kind = serializers.ChoiceField(choices=OpportunityKind.choices, read_only=True)
    host = HostSerializer(read_only=True)
    specialty = SpecialtySerializer(read_only=True)
    languages = LanguageRequirementSerializer(many=True, read_only=True)
    eligibility = EligibilitySerializer(source="*", read_only=True)
    fees = FeesSerializer(source="*", read_only=True)
    waivers = WaiversSerializer(source="*", read_only=True)
    accommodation = AccommodationSerializer(source="*", read_only=True)
    cost_estimate = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text="The opportunity's public page.")

    class Meta:
        model = Opportunity
        fields = [
            "slug",
            "title",
            "kind",
            "level",
            "status",
            "host",
            "specialty",
            "summary",
            "description",
            "languages",
            "duration_days",
            "eligibility",
            "fees",
            "waivers",
            "scholarship_eligible",
            "accommodation",
            "cost_estimate",
            "url",
        ]
        read_only_fields = fields

    @extend_schema_field(CostEstimateSerializer)
    def get_cost_estimate(self, obj: Opportunity) -> dict[str, Any]:
        return CostEstimateSerializer(cost_estimate(obj)).data

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj: Opportunity) -> str:
        path = obj.get_absolute_url()
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class OpportunityDetailSerializer(OpportunitySerializer):
    """An opportunity with its sites and upcoming sessions: only the detail loads them."""

    sites = SiteSerializer(many=True, read_only=True)
    upcoming_sessions = SessionSerializer(many=True, read_only=True)

    class Meta(OpportunitySerializer.Meta):
        fields = [*OpportunitySerializer.Meta.fields, "sites", "upcoming_sessions"]
        read_only_fields = fields


# --- Writes: what coordinators send --------------------------------------------------------
# Flat, with the model's field names, so that a service's error names the field that was
# sent. The serializers only parse: every rule is the catalog services' (as on the pages).


class OpportunitySiteSerializer(SiteSerializer):
    """A site of the opportunity, with the id a write names it by."""

    class Meta(SiteSerializer.Meta):
        fields = ["id", *SiteSerializer.Meta.fields]
        read_only_fields = fields


class HostOpportunitySerializer(OpportunityDetailSerializer):
    """An opportunity as a write returns it: the detail, with the ids of its sites."""

    sites = OpportunitySiteSerializer(many=True, read_only=True)


class LanguageInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=10, help_text="ISO 639-1 code.")
    minimum_level = serializers.ChoiceField(
        source="level", choices=Cefr.choices, help_text="CEFR level."
    )


class OpportunityWriteSerializer(serializers.ModelSerializer):
    """An opportunity's editable fields; ``status`` changes through publish and unpublish."""

    specialty = serializers.SlugRelatedField(
        slug_field="code", queryset=Specialty.objects.all(), help_text="Specialty code."
    )
    languages = LanguageInputSerializer(many=True, required=False)
    sites = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Site.objects.all(),
        required=False,
        help_text="Ids of the host's sites.",
    )
    training_levels = serializers.ListField(
        child=serializers.ChoiceField(choices=TrainingLevel.choices), required=False
    )
    eligible_countries = serializers.SlugRelatedField(
        many=True,
        slug_field="code",
        queryset=CountryProfile.objects.all(),
        required=False,
        help_text="ISO 3166-1 alpha-2 codes (home_country_rule 'listed').",
    )
    required_documents = serializers.ListField(
        child=serializers.ChoiceField(choices=DocumentKind.choices), required=False
    )
    required_immunisations = serializers.ListField(
        child=serializers.ChoiceField(choices=Immunisation.choices), required=False
    )
    accommodation = serializers.ChoiceField(
        choices=AccommodationKind.choices,
        required=False,
        help_text="One of: " + ", ".join(AccommodationKind.values) + ".",
    )

    class Meta:
        model = Opportunity
        # The web address is made from the title, as on the pages; it is not edited.
        fields = [
            *(name for name in OPPORTUNITY_EDITABLE_FIELDS if name != "slug"),
            "sites",
            "eligible_countries",
        ]

    def service_arguments(self, *, full: bool) -> dict[str, Any]:
        """``values``, ``sites`` and ``eligible_countries`` for a catalog service.

        ``full`` (a create or a PUT): what was not sent takes the model's default;
        otherwise (a PATCH) only what was sent changes.
        """
        data = dict(self.validated_data)
        data.pop("host", None)
        if "languages" in data:
            data["languages"] = [dict(item) for item in data["languages"]]
        if full:
            for name in OpportunityWriteSerializer.Meta.fields:
                if name not in data:
                    field = Opportunity._meta.get_field(name)
                    if not isinstance(field, Field):  # pragma: no cover - all concrete fields
                        raise TypeError(name)
                    data[name] = [] if field.many_to_many else field.get_default()
        return {
            "values": {k: v for k, v in data.items() if k in OPPORTUNITY_EDITABLE_FIELDS},
            "sites": data.get("sites"),
            "eligible_countries": data.get("eligible_countries"),
        }


class OpportunityCreateSerializer(OpportunityWriteSerializer):
    host = serializers.SlugField(
        help_text="Slug of the host institution: one the caller coordinates."
    )

    class Meta(OpportunityWriteSerializer.Meta):
        fields = ["host", *OpportunityWriteSerializer.Meta.fields]


class HostLocalDateTimeField(serializers.DateTimeField):
    """A datetime; one given without an offset is read in the host's time zone (by the
    service), not in the server's."""

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        if timezone.is_naive(value):
            return value
        return super().enforce_timezone(value)


class SessionWriteSerializer(serializers.Serializer):
    """A session's editable fields; datetimes without an offset are in host time."""

    start_date = serializers.DateField()
    end_date = serializers.DateField()
    capacity = serializers.IntegerField()
    applications_open_at = HostLocalDateTimeField(
        help_text="ISO 8601; without an offset, in the host's time zone."
    )
    applications_close_at = HostLocalDateTimeField(
        help_text="ISO 8601; without an offset, in the host's time zone."
    )
    decision_date = serializers.DateField(required=False, allow_null=True)

    def service_values(self, *, full: bool) -> dict[str, Any]:
        values = {k: v for k, v in self.validated_data.items() if k in SESSION_EDITABLE_FIELDS}
        if full:
            values.setdefault("decision_date", None)
        return values


class SessionCreateSerializer(SessionWriteSerializer):
    opportunity = serializers.SlugField(
        help_text="Slug of the opportunity: one of a host the caller coordinates."
    )


class HostSessionSerializer(SessionSerializer):
    """A session as a write returns it: with its cancellation, if any."""

    class Meta(SessionSerializer.Meta):
        fields = [*SessionSerializer.Meta.fields, "cancelled_at"]
        read_only_fields = fields


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="Kept in the history."
    )


def service_error(error: DjangoValidationError) -> serializers.ValidationError:
    """A catalog service's error as a 400 body: field errors under the field's name."""
    if hasattr(error, "error_dict"):
        detail = {
            (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
            for field, messages in error.message_dict.items()
        }
    else:
        detail = {api_settings.NON_FIELD_ERRORS_KEY: error.messages}
    return serializers.ValidationError(detail)


# --- Endpoints ---------------------------------------------------------------------------


def upcoming_sessions_prefetch(today: dt.date) -> Prefetch[Any]:
    return Prefetch(
        "sessions",
        queryset=Session.objects.scheduled()
        .filter(end_date__gte=today)
        .order_by("start_date", "pk"),
        to_attr="upcoming_sessions",
    )


WRITE_ERRORS = {
    400: OpenApiResponse(description="Malformed JSON, or field errors by field name."),
    403: OpenApiResponse(description="Not signed in, or no CSRF token with a session."),
    404: OpenApiResponse(description="No such object among those the caller manages."),
}


def _body_slug(data: Any, key: str) -> str | None:
    """The slug a request body names under ``key``, if it names one."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


@extend_schema_view(
    list=extend_schema(summary="List opportunities", tags=["catalog"]),
    retrieve=extend_schema(
        summary="One opportunity, with its sites and upcoming sessions", tags=["catalog"]
    ),
)
class OpportunityViewSet(PublicViewSet):
    """Published opportunities (and, for a host's coordinators, its drafts).

    Coordinators of the host (and superusers) create, edit, duplicate, publish and
    unpublish through the catalog services, exactly as on the pages. There is no delete:
    unpublish instead. What the caller may not edit answers 404, like what does not exist.
    """

    lookup_field = "slug"
    filterset_class = OpportunityFilter
    permission_classes = [ReadOnlyOrSignedIn]
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[Opportunity]:
        queryset = (
            Opportunity.objects.visible_to(self.request.user)
            .select_related("host__country", "specialty")
            .prefetch_related("eligible_countries")
            .order_by("title", "pk")
        )
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                "sites", upcoming_sessions_prefetch(timezone.localdate())
            )
        return queryset

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        if self.action == "retrieve":
            return OpportunityDetailSerializer
        return OpportunitySerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}

    # --- writes

    def editable_object(self) -> Opportunity:
        editable = Opportunity.objects.editable_by(self.request.user).select_related("host")
        return get_object_or_404(editable, slug=self.kwargs["slug"])

    def written(self, opportunity: Opportunity, status_code: int = status.HTTP_200_OK) -> Response:
        """The opportunity as it now is, read back like the detail (with its site ids)."""
        fresh = (
            Opportunity.objects.visible_to(self.request.user)
            .select_related("host__country", "specialty")
            .prefetch_related(
                "eligible_countries", "sites", upcoming_sessions_prefetch(timezone.localdate())
            )
            .get(pk=opportunity.pk)
        )
        serializer = HostOpportunitySerializer(fresh, context=self.get_serializer_context())
        return Response(serializer.data, status=status_code)

    @extend_schema(
        summary="Create a draft opportunity",
        tags=["catalog"],
        request=OpportunityCreateSerializer,
        responses={201: HostOpportunitySerializer, **WRITE_ERRORS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The host first: another institution's caller learns nothing from field errors.
        slug = _body_slug(request.data, "host")
        host = get_object_or_404(catalog_hosts(request.user), slug=slug) if slug else None
        serializer = OpportunityCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if host is None:
            host = get_object_or_404(
                catalog_hosts(request.user), slug=serializer.validated_data["host"]
            )
        try:
            opportunity = services.opportunity_create(
                host=host, actor=request.user, **serializer.service_arguments(full=True)
            )
        except DjangoValidationError as error:
            raise service_error(error) from error
        return self.written(opportunity, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Replace an opportunity's fields (what is left out takes its default)",
        tags=["catalog"],
        request=OpportunityWriteSerializer,
        responses={200: HostOpportunitySerializer, **WRITE_ERRORS},
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = bool(kwargs.pop("partial", False))
        opportunity = self.editable_object()
        serializer = OpportunityWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        try:
            services.opportunity_update(
                opportunity=opportunity,
                actor=request.user,
                **serializer.service_arguments(full=not partial),
            )
        except DjangoValidationError as error:
            raise service_error(error) from error
        return self.written(opportunity)

    @extend_schema(
        summary="Change some of an opportunity's fields",
        tags=["catalog"],
        request=OpportunityWriteSerializer,
        responses={200: HostOpportunitySerializer, **WRITE_ERRORS},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        summary="Copy an opportunity into a new draft (sites and countries, no sessions)",
        tags=["catalog"],
        request=None,
        responses={201: HostOpportunitySerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def duplicate(self, request: Request, slug: str) -> Response:
        opportunity = self.editable_object()
        try:
            copy = services.opportunity_duplicate(opportunity=opportunity, actor=request.user)
        except DjangoValidationError as error:
            raise service_error(error) from error
        return self.written(copy, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Publish an opportunity",
        tags=["catalog"],
        request=None,
        responses={200: HostOpportunitySerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def publish(self, request: Request, slug: str) -> Response:
        opportunity = self.editable_object()
        try:
            services.opportunity_publish(opportunity=opportunity, actor=request.user)
        except DjangoValidationError as error:
            raise service_error(error) from error
        return self.written(opportunity)

    @extend_schema(
        summary="Take an opportunity out of the catalog (its sessions stay)",
        tags=["catalog"],
        request=ReasonSerializer,
        responses={200: HostOpportunitySerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def unpublish(self, request: Request, slug: str) -> Response:
        opportunity = self.editable_object()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.opportunity_unpublish(
                opportunity=opportunity,
                actor=request.user,
                reason=serializer.validated_data.get("reason", ""),
            )
        except DjangoValidationError as error:
            raise service_error(error) from error
        return self.written(opportunity)


@extend_schema_view(
    list=extend_schema(summary="List sessions", tags=["catalog"]),
    retrieve=extend_schema(summary="One session", tags=["catalog"]),
)
class SessionViewSet(PublicViewSet):
    """Scheduled (not cancelled) sessions of the opportunities the caller may see.

    Coordinators of the host (and superusers) add, edit and cancel sessions through the
    catalog services; there is no delete: cancel instead.
    """

    serializer_class = SessionSerializer
    filterset_class = SessionFilter
    permission_classes = [ReadOnlyOrSignedIn]
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[Session]:
        return (
            Session.objects.visible_to(self.request.user)
            .scheduled()
            .select_related("opportunity__host")
            .order_by("start_date", "pk")
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}

    # --- writes

    def editable_object(self) -> Session:
        editable = Session.objects.editable_by(self.request.user).select_related(
            "opportunity__host"
        )
        return get_object_or_404(editable, pk=self.kwargs["pk"])

    def written(self, session: Session, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = Session.objects.select_related("opportunity__host").get(pk=session.pk)
        serializer = HostSessionSerializer(fresh, context=self.get_serializer_context())
        return Response(serializer.data, status=status_code)

    @extend_schema(
        summary="Add a session to an opportunity",
        tags=["catalog"],
        request=SessionCreateSerializer,
        responses={201: HostSessionSerializer, **WRITE_ERRORS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        editable = Opportunity.objects.editable_by(request.user).select_related("host")
        slug = _body_slug(request.data, "opportunity")
        opportunity = get_object_or_404(editable, slug=slug) if slug else None
        serializer = SessionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if opportunity is None:
            opportunity = get_object_or_404(editable, slug=serializer.validated_data["opportunity"])
        try:
            session = services.session_create(
                opportunity=opportunity,
                actor=request.user,
                values=serializer.service_values(full=True),
            )
        except DjangoValidationError as error:
            raise service_error(error) from error
        return self.written(session, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Replace a session's fields",
        tags=["catalog"],
        request=SessionWriteSerializer,
        responses={200: HostSessionSerializer, **WRITE_ERRORS},
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = bool(kwargs.pop("partial", False))
        session = self.editable_object()
        serializer = SessionWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        try:
            services.session_update(
                session=session,
                actor=request.user,
                values=serializer.service_values(full=not partial),
            )
        except DjangoValidationError as error:
            raise service_error(error) from error
        return self.written(session)

    @extend_schema(
        summary="Change some of a session's fields",
        tags=["catalog"],
        request=SessionWriteSerializer,
        responses={200: HostSessionSerializer, **WRITE_ERRORS},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        summary="Cancel a session",
        tags=["catalog"],
        request=ReasonSerializer,
        responses={200: HostSessionSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def cancel(self, request: Request, pk: str) -> Response:
        session = self.editable_object()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.session_cancel(
                session=session,
                actor=request.user,
                reason=serializer.validated_data.get("reason", ""),
            )
        except DjangoValidationError as error:
            raise service_error(error) from error
        return self.written(session)
