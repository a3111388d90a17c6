"""Rotation-plan objects of the security walk's world, made on demand (tests/security).

A plan over institution A's session with site A, one participant (an applicant of its
own, holding a seat) and a done solve.
"""

from __future__ import annotations

from typing import Any

POLICY_PARTICIPANT = "policy-participant@example.org"


def policy_plan(world: Any) -> Any:
    from django.utils import timezone

    from medexchange.applications.models import Application, Placement
    from medexchange.scheduling.models import PlanParticipant, PlanSite, RotationPlan
    from tests import factories

    session = world.session
    plan, created = RotationPlan.objects.get_or_create(
        session=session,
        defaults={"start_date": session.start_date, "period_count": 4},
    )
    if created:
        PlanSite.objects.create(plan=plan, site=world.site_a, short_name="A", capacity=2)
        now = timezone.now()
        applicant = factories.UserFactory(email=POLICY_PARTICIPANT)
        application = Application.objects.create(
            applicant=applicant,
            session=session,
            state="accepted",
            submitted_at=now,
            reached_host_at=now,
            responded_at=now,
        )
        placement = Placement.objects.create(application=application, session=session)
        PlanParticipant.objects.create(
            plan=plan, placement=placement, arrival=session.start_date, departure=session.end_date
        )
    return plan


def policy_participant(world: Any) -> Any:
    return policy_plan(world).participants.get()


def policy_solve(world: Any) -> Any:
    from medexchange.scheduling.models import PlanSolve

    plan = policy_plan(world)
    solve = PlanSolve.objects.filter(plan=plan).first()
    if solve is None:
        solve = PlanSolve.objects.create(
            plan=plan,
            status="done",
            stage="finished",
            progress=100,
            outcome="optimal",
            input_json={"horizon": {"start": "2027-03-01", "count": 1}, "sites": []},
            result_json={"status": "optimal", "assignment": {}},
        )
    return solve


POLICY_FEED_TOKEN = "policy-walk-rotation-feed"


def policy_feed(world: Any) -> Any:
    from medexchange.scheduling.models import CalendarFeed

    plan = policy_plan(world)
    feed, _ = CalendarFeed.objects.get_or_create(
        token=POLICY_FEED_TOKEN, defaults={"plan": plan, "participant": plan.participants.get()}
    )
    return feed


def policy_publication(world: Any) -> Any:
    from medexchange.scheduling.models import PlanPublication

    plan = policy_plan(world)
    publication, _ = PlanPublication.objects.get_or_create(
        plan=plan, version=1, defaults={"assignment": {}}
    )
    return publication


def policy_absence(world: Any) -> Any:
    from medexchange.scheduling.models import AbsenceReport

    plan = policy_plan(world)
    report = AbsenceReport.objects.filter(plan=plan).first()
    if report is None:
        report = AbsenceReport.objects.create(
            plan=plan, participant=plan.participants.get(), kind="no_show", status="failed"
        )
    return report
