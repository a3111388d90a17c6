"""Who may open the finance pages and move money: the network's finance staff only.

Anonymous visitors are sent to sign in; applicants, coordinators (of any institution)
and another network's staff get 404 — "not yours" and "does not exist" are the same.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import reverse

from medexchange.funding.models import Donation, ExchangeRate, Fund
from tests import factories
from tests.funding.conftest import give

pytestmark = pytest.mark.django_db
HEADER = "date,amount,currency,reference,payer_name,payer_email,memo\n"


def urls(fund: Any) -> list[str]:
    network = {"network": fund.network.slug}
    both = {**network, "fund": fund.slug}
    return [
        reverse("funding:funds", kwargs=network),
        reverse("funding:fund-create", kwargs=network),
        reverse("funding:bank-import", kwargs=network),
        reverse("funding:rates", kwargs=network),
        reverse("funding:manage", kwargs=both),
        reverse("funding:fund-edit", kwargs=both),
        reverse("funding:gift-record", kwargs=both),
    ]


@pytest.fixture
def strangers(member: Any, network: Any, africa_network: Any) -> dict[str, Any]:
    other = factories.InstitutionFactory()
    factories.MembershipFactory(institution=other, network=network)
    return {
        "applicant": factories.UserFactory(),
        "coordinator": factories.coordinator_of(member),
        "other coordinator": factories.coordinator_of(other),
        "another network's staff": factories.staff_of(africa_network),
    }


def test_anonymous_visitors_are_sent_to_sign_in(client: Any, fund: Any) -> None:
    login = resolve_url(settings.LOGIN_URL)
    for url in urls(fund):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(login), url


def test_strangers_get_404_everywhere(client: Any, fund: Any, strangers: dict[str, Any]) -> None:
    for role, user in strangers.items():
        client.force_login(user)
        for url in urls(fund):
            assert client.get(url).status_code == 404, (role, url)


def test_the_networks_staff_and_superusers_open_every_page(
    client: Any, fund: Any, finance: Any
) -> None:
    root = factories.UserFactory(is_superuser=True, is_staff=True)
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(root, generate_totp_secret())
    for user in (finance, root):
        client.force_login(user)
        for url in urls(fund):
            assert client.get(url).status_code == 200, url


def test_a_fund_of_another_network_is_not_found_by_this_networks_staff(
    client: Any, africa_network: Any, finance: Any
) -> None:
    other = Fund.objects.create(network=africa_network, slug="africa", name="A", currency="EUR")
    client.force_login(finance)
    for url in urls(other):
        assert client.get(url).status_code == 404, url


def test_only_finance_staff_record_gifts_import_or_record_rates(
    client: Any, fund: Any, finance: Any, strangers: dict[str, Any]
) -> None:
    give(fund, finance, "10")
    gift = {
        "method": "cheque",
        "amount": "250.00",
        "currency": "EUR",
        "received_on": "2026-01-15",
        "donor_name": "X",
    }
    rate = {"from_currency": "USD", "to_currency": "EUR", "rate": "0.9", "on": "2026-01-02"}
    gift_url, import_url, rates_url = (
        reverse("funding:gift-record", kwargs={"network": "global", "fund": fund.slug}),
        reverse("funding:bank-import", kwargs={"network": "global"}),
        reverse("funding:rates", kwargs={"network": "global"}),
    )
    for role, user in strangers.items():
        client.force_login(user)
        assert client.post(gift_url, gift).status_code == 404, role
        assert client.post(rates_url, rate).status_code == 404, role
        assert client.post(import_url, {"action": "commit"}).status_code == 404, role
    assert Donation.objects.count() == 1
    assert not ExchangeRate.objects.exists()
