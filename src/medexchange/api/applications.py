"""Applications in the API, version 1: the files and their decisions, for integrations.

Nothing here is public. Every endpoint needs a signed-in caller (session authentication,
so a write needs the CSRF token, as the catalog's writes do); anonymous callers get 403.
Every object is found through ``Application.objects.visible_to(request.user)`` (the
review work through ``reviewable_by``): what the caller may not see is a 404, like what
does not exist.

Writes make exactly one call to ``medexchange.applications.services``, which decides who
may do what: its ``PermissionDenied`` is a 403, its ``ValidationError`` a 400 with its
messages (under the field it names), and a full session on acceptance a 409.

What a row shows depends on who reads it: the applicant's name and e-mail only for the
applicant, the host's reviewers and the home institution's coordinators; the host's
private work (scores, comments, and their entries in the timeline) only for the host's
reviewers. Times are given with the offset of the host's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.api.catalog import HostLocalDateTimeField, service_error
from medexchange.api.pagination import PublicPagination
from medexchange.applications import services
from medexchange.applications.choices import ApplicationState
from medexchange.applications.models import (
    HOST_ROLES,
    Application,
    ApplicationDocument,
    ReviewComment,
    ReviewCriterion,
    ReviewScore,
)
from medexchange.applications.permissions import is_applicant
from medexchange.applications.selectors import weighted_percent
from medexchange.catalog.choices import DocumentKind
from medexchange.catalog.models import Session
from medexchange.catalog.selectors import host_zone
from medexchange.common.models import AuditEntry

S = ApplicationState
#: The largest id a (64-bit) primary key holds.
MAX_ID = 2**63 - 1
#: The host's review work: in the timeline only for the host's reviewers.
PRIVATE_ACTIONS = frozenset({"application.scored", "application.commented"})

# --- Filters -----------------------------------------------------------------------------


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An id: a whole number, or a field error."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Bounded like the id column: a huge number is a field error, not an overflow.
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class NullsLastOrderingFilter(django_filters.OrderingFilter):
    """Ordering whose empty dates sort last on every database, with a stable tiebreak."""

    def filter(self, qs: QuerySet[Any], value: list[str] | None) -> Any:
        if not value:
            return qs
        expressions = []
        for param in value:
            name = self.get_ordering_value(param)
            descending = name.startswith("-")
            column = F(name.removeprefix("-"))
            expressions.append(
                column.desc(nulls_last=True) if descending else column.asc(nulls_last=True)
            )
        return qs.order_by(*expressions, "-pk")


class ApplicationFilter(django_filters.FilterSet):
    """Filters of the applications list; malformed values are field errors (400).

    Slugs that match nothing give an empty list, never an error: an error would tell
    whether an unpublished opportunity or a hidden institution exists.
    """

    state = django_filters.MultipleChoiceFilter(
        label=_("Status"), choices=ApplicationState.choices, help_text=_("Repeatable.")
    )
    session = IdFilter(label=_("Session"), field_name="session_id", help_text=_("Id of a session."))
    opportunity = django_filters.CharFilter(
        label=_("Opportunity"),
        field_name="session__opportunity__slug",
        help_text=_("Slug of the opportunity."),
    )
    host = django_filters.CharFilter(
        label=_("Host institution"),
        field_name="session__opportunity__host__slug",
        help_text=_("Slug of the host institution."),
    )
    home_institution = django_filters.CharFilter(
        label=_("Home institution"),
        field_name="home_institution__slug",
        help_text=_("Slug of the applicant's home institution."),
    )
    submitted_after = django_filters.DateFilter(
        label=_("Submitted on or after"),
        method="filter_submitted_after",
        help_text=_("YYYY-MM-DD (a UTC day): submitted on or after this day."),
    )
    submitted_before = django_filters.DateFilter(
        label=_("Submitted on or before"),
        method="filter_submitted_before",
        help_text=_("YYYY-MM-DD (a UTC day): submitted on or before this day."),
    )
    ordering = NullsLastOrderingFilter(
        label=_("Order"),
        fields=["created_at", "submitted_at", "updated_at", "decided_at", "offer_expires_at"],
        help_text=_("A field, or -field for descending; empty dates come last."),
    )

    class Meta:
        model = Application
        fields = [
            "state",
            "session",
            "opportunity",
            "host",
            "home_institution",
            "submitted_after",
            "submitted_before",
            "ordering",
        ]

    def filter_submitted_after(self, queryset: QuerySet[Any], name: str, value: dt.date) -> Any:
        return queryset.filter(submitted_at__gte=_day_start(value))

    def filter_submitted_before(self, queryset: QuerySet[Any], name: str, value: dt.date) -> Any:
        if value >= dt.date.max:  # no day after it: nothing is left out
            return queryset.filter(submitted_at__isnull=False)
        return queryset.filter(submitted_at__lt=_day_start(value + dt.timedelta(days=1)))


# --- Who reads, and what only some readers see -------------------------------------------


@dataclass
class Reader:
    """The caller's roles, loaded once per request: no query per row."""

    user: Any
    reviewed: frozenset[int] = frozenset()
    coordinated: frozenset[int] = frozenset()

    @classmethod
    def of(cls, user: Any) -> Reader:
        if not user.is_authenticated or user.is_superuser:
            return cls(user)
        reviewed: set[int] = set()
        coordinated: set[int] = set()
        for institution_id, role in user.institution_roles.values_list("institution_id", "role"):
            if role in HOST_ROLES:
                reviewed.add(institution_id)
            if role == InstitutionRoleKind.COORDINATOR:
                coordinated.add(institution_id)
        return cls(user, frozenset(reviewed), frozenset(coordinated))

    def is_applicant(self, application: Application) -> bool:
        return is_applicant(self.user, application)

    def reviews(self, application: Application) -> bool:
        """A coordinator or reviewer of the host, once the file reached the host; never
        the applicant (as ``permissions.can_review``)."""
        if application.reached_host_at is None or not self.user.is_authenticated:
            return False
        if self.is_applicant(application):
            return False
        if self.user.is_superuser:
            return True
        return application.session.opportunity.host_id in self.reviewed

    def coordinates_home(self, application: Application) -> bool:
        if application.submitted_at is None or application.home_institution_id is None:
            return False
        return bool(self.user.is_superuser or application.home_institution_id in self.coordinated)

    def knows_applicant(self, application: Application) -> bool:
        return (
            self.is_applicant(application)
            or self.reviews(application)
            or self.coordinates_home(application)
        )


