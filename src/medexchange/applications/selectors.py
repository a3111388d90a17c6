"""Reads of applications: checklists, queues, dashboards, and what the catalog shows."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from medexchange.applications.choices import AWAITING_DECISION, ApplicationState
from medexchange.applications.models import (
    Application,
    ApplicationDocument,
    Placement,
    reviewed_institution_ids,
)
from medexchange.catalog.choices import DocumentKind

S = ApplicationState

#: How far back the host's time to decision looks.
DECISION_HISTORY = dt.timedelta(days=2 * 365)
#: Fewer decisions than this say too little to show a median.
DECISION_HISTORY_MINIMUM = 3


# --------------------------------------------------------------------------- extension points
# Other apps' ``visible_to`` call these, so reviewers see what applicants sent them.


def document_version_ids_visible_to(user: Any) -> QuerySet[Any]:
    """Versions attached to applications ``user`` reviews or endorses."""
    reviewable = Application.objects.reviewable_by(user).values("pk")
    endorsable = Application.objects.endorsable_by(user).values("pk")
    return ApplicationDocument.objects.filter(
        Q(application_id__in=reviewable) | Q(application_id__in=endorsable)
    ).values("version_id")


def applicant_ids_visible_to(user: Any) -> QuerySet[Any]:
    """Applicants whose files ``user`` reviews or endorses."""
    reviewable = Application.objects.reviewable_by(user).values("pk")
    endorsable = Application.objects.endorsable_by(user).values("pk")
    return Application.objects.filter(Q(pk__in=reviewable) | Q(pk__in=endorsable)).values(
        "applicant_id"
    )


# --------------------------------------------------------------------------- requirements


@dataclass(frozen=True)
class RequirementRow:
    """One required document of the opportunity, against the applicant's vault."""

    kind: str
    label: str
    attached: Any  # the attached DocumentVersion, or None
    available: list[Any]  # the applicant's documents of this kind
    problem: str  # empty when the requirement is met


def requirements_checklist(application: Application) -> list[RequirementRow]:
    """What the opportunity requires, what is attached, and what is missing or expires."""
    session = application.session
    required: Any = session.opportunity.required_documents or []
    attached_versions = list(
        ApplicationDocument.objects.filter(application=application).select_related(
            "version__document"
        )
    )
    by_kind: dict[str, Any] = {}
    for attachment in attached_versions:
        by_kind.setdefault(attachment.version.document.kind, attachment.version)
    vault: dict[str, list[Any]] = {}
    if application.applicant_id is not None:
        from medexchange.documents.selectors import vault_for

        for document in vault_for(application.applicant):
            vault.setdefault(document.kind, []).append(document)
    rows = []
    labels = dict(DocumentKind.choices)
    for kind in required:
        label = str(labels.get(kind, kind))
        version = by_kind.get(kind)
        problem = ""
        if version is None:
            problem = _("Attach your %(document)s.") % {"document": label}
        else:
            expires = version.document.expires_on
            if expires is not None and expires < session.end_date:
                problem = _(
                    "Your %(document)s expires on %(date)s, before the session ends: "
                    "upload a newer one."
                ) % {"document": label, "date": expires.isoformat()}
        rows.append(
            RequirementRow(
                kind=kind,
                label=label,
                attached=version,
                available=vault.get(kind, []),
                problem=problem,
            )
        )
    return rows


# --------------------------------------------------------------------------- places and times


def seats_taken_by_session(session_ids: Iterable[int]) -> dict[int, int]:
    """Session id → seats held, in one query."""
    rows = (
        Placement.objects.filter(session_id__in=list(session_ids), released_at__isnull=True)
        .values("session_id")
        .annotate(taken=Count("pk"))
    )
    return {row["session_id"]: row["taken"] for row in rows}


def median_days_to_decision(host_id: int, *, now: dt.datetime | None = None) -> float | None:
    """The host's median days from submission to its first decision, from real history.

    None until there are ``DECISION_HISTORY_MINIMUM`` decisions in ``DECISION_HISTORY``.
    """
    now = now or timezone.now()
    rows = Application.objects.filter(
        session__opportunity__host_id=host_id,
        decided_at__isnull=False,
        reached_host_at__isnull=False,
        decided_at__gte=now - DECISION_HISTORY,
    ).values_list("reached_host_at", "decided_at")
    days = [
        (decided - reached).total_seconds() / 86400
        for reached, decided in rows
        if reached is not None and decided is not None
    ]
    if len(days) < DECISION_HISTORY_MINIMUM:
        return None
    return round(statistics.median(days), 1)


# --------------------------------------------------------------------------- dashboards


