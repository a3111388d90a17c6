"""The partner map in a real browser: markers, network filter, popups, links."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.conftest import Tab, World, browser_db

pytestmark = [pytest.mark.browser, browser_db]

MAP = "#partner-map"


def open_map(tab: Tab, path: str = "/map/") -> Page:
    tab.goto(path)
    page = tab.page
    expect(page.locator(MAP)).to_have_attribute("data-ready", "true")
    return page


# Institutions behind the marker icons: single markers count 1, clusters their number.
MARKERS_REPRESENTED = """(expected) => {
  let total = 0;
  for (const icon of document.querySelectorAll(".leaflet-marker-icon")) {
    total += icon.classList.contains("marker-cluster") ? Number(icon.textContent) : 1;
  }
  return expected === undefined ? total : total === expected;
}"""


def assert_markers_represent(page: Page, expected: int) -> None:
    """Wait (clusters redraw after zoom animations) until the icons stand for ``expected``."""
    try:
        # A function, not an expression: the site's CSP forbids eval.
        page.wait_for_function(MARKERS_REPRESENTED, arg=expected, timeout=5_000)
    except PlaywrightTimeoutError:
        actual = page.evaluate(MARKERS_REPRESENTED)
        raise AssertionError(
            f"marker icons stand for {actual} institutions, not {expected}"
        ) from None


def visible_slugs(page: Page) -> set[str]:
    return set(
        page.locator("#map-list li[data-slug]:not([hidden])").evaluate_all(
            "items => items.map(item => item.dataset.slug)"
        )
    )


def test_map_shows_a_marker_for_every_member(tab: Tab, world: World) -> None:
    page = open_map(tab)
    expect(page.locator(".leaflet-marker-icon").first).to_be_visible()
    members = len(world.institutions)
    expect(page.locator(MAP)).to_have_attribute("data-visible-markers", str(members))
    assert_markers_represent(page, members)
    assert visible_slugs(page) == set(world.institutions)
    # The former member is neither listed nor counted.
    assert page.locator('#map-list li[data-slug="fictional-former-member"]').count() == 0
    tab.assert_clean()


def test_every_member_is_in_view_on_a_phone(open_tab: Callable[..., Tab], world: World) -> None:
    """The first view fits the markers, so a narrow screen does not start with some off-screen
    (the cluster group only draws icons inside the view)."""
    tab = open_tab("en", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = open_map(tab)
    expect(page.locator(".leaflet-marker-icon").first).to_be_visible()
    assert_markers_represent(page, len(world.institutions))
    tab.assert_clean()


def test_unticking_the_regional_network_hides_its_only_members(tab: Tab, world: World) -> None:
    page = open_map(tab)
    members = len(world.institutions)
    africa_only = world.only_in("africa")
    assert 0 < len(africa_only) < members

    page.locator("#network-africa").uncheck()
    expect(page.locator(MAP)).to_have_attribute(
        "data-visible-markers", str(members - len(africa_only))
    )
    assert visible_slugs(page) == set(world.institutions) - africa_only
    for slug in africa_only:
        expect(page.locator(f'#map-list li[data-slug="{slug}"]')).to_be_hidden()
    assert_markers_represent(page, members - len(africa_only))
    # The filter state is kept in the address, so the list view link can follow it.
    assert "network=global" in page.url
    assert "network=africa" not in page.url

    page.locator("#network-africa").check()
    expect(page.locator(MAP)).to_have_attribute("data-visible-markers", str(members))
    assert visible_slugs(page) == set(world.institutions)
    assert_markers_represent(page, members)
    tab.assert_clean()


@pytest.mark.parametrize(
    "slug",
    [
        # Kampala sits next to Nairobi, so at world zoom its marker is inside a cluster
        # and the click has to zoom in to it first.
        "fictional-kampala-teaching-hospital",
        "fictional-lima-training-institute",
    ],
)
def test_clicking_a_name_opens_its_popup_and_the_link_leads_to_its_page(
    tab: Tab, world: World, slug: str
) -> None:
    institution = world.institutions[slug]
    page = open_map(tab)
    page.locator(f'#map-list li[data-slug="{slug}"] button').click()

    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_be_visible()
    expect(popup).to_contain_text(institution.name)
    link = popup.locator(f'a[href="/institutions/{slug}/"]')
    expect(link).to_have_count(1)

    link.click()
    page.wait_for_url(f"**/institutions/{slug}/")
    expect(page.locator("h1")).to_have_text(institution.name)
    tab.assert_clean()


def test_show_on_map_link_opens_the_institutions_popup(tab: Tab, world: World) -> None:
    slug = "fictional-bucharest-teaching-hospital"
    tab.goto(f"/institutions/{slug}/")
    tab.page.locator(f'a[href$="/map/#{slug}"]').click()
    page = tab.page
    expect(page.locator(MAP)).to_have_attribute("data-ready", "true")
    expect(page.locator(".leaflet-popup-content")).to_contain_text(world.institutions[slug].name)
    tab.assert_clean()


def test_map_works_right_to_left_in_arabic(open_tab: Callable[..., Tab], world: World) -> None:
    tab = open_tab("ar")
    page = open_map(tab)
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    expect(page.locator(MAP)).to_have_attribute(
        "data-visible-markers", str(len(world.institutions))
    )
    page.locator("#network-africa").uncheck()
    expect(page.locator(MAP)).to_have_attribute(
        "data-visible-markers", str(len(world.institutions) - len(world.only_in("africa")))
    )
    tab.assert_clean()


def test_request_guard_catches_a_page_leaving_loopback(
    tab: Tab, world: World, settings: Any
) -> None:
    """The no-network checks above are not vacuous: with a real tile server configured,
    the guard sees (and blocks) the tile requests, and the map falls back to its plain
    background."""
    settings.MAP_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    page = open_map(tab)
    expect(page.locator(MAP)).to_have_class(re.compile(r"\bmap-offline\b"))
    assert tab.external_requests
    assert all(url.startswith("https://tile.openstreetmap.org/") for url in tab.external_requests)
    with pytest.raises(AssertionError, match="leave loopback"):
        tab.assert_clean()
    tab.external_requests.clear()  # expected here; the fixture's own check would fail otherwise
