"""A match cycle in real Chromium: rank both sides, a dry run, release, read the result.

Each person works in a browser context of their own, signed in by a session cookie.
axe-core checks the ranking and results pages for serious and critical violations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import expect

from medexchange.applications.choices import ApplicationState
from medexchange.matching.models import MatchCycle
from tests import factories
from tests.applications.conftest import applicant_with_profile, open_session
from tests.e2e.conftest import Tab, browser_db
from tests.e2e.test_application_path import assert_accessible, sign_in
from tests.matching.conftest import submit

pytestmark = [pytest.mark.browser, browser_db]


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def cycle_world(transactional_db: Any) -> dict[str, Any]:
    from django.utils import timezone

    from medexchange.matching import services

    network = factories.NetworkFactory(name="Global Exchange Network", slug="global")
    host = factories.InstitutionFactory(name="Fictional Lima Teaching Hospital", city="Lima")
    home = factories.InstitutionFactory(name="Fictional Accra Medical School", city="Accra")
    for institution in (host, home):
        factories.MembershipFactory(institution=institution, network=network)
    elective = open_session(
        factories.OpportunityFactory(host=host, title="Fictional Lima EM Elective"), capacity=1
    )
    toxicology = open_session(
        factories.OpportunityFactory(host=host, title="Fictional Lima Toxicology"), capacity=1
    )
    ama = applicant_with_profile(home, full_name="Ama Mensah")
    kofi = applicant_with_profile(home, full_name="Kofi Boateng")
    ama_elective = submit(ama, elective)
    submit(ama, toxicology)
    submit(kofi, toxicology)
    staff = factories.staff_of(network, full_name="Network Staff")
    now = timezone.now()
    cycle = services.match_cycle_create(
        actor=staff,
        network=network,
        name="Fictional elective match",
        sessions=[elective, toxicology],
        ranking_opens_at=now - timezone.timedelta(hours=1),
        ranking_closes_at=now + timezone.timedelta(days=7),
        results_planned_at=now + timezone.timedelta(days=8),
    )
    services.match_cycle_act(cycle=cycle, actor=staff, verb="open")
    return {
        "cycle": cycle,
        "ama": ama,
        "ama_elective": ama_elective,
        "host": factories.coordinator_of(host, full_name="Host Coordinator"),
        "staff": staff,
        "toxicology": toxicology,
    }


def test_rank_dry_run_release_and_read_the_explanation(
    open_tab: Callable[..., Tab], cycle_world: dict[str, Any], axe: Axe
) -> None:
    cycle: MatchCycle = cycle_world["cycle"]

    # Ama puts the toxicology session first with the Move up button.
    applicant = open_tab()
    sign_in(applicant, cycle_world["ama"])
    applicant.goto(reverse("matching:my-ranking", kwargs={"pk": cycle.pk}))
    items = applicant.page.locator("#ranking > li")
    expect(items.first).to_contain_text("Fictional Lima EM Elective")
    assert_accessible(applicant, axe, "applicant's ranking")
    applicant.page.get_by_role("button", name="Move up (Fictional Lima Toxicology)").click()
    expect(items.first).to_contain_text("Fictional Lima Toxicology")

    # The host prefers Kofi for toxicology.
    host = open_tab()
    sign_in(host, cycle_world["host"])
    host.goto(
        reverse(
            "matching:host-ranking",
            kwargs={"pk": cycle.pk, "session_id": cycle_world["toxicology"].pk},
        )
    )
    ranked = host.page.locator("#ranking > li")
    expect(ranked.first).to_contain_text("Ama Mensah")
    assert_accessible(host, axe, "host's ranking")
    host.page.get_by_role("button", name="Move up (Kofi Boateng)").click()
    expect(ranked.first).to_contain_text("Kofi Boateng")

    # Staff start a dry run, watch it finish, close the ranking and release.
    staff = open_tab()
    sign_in(staff, cycle_world["staff"])
    staff.goto(cycle.get_absolute_url())
    staff.page.get_by_role("button", name="Start a run").click()
    expect(staff.page.locator("#run-progress")).to_contain_text("Done")
    expect(staff.page.locator("#run-progress progress")).to_have_attribute("value", "100")
    run_url = staff.page.url
    assert_accessible(staff, axe, "run page")
    staff.goto(cycle.get_absolute_url())
    staff.page.get_by_role("button", name="Close the ranking now").click()
    staff.page.goto(run_url)
    staff.page.get_by_role("button", name="Release the results").click()
    expect(staff.page.get_by_text("The results are released")).to_be_visible()

    # Ama has her place and the reason she lost her first choice.
    applicant.goto(cycle.get_absolute_url())
    result = applicant.page.locator("#my-result-heading").locator("..")
    expect(result).to_contain_text("You are matched to Fictional Lima EM Elective")
    expect(result).to_contain_text("you were number 2 on its list, the last admitted was number 1")
    assert_accessible(applicant, axe, "applicant's results")
    applicant.goto(cycle_world["ama_elective"].get_absolute_url())
    expect(applicant.page.get_by_text(str(ApplicationState.ACCEPTED.label)).first).to_be_visible()
    host.goto(cycle.get_absolute_url())
    expect(host.page.get_by_role("table", name="Results per session")).to_contain_text(
        "Kofi Boateng"
    )
    assert_accessible(host, axe, "host's results")
    for tab in (applicant, host, staff):
        tab.assert_clean()
