"""The public read-only API: what an anonymous client, a map or an integration sees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from medexchange.network.choices import EmStatus, IncomeGroup, InstitutionKind, MembershipStatus
from tests import factories

pytestmark = pytest.mark.django_db

API = "/api/v1"


def slugs(response: Any) -> list[str]:
    return [row["slug"] for row in response.json()["results"]]


@pytest.fixture
def directory(network: Any, africa_network: Any) -> dict[str, Any]:
    """Three members in three countries and one institution still waiting to join."""
    nairobi = factories.InstitutionFactory(
        name="Nairobi School of Medicine", slug="nairobi", city="Nairobi"
    )
    accra = factories.InstitutionFactory(
        name="Accra Teaching Hospital",
        slug="accra",
        kind=InstitutionKind.TEACHING_HOSPITAL,
        country=factories.country("GH"),
        city="Accra",
    )
    lyon = factories.InstitutionFactory(
        name="Institut de formation",
        slug="lyon",
        kind=InstitutionKind.TRAINING_INSTITUTION,
        country=factories.country("FR"),
        city="Lyon",
        languages=["fr"],
    )
    pending = factories.InstitutionFactory(name="Pending College", slug="pending")
    factories.MembershipFactory(institution=nairobi, network=network)
    factories.MembershipFactory(institution=nairobi, network=africa_network)
    factories.MembershipFactory(institution=accra, network=africa_network)
    factories.MembershipFactory(institution=lyon, network=network)
    factories.MembershipFactory(
        institution=pending, network=network, status=MembershipStatus.APPLIED, joined_on=None
    )
    # A former member: its membership no longer counts anywhere.
    left = factories.InstitutionFactory(name="Left Institute", slug="left")
    factories.MembershipFactory(institution=left, network=africa_network, status="left")
    factories.SiteFactory(institution=nairobi, name="Kenyatta ED", kind="emergency_department")
    return {"nairobi": nairobi, "accra": accra, "lyon": lyon, "pending": pending, "left": left}


# --- countries ----------------------------------------------------------------


def test_country_list_is_paginated_with_every_iso_country(client: Client) -> None:
    response = client.get(f"{API}/countries/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] > 240
    assert len(body["results"]) == 50
    assert set(body["results"][0]) == {
        "code",
        "name",
        "region",
        "subregion",
        "income_group",
        "em_status",
        "em_recognised_year",
    }


def test_country_detail(client: Client) -> None:
    kenya = factories.country("KE")
    kenya.em_status = EmStatus.EMERGING
    kenya.em_recognised_year = 2012
    kenya.income_group = IncomeGroup.LOWER_MIDDLE
    kenya.save()

    response = client.get(f"{API}/countries/KE/")

    assert response.status_code == 200
    assert response.json() == {
        "code": "KE",
        "name": "Kenya",
        "region": "africa",
        "subregion": kenya.subregion,
        "income_group": "lower_middle",
        "em_status": "emerging",
        "em_recognised_year": 2012,
    }
    assert client.get(f"{API}/countries/ke/").json()["code"] == "KE"


def test_unknown_country_is_404(client: Client) -> None:
    assert client.get(f"{API}/countries/ZZ/").status_code == 404


def test_country_filters(client: Client) -> None:
    for code in ("KE", "GH"):
        profile = factories.country(code)
        profile.em_status = EmStatus.NOT_RECOGNISED
        profile.income_group = IncomeGroup.LOW if code == "KE" else IncomeGroup.LOWER_MIDDLE
        profile.save()

    africa = client.get(f"{API}/countries/", {"region": "africa", "page_size": "200"}).json()
    assert africa["count"] > 50
    assert {row["region"] for row in africa["results"]} == {"africa"}

    not_recognised = client.get(f"{API}/countries/", {"em_status": "not_recognised"}).json()
    assert [row["code"] for row in not_recognised["results"]] == ["GH", "KE"]

    low = client.get(f"{API}/countries/", {"em_status": "not_recognised", "income_group": "low"})
    assert [row["code"] for row in low.json()["results"]] == ["KE"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("region", "mars"), ("em_status", "legendary"), ("income_group", "infinite")],
)
def test_malformed_country_filter_is_400(client: Client, field: str, value: str) -> None:
    response = client.get(f"{API}/countries/", {field: value})

    assert response.status_code == 400
    assert field in response.json()


# --- networks -----------------------------------------------------------------


def test_network_list_counts_active_members_only(client: Client, directory: dict[str, Any]) -> None:
    response = client.get(f"{API}/networks/")

    assert response.status_code == 200
    rows = {row["slug"]: row for row in response.json()["results"]}
    assert rows["global"]["member_count"] == 2  # nairobi, lyon; not the applicant
    assert rows["africa"]["member_count"] == 2  # nairobi, accra; not the one that left
    assert set(rows["africa"]) == {
        "name",
        "slug",
        "scope",
        "region",
        "description",
        "website",
        "member_count",
    }


def test_network_detail(client: Client, directory: dict[str, Any]) -> None:
    response = client.get(f"{API}/networks/africa/")

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Africa Network"
    assert body["scope"] == "regional"
    assert body["region"] == "africa"
    assert body["member_count"] == 2


def test_unknown_network_is_404(client: Client) -> None:
    assert client.get(f"{API}/networks/no-such-network/").status_code == 404


# --- institutions -------------------------------------------------------------


def test_institution_list_shows_members_only(client: Client, directory: dict[str, Any]) -> None:
    response = client.get(f"{API}/institutions/")

    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert slugs(response) == ["accra", "lyon", "nairobi"]  # by name


def test_institution_list_row(client: Client, directory: dict[str, Any]) -> None:
    rows = {row["slug"]: row for row in client.get(f"{API}/institutions/").json()["results"]}

    nairobi = rows["nairobi"]
    assert nairobi == {
        "name": "Nairobi School of Medicine",
        "slug": "nairobi",
        "kind": "medical_school",
        "country": {"code": "KE", "name": "Kenya"},
        "city": "Nairobi",
        "address": "",
        "latitude": -1.2833,
        "longitude": 36.8167,
        "languages": ["en", "sw"],
        "website": "",
        "description": "",
        "networks": ["africa", "global"],
        "url": "http://testserver/institutions/nairobi/",
    }
    assert isinstance(nairobi["latitude"], float)
    assert "sites" not in nairobi


def test_institution_detail_has_sites(client: Client, directory: dict[str, Any]) -> None:
    response = client.get(f"{API}/institutions/nairobi/")

    assert response.status_code == 200
    body = response.json()
    assert body["networks"] == ["africa", "global"]
    assert body["sites"] == [
        {"name": "Kenyatta ED", "kind": "emergency_department", "city": "Nairobi"}
    ]
    assert body["url"] == "http://testserver" + directory["nairobi"].get_absolute_url()


@pytest.mark.parametrize("slug", ["pending", "left", "no-such-institution"])
def test_non_member_or_unknown_institution_is_404_for_anonymous(
    client: Client, directory: dict[str, Any], slug: str
) -> None:
    assert client.get(f"{API}/institutions/{slug}/").status_code == 404


def test_coordinator_sees_own_institution_before_it_joins(
    client: Client, directory: dict[str, Any]
) -> None:
    client.force_login(factories.coordinator_of(directory["pending"]))

    assert client.get(f"{API}/institutions/pending/").status_code == 200
    assert "pending" in slugs(client.get(f"{API}/institutions/"))
    assert client.get(f"{API}/institutions/left/").status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"country": "GH"}, ["accra"]),
        ({"country": "KE"}, ["nairobi"]),
        ({"region": "africa"}, ["accra", "nairobi"]),
        ({"region": "europe"}, ["lyon"]),
        ({"network": "africa"}, ["accra", "nairobi"]),
        ({"network": ["africa", "global"]}, ["accra", "lyon", "nairobi"]),
        ({"kind": "teaching_hospital"}, ["accra"]),
        ({"kind": ["medical_school", "training_institution"]}, ["lyon", "nairobi"]),
        ({"q": "lyon"}, ["lyon"]),
        ({"q": "school of"}, ["nairobi"]),
        ({"q": "   "}, ["accra", "lyon", "nairobi"]),
        ({"network": "global", "region": "africa"}, ["nairobi"]),
    ],
)
def test_institution_filters(
    client: Client, directory: dict[str, Any], query: dict[str, Any], expected: list[str]
) -> None:
    response = client.get(f"{API}/institutions/", query)

    assert response.status_code == 200
    assert slugs(response) == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("country", "ZZ"),
        ("kind", "spaceship"),
        ("network", "no-such-network"),
        ("region", "mars"),
        ("q", "x" * 101),
    ],
)
def test_malformed_institution_filter_is_400_naming_the_field(
    client: Client, directory: dict[str, Any], field: str, value: str
) -> None:
    response = client.get(f"{API}/institutions/", {field: value})

    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert body[field]  # a human-readable reason


def test_page_size(client: Client, directory: dict[str, Any]) -> None:
    first = client.get(f"{API}/institutions/", {"page_size": 2}).json()
    assert first["count"] == 3
    assert len(first["results"]) == 2
    assert first["next"].endswith("page=2&page_size=2")

    second = client.get(first["next"]).json()
    assert [row["slug"] for row in second["results"]] == ["nairobi"]


def test_page_size_is_capped_at_200(client: Client) -> None:
    body = client.get(f"{API}/countries/", {"page_size": 1000}).json()

    assert len(body["results"]) == 200


@pytest.mark.parametrize("page", ["99", "zero"])
def test_bad_page_is_404(client: Client, directory: dict[str, Any], page: str) -> None:
    assert client.get(f"{API}/institutions/", {"page": page}).status_code == 404


def test_institution_list_runs_a_bounded_number_of_queries(
    client: Client, network: Any, africa_network: Any, django_assert_max_num_queries: Any
) -> None:
    kenya, ghana = factories.country("KE"), factories.country("GH")
    for number in range(30):
        institution = factories.InstitutionFactory(country=kenya if number % 2 else ghana)
        factories.MembershipFactory(institution=institution, network=network)
        if number % 3 == 0:
            factories.MembershipFactory(institution=institution, network=africa_network)
        factories.SiteFactory(institution=institution)

    # count, page, active memberships with their networks
    with django_assert_max_num_queries(3):
        response = client.get(f"{API}/institutions/")
    assert response.json()["count"] == 30
    assert all(row["networks"] for row in response.json()["results"])

    # ... plus one to look up the chosen networks' slugs, however many are chosen
    with django_assert_max_num_queries(4):
        response = client.get(f"{API}/institutions/", {"network": ["global", "africa"]})
    assert response.json()["count"] == 30


def test_detail_runs_a_bounded_number_of_queries(
    client: Client, directory: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    factories.SiteFactory.create_batch(5, institution=directory["nairobi"])

    # institution with country, memberships with networks, sites
    with django_assert_max_num_queries(3):
        response = client.get(f"{API}/institutions/nairobi/")

    assert len(response.json()["sites"]) == 6


def test_api_is_read_only(client: Client, directory: dict[str, Any]) -> None:
    assert client.post(f"{API}/institutions/", {}).status_code in {403, 405}
    assert client.delete(f"{API}/institutions/nairobi/").status_code in {403, 405}


def test_v1_root_lists_the_endpoints(client: Client) -> None:
    response = client.get(f"{API}/")

    assert response.status_code == 200
    assert set(response.json()) == {
        "countries",
        "networks",
        "institutions",
        "opportunities",
        "sessions",
        "applications",
        "agreements",
        "match-cycles",
        "match-runs",
        "rotation-plans",
        "funds",
        "scholarship-calls",
    }


# --- schema and docs ----------------------------------------------------------


def test_schema_is_openapi_json(client: Client) -> None:
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/countries/",
        "/api/v1/countries/{code}/",
        "/api/v1/networks/",
        "/api/v1/networks/{slug}/",
        "/api/v1/institutions/",
        "/api/v1/institutions/{slug}/",
        "/api/v1/opportunities/",
        "/api/v1/opportunities/{slug}/",
        "/api/v1/opportunities/{slug}/publish/",
        "/api/v1/opportunities/{slug}/unpublish/",
        "/api/v1/opportunities/{slug}/duplicate/",
        "/api/v1/sessions/",
        "/api/v1/sessions/{id}/",
        "/api/v1/sessions/{id}/cancel/",
        "/api/v1/applications/",
        "/api/v1/applications/{id}/",
        "/api/v1/agreements/",
        "/api/v1/agreements/{id}/",
        "/api/v1/match-cycles/",
        "/api/v1/match-cycles/{id}/",
        "/api/v1/match-runs/",
        "/api/v1/match-runs/{id}/",
        "/api/v1/match-runs/{id}/instance/",
        "/api/v1/match-runs/{id}/result/",
        "/api/v1/rotation-plans/",
        "/api/v1/rotation-plans/{id}/",
        "/api/v1/funds/",
        "/api/v1/funds/{id}/",
        "/api/v1/scholarship-calls/",
        "/api/v1/scholarship-calls/{id}/",
        "/api/v1/scholarship-calls/{id}/commit/",
        "/api/v1/scholarship-calls/{id}/propose/",
        "/api/v1/scholarship-calls/{id}/status/",
        *(
            f"/api/v1/applications/{{id}}/{verb}/"
            for verb in (
                "submit",
                "withdraw",
                "endorse",
                "decline-endorsement",
                "offer",
                "waitlist",
                "decline",
                "accept",
                "decline-offer",
                "confirm",
                "scores",
                "comments",
            )
        ),
    }
    parameters = {
        parameter["name"]
        for parameter in schema["paths"]["/api/v1/institutions/"]["get"]["parameters"]
    }
    assert parameters == {"q", "country", "region", "network", "kind", "page", "page_size"}


def test_schema_generates_without_warnings(tmp_path: Path) -> None:
    target = tmp_path / "schema.yaml"

    call_command("spectacular", validate=True, fail_on_warn=True, file=str(target))

    assert "InstitutionKindEnum" in target.read_text()


def test_docs_page_is_html_without_inline_scripts(client: Client) -> None:
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    directives = dict(
        directive.strip().split(" ", 1)
        for directive in response["Content-Security-Policy"].split(";")
    )
    assert directives["script-src"] == "'self'"
    assert "<script>" not in response.content.decode()
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200
    assert "javascript" in script["Content-Type"]
