"""Publishing a rotation plan: who is told what, the private calendar feeds, the printable
rosters, and what participants and supervisors see (the published plan, never the edits)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from icalendar import Calendar
from pypdf import PdfReader

from medexchange.accounts.models import User
from medexchange.common.models import AuditEntry, Notification
from medexchange.scheduling import selectors, services
from medexchange.scheduling.models import CalendarFeed, PlanCell, RotationPlan
from tests import factories
from tests.scheduling.conftest import Program, move, publish, supervisor_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _short_solves(settings: Any) -> None:
    settings.ROTATION_SOLVE_SECONDS = 5


def test_a_first_publication_tells_every_participant_and_supervisor(
    program: Program,
    solved: RotationPlan,
    supervisor: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mail.outbox.clear()
    publication = publish(solved, program.coordinator, django_capture_on_commit_callbacks)
    assert publication.version == 1
    assert publication.notified == 4  # three participants, one supervisor
    recipients = sorted(address for message in mail.outbox for address in message.to)
    expected = sorted([*(a.email for a in program.applicants), supervisor.email])
    assert recipients == expected
    ana = selectors.plan_participants(solved)[0]
    row = solved.published_assignment[str(ana.pk)]
    first_site = next(s for s in selectors.plan_sites(solved) if s.pk == row["0"])
    to_ana = next(m for m in mail.outbox if m.to == [program.applicants[0].email])
    assert "Your rotation in Fictional Lima EM Exchange is published" in to_ana.body
    assert first_site.site.name in to_ana.body
    to_grace = next(m for m in mail.outbox if m.to == [supervisor.email])
    assert "Ana Alvarez" in to_grace.body and "Cy Chen" in to_grace.body
    assert AuditEntry.objects.filter(action="rotation_plan.published").count() == 1
    assert solved.published_assignment == selectors.working_assignment(solved)


def test_a_change_after_publication_tells_only_those_affected_with_the_difference(
    program: Program,
    solved: RotationPlan,
    supervisor: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    publish(solved, program.coordinator, django_capture_on_commit_callbacks)
    bo = selectors.plan_participants(solved)[1]
    old, new = move(solved, program.coordinator, bo, 1)
    # Supervisors of another institution's site never hear of it.
    mail.outbox.clear()
    Notification.objects.all().delete()
    publication = publish(solved, program.coordinator, django_capture_on_commit_callbacks)
    assert publication.version == 2
    assert publication.changes == [
        {"participant": bo.pk, "period": 1, "from": old.pk, "to": new.pk}
    ]
    told = sorted(address for message in mail.outbox for address in message.to)
    assert told == sorted([program.applicants[1].email, supervisor.email])
    to_bo = next(m for m in mail.outbox if m.to == [program.applicants[1].email])
    assert "Your rotation in Fictional Lima EM Exchange changed" in to_bo.body
    assert "week 2" in to_bo.body
    assert f"{old.site.name} → {new.site.name}" in to_bo.body
    to_grace = next(m for m in mail.outbox if m.to == [supervisor.email])
    assert "Bo Baptiste now comes in week 2" in to_grace.body
    assert "Bo Baptiste no longer comes in week 2" in to_grace.body
    assert not Notification.objects.filter(user=program.applicants[0]).exists()
    # Publishing again with nothing changed tells nobody.
    mail.outbox.clear()
    assert publish(solved, program.coordinator, django_capture_on_commit_callbacks) is None
    assert mail.outbox == []


def test_participants_see_the_published_plan_not_the_coordinators_edits(
    client: Any, program: Program, solved: RotationPlan, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(program.applicants[1])
    assert client.get(solved.get_absolute_url()).status_code == 404  # not published yet
    publish(solved, program.coordinator, django_capture_on_commit_callbacks)
    bo = selectors.plan_participants(solved)[1]
    old, new = move(solved, program.coordinator, bo, 0)
    page = client.get(solved.get_absolute_url()).content.decode()
    cell = page.split(f'id="cell-{bo.pk}-0"', 1)[1].split("</td>", 1)[0]
    assert old.short_name in cell and new.short_name not in cell
    api = client.get(f"/api/v1/rotation-plans/{solved.pk}/").json()
    week_one = next(c for c in api["cells"] if c["period"] == 0)
    assert (week_one["participant"], week_one["site"]) == (bo.pk, old.pk)
    client.force_login(program.coordinator)
    page = client.get(solved.get_absolute_url()).content.decode()
    assert "1 assignment changed since the last publication." in page
    assert "Publish the changes" in page


def test_publishing_needs_an_assignment_and_an_editor(
    client: Any, program: Program, plan: RotationPlan
) -> None:
    client.force_login(program.coordinator)
    url = reverse("scheduling:publish", kwargs={"pk": plan.pk})
    response = client.post(url)
    assert response.status_code == 400
    assert "The plan places nobody yet" in response.content.decode()
    for person in (program.reviewer, program.other_coordinator, program.applicants[0]):
        client.force_login(person)
        assert client.post(url).status_code == 404
    assert not RotationPlan.objects.filter(pk=plan.pk, published_at__isnull=False).exists()


def _feed(client: Any, plan: RotationPlan, **owner: Any) -> CalendarFeed:
    url = reverse("scheduling:feed-issue", kwargs={"pk": plan.pk})
    response = client.post(url, {key: value.pk for key, value in owner.items()})
    assert response.status_code == 302, response.content
    return CalendarFeed.objects.active().get(plan=plan, **owner)


def test_a_participants_calendar_feed_holds_their_published_stays(
    client: Any, program: Program, solved: RotationPlan, django_capture_on_commit_callbacks: Any
) -> None:
    publish(solved, program.coordinator, django_capture_on_commit_callbacks)
    ana = selectors.plan_participants(solved)[0]
    client.force_login(program.applicants[0])
    feed = _feed(client, solved, participant=ana)
    page = client.get(solved.get_absolute_url()).content.decode()
    assert feed.get_absolute_url() in page
    client.logout()  # calendar apps fetch without signing in
    response = client.get(feed.get_absolute_url())
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    sites = {s.pk: s for s in selectors.plan_sites(solved)}
    stays = selectors.stays(solved, solved.published_assignment[str(ana.pk)], sites)
    assert [(e.decoded("dtstart"), str(e["summary"])) for e in events] == [
        (stay.start, f"Rotation at {stay.site.site.name}") for stay in stays
    ]
    import datetime as dt

    assert [e.decoded("dtend") for e in events] == [s.end + dt.timedelta(days=1) for s in stays]
    assert len({str(e["uid"]) for e in events}) == len(events)
    # Edits after publication do not leak into the feed until they are published.
    move(solved, program.coordinator, ana, 0)
    again = Calendar.from_ical(client.get(feed.get_absolute_url()).content)
    assert [
        str(e["summary"]) for e in sorted(again.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    ] == [str(e["summary"]) for e in events]


def test_a_revoked_feed_stops_at_once_and_a_new_link_can_be_issued(
    client: Any, program: Program, solved: RotationPlan, django_capture_on_commit_callbacks: Any
) -> None:
    publish(solved, program.coordinator, django_capture_on_commit_callbacks)
    ana = selectors.plan_participants(solved)[0]
    client.force_login(program.applicants[0])
    feed = _feed(client, solved, participant=ana)
    # Another applicant cannot revoke it, nor issue one for Ana.
    client.force_login(program.applicants[1])
    revoke = reverse("scheduling:feed-revoke", kwargs={"pk": feed.pk})
    assert client.post(revoke).status_code == 404
    issue = reverse("scheduling:feed-issue", kwargs={"pk": solved.pk})
    assert client.post(issue, {"participant": ana.pk}).status_code == 404
    client.force_login(program.applicants[0])
    assert client.post(revoke).status_code == 302
    assert client.get(feed.get_absolute_url()).status_code == 404
    fresh = _feed(client, solved, participant=ana)
    assert fresh.token != feed.token
    assert client.get(fresh.get_absolute_url()).status_code == 200
    assert (
        client.get(reverse("scheduling:feed", kwargs={"token": "no-such-token"})).status_code == 404
    )
    assert AuditEntry.objects.filter(action="calendar_feed.revoked").count() == 1


def test_a_sites_feed_and_roster_list_who_comes_with_contact_and_language(
    client: Any,
    program: Program,
    solved: RotationPlan,
    supervisor: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(supervisor)
    roster_url = reverse("scheduling:roster", kwargs={"pk": solved.pk})
    assert client.get(roster_url).status_code == 404  # nothing to see before publication
    publish(solved, program.coordinator, django_capture_on_commit_callbacks)
    assert client.get(solved.get_absolute_url())["Location"] == roster_url
    page = client.get(roster_url).content.decode()
    for applicant in program.applicants:
        assert applicant.email in page
    site = selectors.plan_sites(solved)[0]
    feed = _feed(client, solved, site=site)
    calendar = Calendar.from_ical(client.get(feed.get_absolute_url()).content)
    here = {pk for pk, row in solved.published_assignment.items() if site.pk in row.values()}
    names = {str(e["summary"]).split(" at ")[0] for e in calendar.walk("VEVENT")}
    people = {str(p.pk): p.name for p in selectors.plan_participants(solved)}
    assert names == {people[pk] for pk in here}
    pdf = client.get(
        reverse("scheduling:site-roster-pdf", kwargs={"pk": solved.pk, "site_id": site.pk})
    )
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert f"Roster of {site.site.name}" in text
    for pk in here:
        assert people[pk] in text


def test_a_participants_printable_rotation(
    client: Any, program: Program, solved: RotationPlan, django_capture_on_commit_callbacks: Any
) -> None:
    publish(solved, program.coordinator, django_capture_on_commit_callbacks)
    ana = selectors.plan_participants(solved)[0]
    url = reverse(
        "scheduling:participant-roster-pdf", kwargs={"pk": solved.pk, "participant_id": ana.pk}
    )
    client.force_login(program.applicants[0])
    response = client.get(url)
    assert response.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Rotation of Ana Alvarez" in text
    sites = {s.pk: s for s in selectors.plan_sites(solved)}
    for stay in selectors.stays(solved, solved.published_assignment[str(ana.pk)], sites):
        assert stay.site.site.name in text
    client.force_login(program.applicants[1])
    assert client.get(url).status_code == 404


def test_a_supervisor_of_another_institution_sees_nothing(
    client: Any, program: Program, solved: RotationPlan, django_capture_on_commit_callbacks: Any
) -> None:
    publish(solved, program.coordinator, django_capture_on_commit_callbacks)
    stranger = supervisor_of(factories.InstitutionFactory(), full_name="Other Supervisor")
    client.force_login(stranger)
    site = selectors.plan_sites(solved)[0]
    ana = selectors.plan_participants(solved)[0]
    for url in (
        solved.get_absolute_url(),
        reverse("scheduling:roster", kwargs={"pk": solved.pk}),
        reverse("scheduling:site-roster-pdf", kwargs={"pk": solved.pk, "site_id": site.pk}),
        reverse("scheduling:absence-new", kwargs={"pk": solved.pk, "participant_id": ana.pk}),
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(
        reverse("scheduling:feed-issue", kwargs={"pk": solved.pk}), {"site": site.pk}
    )
    assert response.status_code == 404
    assert not CalendarFeed.objects.exists()


def test_cells_of_an_unpublished_edit_are_counted_as_changes(
    program: Program, solved: RotationPlan, django_capture_on_commit_callbacks: Any
) -> None:
    publish(solved, program.coordinator, django_capture_on_commit_callbacks)
    cy = selectors.plan_participants(solved)[2]
    PlanCell.objects.filter(participant=cy, period=3).delete()
    changes = selectors.unpublished_changes(solved)
    assert [(c.participant, c.period, c.after) for c in changes] == [(cy.pk, 3, None)]


def test_everyone_finds_their_plans_on_the_rotations_page(
    client: Any,
    program: Program,
    solved: RotationPlan,
    supervisor: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    url = reverse("scheduling:plans")
    client.force_login(program.applicants[0])
    assert "No rotation plan yet" in client.get(url).content.decode()  # not published
    publish(solved, program.coordinator, django_capture_on_commit_callbacks)
    for person, role, link in (
        (program.coordinator, "You plan it", solved.get_absolute_url()),
        (program.applicants[0], "You take part", solved.get_absolute_url()),
        (
            supervisor,
            "You supervise a site",
            reverse("scheduling:roster", kwargs={"pk": solved.pk}),
        ),
    ):
        client.force_login(person)
        page = client.get(url).content.decode()
        assert role in page and f'href="{link}"' in page, person
    for person in (program.other_coordinator, program.outsider):
        client.force_login(person)
        assert "No rotation plan yet" in client.get(url).content.decode()


def test_a_participant_who_withdrew_is_gone_from_the_next_publication(
    program: Program,
    solved: RotationPlan,
    supervisor: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from medexchange.applications import services as application_services

    publish(solved, program.coordinator, django_capture_on_commit_callbacks)
    cy = selectors.plan_participants(solved)[2]
    weeks = len(solved.published_assignment[str(cy.pk)])
    application_services.application_withdraw(
        application=program.applications[2], actor=program.applicants[2], reason="Visa refused"
    )
    services.rotation_plan_refresh(plan=solved, actor=program.coordinator)
    mail.outbox.clear()
    publication = publish(solved, program.coordinator, django_capture_on_commit_callbacks)
    assert str(cy.pk) not in solved.published_assignment
    assert len(publication.changes) == weeks
    assert [m.to for m in mail.outbox] == [[supervisor.email]]  # nobody else changed
    assert "a participant who left the plan no longer comes in week 1" in mail.outbox[0].body


def test_each_person_is_told_and_sent_a_calendar_in_their_own_language(
    client: Any, program: Program, solved: RotationPlan, django_capture_on_commit_callbacks: Any
) -> None:
    camila = program.applicants[0]
    camila.preferred_language = "es"
    camila.save(update_fields=["preferred_language"])
    mail.outbox.clear()
    publish(solved, program.coordinator, django_capture_on_commit_callbacks)
    to_camila = next(m for m in mail.outbox if m.to == [camila.email])
    assert "Se ha publicado su rotación en Fictional Lima EM Exchange" in to_camila.body
    to_bo = next(m for m in mail.outbox if m.to == [program.applicants[1].email])
    assert "Your rotation in Fictional Lima EM Exchange is published" in to_bo.body
    ana = selectors.plan_participants(solved)[0]
    client.force_login(camila)
    feed = services.calendar_feed_issue(plan=solved, actor=camila, participant=ana)
    client.logout()
    calendar = Calendar.from_ical(client.get(feed.get_absolute_url()).content)
    assert all(str(e["summary"]).startswith("Rotación en ") for e in calendar.walk("VEVENT"))
