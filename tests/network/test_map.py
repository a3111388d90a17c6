"""The partner map's GeoJSON and its script-free list view."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from medexchange.network.choices import MembershipStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def members(network: Any, africa_network: Any) -> dict[str, Any]:
    both = factories.InstitutionFactory(name="Fictional Both School")
    africa_only = factories.InstitutionFactory(
        name="Fictional Africa Only Hospital", kind="teaching_hospital"
    )
    global_only = factories.InstitutionFactory(
        name="Fictional Global Only Institute", country=factories.country("PE"), city="Lima"
    )
    left = factories.InstitutionFactory(name="Fictional Former Member")
    factories.MembershipFactory(institution=both, network=network)
    factories.MembershipFactory(institution=both, network=africa_network)
    factories.MembershipFactory(institution=africa_only, network=africa_network)
    factories.MembershipFactory(institution=global_only, network=network)
    factories.MembershipFactory(institution=left, network=network, status=MembershipStatus.LEFT)
    return {"both": both, "africa_only": africa_only, "global_only": global_only}


def features(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/geo+json"
    collection = json.loads(response.content)
    assert collection["type"] == "FeatureCollection"
    return {feature["properties"]["name"]: feature for feature in collection["features"]}


def test_geojson_lists_active_members_with_their_networks(client: Any, members: Any) -> None:
    found = features(client.get(reverse("network:map-geojson")))
    assert set(found) == {
        "Fictional Both School",
        "Fictional Africa Only Hospital",
        "Fictional Global Only Institute",
    }
    both = found["Fictional Both School"]
    assert both["properties"]["networks"] == ["africa", "global"]
    assert both["geometry"] == {"type": "Point", "coordinates": [36.8167, -1.2833]}
    assert both["properties"]["url"] == members["both"].get_absolute_url()


def test_geojson_filters_like_the_directory(client: Any, members: Any) -> None:
    url = reverse("network:map-geojson")
    assert set(features(client.get(url, {"network": "africa"}))) == {
        "Fictional Both School",
        "Fictional Africa Only Hospital",
    }
    assert set(features(client.get(url, {"kind": "teaching_hospital"}))) == {
        "Fictional Africa Only Hospital"
    }


@pytest.mark.parametrize(
    "query", [{"network": "atlantis"}, {"kind": "castle"}, {"country": "XX"}, {"region": "moon"}]
)
def test_geojson_rejects_bad_filters_with_reasons(client: Any, members: Any, query: Any) -> None:
    response = client.get(reverse("network:map-geojson"), query)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == list(query)


def test_list_view_shows_same_content_grouped_by_country(client: Any, members: Any) -> None:
    response = client.get(reverse("network:map-list"), {"network": "africa"})
    body = response.content.decode()
    assert "Fictional Africa Only Hospital" in body
    assert "Fictional Global Only Institute" not in body
    assert "<h2>Kenya</h2>" in body
    assert "<script" not in body.split("<main", 1)[1].split("</main>", 1)[0]


def test_list_view_without_filters_lists_every_member(client: Any, members: Any) -> None:
    response = client.get(reverse("network:map-list"))
    body = response.content.decode()
    for name in ("Fictional Both School", "Fictional Africa Only Hospital", "Peru"):
        assert name in body
    assert "Fictional Former Member" not in body
    assert 'role="alert"' not in body


def test_list_view_explains_bad_filters(client: Any, members: Any) -> None:
    response = client.get(reverse("network:map-list"), {"network": "atlantis"})
    body = response.content.decode()
    assert 'role="alert"' in body
    assert "Select a valid choice" in body


def test_map_page_offers_the_list_view_and_filters(client: Any, members: Any) -> None:
    body = client.get(reverse("network:map")).content.decode()
    assert reverse("network:map-list") in body
    assert 'id="network-africa"' in body
    assert 'id="kind-teaching_hospital"' in body
    assert "leaflet/leaflet.js" in body


def test_geojson_is_compressed_for_clients_that_accept_it(client: Any, network: Any) -> None:
    for index in range(40):
        institution = factories.InstitutionFactory(name=f"Fictional Compressed {index}")
        factories.MembershipFactory(institution=institution, network=network)
    response = client.get(reverse("network:map-geojson"), HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