def state_counts(queryset: QuerySet[Application]) -> list[tuple[str, str, int]]:
    """(state, label, count) for every state, zeros included, in state-machine order."""
    counts = dict(queryset.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    return [(state, str(label), counts.get(state, 0)) for state, label in S.choices]


def staff_state_counts(user: Any) -> QuerySet[Application]:
    """Applications to sessions of the networks ``user`` runs (all for superusers).

    Hosts are matched through a subquery, so a host in two of the networks does not
    count its applications twice.
    """
    network_ids = user.staffed_network_ids()
    applications = Application.objects.exclude(state=S.DRAFT)
    if network_ids is None:
        return applications
    from medexchange.network.models import Membership

    hosts = Membership.objects.filter(network_id__in=network_ids).values("institution_id")
    return applications.filter(session__opportunity__host_id__in=hosts)


def review_queue(user: Any, *, session_id: int | None = None) -> QuerySet[Application]:
    """The host's files awaiting or past decision, with what the queue page shows."""
    return (
        Application.objects.reviewable_by(user)
        .filter(**({"session_id": session_id} if session_id else {}))
        .exclude(state=S.WITHDRAWN, decided_at__isnull=True)
        .select_related("applicant", "home_country", "home_institution", "session__opportunity")
    )


# --------------------------------------------------------------------------- review work
# The host's queue, the review page's scores and the three dashboards (docs/reviewing.md).


def host_sessions(user: Any) -> QuerySet[Any]:
    """Sessions of the hosts ``user`` reviews for (all for superusers)."""
    from medexchange.catalog.models import Session

    if not user.is_authenticated:
        return Session.objects.none()
    if user.is_superuser:
        return Session.objects.all()
    return Session.objects.filter(opportunity__host_id__in=reviewed_institution_ids(user))


def reviewed_hosts(user: Any) -> QuerySet[Any]:
    """Institutions whose inbound applications ``user`` reviews (all for superusers)."""
    from medexchange.network.models import Institution

    if not user.is_authenticated:
        return Institution.objects.none()
    if user.is_superuser:
        return Institution.objects.all()
    return Institution.objects.filter(pk__in=reviewed_institution_ids(user))


def coordinated_homes(user: Any) -> QuerySet[Any]:
    """Institutions whose outbound applications ``user`` follows: those it coordinates,
    the same rule as the catalog's (``catalog.permissions.catalog_hosts``)."""
    from medexchange.catalog.permissions import catalog_hosts

    return catalog_hosts(user)


def weighted_percent(rows: Iterable[tuple[int, Any, int]]) -> float | None:
    """sum(score * weight) / sum(highest * weight) in percent; rows are (score, weight, max).

    The same formula as the queue's ``weighted_score`` annotation, so both pages agree.
    """
    got = best = 0.0
    for score, weight, highest in rows:
        got += float(score) * float(weight)
        best += float(highest) * float(weight)
    return round(100 * got / best, 1) if best else None


#: The queue's sort orders: form value → ORDER BY.
QUEUE_SORTS: dict[str, list[Any]] = {
    "date": [F("reached_host_at").asc(), "pk"],
    "-date": [F("reached_host_at").desc(), "-pk"],
    "-score": [F("weighted_score").desc(nulls_last=True), F("reached_host_at").asc(), "pk"],
    "score": [F("weighted_score").asc(nulls_last=True), F("reached_host_at").asc(), "pk"],
    "name": [F("applicant__full_name").asc(nulls_last=True), "pk"],
}
#: The filter value for every state awaiting the host's decision.
AWAITING = "awaiting"


def queue_for_session(
    user: Any,
    session: Any,
    *,
    state: str = "",
    country: str = "",
    scored: str = "",
    q: str = "",
    sort: str = "date",
) -> QuerySet[Application]:
    """One session's queue, filtered and sorted, every row's figures annotated.

    Scores, reviewers and attachments are correlated subqueries, so a page of the queue is
    one query whatever its length (plus the paginator's count).
    """
    from medexchange.applications.models import ReviewScore

    scores = ReviewScore.objects.filter(application=OuterRef("pk")).order_by()
    per_application = scores.values("application")
    weighted = per_application.annotate(
        value=100
        * Sum(Cast("score", FloatField()) * Cast("criterion__weight", FloatField()))
        / Sum(Cast("criterion__max_score", FloatField()) * Cast("criterion__weight", FloatField()))
    ).values("value")
    reviewers = per_application.annotate(n=Count("reviewer", distinct=True)).values("n")
    attachments = (
        ApplicationDocument.objects.filter(application=OuterRef("pk"))
        .order_by()
        .values("application")
        .annotate(n=Count("pk"))
        .values("n")
    )
    expiring = ApplicationDocument.objects.filter(
        application=OuterRef("pk"), version__document__expires_on__lt=session.end_date
    )
    queryset = (
        review_queue(user, session_id=session.pk)
        .annotate(
            weighted_score=Subquery(weighted, output_field=FloatField()),
            reviewer_count=Coalesce(Subquery(reviewers), 0),
            attachment_count=Coalesce(Subquery(attachments), 0),
            has_expiring_document=Exists(expiring),
            scored_by_me=Exists(scores.filter(reviewer=user)),
        )
        # The page has the session already, and shows none of the long texts.
        .select_related(None)
        .select_related("home_country", "home_institution", "applicant")
        .defer("statement", "decision_reason", "endorsement_note")
    )
    if state == AWAITING:
        queryset = queryset.filter(state__in=AWAITING_DECISION)
    elif state:
        queryset = queryset.filter(state=state)
    if country:
        queryset = queryset.filter(home_country__code=country)
    if scored == "mine":
        queryset = queryset.filter(scored_by_me=True)
    elif scored == "unscored":
        queryset = queryset.filter(scored_by_me=False)
    if q:
        queryset = queryset.filter(applicant__full_name__icontains=q)
    return queryset.order_by(*QUEUE_SORTS.get(sort, QUEUE_SORTS["date"]))


def queue_countries(user: Any, session: Any) -> list[tuple[str, str]]:
    """(code, name) of the home countries in a session's queue, for its filter."""
    from medexchange.network.models import CountryProfile

    ids = review_queue(user, session_id=session.pk).values("home_country_id")
    countries = [(str(c.code), str(c.name)) for c in CountryProfile.objects.filter(pk__in=ids)]
    return sorted(countries, key=lambda pair: pair[1])


@dataclass(frozen=True)
class InboundRow:
    """One session of a host's inbound dashboard."""

    session: Any
    received: int
    awaiting: int
    offered: int
    waitlisted: int
    seats_taken: int
    overdue: bool

    @property
    def places_left(self) -> int:
        return max(self.session.capacity - self.seats_taken, 0)


def inbound_rows(institution: Any, *, today: dt.date | None = None) -> list[InboundRow]:
    """The host's sessions that received applications, with counts per state; two queries."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from medexchange.catalog.models import Session

    try:
        zone = ZoneInfo(institution.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    today = today or timezone.localdate(timezone=zone)
    reached = Q(applications__reached_host_at__isnull=False)

    def count(states: Iterable[str]) -> Count:
        return Count("applications", filter=reached & Q(applications__state__in=list(states)))

    sessions: list[Any] = list(
        Session.objects.filter(opportunity__host=institution)
        .annotate(
            received=Count("applications", filter=reached),
            awaiting=count(AWAITING_DECISION - {S.WAITLISTED}),
            offered=count([S.OFFERED]),
            waitlisted=count([S.WAITLISTED]),
        )
        .filter(received__gt=0)
        .select_related("opportunity")
        .order_by("start_date", "pk")
    )
    taken = seats_taken_by_session(session.pk for session in sessions)
    return [
        InboundRow(
            session=session,
            received=session.received,
            awaiting=session.awaiting,
            offered=session.offered,
            waitlisted=session.waitlisted,
            seats_taken=taken.get(session.pk, 0),
            overdue=bool(
                session.decision_date
                and session.decision_date < today
                and (session.awaiting or session.waitlisted)
            ),
        )
        for session in sessions
    ]


def outbound_applications(user: Any, institution: Any, *, today: dt.date | None = None) -> Any:
    """Submitted applications of ``institution``'s people, ``abroad_now`` annotated."""
    today = today or timezone.localdate()
    abroad = Q(state=S.IN_PROGRESS) | Q(
        state=S.CONFIRMED, session__start_date__lte=today, session__end_date__gte=today
    )
    return (
        Application.objects.endorsable_by(user)
        .filter(home_institution=institution)
        .annotate(abroad_now=ExpressionWrapper(abroad, output_field=BooleanField()))
        .select_related("applicant", "session__opportunity__host__country")
    )


@dataclass(frozen=True)
class CountryCounts:
    code: str
    name: str
    total: int
    awaiting: int
    offered: int
    placed: int
    closed: int


def counts_by_country(queryset: QuerySet[Application], field: str) -> list[CountryCounts]:
    """Applications per country (``field`` is a path to a CountryProfile), most first."""
    from medexchange.applications.choices import SEAT_STATES
    from medexchange.network.models import CountryProfile

    rows = (
        queryset.order_by()
        .values(field)
        .annotate(
            total=Count("pk"),
            awaiting=Count("pk", filter=Q(state__in=AWAITING_DECISION)),
            offered=Count("pk", filter=Q(state=S.OFFERED)),
            placed=Count("pk", filter=Q(state__in=SEAT_STATES)),
        )
    )
    rows = list(rows)
    profiles = CountryProfile.objects.in_bulk([row[field] for row in rows if row[field]])
    result = []
    for row in rows:
        profile = profiles.get(row[field])
        result.append(
            CountryCounts(
                code=str(profile.code) if profile else "",
                name=str(profile.name) if profile else str(_("Unknown")),
                total=row["total"],
                awaiting=row["awaiting"],
                offered=row["offered"],
                placed=row["placed"],
                closed=row["total"] - row["awaiting"] - row["offered"] - row["placed"],
            )
        )
    return sorted(result, key=lambda item: (-item.total, item.name))