@dataclass
class ScoreSummary:
    weighted_percent: float | None
    count: int
    reviewers: int


@dataclass
class Extras:
    """What the rows of one response need beyond their columns: three queries at most."""

    reader: Reader
    timelines: dict[int, list[AuditEntry]] = field(default_factory=dict)
    scores: dict[int, ScoreSummary] = field(default_factory=dict)

    @classmethod
    def load(cls, applications: Sequence[Application], user: Any) -> Extras:
        reader = Reader.of(user)
        extras = cls(reader)
        if not applications:
            return extras
        entries = (
            AuditEntry.objects.filter(
                target_type=ContentType.objects.get_for_model(Application),
                target_id__in=[str(application.pk) for application in applications],
            )
            .select_related("actor")
            .order_by("created_at", "pk")
        )
        for entry in entries:
            extras.timelines.setdefault(int(entry.target_id), []).append(entry)
        reviewed = [application.pk for application in applications if reader.reviews(application)]
        extras.scores = score_summaries(reviewed)
        return extras

    def timeline(self, application: Application) -> list[AuditEntry]:
        entries = self.timelines.get(application.pk, [])
        if self.reader.reviews(application):
            return entries
        return [entry for entry in entries if entry.action not in PRIVATE_ACTIONS]


def score_summaries(application_ids: Sequence[int]) -> dict[int, ScoreSummary]:
    """Application id → its reviewers' weighted percentage (as on the review page)."""
    if not application_ids:
        return {}
    rows: dict[int, list[tuple[int, Any, int]]] = defaultdict(list)
    reviewers: dict[int, set[Any]] = defaultdict(set)
    for application_id, reviewer_id, score, weight, highest in ReviewScore.objects.filter(
        application_id__in=list(application_ids)
    ).values_list(
        "application_id", "reviewer_id", "score", "criterion__weight", "criterion__max_score"
    ):
        rows[application_id].append((score, weight, highest))
        reviewers[application_id].add(reviewer_id)
    return {
        pk: ScoreSummary(
            weighted_percent=weighted_percent(rows.get(pk, [])),
            count=len(rows.get(pk, [])),
            reviewers=len(reviewers.get(pk, set())),
        )
        for pk in application_ids
    }


