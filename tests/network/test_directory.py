"""The public directory: search, filters, bad input and a fixed number of queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from medexchange.network.choices import MembershipStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(network: Any, africa_network: Any) -> dict[str, Any]:
    nairobi = factories.InstitutionFactory(name="Fictional Nairobi School of Medicine")
    accra = factories.InstitutionFactory(
        name="Fictional Accra Teaching Hospital",
        kind="teaching_hospital",
        country=factories.country("GH"),
        city="Accra",
    )
    lima = factories.InstitutionFactory(
        name="Fictional Lima Institute", country=factories.country("PE"), city="Lima"
    )
    applicant_only = factories.InstitutionFactory(name="Fictional Applicant Only College")
    factories.MembershipFactory(institution=nairobi, network=network)
    factories.MembershipFactory(institution=nairobi, network=africa_network)
    factories.MembershipFactory(institution=accra, network=africa_network)
    factories.MembershipFactory(institution=lima, network=network)
    factories.MembershipFactory(
        institution=applicant_only, network=network, status=MembershipStatus.APPLIED
    )
    return {"nairobi": nairobi, "accra": accra, "lima": lima, "applicant_only": applicant_only}


def names(response: Any) -> list[str]:
    return [institution.name for institution in response.context["page"].object_list]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "",
            [
                "Fictional Accra Teaching Hospital",
                "Fictional Lima Institute",
                "Fictional Nairobi School of Medicine",
            ],
        ),
        ("q=nairobi", ["Fictional Nairobi School of Medicine"]),
        ("q=LIMA", ["Fictional Lima Institute"]),
        ("country=GH", ["Fictional Accra Teaching Hospital"]),
        ("region=americas", ["Fictional Lima Institute"]),
        (
            "network=africa",
            ["Fictional Accra Teaching Hospital", "Fictional Nairobi School of Medicine"],
        ),
        ("kind=teaching_hospital", ["Fictional Accra Teaching Hospital"]),
        ("network=global&region=africa", ["Fictional Nairobi School of Medicine"]),
    ],
)
def test_directory_filters(client: Any, world: Any, query: str, expected: list[str]) -> None:
    response = client.get(f"{reverse('network:directory')}?{query}")
    assert response.status_code == 200
    assert names(response) == expected


def test_directory_hides_institutions_without_active_membership(client: Any, world: Any) -> None:
    response = client.get(reverse("network:directory"))
    assert "Fictional Applicant Only College" not in response.content.decode()
    detail = reverse("network:institution", args=[world["applicant_only"].slug])
    assert client.get(detail).status_code == 404


def test_malformed_filters_are_field_errors_not_server_errors(client: Any, world: Any) -> None:
    response = client.get(
        reverse("network:directory"), {"country": "ZZ", "network": "nowhere", "q": "lima"}
    )
    assert response.status_code == 200
    errors = response.context["filter"].errors
    assert set(errors) == {"country", "network"}
    # The valid filter still applies.
    assert names(response) == ["Fictional Lima Institute"]
    assert "Select a valid choice" in response.content.decode()


def test_unknown_page_number_falls_back_gracefully(client: Any, world: Any) -> None:
    response = client.get(reverse("network:directory"), {"page": "many"})
    assert response.status_code == 200


def test_htmx_request_gets_only_the_results(client: Any, world: Any) -> None:
    response = client.get(reverse("network:directory"), {"q": "accra"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body
    assert "Fictional Accra Teaching Hospital" in body


def test_empty_result_explains_what_to_do(client: Any, world: Any) -> None:
    response = client.get(reverse("network:directory"), {"q": "atlantis"})
    body = response.content.decode()
    assert "No institution matches these filters." in body
    assert reverse("network:join") in body


@pytest.mark.parametrize("count", [5, 60])
def test_directory_runs_a_fixed_number_of_queries(
    client: Any, network: Any, django_assert_max_num_queries: Any, count: int
) -> None:
    for index in range(count):
        institution = factories.InstitutionFactory(name=f"Fictional College {index:03}")
        factories.MembershipFactory(institution=institution, network=network)
        factories.SiteFactory(institution=institution)
    client.force_login(factories.UserFactory())
    with django_assert_max_num_queries(10):
        response = client.get(reverse("network:directory"), {"network": "global"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == count


def test_institution_page_shows_sites_and_networks(client: Any, world: Any) -> None:
    nairobi = world["nairobi"]
    factories.SiteFactory(institution=nairobi, name="Fictional Casualty Unit")
    response = client.get(nairobi.get_absolute_url())
    body = response.content.decode()
    assert "Fictional Casualty Unit" in body
    assert "Global Exchange Network" in body
    assert "Africa Network" in body


def test_network_list_counts_active_members(client: Any, world: Any) -> None:
    response = client.get(reverse("network:networks"))
    counts = {n.slug: n.member_count for n in response.context["networks"]}
    assert counts == {"global": 2, "africa": 2}


def test_institution_page_names_every_working_language(client: Any, network: Any) -> None:
    institution = factories.InstitutionFactory(languages=["en", "lg", "rw", "xx"])
    factories.MembershipFactory(institution=institution, network=network)
    body = client.get(institution.get_absolute_url()).content.decode()
    assert "English, Ganda, Kinyarwanda, xx" in body
    client.cookies["django_language"] = "es"
    assert "inglés" in client.get(institution.get_absolute_url()).content.decode().lower()
