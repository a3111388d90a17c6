"""Eligibility of opportunities for an applicant profile, in the database and on the page.

Every case is checked twice: ``eligible_for`` (SQL, on SQLite and PostgreSQL) and
``ineligibility_reasons`` (Python) must agree.
"""

from __future__ import annotations

from typing import Any

import pytest

from medexchange.accounts.models import ApplicantProfile
from medexchange.catalog.choices import HomeCountryRule
from medexchange.catalog.eligibility import eligible_for, ineligibility_reasons
from medexchange.catalog.models import Opportunity
from medexchange.network.choices import EmStatus, IncomeGroup
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/opportunities/"


def profile(**values: Any) -> ApplicantProfile:
    values.setdefault("languages", [])
    return ApplicantProfile.objects.create(user=factories.UserFactory(), **values)


def opportunity(**values: Any) -> Opportunity:
    countries = values.pop("eligible_countries", [])
    values.setdefault("languages", [])
    created = factories.OpportunityFactory(**values)
    created.eligible_countries.set(countries)
    return created


def check(opportunity: Opportunity, applicant: ApplicantProfile) -> bool:
    """Whether ``applicant`` is eligible, asserting SQL and Python agree."""
    in_sql = eligible_for(Opportunity.objects.all(), applicant).filter(pk=opportunity.pk).exists()
    in_python = not ineligibility_reasons(opportunity, applicant)
    assert in_sql == in_python, ineligibility_reasons(opportunity, applicant)
    return in_sql


@pytest.fixture
def countries() -> dict[str, Any]:
    """Kenya: EM emerging, lower-middle income; UK: established, high; Haiti: unknown."""
    kenya = factories.country("KE")
    kenya.em_status, kenya.em_recognised_year = EmStatus.EMERGING, 2015
    kenya.income_group = IncomeGroup.LOWER_MIDDLE
    kenya.save()
    uk = factories.country("GB")
    uk.em_status, uk.income_group = EmStatus.ESTABLISHED, IncomeGroup.HIGH
    uk.save()
    chad = factories.country("TD")
    chad.em_status, chad.income_group = EmStatus.NOT_RECOGNISED, IncomeGroup.LOW
    chad.save()
    return {"KE": kenya, "GB": uk, "TD": chad, "HT": factories.country("HT")}


def test_no_rules_everyone_is_eligible() -> None:
    offered = opportunity()
    assert check(offered, profile())
    assert check(offered, profile(training_level="student", training_year=3))


@pytest.mark.parametrize(
    ("levels", "applicant_level", "expected"),
    [
        ([], "", True),
        ([], "physician", True),
        (["student"], "student", True),
        (["student", "resident"], "resident", True),
        (["student"], "resident", False),
        (["resident"], "", False),
    ],
)
def test_training_level(levels: list[str], applicant_level: str, expected: bool) -> None:
    assert check(opportunity(training_levels=levels), profile(training_level=applicant_level)) is (
        expected
    )


@pytest.mark.parametrize(
    ("low", "high", "year", "expected"),
    [
        (None, None, None, True),
        (None, None, 7, True),
        (3, None, 3, True),
        (3, None, 2, False),
        (None, 4, 4, True),
        (None, 4, 5, False),
        (2, 4, 3, True),
        (2, 4, 1, False),
        (2, 4, None, False),  # a bound, and no year in the profile
        (None, 4, None, False),
    ],
)
def test_year_range(low: int | None, high: int | None, year: int | None, expected: bool) -> None:
    offered = opportunity(min_year_of_study=low, max_year_of_study=high)
    assert check(offered, profile(training_year=year)) is expected


