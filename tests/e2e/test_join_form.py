"""The join form's location picker in a real browser."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Tab, browser_db

pytestmark = [pytest.mark.browser, browser_db]


def test_clicking_the_map_fills_the_coordinates(tab: Tab, settings: Any, live_server: Any) -> None:
    # Tiles from the live server itself: a real image, on loopback.
    settings.MAP_TILE_URL = live_server.url + "/static/leaflet/images/layers.png?{z}/{x}/{y}"
    tab.goto("/join/")
    page = tab.page
    picker = page.locator("#location-picker")
    expect(picker).to_have_attribute("data-ready", "true")
    expect(page.locator("#location-picker-wrap")).to_be_visible()

    picker.scroll_into_view_if_needed()
    box = picker.bounding_box()
    assert box is not None
    picker.click(position={"x": box["width"] * 0.6, "y": box["height"] * 0.4})
    expect(page.locator("#id_latitude")).not_to_have_value("")

    latitude = float(page.locator("#id_latitude").input_value())
    longitude = float(page.locator("#id_longitude").input_value())
    assert -90 <= latitude <= 90
    assert -180 <= longitude <= 180
    assert (latitude, longitude) != (0.0, 0.0)
    expect(picker.locator(".leaflet-marker-icon")).to_have_count(1)

    # Typed coordinates move the marker.
    page.locator("#id_latitude").fill("-1.28330")
    page.locator("#id_longitude").fill("36.81670")
    marker = picker.locator(".leaflet-marker-icon")
    expect(marker).to_have_count(1)
    tab.assert_clean()


def test_without_tiles_the_picker_stays_hidden(tab: Tab) -> None:
    tab.goto("/join/")
    expect(tab.page.locator("#location-picker-wrap")).to_be_hidden()
    expect(tab.page.locator("#id_latitude")).to_be_visible()
    tab.assert_clean()
