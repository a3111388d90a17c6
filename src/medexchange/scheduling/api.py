"""Rotation plans in the API, version 1: read-only, under the pages' visibility.

The host's coordinators and reviewers read whole plans; a participant reads a published
plan with only their own row and cells (``RotationPlan.objects.visible_to``); anything
else is a 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import IsAuthenticated

from medexchange.api.pagination import PublicPagination
from medexchange.scheduling import selectors
from medexchange.scheduling.models import (
    PlanCell,
    PlanParticipant,
    PlanSite,
    PlanSolve,
    RotationPlan,
)

TAGS = ["rotation plans"]


class PlanSiteSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="site.name", read_only=True)
    capacity = serializers.SerializerMethodField(help_text="Places in each period, in order.")

    class Meta:
        model = PlanSite
        fields = [
            "id",
            "site",
            "name",
            "short_name",
            "capacity",
            "min_staff",
            "closed",
            "languages",
        ]
        read_only_fields = fields

    def get_capacity(self, obj: PlanSite) -> list[int]:
        return obj.capacities(obj.plan.period_count)


class PlanParticipantSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = PlanParticipant
        fields = [
            "id",
            "name",
            "arrival",
            "departure",
            "languages",
            "preferences",
            "must_visit",
            "must_not_visit",
        ]
        read_only_fields = fields


class PlanCellSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanCell
        fields = ["participant", "period", "site", "pinned"]
        read_only_fields = fields


class PlanSolveSerializer(serializers.ModelSerializer):
    # Plain strings, not enums: "status" names other choice sets in the schema too.
    status = serializers.CharField(
        read_only=True, help_text="queued, running, done, failed or cancelled."
    )
    outcome = serializers.CharField(
        read_only=True, help_text="optimal, feasible, infeasible or unknown (once done)."
    )

    class Meta:
        model = PlanSolve
        fields = [
            "id",
            "status",
            "progress",
            "outcome",
            "objective",
            "bound",
            "gap",
            "seconds",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class RulesSerializer(serializers.Serializer[RotationPlan]):
    min_sites = serializers.IntegerField(read_only=True)
    min_stay = serializers.IntegerField(read_only=True)
    max_stay = serializers.IntegerField(read_only=True, allow_null=True)
    balance = serializers.BooleanField(read_only=True)
    together = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()), read_only=True
    )
    apart = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()), read_only=True
    )


class RotationPlanSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="draft, solving, solved or failed.")
    unit = serializers.CharField(read_only=True, help_text="week or day.")
    rules = serializers.SerializerMethodField()
    sites = serializers.SerializerMethodField()
    participants = serializers.SerializerMethodField()
    cells = serializers.SerializerMethodField()
    last_solve = serializers.SerializerMethodField()

    class Meta:
        model = RotationPlan
        fields = [
            "id",
            "session",
            "status",
            "unit",
            "start_date",
            "period_count",
            "published_at",
            "rules",
            "sites",
            "participants",
            "cells",
            "last_solve",
        ]
        read_only_fields = fields

    def _people(self, obj: RotationPlan) -> list[PlanParticipant]:
        cache: dict[int, list[PlanParticipant]] = self.context.setdefault("_people", {})
        if obj.pk not in cache:
            cache[obj.pk] = selectors.visible_participants(obj, self.context["request"].user)
        return cache[obj.pk]

    def _manager(self, obj: RotationPlan) -> bool:
        user = self.context["request"].user
        return RotationPlan.objects.managed_by(user).filter(pk=obj.pk).exists()

    @extend_schema_field(RulesSerializer)
    def get_rules(self, obj: RotationPlan) -> dict[str, Any]:
        return dict(RulesSerializer(obj).data)

    @extend_schema_field(PlanSiteSerializer(many=True))
    def get_sites(self, obj: RotationPlan) -> list[Any]:
        return list(PlanSiteSerializer(selectors.plan_sites(obj), many=True).data)

    @extend_schema_field(PlanParticipantSerializer(many=True))
    def get_participants(self, obj: RotationPlan) -> list[Any]:
        return list(PlanParticipantSerializer(self._people(obj), many=True).data)

    @extend_schema_field(PlanCellSerializer(many=True))
    def get_cells(self, obj: RotationPlan) -> list[Any]:
        own = [p.pk for p in self._people(obj)]
        if not self._manager(obj):
            # Participants read the plan as published, never the coordinator's edits.
            published = selectors.published_cells(obj)
            rows = [published[pk][t] for pk in own for t in sorted(published.get(pk, {}))]
            return list(PlanCellSerializer(rows, many=True).data)
        cells = obj.cells.filter(participant_id__in=own).order_by("participant", "period")
        return list(PlanCellSerializer(cells, many=True).data)

    @extend_schema_field(PlanSolveSerializer(allow_null=True))
    def get_last_solve(self, obj: RotationPlan) -> dict[str, Any] | None:
        if not self._manager(obj):
            return None
        solve = obj.solves.defer("input_json", "result_json").order_by("-pk").first()
        return dict(PlanSolveSerializer(solve).data) if solve is not None else None


@extend_schema_view(
    list=extend_schema(summary="Rotation plans the caller manages or takes part in", tags=TAGS),
    retrieve=extend_schema(
        summary="One rotation plan: rules, sites, participants, cells", tags=TAGS
    ),
)
class RotationPlanViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[RotationPlan]
):
    serializer_class = RotationPlanSerializer
    pagination_class = PublicPagination
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> QuerySet[RotationPlan]:
        return RotationPlan.objects.visible_to(self.request.user).order_by("start_date", "pk")
