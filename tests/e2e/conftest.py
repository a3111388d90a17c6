"""Browser tests: real headless Chromium (Debian's) driven by Playwright's sync API.

One browser per session, a fresh context (cookies, language) per test. Every
page refuses requests that leave the loopback interface and records console
errors, uncaught exceptions and CSP violations, so a test can assert the page
ran cleanly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright

from tests import factories

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
# Local schemes the page may use without touching the network (``chrome:`` and
# ``chrome-extension:`` are the browser's own PDF viewer, shown for inline documents).
LOCAL_SCHEMES = {"data", "blob", "about", "chrome", "chrome-extension"}

# The live server needs committed rows, so browser tests are transactional; the
# serialized rollback puts back the country profiles (created by a data
# migration) that the flush after each transactional test removes.
browser_db = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _offline_map(settings: Any) -> None:
    """No tile server: the map shows a plain background and stays on loopback."""
    settings.MAP_TILE_URL = ""


@pytest.fixture(scope="session", autouse=True)
def _allow_orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API keeps an asyncio loop on the main thread; Django would
    otherwise refuse ORM calls from it. Only the browser tests need this."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
    finally:
        playwright.stop()


@dataclass
class Tab:
    """A page plus what went wrong on it."""

    page: Page
    base_url: str
    console_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    def goto(self, path: str) -> None:
        response = self.page.goto(self.base_url + path)
        assert response is not None
        assert response.ok, f"GET {path} answered {response.status}"

    def assert_clean(self) -> None:
        assert not self.external_requests, (
            f"the page tried to leave loopback: {self.external_requests}"
        )
        assert not self.console_errors, f"console errors: {self.console_errors}"


def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname in LOOPBACK_HOSTS


@pytest.fixture
def open_tab(browser: Browser, live_server: Any) -> Iterator[Callable[..., Tab]]:
    """Open a fresh browser context and page, in ``language`` (the django_language cookie)."""
    contexts: list[BrowserContext] = []
    tabs: list[Tab] = []

    def open_(language: str = "en", **context_options: Any) -> Tab:
        context = browser.new_context(
            **{"viewport": {"width": 1280, "height": 900}, **context_options}
        )
        contexts.append(context)
        context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        tab = Tab(page=page, base_url=live_server.url)
        tabs.append(tab)

        def guard(route: Route) -> None:
            url = route.request.url
            if _is_loopback(url):
                route.continue_()
            else:
                tab.external_requests.append(url)
                route.abort("blockedbyclient")

        context.route("**/*", guard)
        page.on(
            "console",
            lambda message: (
                tab.console_errors.append(f"{message.text} ({message.location})")
                if message.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: tab.console_errors.append(f"uncaught: {error}"))
        return tab

    yield open_
    for context in contexts:
        context.close()
    # Whatever a test asserted, a page that tried to leave loopback fails the run.
    leaks = [url for tab in tabs for url in tab.external_requests]
    assert not leaks, f"requests outside loopback were attempted: {leaks}"


@pytest.fixture
def tab(open_tab: Callable[..., Tab]) -> Tab:
    return open_tab("en")


# --- Data ---------------------------------------------------------------------
# (demo city, country, kind of institution, networks). Coordinates come from the
# demo cities (GeoNames) so markers sit at real places on several continents.
MEMBERS = [
    ("Nairobi", "KE", "medical_school", {"africa", "global"}),
    ("Kampala", "UG", "teaching_hospital", {"africa"}),
    ("Addis Ababa", "ET", "health_organisation", {"africa"}),
    ("Lagos", "NG", "medical_school", {"africa", "global"}),
    ("Dakar", "SN", "training_institution", {"africa"}),
    ("Johannesburg", "ZA", "teaching_hospital", {"africa"}),
    ("Cairo", "EG", "medical_school", {"africa", "global"}),
    ("Mexico City", "MX", "medical_school", {"global"}),
    ("Bucharest", "RO", "teaching_hospital", {"global"}),
    ("Port-au-Prince", "HT", "health_organisation", {"global"}),
    ("Bangkok", "TH", "medical_school", {"global"}),
    ("Lima", "PE", "training_institution", {"global"}),
]
NAME_OF_KIND = {
    "medical_school": "Fictional {city} School of Medicine",
    "teaching_hospital": "Fictional {city} Teaching Hospital",
    "health_organisation": "Fictional {city} Health Institute",
    "training_institution": "Fictional {city} Training Institute",
}


@dataclass
class World:
    institutions: dict[str, Any]  # slug -> Institution
    networks_of: dict[str, set[str]]  # slug -> network slugs (active memberships)

    def only_in(self, network: str) -> set[str]:
        return {slug for slug, nets in self.networks_of.items() if nets == {network}}

    def any_slug(self) -> str:
        return next(iter(self.institutions))


@pytest.fixture
def world(transactional_db: Any) -> World:
    """A global network and an African one, twelve members, one former member."""
    from django.utils.text import slugify

    from medexchange.network.choices import MembershipStatus
    from medexchange.network.geodata import demo_cities

    cities = {(city["country"], city["name"]): city for city in demo_cities()}
    networks = {
        "global": factories.NetworkFactory(name="Global Exchange Network", slug="global"),
        "africa": factories.RegionalNetworkFactory(name="Africa Network", slug="africa"),
    }
    institutions: dict[str, Any] = {}
    networks_of: dict[str, set[str]] = {}
    for city_name, code, kind, member_of in MEMBERS:
        city = cities[(code, city_name)]
        name = NAME_OF_KIND[kind].format(city=city_name)
        slug = slugify(name)
        institution = factories.InstitutionFactory(
            name=name,
            slug=slug,
            kind=kind,
            country=factories.country(code),
            city=city_name,
            latitude=Decimal(str(city["latitude"])).quantize(Decimal("0.00001")),
            longitude=Decimal(str(city["longitude"])).quantize(Decimal("0.00001")),
            description="A fictional institution for the browser tests.",
        )
        for network in sorted(member_of):
            factories.MembershipFactory(institution=institution, network=networks[network])
        factories.SiteFactory(institution=institution, name=f"{city_name} Emergency Department")
        institutions[slug] = institution
        networks_of[slug] = set(member_of)
    # A former member must appear nowhere.
    factories.MembershipFactory(
        institution=factories.InstitutionFactory(
            name="Fictional Former Member", slug="fictional-former-member"
        ),
        network=networks["global"],
        status=MembershipStatus.LEFT,
    )
    return World(institutions=institutions, networks_of=networks_of)
