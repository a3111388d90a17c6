"""Funds in the API, version 1: read-only, open to anyone (anonymous callers throttled).

Every fund comes from ``Fund.objects.visible_to(request.user)``: public, active funds
to everyone, and a network's other funds to its staff; anything else is a 404. Each
fund carries its totals derived from the ledger — for a whole page of funds in one
grouped query (``selectors.fund_totals_many``). Amounts are strings with the fund
currency's decimals (``"1250.00"``), never floats.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.serializers import BaseSerializer
from rest_framework.throttling import AnonRateThrottle

from medexchange.api.pagination import PublicPagination
from medexchange.funding.models import Fund
from medexchange.funding.money import quantize
from medexchange.funding.selectors import FundTotals, fund_totals_many
from medexchange.network.models import Network

TOTAL_FIELDS = ("raised", "refunded", "disbursed", "held", "committed", "available")


class FundTotalsSerializer(serializers.Serializer[FundTotals]):
    raised = serializers.CharField(help_text="Σ donations received (before refunds).")
    refunded = serializers.CharField(help_text="Σ refunds.")
    disbursed = serializers.CharField(help_text="Paid to participants, net of returns.")
    held = serializers.CharField(help_text="raised - refunded - disbursed + adjustments.")
    committed = serializers.CharField(help_text="Reserved for awards, not yet paid.")
    available = serializers.CharField(help_text="held - committed: free for new awards.")


class FundSerializer(serializers.ModelSerializer[Fund]):
    network: serializers.SlugRelatedField[Network] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    target = serializers.SerializerMethodField()
    totals = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Fund
        fields = [
            "id",
            "network",
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
            "totals",
            "url",
        ]

    @extend_schema_field(OpenApiTypes.STR)
    def get_target(self, fund: Fund) -> str | None:
        return None if fund.target is None else str(quantize(fund.target, fund.currency))

    @extend_schema_field(FundTotalsSerializer)
    def get_totals(self, fund: Fund) -> dict[str, str]:
        totals: FundTotals = self.context["totals"][fund.pk]
        return {name: str(getattr(totals, name)) for name in TOTAL_FIELDS}

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, fund: Fund) -> str:
        from django.urls import reverse

        path = reverse("funding:fund", kwargs={"network": fund.network.slug, "fund": fund.slug})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


@extend_schema_view(
    list=extend_schema(
        summary="List the funds you may see, with their totals",
        tags=["funds"],
        parameters=[
            OpenApiParameter(
                "network", OpenApiTypes.STR, description="Only the funds of this network (slug)."
            )
        ],
    ),
    retrieve=extend_schema(summary="One fund, with its totals", tags=["funds"]),
)
class FundViewSet(viewsets.ReadOnlyModelViewSet):
    """Funds taking gifts, with raised, disbursed and available derived from the ledger."""

    serializer_class = FundSerializer
    permission_classes = [AllowAny]
    pagination_class = PublicPagination
    throttle_classes = [AnonRateThrottle]
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Fund]:
        queryset = (
            Fund.objects.visible_to(self.request.user)
            .select_related("network")
            .order_by("network__name", "name", "pk")
        )
        network = self.request.query_params.get("network")
        if network:
            queryset = queryset.filter(network__slug=network)
        return queryset

    def get_serializer(self, *args: Any, **kwargs: Any) -> BaseSerializer[Any]:
        """Totals of every fund being serialized, in one grouped query."""
        instance = args[0] if args else kwargs.get("instance")
        if kwargs.get("many"):
            funds = list(instance or [])
        else:
            funds = [instance] if isinstance(instance, Fund) else []
        context = self.get_serializer_context()
        context["totals"] = fund_totals_many(funds)
        kwargs["context"] = context
        return super().get_serializer(*args, **kwargs)
