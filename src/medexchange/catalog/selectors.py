"""Reads of the catalog: search results, facet counts, the map, an opportunity's page.

A search page costs a fixed number of queries whatever the number of results: the
network names (to validate ``network``), one aggregate query per facet group (plus,
for a signed-in user, one for their profile and one for the eligibility count), the
count, the page of results (with ``select_related``) and one query for the sessions
of the page.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Avg, Count, Exists, FloatField, OuterRef, Q, QuerySet
from django.db.models.functions import Cast, TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django_countries import countries

from medexchange.catalog.choices import SPECIALTIES, Level, OpportunityKind
from medexchange.catalog.eligibility import eligible_for
from medexchange.catalog.filters import (
    FEE_FREE,
    HAS_WAIVER,
    OpportunitySearchFilter,
    open_sessions,
    upcoming_sessions,
)
from medexchange.catalog.models import Opportunity, Session
from medexchange.common.languages import language_name
from medexchange.network.choices import MembershipStatus, Region

FLAGS = ("open_now", "fee_free", "waiver", "scholarship")
#: Months offered in the "starting in" facet.
MONTHS_SHOWN = 24


@dataclass
class FacetOption:
    value: str
    label: str
    count: int
    checked: bool


@dataclass
class Facet:
    name: str
    label: str
    options: list[FacetOption] = field(default_factory=list)
    multiple: bool = True
    #: The message when the request's value for this facet was malformed.
    error: str = ""

    @property
    def checked_count(self) -> int:
        return sum(1 for option in self.options if option.checked)


def _chosen(filterset: OpportunitySearchFilter, name: str) -> set[str]:
    """The values of ``name`` in the request, as strings (for ticking boxes)."""
    data = filterset.data
    if hasattr(data, "getlist"):
        return {str(value) for value in data.getlist(name)}
    value = data.get(name) if data else None
    return {str(value)} if value else set()


def _options(
    choices: Iterable[tuple[str, Any]],
    counts: dict[str, int],
    chosen: set[str],
    *,
    keep_empty: bool,
) -> list[FacetOption]:
    options = []
    for value, label in choices:
        count = counts.get(value, 0)
        if keep_empty or count or value in chosen:
            options.append(FacetOption(value, str(label), count, value in chosen))
    return options


def _counts(queryset: QuerySet[Opportunity], field_name: str) -> dict[str, int]:
    rows = queryset.order_by().values(field_name).annotate(n=Count("pk", distinct=True))
    return {str(row[field_name]): row["n"] for row in rows if row[field_name] is not None}


def _language_counts(queryset: QuerySet[Opportunity]) -> dict[str, int]:
    """Opportunities per language code, the JSON list expanded by the database."""
    try:
        inner, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # e.g. a text search that matched nothing: no SQL to embed
        return {}
    table = Opportunity._meta.db_table
    if connections[queryset.db].vendor == "postgresql":
        sql = (
            f"SELECT e.value->>'code', COUNT(DISTINCT o.id) FROM {table} o "  # noqa: S608
            "CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(o.languages) = "
            "'array' THEN o.languages ELSE '[]' END) e "
            f"WHERE o.id IN ({inner}) GROUP BY 1"
        )
    else:
        sql = (
            "SELECT CASE WHEN e.type = 'object' THEN json_extract(e.value, '$.code') END, "  # noqa: S608
            f"COUNT(DISTINCT o.id) FROM {table} o, json_each(o.languages) e "
            f"WHERE o.id IN ({inner}) GROUP BY 1"
        )
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return {code: count for code, count in cursor.fetchall() if code}


def search_facets(
    filterset: OpportunitySearchFilter, searched: QuerySet[Opportunity]
) -> list[Facet]:
    """Facet groups with live counts, each over the results of every other filter.

    ``searched`` is the candidate queryset already narrowed by the free text, so the
    text search runs its (PostgreSQL) exists check once, not once per facet.
    """

    def base(name: str) -> QuerySet[Opportunity]:
        return filterset.facet_queryset(searched, without=name)

    def choice_facet(
        name: str,
        choices: Iterable[tuple[str, Any]],
        counts: dict[str, int],
        *,
        keep_empty: bool = False,
        multiple: bool = True,
    ) -> Facet:
        return Facet(
            name,
            str(filterset.filters[name].label),
            _options(choices, counts, _chosen(filterset, name), keep_empty=keep_empty),
            multiple=multiple,
        )

    facets = [
        choice_facet(
            "kind", OpportunityKind.choices, _counts(base("kind"), "kind"), keep_empty=True
        ),
        choice_facet("level", Level.choices, _counts(base("level"), "level"), keep_empty=True),
        choice_facet(
            "specialty",
            sorted(((code, str(name)) for code, name in SPECIALTIES), key=lambda c: c[1]),
            _counts(base("specialty"), "specialty__code"),
        ),
    ]
    country_counts = _counts(base("country"), "host__country__code")
    facets.append(
        choice_facet(
            "country",
            [(code, name) for code, name in countries if code in country_counts]
            + [
                (code, countries.name(code) or code)
                for code in _chosen(filterset, "country")
                if code not in country_counts and code in countries
            ],
            country_counts,
        )
    )
    facets.append(
        choice_facet(
            "region",
            Region.choices,
            _counts(base("region"), "host__country__region"),
            multiple=False,
        )
    )
    network_rows = (
        base("network")
        .filter(host__memberships__status=MembershipStatus.ACTIVE)
        .order_by()
        .values("host__memberships__network__slug", "host__memberships__network__name")
        .annotate(n=Count("pk", distinct=True))
    )
    network_choices = sorted(
        (
            (row["host__memberships__network__slug"], row["host__memberships__network__name"])
            for row in network_rows
        ),
        key=lambda choice: choice[1],
    )
    network_counts = {row["host__memberships__network__slug"]: row["n"] for row in network_rows}
    facets.append(choice_facet("network", network_choices, network_counts))
    language_counts = _language_counts(base("language"))
    facets.append(
        choice_facet(
            "language",
            sorted(
                ((code, language_name(code)) for code in language_counts),
                key=lambda choice: choice[1],
            ),
            language_counts,
        )
    )
    month_rows = (
        upcoming_sessions()
        .filter(opportunity__in=base("start_month").order_by().values("pk"))
        .annotate(month=TruncMonth("start_date"))
        .order_by()
        .values("month")
        .annotate(n=Count("opportunity", distinct=True))
        .order_by("month")[:MONTHS_SHOWN]
    )
    month_choices = []
    month_counts = {}
    for row in month_rows:
        month = row["month"]
        if isinstance(month, dt.datetime):
            month = month.date()
        key = f"{month:%Y-%m}"
        month_choices.append((key, date_format(month, "YEAR_MONTH_FORMAT")))
        month_counts[key] = row["n"]
    facets.append(choice_facet("start_month", month_choices, month_counts, multiple=False))
    flag_conditions = {
        "open_now": Exists(open_sessions().filter(opportunity=OuterRef("pk"))),
        "fee_free": FEE_FREE,
        "waiver": HAS_WAIVER,
        "scholarship": Q(scholarship_eligible=True),
    }
    flags = Facet("flags", "", multiple=True)
    for name in FLAGS:
        condition = flag_conditions[name]
        flagged = base(name).filter(condition)
        flags.options.append(
            FacetOption(
                name,
                str(filterset.filters[name].label),
                flagged.order_by().count(),
                bool(filterset.form.cleaned_data.get(name)),
            )
        )
    facets.append(flags)
    # Eligibility for the signed-in user's profile: one count query when there is a
    # profile, none otherwise. Signed-in users without a profile get the facet with no
    # option (the template links to the profile page); signed-out users get no facet.
    user = getattr(filterset.request, "user", None)
    if user is not None and user.is_authenticated:
        eligible = Facet("eligible", str(filterset.filters["eligible"].label), multiple=True)
        profile = filterset.applicant_profile()
        if profile is not None:
            eligible.options.append(
                FacetOption(
                    "eligible",
                    str(filterset.filters["eligible"].label),
                    eligible_for(base("eligible"), profile).order_by().count(),
                    bool(filterset.form.cleaned_data.get("eligible")),
                )
            )
        facets.append(eligible)
    return facets


def attach_card_details(opportunities: list[Opportunity]) -> None:
    """Set ``next_session``, ``upcoming_count`` and ``fees_total`` on each, in one query.

    Places left equal the capacity until applications exist (a later issue).
    """
    by_opportunity: dict[int, list[Session]] = defaultdict(list)
    for session in (
        upcoming_sessions()
        .filter(opportunity_id__in=[opportunity.pk for opportunity in opportunities])
        .order_by("start_date", "pk")
    ):
        by_opportunity[session.opportunity_id].append(session)
    for opportunity in opportunities:
        sessions = by_opportunity.get(opportunity.pk, [])
        opportunity.next_session = sessions[0] if sessions else None  # type: ignore[attr-defined]
        opportunity.upcoming_count = len(sessions)  # type: ignore[attr-defined]
        opportunity.fees_total = (  # type: ignore[attr-defined]
            opportunity.application_fee + opportunity.tuition_fee
        )


def results_queryset(queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    """What a result card needs from related rows, joined in the same query."""
    return queryset.select_related("host__country", "specialty")


def hosts_feature_collection(queryset: QuerySet[Opportunity]) -> bytes:
    """GeoJSON of the hosts of ``queryset`` with how many results each has, in one query."""
    rows = (
        queryset.order_by()
        .values("host__slug", "host__name", "host__city", "host__country__code")
        .annotate(
            lat=Cast("host__latitude", FloatField()),
            lon=Cast("host__longitude", FloatField()),
            n=Count("pk", distinct=True),
        )
        .order_by("host__name", "host__slug")
    )
    url_prefix = reverse("network:institution", kwargs={"slug": "x"})[:-2]
    features = [
        {
            "type": "Feature",
            "id": row["host__slug"],
            "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
            "properties": {
                "name": row["host__name"],
                "city": row["host__city"],
                "country": row["host__country__code"],
                "opportunities": row["n"],
                "url": f"{url_prefix}{row['host__slug']}/",
            },
        }
        for row in rows
    ]
    return orjson.dumps({"type": "FeatureCollection", "features": features})


# The opportunity page -------------------------------------------------------------------


@dataclass
class SessionRow:
    session: Session
    #: Applications do not exist yet, so every place is still free.
    places_left: int
    opens_host: dt.datetime
    closes_host: dt.datetime
    closes_viewer: dt.datetime
    open_now: bool


def opportunity_for_page(user: Any, slug: str) -> Opportunity | None:
    return (
        Opportunity.objects.visible_to(user)
        .select_related("host__country", "specialty")
        .prefetch_related("sites", "eligible_countries")
        .filter(slug=slug)
        .first()
    )


def host_zone(opportunity: Opportunity) -> ZoneInfo:
    try:
        return ZoneInfo(opportunity.host.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def session_rows(opportunity: Opportunity) -> list[SessionRow]:
    """Upcoming scheduled sessions with deadlines in the host's and the viewer's zone."""
    zone = host_zone(opportunity)
    now = timezone.now()
    rows = []
    for session in upcoming_sessions().filter(opportunity=opportunity).order_by("start_date"):
        rows.append(
            SessionRow(
                session=session,
                # Places left = capacity: applications come in a later issue.
                places_left=session.capacity,
                opens_host=timezone.localtime(session.applications_open_at, zone),
                closes_host=timezone.localtime(session.applications_close_at, zone),
                closes_viewer=timezone.localtime(session.applications_close_at),
                open_now=session.applications_open_at <= now < session.applications_close_at,
            )
        )
    return rows


def host_city_choices() -> list[tuple[str, str]]:
    """Cities with published opportunities, as ``("lat,lon", "City, Country")``: the places
    a search can sort by distance from (one query)."""
    rows = (
        Opportunity.objects.published()
        .order_by()
        .values("host__city", "host__country__code")
        .annotate(
            lat=Avg(Cast("host__latitude", FloatField())),
            lon=Avg(Cast("host__longitude", FloatField())),
        )
    )
    choices = [
        (
            f"{row['lat']:.4f},{row['lon']:.4f}",
            f"{row['host__city']}, {countries.name(row['host__country__code'])}",
        )
        for row in rows
    ]
    return sorted(choices, key=lambda choice: choice[1])