# --- Serializers: what the API shows -----------------------------------------------------


class ApplicationHostSerializer(serializers.Serializer):
    slug = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class ApplicationOpportunitySerializer(serializers.Serializer):
    slug = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)


class ApplicationSessionSerializer(serializers.ModelSerializer):
    """The session applied to, with its opportunity and host: no second request needed."""

    opportunity = ApplicationOpportunitySerializer(read_only=True)
    host = ApplicationHostSerializer(source="opportunity.host", read_only=True)
    time_zone = serializers.CharField(
        source="opportunity.host.time_zone", read_only=True, help_text="The host's time zone."
    )

    class Meta:
        model = Session
        fields = ["id", "start_date", "end_date", "opportunity", "host", "time_zone"]
        read_only_fields = fields


class ApplicantSerializer(serializers.Serializer):
    name = serializers.CharField(source="full_name", read_only=True)
    email = serializers.EmailField(read_only=True)


class HomeInstitutionSerializer(serializers.Serializer):
    slug = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class AttachmentSerializer(serializers.ModelSerializer):
    """A document version attached to the application (frozen when it was attached)."""

    version = serializers.IntegerField(source="version_id", read_only=True)
    document_kind = serializers.CharField(
        source="version.document.kind",
        read_only=True,
        help_text="One of: " + ", ".join(DocumentKind.values) + ".",
    )
    title = serializers.CharField(source="version.document.title", read_only=True)
    confidential = serializers.BooleanField(
        source="version.document.is_confidential",
        read_only=True,
        help_text="A referee's letter: its owner may not download it.",
    )
    download_url = serializers.SerializerMethodField(
        help_text="The file, for those allowed to read it (every access is recorded)."
    )

    class Meta:
        model = ApplicationDocument
        fields = ["version", "document_kind", "title", "confidential", "download_url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, obj: ApplicationDocument) -> str:
        path = obj.version.get_download_url()
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class TimelineEntrySerializer(serializers.ModelSerializer):
    """One step of the application's history, from the audit log."""

    at = serializers.DateTimeField(source="created_at", read_only=True)
    from_state = serializers.CharField(read_only=True, help_text="Empty when no state changed.")
    to_state = serializers.CharField(read_only=True, help_text="Empty when no state changed.")
    actor = serializers.SerializerMethodField(help_text="Who did it; null when automatic.")

    class Meta:
        model = AuditEntry
        fields = ["action", "from_state", "to_state", "at", "actor", "reason"]
        read_only_fields = fields

    def get_actor(self, obj: AuditEntry) -> str | None:
        return str(obj.actor) if obj.actor is not None else None


class ScoreSummarySerializer(serializers.Serializer):
    weighted_percent = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="Weighted scores over weighted highest scores, in percent; null before any.",
    )
    count = serializers.IntegerField(read_only=True, help_text="Scores given.")
    reviewers = serializers.IntegerField(read_only=True, help_text="Reviewers who scored.")


