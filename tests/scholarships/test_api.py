"""/api/v1/scholarship-calls/: reads of visible calls, and the staff actions."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from medexchange.scholarships import services
from tests.scholarships.conftest import Scene, ask, call_values


def test_signed_in_callers_read_published_calls_only(client: Any, scene: Scene) -> None:
    draft = services.call_create(
        network=scene.network, actor=scene.staff, values=call_values(title="Draft"), funds=[]
    )
    url = reverse("api-v1:scholarship-call-list")
    assert client.get(url).status_code == 403
    client.force_login(scene.applicants[0])
    data = client.get(url).json()
    assert [item["id"] for item in data["results"]] == [scene.call.pk]
    item = data["results"][0]
    assert item["amount_min"] == "100.00"
    assert item["network"] == scene.network.slug
    assert client.get(reverse("api-v1:scholarship-call-detail", args=[draft.pk])).status_code == 404
    client.force_login(scene.staff)
    ids = {item["id"] for item in client.get(url).json()["results"]}
    assert ids == {scene.call.pk, draft.pk}


def test_staff_move_the_call_propose_and_commit(client: Any, scene: Scene) -> None:
    request = ask(scene.call, scene.application(), "900.00")
    client.force_login(scene.staff)
    base = "api-v1:scholarship-call"
    response = client.post(
        reverse(f"{base}-status", args=[scene.call.pk]),
        {"to": "reviewing"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "reviewing"
    services.request_review_save(request=request, actor=scene.staff, score=7)
    response = client.post(reverse(f"{base}-propose", args=[scene.call.pk]))
    assert response.status_code == 201
    run = response.json()
    assert run["engine_status"] == "optimal"
    assert run["awards"] == [{"request": request.pk, "amount": "900.00"}]
    response = client.post(reverse(f"{base}-commit", args=[scene.call.pk]))
    assert response.status_code == 200
    assert response.json() == {"committed": [request.pk], "refused": [], "not_awarded": 0}


def test_refusals_are_4xx_with_a_reason(client: Any, scene: Scene) -> None:
    base = "api-v1:scholarship-call"
    client.force_login(scene.staff)
    response = client.post(reverse(f"{base}-commit", args=[scene.call.pk]))
    assert response.status_code == 400
    assert "once the call is being reviewed" in str(response.json())
    response = client.post(
        reverse(f"{base}-status", args=[scene.call.pk]),
        {"to": "sideways"},
        content_type="application/json",
    )
    assert response.status_code == 400
    client.force_login(scene.reviewer)
    assert client.post(reverse(f"{base}-propose", args=[scene.call.pk])).status_code == 403
    client.force_login(scene.applicants[0])
    assert client.post(reverse(f"{base}-commit", args=[scene.call.pk])).status_code == 403
