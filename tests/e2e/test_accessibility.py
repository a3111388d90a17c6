"""axe-core on the public pages, left to right (English) and right to left (Arabic).

Serious and critical violations fail the test; the message lists each rule, its
help text and the offending nodes so the fix can start from the failure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.e2e.conftest import Tab, World, browser_db

pytestmark = [pytest.mark.browser, browser_db]

BLOCKING_IMPACTS = {"serious", "critical"}
AXE_OPTIONS: dict[str, Any] = {"resultTypes": ["violations"]}

INSTITUTION = "fictional-nairobi-school-of-medicine"
PAGES = {
    "home": "/",
    "directory": "/directory/",
    "institution": f"/institutions/{INSTITUTION}/",
    "join": "/join/",
    "map": "/map/",
    "map-list": "/map/list/",
}
DIRECTION = {"en": "ltr", "ar": "rtl"}

# axe only flags a dangling aria-describedby as "needs review"; a help text or
# error message the template forgot to render is a real defect, so check it here.
BROKEN_ID_REFERENCES = """() => {
  const broken = [];
  for (const attr of ["aria-describedby", "aria-labelledby", "aria-controls", "for"]) {
    for (const el of document.querySelectorAll("[" + attr + "]")) {
      for (const id of el.getAttribute(attr).split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) {
          broken.push(el.outerHTML.slice(0, 120) + " -> " + attr + "=" + id);
        }
      }
    }
  }
  return broken;
}"""


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"  - {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            if node.get("failureSummary"):
                lines.append("    " + node["failureSummary"].replace("\n", "\n    "))
    return "\n".join(lines)


@pytest.mark.parametrize("language", DIRECTION)
@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_serious_accessibility_violations(
    open_tab: Callable[..., Tab], world: World, axe: Axe, name: str, language: str
) -> None:
    # axe is injected with page.evaluate; the site's strict CSP stays on (scripts
    # from the test harness do not count as page scripts).
    tab = open_tab(language)
    tab.goto(PAGES[name])
    page = tab.page
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", DIRECTION[language])
    if name == "map":
        # Audit the map as people see it: markers and the sidebar list drawn.
        expect(page.locator("#partner-map")).to_have_attribute("data-ready", "true")

    assert_accessible(tab, axe, f"{PAGES[name]} in {language}")


def assert_accessible(tab: Tab, axe: Axe, where: str) -> None:
    results = axe.run(tab.page, options=AXE_OPTIONS)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"{where}:\n{describe(blocking)}"
    broken = tab.page.evaluate(BROKEN_ID_REFERENCES)
    assert not broken, f"{where}: references to missing ids:\n" + "\n".join(broken)
    tab.assert_clean()


@pytest.mark.parametrize("language", DIRECTION)
def test_join_form_errors_are_accessible(
    open_tab: Callable[..., Tab], world: World, axe: Axe, language: str
) -> None:
    """An empty submission shows the error summary and marks fields; all of it stays accessible."""
    tab = open_tab(language)
    tab.goto(PAGES["join"])
    page = tab.page
    page.locator("main form[method=post] button[type=submit]").click()
    expect(page.locator(".error-summary[role=alert]")).to_be_visible()
    invalid = page.locator("[aria-invalid=true]")
    assert invalid.count() > 0
    assert_accessible(tab, axe, f"/join/ with errors in {language}")


@pytest.mark.parametrize("language", DIRECTION)
def test_directory_filter_errors_are_accessible(
    open_tab: Callable[..., Tab], world: World, axe: Axe, language: str
) -> None:
    tab = open_tab(language)
    tab.goto("/directory/?kind=not-a-kind&q=Nairobi")
    expect(tab.page.locator("[aria-invalid=true]")).to_have_count(1)
    assert_accessible(tab, axe, f"/directory/ with a bad filter in {language}")
