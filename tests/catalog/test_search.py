"""The applicant search page: filters, facets, sorting, bad input, htmx, visibility."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from medexchange.catalog.choices import Level, OpportunityKind, OpportunityStatus
from medexchange.catalog.models import Specialty
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/opportunities/"


@pytest.fixture
def world(network: Any, africa_network: Any) -> dict[str, Any]:
    nairobi = factories.InstitutionFactory(name="Fictional Nairobi School of Medicine")
    lima = factories.InstitutionFactory(
        name="Fictional Lima Institute",
        country=factories.country("PE"),
        city="Lima",
        latitude=Decimal("-12.04637"),
        longitude=Decimal("-77.04279"),
        time_zone="America/Lima",
    )
    factories.MembershipFactory(institution=nairobi, network=africa_network)
    factories.MembershipFactory(institution=lima, network=network)
    elective = factories.OpportunityFactory(
        host=nairobi, title="Emergency elective in Nairobi", slug="em-nairobi"
    )
    course = factories.OpportunityFactory(
        host=lima,
        title="Point of care ultrasound course",
        slug="pocus-lima",
        kind=OpportunityKind.COURSE,
        level=Level.POSTGRADUATE,
        specialty=Specialty.objects.get(code="radiology"),
        languages=[{"code": "es", "level": "B1"}],
        tuition_fee=Decimal("300.00"),
        waiver_for_lower_income=True,
        scholarship_eligible=True,
    )
    factories.SessionFactory(opportunity=elective)  # starts 2027-03, open now
    factories.SessionFactory(
        opportunity=course,
        start_date=dt.date(2027, 5, 3),
        end_date=dt.date(2027, 5, 7),
        applications_open_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
        applications_close_at=dt.datetime(2027, 4, 1, tzinfo=dt.UTC),
    )
    # Never shown: a draft, an opportunity without upcoming sessions, a cancelled one.
    draft = factories.OpportunityFactory(
        host=nairobi, title="Draft elective", status=OpportunityStatus.DRAFT
    )
    factories.SessionFactory(opportunity=draft)
    past = factories.OpportunityFactory(host=nairobi, title="Past elective")
    factories.SessionFactory(
        opportunity=past,
        start_date=dt.date(2026, 1, 5),
        end_date=dt.date(2026, 1, 30),
        applications_open_at=dt.datetime(2025, 9, 1, tzinfo=dt.UTC),
        applications_close_at=dt.datetime(2025, 12, 1, tzinfo=dt.UTC),
    )
    cancelled = factories.OpportunityFactory(host=nairobi, title="Cancelled elective")
    factories.SessionFactory(opportunity=cancelled, cancelled_at=factories.NOW)
    factories.OpportunityFactory(host=nairobi, title="Elective without sessions")
    return {
        "nairobi": nairobi,
        "lima": lima,
        "elective": elective,
        "course": course,
        "draft": draft,
    }


def titles(response: Any) -> list[str]:
    assert response.status_code == 200
    return [opportunity.title for opportunity in response.context["opportunities"]]


def facet(response: Any, name: str) -> dict[str, int]:
    for group in response.context["facets"]:
        if group.name == name:
            return {option.value: option.count for option in group.options}
    raise AssertionError(name)


def test_the_route_is_the_catalog_search() -> None:
    assert reverse("catalog:search") == URL


def test_only_published_opportunities_with_upcoming_sessions(client: Any, world: Any) -> None:
    assert titles(client.get(URL)) == [
        "Emergency elective in Nairobi",
        "Point of care ultrasound course",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=ultrasound", ["Point of care ultrasound course"]),
        ("q=nairobi+elective", ["Emergency elective in Nairobi"]),
        ("q=lima", ["Point of care ultrasound course"]),
        ("q=radiology", ["Point of care ultrasound course"]),
        ("kind=course", ["Point of care ultrasound course"]),
        (
            "kind=course&kind=clinical_elective",
            ["Emergency elective in Nairobi", "Point of care ultrasound course"],
        ),
        ("level=postgraduate", ["Point of care ultrasound course"]),
        ("specialty=emergency-medicine", ["Emergency elective in Nairobi"]),
        ("country=PE", ["Point of care ultrasound course"]),
        (
            "country=KE&country=PE",
            ["Emergency elective in Nairobi", "Point of care ultrasound course"],
        ),
        ("region=africa", ["Emergency elective in Nairobi"]),
        ("network=global", ["Point of care ultrasound course"]),
        ("network=africa", ["Emergency elective in Nairobi"]),
        ("language=es", ["Point of care ultrasound course"]),
        ("language=en", ["Emergency elective in Nairobi"]),
        ("language=fr", []),
        ("start_month=2027-05", ["Point of care ultrasound course"]),
        ("start_month=2027-03", ["Emergency elective in Nairobi"]),
        ("open_now=1", ["Emergency elective in Nairobi"]),
        ("fee_free=1", ["Emergency elective in Nairobi"]),
        ("waiver=1", ["Point of care ultrasound course"]),
        ("scholarship=1", ["Point of care ultrasound course"]),
        ("sort=start", ["Emergency elective in Nairobi", "Point of care ultrasound course"]),
        ("sort=deadline", ["Emergency elective in Nairobi", "Point of care ultrasound course"]),
        (
            "sort=distance&near=-12.0,-77.0",
            ["Point of care ultrasound course", "Emergency elective in Nairobi"],
        ),
        (
            "sort=distance&near=-1.3,36.8",
            ["Emergency elective in Nairobi", "Point of care ultrasound course"],
        ),
    ],
)
def test_filters_and_sorts(client: Any, world: Any, query: str, expected: list[str]) -> None:
    assert titles(client.get(f"{URL}?{query}")) == expected


def test_deadline_sort_puts_the_soonest_deadline_first(client: Any, world: Any) -> None:
    world["elective"].sessions.update(applications_close_at=dt.datetime(2027, 2, 20, tzinfo=dt.UTC))
    world["course"].sessions.update(applications_close_at=dt.datetime(2027, 1, 5, tzinfo=dt.UTC))
    assert titles(client.get(f"{URL}?sort=deadline")) == [
        "Point of care ultrasound course",
        "Emergency elective in Nairobi",
    ]


def test_facet_counts_use_every_other_filter(client: Any, world: Any) -> None:
    response = client.get(f"{URL}?kind=course")
    # The kind facet ignores its own filter; the others are counted within courses.
    assert facet(response, "kind")["course"] == 1
    assert facet(response, "kind")["clinical_elective"] == 1
    assert facet(response, "level") == {"undergraduate": 0, "postgraduate": 1, "faculty": 0}
    assert facet(response, "country") == {"PE": 1}
    assert facet(response, "language") == {"es": 1}
    assert facet(response, "network") == {"global": 1}
    assert facet(response, "region") == {"americas": 1}
    assert facet(response, "start_month") == {"2027-05": 1}
    assert facet(response, "flags") == {"open_now": 0, "fee_free": 0, "waiver": 1, "scholarship": 1}
    assert facet(response, "specialty") == {"radiology": 1}


def test_facets_without_filters(client: Any, world: Any) -> None:
    response = client.get(URL)
    assert facet(response, "language") == {"en": 1, "es": 1}
    assert facet(response, "flags") == {"open_now": 1, "fee_free": 1, "waiver": 1, "scholarship": 1}
    assert facet(response, "start_month") == {"2027-03": 1, "2027-05": 1}
    body = response.content.decode()
    assert 'name="kind" value="course"' in body
    assert "<legend>" in body


@pytest.mark.parametrize("count", [5, 60])
def test_a_fixed_number_of_queries(
    client: Any, world: Any, count: int, django_assert_max_num_queries: Any
) -> None:
    for number in range(count):
        opportunity = factories.OpportunityFactory(
            host=world["nairobi"] if number % 2 else world["lima"],
            languages=[{"code": "en", "level": "B2"}, {"code": "fr", "level": "A2"}],
        )
        factories.SessionFactory(opportunity=opportunity)
        factories.SessionFactory(
            opportunity=opportunity, start_date=dt.date(2027, 4, 1), end_date=dt.date(2027, 4, 20)
        )
    with django_assert_max_num_queries(20):
        response = client.get(f"{URL}?q=emergency&kind=clinical_elective&language=en&open_now=1")
    assert response.status_code == 200
    assert response.context["page"].paginator.count == count + 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=castle", "kind"),
        ("start_month=2027-13", "start_month"),
        ("start_month=soon", "start_month"),
        ("country=XX", "country"),
        ("network=nowhere", "network"),
        ("language=klingon", "language"),
        ("near=somewhere&sort=distance", "near"),
        ("sort=cheapest", "sort"),
    ],
)
def test_malformed_values_are_shown_and_valid_ones_still_apply(
    client: Any, world: Any, query: str, field: str
) -> None:
    response = client.get(f"{URL}?{query}&country=PE" if field != "country" else f"{URL}?{query}")
    assert response.status_code == 200
    assert field in response.context["errors"]
    assert "error-summary" in response.content.decode()
    if field != "country":
        assert titles(response) == ["Point of care ultrasound course"]


@pytest.mark.parametrize("page", ["abc", "0", "-1", "99", "1.5"])
def test_bad_page_numbers_give_a_notice(client: Any, world: Any, page: str) -> None:
    response = client.get(f"{URL}?page={page}")
    assert response.status_code == 200
    assert response.context["notices"]
    assert len(titles(response)) == 2


def test_distance_sort_without_a_place_says_so(client: Any, world: Any) -> None:
    response = client.get(f"{URL}?sort=distance")
    assert response.status_code == 200
    assert response.context["notices"]


def test_pagination_keeps_the_filters(client: Any, world: Any) -> None:
    for _number in range(25):
        factories.SessionFactory(opportunity=factories.OpportunityFactory(host=world["nairobi"]))
    response = client.get(f"{URL}?kind=clinical_elective")
    assert response.context["page"].paginator.num_pages == 2
    assert "?kind=clinical_elective&amp;page=2" in response.content.decode()
    second = client.get(f"{URL}?kind=clinical_elective&page=2")
    assert len(titles(second)) == 6


def test_htmx_gets_only_the_results_and_facets(client: Any, world: Any) -> None:
    response = client.get(f"{URL}?kind=course", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert "Point of care ultrasound course" in body
    assert 'aria-live="polite"' in body
    full = client.get(f"{URL}?kind=course").content.decode()
    assert 'hx-get="/opportunities/"' in full
    assert 'hx-push-url="true"' in full


def test_empty_state_offers_to_clear_filters(client: Any, world: Any) -> None:
    body = client.get(f"{URL}?q=cardiothoracic").content.decode()
    assert "No opportunity matches this search." in body
    assert "Clear all filters" in body


def test_card_shows_fees_dates_and_deadline(client: Any, world: Any) -> None:
    body = client.get(f"{URL}?kind=course").content.decode()
    assert "Fees 300.00 USD" in body
    assert "waiver available" in body
    assert "Lima" in body
    assert "Peru" in body
    assert "(4 places)" in body
    assert "Apply by" in body
    assert "No fees" in client.get(f"{URL}?kind=clinical_elective").content.decode()


def test_deadline_in_the_viewers_time_zone(client: Any, world: Any) -> None:
    user = factories.UserFactory(time_zone="Asia/Tokyo")
    client.force_login(user)
    body = client.get(f"{URL}?kind=course").content.decode()
    # 2027-04-01 00:00 UTC is 09:00 in Tokyo.
    assert "Asia/Tokyo" in body
    assert "9 a.m." in body


def test_drafts_are_hidden_even_from_their_coordinators(client: Any, world: Any) -> None:
    client.force_login(factories.coordinator_of(world["nairobi"]))
    assert "Draft elective" not in titles(client.get(URL))


def test_geojson_of_the_hosts_of_the_results(client: Any, world: Any) -> None:
    response = client.get(f"{URL}results.geojson?kind=course")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    features = json.loads(response.content)["features"]
    assert [feature["properties"]["name"] for feature in features] == ["Fictional Lima Institute"]
    assert features[0]["properties"]["opportunities"] == 1
    assert features[0]["geometry"]["coordinates"] == [-77.04279, -12.04637]
    bad = client.get(f"{URL}results.geojson?kind=castle")
    assert bad.status_code == 400


def test_map_view_of_the_results(client: Any, world: Any) -> None:
    response = client.get(f"{URL}?kind=course&view=map")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-geojson-url="/opportunities/results.geojson?kind=course"' in body
    assert "catalog-map.js" in body
    assert "<script>" not in body


def test_saved_searches_ask_to_sign_in(client: Any, world: Any) -> None:
    """Saving is for signed-in people (tests/catalog/test_saved_searches.py has the rest)."""
    assert client.get("/saved-searches/").status_code == 302
    assert "Sign in to save this search" in client.get(URL).content.decode()


@pytest.mark.django_db
def test_a_query_matching_nothing_shows_the_empty_state(client: Any) -> None:
    factories.SessionFactory()
    response = client.get(reverse("catalog:search"), {"q": "zzzzqqqq xyxyxy"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0


@pytest.mark.django_db
def test_distance_is_measured_from_a_chosen_host_city(client: Any) -> None:
    near = factories.SessionFactory(
        opportunity__title="Fictional Nairobi elective",
        opportunity__host__city="Nairobi",
        opportunity__host__latitude=Decimal("-1.28330"),
        opportunity__host__longitude=Decimal("36.81670"),
    )
    far = factories.SessionFactory(
        opportunity__title="Fictional Lima elective",
        opportunity__host__city="Lima",
        opportunity__host__country=factories.country("PE"),
        opportunity__host__latitude=Decimal("-12.04318"),
        opportunity__host__longitude=Decimal("-77.02824"),
    )
    page = client.get(reverse("catalog:search")).content.decode()
    assert ">Lima, Peru</option>" in page
    assert ">Nairobi, Kenya</option>" in page
    lima = "-12.0432,-77.0282"
    assert f'value="{lima}"' in page
    response = client.get(reverse("catalog:search"), {"sort": "distance", "near": lima})
    titles = [opportunity.title for opportunity in response.context["opportunities"]]
    assert titles == [far.opportunity.title, near.opportunity.title]
    assert f'<option value="{lima}" selected>' in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "q=emergency&kind=clinical_elective&language=es&network=global&waiver=1",
        "kind=course&start_month=2027-05&open_now=1&region=americas",
        "country=PE&level=postgraduate&fee_free=1&scholarship=1&specialty=radiology",
    ],
)
def test_each_facet_count_is_the_count_of_its_own_search(
    client: Any, world: Any, query: str
) -> None:
    """One query counts every facet: each count is what ticking that value would show."""
    extra = factories.OpportunityFactory(
        host=world["lima"],
        languages=[{"code": "es", "level": "B2"}, {"code": "en", "level": "C1"}],
        waiver_under_agreement=True,
    )
    factories.SessionFactory(opportunity=extra)
    factories.SessionFactory(
        opportunity=extra, start_date=dt.date(2027, 5, 10), end_date=dt.date(2027, 5, 20)
    )
    response = client.get(f"{URL}?{query}")
    asked = dict(pair.split("=") for pair in query.split("&"))
    for name in ["kind", "level", "specialty", "country", "region", "network", "language"]:
        for value, count in facet(response, name).items():
            others = {key: item for key, item in asked.items() if key != name}
            alone = client.get(URL, {**others, name: value})
            assert alone.context["page"].paginator.count == count, (name, value)
    for value, count in facet(response, "start_month").items():
        alone = client.get(URL, {**asked, "start_month": value})
        assert alone.context["page"].paginator.count == count, value
    for name, count in facet(response, "flags").items():
        alone = client.get(URL, {**asked, name: "1"})
        assert alone.context["page"].paginator.count == count, name


def test_the_number_of_queries_does_not_depend_on_the_results(client: Any, world: Any) -> None:
    """Results or none, one page costs the same queries (counts, page, places)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as some:
        response = client.get(URL, {"q": "emergency", "kind": "clinical_elective"})
    assert response.context["page"].paginator.count == 1
    with CaptureQueriesContext(connection) as none:
        response = client.get(URL, {"q": "emergency", "kind": "fellowship"})
    assert response.context["page"].paginator.count == 0
    assert len(none) == len(some)
