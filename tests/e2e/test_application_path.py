"""The whole path in real Chromium: apply, endorse, offer, accept, download the letter.

Each person works in a browser context of their own, signed in through a session
cookie (their passwords are not what is tested here). axe-core checks every page of the
path for serious and critical violations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.utils import timezone
from playwright.sync_api import expect

from medexchange.applications.models import Application
from tests import factories
from tests.applications.conftest import applicant_with_profile, open_session
from tests.documents.factories import DocumentFactory, DocumentVersionFactory
from tests.e2e.conftest import Tab, browser_db
from tests.e2e.test_accessibility import BLOCKING_IMPACTS, describe

pytestmark = [pytest.mark.browser, browser_db]


def sign_in(tab: Tab, user: Any) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    tab.page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": tab.base_url}]
    )


def assert_accessible(tab: Tab, axe: Axe, what: str) -> None:
    results = axe.run(tab.page, options={"resultTypes": ["violations"]})
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"{what}:\n{describe(blocking)}"


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def path_world(transactional_db: Any) -> dict[str, Any]:
    network = factories.NetworkFactory(name="Global Exchange Network", slug="global")
    host = factories.InstitutionFactory(
        name="Fictional Lima Teaching Hospital", city="Lima", time_zone="America/Lima"
    )
    home = factories.InstitutionFactory(name="Fictional Accra Medical School", city="Accra")
    for institution in (host, home):
        factories.MembershipFactory(institution=institution, network=network)
    opportunity = factories.OpportunityFactory(
        host=host,
        title="Fictional Lima Emergency Medicine Elective",
        slug="lima-em-elective",
        endorsement_required=True,
        required_documents=["cv"],
    )
    session = open_session(opportunity, capacity=3)
    applicant = applicant_with_profile(home, full_name="Ama Mensah", time_zone="Africa/Accra")
    DocumentVersionFactory(
        document=DocumentFactory(
            owner=applicant,
            kind="cv",
            title="My CV",
            expires_on=timezone.localdate() + dt.timedelta(days=1000),
        )
    )
    return {
        "session": session,
        "opportunity": opportunity,
        "applicant": applicant,
        "home_coordinator": factories.coordinator_of(home, full_name="Kofi Home"),
        "host_coordinator": factories.coordinator_of(host, full_name="Lucia Host"),
    }


def test_apply_endorse_offer_accept_and_download_the_letter(
    open_tab: Callable[..., Tab], path_world: dict[str, Any], axe: Axe, tmp_path: Path
) -> None:
    session = path_world["session"]

    # The applicant finds the session and applies.
    applicant = open_tab("en")
    sign_in(applicant, path_world["applicant"])
    applicant.goto("/opportunities/lima-em-elective/")
    applicant.page.get_by_role("link", name="Apply for the session starting").first.click()
    expect(applicant.page.get_by_role("heading", level=1)).to_contain_text("Apply:")
    assert_accessible(applicant, axe, "apply page")
    applicant.page.get_by_role("button", name="Start my application").click()
    expect(applicant.page.get_by_text("Write a personal statement.")).to_be_visible()
    assert_accessible(applicant, axe, "draft page")
    applicant.page.get_by_label("Personal statement").fill(
        "Emergency medicine is young at home; I will bring back what I learn."
    )
    applicant.page.get_by_label("CV").select_option(index=1)  # "My CV · expires …"
    applicant.page.get_by_role("button", name="Submit application").click()
    expect(applicant.page.get_by_text("Your application is submitted.")).to_be_visible()
    assert_accessible(applicant, axe, "application page")
    application = Application.objects.get(applicant=path_world["applicant"], session=session)
    assert application.state == "submitted"

    # The home coordinator endorses.
    home = open_tab("en")
    sign_in(home, path_world["home_coordinator"])
    home.goto(f"/applications/{application.pk}/endorsement/")
    assert_accessible(home, axe, "endorsement page")
    home.page.get_by_role("button", name="Endorse and send to the host").click()
    application.refresh_from_db()
    assert application.state == "endorsed"

    # The host offers a place.
    host = open_tab("en")
    sign_in(host, path_world["host_coordinator"])
    host.goto(f"/applications/{application.pk}/review/")
    expect(host.page.get_by_text("Emergency medicine is young at home")).to_be_visible()
    assert_accessible(host, axe, "review page")
    host.page.get_by_role("button", name="Offer a place").click()
    application.refresh_from_db()
    assert application.state == "offered"

    # The applicant accepts.
    applicant.goto(f"/applications/{application.pk}/")
    expect(applicant.page.get_by_role("heading", name="You are offered a place")).to_be_visible()
    assert_accessible(applicant, axe, "offer")
    applicant.page.get_by_role("button", name="Accept the place").click()
    expect(applicant.page.get_by_text("You accepted the place.")).to_be_visible()
    expect(applicant.page.get_by_role("heading", name="Pre-departure checklist")).to_be_visible()
    application.refresh_from_db()
    assert application.state == "accepted"

    # The host issues the acceptance letter; the applicant downloads it.
    host.goto(f"/applications/{application.pk}/")
    host.page.get_by_role("button", name="Issue acceptance letter").click()
    applicant.goto(f"/applications/{application.pk}/")
    with applicant.page.expect_download() as download_info:
        applicant.page.get_by_role("link", name="Acceptance letter").first.click()
    download = download_info.value
    saved = tmp_path / "letter.pdf"
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    letter = application.letters.get(kind="acceptance")
    # Anyone can check the code on the public page.
    visitor = open_tab("en")
    visitor.goto(f"/verify/{letter.verification_code}/")
    expect(visitor.page.get_by_text("Ama Mensah")).to_be_visible()
    assert_accessible(visitor, axe, "verification page")
    for tab in (applicant, home, host, visitor):
        tab.assert_clean()
