"""The donor's page: their gifts (by account and by verified e-mail address), receipts
only they can download, and pledges they can stop (at Stripe too). Everyone else gets
a 404, the same as for a receipt that does not exist."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from medexchange.funding.choices import PledgeStatus
from medexchange.funding.models import Pledge, Receipt
from tests import factories
from tests.funding.conftest import give, make_fund
from tests.funding.fake_stripe import FakeStripe
from tests.funding.online import (
    completed,
    deliver,
    start_gift,
    stripe_api_fixture,  # noqa: F401 - the stripe_api fixture
)

pytestmark = pytest.mark.django_db
MY_GIFTS = "/funding/my-gifts/"


def donor_with(email: str, **extra: Any) -> Any:
    """A donor whose address is verified (the factory confirms it)."""
    return factories.UserFactory(email=email, **extra)


def paid_gift(client: Any, fund: Any, fake: FakeStripe, **fields: Any) -> Any:
    gift = start_gift(client, fund, **fields)
    body, _session = completed(fake, gift)
    deliver(client, body)
    gift.refresh_from_db()
    return gift


def test_anonymous_visitors_are_sent_to_sign_in(client: Any) -> None:
    response = client.get(MY_GIFTS)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_donor_sees_their_gifts_by_account_and_by_verified_address_only(
    client: Any, fund: Any, finance: Any, stripe_api: FakeStripe
) -> None:
    ada = donor_with("ada@example.org", full_name="Ada Donor")
    client.force_login(ada)
    by_account = paid_gift(client, fund, stripe_api, preset="25", donor_email="ada@example.org")
    client.logout()
    before_account = paid_gift(
        client, fund, stripe_api, preset="100", donor_email="ada@example.org"
    )
    cheque = give(fund, finance, "70.00", donor_email="ada@example.org")
    someone_else = paid_gift(client, fund, stripe_api, preset="250", donor_email="bo@example.org")
    # An address Ada added but never confirmed proves nothing.
    EmailAddress.objects.create(user=ada, email="bo@example.org", verified=False)

    client.force_login(ada)
    response = client.get(MY_GIFTS)

    assert response.status_code == 200
    shown = {gift.pk for gift in response.context["gifts"]}
    assert shown == {by_account.pk, before_account.pk, cheque.pk}
    assert someone_else.pk not in shown
    page = response.content.decode()
    assert "250.00" not in page
    receipt = Receipt.objects.get(donation=by_account)
    assert reverse("funding:my-receipt", args=[receipt.pk]) in page


def test_a_receipt_downloads_for_its_donor_and_is_a_404_for_everyone_else(
    client: Any, fund: Any, network: Any, member: Any, stripe_api: FakeStripe
) -> None:
    ada = donor_with("ada@example.org")
    client.force_login(ada)
    gift = paid_gift(client, fund, stripe_api, donor_email="ada@example.org")
    receipt = Receipt.objects.get(donation=gift)
    url = reverse("funding:my-receipt", args=[receipt.pk])

    own = client.get(url)
    assert own.status_code == 200
    assert own["Content-Type"] == "application/pdf"

    other_network = factories.RegionalNetworkFactory(slug="elsewhere")
    strangers = [
        donor_with("bo@example.org"),
        factories.coordinator_of(member),
        factories.coordinator_of(factories.InstitutionFactory()),
        factories.staff_of(other_network),
    ]
    for stranger in strangers:
        client.force_login(stranger)
        assert client.get(url).status_code == 404
        assert client.get(reverse("funding:my-receipt", args=[receipt.pk + 999])).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to sign in


def test_finance_staff_read_their_funds_receipts_and_nobody_elses(
    client: Any, fund: Any, finance: Any, stripe_api: FakeStripe
) -> None:
    gift = paid_gift(client, fund, stripe_api)
    receipt = Receipt.objects.get(donation=gift)
    kwargs = {"network": fund.network.slug, "fund": fund.slug, "pk": receipt.pk}
    url = reverse("funding:staff-receipt", kwargs=kwargs)
    client.force_login(finance)
    assert client.get(url).status_code == 200
    client.force_login(factories.staff_of(factories.RegionalNetworkFactory(slug="elsewhere")))
    assert client.get(url).status_code == 404
    client.force_login(donor_with("ada@example.org"))
    assert client.get(url).status_code == 404


def test_a_donor_stops_their_monthly_gift_at_stripe_and_here(
    client: Any, fund: Any, stripe_api: FakeStripe
) -> None:
    ada = donor_with("ada@example.org")
    client.force_login(ada)
    paid_gift(
        client,
        fund,
        stripe_api,
        preset="",
        custom_amount="15",
        frequency="monthly",
        donor_email="ada@example.org",
    )
    pledge = Pledge.objects.get()
    page = client.get(MY_GIFTS).content.decode()
    assert "Stop my monthly gift" in page

    bo = donor_with("bo@example.org")
    client.force_login(bo)
    url = reverse("funding:pledge-cancel", args=[pledge.pk])
    assert client.post(url).status_code == 404
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.ACTIVE

    client.force_login(ada)
    response = client.post(url)
    assert response.status_code == 302
    assert ("DELETE", f"/v1/subscriptions/{pledge.provider_reference}", {}) in stripe_api.requests
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.CANCELLED
    assert client.get(url).status_code == 405


def test_without_stripe_a_pledge_is_stopped_here(client: Any, fund: Any, settings: Any) -> None:
    ada = donor_with("ada@example.org")
    pledge = Pledge.objects.create(
        fund=fund,
        donor=ada,
        amount="10.00",
        currency="EUR",
        provider="stripe",
        provider_reference="sub_offline",
    )
    settings.STRIPE_SECRET_KEY = ""
    client.force_login(ada)
    client.post(reverse("funding:pledge-cancel", args=[pledge.pk]))
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.CANCELLED


def test_the_donor_page_says_what_to_do_when_empty(client: Any) -> None:
    client.force_login(donor_with("new@example.org"))
    page = client.get(MY_GIFTS).content.decode()
    assert "No gifts yet" in page


def test_the_donor_page_reads_in_a_fixed_number_of_queries(
    client: Any, network: Any, finance: Any, django_assert_max_num_queries: Any
) -> None:
    ada = donor_with("ada@example.org")
    for index in range(3):
        fund = make_fund(network, slug=f"f-{index}")
        for _gift in range(4):
            give(fund, finance, "10.00", donor_email="ada@example.org")
    client.force_login(ada)
    with django_assert_max_num_queries(12):
        response = client.get(MY_GIFTS)
    assert len(response.context["gifts"]) == 12
