"""Applicants ask a call for money from their own application; bad input is refused at
the field with nothing saved."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from medexchange.applications import services as application_services
from medexchange.scholarships.models import ScholarshipCall, ScholarshipRequest
from tests.scholarships.conftest import Scene, ask

GOOD = {
    "need_statement": "My hospital cannot pay the flight or a month's rent in Lima.",
    "amount": "850.00",
    "covers": ["travel", "housing"],
}


def apply_url(scene: Scene, application: Any) -> str:
    return reverse("scholarships:apply", args=[scene.call.pk, application.pk])


def test_the_application_page_shows_the_calls_the_applicant_may_ask(
    client: Any, scene: Scene
) -> None:
    application = scene.application()
    client.force_login(scene.applicants[0])
    page = client.get(application.get_absolute_url()).content.decode()
    assert scene.call.title in page
    assert apply_url(scene, application) in page


def test_an_applicant_asks_from_their_own_application(client: Any, scene: Scene) -> None:
    application = scene.application()
    client.force_login(scene.applicants[0])
    assert client.get(apply_url(scene, application)).status_code == 200
    response = client.post(apply_url(scene, application), GOOD)
    request = ScholarshipRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == request.get_absolute_url()
    assert request.application == application
    assert str(request.amount) == "850.000"
    assert request.covers == ["travel", "housing"]
    assert request.consent_public_name is False
    assert request.status == "submitted"
    page = client.get(request.get_absolute_url()).content.decode()
    assert "My hospital cannot pay the flight" in page


def test_another_applicants_application_is_a_404(client: Any, scene: Scene) -> None:
    theirs = scene.application(1)
    client.force_login(scene.applicants[0])
    assert client.get(apply_url(scene, theirs)).status_code == 404
    assert client.post(apply_url(scene, theirs), GOOD).status_code == 404
    assert not ScholarshipRequest.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "99.99", "between"),
        ("amount", "1500.01", "between"),
        ("amount", "850.005", "at most 2 decimals"),
        ("amount", "-5", "more than zero"),
        ("amount", "", "Enter an amount"),
        ("amount", "lots", "is not an amount"),
        ("need_statement", "   ", "Say why you need the scholarship"),
        ("need_statement", "x" * 1501, "under 1500 characters"),
        ("covers", [], "Choose what you need the money for"),
    ],
)
def test_bad_input_is_refused_at_the_field(
    client: Any, scene: Scene, field: str, value: Any, message: str
) -> None:
    application = scene.application()
    client.force_login(scene.applicants[0])
    response = client.post(apply_url(scene, application), {**GOOD, field: value})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors
    assert message in " ".join(errors[field])
    assert not ScholarshipRequest.objects.exists()


def test_ineligible_applicants_see_why_before_and_are_refused_at_apply(
    client: Any, scene: Scene
) -> None:
    application = scene.application()
    ScholarshipCall.objects.filter(pk=scene.call.pk).update(eligible_training_levels=["physician"])
    client.force_login(scene.applicants[0])
    page = client.get(apply_url(scene, application)).content.decode()
    assert "Open to these training levels: Physician." in page
    assert "Send the request" not in page
    response = client.post(apply_url(scene, application), GOOD)
    assert response.status_code == 400
    assert "Open to these training levels" in " ".join(response.context["form"].non_field_errors())
    assert not ScholarshipRequest.objects.exists()


def test_a_draft_application_cannot_ask(client: Any, scene: Scene) -> None:
    draft = application_services.application_start(
        applicant=scene.applicants[0], session=scene.session, actor=scene.applicants[0]
    )
    client.force_login(scene.applicants[0])
    response = client.post(apply_url(scene, draft), GOOD)
    assert response.status_code == 400
    assert "submitted application" in response.content.decode()


def test_one_request_per_application_until_it_is_withdrawn(client: Any, scene: Scene) -> None:
    application = scene.application()
    first = ask(scene.call, application)
    client.force_login(scene.applicants[0])
    response = client.post(apply_url(scene, application), GOOD)
    assert response.status_code == 400
    assert ScholarshipRequest.objects.count() == 1
    client.post(reverse("scholarships:request-withdraw", args=[first.pk]), {"reason": ""})
    first.refresh_from_db()
    assert first.status == "withdrawn"
    assert client.post(apply_url(scene, application), GOOD).status_code == 302
    assert ScholarshipRequest.objects.count() == 2


def test_my_requests_are_listed_on_the_scholarships_page(client: Any, scene: Scene) -> None:
    mine = ask(scene.call, scene.application(0), "640.00")
    theirs = ask(scene.call, scene.application(1), "720.00")
    client.force_login(scene.applicants[0])
    page = client.get(reverse("scholarships:calls")).content.decode()
    assert mine.get_absolute_url() in page
    assert theirs.get_absolute_url() not in page
    assert scene.call.title in page
