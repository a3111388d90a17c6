"""The opportunity catalog in a real browser: search, facets, htmx, history, no-JS, axe.

Fifteen published opportunities of the world's twelve hosts (several kinds, levels,
specialties and countries), each with an upcoming session open for applications.
The expected counts are computed from the same table the opportunities are built
from, so the assertions read as "what an applicant should see".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests import factories
from tests.e2e.conftest import Tab, World, browser_db
from tests.e2e.test_accessibility import DIRECTION, assert_accessible

pytestmark = [pytest.mark.browser, browser_db]

SEARCH = "/opportunities/"
RESULTS = "#results"
COUNT = "#results .result-count"


@dataclass(frozen=True)
class Row:
    city: str
    kind: str
    level: str
    specialty: str
    title: str


# Summaries are neutral on purpose, so "emergency" matches by title or specialty only.
CATALOG = [
    Row("Nairobi", "clinical_elective", "undergraduate", "emergency-medicine",
        "Emergency Medicine Elective in Nairobi"),
    Row("Kampala", "clinical_elective", "undergraduate", "emergency-medicine",
        "Emergency Department Elective"),
    Row("Addis Ababa", "clinical_elective", "postgraduate", "trauma-surgery",
        "Emergency Trauma Elective"),
    Row("Lagos", "observership", "postgraduate", "emergency-medicine",
        "Emergency Care Observership"),
    Row("Dakar", "course", "postgraduate", "emergency-medicine", "Emergency Ultrasound Course"),
    Row("Johannesburg", "course", "faculty", "toxicology", "Toxicology Course"),
    Row("Cairo", "course", "undergraduate", "cardiology", "ECG Interpretation Course"),
    Row("Mexico City", "fellowship", "postgraduate", "emergency-medicine",
        "International Emergency Medicine Fellowship"),
    Row("Bucharest", "research_elective", "undergraduate", "emergency-medicine",
        "Emergency Research Elective"),
    Row("Port-au-Prince", "residency_track", "postgraduate", "emergency-medicine",
        "Emergency Medicine Residency Track"),
    Row("Bangkok", "exchange_program", "undergraduate", "emergency-medicine",
        "Emergency Exchange Program in Bangkok"),
    Row("Lima", "teaching_visit", "faculty", "medical-education", "Emergency Teaching Visit"),
    Row("Nairobi", "clinical_elective", "postgraduate", "paediatrics", "Paediatrics Elective"),
    Row("Kampala", "observership", "faculty", "internal-medicine",
        "Internal Medicine Observership"),
    Row("Cairo", "clinical_elective", "undergraduate", "emergency-medicine",
        "Emergency Night Shift Elective"),
]  # fmt: skip

WORD = "emergency"
FIRST_FACET = ("kind", "clinical_elective")
SECOND_FACET = ("level", "undergraduate")


def matching(**facets: str) -> list[Row]:
    """Rows matching WORD (title or Emergency Medicine) and every given facet."""
    rows = [
        row for row in CATALOG if WORD in row.title.lower() or row.specialty == "emergency-medicine"
    ]
    return [row for row in rows if all(getattr(row, k) == v for k, v in facets.items())]


def count_text(count: int) -> re.Pattern[str]:
    return re.compile(rf"^\s*{count} opportunit(y|ies)\b")


@pytest.fixture
def catalog(world: World) -> dict[str, Any]:
    """The fifteen opportunities, by title."""
    from django.utils import timezone
    from django.utils.text import slugify

    from medexchange.catalog.models import Specialty

    hosts = {institution.city: institution for institution in world.institutions.values()}
    today = timezone.localdate()
    now = timezone.now()
    built = {}
    for index, row in enumerate(CATALOG):
        opportunity = factories.OpportunityFactory(
            host=hosts[row.city],
            kind=row.kind,
            level=row.level,
            specialty=Specialty.objects.get(code=row.specialty),
            title=row.title,
            slug=slugify(row.title),
            summary=f"A fictional opportunity in {row.city} for the browser tests.",
            description="Supervised work with the local team.\n\nFictional.",
        )
        start = today + dt.timedelta(days=60 + 7 * index)
        factories.SessionFactory(
            opportunity=opportunity,
            start_date=start,
            end_date=start + dt.timedelta(days=27),
            applications_open_at=now - dt.timedelta(days=10),
            applications_close_at=dt.datetime.combine(
                start - dt.timedelta(days=14), dt.time(12), dt.UTC
            ),
            decision_date=start - dt.timedelta(days=7),
        )
        built[row.title] = opportunity
    return built


def facet_box(page: Page, name: str, value: str) -> Any:
    return page.locator(f"#f-{name}-{value}")


def facet_label(page: Page, name: str, value: str) -> Any:
    return page.locator(f"label[for='f-{name}-{value}']")


def expect_count_label(page: Page, name: str, value: str, count: int) -> None:
    expect(facet_label(page, name, value)).to_contain_text(f"({count})")


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def wait_settled(page: Page) -> None:
    """No htmx request in flight (htmx marks the requesting element)."""
    expect(page.locator(".htmx-request")).to_have_count(0)


def test_search_type_tick_open_and_come_back(tab: Tab, catalog: dict[str, Any]) -> None:
    page = tab.page
    tab.goto(SEARCH)
    expect(page.locator(COUNT)).to_have_text(count_text(len(CATALOG)))
    expect(page.locator(f"{RESULTS} .card")).to_have_count(len(CATALOG))

    # Typing runs the search through htmx: no page load, the URL follows.
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.locator("#id_q").press_sequentially(WORD, delay=30)
    expect(page.locator(COUNT)).to_have_text(count_text(len(matching())))
    # Leave the box (its "change" sends one more request) and let htmx settle before
    # ticking: see test_a_tick_right_after_typing_is_kept for why.
    page.keyboard.press("Tab")
    wait_settled(page)
    assert query_of(page).get("q") == [WORD]
    kind_name, kind_value = FIRST_FACET
    level_name, level_value = SECOND_FACET
    # Facet counts follow the text: every kind and level counted over the matches.
    expect_count_label(page, kind_name, kind_value, len(matching(kind=kind_value)))
    expect_count_label(page, level_name, level_value, len(matching(level=level_value)))
    expect_count_label(page, "level", "faculty", len(matching(level="faculty")))

    # First facet: the results narrow, and the other groups are counted again.
    facet_box(page, kind_name, kind_value).check()
    expect(page.locator(COUNT)).to_have_text(count_text(len(matching(kind=kind_value))))
    wait_settled(page)
    expect_count_label(
        page, level_name, level_value, len(matching(kind=kind_value, level=level_value))
    )
    expect_count_label(
        page, "level", "postgraduate", len(matching(kind=kind_value, level="postgraduate"))
    )
    # Its own group keeps counting the other kinds (to widen the search).
    expect_count_label(page, "kind", "course", len(matching(kind="course")))

    # Second facet.
    facet_box(page, level_name, level_value).check()
    expected = matching(kind=kind_value, level=level_value)
    expect(page.locator(COUNT)).to_have_text(count_text(len(expected)))
    wait_settled(page)
    expect(facet_box(page, kind_name, kind_value)).to_be_checked()
    expect(facet_box(page, level_name, level_value)).to_be_checked()
    expect_count_label(page, kind_name, kind_value, len(expected))
    titles = page.locator(f"{RESULTS} .card h2 a").all_inner_texts()
    assert sorted(titles) == sorted(row.title for row in expected)
    assert not [url for url in navigations if "/opportunities/" not in url], navigations
    query = query_of(page)
    assert query.get("q") == [WORD]
    assert query.get(kind_name) == [kind_value]
    assert query.get(level_name) == [level_value]
    filtered_url = page.url

    # Open one: a real page load of the opportunity page.
    chosen = expected[0].title
    page.get_by_role("link", name=chosen, exact=True).click()
    expect(page.locator("h1")).to_have_text(chosen)
    assert urlsplit(page.url).path == catalog[chosen].get_absolute_url()
    expect(page.get_by_role("link", name="Back to the search results")).to_be_visible()

    # Browser back: the same filters, in the address and on the page.
    page.go_back()
    expect(page.locator(COUNT)).to_have_text(count_text(len(expected)))
    assert page.url == filtered_url
    expect(page.locator("#id_q")).to_have_value(WORD)
    expect(facet_box(page, kind_name, kind_value)).to_be_checked()
    expect(facet_box(page, level_name, level_value)).to_be_checked()
    expect(facet_box(page, "kind", "course")).not_to_be_checked()
    assert sorted(page.locator(f"{RESULTS} .card h2 a").all_inner_texts()) == sorted(
        row.title for row in expected
    )
    tab.assert_clean()


def test_a_tick_right_after_typing_is_kept(tab: Tab, catalog: dict[str, Any]) -> None:
    """Type, then click a facet at once (no Tab): the usual way people do it."""
    page = tab.page
    tab.goto(SEARCH)
    page.locator("#id_q").press_sequentially(WORD, delay=30)
    expect(page.locator(COUNT)).to_have_text(count_text(len(matching())))
    wait_settled(page)
    kind_name, kind_value = FIRST_FACET
    facet_box(page, kind_name, kind_value).check()
    expect(page.locator(COUNT)).to_have_text(
        count_text(len(matching(kind=kind_value))), timeout=3_000
    )
    expect(facet_box(page, kind_name, kind_value)).to_be_checked()
    assert query_of(page).get(kind_name) == [kind_value]


def test_back_to_results_link_keeps_the_filters(tab: Tab, catalog: dict[str, Any]) -> None:
    page = tab.page
    kind_name, kind_value = FIRST_FACET
    tab.goto(f"{SEARCH}?q={WORD}&{kind_name}={kind_value}")
    expected = matching(kind=kind_value)
    expect(page.locator(COUNT)).to_have_text(count_text(len(expected)))
    page.get_by_role("link", name=expected[-1].title, exact=True).click()
    page.get_by_role("link", name="Back to the search results").click()
    expect(page.locator(COUNT)).to_have_text(count_text(len(expected)))
    expect(facet_box(page, kind_name, kind_value)).to_be_checked()
    expect(page.locator("#id_q")).to_have_value(WORD)
    tab.assert_clean()


def test_search_works_without_javascript(
    open_tab: Callable[..., Tab], catalog: dict[str, Any]
) -> None:
    tab = open_tab("en", java_script_enabled=False)
    page = tab.page
    tab.goto(SEARCH)
    expect(page.locator(COUNT)).to_have_text(count_text(len(CATALOG)))
    page.locator("#id_q").fill(WORD)
    kind_name, kind_value = FIRST_FACET
    level_name, level_value = SECOND_FACET
    facet_box(page, kind_name, kind_value).check()
    facet_box(page, level_name, level_value).check()
    # Without JavaScript nothing happens until the form is sent.
    expect(page.locator(COUNT)).to_have_text(count_text(len(CATALOG)))
    with page.expect_navigation():
        page.locator("#search-form").get_by_role("button", name="Search", exact=True).click()
    expected = matching(kind=kind_value, level=level_value)
    expect(page.locator(COUNT)).to_have_text(count_text(len(expected)))
    query = query_of(page)
    assert query.get("q") == [WORD]
    assert query.get(kind_name) == [kind_value]
    assert query.get(level_name) == [level_value]
    expect(facet_box(page, kind_name, kind_value)).to_be_checked()
    expect(facet_box(page, level_name, level_value)).to_be_checked()
    expect_count_label(page, level_name, level_value, len(expected))
    assert sorted(page.locator(f"{RESULTS} .card h2 a").all_inner_texts()) == sorted(
        row.title for row in expected
    )
    tab.assert_clean()


def test_bad_filter_values_are_ignored_with_a_notice(tab: Tab, catalog: dict[str, Any]) -> None:
    page = tab.page
    tab.goto(f"{SEARCH}?q={WORD}&start_month=2027-13&page=zz")
    expect(page.locator(".error-summary[role=alert]")).to_be_visible()
    expect(page.locator(COUNT)).to_have_text(count_text(len(matching())))
    tab.assert_clean()


# Accessibility ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.mark.parametrize("language", DIRECTION)
@pytest.mark.parametrize(
    "where",
    ["search", "search-filtered", "search-bad-filter", "opportunity"],
)
def test_catalog_pages_have_no_serious_accessibility_violations(
    open_tab: Callable[..., Tab], catalog: dict[str, Any], axe: Axe, where: str, language: str
) -> None:
    paths = {
        "search": SEARCH,
        "search-filtered": f"{SEARCH}?q={WORD}&kind=clinical_elective&level=undergraduate",
        "search-bad-filter": f"{SEARCH}?q={WORD}&start_month=2027-13",
        "opportunity": catalog["Emergency Medicine Elective in Nairobi"].get_absolute_url(),
    }
    tab = open_tab(language)
    tab.goto(paths[where])
    html = tab.page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", DIRECTION[language])
    assert_accessible(tab, axe, f"{paths[where]} in {language}")
