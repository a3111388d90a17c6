"""The public fund pages and the funds API: what donors see, derived from the ledger, and
what they never see (a recipient's identity, a donor's amount or e-mail address)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone

from medexchange.funding import pages, reports, services
from medexchange.funding.models import Fund
from medexchange.funding.reports import add_months, period_start
from medexchange.funding.selectors import fund_totals
from tests import factories
from tests.funding.conftest import give, make_fund

MONTH = "month"


def fund_url(fund: Fund) -> str:
    return reverse("funding:fund", kwargs={"network": fund.network.slug, "fund": fund.slug})


def impact_url(fund: Fund) -> str:
    return reverse("funding:impact", kwargs={"network": fund.network.slug, "fund": fund.slug})


def months_ago(count: int, day: int = 10) -> dt.date:
    """A day ``count`` months before this one (today at the latest: never the future)."""
    today = timezone.localdate()
    first = add_months(period_start(today, MONTH), -count)
    return min(first.replace(day=min(day, 28)), today)


def paid_out(fund: Fund, actor: Any, amount: str, *, paid: str | None = None) -> Any:
    """A commitment of ``amount`` with ``paid`` of it paid out today."""
    commitment = services.commitment_reserve(
        fund=fund, amount=Decimal(amount), purpose="A resident's flight", actor=actor
    )
    if paid:
        payment = services.disbursement_plan(
            commitment=commitment, amount=Decimal(paid), actor=actor
        )
        services.disbursement_pay(disbursement=payment, actor=actor)
    return commitment


# --------------------------------------------------------------------------- the list


def test_the_list_shows_the_networks_public_funds_with_what_they_raised(
    client: Any, network: Any, finance: Any
) -> None:
    open_fund = make_fund(network, slug="em-residents", name="EM Residents Fund", target="5000")
    give(open_fund, finance, "1200.00")
    make_fund(network, slug="staff-only", name="Staff Only Fund", is_public=False)
    response = client.get(reverse("funding:list", kwargs={"network": network.slug}))
    assert response.status_code == 200
    body = response.content.decode()
    assert "EM Residents Fund" in body
    assert "1,200.00\xa0EUR" in body
    assert 'value="24"' in body  # 1,200 of 5,000
    assert "Staff Only Fund" not in body


def test_the_list_of_a_network_without_funds_says_so(client: Any, network: Any) -> None:
    response = client.get(reverse("funding:list", kwargs={"network": network.slug}))
    assert response.status_code == 200
    assert "has no fund open to gifts yet" in response.content.decode()


def test_an_unknown_network_has_no_list(client: Any, db: Any) -> None:
    assert client.get(reverse("funding:list", kwargs={"network": "nowhere"})).status_code == 404


# --------------------------------------------------------------------------- the fund page


def test_the_fund_page_shows_its_money_derived_from_the_ledger(
    client: Any, network: Any, finance: Any
) -> None:
    fund = make_fund(
        network,
        slug="em-residents",
        name="EM Residents Fund",
        description="Flights for residents.",
        restriction="Residents from countries where EM is young.",
        target=Decimal("10000"),
    )
    gift = give(fund, finance, "3000.00", received_on=months_ago(2))
    give(fund, finance, "2000.00", received_on=months_ago(1))
    services.donation_refund(donation=gift, amount=Decimal("500.00"), actor=finance, reason="Asked")
    paid_out(fund, finance, "1500.00", paid="1000.00")
    response = client.get(fund_url(fund))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Flights for residents." in body
    assert "Residents from countries where EM is young." in body
    # raised 5,000 - refunded 500; committed 1,500 - paid 1,000; held 4,500 - 1,000.
    assert "4,500.00\xa0EUR</strong> raised (after refunds)" in body
    assert "500.00\xa0EUR</strong> promised to scholarships" in body
    assert "1,000.00\xa0EUR</strong> paid to participants" in body
    assert "3,000.00\xa0EUR</strong> available for new scholarships" in body
    assert 'id="target-progress" max="100" value="45"' in body


def test_the_fund_page_links_to_the_donation_page(client: Any, network: Any) -> None:
    fund = make_fund(network, slug="em-residents")
    body = client.get(fund_url(fund)).content.decode()
    donate = reverse("funding:donate", kwargs={"network": network.slug, "fund": fund.slug})
    assert f'href="{donate}"' in body


def test_a_closed_fund_has_no_donate_button(client: Any, network: Any, finance: Any) -> None:
    fund = make_fund(network, slug="closed", is_active=False)
    client.force_login(finance)  # closed funds are the staff's to see
    body = client.get(fund_url(fund)).content.decode()
    assert "This fund no longer takes gifts." in body
    assert "/donate/" not in body


@pytest.mark.parametrize("who", ["anonymous", "applicant", "coordinator", "other_staff"])
def test_a_fund_that_is_not_public_is_a_404_to_all_but_its_networks_staff(
    client: Any, network: Any, africa_network: Any, member: Any, who: str
) -> None:
    fund = make_fund(network, slug="staff-only", is_public=False)
    people = {
        "applicant": lambda: factories.UserFactory(),
        "coordinator": lambda: factories.coordinator_of(member),
        "other_staff": lambda: factories.staff_of(africa_network),
    }
    if who in people:
        client.force_login(people[who]())
    assert client.get(fund_url(fund)).status_code == 404
    assert client.get(impact_url(fund)).status_code == 404


def test_the_networks_staff_see_a_fund_that_is_not_public(
    client: Any, network: Any, finance: Any
) -> None:
    fund = make_fund(network, slug="staff-only", is_public=False)
    client.force_login(finance)
    response = client.get(fund_url(fund))
    assert response.status_code == 200
    assert "This fund is not public" in response.content.decode()


def test_a_fund_of_another_network_is_not_found_under_this_one(
    client: Any, network: Any, africa_network: Any
) -> None:
    fund = make_fund(africa_network, slug="africa-fund")
    url = reverse("funding:fund", kwargs={"network": network.slug, "fund": fund.slug})
    assert client.get(url).status_code == 404


def test_supporters_are_named_only_when_they_agreed_and_never_with_amounts(
    client: Any, network: Any, finance: Any
) -> None:
    fund = make_fund(network, slug="em-residents")
    give(fund, finance, "123.45", donor_name="Ada Lovelace", donor_email="ada@example.org")
    give(
        fund,
        finance,
        "777.00",
        donor_name="Secret Giver",
        donor_email="secret@example.org",
        is_anonymous=True,
    )
    body = client.get(fund_url(fund)).content.decode()
    assert "Ada Lovelace" in body
    assert "Anonymous" in body
    assert "Secret Giver" not in body
    assert "ada@example.org" not in body
    assert "secret@example.org" not in body
    assert "123.45" not in body  # amounts are not next to names…
    assert "777.00" not in body  # …and an anonymous gift's amount is nowhere alone either


def test_the_chart_and_its_table_show_money_in_and_out_per_month(
    client: Any, network: Any, finance: Any
) -> None:
    fund = make_fund(network, slug="em-residents")
    give(fund, finance, "300.00", received_on=months_ago(3))
    give(fund, finance, "200.00", received_on=months_ago(3, day=20))
    paid_out(fund, finance, "150.00", paid="150.00")
    response = client.get(fund_url(fund))
    body = response.content.decode()
    assert '<svg viewBox="0 0 640 260"' in body
    flows = {flow.month: flow for flow in response.context["flows"]}
    assert len(flows) == 4  # three months ago up to this month
    gifts_month = period_start(months_ago(3), MONTH)
    assert flows[gifts_month].money_in == Decimal("500.00")
    this_month = period_start(timezone.localdate(), MONTH)
    assert flows[this_month].money_out == Decimal("150.00")
    assert ">Money in and out per month, in EUR</caption>" in body
    assert body.count("<rect ") == 8  # two bars for each of the four months


def test_a_fund_without_money_says_the_chart_comes_with_the_first_gift(
    client: Any, network: Any
) -> None:
    fund = make_fund(network, slug="new-fund")
    body = client.get(fund_url(fund)).content.decode()
    assert "the chart appears with the first gift" in body
    assert "<svg" not in body
    assert "Nobody has given yet: be the first." in body


def test_new_money_shows_at_once_although_figures_are_cached(
    client: Any, network: Any, finance: Any
) -> None:
    fund = make_fund(network, slug="em-residents")
    give(fund, finance, "100.00")
    assert "100.00\xa0EUR</strong> raised" in client.get(fund_url(fund)).content.decode()
    give(fund, finance, "50.00")
    assert "150.00\xa0EUR</strong> raised" in client.get(fund_url(fund)).content.decode()
    paid_out(fund, finance, "40.00")
    body = client.get(fund_url(fund)).content.decode()
    assert "40.00\xa0EUR</strong> promised to scholarships" in body


def _page_queries(client: Any, fund: Fund) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(fund_url(fund)).status_code == 200
    return len(captured)


def test_the_fund_page_makes_as_many_queries_for_200_gifts_as_for_10(
    client: Any, network: Any, finance: Any
) -> None:
    small = make_fund(network, slug="small")
    large = make_fund(network, slug="large")
    for index in range(10):
        give(small, finance, "10.00", received_on=months_ago(index % 12))
    for index in range(200):
        give(
            large, finance, "10.00", received_on=months_ago(index % 24), is_anonymous=index % 3 == 0
        )
    paid_out(small, finance, "20.00", paid="10.00")
    paid_out(large, finance, "20.00", paid="10.00")
    cold = (_page_queries(client, small), _page_queries(client, large))
    warm = (_page_queries(client, small), _page_queries(client, large))
    assert cold[0] == cold[1]
    assert warm[0] == warm[1]
    assert warm[0] == cold[0] - 1  # the ledger's grouped query: its sums are cached
    give(large, finance, "10.00")
    assert _page_queries(client, large) == cold[1]  # only the new entry is read


def test_cached_figures_are_always_those_of_the_whole_ledger(
    client: Any, network: Any, finance: Any
) -> None:
    """Folded bit by bit as entries come, the figures equal a fold of the whole ledger
    and the selectors' totals, for every kind of movement."""
    fund = make_fund(network, slug="em-residents")
    gift = give(fund, finance, "900.00", received_on=months_ago(4))
    reports.fund_figures(fund)
    services.donation_refund(donation=gift, amount=Decimal("100.00"), actor=finance, reason="x")
    reports.fund_figures(fund)
    commitment = paid_out(fund, finance, "500.00", paid="200.00")
    reports.fund_figures(fund)
    payment = commitment.disbursements.get()
    services.disbursement_return(disbursement=payment, actor=finance, reason="Flight cancelled")
    services.commitment_release(
        commitment=commitment, amount=Decimal("50.00"), actor=finance, reason="x"
    )
    services.fund_adjust(fund=fund, amount=Decimal("-5.00"), actor=finance, reason="Bank fee")
    give(fund, finance, "30.00", received_on=months_ago(1))
    folded = reports.fund_figures(fund)
    cache.clear()
    whole = reports.fund_figures(fund)
    assert folded.sums == whole.sums
    assert folded.totals == whole.totals == fund_totals(fund)
    assert folded.flows() == whole.flows()


