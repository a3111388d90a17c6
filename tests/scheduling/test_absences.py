"""Site supervisors report absences; the platform proposes the smallest repair; the
coordinator accepts (the plan changes, the affected are told on publishing) or not."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from medexchange.common.models import AuditEntry
from medexchange.scheduling import selectors, services
from medexchange.scheduling.choices import AbsenceKind, AbsenceStatus
from medexchange.scheduling.models import AbsenceReport, RotationPlan
from tests.scheduling.conftest import Program, assert_keeps_hard_rules, publish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _short_solves(settings: Any) -> None:
    settings.ROTATION_SOLVE_SECONDS = 5


def report(client: Any, plan: RotationPlan, person: Any, capture: Any, **data: Any) -> Any:
    url = reverse("scheduling:absence-new", kwargs={"pk": plan.pk, "participant_id": person.pk})
    with capture(execute=True):
        return client.post(url, data)


def test_a_supervisor_reports_a_late_arrival_and_the_coordinator_accepts_the_repair(
    client: Any,
    program: Program,
    solved: RotationPlan,
    supervisor: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    publish(solved, program.coordinator, django_capture_on_commit_callbacks)
    ana = selectors.plan_participants(solved)[0]
    arrives = solved.period_start(1) + dt.timedelta(days=2)  # in week 2
    client.force_login(supervisor)
    mail.outbox.clear()
    response = report(
        client,
        solved,
        ana,
        django_capture_on_commit_callbacks,
        kind=AbsenceKind.LATE_ARRIVAL,
        day=arrives.isoformat(),
        note="Her visa came late.",
    )
    assert response.status_code == 302
    absence = AbsenceReport.objects.get()
    assert absence.status == AbsenceStatus.PROPOSED, absence.proposal.error
    assert [m.to for m in mail.outbox] == [[program.coordinator.email]]
    assert "Grace Supervisor reported that Ana Alvarez arrives only on" in mail.outbox[0].body
    # The supervisor sees the proposal but cannot decide.
    page = client.get(absence.get_absolute_url()).content.decode()
    assert "Proposed repair" in page and "Accept the repair" not in page
    accept = reverse("scheduling:absence-decide", kwargs={"pk": absence.pk, "decision": "accept"})
    assert client.post(accept).status_code == 404
    # The coordinator reads what changes and accepts.
    client.force_login(program.coordinator)
    page = client.get(absence.get_absolute_url()).content.decode()
    assert "Accept the repair" in page and "Ana Alvarez" in page
    before = selectors.working_assignment(solved)
    assert client.post(accept).status_code == 302
    absence.refresh_from_db()
    assert absence.status == AbsenceStatus.ACCEPTED
    ana.refresh_from_db()
    assert ana.arrival == arrives
    after = selectors.working_assignment(solved)
    assert "0" not in after[str(ana.pk)]  # not there in week 1 any more
    assert_keeps_hard_rules(solved)
    # The repair changes as few cells as it needs: at least Ana's week 1.
    changes = selectors.assignment_changes(before, after)
    assert (ana.pk, 0) in {(c.participant, c.period) for c in changes}
    assert {"absence.reported", "absence.accepted"} <= set(
        AuditEntry.objects.values_list("action", flat=True)
    )
    # Publishing tells Ana what changed.
    mail.outbox.clear()
    publication = publish(solved, program.coordinator, django_capture_on_commit_callbacks)
    assert publication.version == 2
    assert program.applicants[0].email in {a for m in mail.outbox for a in m.to}


def test_a_no_show_leaves_the_plan_once_accepted(
    client: Any,
    program: Program,
    solved: RotationPlan,
    django_capture_on_commit_callbacks: Any,
) -> None:
    cy = selectors.plan_participants(solved)[2]
    client.force_login(program.coordinator)  # the coordinator may report too, before publishing
    response = report(
        client, solved, cy, django_capture_on_commit_callbacks, kind=AbsenceKind.NO_SHOW
    )
    assert response.status_code == 302
    absence = AbsenceReport.objects.get()
    assert absence.status == AbsenceStatus.PROPOSED
    services.absence_accept(report=absence, actor=program.coordinator)
    cy.refresh_from_db()
    assert cy.excluded
    assert not solved.cells.filter(participant=cy).exists()
    assert cy not in selectors.plan_participants(solved)
    page = client.get(solved.get_absolute_url()).content.decode()
    assert "Not coming (left out of the plan):" in page and "Cy Chen" in page


def test_a_proposal_is_refused_once_the_plan_changed_and_can_be_made_again(
    client: Any,
    program: Program,
    solved: RotationPlan,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ana, bo, _cy = selectors.plan_participants(solved)
    client.force_login(program.coordinator)
    last_day = solved.period_end(2)
    report(
        client,
        solved,
        ana,
        django_capture_on_commit_callbacks,
        kind=AbsenceKind.EARLY_DEPARTURE,
        day=last_day.isoformat(),
    )
    absence = AbsenceReport.objects.get()
    cell = solved.cells.get(participant=bo, period=0)
    other = next(s for s in selectors.plan_sites(solved) if s.pk != cell.site_id)
    services.plan_cell_set(
        plan=solved, actor=program.coordinator, participant=bo, period=0, site=other, pinned=True
    )
    accept = reverse("scheduling:absence-decide", kwargs={"pk": absence.pk, "decision": "accept"})
    response = client.post(accept)
    assert response.status_code == 400
    assert "The plan changed since this repair was proposed" in response.content.decode()
    again = reverse("scheduling:absence-decide", kwargs={"pk": absence.pk, "decision": "repropose"})
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(again).status_code == 302
    absence.refresh_from_db()
    assert absence.status == AbsenceStatus.PROPOSED
    assert client.post(accept).status_code == 302
    ana.refresh_from_db()
    assert ana.departure == last_day
    assert solved.cells.get(participant=bo, period=0).site_id == other.pk  # the pin held
    assert_keeps_hard_rules(solved)


def test_bad_absence_reports_get_field_errors_and_record_nothing(
    client: Any,
    program: Program,
    solved: RotationPlan,
    supervisor: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    publish(solved, program.coordinator, django_capture_on_commit_callbacks)
    ana = selectors.plan_participants(solved)[0]
    client.force_login(supervisor)
    missing = report(
        client, solved, ana, django_capture_on_commit_callbacks, kind=AbsenceKind.LATE_ARRIVAL
    )
    assert missing.status_code == 400 and "Give the date." in missing.content.decode()
    early = report(
        client,
        solved,
        ana,
        django_capture_on_commit_callbacks,
        kind=AbsenceKind.LATE_ARRIVAL,
        day=(ana.arrival - dt.timedelta(days=3)).isoformat(),
    )
    assert early.status_code == 400
    assert "A late arrival is after the planned arrival" in early.content.decode()
    unknown = report(client, solved, ana, django_capture_on_commit_callbacks, kind="abducted")
    assert unknown.status_code == 400
    assert not AbsenceReport.objects.exists()
    # A second open report on the same person waits for the first to be decided.
    assert (
        report(
            client, solved, ana, django_capture_on_commit_callbacks, kind=AbsenceKind.NO_SHOW
        ).status_code
        == 302
    )
    second = report(
        client, solved, ana, django_capture_on_commit_callbacks, kind=AbsenceKind.NO_SHOW
    )
    assert second.status_code == 400
    assert "is already waiting for the coordinator" in second.content.decode()
    assert AbsenceReport.objects.count() == 1


def test_other_people_cannot_report_or_read_absences(
    client: Any,
    program: Program,
    solved: RotationPlan,
    supervisor: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    publish(solved, program.coordinator, django_capture_on_commit_callbacks)
    ana = selectors.plan_participants(solved)[0]
    client.force_login(supervisor)
    report(client, solved, ana, django_capture_on_commit_callbacks, kind=AbsenceKind.NO_SHOW)
    absence = AbsenceReport.objects.get()
    for person in (program.other_coordinator, program.applicants[1], program.outsider):
        client.force_login(person)
        assert client.get(absence.get_absolute_url()).status_code == 404
        assert (
            report(
                client, solved, ana, django_capture_on_commit_callbacks, kind=AbsenceKind.NO_SHOW
            ).status_code
            == 404
        )
        reject = reverse(
            "scheduling:absence-decide", kwargs={"pk": absence.pk, "decision": "reject"}
        )
        assert client.post(reject).status_code == 404
    absence.refresh_from_db()
    assert absence.status == AbsenceStatus.PROPOSED
