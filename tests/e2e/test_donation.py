"""A gift in real Chromium: a donor gives to a fund, pays on the test checkout page of
the local fake Stripe (which posts a correctly signed ``checkout.session.completed`` to
the live server, as Stripe does, and sends the browser back), sees the thank-you page
with the receipt, opens the receipt PDF, and sees the fund's totals change. axe-core
checks the donation page, the thank-you page and the donor's page for serious and
critical violations."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import expect
from pypdf import PdfReader

from medexchange.funding import selectors
from medexchange.funding.models import Donation, Fund, Receipt
from tests import factories
from tests.e2e.conftest import Tab, browser_db
from tests.e2e.test_application_path import assert_accessible, sign_in
from tests.funding.fake_stripe import API_KEY, WEBHOOK_SECRET, FakeStripe

pytestmark = [pytest.mark.browser, browser_db]


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def fake_stripe(live_server: Any, settings: Any) -> Iterator[FakeStripe]:
    with FakeStripe(webhook_url=live_server.url + "/funding/webhooks/stripe/") as fake:
        settings.STRIPE_SECRET_KEY = API_KEY
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.STRIPE_API_BASE = fake.base_url
        yield fake


@pytest.fixture
def gift_world(transactional_db: Any) -> dict[str, Any]:
    network = factories.NetworkFactory(name="Global Exchange Network", slug="global")
    fund = Fund.objects.create(
        network=network,
        slug="em-residents",
        name="EM Residents Fund",
        currency="EUR",
        description="Flights and housing for residents from countries where EM is new.",
    )
    donor = factories.UserFactory(email="dana@example.org", full_name="Dana Donor")
    return {"fund": fund, "donor": donor}


def test_a_donor_gives_pays_and_gets_the_receipt(
    open_tab: Callable[..., Tab], gift_world: dict[str, Any], fake_stripe: FakeStripe, axe: Axe
) -> None:
    fund: Fund = gift_world["fund"]
    tab = open_tab()
    sign_in(tab, gift_world["donor"])
    fund_page = reverse("funding:fund", kwargs={"network": fund.network.slug, "fund": fund.slug})
    tab.goto(fund_page)
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("EM Residents Fund")
    assert "100.00" not in tab.page.locator("main").inner_text()
    assert_accessible(tab, axe, "fund page before the gift")

    tab.goto(reverse("funding:donate", kwargs={"network": "global", "fund": fund.slug}))
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Give to EM Residents Fund")
    assert_accessible(tab, axe, "donation page")
    # The e-mail address is the signed-in donor's.
    expect(tab.page.get_by_label("Your e-mail address")).to_have_value("dana@example.org")

    # First a typo: the page says what is wrong, at the field, and charges nothing.
    tab.page.get_by_label("Other amount", exact=True).check()
    tab.page.get_by_role("textbox", name="Other amount").fill("12.345")
    tab.page.get_by_role("button", name="Continue to payment").click()
    expect(tab.page.get_by_role("alert")).to_contain_text("Please check your gift")
    expect(tab.page.locator("main")).to_contain_text("at most 2 decimals")
    assert_accessible(tab, axe, "donation page with errors")
    assert not Donation.objects.exists()
    # The refused form is answered 400, which Chromium logs; nothing else went wrong.
    assert all("status of 400" in error for error in tab.console_errors), tab.console_errors
    tab.console_errors.clear()

    tab.page.get_by_role("textbox", name="Other amount").fill("")
    tab.page.get_by_label("100", exact=True).check()
    tab.page.get_by_label("Dedication").fill("In memory of Dr. Okafor")
    tab.page.get_by_role("button", name="Continue to payment").click()

    # The provider's (fake) checkout page; paying posts the signed webhook.
    expect(tab.page.get_by_role("heading", name="Test checkout")).to_be_visible()
    assert tab.page.url.startswith(fake_stripe.base_url + "/pay/cs_test_")
    tab.page.get_by_role("button", name="Pay").click()

    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Thank you for your gift")
    assert fake_stripe.webhook_answers == [200]
    expect(tab.page.locator("main")).to_contain_text("100.00")
    assert_accessible(tab, axe, "thank-you page")
    receipt = Receipt.objects.get()
    link = tab.page.get_by_role("link", name=f"Download your receipt {receipt.label} (PDF)")
    expect(link).to_be_visible()

    pdf = tab.page.request.get(tab.base_url + (link.get_attribute("href") or ""))
    assert pdf.ok
    assert pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.body())).pages)
    assert receipt.label in text
    assert "EM Residents Fund" in text
    assert "In memory of Dr. Okafor" in text

    totals = selectors.fund_totals(fund)
    assert (totals.raised, totals.held) == (Decimal("100.00"), Decimal("100.00"))

    # The donor's page lists the gift, received, with its receipt.
    tab.page.get_by_role("link", name="My gifts and receipts").click()
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("My gifts")
    row = tab.page.get_by_role("row").filter(has_text="EM Residents Fund")
    expect(row).to_contain_text("Received")
    expect(row.get_by_role("link", name=f"Receipt {receipt.label} (PDF)")).to_be_visible()
    assert_accessible(tab, axe, "donor page")

    # The fund page's totals include the gift.
    tab.goto(fund_page)
    expect(tab.page.locator("main")).to_contain_text("100.00")
    assert_accessible(tab, axe, "fund page after the gift")
    tab.assert_clean()


def test_finance_staff_record_a_cheque_with_its_receipt_and_give_part_of_it_back(
    open_tab: Callable[..., Tab], gift_world: dict[str, Any], axe: Axe
) -> None:
    fund: Fund = gift_world["fund"]
    finance = factories.staff_of(fund.network, full_name="Fiona Finance")
    tab = open_tab()
    sign_in(tab, finance)
    tab.goto(fund.get_manage_url())
    tab.page.get_by_role("link", name="Record a gift").click()
    expect(
        tab.page.get_by_label("Issue the receipt now and e-mail it to the donor")
    ).to_be_checked()
    assert_accessible(tab, axe, "gift form")
    tab.page.get_by_label("How it was given").select_option("cheque")
    tab.page.get_by_label(re.compile(r"^Amount")).fill("250.00")
    tab.page.get_by_label("Donor's name").fill("Grace Hopper")
    tab.page.get_by_label("Donor's e-mail").fill("grace@example.org")
    tab.page.get_by_label("Donor's language").select_option("es")
    tab.page.get_by_role("button", name="Record the gift").click()

    receipt = Receipt.objects.get()
    assert (receipt.number, receipt.language) == (1, "es")
    expect(tab.page.locator("main")).to_contain_text(
        f"receipt {receipt.label} is e-mailed to grace@example.org"
    )
    assert_accessible(tab, axe, "fund's books")

    tab.page.get_by_role("link", name="Refund Grace Hopper").click()
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Refund a gift")
    expect(tab.page.get_by_label("Amount to give back")).to_have_value("250.00")
    assert_accessible(tab, axe, "refund page")
    tab.page.get_by_label("Amount to give back").fill("300")
    tab.page.get_by_label("Reason").fill("Asked by the donor")
    tab.page.get_by_role("button", name="Record the refund").click()
    expect(tab.page.get_by_role("alert")).to_contain_text("Nothing was recorded")
    expect(tab.page.locator("main")).to_contain_text("At most 250.00")
    assert_accessible(tab, axe, "refund page with an error")
    assert all("status of 400" in error for error in tab.console_errors), tab.console_errors
    tab.console_errors.clear()

    tab.page.get_by_label("Amount to give back").fill("50")
    tab.page.get_by_role("button", name="Record the refund").click()
    expect(tab.page.locator("main")).to_contain_text("is given back")
    assert selectors.fund_totals(fund).held == Decimal("200.00")
    tab.assert_clean()