@pytest.mark.parametrize(
    ("rule", "listed", "home", "expected"),
    [
        (HomeCountryRule.ANY, [], None, True),
        (HomeCountryRule.ANY, [], "GB", True),
        (HomeCountryRule.LISTED, ["KE", "TD"], "KE", True),
        (HomeCountryRule.LISTED, ["KE", "TD"], "GB", False),
        (HomeCountryRule.LISTED, ["KE"], None, False),
        (HomeCountryRule.LISTED, [], "KE", False),
        (HomeCountryRule.EM_NOT_ESTABLISHED, [], "KE", True),  # emerging
        (HomeCountryRule.EM_NOT_ESTABLISHED, [], "TD", True),  # not recognised
        (HomeCountryRule.EM_NOT_ESTABLISHED, [], "GB", False),  # established
        (HomeCountryRule.EM_NOT_ESTABLISHED, [], "HT", False),  # unknown: not proven
        (HomeCountryRule.EM_NOT_ESTABLISHED, [], None, False),
        (HomeCountryRule.LOWER_INCOME, [], "KE", True),  # lower-middle
        (HomeCountryRule.LOWER_INCOME, [], "TD", True),  # low
        (HomeCountryRule.LOWER_INCOME, [], "GB", False),  # high
        (HomeCountryRule.LOWER_INCOME, [], "HT", False),  # unknown
        (HomeCountryRule.LOWER_INCOME, [], None, False),
    ],
)
def test_home_country(
    countries: dict[str, Any], rule: str, listed: list[str], home: str | None, expected: bool
) -> None:
    offered = opportunity(
        home_country_rule=rule, eligible_countries=[countries[code] for code in listed]
    )
    applicant = profile(home_country=countries[home] if home else None)
    assert check(offered, applicant) is expected


SPEAKER = [{"code": "es", "level": "B2"}, {"code": "en", "level": "C2"}]


@pytest.mark.parametrize(
    ("required", "spoken", "expected"),
    [
        ([], [], True),
        ([{"code": "es", "level": "B2"}], SPEAKER, True),  # exactly the level
        ([{"code": "es", "level": "A1"}], SPEAKER, True),  # above it
        ([{"code": "es", "level": "C1"}], SPEAKER, False),  # below it
        ([{"code": "fr", "level": "A1"}], SPEAKER, False),  # not spoken
        ([{"code": "es", "level": "B1"}, {"code": "en", "level": "C1"}], SPEAKER, True),
        ([{"code": "es", "level": "B1"}, {"code": "fr", "level": "A2"}], SPEAKER, False),
        ([{"code": "es", "level": "B1"}], [], False),
        ([{"code": "es"}], SPEAKER, True),  # no level listed: the language is enough
        ([{"code": "es", "level": ""}], SPEAKER, True),
        ([{"code": "fr"}], SPEAKER, False),
        (["es"], [], True),  # malformed entries are ignored, as by the language facet
    ],
)
def test_languages(required: list[Any], spoken: list[Any], expected: bool) -> None:
    assert check(opportunity(languages=required), profile(languages=spoken)) is expected


def test_rules_combined(countries: dict[str, Any]) -> None:
    offered = opportunity(
        training_levels=["resident"],
        min_year_of_study=1,
        max_year_of_study=3,
        home_country_rule=HomeCountryRule.EM_NOT_ESTABLISHED,
        languages=[{"code": "fr", "level": "B1"}],
    )
    fits = {
        "training_level": "resident",
        "training_year": 2,
        "home_country": countries["KE"],
        "languages": [{"code": "fr", "level": "B2"}],
    }
    assert check(offered, profile(**fits))
    for field, value in [
        ("training_level", "student"),
        ("training_year", 4),
        ("home_country", countries["GB"]),
        ("languages", [{"code": "fr", "level": "A2"}]),
    ]:
        assert not check(offered, profile(**(fits | {field: value}))), field
    assert len(ineligibility_reasons(offered, profile())) == 4


def test_narrows_a_filtered_queryset(countries: dict[str, Any]) -> None:
    applicant = profile(training_level="student", training_year=4, home_country=countries["GB"])
    for_students = opportunity(training_levels=["student"], title="For students")
    opportunity(training_levels=["resident"], title="For residents")
    opportunity(home_country_rule=HomeCountryRule.LOWER_INCOME, title="Reserved")
    open_to_all = opportunity(title="Open to all")
    result = eligible_for(Opportunity.objects.filter(title__startswith="For"), applicant)
    assert list(result) == [for_students]
    assert set(eligible_for(Opportunity.objects.all(), applicant)) == {for_students, open_to_all}


