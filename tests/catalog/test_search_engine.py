"""The search engine: the same results on SQLite and PostgreSQL for exact words."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from medexchange.catalog.choices import OpportunityKind
from medexchange.catalog.filters import searchable_opportunities
from medexchange.catalog.models import Opportunity, Specialty
from medexchange.catalog.search import search_opportunities, words_of
from tests import factories

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text and trigram search need PostgreSQL"
)


@pytest.fixture
def catalog(db: Any) -> list[Opportunity]:
    nairobi = factories.InstitutionFactory(name="Kenyatta Teaching Hospital", city="Nairobi")
    accra = factories.InstitutionFactory(
        name="Korle Bu Teaching Hospital", country=factories.country("GH"), city="Accra"
    )
    lima = factories.InstitutionFactory(
        name="Hospital Nacional Cayetano Heredia", country=factories.country("PE"), city="Lima"
    )
    rows = [
        (nairobi, "Emergency medicine elective", "Four weeks in the resuscitation room.", ""),
        (accra, "Toxicology course", "Poisons and antidotes in West Africa.", "Snakebite."),
        (lima, "Ultrasound workshop", "Bedside imaging for residents.", "Trauma scans daily."),
        (nairobi, "Paediatric observership", "Children's emergency unit.", "Malaria wards."),
        (accra, "Research elective in trauma", "Registry of injuries.", "Emergency data."),
    ]
    opportunities = []
    for host, title, summary, description in rows:
        opportunity = factories.OpportunityFactory(
            host=host,
            title=title,
            summary=summary,
            description=description,
            kind=OpportunityKind.COURSE if "course" in title else OpportunityKind.CLINICAL_ELECTIVE,
            specialty=Specialty.objects.get(
                code="toxicology" if "Toxicology" in title else "emergency-medicine"
            ),
        )
        factories.SessionFactory(opportunity=opportunity)
        opportunities.append(opportunity)
    return opportunities


def found(text: str) -> set[str]:
    queryset = search_opportunities(searchable_opportunities(AnonymousUser()), text)
    return set(queryset.values_list("title", flat=True))


# The expected sets hold on both databases: CI runs this file on each.
EXACT_WORDS = {
    "emergency": {
        "Emergency medicine elective",
        "Paediatric observership",  # summary
        "Research elective in trauma",  # description
        "Ultrasound workshop",  # specialty Emergency Medicine
    },
    "toxicology": {"Toxicology course"},
    "accra": {"Toxicology course", "Research elective in trauma"},
    "Kenyatta": {"Emergency medicine elective", "Paediatric observership"},
    "trauma lima": {"Ultrasound workshop"},
    "TEACHING hospital malaria": {"Paediatric observership"},
    "course": {"Toxicology course"},
    "snakebite": {"Toxicology course"},
    "poisons, antidotes!": {"Toxicology course"},
    "nonexistentword": set(),
    "": {
        "Emergency medicine elective",
        "Toxicology course",
        "Ultrasound workshop",
        "Paediatric observership",
        "Research elective in trauma",
    },
}


@pytest.mark.parametrize(("text", "expected"), list(EXACT_WORDS.items()))
def test_exact_words_give_the_same_set_on_every_database(
    catalog: Any, text: str, expected: set[str]
) -> None:
    assert found(text) == expected


def test_title_words_rank_first(catalog: Any) -> None:
    queryset = search_opportunities(Opportunity.objects.all(), "emergency").order_by("-rank")
    assert queryset.first().title == "Emergency medicine elective"  # type: ignore[union-attr]


def test_words_of_a_query() -> None:
    assert words_of("  Trauma, TRAUMA and Lima! ") == ["trauma", "and", "lima"]
    assert words_of("?!") == []
    assert len(words_of(" ".join(f"w{n}" for n in range(20)))) == 8


@on_postgresql
def test_misspelt_host_name_found_by_trigrams(catalog: Any) -> None:
    assert found("Kenyata Teching Hospitl") >= {
        "Emergency medicine elective",
        "Paediatric observership",
    }
    assert "Ultrasound workshop" in found("Cayetano Heredja")


@on_postgresql
def test_misspelt_title_found_by_trigrams(catalog: Any) -> None:
    assert found("ultrasund") == {"Ultrasound workshop"}


@on_postgresql
def test_the_search_indexes_are_used(catalog: Any) -> None:
    queryset = search_opportunities(Opportunity.objects.all(), "toxicology")
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "catalog_opportunity_search_text" in plan


def test_upcoming_only(catalog: Any) -> None:
    catalog[0].sessions.update(start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 1, 2))
    assert "Emergency medicine elective" not in found("emergency")


def test_renaming_a_host_is_searchable_at_once(catalog: Any) -> None:
    from medexchange.network.services import institution_update

    host = catalog[0].host
    institution_update(institution=host, actor=None, values={"name": "Zanzibar Riverside"})
    assert "Emergency medicine elective" in found("zanzibar")
