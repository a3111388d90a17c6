"""Solves end to end in-process, pins across re-solves, hand edits and their feedback,
explanations of plans that cannot exist, cancellation, the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from medexchange.common.models import AuditEntry
from medexchange.engines.scheduling import ENGINE_VERSION
from medexchange.scheduling import selectors, services
from medexchange.scheduling.choices import PlanStatus, SolveStage, SolveStatus
from medexchange.scheduling.models import PlanCell, PlanSolve, RotationPlan
from tests.scheduling.conftest import Program, assert_keeps_hard_rules, solve_now

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _short_solves(settings: Any) -> None:
    settings.ROTATION_SOLVE_SECONDS = 5


def test_a_solve_end_to_end_stores_input_result_and_cells_that_keep_every_rule(
    program: Program, plan: RotationPlan, django_capture_on_commit_callbacks: Any
) -> None:
    sites = selectors.plan_sites(plan)
    ana = selectors.plan_participants(plan)[0]
    services.plan_site_update(
        plan_site=sites[0],
        actor=program.coordinator,
        short_name="CE",
        capacity=[2],
        min_staff=1,
        closed=[],
        languages=["en"],
    )
    services.plan_participant_update(
        participant=ana,
        actor=program.coordinator,
        arrival=ana.arrival,
        departure=ana.departure,
        languages=["en"],
        preferences=[sites[2].pk, sites[1].pk],
        must_visit=[sites[2].pk],
        must_not_visit=[sites[0].pk],
    )
    services.rotation_plan_update(
        plan=plan,
        actor=program.coordinator,
        unit="week",
        start_date=plan.start_date,
        min_sites=2,
        min_stay=2,
        max_stay=2,
        balance=True,
    )
    solve = solve_now(plan, program.coordinator, django_capture_on_commit_callbacks)

    assert solve.status == SolveStatus.DONE, solve.error
    assert solve.stage == SolveStage.FINISHED and solve.progress == 100
    assert solve.outcome in {"optimal", "feasible"}
    assert solve.engine_version == ENGINE_VERSION
    assert solve.input_json["horizon"]["count"] == 4
    assert {p["id"] for p in solve.input_json["participants"]} == {
        f"p{p.pk}" for p in selectors.plan_participants(plan)
    }
    assert solve.result_json["status"] == solve.outcome
    assert solve.objective is not None and solve.bound is not None and solve.gap is not None
    assert solve.baseline["preferences"] >= 0
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SOLVED
    assert plan.cells.count() == 3 * 4
    assert_keeps_hard_rules(plan)
    assert selectors.plan_feedback(plan).problems == []
    assert list(
        AuditEntry.objects.filter(action__startswith="rotation_plan.solve")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["rotation_plan.solve_queued", "rotation_plan.solve_started", "rotation_plan.solved"]
    assert AuditEntry.objects.filter(action="rotation_plan.solved", target_id=str(solve.pk))


def test_pinned_cells_survive_a_re_solve(
    client: Any, program: Program, plan: RotationPlan, django_capture_on_commit_callbacks: Any
) -> None:
    first = solve_now(plan, program.coordinator, django_capture_on_commit_callbacks)
    assert first.status == SolveStatus.DONE
    bo = selectors.plan_participants(plan)[1]
    current = plan.cells.get(participant=bo, period=0)
    other = next(s for s in selectors.plan_sites(plan) if s.pk != current.site_id)
    # The coordinator pins Bo somewhere else in week 1, through the cell form.
    client.force_login(program.coordinator)
    url = reverse("scheduling:cell", kwargs={"pk": plan.pk, "participant_id": bo.pk, "period": 0})
    response = client.post(url, {"site": other.pk, "pinned": "on"})
    assert response.status_code == 302
    cell = plan.cells.get(participant=bo, period=0)
    assert (cell.site_id, cell.pinned) == (other.pk, True)

    second = solve_now(plan, program.coordinator, django_capture_on_commit_callbacks)
    assert second.status == SolveStatus.DONE and second.outcome in {"optimal", "feasible"}
    assert second.input_json["pinned"] == {f"p{bo.pk}": {"W1": f"s{other.pk}"}}
    assert second.input_json["previous"][f"p{bo.pk}"]["W1"] == f"s{other.pk}"
    cell = PlanCell.objects.get(participant=bo, period=0)
    assert (cell.site_id, cell.pinned) == (other.pk, True)
    assert_keeps_hard_rules(plan)
    page = client.get(plan.get_absolute_url()).content.decode()
    assert "pinned" in page


def test_a_hand_edit_is_kept_and_the_page_says_which_rule_it_breaks(
    client: Any, program: Program, plan: RotationPlan, django_capture_on_commit_callbacks: Any
) -> None:
    solve_now(plan, program.coordinator, django_capture_on_commit_callbacks)
    ana, bo, cy = selectors.plan_participants(plan)
    sites = selectors.plan_sites(plan)
    # Everyone to the first site in week 1: more than its two places. (The solver may
    # already have put one of them there: only real changes are audited.)
    moved = 3 - plan.cells.filter(period=0, site=sites[0]).count()
    client.force_login(program.coordinator)
    for person in (ana, bo, cy):
        url = reverse(
            "scheduling:cell", kwargs={"pk": plan.pk, "participant_id": person.pk, "period": 0}
        )
        response = client.post(url, {"site": sites[0].pk}, follow=True)
        assert response.status_code == 200
    assert plan.cells.filter(period=0, site=sites[0]).count() == 3  # kept
    page = response.content.decode()
    assert "Saved. The plan now breaks" in page
    assert f"{sites[0].short_name} has 3 participants in week 1, more than its 2 places." in page
    assert "over capacity" in page
    # A cell emptied by hand: the participant has no site then.
    url = reverse("scheduling:cell", kwargs={"pk": plan.pk, "participant_id": cy.pk, "period": 3})
    page = client.post(url, {"site": ""}, follow=True).content.decode()
    assert "Cy Chen has no site in week 4." in page
    changes = AuditEntry.objects.filter(action="rotation_plan.cell_changed").count()
    assert changes == moved + 1


def test_a_cell_outside_the_stay_cannot_be_pinned(
    client: Any, program: Program, plan: RotationPlan
) -> None:
    ana = selectors.plan_participants(plan)[0]
    services.plan_participant_update(
        participant=ana,
        actor=program.coordinator,
        arrival=plan.start_date,
        departure=plan.period_end(1),
        languages=[],
        preferences=[],
        must_visit=[],
        must_not_visit=[],
    )
    client.force_login(program.coordinator)
    url = reverse("scheduling:cell", kwargs={"pk": plan.pk, "participant_id": ana.pk, "period": 3})
    site = selectors.plan_sites(plan)[0]
    response = client.post(url, {"site": site.pk, "pinned": "on"})
    assert response.status_code == 400
    assert "only a cell of their stay can be pinned" in response.context["form"].errors["pinned"][0]
    bad = reverse("scheduling:cell", kwargs={"pk": plan.pk, "participant_id": ana.pk, "period": 9})
    assert client.get(bad).status_code == 404


def test_a_plan_that_cannot_exist_is_explained_in_words(
    client: Any, program: Program, plan: RotationPlan, django_capture_on_commit_callbacks: Any
) -> None:
    sites = selectors.plan_sites(plan)
    for site in sites:  # three participants, two places, one site closed
        services.plan_site_update(
            plan_site=site,
            actor=program.coordinator,
            short_name=site.short_name,
            capacity=[1],
            min_staff=0,
            closed=[0, 1, 2, 3] if site == sites[2] else [],
            languages=[],
        )
    solve = solve_now(plan, program.coordinator, django_capture_on_commit_callbacks)
    assert solve.status == SolveStatus.DONE
    assert solve.outcome == "infeasible"
    assert solve.conflicts and solve.conflicts[0]["rules"]
    plan.refresh_from_db()
    assert plan.status == PlanStatus.FAILED
    assert not plan.cells.exists()
    client.force_login(program.coordinator)
    page = client.get(plan.get_absolute_url()).content.decode()
    assert "Why no plan exists" in page
    sentences = selectors.conflict_sentences(solve.input_json, solve.conflicts)
    assert sentences
    assert all(sentence in page for sentence in sentences)
    assert any("takes at most 1 participant(s) per period" in s for s in sentences)
    # The engine's own English is never shown: its "from W1 to W4" becomes weeks.
    engine_messages = [m for c in solve.conflicts for m in c["messages"]]
    assert not any(m in page for m in engine_messages if "W1" in m)
    assert AuditEntry.objects.filter(action="rotation_plan.no_plan").exists()


def test_a_queued_solve_is_cancelled_at_once(
    client: Any, program: Program, plan: RotationPlan, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        solve = services.plan_solve_start(plan=plan, actor=program.coordinator)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SOLVING
    client.force_login(program.coordinator)
    # A second solve must wait for the first.
    response = client.post(reverse("scheduling:solve-start", kwargs={"pk": plan.pk}))
    assert response.status_code == 400
    assert "already under way" in response.content.decode()
    response = client.post(reverse("scheduling:solve-cancel", kwargs={"pk": solve.pk}))
    assert response.status_code == 302
    solve.refresh_from_db()
    assert solve.status == SolveStatus.CANCELLED
    assert services.plan_solve_execute(solve_id=solve.pk).status == SolveStatus.CANCELLED  # type: ignore[union-attr]
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT and not plan.cells.exists()
    assert AuditEntry.objects.filter(
        action="rotation_plan.solve_cancelled", target_id=str(solve.pk), actor=program.coordinator
    ).exists()


def test_a_running_solve_stops_at_its_next_stage(
    program: Program, plan: RotationPlan, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        solve = services.plan_solve_start(plan=plan, actor=program.coordinator)
    PlanSolve.objects.filter(pk=solve.pk).update(status=SolveStatus.RUNNING)
    solve.refresh_from_db()
    services.plan_solve_cancel(solve=solve, actor=program.coordinator)
    PlanSolve.objects.filter(pk=solve.pk).update(status=SolveStatus.QUEUED)  # as the worker sees it
    done = services.plan_solve_execute(solve_id=solve.pk)
    assert done is not None and done.status == SolveStatus.CANCELLED
    assert not plan.cells.exists()


def test_the_solve_page_polls_while_pending_and_offers_the_files_after(
    client: Any, program: Program, plan: RotationPlan, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        solve = services.plan_solve_start(plan=plan, actor=program.coordinator)
    client.force_login(program.coordinator)
    page = client.get(solve.get_absolute_url()).content.decode()
    assert 'hx-trigger="every 1s"' in page
    progress = reverse("scheduling:solve-progress", kwargs={"pk": solve.pk})
    assert client.get(progress).status_code == 200
    services.plan_solve_execute(solve_id=solve.pk)
    response = client.get(progress, headers={"HX-Request": "true"})
    assert response.headers.get("HX-Refresh") == "true"
    page = client.get(solve.get_absolute_url()).content.decode()
    assert "every 1s" not in page and "Objective / bound" in page
    assert "A spreadsheet" in page
    download = client.get(reverse("scheduling:solve-result", kwargs={"pk": solve.pk}))
    assert download.status_code == 200 and download.json()["status"] in {"optimal", "feasible"}
