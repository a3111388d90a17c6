"""Proposing awards (the exact optimum, not greedy by score), adjusting and re-running,
and committing them, with refusals when a fund ran short meanwhile."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from medexchange.common.models import Notification
from medexchange.funding import services as funding_services
from medexchange.scholarships import services
from medexchange.scholarships.models import Award, ScholarshipRequest
from tests.funding.conftest import give, make_fund
from tests.scholarships.conftest import Scene, ask, available, open_call


@dataclass
class Committee:
    call: Any
    fund: Any
    big: ScholarshipRequest  # scores 9: greedy by score takes it first
    small_a: ScholarshipRequest  # scores 6
    small_b: ScholarshipRequest  # scores 6


def score(request: ScholarshipRequest, *people_and_scores: tuple[Any, int]) -> None:
    for person, value in people_and_scores:
        services.request_review_save(request=request, actor=person, score=value)


@pytest.fixture
def committee(scene: Scene) -> Committee:
    """1,000 USD; one request of 1,000 scored 9, two of 500 scored 6 each.

    Greedy by score funds the 9 (total priority 9); the optimum funds both 6s (12).
    """
    fund = make_fund(scene.network, currency="USD", slug="small", name="Small Fund")
    give(fund, scene.staff, "1000.00")
    call = open_call(scene.network, scene.staff, [fund], reviewers=[scene.reviewer])
    big = ask(call, scene.application(0), "1000.00")
    small_a = ask(call, scene.application(1), "500.00")
    small_b = ask(call, scene.application(2), "500.00")
    services.call_move(call=call, to="reviewing", actor=scene.staff)
    score(big, (scene.staff, 9), (scene.reviewer, 9))
    score(small_a, (scene.staff, 6), (scene.reviewer, 6))
    score(small_b, (scene.staff, 7), (scene.reviewer, 5))
    return Committee(call=call, fund=fund, big=big, small_a=small_a, small_b=small_b)


def propose(client: Any, call: Any) -> Any:
    return client.post(reverse("scholarships:propose", args=[call.pk]))


def proposed_requests(call: Any) -> set[int]:
    return set(
        Award.objects.filter(request__call=call, status="proposed").values_list(
            "request_id", flat=True
        )
    )


def test_the_proposal_is_the_exact_optimum_not_greedy_by_score(
    client: Any, scene: Scene, committee: Committee
) -> None:
    client.force_login(scene.staff)
    response = propose(client, committee.call)
    assert response.status_code == 302
    run = committee.call.runs.get()
    assert run.status == "done"
    assert run.is_optimal
    assert run.objective == Decimal("12.00")
    assert proposed_requests(committee.call) == {committee.small_a.pk, committee.small_b.pk}
    award = Award.objects.get(request=committee.small_a)
    assert award.shares == [{"fund": committee.fund.pk, "amount": "500.00"}]
    # The reasoning, in words, per applicant.
    page = client.get(reverse("scholarships:allocation", args=[committee.call.pk]))
    text = page.content.decode()
    assert "The engine proved this the best possible allocation." in text
    assert "Funding it instead would lower the total priority by 3.00." in text
    assert "It would take the place of 2 funded requests." in text
    assert "Funded: 500.00" in text
    # Nothing is reserved until the awards are committed.
    assert available(committee.fund) == Decimal("1000.00")


def test_staff_adjust_then_propose_again(client: Any, scene: Scene, committee: Committee) -> None:
    client.force_login(scene.staff)
    propose(client, committee.call)
    adjust = reverse("scholarships:adjust", args=[committee.big.pk])
    response = client.post(
        adjust, {f"r{committee.big.pk}-pin": "", f"r{committee.big.pk}-amount": "500.00"}
    )
    assert response.status_code == 302
    no = reverse("scholarships:adjust", args=[committee.small_b.pk])
    client.post(
        no, {f"r{committee.small_b.pk}-pin": "no_award", f"r{committee.small_b.pk}-amount": ""}
    )
    page = client.get(reverse("scholarships:allocation", args=[committee.call.pk])).content.decode()
    assert "propose again before committing" in page
    propose(client, committee.call)
    assert proposed_requests(committee.call) == {committee.big.pk, committee.small_a.pk}
    assert Award.objects.get(request=committee.big).amount == Decimal("500.00")
    page = client.get(reverse("scholarships:allocation", args=[committee.call.pk])).content.decode()
    assert "Not awarded: the committee pinned it to no award." in page
    assert committee.call.runs.count() == 2


def test_an_adjusted_amount_must_stay_in_the_range(
    client: Any, scene: Scene, committee: Committee
) -> None:
    client.force_login(scene.staff)
    key = f"r{committee.big.pk}"
    for amount, message in (("2000.00", "between"), ("12.345", "at most 2 decimals")):
        response = client.post(
            reverse("scholarships:adjust", args=[committee.big.pk]),
            {f"{key}-pin": "", f"{key}-amount": amount},
        )
        assert response.status_code == 400
        assert message in " ".join(response.context["bad_form"].errors["amount"])
    committee.big.refresh_from_db()
    assert committee.big.adjusted_amount is None


def test_pins_that_cannot_hold_together_are_explained(
    client: Any, scene: Scene, committee: Committee
) -> None:
    client.force_login(scene.staff)
    for request in (committee.big, committee.small_a):
        client.post(
            reverse("scholarships:adjust", args=[request.pk]),
            {f"r{request.pk}-pin": "award", f"r{request.pk}-amount": ""},
        )
    propose(client, committee.call)
    assert proposed_requests(committee.call) == set()
    page = client.get(reverse("scholarships:allocation", args=[committee.call.pk])).content.decode()
    assert "pins do not fit together:" in page
    assert "need 1,500.00" in page


def test_commit_reserves_each_award_and_tells_everyone(
    client: Any, scene: Scene, committee: Committee
) -> None:
    client.force_login(scene.staff)
    propose(client, committee.call)
    response = client.post(reverse("scholarships:commit", args=[committee.call.pk]))
    assert response.status_code == 200
    assert "2 awards committed." in response.content.decode()
    assert available(committee.fund) == Decimal("0.00")
    for request in (committee.small_a, committee.small_b):
        request.refresh_from_db()
        assert request.status == "awarded"
        award = request.award
        assert award.status == "committed"
        assert award.committed_by == scene.staff
        assert award.commitments.get().amount == Decimal("500.00")
    committee.big.refresh_from_db()
    assert committee.big.status == "not_awarded"
    committee.call.refresh_from_db()
    assert committee.call.status == "allocated"
    applicant = committee.small_a.application.applicant
    assert Notification.objects.filter(
        user=applicant, message__contains="You were awarded a scholarship of 500.00"
    ).exists()
    assert Notification.objects.filter(
        user=committee.big.application.applicant, message__contains="was not awarded"
    ).exists()


def test_commit_refuses_what_no_longer_fits_and_commits_the_rest(
    client: Any, scene: Scene, committee: Committee
) -> None:
    client.force_login(scene.staff)
    propose(client, committee.call)
    # Meanwhile another commitment took 300 of the fund's 1,000.
    funding_services.commitment_reserve(
        fund=committee.fund, amount=Decimal("300.00"), purpose="Another call", actor=scene.staff
    )
    response = client.post(reverse("scholarships:commit", args=[committee.call.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "1 award committed." in page
    assert "1 award was refused: the money is no longer there." in page
    assert "Small Fund has 200.00" in page
    assert "propose again to share what is left" in page
    statuses = dict(
        Award.objects.filter(request__call=committee.call).values_list("request_id", "status")
    )
    assert sorted(statuses.values()) == ["committed", "proposed"]
    refused = Award.objects.get(request__call=committee.call, status="proposed")
    assert "Small Fund has 200.00" in refused.status_reason
    assert available(committee.fund) == Decimal("200.00")
    # Nobody is told "not awarded" while a refused award could still be re-proposed.
    committee.big.refresh_from_db()
    assert committee.big.status == "under_review"
    assert not Notification.objects.filter(message__contains="was not awarded").exists()
    # Proposing again shares what is left (nothing fits in 200), committing tells the rest.
    propose(client, committee.call)
    assert proposed_requests(committee.call) == set()
    client.post(reverse("scholarships:commit", args=[committee.call.pk]))
    assert Notification.objects.filter(message__contains="was not awarded").count() == 2


def test_commit_needs_the_proposal_to_be_current(
    client: Any, scene: Scene, committee: Committee
) -> None:
    client.force_login(scene.staff)
    propose(client, committee.call)
    services.request_review_save(request=committee.big, actor=scene.reviewer, score=10)
    response = client.post(reverse("scholarships:commit", args=[committee.call.pk]))
    assert response.status_code == 302
    assert not Award.objects.filter(status="committed").exists()
    page = client.get(response["Location"]).content.decode()
    assert "changed since the last proposal" in page


def test_only_finance_staff_commit_and_only_managers_open_the_allocation(
    client: Any, scene: Scene, committee: Committee
) -> None:
    services.allocation_propose(call=committee.call, actor=scene.staff)
    allocation = reverse("scholarships:allocation", args=[committee.call.pk])
    commit = reverse("scholarships:commit", args=[committee.call.pk])
    for person in (scene.reviewer, scene.applicants[0], scene.other_coordinator):
        client.force_login(person)
        assert client.get(allocation).status_code == 404
        assert client.post(commit).status_code == 404
        assert (
            client.post(reverse("scholarships:propose", args=[committee.call.pk])).status_code
            == 404
        )
    assert not Award.objects.filter(status="committed").exists()


def test_unreviewed_requests_take_no_part_unless_pinned(scene: Scene, committee: Committee) -> None:
    late = ScholarshipRequest.objects.create(
        call=committee.call,
        application=scene.application(3),
        need_statement="Late.",
        amount=Decimal("100.00"),
        covers=["travel"],
        status="under_review",
    )
    run = services.allocation_propose(call=committee.call, actor=scene.staff)
    assert run.excluded == {str(late.pk): {"reason_code": "not_reviewed", "params": {}}}
    services.scholarship_request_adjust(request=late, actor=scene.staff, pin="award")
    run = services.allocation_propose(call=committee.call, actor=scene.staff)
    assert late.pk in proposed_requests(committee.call)
    assert str(late.pk) not in run.excluded
