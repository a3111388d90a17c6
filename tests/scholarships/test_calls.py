"""Network staff make, open, review and close calls; bad input is shown at the field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from medexchange.common.models import AuditEntry
from medexchange.scholarships.models import ScholarshipCall
from tests.funding.conftest import make_fund
from tests.scholarships.conftest import Scene


def form_data(scene: Scene, **overrides: Any) -> dict[str, Any]:
    now = timezone.localtime()
    data: dict[str, Any] = {
        "title": "Housing help for residents",
        "description": "A month's rent in the host city.",
        "currency": "USD",
        "funds": [scene.fund.pk],
        "amount_min": "200",
        "amount_max": "1,200.00",
        "covers": ["housing"],
        "eligible_em_statuses": ["not_recognised", "emerging"],
        "eligible_training_levels": ["resident"],
        "opens_at": now.strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
        "reviewers": scene.reviewer.email,
    }
    data.update(overrides)
    return data


def create_url(scene: Scene) -> str:
    return reverse("scholarships:call-create", args=[scene.network.slug])


def test_staff_make_a_call_then_open_it(client: Any, scene: Scene) -> None:
    client.force_login(scene.staff)
    assert client.get(create_url(scene)).status_code == 200
    response = client.post(create_url(scene), form_data(scene))
    call = ScholarshipCall.objects.get(title="Housing help for residents")
    assert response.status_code == 302
    assert response["Location"] == call.get_absolute_url()
    assert call.status == "draft"
    assert str(call.amount_max) == "1200.000"
    assert call.eligible_em_statuses == ["not_recognised", "emerging"]
    assert list(call.reviewers.all()) == [scene.reviewer]
    assert list(call.funds.all()) == [scene.fund]
    client.post(reverse("scholarships:call-status", args=[call.pk]), {"to": "open"})
    call.refresh_from_db()
    assert call.status == "open"
    assert AuditEntry.objects.filter(
        action="scholarship_call.opened", target_id=str(call.pk)
    ).exists()
    page = client.get(call.get_absolute_url()).content.decode()
    assert "Not recognised, Emerging" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "required"),
        ({"amount_min": "0"}, "amount_min", "more than zero"),
        ({"amount_min": "10.555"}, "amount_min", "at most 2 decimals"),
        ({"amount_max": "100"}, "amount_max", "cannot be below the smallest"),
        ({"covers": []}, "covers", "Choose what the scholarships pay for"),
        ({"closes_at": "2020-01-01T00:00"}, "closes_at", "must close after it opens"),
        ({"reviewers": "nobody@example.org"}, "reviewers", "nobody@example.org"),
        ({"currency": "EUR"}, "funds", "a call's funds hold its currency"),
        ({"currency": "XAU"}, "currency", "Select a valid choice"),
    ],
)
def test_bad_input_is_shown_at_the_field(
    client: Any, scene: Scene, overrides: dict[str, Any], field: str, message: str
) -> None:
    client.force_login(scene.staff)
    before = ScholarshipCall.objects.count()
    response = client.post(create_url(scene), form_data(scene, **overrides))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert ScholarshipCall.objects.count() == before


def test_a_call_without_a_fund_cannot_open(client: Any, scene: Scene) -> None:
    client.force_login(scene.staff)
    client.post(create_url(scene), form_data(scene, funds=[]))
    call = ScholarshipCall.objects.get(title="Housing help for residents")
    response = client.post(
        reverse("scholarships:call-status", args=[call.pk]), {"to": "open"}, follow=True
    )
    assert "Choose at least one fund before opening the call." in response.content.decode()
    call.refresh_from_db()
    assert call.status == "draft"


def test_a_fund_of_another_network_is_not_offered(
    client: Any, scene: Scene, africa_network: Any
) -> None:
    theirs = make_fund(africa_network, currency="USD", slug="theirs", name="Their Fund")
    client.force_login(scene.staff)
    response = client.post(create_url(scene), form_data(scene, funds=[theirs.pk]))
    assert response.status_code == 400
    assert "funds" in response.context["form"].errors


def test_an_open_calls_rules_stay_as_applicants_read_them(client: Any, scene: Scene) -> None:
    client.force_login(scene.staff)
    edit = reverse("scholarships:call-edit", args=[scene.call.pk])
    assert client.get(edit).status_code == 200
    data = form_data(scene, title="New title", amount_max="9000.00")
    response = client.post(edit, data)
    assert response.status_code == 302
    scene.call.refresh_from_db()
    assert scene.call.title == "New title"
    assert str(scene.call.amount_max) == "1500.000"  # the disabled field kept its value


def test_starting_the_review_moves_submitted_requests_under_review(scene: Scene) -> None:
    from medexchange.scholarships import services
    from tests.scholarships.conftest import ask

    request = ask(scene.call, scene.application())
    services.call_move(call=scene.call, to="reviewing", actor=scene.staff)
    request.refresh_from_db()
    assert request.status == "under_review"
    assert scene.call.status == "reviewing"


def test_only_the_networks_staff_make_calls(client: Any, scene: Scene) -> None:
    for person in (scene.reviewer, scene.applicants[0], scene.other_coordinator):
        client.force_login(person)
        assert client.get(create_url(scene)).status_code == 404
        assert client.post(create_url(scene), form_data(scene)).status_code == 404
    assert not ScholarshipCall.objects.filter(title="Housing help for residents").exists()
