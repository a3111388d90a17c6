"""Calls with smaller awards: applicants may say the least that would still let them go,
and the allocation may give less than asked so the money reaches more people."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from medexchange.scholarships import services
from medexchange.scholarships.models import Award, ScholarshipRequest
from tests.funding.conftest import give, make_fund
from tests.scholarships.conftest import Scene, ask, open_call
from tests.scholarships.test_calls import create_url, form_data
from tests.scholarships.test_requests import GOOD

pytestmark = pytest.mark.django_db


def score(request: ScholarshipRequest, scene: Scene, value: int) -> None:
    for person in (scene.staff, scene.reviewer):
        services.request_review_save(request=request, actor=person, score=value)


def two_requests_for_one_purse(scene: Scene, *, partial: bool) -> tuple[Any, Any, Any]:
    """1,000 USD; two requests of 600 that say 400 still helps, scored 9 and 8.

    Whole awards only: one of them (600 + 600 does not fit). Smaller awards: both."""
    fund = make_fund(scene.network, currency="USD", slug=f"purse-{partial}", name="Purse")
    give(fund, scene.staff, "1000.00")
    call = open_call(
        scene.network, scene.staff, [fund], reviewers=[scene.reviewer], partial_awards=partial
    )
    first = ask(call, scene.application(0), "600.00", least_amount="400.00")
    second = ask(call, scene.application(1), "600.00", least_amount="400.00")
    services.call_move(call=call, to="reviewing", actor=scene.staff)
    score(first, scene, 9)
    score(second, scene, 8)
    return call, first, second


def awarded(call: Any) -> dict[int, Decimal]:
    return dict(
        Award.objects.filter(request__call=call, status="proposed").values_list(
            "request_id", "amount"
        )
    )


def test_smaller_awards_let_the_money_reach_both_applicants(client: Any, scene: Scene) -> None:
    call, first, second = two_requests_for_one_purse(scene, partial=True)
    client.force_login(scene.staff)

    assert client.post(reverse("scholarships:propose", args=[call.pk])).status_code == 302

    amounts = awarded(call)
    assert set(amounts) == {first.pk, second.pk}
    assert sum(amounts.values()) <= Decimal("1000.00")
    assert all(Decimal("400.00") <= amount <= Decimal("600.00") for amount in amounts.values())
    assert min(amounts.values()) < Decimal("600.00")  # at least one is smaller than asked
    page = client.get(reverse("scholarships:allocation", args=[call.pk])).content.decode()
    assert "of the 600.00" in page and "still helps" in page  # the reasoning of a reduced award
    assert "may get less than it asks" in page


def test_the_same_requests_in_a_call_of_whole_awards_fund_only_one(
    client: Any, scene: Scene
) -> None:
    call, first, _second = two_requests_for_one_purse(scene, partial=False)
    client.force_login(scene.staff)

    client.post(reverse("scholarships:propose", args=[call.pk]))

    assert awarded(call) == {first.pk: Decimal("600.00")}
    first.refresh_from_db()
    assert first.least_amount is None  # not asked, so not kept, in a call of whole awards


def test_an_amount_the_committee_sets_by_hand_is_given_whole(scene: Scene) -> None:
    call, first, second = two_requests_for_one_purse(scene, partial=True)
    # 700 set by hand: 400 of the first and 700 do not fit in 1,000.
    services.scholarship_request_adjust(request=second, actor=scene.staff, pin="", amount="700.00")

    services.allocation_propose(call=call, actor=scene.staff)

    assert awarded(call) == {first.pk: Decimal("600.00")}


def test_the_apply_form_asks_the_least_only_in_calls_with_smaller_awards(
    client: Any, scene: Scene
) -> None:
    application = scene.application()
    client.force_login(scene.applicants[0])
    whole = client.get(reverse("scholarships:apply", args=[scene.call.pk, application.pk]))
    assert 'name="least_amount"' not in whole.content.decode()

    scene.call.partial_awards = True
    scene.call.save()
    url = reverse("scholarships:apply", args=[scene.call.pk, application.pk])
    assert 'name="least_amount"' in client.get(url).content.decode()
    response = client.post(url, {**GOOD, "least_amount": "500.00"})

    assert response.status_code == 302
    request = ScholarshipRequest.objects.get()
    assert request.least_amount == Decimal("500.00")
    page = client.get(request.get_absolute_url()).content.decode()
    assert "at least 500.00" in page


@pytest.mark.parametrize(
    ("least", "message"),
    [
        ("900.00", "cannot be more than you ask for"),  # GOOD asks 850.00
        ("99.99", "between"),  # the call's smallest amount is 100.00
        ("400.005", "at most 2 decimals"),
        ("-1", "more than zero"),
        ("some", "is not an amount"),
    ],
)
def test_a_least_amount_that_makes_no_sense_is_refused_at_the_field(
    client: Any, scene: Scene, least: str, message: str
) -> None:
    scene.call.partial_awards = True
    scene.call.save()
    application = scene.application()
    client.force_login(scene.applicants[0])

    response = client.post(
        reverse("scholarships:apply", args=[scene.call.pk, application.pk]),
        {**GOOD, "least_amount": least},
    )

    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["least_amount"])
    assert not ScholarshipRequest.objects.exists()


def test_staff_make_a_call_with_smaller_awards_and_it_stays_so_once_open(
    client: Any, scene: Scene
) -> None:
    client.force_login(scene.staff)
    client.post(create_url(scene), form_data(scene, partial_awards="on"))
    call = scene.network.scholarship_calls.get(title="Housing help for residents")
    assert call.partial_awards is True
    client.post(reverse("scholarships:call-status", args=[call.pk]), {"to": "open"})
    assert "Smaller awards" in client.get(call.get_absolute_url()).content.decode()

    with pytest.raises(Exception, match="An open call's rules cannot change"):
        services.call_update(
            call=call,
            actor=scene.staff,
            values={
                **{name: getattr(call, name) for name in services.CALL_FIELDS},
                "partial_awards": False,
            },
            funds=list(call.funds.all()),
            reviewers=list(call.reviewers.all()),
        )
    call.refresh_from_db()
    assert call.partial_awards is True
    api = client.get(reverse("api-v1:scholarship-call-detail", args=[call.pk])).json()
    assert api["partial_awards"] is True
