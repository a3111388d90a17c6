"""Every scholarship page as the applicant, another applicant, another institution's
coordinator, a named reviewer and the network's staff: "not yours" is a 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from medexchange.scholarships import services
from tests import factories
from tests.scholarships.conftest import Scene, ask, call_values, committed

OWNER, OTHER_APPLICANT, OTHER_COORDINATOR, REVIEWER, STAFF = (
    "owner",
    "other_applicant",
    "other_coordinator",
    "reviewer",
    "staff",
)


@pytest.fixture
def objects(scene: Scene) -> dict[str, Any]:
    application = scene.application(0)
    request = ask(scene.call, application, "600.00")
    award = committed(request, scene.staff, (scene.fund, "600.00"))
    draft = services.call_create(
        network=scene.network,
        actor=scene.staff,
        values=call_values(title="Draft call"),
        funds=[scene.fund],
    )
    run_call = scene.call
    services.call_move(call=run_call, to="reviewing", actor=scene.staff)
    run = services.allocation_propose(call=run_call, actor=scene.staff)
    people = {
        OWNER: scene.applicants[0],
        OTHER_APPLICANT: scene.applicants[1],
        OTHER_COORDINATOR: scene.other_coordinator,
        REVIEWER: scene.reviewer,
        STAFF: scene.staff,
    }
    return {
        "people": people,
        "application": application,
        "request": request,
        "award": award,
        "draft": draft,
        "run": run,
    }


# URL name, kwargs builder, and who gets 200 (everybody else signed in: 404).
PAGES: list[tuple[str, Any, set[str]]] = [
    (
        "scholarships:call",
        lambda s, o: {"pk": s.call.pk},
        {OWNER, OTHER_APPLICANT, OTHER_COORDINATOR, REVIEWER, STAFF},
    ),
    ("scholarships:call", lambda s, o: {"pk": o["draft"].pk}, {STAFF}),
    ("scholarships:call-edit", lambda s, o: {"pk": o["draft"].pk}, {STAFF}),
    ("scholarships:call-create", lambda s, o: {"slug": s.network.slug}, {STAFF}),
    ("scholarships:requests", lambda s, o: {"pk": s.call.pk}, {REVIEWER, STAFF}),
    ("scholarships:allocation", lambda s, o: {"pk": s.call.pk}, {STAFF}),
    ("scholarships:run-data", lambda s, o: {"pk": o["run"].pk, "kind": "input"}, {STAFF}),
    ("scholarships:request", lambda s, o: {"pk": o["request"].pk}, {OWNER, REVIEWER, STAFF}),
    ("scholarships:request-withdraw", lambda s, o: {"pk": o["request"].pk}, {OWNER}),
    ("scholarships:award", lambda s, o: {"pk": o["award"].pk}, {OWNER, REVIEWER, STAFF}),
    (
        "scholarships:apply",
        lambda s, o: {"pk": s.call.pk, "application_id": o["application"].pk},
        {OWNER},
    ),
]
# POST-only: who is not refused with a 404 (the others may still get a 400 or a redirect).
ACTIONS: list[tuple[str, Any, set[str]]] = [
    ("scholarships:call-status", lambda s, o: {"pk": o["draft"].pk}, {STAFF}),
    ("scholarships:propose", lambda s, o: {"pk": s.call.pk}, {STAFF}),
    ("scholarships:commit", lambda s, o: {"pk": s.call.pk}, {STAFF}),
    ("scholarships:review", lambda s, o: {"pk": o["request"].pk}, {REVIEWER, STAFF}),
    ("scholarships:adjust", lambda s, o: {"pk": o["request"].pk}, {STAFF}),
    ("scholarships:disbursement", lambda s, o: {"pk": o["award"].pk}, {STAFF}),
    ("scholarships:award-cancel", lambda s, o: {"pk": o["award"].pk}, {STAFF}),
]


@pytest.mark.parametrize(("name", "kwargs", "allowed"), PAGES, ids=[row[0] for row in PAGES])
def test_pages(
    client: Any, scene: Scene, objects: dict[str, Any], name: str, kwargs: Any, allowed: set[str]
) -> None:
    url = reverse(name, kwargs=kwargs(scene, objects))
    assert client.get(url).status_code == 302  # anonymous: sign in first
    for role, person in objects["people"].items():
        client.force_login(person)
        expected = 200 if role in allowed else 404
        assert client.get(url).status_code == expected, (role, url)


@pytest.mark.parametrize(("name", "kwargs", "allowed"), ACTIONS, ids=[row[0] for row in ACTIONS])
def test_actions(
    client: Any, scene: Scene, objects: dict[str, Any], name: str, kwargs: Any, allowed: set[str]
) -> None:
    url = reverse(name, kwargs=kwargs(scene, objects))
    for role, person in objects["people"].items():
        if role in allowed:
            continue
        client.force_login(person)
        assert client.post(url, {}).status_code == 404, (role, url)


def test_a_host_coordinator_is_not_a_reviewer_of_the_call(
    client: Any, scene: Scene, objects: dict[str, Any]
) -> None:
    coordinator = factories.coordinator_of(scene.host)
    client.force_login(coordinator)
    assert client.get(objects["request"].get_absolute_url()).status_code == 404
    assert client.get(objects["award"].get_absolute_url()).status_code == 404


def test_the_staff_of_another_network_see_nothing_of_this_one(
    client: Any, scene: Scene, objects: dict[str, Any], africa_network: Any
) -> None:
    stranger = factories.staff_of(africa_network)
    client.force_login(stranger)
    for url in (
        reverse("scholarships:allocation", args=[scene.call.pk]),
        objects["request"].get_absolute_url(),
        objects["award"].get_absolute_url(),
        objects["draft"].get_absolute_url(),
    ):
        assert client.get(url).status_code == 404
    assert client.post(reverse("scholarships:commit", args=[scene.call.pk])).status_code == 404
