"""The host's inbound dashboard, the network staff's counts, and the links to them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from medexchange.applications import services
from tests.applications.conftest import Exchange
from tests.applications.review_helpers import submit, use_private_root

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_files(settings: Any, tmp_path: Path) -> None:
    use_private_root(settings, tmp_path)


def inbound_url(exchange: Exchange) -> str:
    return reverse("applications:inbound", kwargs={"slug": exchange.host.slug})


STAFF_URL = reverse("applications:network-dashboard")


def test_the_inbound_dashboard_counts_each_session(client: Any, exchange: Exchange) -> None:
    first = submit(exchange)
    second = submit(exchange, exchange.other_applicant)
    services.application_offer(application=first, actor=exchange.reviewer)
    services.application_accept(application=first, actor=exchange.applicant)
    services.application_waitlist(application=second, actor=exchange.reviewer)
    client.force_login(exchange.reviewer)

    response = client.get(inbound_url(exchange))

    [row] = response.context["rows"]
    assert (row.received, row.awaiting, row.offered, row.waitlisted) == (2, 0, 0, 1)
    assert row.seats_taken == 1
    assert row.places_left == 1
    page = response.content.decode()
    assert "1 of 2" in page
    assert reverse("applications:queue", kwargs={"pk": exchange.session.pk}) in page
    assert "overdue" not in page


def test_an_overdue_decision_date_is_flagged(client: Any, exchange: Exchange) -> None:
    submit(exchange)
    exchange.session.decision_date = timezone.localdate() - dt.timedelta(days=2)
    exchange.session.save()
    client.force_login(exchange.host_coordinator)
    response = client.get(inbound_url(exchange))
    assert response.context["rows"][0].overdue
    assert "overdue" in response.content.decode()


def test_the_inbound_dashboard_has_an_empty_state(client: Any, exchange: Exchange) -> None:
    submit(exchange, endorsement=True)  # not in the host's hands yet
    client.force_login(exchange.host_coordinator)
    page = client.get(inbound_url(exchange)).content.decode()
    assert "No application has reached you yet." in page


def test_strangers_get_404_on_the_inbound_dashboard(client: Any, exchange: Exchange) -> None:
    for user in (exchange.other_coordinator, exchange.home_coordinator, exchange.applicant):
        client.force_login(user)
        assert client.get(inbound_url(exchange)).status_code == 404
    client.logout()
    assert client.get(inbound_url(exchange))["Location"].startswith(reverse("account_login"))


def test_network_staff_see_counts_without_names(
    client: Any, exchange: Exchange, staff_user: Any
) -> None:
    application = submit(exchange)
    submit(exchange, exchange.other_applicant)
    services.application_decline(application=application, actor=exchange.reviewer, reason="No.")
    client.force_login(staff_user)

    response = client.get(STAFF_URL)

    assert response.status_code == 200
    states = {state: count for state, _label, count in response.context["states"]}
    assert states["submitted"] == 1
    assert states["declined"] == 1
    assert response.context["total"] == 2
    [host_country] = response.context["by_host_country"]
    assert host_country.total == 2
    [home_country] = response.context["by_home_country"]
    assert (home_country.name, home_country.total, home_country.awaiting) == ("Ghana", 2, 1)
    page = response.content.decode()
    assert "Ama Applicant" not in page
    assert "Other Applicant" not in page


def test_the_staff_dashboard_is_403_for_everyone_else(client: Any, exchange: Exchange) -> None:
    for user in (exchange.host_coordinator, exchange.reviewer, exchange.applicant):
        client.force_login(user)
        assert client.get(STAFF_URL).status_code == 403
    client.logout()
    assert client.get(STAFF_URL)["Location"].startswith(reverse("account_login"))


def test_the_institution_page_links_people_with_a_role(client: Any, exchange: Exchange) -> None:
    host_page = reverse("network:institution", kwargs={"slug": exchange.host.slug})
    home_page = reverse("network:institution", kwargs={"slug": exchange.home.slug})
    inbound = inbound_url(exchange)
    outbound = reverse("applications:outbound", kwargs={"slug": exchange.home.slug})

    client.force_login(exchange.reviewer)
    page = client.get(host_page).content.decode()
    assert inbound in page
    assert "/outbound/" not in page
    client.force_login(exchange.home_coordinator)
    assert outbound in client.get(home_page).content.decode()
    client.force_login(exchange.applicant)
    page = client.get(host_page).content.decode()
    assert inbound not in page


def test_the_hosts_opportunity_list_links_each_session_to_its_queue(
    client: Any, exchange: Exchange
) -> None:
    client.force_login(exchange.host_coordinator)
    page = client.get(
        reverse("catalog:host-opportunities", kwargs={"slug": exchange.host.slug})
    ).content.decode()
    assert reverse("applications:queue", kwargs={"pk": exchange.session.pk}) in page
