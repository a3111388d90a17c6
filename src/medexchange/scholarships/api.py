"""Scholarship calls in the API, version 1.

Reads are for signed-in callers: every object comes from
``ScholarshipCall.objects.visible_to(request.user)`` (published calls, and the drafts of
the networks one runs); anything else is a 404, like what does not exist. The staff
actions (``status``, ``propose``, ``commit``) call the same services as the pages: their
``PermissionDenied`` is a 403, their ``ValidationError`` a 400 with the messages.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from medexchange.api.pagination import PublicPagination
from medexchange.funding.money import quantize
from medexchange.network.models import Network
from medexchange.scholarships import services
from medexchange.scholarships.models import AllocationRun, ScholarshipCall

TAGS = ["scholarships"]


class ScholarshipCallSerializer(serializers.ModelSerializer[ScholarshipCall]):
    network: serializers.SlugRelatedField[Network] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    status = serializers.CharField(
        read_only=True, help_text="draft, open, reviewing, allocated or closed."
    )
    amount_min = serializers.SerializerMethodField()
    amount_max = serializers.SerializerMethodField()
    funds: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )

    class Meta:
        model = ScholarshipCall
        fields = [
            "id",
            "title",
            "description",
            "network",
            "status",
            "currency",
            "amount_min",
            "amount_max",
            "covers",
            "partial_awards",
            "eligible_em_statuses",
            "eligible_income_groups",
            "eligible_training_levels",
            "eligible_opportunity_kinds",
            "opens_at",
            "closes_at",
            "funds",
        ]
        read_only_fields = fields

    def get_amount_min(self, call: ScholarshipCall) -> str:
        """Decimal string with the currency's decimals."""
        return str(quantize(call.amount_min, call.currency))

    def get_amount_max(self, call: ScholarshipCall) -> str:
        """Decimal string with the currency's decimals."""
        return str(quantize(call.amount_max, call.currency))


class StatusSerializer(serializers.Serializer[Any]):
    to = serializers.ChoiceField(choices=["open", "reviewing", "closed"])
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RunSerializer(serializers.ModelSerializer[AllocationRun]):
    engine_status = serializers.SerializerMethodField()
    awards = serializers.SerializerMethodField()

    class Meta:
        model = AllocationRun
        fields = ["id", "status", "engine_status", "objective", "bound", "error", "awards"]
        read_only_fields = fields

    def get_engine_status(self, run: AllocationRun) -> str:
        """optimal, feasible, infeasible or unknown (empty for a failed run)."""
        return str(run.result.get("status", ""))

    def get_awards(self, run: AllocationRun) -> list[dict[str, Any]]:
        """The proposed awards: request id and amount."""
        return [
            {"request": award.request_id, "amount": str(quantize(award.amount, award.currency))}
            for award in run.awards.order_by("request_id")
        ]


def _refused(error: DjangoValidationError) -> ValidationError:
    if hasattr(error, "error_dict"):
        return ValidationError(error.message_dict)
    return ValidationError({"detail": error.messages})


@extend_schema_view(
    list=extend_schema(summary="Scholarship calls the caller may see", tags=TAGS),
    retrieve=extend_schema(summary="One scholarship call", tags=TAGS),
)
class ScholarshipCallViewSet(viewsets.ReadOnlyModelViewSet[ScholarshipCall]):
    """Published scholarship calls, and the drafts of the networks the caller runs."""

    serializer_class = ScholarshipCallSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = PublicPagination

    def get_queryset(self) -> QuerySet[ScholarshipCall]:
        return (
            ScholarshipCall.objects.visible_to(self.request.user)
            .select_related("network")
            .prefetch_related("funds")
            .order_by("-opens_at", "-pk")
        )

    @extend_schema(
        summary="Open, start reviewing or close the call (its network's staff)",
        tags=TAGS,
        request=StatusSerializer,
        responses={200: ScholarshipCallSerializer},
    )
    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    def move(self, request: Request, pk: str | None = None) -> Response:
        call = self.get_object()
        data = StatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            call = services.call_move(
                call=call,
                to=data.validated_data["to"],
                actor=request.user,
                reason=data.validated_data.get("reason", ""),
            )
        except DjangoValidationError as error:
            raise _refused(error) from None
        return Response(ScholarshipCallSerializer(call).data)

    @extend_schema(
        summary="Propose awards: solve the allocation now (its network's staff)",
        tags=TAGS,
        request=None,
        responses={201: RunSerializer},
    )
    @action(detail=True, methods=["post"])
    def propose(self, request: Request, pk: str | None = None) -> Response:
        call = self.get_object()
        try:
            run = services.allocation_propose(call=call, actor=request.user)
        except DjangoValidationError as error:
            raise _refused(error) from None
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Commit the proposed awards (finance staff); refused ones are listed",
        tags=TAGS,
        request=None,
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["post"])
    def commit(self, request: Request, pk: str | None = None) -> Response:
        call = self.get_object()
        try:
            outcome = services.awards_commit(call=call, actor=request.user)
        except DjangoValidationError as error:
            raise _refused(error) from None
        return Response(
            {
                "committed": [award.request_id for award in outcome.committed],
                "refused": [
                    {"request": award.request_id, "reason": reason}
                    for award, reason in outcome.refused
                ],
                "not_awarded": outcome.not_awarded,
            }
        )