class ApplicationSerializer(serializers.ModelSerializer):
    """An application as the caller may see it (see the module's docstring)."""

    state = serializers.ChoiceField(choices=ApplicationState.choices, read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    session = ApplicationSessionSerializer(read_only=True)
    applicant = serializers.SerializerMethodField(
        help_text="Only for the applicant, the host's reviewers and the home coordinators."
    )
    home_institution = HomeInstitutionSerializer(read_only=True, allow_null=True)
    home_country = serializers.SerializerMethodField(
        help_text="ISO 3166-1 alpha-2 code, fixed at submission."
    )
    attachments = AttachmentSerializer(many=True, read_only=True)
    timeline = serializers.SerializerMethodField()
    scores = serializers.SerializerMethodField(help_text="Only for the host's reviewers.")
    url = serializers.SerializerMethodField(help_text="The application's page.")

    class Meta:
        model = Application
        fields = [
            "id",
            "state",
            "state_label",
            "session",
            "applicant",
            "home_institution",
            "home_country",
            "endorsement_required",
            "statement",
            "created_at",
            "submitted_at",
            "endorsed_at",
            "decided_at",
            "decision_reason",
            "offered_at",
            "offer_expires_at",
            "responded_at",
            "attachments",
            "timeline",
            "scores",
            "url",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Application) -> Any:
        # Every time with the offset of the host's time zone, as the catalog shows windows.
        with timezone.override(host_zone(instance.session.opportunity)):
            return super().to_representation(instance)

    @property
    def extras(self) -> Extras:
        """Loaded by the view for the whole page (``Extras.load``)."""
        extras: Extras = self.context["extras"]
        return extras

    @extend_schema_field(ApplicantSerializer(allow_null=True))
    def get_applicant(self, obj: Application) -> dict[str, Any] | None:
        if obj.applicant is None or not self.extras.reader.knows_applicant(obj):
            return None
        return dict(ApplicantSerializer(obj.applicant).data)

    @extend_schema_field(OpenApiTypes.STR)
    def get_home_country(self, obj: Application) -> str | None:
        return str(obj.home_country.code) if obj.home_country is not None else None

    @extend_schema_field(TimelineEntrySerializer(many=True))
    def get_timeline(self, obj: Application) -> list[Any]:
        return list(TimelineEntrySerializer(self.extras.timeline(obj), many=True).data)

    @extend_schema_field(ScoreSummarySerializer(allow_null=True))
    def get_scores(self, obj: Application) -> dict[str, Any] | None:
        if not self.extras.reader.reviews(obj):
            return None
        summary = self.extras.scores.get(obj.pk) or ScoreSummary(None, 0, 0)
        return dict(ScoreSummarySerializer(summary).data)

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj: Application) -> str:
        path = obj.get_absolute_url()
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class CriterionSerializer(serializers.ModelSerializer):
    weight = serializers.FloatField(read_only=True)
    my_score = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The caller's score; null when not given."
    )

    class Meta:
        model = ReviewCriterion
        fields = ["id", "name", "description", "weight", "max_score", "my_score"]
        read_only_fields = fields


class GivenScoreSerializer(serializers.ModelSerializer):
    reviewer = serializers.SerializerMethodField()

    class Meta:
        model = ReviewScore
        fields = ["criterion", "reviewer", "score", "updated_at"]
        read_only_fields = fields

    def get_reviewer(self, obj: ReviewScore) -> str | None:
        return str(obj.reviewer) if obj.reviewer is not None else None


class ScoreSheetSerializer(serializers.Serializer):
    """The opportunity's criteria with the caller's scores, every score, and the summary."""

    criteria = CriterionSerializer(many=True, read_only=True)
    scores = GivenScoreSerializer(many=True, read_only=True)
    summary = ScoreSummarySerializer(read_only=True)


class CommentSerializer(serializers.ModelSerializer):
    """A private note among the host's reviewers."""

    author = serializers.SerializerMethodField()

    class Meta:
        model = ReviewComment
        fields = ["id", "author", "body", "created_at"]
        read_only_fields = fields

    def get_author(self, obj: ReviewComment) -> str | None:
        return str(obj.author) if obj.author is not None else None


# --- Serializers: what callers send --------------------------------------------------------
# They only parse: every rule is the services' (as on the pages).


class ApplicationStartSerializer(serializers.Serializer):
    session = serializers.IntegerField(help_text="Id of a session the caller can see.")


class ApplicationDraftSerializer(serializers.Serializer):
    statement = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="Up to 5,000 characters."
    )
    attachments = serializers.ListField(
        # Bounded like the id column, so a huge number is a field error, not an overflow.
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=50,
        help_text="Ids of document versions of the caller's vault: exactly these are attached.",
    )


class ApplicationReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text="Kept in the history; up to 2,000 characters."
    )


class ApplicationRequiredReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text="Required: the applicant reads it."
    )


class EndorsementNoteSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, help_text="For the host; up to 2,000 characters."
    )


class OfferInputSerializer(serializers.Serializer):
    respond_by = HostLocalDateTimeField(
        required=False,
        allow_null=True,
        help_text=(
            "ISO 8601, in the future; without an offset, in the host's time zone. Default: "
            "a week, but never past the session's start."
        ),
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text="A message the applicant reads."
    )


class ScoresInputSerializer(serializers.Serializer):
    scores = serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        help_text="Criterion id → score (0 to the criterion's highest); null clears a score.",
    )

    def validate_scores(self, value: dict[str, int | None]) -> dict[int, int | None]:
        try:
            return {int(key): score for key, score in value.items()}
        except ValueError as error:
            raise serializers.ValidationError(_("Criteria are named by their ids.")) from error


class CommentInputSerializer(serializers.Serializer):
    body = serializers.CharField(trim_whitespace=False, help_text="Up to 5,000 characters.")


