"""The catalog in the public API: opportunities and sessions, read-only, filtered."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from medexchange.catalog.choices import (
    HomeCountryRule,
    Level,
    OpportunityKind,
    OpportunityStatus,
)
from medexchange.catalog.models import Specialty
from medexchange.network.choices import MembershipStatus
from tests import factories

pytestmark = pytest.mark.django_db

API = "/api/v1"


def slugs(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


def future(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def session_for(opportunity: Any, start_in_days: int, **kwargs: Any) -> Any:
    start = future(start_in_days)
    now = timezone.now()
    values: dict[str, Any] = {
        "opportunity": opportunity,
        "start_date": start,
        "end_date": start + dt.timedelta(days=opportunity.duration_days - 1),
        "applications_open_at": now - dt.timedelta(days=10),
        "applications_close_at": now + dt.timedelta(days=max(start_in_days - 30, 1)),
        "decision_date": start - dt.timedelta(days=7),
    }
    values.update(kwargs)
    return factories.SessionFactory(**values)


@pytest.fixture
def catalog(network: Any, africa_network: Any) -> dict[str, Any]:
    """Three hosts in two countries; published, draft and unpublished opportunities."""
    nairobi = factories.InstitutionFactory(name="Nairobi School", slug="nairobi")
    accra = factories.InstitutionFactory(
        name="Accra Hospital",
        slug="accra",
        country=factories.country("GH"),
        city="Accra",
        time_zone="Africa/Accra",
    )
    lima = factories.InstitutionFactory(
        name="Lima Institute",
        slug="lima",
        country=factories.country("PE"),
        city="Lima",
        time_zone="America/Lima",
        languages=["es"],
    )
    factories.MembershipFactory(institution=nairobi, network=network)
    factories.MembershipFactory(institution=nairobi, network=africa_network)
    factories.MembershipFactory(institution=accra, network=africa_network)
    factories.MembershipFactory(
        institution=lima, network=network, status=MembershipStatus.SUSPENDED
    )
    site = factories.SiteFactory(institution=nairobi, name="Nairobi ED")
    elective = factories.OpportunityFactory(
        host=nairobi,
        slug="elective",
        title="A Emergency elective",
        application_fee=Decimal("50.00"),
        tuition_fee=Decimal("300.00"),
        international_surcharge=Decimal("200.00"),
        monthly_housing_cost=Decimal("400.00"),
        currency="KES",
        waiver_for_lower_income=True,
        scholarship_eligible=True,
    )
    elective.sites.add(site)
    course = factories.OpportunityFactory(
        host=accra,
        slug="ultrasound",
        title="B Ultrasound course",
        kind=OpportunityKind.COURSE,
        level=Level.POSTGRADUATE,
        duration_days=3,
        home_country_rule=HomeCountryRule.LISTED,
    )
    course.eligible_countries.add(factories.country("HT"), factories.country("JM"))
    fellowship = factories.OpportunityFactory(
        host=lima,
        slug="fellowship",
        title="C Toxicology fellowship",
        kind=OpportunityKind.FELLOWSHIP,
        level=Level.POSTGRADUATE,
        specialty=Specialty.objects.get(code="toxicology"),
        duration_days=365,
        languages=[{"code": "es", "level": "B2"}],
    )
    draft = factories.OpportunityFactory(
        host=nairobi, slug="draft", title="D Draft", status=OpportunityStatus.DRAFT
    )
    unpublished = factories.OpportunityFactory(
        host=accra, slug="gone", title="E Gone", status=OpportunityStatus.UNPUBLISHED
    )
    sessions = {
        "elective-soon": session_for(elective, 60),
        "elective-later": session_for(elective, 200),
        "elective-past": session_for(
            elective,
            -60,
            applications_open_at=timezone.now() - dt.timedelta(days=200),
            applications_close_at=timezone.now() - dt.timedelta(days=100),
        ),
        "elective-cancelled": session_for(elective, 90, cancelled_at=timezone.now()),
        # Not yet open: the window opens next month.
        "course": session_for(
            course,
            150,
            applications_open_at=timezone.now() + dt.timedelta(days=30),
            applications_close_at=timezone.now() + dt.timedelta(days=100),
        ),
        "fellowship": session_for(fellowship, 300),
        "draft": session_for(draft, 60),
        "gone": session_for(unpublished, 60),
    }
    return {
        "nairobi": nairobi,
        "accra": accra,
        "lima": lima,
        "elective": elective,
        # Sessions under the names of their opportunities (course, fellowship, draft, gone).
        **sessions,
    }


# --- opportunities ------------------------------------------------------------------------


def test_anonymous_sees_published_opportunities_only(
    client: Client, catalog: dict[str, Any]
) -> None:
    assert slugs(client.get(f"{API}/opportunities/")) == ["elective", "ultrasound", "fellowship"]
    assert client.get(f"{API}/opportunities/draft/").status_code == 404
    assert client.get(f"{API}/opportunities/gone/").status_code == 404
    assert client.get(f"{API}/opportunities/nothing-here/").status_code == 404


def test_coordinators_see_their_own_drafts_and_no_one_elses(
    client: Client, catalog: dict[str, Any]
) -> None:
    client.force_login(factories.coordinator_of(catalog["nairobi"]))
    listed = slugs(client.get(f"{API}/opportunities/"))
    assert "draft" in listed and "gone" not in listed
    assert client.get(f"{API}/opportunities/draft/").json()["status"] == "draft"

    client.force_login(factories.coordinator_of(catalog["accra"]))
    assert client.get(f"{API}/opportunities/draft/").status_code == 404
    assert "gone" in slugs(client.get(f"{API}/opportunities/"))


def test_opportunity_fields(client: Client, catalog: dict[str, Any]) -> None:
    row = client.get(f"{API}/opportunities/").json()["results"][0]

    assert set(row) == {
        "slug",
        "title",
        "kind",
        "level",
        "status",
        "host",
        "specialty",
        "summary",
        "description",
        "languages",
        "duration_days",
        "eligibility",
        "fees",
        "waivers",
        "scholarship_eligible",
        "accommodation",
        "cost_estimate",
        "url",
    }
    assert row["host"] == {
        "slug": "nairobi",
        "name": "Nairobi School",
        "city": "Nairobi",
        "country": {"code": "KE", "name": "Kenya"},
        "time_zone": "UTC",
    }
    assert row["specialty"] == {"code": "emergency-medicine", "name": "Emergency Medicine"}
    assert row["languages"] == [{"code": "en", "minimum_level": "B2"}]
    assert row["fees"] == {
        "currency": "KES",
        "application_fee": "50.00",
        "tuition_fee": "300.00",
        "international_surcharge": "200.00",
        "is_fee_free": False,
        "notes": "",
    }
    assert row["waivers"] == {"under_agreement": False, "for_lower_income": True, "notes": ""}
    assert row["scholarship_eligible"] is True
    assert row["accommodation"]["help"] == "none"
    # 28 days is 1.0 month (rounded up to a tenth): fees + 400 housing.
    assert row["cost_estimate"] == {
        "currency": "KES",
        "months": "1.0",
        "domestic": {
            "fees": "350.00",
            "housing": "400.00",
            "transport": "0.00",
            "insurance": "0.00",
            "total": "750.00",
        },
        "international": {
            "fees": "550.00",
            "housing": "400.00",
            "transport": "0.00",
            "insurance": "0.00",
            "total": "950.00",
        },
    }
    assert row["url"] == "http://testserver/opportunities/elective/"
    assert "upcoming_sessions" not in row


def test_eligibility_lists_the_reserved_countries(client: Client, catalog: dict[str, Any]) -> None:
    body = client.get(f"{API}/opportunities/ultrasound/").json()

    assert body["eligibility"]["home_country_rule"] == "listed"
    assert body["eligibility"]["eligible_countries"] == ["HT", "JM"]


def test_detail_has_sites_and_upcoming_scheduled_sessions(
    client: Client, catalog: dict[str, Any]
) -> None:
    body = client.get(f"{API}/opportunities/elective/").json()

    assert body["sites"] == [{"name": "Nairobi ED", "kind": "hospital", "city": "Nairobi"}]
    ids = [session["id"] for session in body["upcoming_sessions"]]
    assert ids == [catalog["elective-soon"].pk, catalog["elective-later"].pk]
    assert body["upcoming_sessions"][0]["opportunity"] == "elective"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"kind": "course"}, ["ultrasound"]),
        ({"kind": ["course", "fellowship"]}, ["ultrasound", "fellowship"]),
        ({"level": "postgraduate"}, ["ultrasound", "fellowship"]),
        ({"specialty": "toxicology"}, ["fellowship"]),
        ({"country": "GH"}, ["ultrasound"]),
        ({"country": ["GH", "KE"]}, ["elective", "ultrasound"]),
        ({"network": "africa"}, ["elective", "ultrasound"]),
        # Lima's membership is suspended: not an active member of the global network.
        ({"network": "global"}, ["elective"]),
        ({"open_now": "true"}, ["elective", "fellowship"]),
        ({"open_now": "false"}, ["elective", "ultrasound", "fellowship"]),
        ({"start_after": "2000-01-01"}, ["elective", "ultrasound", "fellowship"]),
        ({"start_before": future(100).isoformat()}, ["elective"]),
        ({"start_after": future(100).isoformat()}, ["elective", "ultrasound", "fellowship"]),
        (
            {"start_after": future(100).isoformat(), "start_before": future(250).isoformat()},
            ["elective", "ultrasound"],
        ),
        # The cancelled session (in 90 days) does not count.
        (
            {"start_after": future(80).isoformat(), "start_before": future(100).isoformat()},
            [],
        ),
    ],
)
def test_opportunity_filters(
    client: Client, catalog: dict[str, Any], query: dict[str, Any], expected: list[str]
) -> None:
    assert slugs(client.get(f"{API}/opportunities/", query)) == expected


def test_session_conditions_apply_to_one_and_the_same_session(
    client: Client, catalog: dict[str, Any]
) -> None:
    # The course's only session starts in 150 days but is not open yet.
    query = {"open_now": "true", "start_after": future(120).isoformat()}
    assert slugs(client.get(f"{API}/opportunities/", query)) == ["elective", "fellowship"]
    query["start_before"] = future(160).isoformat()
    assert slugs(client.get(f"{API}/opportunities/", query)) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"kind": "picnic"}, "kind"),
        ({"level": "expert"}, "level"),
        ({"specialty": "astrology"}, "specialty"),
        ({"country": "XX"}, "country"),
        ({"network": "nowhere"}, "network"),
        ({"open_now": "perhaps"}, "open_now"),
        ({"start_after": "2026-13-45"}, "start_after"),
        ({"start_before": "tomorrow"}, "start_before"),
    ],
)
def test_malformed_filters_are_400_naming_the_field(
    client: Client, catalog: dict[str, Any], query: dict[str, str], field: str
) -> None:
    for endpoint in ("opportunities", "sessions"):
        response = client.get(f"{API}/{endpoint}/", query)
        assert response.status_code == 400, (endpoint, query)
        assert field in response.json()


def test_malformed_page_is_404_not_500(client: Client, catalog: dict[str, Any]) -> None:
    assert client.get(f"{API}/opportunities/", {"page": "x"}).status_code == 404
    assert client.get(f"{API}/sessions/", {"page": "99"}).status_code == 404


def test_opportunity_list_runs_a_fixed_number_of_queries(
    client: Client, network: Any, django_assert_max_num_queries: Any
) -> None:
    hosts = [factories.InstitutionFactory(country=factories.country(c)) for c in ("KE", "GH")]
    for host in hosts:
        factories.MembershipFactory(institution=host, network=network)
    for number in range(30):
        opportunity = factories.OpportunityFactory(host=hosts[number % 2])
        opportunity.eligible_countries.add(factories.country("HT"))
        session_for(opportunity, 60 + number)

    # count, page with host, country and specialty, eligible countries
    with django_assert_max_num_queries(3):
        response = client.get(f"{API}/opportunities/")
    assert response.json()["count"] == 30

    # ... plus one to look the networks up; session conditions are one subquery
    query = {
        "network": ["global"],
        "kind": "clinical_elective",
        "specialty": "emergency-medicine",
        "open_now": "true",
        "start_after": future(1).isoformat(),
    }
    with django_assert_max_num_queries(4):
        response = client.get(f"{API}/opportunities/", query)
    assert response.json()["count"] == 30


def test_opportunity_detail_runs_a_fixed_number_of_queries(
    client: Client, catalog: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    for days in range(100, 130):
        session_for(catalog["elective"], days)

    # opportunity, eligible countries, sites, upcoming sessions
    with django_assert_max_num_queries(4):
        response = client.get(f"{API}/opportunities/elective/")
    assert len(response.json()["upcoming_sessions"]) == 32


# --- sessions -----------------------------------------------------------------------------


def test_sessions_are_scheduled_sessions_of_visible_opportunities(
    client: Client, catalog: dict[str, Any]
) -> None:
    response = client.get(f"{API}/sessions/")
    assert response.status_code == 200
    ids = [row["id"] for row in response.json()["results"]]
    expected = ["elective-past", "elective-soon", "course", "elective-later", "fellowship"]
    assert ids == [catalog[key].pk for key in expected]
    assert client.get(f"{API}/sessions/{catalog['draft'].pk}/").status_code == 404
    assert client.get(f"{API}/sessions/{catalog['elective-cancelled'].pk}/").status_code == 404
    assert client.get(f"{API}/sessions/abc/").status_code == 404

    client.force_login(factories.coordinator_of(catalog["nairobi"]))
    assert client.get(f"{API}/sessions/{catalog['draft'].pk}/").status_code == 200


def test_session_fields_show_the_window_in_the_hosts_time_zone(
    client: Client, catalog: dict[str, Any]
) -> None:
    session = catalog["fellowship"]
    body = client.get(f"{API}/sessions/{session.pk}/").json()

    assert set(body) == {
        "id",
        "opportunity",
        "start_date",
        "end_date",
        "capacity",
        "time_zone",
        "applications_open_at",
        "applications_close_at",
        "open_for_applications",
        "decision_date",
    }
    assert body["opportunity"] == "fellowship"
    assert body["start_date"] == session.start_date.isoformat()
    assert body["time_zone"] == "America/Lima"
    closes = dt.datetime.fromisoformat(body["applications_close_at"])
    assert closes == session.applications_close_at
    assert closes.utcoffset() == dt.timedelta(hours=-5)
    assert body["open_for_applications"] is True
    assert body["decision_date"] == session.decision_date.isoformat()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"kind": "course"}, ["course"]),
        ({"country": "PE"}, ["fellowship"]),
        ({"network": "africa", "open_now": "true"}, ["elective-soon", "elective-later"]),
        (
            {"start_after": future(0).isoformat()},
            ["elective-soon", "course", "elective-later", "fellowship"],
        ),
        ({"start_before": future(0).isoformat()}, ["elective-past"]),
        ({"specialty": "toxicology", "level": "postgraduate"}, ["fellowship"]),
    ],
)
def test_session_filters(
    client: Client, catalog: dict[str, Any], query: dict[str, Any], expected: list[str]
) -> None:
    response = client.get(f"{API}/sessions/", query)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [
        catalog[key].pk for key in expected
    ]


def test_session_list_runs_a_fixed_number_of_queries(
    client: Client, catalog: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    for days in range(100, 140):
        session_for(catalog["course"].opportunity, days)

    # count, page with opportunity and host
    with django_assert_max_num_queries(2):
        response = client.get(f"{API}/sessions/")
    assert response.json()["count"] == 45
    # ... plus one to look the networks up
    with django_assert_max_num_queries(3):
        response = client.get(f"{API}/sessions/", {"network": "africa", "kind": "course"})
    assert response.json()["count"] == 41


def test_catalog_api_writes_need_a_sign_in_and_delete_nothing(
    client: Client, catalog: dict[str, Any]
) -> None:
    # The writes themselves are tested in test_catalog_api_write.py.
    assert (
        client.post(f"{API}/opportunities/", {}, content_type="application/json").status_code == 403
    )
    client.force_login(factories.coordinator_of(catalog["nairobi"]))
    assert client.delete(f"{API}/opportunities/elective/").status_code == 405
    assert client.delete(f"{API}/sessions/{catalog['elective-soon'].pk}/").status_code == 405


def test_v1_root_and_schema_list_the_catalog_endpoints(client: Client) -> None:
    root = client.get(f"{API}/").json()
    assert {"opportunities", "sessions"} <= set(root)

    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert {
        "/api/v1/opportunities/",
        "/api/v1/opportunities/{slug}/",
        "/api/v1/sessions/",
        "/api/v1/sessions/{id}/",
    } <= set(schema["paths"])
    for path in ("/api/v1/opportunities/", "/api/v1/sessions/"):
        parameters = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert parameters == {
            "kind",
            "level",
            "specialty",
            "country",
            "network",
            "open_now",
            "start_after",
            "start_before",
            "page",
            "page_size",
        }
    assert "OpportunityKindEnum" in schema["components"]["schemas"]