# The search page ---------------------------------------------------------------------


@pytest.fixture
def catalog(countries: dict[str, Any]) -> dict[str, Any]:
    spanish = opportunity(
        title="Spanish-speaking elective", languages=[{"code": "es", "level": "B2"}]
    )
    reserved = opportunity(
        title="Reserved for lower income", home_country_rule=HomeCountryRule.LOWER_INCOME
    )
    residents = opportunity(title="Residents only", training_levels=["resident"])
    for offered in (spanish, reserved, residents):
        factories.SessionFactory(opportunity=offered)
    return {"spanish": spanish, "reserved": reserved, "residents": residents}


def titles(response: Any) -> list[str]:
    return [opportunity.title for opportunity in response.context["opportunities"]]


def eligible_option(response: Any) -> Any:
    facet = next(facet for facet in response.context["facets"] if facet.name == "eligible")
    return facet.options[0] if facet.options else None


def test_facet_for_a_signed_in_applicant(
    client: Any, catalog: dict[str, Any], countries: dict[str, Any]
) -> None:
    applicant = profile(
        training_level="student",
        home_country=countries["KE"],
        languages=[{"code": "es", "level": "C1"}],
    )
    client.force_login(applicant.user)
    response = client.get(URL)
    assert response.status_code == 200
    option = eligible_option(response)
    assert (option.count, option.checked) == (2, False)
    assert b'name="eligible" value="1"' in response.content
    assert len(titles(response)) == 3

    response = client.get(f"{URL}?eligible=1")
    assert sorted(titles(response)) == ["Reserved for lower income", "Spanish-speaking elective"]
    option = eligible_option(response)
    assert (option.count, option.checked) == (2, True)
    assert response.context["notices"] == []
    # Other facets count within the eligible results.
    kind = next(facet for facet in response.context["facets"] if facet.name == "kind")
    assert sum(option.count for option in kind.options) == 2

    # Combined with another facet: the eligible count follows it.
    response = client.get(f"{URL}?language=es")
    assert titles(response) == ["Spanish-speaking elective"]
    assert eligible_option(response).count == 1


def test_facet_query_count_is_fixed(
    client: Any, catalog: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    applicant = profile(training_level="resident")
    client.force_login(applicant.user)
    client.get(f"{URL}?eligible=1")  # warm caches (sessions, content types)
    with django_assert_max_num_queries(24):
        response = client.get(f"{URL}?eligible=1&kind=clinical_elective")
    assert titles(response) == ["Residents only"]


def test_signed_in_without_profile_gets_a_link(client: Any, catalog: dict[str, Any]) -> None:
    client.force_login(factories.UserFactory())
    response = client.get(f"{URL}?eligible=1")
    assert response.status_code == 200
    assert len(titles(response)) == 3  # ignored
    assert eligible_option(response) is None
    assert b'href="/accounts/profile/"' in response.content
    assert "Complete your profile" in " ".join(response.context["notices"])


@pytest.mark.parametrize("query", ["eligible=1", "eligible=on", "eligible=yes&eligible=2"])
def test_signed_out_eligible_is_ignored_with_a_notice(
    client: Any, catalog: dict[str, Any], query: str
) -> None:
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200
    assert len(titles(response)) == 3
    assert all(facet.name != "eligible" for facet in response.context["facets"])
    assert "Sign in" in " ".join(response.context["notices"])
    htmx = client.get(f"{URL}?{query}", headers={"HX-Request": "true"})
    assert htmx.status_code == 200


def test_map_data_follows_eligibility(client: Any, catalog: dict[str, Any]) -> None:
    def shown(response: Any) -> int:
        return sum(f["properties"]["opportunities"] for f in response.json()["features"])

    geojson = "/opportunities/results.geojson?eligible=1"
    assert shown(client.get(geojson)) == 3  # signed out: ignored
    client.force_login(profile(training_level="resident").user)
    assert shown(client.get(geojson)) == 1