# --------------------------------------------------------------------------- addresses


def test_fixed_words_win_over_fund_short_names(network: Any) -> None:
    assert resolve(f"/funding/{network.slug}/manage/").url_name == "funds"
    assert resolve(f"/funding/{network.slug}/reports/").url_name == "reports"
    assert resolve("/funding/my-gifts/").url_name == "my-gifts"
    assert resolve(f"/funding/{network.slug}/some-fund/").url_name == "fund"


@pytest.mark.parametrize("word", ["manage", "reports"])
def test_a_fund_cannot_take_the_short_name_of_a_fixed_page(
    network: Any, finance: Any, word: str
) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.fund_create(
            network=network,
            actor=finance,
            values={"slug": word, "name": "Clash", "currency": "EUR", "purpose": "general"},
        )
    assert "slug" in error.value.message_dict


def test_donate_url_is_none_for_a_closed_fund(network: Any) -> None:
    fund = make_fund(network, slug="closed", is_active=False)
    assert pages.donate_url(fund) is None


# --------------------------------------------------------------------------- the API


def test_the_api_lists_public_funds_with_their_totals(
    client: Any, network: Any, finance: Any
) -> None:
    fund = make_fund(network, slug="em-residents", name="EM Residents Fund", target="9000")
    give(fund, finance, "1000.00")
    paid_out(fund, finance, "300.00", paid="100.00")
    make_fund(network, slug="staff-only", is_public=False)
    response = client.get(reverse("api-v1:fund-list"))
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["slug"] for row in rows] == ["em-residents"]
    assert rows[0]["network"] == network.slug
    assert rows[0]["target"] == "9000.00"
    assert rows[0]["totals"] == {
        "raised": "1000.00",
        "refunded": "0.00",
        "disbursed": "100.00",
        "held": "900.00",
        "committed": "200.00",
        "available": "700.00",
    }
    assert rows[0]["url"].endswith(fund_url(fund))
    detail = client.get(reverse("api-v1:fund-detail", kwargs={"pk": fund.pk}))
    assert detail.json()["totals"]["available"] == "700.00"


def test_the_api_shows_a_fund_that_is_not_public_to_its_networks_staff_only(
    client: Any, network: Any, finance: Any
) -> None:
    hidden = make_fund(network, slug="staff-only", is_public=False)
    url = reverse("api-v1:fund-detail", kwargs={"pk": hidden.pk})
    assert client.get(url).status_code == 404
    client.force_login(factories.UserFactory())
    assert client.get(url).status_code == 404
    client.force_login(finance)
    assert client.get(url).status_code == 200


def test_the_api_filters_by_network(client: Any, network: Any, africa_network: Any) -> None:
    make_fund(network, slug="global-fund")
    make_fund(africa_network, slug="africa-fund")
    response = client.get(reverse("api-v1:fund-list"), {"network": africa_network.slug})
    assert [row["slug"] for row in response.json()["results"]] == ["africa-fund"]


def test_the_api_computes_the_totals_of_a_page_in_one_query(
    client: Any, network: Any, finance: Any
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("api-v1:fund-list")).status_code == 200
        return len(captured)

    first = make_fund(network, slug="first")
    give(first, finance, "10.00")
    one = queries()
    for index in range(4):
        give(make_fund(network, slug=f"more-{index}"), finance, "10.00")
    assert queries() == one
