"""Reads of the catalog: search results, facet counts, the map, an opportunity's page.

A search page costs a fixed number of queries whatever the number of results: on
PostgreSQL one to decide between exact words and the fuzzy fallback (with free text),
one for the result count and every facet's counts (``facet_counts``), one for the page
of results (related rows joined, the next session's start and places as subqueries;
run even when there is nothing to show), one for the host cities to sort by distance
from; plus the network names when ``network`` is asked (to validate it) and, for a
signed-in user, their applicant profile.
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
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import (
    Avg,
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django_countries import countries

from medexchange.catalog.choices import SPECIALTIES, Level, OpportunityKind
from medexchange.catalog.filters import (
    FLAG_CONDITIONS,
    OpportunitySearchFilter,
    upcoming_sessions,
)
from medexchange.catalog.models import Opportunity, Session
from medexchange.common.languages import language_name
from medexchange.network.choices import MembershipStatus, Region
from medexchange.network.models import Institution, Membership, Network

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


#: The single-valued facets: the column each counts, on the opportunity or along a
#: foreign key (so one row per opportunity).
_COLUMN_FACETS = {
    "kind": "kind",
    "level": "level",
    "specialty": "specialty__code",
    "country": "host__country__code",
    "region": "host__country__region",
}


@dataclass
class FacetCounts:
    """Every count of the search page, from one query (``facet_counts``)."""

    #: Results of every filter: the number of results.
    total: int = 0
    #: facet name -> value -> opportunities (the facet's own filter left out); a
    #: ticked-box facet has its one count under "".
    values: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    #: Network slug -> name, of the networks counted.
    network_names: dict[str, str] = field(default_factory=dict)


def facet_counts(
    filterset: OpportunitySearchFilter, searched: QuerySet[Opportunity]
) -> FacetCounts:
    """The result count and every facet's counts, in one query whatever the filters.

    The candidates (``searched``: visible, upcoming, matching the text) are read once,
    as a common table expression ``t`` holding, per opportunity, the facet columns and
    one boolean per applied filter (and per cheap ticked box). Django compiles them from
    the filter set's own conditions (``OpportunitySearchFilter.conditions``), so the
    counts cannot drift from the results. Each facet is then counted over the rows of
    ``t`` that pass every *other* filter (standard multi-select faceting): single-valued
    facets grouped by their column, networks through the hosts' active memberships,
    languages by expanding the JSON list, start months through each row's upcoming
    sessions, each ticked box as one count. PostgreSQL materialises ``t`` (it is read
    many times), so the text search and the ``EXISTS`` checks run once per page, not
    once per facet; the session look-ups of the month facet and of an unticked "open
    now" run only for the rows that other filters kept, through the session index.
    """
    counts = FacetCounts()
    conditions = filterset.conditions()
    flags = {name: FLAG_CONDITIONS[name]() for name in FLAGS}
    eligible = filterset.condition("eligible", True)
    if eligible is not None:  # a signed-in applicant with a profile
        flags["eligible"] = eligible
    # Ticked boxes that need a look-up in another table are, unless applied, counted
    # per kept row only (below); the others are columns of ``t``.
    looked_up = {name for name in ("open_now", "eligible") if name not in conditions}
    in_t = {**{k: v for k, v in flags.items() if k not in looked_up}, **conditions}
    columns: dict[str, Any] = {
        "f_id": F("pk"),
        "f_host": F("host_id"),
        "f_languages": F("languages"),
    }
    columns.update({f"k_{name}": F(path) for name, path in _COLUMN_FACETS.items()})
    columns.update(
        {
            f"b_{name}": ExpressionWrapper(condition, output_field=BooleanField())
            for name, condition in in_t.items()
        }
    )
    this_row = RawSQL("t.f_id", [])
    rows = searched.order_by().annotate(**columns).values(*columns)
    sessions = upcoming_sessions().order_by()
    try:
        rows_sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # e.g. a text search that matched nothing: nothing to count
        return counts
    params = list(params)

    def others(excluded: str | None) -> str:
        """Rows of ``t`` passing every applied filter except ``excluded``."""
        passed = [f"t.b_{name}" for name in conditions if name != excluded]
        return " AND ".join(passed or ["1 = 1"])

    def compiled(queryset: QuerySet[Any]) -> str:
        sql, query_params = queryset.query.sql_with_params()
        params.extend(query_params)
        return str(sql)

    postgresql = connections[searched.db].vendor == "postgresql"
    parts = [
        f"SELECT '{name}', t.k_{name}, NULL, COUNT(*) FROM t WHERE {others(name)} "  # noqa: S608
        f"GROUP BY t.k_{name}"
        for name in _COLUMN_FACETS
    ]
    parts.append(
        "SELECT 'network', n.slug, n.name, COUNT(DISTINCT t.f_id) FROM t "  # noqa: S608
        f"INNER JOIN {Membership._meta.db_table} m ON m.institution_id = t.f_host "
        f"INNER JOIN {Network._meta.db_table} n ON n.id = m.network_id "
        f"WHERE m.status = %s AND {others('network')} GROUP BY n.slug, n.name"
    )
    params.append(MembershipStatus.ACTIVE)
    if postgresql:
        parts += [
            "SELECT 'language', e.value->>'code', NULL, COUNT(DISTINCT t.f_id) FROM t "  # noqa: S608
            "CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(t.f_languages) "
            f"= 'array' THEN t.f_languages ELSE '[]' END) e WHERE {others('language')} "
            "GROUP BY e.value->>'code'",
            # Per kept row, its months through the (opportunity, start) index.
            "SELECT 'start_month', s.month, NULL, COUNT(*) FROM t CROSS JOIN LATERAL "  # noqa: S608
            "(SELECT DISTINCT to_char(x.start_date, 'YYYY-MM') AS month FROM "
            f"({compiled(sessions.filter(opportunity_id=this_row).values('start_date'))}) x) s "
            f"WHERE {others('start_month')} GROUP BY s.month",
        ]
    else:
        code = "CASE WHEN e.type = 'object' THEN json_extract(e.value, '$.code') END"
        parts += [
            f"SELECT 'language', {code}, NULL, COUNT(DISTINCT t.f_id) FROM t "  # noqa: S608
            f"CROSS JOIN json_each(t.f_languages) e WHERE {others('language')} GROUP BY {code}",
            "SELECT 'start_month', strftime('%%Y-%%m', x.start_date), NULL, "  # noqa: S608
            "COUNT(DISTINCT t.f_id) FROM t INNER JOIN "
            f"({compiled(sessions.values('opportunity_id', 'start_date'))}) x "
            f"ON x.opportunity_id = t.f_id WHERE {others('start_month')} "
            "GROUP BY strftime('%%Y-%%m', x.start_date)",
        ]
    for name, flag in flags.items():
        if name in looked_up:
            same_row = Opportunity.objects.filter(flag, pk=this_row).values("pk")
            ticked = f"EXISTS ({compiled(same_row)})"
        else:
            ticked = f"t.b_{name}"
        parts.append(
            f"SELECT '{name}', '', NULL, COUNT(*) FROM t WHERE {others(name)} AND {ticked}"  # noqa: S608
        )
    parts.append(f"SELECT '', '', NULL, COUNT(*) FROM t WHERE {others(None)}")  # noqa: S608
    # Interpolated are only this module's facet names, model tables and SQL compiled by
    # Django; every value is a parameter.
    sql = f"WITH t AS ({rows_sql}) " + " UNION ALL ".join(parts)
    with connections[searched.db].cursor() as cursor:
        cursor.execute(sql, params)
        for facet, key, label, count in cursor.fetchall():
            if not facet:
                counts.total = count
            elif key is not None:
                counts.values[facet][str(key)] = count
                if facet == "network":
                    counts.network_names[key] = label
    return counts


def search_facets(
    filterset: OpportunitySearchFilter,
    searched: QuerySet[Opportunity],
    counts: FacetCounts | None = None,
) -> list[Facet]:
    """Facet groups with live counts, each over the results of every other filter.

    ``searched`` is the candidate queryset already narrowed by the free text, so the
    text search runs its (PostgreSQL) exists check once, not once per facet; ``counts``
    are those of ``facet_counts`` when the caller already has them.
    """
    if counts is None:
        counts = facet_counts(filterset, searched)

    def choice_facet(
        name: str,
        choices: Iterable[tuple[str, Any]],
        *,
        keep_empty: bool = False,
        multiple: bool = True,
    ) -> Facet:
        return Facet(
            name,
            str(filterset.filters[name].label),
            _options(choices, counts.values[name], _chosen(filterset, name), keep_empty=keep_empty),
            multiple=multiple,
        )

    facets = [
        choice_facet("kind", OpportunityKind.choices, keep_empty=True),
        choice_facet("level", Level.choices, keep_empty=True),
        choice_facet(
            "specialty",
            sorted(((code, str(name)) for code, name in SPECIALTIES), key=lambda c: c[1]),
        ),
    ]
    country_counts = counts.values["country"]
    facets.append(
        choice_facet(
            "country",
            [(code, name) for code, name in countries if code in country_counts]
            + [
                (code, countries.name(code) or code)
                for code in _chosen(filterset, "country")
                if code not in country_counts and code in countries
            ],
        )
    )
    facets.append(choice_facet("region", Region.choices, multiple=False))
    network_choices = sorted(counts.network_names.items(), key=lambda choice: choice[1])
    facets.append(choice_facet("network", network_choices))
    language_counts = counts.values["language"]
    facets.append(
        choice_facet(
            "language",
            sorted(
                ((code, language_name(code)) for code in language_counts if code),
                key=lambda choice: choice[1],
            ),
        )
    )
    month_choices = []
    for key in sorted(counts.values["start_month"])[:MONTHS_SHOWN]:
        month = dt.date(int(key[:4]), int(key[5:7]), 1)
        month_choices.append((key, date_format(month, "YEAR_MONTH_FORMAT")))
    facets.append(choice_facet("start_month", month_choices, multiple=False))
    flags = Facet("flags", "", multiple=True)
    for name in FLAGS:
        flags.options.append(
            FacetOption(
                name,
                str(filterset.filters[name].label),
                counts.values[name].get("", 0),
                bool(filterset.form.cleaned_data.get(name)),
            )
        )
    facets.append(flags)
    # Eligibility for the signed-in user's profile, counted with the rest when there is
    # a profile. Signed-in users without a profile get the facet with no option (the
    # template links to the profile page); signed-out users get no facet.
    user = getattr(filterset.request, "user", None)
    if user is not None and user.is_authenticated:
        eligible = Facet("eligible", str(filterset.filters["eligible"].label), multiple=True)
        if filterset.applicant_profile() is not None:
            eligible.options.append(
                FacetOption(
                    "eligible",
                    str(filterset.filters["eligible"].label),
                    counts.values["eligible"].get("", 0),
                    bool(filterset.form.cleaned_data.get("eligible")),
                )
            )
        facets.append(eligible)
    return facets


class CountedPaginator(Paginator):
    """A paginator told its count (``facet_counts`` has it) instead of counting again."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count  # ``count`` is a cached property

    def page_read(self, number: int) -> Page:
        """Page ``number``, its results read now, in one query even when there are none."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page])
        return Page(rows, number, self)


def results_queryset(queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    """What a result card needs, in the same query: related rows joined, and the next
    upcoming session's start and places (``next_start``, ``next_capacity``).

    Places left equal the capacity until applications exist (a later issue).
    """
    upcoming = upcoming_sessions().filter(opportunity=OuterRef("pk")).order_by("start_date", "pk")
    return queryset.select_related("host__country", "specialty").annotate(
        next_capacity=Subquery(upcoming.values("capacity")[:1])
    )


def attach_card_details(opportunities: list[Opportunity]) -> None:
    """Set ``fees_total`` on each (no query: the rest came with ``results_queryset``)."""
    for opportunity in opportunities:
        opportunity.fees_total = (  # type: ignore[attr-defined]
            opportunity.application_fee + opportunity.tuition_fee
        )


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
    #: Capacity less the seats accepted applications hold.
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
    from medexchange.applications.selectors import seats_taken_by_session

    zone = host_zone(opportunity)
    now = timezone.now()
    rows = []
    sessions = list(upcoming_sessions().filter(opportunity=opportunity).order_by("start_date"))
    taken = seats_taken_by_session(session.pk for session in sessions)
    for session in sessions:
        rows.append(
            SessionRow(
                session=session,
                places_left=max(session.capacity - taken.get(session.pk, 0), 0),
                opens_host=timezone.localtime(session.applications_open_at, zone),
                closes_host=timezone.localtime(session.applications_close_at, zone),
                closes_viewer=timezone.localtime(session.applications_close_at),
                open_now=session.applications_open_at <= now < session.applications_close_at,
            )
        )
    return rows


def host_city_choices() -> list[tuple[str, str]]:
    """Cities with published opportunities, as ``("lat,lon", "City, Country")``: the places
    a search can sort by distance from (one query).

    A city's place is the mean of its hosts' that publish (each host once): read from
    the hosts, with an indexed ``EXISTS`` per host, not by joining every opportunity.
    """
    published = Opportunity.objects.published().filter(host=OuterRef("pk"))
    grouped = (
        Institution.objects.filter(Exists(published))
        .order_by()
        .values("city", "country__code")
        .annotate(
            lat=Avg(Cast("latitude", FloatField())),
            lon=Avg(Cast("longitude", FloatField())),
        )
    )
    rows = list(grouped)
    # Each country's name once (naming one translates), not once per city.
    names = {code: countries.name(code) for code in {row["country__code"] for row in rows}}
    choices = [
        (f"{row['lat']:.4f},{row['lon']:.4f}", f"{row['city']}, {names[row['country__code']]}")
        for row in rows
    ]
    return sorted(choices, key=lambda choice: choice[1])
