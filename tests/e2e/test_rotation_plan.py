"""A rotation plan in real Chromium: solve (the progress finishes), pin a cell, solve
again and the pin holds, publish; the participant takes their private calendar link and
the feed parses with ``icalendar`` and holds their published stays; the site supervisor
reads the roster and reports an absence. axe-core checks every plan page for serious and
critical violations, on a desktop and on a phone-sized screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from icalendar import Calendar
from playwright.sync_api import expect

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.accounts.models import InstitutionRole
from medexchange.catalog.choices import OpportunityKind
from medexchange.scheduling import selectors, services
from medexchange.scheduling.models import PlanCell, RotationPlan
from tests import factories
from tests.applications.conftest import applicant_with_profile, open_session
from tests.e2e.conftest import Tab, browser_db
from tests.e2e.test_application_path import assert_accessible, sign_in
from tests.scheduling.conftest import seat

pytestmark = [pytest.mark.browser, browser_db]


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def plan_world(transactional_db: Any, settings: Any) -> dict[str, Any]:
    settings.ROTATION_SOLVE_SECONDS = 5
    network = factories.NetworkFactory(name="Global Exchange Network", slug="global")
    host = factories.InstitutionFactory(name="Fictional Lima Teaching Hospital", city="Lima")
    home = factories.InstitutionFactory(name="Fictional Accra Medical School", city="Accra")
    for institution in (host, home):
        factories.MembershipFactory(institution=institution, network=network)
    sites = [
        factories.SiteFactory(institution=host, name=name)
        for name in ("Central Emergency", "North Trauma Unit", "South Paediatrics")
    ]
    opportunity = factories.OpportunityFactory(
        host=host, kind=OpportunityKind.EXCHANGE_PROGRAM, title="Fictional Lima EM Exchange"
    )
    opportunity.sites.set(sites)
    session = open_session(opportunity, capacity=4)
    coordinator = factories.coordinator_of(host, full_name="Host Coordinator")
    people = {}
    for name in ("Ana Alvarez", "Bo Baptiste", "Cy Chen"):
        people[name] = applicant_with_profile(home, full_name=name)
        seat(people[name], session, coordinator)
    supervisor = factories.UserFactory(full_name="Grace Supervisor")
    InstitutionRole.objects.create(
        user=supervisor, institution=host, role=InstitutionRoleKind.SUPERVISOR
    )
    plan = services.rotation_plan_create(session=session, actor=coordinator)
    return {"plan": plan, "coordinator": coordinator, "people": people, "supervisor": supervisor}


def _solve(tab: Tab) -> None:
    tab.page.get_by_role("button", name="Solve").first.click()
    expect(tab.page.locator("#solve-progress")).to_contain_text("Done")
    expect(tab.page.locator("#solve-progress progress")).to_have_attribute("value", "100")
    tab.page.get_by_role("link", name="See the plan").click()


def test_solve_pin_and_solve_again_keeps_the_pin(
    open_tab: Callable[..., Tab], plan_world: dict[str, Any], axe: Axe
) -> None:
    plan: RotationPlan = plan_world["plan"]
    tab = open_tab()
    sign_in(tab, plan_world["coordinator"])
    tab.goto(plan.get_absolute_url())
    assert_accessible(tab, axe, "plan page before solving")

    _solve(tab)
    grid = tab.page.get_by_role("table", name="Each participant's site in each period")
    expect(grid).to_contain_text("Bo Baptiste")
    expect(tab.page.locator("#feedback")).to_contain_text("keeps every rule")
    assert_accessible(tab, axe, "solved plan page")

    # Pin Bo in week 2 to a site other than the solver's choice, from the keyboard path.
    bo = next(p for p in selectors.plan_participants(plan) if p.name == "Bo Baptiste")
    current = PlanCell.objects.get(participant=bo, period=1)
    other = next(s for s in selectors.plan_sites(plan) if s.pk != current.site_id)
    link = tab.page.locator(f"#cell-{bo.pk}-1 a")
    link.focus()
    tab.page.keyboard.press("Enter")
    tab.page.get_by_label("Site").select_option(str(other.pk))
    tab.page.get_by_label("Pin this cell").check()
    tab.page.get_by_role("button", name="Save the cell").click()
    cell = tab.page.locator(f"#cell-{bo.pk}-1")
    expect(cell).to_contain_text(other.short_name)
    expect(cell).to_contain_text("pinned")

    _solve(tab)
    cell = tab.page.locator(f"#cell-{bo.pk}-1")
    expect(cell).to_contain_text(other.short_name)
    expect(cell).to_contain_text("pinned")
    saved = PlanCell.objects.get(participant=bo, period=1)
    assert (saved.site_id, saved.pinned) == (other.pk, True)
    assert plan.solves.count() == 2

    phone = open_tab(viewport={"width": 375, "height": 740})
    sign_in(phone, plan_world["coordinator"])
    phone.goto(plan.get_absolute_url())
    expect(phone.page.locator(f"#cell-{bo.pk}-1")).to_contain_text("pinned")
    assert_accessible(phone, axe, "plan page on a phone")

    # Publish: everyone is told; the participant takes their private calendar link.
    tab.page.get_by_role("button", name="Publish the plan").click()
    expect(tab.page.get_by_text("The plan is published: 4 people were told.")).to_be_visible()
    assert_accessible(tab, axe, "published plan page")
    plan.refresh_from_db()

    participant = open_tab()
    sign_in(participant, plan_world["people"]["Bo Baptiste"])
    participant.goto(plan.get_absolute_url())
    participant.page.get_by_role("button", name="Get a calendar link").click()
    link = participant.page.get_by_label("Your calendar link")
    feed_url = link.input_value()
    assert feed_url.startswith(participant.base_url)
    assert_accessible(participant, axe, "participant's plan page with the calendar link")
    fetched = participant.page.context.request.get(feed_url)
    assert fetched.ok and fetched.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(fetched.body())
    events = sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    sites = {s.pk: s for s in selectors.plan_sites(plan)}
    stays = selectors.stays(plan, plan.published_assignment[str(bo.pk)], sites)
    assert [(e.decoded("dtstart"), str(e["summary"])) for e in events] == [
        (stay.start, f"Rotation at {stay.site.site.name}") for stay in stays
    ]
    week_two = plan.period_start(1)
    assert any(
        e.decoded("dtstart") <= week_two < e.decoded("dtend")
        and str(e["summary"]) == f"Rotation at {other.site.name}"
        for e in events
    ), "the pinned week is in the feed"

    # The site supervisor reads who comes when and reports Bo arriving a week late.
    supervisor = open_tab(viewport={"width": 375, "height": 740})
    sign_in(supervisor, plan_world["supervisor"])
    supervisor.goto(plan.get_absolute_url())
    expect(supervisor.page.get_by_role("heading", level=1)).to_contain_text("Who is on site")
    expect(supervisor.page.locator("main")).to_contain_text(
        plan_world["people"]["Bo Baptiste"].email
    )
    assert_accessible(supervisor, axe, "supervisor's roster on a phone")
    supervisor.page.get_by_role("link", name="Report an absence (Bo Baptiste)").first.click()
    supervisor.page.get_by_label("Leaves earlier than planned").check()
    supervisor.page.get_by_label("Date").fill(plan.period_end(2).isoformat())
    assert_accessible(supervisor, axe, "absence form")
    supervisor.page.get_by_role("button", name="Report and propose a repair").click()
    expect(supervisor.page.locator("main")).to_contain_text("Repair proposed")
    assert_accessible(supervisor, axe, "absence report with its proposal")
    for each in (tab, phone, participant, supervisor):
        each.assert_clean()
