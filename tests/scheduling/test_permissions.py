"""Every rotation-plan URL as anonymous, the host's coordinator and reviewer, another
institution's coordinator, an applicant outside the plan and a participant; and the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from medexchange.scheduling import selectors, services
from medexchange.scheduling.models import PlanSolve, RotationPlan
from tests.scheduling.conftest import Program

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


@pytest.fixture
def solve(
    program: Program, plan: RotationPlan, django_capture_on_commit_callbacks: Any
) -> PlanSolve:
    with django_capture_on_commit_callbacks(execute=False):
        return services.plan_solve_start(plan=plan, actor=program.coordinator)


def _pages(plan: RotationPlan, solve: PlanSolve) -> list[str]:
    person = selectors.plan_participants(plan)[0]
    site = selectors.plan_sites(plan)[0]
    return [
        reverse("scheduling:plan", kwargs={"pk": plan.pk}),
        reverse("scheduling:settings", kwargs={"pk": plan.pk}),
        reverse("scheduling:site", kwargs={"pk": plan.pk, "site_id": site.pk}),
        reverse("scheduling:participant", kwargs={"pk": plan.pk, "participant_id": person.pk}),
        reverse(
            "scheduling:cell", kwargs={"pk": plan.pk, "participant_id": person.pk, "period": 0}
        ),
        reverse("scheduling:solve", kwargs={"pk": solve.pk}),
        reverse("scheduling:solve-progress", kwargs={"pk": solve.pk}),
    ]


def _posts(plan: RotationPlan, solve: PlanSolve) -> list[str]:
    return [
        reverse("scheduling:solve-start", kwargs={"pk": plan.pk}),
        reverse("scheduling:refresh", kwargs={"pk": plan.pk}),
        reverse("scheduling:pair-add", kwargs={"pk": plan.pk}),
        reverse("scheduling:pair-remove", kwargs={"pk": plan.pk}),
        reverse("scheduling:solve-cancel", kwargs={"pk": solve.pk}),
    ]


def test_anonymous_visitors_are_sent_to_sign_in(
    client: Any, program: Program, plan: RotationPlan, solve: PlanSolve
) -> None:
    urls = [
        *_pages(plan, solve),
        reverse("scheduling:session-plan", kwargs={"session_id": program.session.pk}),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(LOGIN), url
    for url in _posts(plan, solve):
        response = client.post(url)
        assert response.status_code == 302 and LOGIN in response["Location"], url


@pytest.mark.parametrize("who", ["other_coordinator", "outsider", "participant"])
def test_people_outside_the_host_get_404_everywhere(
    client: Any, program: Program, plan: RotationPlan, solve: PlanSolve, who: str
) -> None:
    user = program.applicants[0] if who == "participant" else getattr(program, who)
    client.force_login(user)
    session_page = reverse("scheduling:session-plan", kwargs={"session_id": program.session.pk})
    for url in [*_pages(plan, solve), session_page]:
        assert client.get(url).status_code == 404, url
    for url in _posts(plan, solve):
        assert client.post(url).status_code == 404, url
    assert not RotationPlan.objects.visible_to(user).exists()


def test_the_hosts_reviewer_reads_but_does_not_edit(
    client: Any, program: Program, plan: RotationPlan, solve: PlanSolve
) -> None:
    client.force_login(program.reviewer)
    plan_page, *edit_pages = _pages(plan, solve)[:5]
    page = client.get(plan_page)
    assert page.status_code == 200
    assert "Solve the plan" not in page.content.decode()
    for url in edit_pages:
        assert client.get(url).status_code == 404, url
    assert client.get(reverse("scheduling:solve", kwargs={"pk": solve.pk})).status_code == 200
    assert (
        client.post(reverse("scheduling:solve-cancel", kwargs={"pk": solve.pk})).status_code == 404
    )


def test_the_hosts_coordinator_opens_every_page(
    client: Any, program: Program, plan: RotationPlan, solve: PlanSolve
) -> None:
    client.force_login(program.coordinator)
    for url in _pages(plan, solve):
        assert client.get(url).status_code == 200, url
    response = client.get(
        reverse("scheduling:session-plan", kwargs={"session_id": program.session.pk})
    )
    assert response.status_code == 302 and response["Location"] == plan.get_absolute_url()


def test_a_coordinator_opens_a_plan_from_the_session_page(client: Any, program: Program) -> None:
    client.force_login(program.coordinator)
    url = reverse("scheduling:session-plan", kwargs={"session_id": program.session.pk})
    page = client.get(url)
    assert page.status_code == 200
    assert "3 participants hold a seat" in page.content.decode()
    response = client.post(url)
    plan = RotationPlan.objects.get(session=program.session)
    assert response["Location"] == plan.get_absolute_url()


def test_a_participant_sees_only_their_own_row_once_published(
    client: Any, program: Program, plan: RotationPlan
) -> None:
    RotationPlan.objects.filter(pk=plan.pk).update(published_at=timezone.now())
    client.force_login(program.applicants[1])
    page = client.get(plan.get_absolute_url())
    assert page.status_code == 200
    text = page.content.decode()
    assert "Bo Baptiste" in text and "Your rotation" in text
    assert "Ana Alvarez" not in text and "Cy Chen" not in text
    assert "Sites by period" not in text
    settings_url = reverse("scheduling:settings", kwargs={"pk": plan.pk})
    assert client.get(settings_url).status_code == 404
    client.force_login(program.outsider)
    assert client.get(plan.get_absolute_url()).status_code == 404


def test_the_api_shows_plans_under_the_same_visibility(
    client: Any, program: Program, plan: RotationPlan, django_assert_max_num_queries: Any
) -> None:
    api = "/api/v1/rotation-plans/"
    client.force_login(program.coordinator)
    with django_assert_max_num_queries(30):
        body = client.get(api).json()
    assert [row["id"] for row in body["results"]] == [plan.pk]
    row = body["results"][0]
    assert row["rules"]["min_sites"] == plan.min_sites
    assert [p["name"] for p in row["participants"]] == ["Ana Alvarez", "Bo Baptiste", "Cy Chen"]
    assert len(row["sites"]) == 3 and row["sites"][0]["capacity"] == [2, 2, 2, 2]
    assert row["last_solve"] is None

    client.force_login(program.other_coordinator)
    assert client.get(api).json()["results"] == []
    assert client.get(f"{api}{plan.pk}/").status_code == 404
    client.force_login(program.applicants[0])
    assert client.get(f"{api}{plan.pk}/").status_code == 404
    RotationPlan.objects.filter(pk=plan.pk).update(published_at=timezone.now())
    mine = client.get(f"{api}{plan.pk}/").json()
    assert [p["name"] for p in mine["participants"]] == ["Ana Alvarez"]
    assert mine["last_solve"] is None
    client.logout()
    assert client.get(api).status_code in {401, 403}
