"""Read-only endpoints of the public API, version 1.

Endpoints are thin: the querysets come from the network app's queryset methods and
selectors (so visibility rules live in one place), filtering from its FilterSet.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.serializers import BaseSerializer
from rest_framework.throttling import AnonRateThrottle

from medexchange.api.pagination import PublicPagination
from medexchange.api.serializers import (
    CountrySerializer,
    InstitutionDetailSerializer,
    InstitutionSerializer,
    NetworkSerializer,
)
from medexchange.network.filters import InstitutionFilter
from medexchange.network.models import CountryProfile, Institution, Network
from medexchange.network.selectors import active_memberships_prefetch, networks_with_member_counts


class PublicViewSet(viewsets.ReadOnlyModelViewSet):
    """Shared policy: paginated, filtered by django-filter, anonymous callers throttled."""

    pagination_class = PublicPagination
    filter_backends = [DjangoFilterBackend]
    throttle_classes = [AnonRateThrottle]


@extend_schema_view(
    list=extend_schema(summary="List country profiles", tags=["countries"]),
    retrieve=extend_schema(
        summary="One country profile",
        tags=["countries"],
        parameters=[
            OpenApiParameter(
                "code",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="ISO 3166-1 alpha-2 code (case-insensitive).",
            )
        ],
    ),
)
class CountryViewSet(PublicViewSet):
    """Countries with their Emergency Medicine status, income group and region."""

    serializer_class = CountrySerializer
    lookup_field = "code"
    filterset_fields = ["region", "em_status", "income_group"]

    def get_queryset(self) -> QuerySet[CountryProfile]:
        return CountryProfile.objects.order_by("code")

    def get_object(self) -> CountryProfile:
        # Codes are stored upper-case; accept "ke" as well as "KE".
        self.kwargs[self.lookup_field] = str(self.kwargs[self.lookup_field]).upper()
        country: CountryProfile = super().get_object()
        return country


@extend_schema_view(
    list=extend_schema(summary="List networks", tags=["networks"]),
    retrieve=extend_schema(summary="One network", tags=["networks"]),
)
class NetworkViewSet(PublicViewSet):
    """Global and regional networks with their number of active members."""

    serializer_class = NetworkSerializer
    lookup_field = "slug"
    filterset_fields = ["scope", "region"]

    def get_queryset(self) -> QuerySet[Network]:
        return networks_with_member_counts().order_by("scope", "name", "pk")


@extend_schema_view(
    list=extend_schema(summary="List institutions", tags=["institutions"]),
    retrieve=extend_schema(summary="One institution, with its sites", tags=["institutions"]),
)
class InstitutionViewSet(PublicViewSet):
    """Institutions the caller may see: active members for everyone, more for staff.

    Not visible and not existing are the same 404.
    """

    lookup_field = "slug"
    filterset_class = InstitutionFilter

    def get_queryset(self) -> QuerySet[Institution]:
        queryset = (
            Institution.objects.visible_to(self.request.user)
            .select_related("country")
            .prefetch_related(active_memberships_prefetch())
            .order_by("name", "pk")
        )
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("sites")
        return queryset

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        if self.action == "retrieve":
            return InstitutionDetailSerializer
        return InstitutionSerializer