# --- Errors --------------------------------------------------------------------------------


class SessionIsFull(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The session is full.")
    default_code = "session_full"


@contextmanager
def service_errors() -> Iterator[None]:
    """A service's refusal as the API's answer; ``PermissionDenied`` stays a 403."""
    try:
        yield
    except services.SessionFull as error:
        raise SessionIsFull(error.messages[0]) from error
    except DjangoValidationError as error:
        raise service_error(error) from error


ERRORS = {
    400: OpenApiResponse(description="Field errors, or the service's refusal, by field name."),
    403: OpenApiResponse(
        description="Not signed in, no CSRF token with a session, or not the caller's role."
    ),
    404: OpenApiResponse(description="No such application among those the caller may see."),
}
REVIEW_ERRORS = {
    **ERRORS,
    404: OpenApiResponse(description="No such application among those the caller reviews."),
}


# --- Endpoints -----------------------------------------------------------------------------


def attachments_prefetch() -> Prefetch[Any]:
    return Prefetch(
        "attachments",
        queryset=ApplicationDocument.objects.select_related("version__document").order_by("pk"),
    )


ACTION_TAGS = ["applications"]


@extend_schema_view(
    list=extend_schema(summary="List the applications the caller may see", tags=ACTION_TAGS),
    retrieve=extend_schema(
        summary="One application",
        tags=ACTION_TAGS,
        responses={200: ApplicationSerializer, 403: ERRORS[403], 404: ERRORS[404]},
    ),
)
class ApplicationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Application]
):
    """Applications the caller may see: their own; the host's files once they reached it;
    their home institution's submitted ones.

    Applicants start, edit and submit drafts, withdraw, and answer offers; the home
    institution's coordinators endorse; the host's reviewers decide, score and comment.
    Nothing is deleted: withdraw instead.
    """

    serializer_class = ApplicationSerializer
    filterset_class = ApplicationFilter
    filter_backends = [DjangoFilterBackend]
    pagination_class = PublicPagination
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]
    throttle_classes = [AnonRateThrottle]

    def get_queryset(self) -> QuerySet[Application]:
        return (
            Application.objects.visible_to(self.request.user)
            .select_related(
                "applicant", "session__opportunity__host", "home_institution", "home_country"
            )
            .prefetch_related(attachments_prefetch())
            .order_by("-created_at", "-pk")
        )

    def shown(
        self, applications: Sequence[Application], *, many: bool = False
    ) -> ApplicationSerializer:
        extras = Extras.load(applications, self.request.user)
        context = {**self.get_serializer_context(), "extras": extras}
        if many:
            return ApplicationSerializer(applications, many=True, context=context)
        return ApplicationSerializer(applications[0], context=context)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = list(self.paginate_queryset(queryset) or [])
        return self.get_paginated_response(self.shown(page, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.shown([self.get_object()]).data)

    def visible_object(self) -> Application:
        visible = Application.objects.visible_to(self.request.user).select_related(
            "applicant", "session__opportunity__host"
        )
        return get_object_or_404(visible, pk=self.kwargs["pk"])

    def reviewable_object(self) -> Application:
        reviewable = Application.objects.reviewable_by(self.request.user).select_related(
            "session__opportunity__host"
        )
        return get_object_or_404(reviewable, pk=self.kwargs["pk"])

    def written(self, application: Application, status_code: int = status.HTTP_200_OK) -> Response:
        """The application as it now is, read back like the detail."""
        fresh = get_object_or_404(self.get_queryset(), pk=application.pk)
        return Response(self.shown([fresh]).data, status=status_code)

    # --- the applicant's draft

    @extend_schema(
        summary="Start a draft for a session (or get the open application to it)",
        tags=ACTION_TAGS,
        request=ApplicationStartSerializer,
        responses={
            201: ApplicationSerializer,
            200: OpenApiResponse(
                ApplicationSerializer, description="The caller's open application to it."
            ),
            **ERRORS,
            404: OpenApiResponse(description="No such session among those the caller can see."),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ApplicationStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = get_object_or_404(
            Session.objects.visible_to(request.user)
            .scheduled()
            .select_related("opportunity__host"),
            pk=serializer.validated_data["session"],
        )
        existed = (
            Application.objects.owned_by(request.user).active().filter(session=session).exists()
        )
        applicant: Any = request.user  # signed in: IsAuthenticated
        with service_errors():
            application = services.application_start(
                applicant=applicant, session=session, actor=applicant
            )
        return self.written(application, status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a draft: its statement, and which vault documents it attaches",
        tags=ACTION_TAGS,
        request=ApplicationDraftSerializer,
        responses={200: ApplicationSerializer, **ERRORS},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from medexchange.documents.models import DocumentVersion
        from medexchange.documents.selectors import vault_for

        application = self.visible_object()
        # The applicant's own vault is the only source of documents: others are refused
        # before their ids are looked at.
        if not is_applicant(request.user, application):
            raise PermissionDenied
        serializer = ApplicationDraftSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        versions = None
        if "attachments" in data:
            wanted = set(data["attachments"])
            versions = list(
                DocumentVersion.objects.filter(
                    document__in=vault_for(request.user), pk__in=wanted
                ).select_related("document")
            )
            if len(versions) != len(wanted):
                raise serializers.ValidationError(
                    {"attachments": [_("Attach documents from your own vault only.")]}
                )
        with service_errors():
            services.application_save_draft(
                application=application,
                actor=request.user,
                statement=data.get("statement", application.statement),
                versions=versions,
            )
        return self.written(application)

    # --- one service call each

    def act(
        self,
        request: Request,
        call: Callable[[Application, dict[str, Any]], Any],
        input_serializer: type[serializers.Serializer] | None = None,
    ) -> Response:
        application = self.visible_object()
        data: dict[str, Any] = {}
        if input_serializer is not None:
            serializer = input_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
        with service_errors():
            call(application, data)
        return self.written(application)

    @extend_schema(
        summary="Submit a draft (to the home institution first when it must endorse)",
        tags=ACTION_TAGS,
        request=None,
        responses={200: ApplicationSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        return self.act(
            request,
            lambda application, data: services.application_submit(
                application=application, actor=request.user
            ),
        )

    @extend_schema(
        summary="Withdraw (the applicant; a held seat goes to the waiting list)",
        tags=ACTION_TAGS,
        request=ApplicationReasonSerializer,
        responses={200: ApplicationSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        return self.act(
            request,
            lambda application, data: services.application_withdraw(
                application=application, actor=request.user, reason=data.get("reason", "")
            ),
            ApplicationReasonSerializer,
        )

    @extend_schema(
        summary="Endorse (a coordinator of the applicant's home institution)",
        tags=ACTION_TAGS,
        request=EndorsementNoteSerializer,
        responses={200: ApplicationSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def endorse(self, request: Request, pk: str) -> Response:
        return self.act(
            request,
            lambda application, data: services.application_endorse(
                application=application, actor=request.user, note=data.get("note", "")
            ),
            EndorsementNoteSerializer,
        )

    @extend_schema(
        summary="Decline to endorse (a home coordinator; the reason is required)",
        tags=ACTION_TAGS,
        request=ApplicationRequiredReasonSerializer,
        responses={200: ApplicationSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="decline-endorsement")
    def decline_endorsement(self, request: Request, pk: str) -> Response:
        return self.act(
            request,
            lambda application, data: services.application_endorsement_decline(
                application=application, actor=request.user, reason=data.get("reason", "")
            ),
            ApplicationRequiredReasonSerializer,
        )

    @extend_schema(
        summary="Offer a place (the host's reviewers)",
        tags=ACTION_TAGS,
        request=OfferInputSerializer,
        responses={200: ApplicationSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def offer(self, request: Request, pk: str) -> Response:
        def call(application: Application, data: dict[str, Any]) -> Any:
            respond_by = data.get("respond_by")
            if respond_by is not None and timezone.is_naive(respond_by):
                respond_by = respond_by.replace(tzinfo=host_zone(application.session.opportunity))
            return services.application_offer(
                application=application,
                actor=request.user,
                respond_by=respond_by,
                reason=data.get("reason", ""),
            )

        return self.act(request, call, OfferInputSerializer)

    @extend_schema(
        summary="Put on the waiting list (the host's reviewers)",
        tags=ACTION_TAGS,
        request=ApplicationReasonSerializer,
        responses={200: ApplicationSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def waitlist(self, request: Request, pk: str) -> Response:
        return self.act(
            request,
            lambda application, data: services.application_waitlist(
                application=application, actor=request.user, reason=data.get("reason", "")
            ),
            ApplicationReasonSerializer,
        )

    @extend_schema(
        summary="Decline (the host's reviewers; the reason is required, the applicant reads it)",
        tags=ACTION_TAGS,
        request=ApplicationRequiredReasonSerializer,
        responses={200: ApplicationSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str) -> Response:
        return self.act(
            request,
            lambda application, data: services.application_decline(
                application=application, actor=request.user, reason=data.get("reason", "")
            ),
            ApplicationRequiredReasonSerializer,
        )

    @extend_schema(
        summary="Accept the offer (the applicant): takes a seat if one is free",
        tags=ACTION_TAGS,
        request=None,
        responses={
            200: ApplicationSerializer,
            **ERRORS,
            409: OpenApiResponse(
                description="The session is full: every place was accepted before the caller."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str) -> Response:
        return self.act(
            request,
            lambda application, data: services.application_accept(
                application=application, actor=request.user
            ),
        )

    @extend_schema(
        summary="Decline the offer (the applicant)",
        tags=ACTION_TAGS,
        request=ApplicationReasonSerializer,
        responses={200: ApplicationSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="decline-offer")
    def decline_offer(self, request: Request, pk: str) -> Response:
        return self.act(
            request,
            lambda application, data: services.application_decline_offer(
                application=application, actor=request.user, reason=data.get("reason", "")
            ),
            ApplicationReasonSerializer,
        )

    @extend_schema(
        summary="Confirm an accepted placement (the host's reviewers)",
        tags=ACTION_TAGS,
        request=None,
        responses={200: ApplicationSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        return self.act(
            request,
            lambda application, data: services.application_confirm(
                application=application, actor=request.user
            ),
        )

    # --- the host's private review work

    def score_sheet(self, application: Application) -> Response:
        criteria = list(
            ReviewCriterion.objects.filter(
                opportunity_id=application.session.opportunity_id
            ).order_by("position", "pk")
        )
        given = list(
            ReviewScore.objects.filter(application=application)
            .select_related("reviewer")
            .order_by("criterion_id", "reviewer_id", "pk")
        )
        mine = {
            row.criterion_id: row.score for row in given if row.reviewer_id == self.request.user.pk
        }
        for criterion in criteria:
            criterion.my_score = mine.get(criterion.pk)  # type: ignore[attr-defined]
        summary = score_summaries([application.pk])[application.pk]
        sheet = {"criteria": criteria, "scores": given, "summary": summary}
        return Response(ScoreSheetSerializer(sheet, context=self.get_serializer_context()).data)

    @extend_schema(
        methods=["GET"],
        summary="The review criteria, every reviewer's scores and the summary",
        tags=ACTION_TAGS,
        request=None,
        responses={200: ScoreSheetSerializer, **REVIEW_ERRORS},
    )
    @extend_schema(
        methods=["POST"],
        summary="Give (or clear) the caller's scores",
        tags=ACTION_TAGS,
        request=ScoresInputSerializer,
        responses={200: ScoreSheetSerializer, **REVIEW_ERRORS},
    )
    @action(detail=True, methods=["get", "post"])
    def scores(self, request: Request, pk: str) -> Response:
        application = self.reviewable_object()
        if request.method == "POST":
            serializer = ScoresInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            with service_errors():
                services.application_score(
                    application=application,
                    actor=request.user,
                    scores=serializer.validated_data["scores"],
                )
        return self.score_sheet(application)

    @extend_schema(
        methods=["GET"],
        summary="The host's private comments on the application",
        tags=ACTION_TAGS,
        request=None,
        responses={200: CommentSerializer(many=True), **REVIEW_ERRORS},
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a private comment for the host's reviewers",
        tags=ACTION_TAGS,
        request=CommentInputSerializer,
        responses={201: CommentSerializer, **REVIEW_ERRORS},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def comments(self, request: Request, pk: str) -> Response:
        application = self.reviewable_object()
        context = self.get_serializer_context()
        if request.method == "POST":
            serializer = CommentInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            with service_errors():
                comment = services.application_comment(
                    application=application,
                    actor=request.user,
                    body=serializer.validated_data["body"],
                )
            return Response(
                CommentSerializer(comment, context=context).data, status=status.HTTP_201_CREATED
            )
        comments = ReviewComment.objects.filter(application=application).select_related("author")
        return Response(CommentSerializer(comments.order_by("created_at", "pk"), many=True).data)
