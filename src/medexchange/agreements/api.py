"""Agreements in the API, version 1: read-only, for signed-in callers.

Every object comes from ``Agreement.objects.visible_to(request.user)``: what the caller
may not see is a 404, like what does not exist. The detail carries the quotas and the
ledger of the current academic year.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.serializers import BaseSerializer

from medexchange.agreements import selectors
from medexchange.agreements.models import Agreement, Quota
from medexchange.api.pagination import PublicPagination
from medexchange.catalog.models import Specialty
from medexchange.network.models import Institution, Network


class QuotaSerializer(serializers.ModelSerializer[Quota]):
    sender: serializers.SlugRelatedField[Institution] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    host: serializers.SlugRelatedField[Institution] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    specialty: serializers.SlugRelatedField[Specialty] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )

    class Meta:
        model = Quota
        fields = ["id", "sender", "host", "academic_year", "level", "specialty", "amount"]


class AgreementSerializer(serializers.ModelSerializer[Agreement]):
    party_a: serializers.SlugRelatedField[Institution] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    party_b: serializers.SlugRelatedField[Institution] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    network: serializers.SlugRelatedField[Network] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = Agreement
        fields = [
            "id",
            "title",
            "status",
            "network",
            "party_a",
            "party_b",
            "first_year",
            "last_year",
            "tuition_waiver",
            "unit",
            "tolerance",
        ]


class LedgerSideSerializer(serializers.Serializer[Any]):
    institution = serializers.CharField(source="institution.slug")
    hosted = serializers.IntegerField()
    sent = serializers.IntegerField()
    hosted_months = serializers.DecimalField(max_digits=10, decimal_places=1)
    sent_months = serializers.DecimalField(max_digits=10, decimal_places=1)
    balance = serializers.DecimalField(max_digits=10, decimal_places=1)
    behind = serializers.BooleanField()


class LedgerSerializer(serializers.Serializer[Any]):
    year = serializers.IntegerField()
    sides = LedgerSideSerializer(many=True)


class AgreementDetailSerializer(AgreementSerializer):
    quotas = QuotaSerializer(many=True, read_only=True)
    other_terms = serializers.CharField(read_only=True)
    ledger = serializers.SerializerMethodField()

    class Meta(AgreementSerializer.Meta):
        fields = [*AgreementSerializer.Meta.fields, "other_terms", "quotas", "ledger"]

    @extend_schema_field(LedgerSerializer)
    def get_ledger(self, agreement: Agreement) -> dict[str, Any]:
        """This academic year's balance per side (derived from placements)."""
        ledger = selectors.agreement_ledger(agreement, selectors.current_year())
        return dict(LedgerSerializer(ledger).data)


@extend_schema_view(
    list=extend_schema(summary="List the agreements you may see", tags=["agreements"]),
    retrieve=extend_schema(
        summary="One agreement, with its quotas and this year's ledger", tags=["agreements"]
    ),
)
class AgreementViewSet(viewsets.ReadOnlyModelViewSet):
    """Exchange agreements of the caller's institutions and networks."""

    permission_classes = [IsAuthenticated]
    pagination_class = PublicPagination

    def get_queryset(self) -> QuerySet[Agreement]:
        queryset = (
            Agreement.objects.visible_to(self.request.user)
            .select_related("party_a", "party_b", "network")
            .order_by("-first_year", "title", "pk")
        )
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                "quotas__sender", "quotas__host", "quotas__specialty"
            )
        return queryset

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        return AgreementDetailSerializer if self.action == "retrieve" else AgreementSerializer
