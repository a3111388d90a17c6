"""Match cycles and runs in the API, version 1: read-only, for dashboards and audits.

Nothing here is public: a signed-in caller sees the cycles ``MatchCycle.objects.visible_to``
gives them and the runs of the cycles they run (``MatchRun.objects.visible_to``); anything
else is a 404. A run's exact instance and result are exported for its organisers.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from medexchange.api.pagination import PublicPagination
from medexchange.catalog.models import Session
from medexchange.matching.models import MatchCycle, MatchRun
from medexchange.network.models import Institution, Network

TAGS = ["match cycles"]


class MatchCycleSerializer(serializers.ModelSerializer):
    # Plain strings, not enums: "status" names other choice sets in the schema too.
    status = serializers.CharField(
        read_only=True,
        help_text="draft, ranking, closed, released, post_match, finished or cancelled.",
    )
    sessions: serializers.PrimaryKeyRelatedField[Session] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    network: serializers.SlugRelatedField[Network] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    host: serializers.SlugRelatedField[Institution] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = MatchCycle
        fields = [
            "id",
            "name",
            "network",
            "host",
            "sessions",
            "binding",
            "reserved_places",
            "status",
            "ranking_opens_at",
            "ranking_closes_at",
            "results_planned_at",
            "released_at",
            "released_run",
        ]
        read_only_fields = fields


class MatchRunSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="dry or final.")
    status = serializers.CharField(
        read_only=True, help_text="queued, running, done, failed or cancelled."
    )
    stage = serializers.CharField(
        read_only=True,
        help_text="queued, building, solving, explaining, saving or finished.",
    )

    class Meta:
        model = MatchRun
        fields = [
            "id",
            "cycle",
            "kind",
            "status",
            "progress",
            "stage",
            "engine_version",
            "instance_hash",
            "created_at",
            "started_at",
            "finished_at",
            "statistics",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="Match cycles the caller runs or takes part in", tags=TAGS),
    retrieve=extend_schema(summary="One match cycle", tags=TAGS),
)
class MatchCycleViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[MatchCycle]
):
    serializer_class = MatchCycleSerializer
    pagination_class = PublicPagination
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> QuerySet[MatchCycle]:
        return (
            MatchCycle.objects.visible_to(self.request.user)
            .select_related("network", "host")
            .prefetch_related("sessions")
            .order_by("-ranking_opens_at", "-pk")
        )


@extend_schema_view(
    list=extend_schema(summary="Runs of the cycles the caller runs", tags=TAGS),
    retrieve=extend_schema(summary="One run: status, progress and statistics", tags=TAGS),
)
class MatchRunViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[MatchRun]
):
    serializer_class = MatchRunSerializer
    pagination_class = PublicPagination
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> QuerySet[MatchRun]:
        return (
            MatchRun.objects.visible_to(self.request.user)
            .defer("instance_json", "result_json", "key")
            .order_by("-created_at", "-pk")
        )

    def _export(self, field: str) -> Response:
        run = self.get_object()
        raw = MatchRun.objects.filter(pk=run.pk).values_list(field, flat=True).get()
        if not raw:
            raise NotFound
        data: Any = json.loads(raw)
        return Response(data)

    @extend_schema(
        summary="The run's instance (shared JSON format)",
        tags=TAGS,
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def instance(self, request: Request, pk: str | None = None) -> Response:
        return self._export("instance_json")

    @extend_schema(
        summary="The run's result (engine JSON, without timing)",
        tags=TAGS,
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def result(self, request: Request, pk: str | None = None) -> Response:
        return self._export("result_json")
