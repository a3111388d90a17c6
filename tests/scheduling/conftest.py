"""A small multi-site program: one host with three sites, a four-week session, three
participants holding seats (taken through the applications' services), a fourth
applicant still waiting, and people of another institution."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.accounts.models import InstitutionRole, User
from medexchange.applications import services as application_services
from medexchange.applications.models import Application
from medexchange.catalog.choices import OpportunityKind
from medexchange.catalog.models import Session
from medexchange.scheduling import selectors, services
from medexchange.scheduling.models import PlanSolve, RotationPlan
from tests import factories
from tests.applications.conftest import applicant_with_profile, open_session, reviewer_of
from tests.matching.conftest import submit


def seat(applicant: User, session: Session, host: User) -> Application:
    """Submit, offer and accept through the services: a placement holding a seat."""
    application = submit(applicant, session)
    application_services.application_offer(application=application, actor=host)
    return application_services.application_accept(application=application, actor=applicant)


@dataclass
class Program:
    host: Any
    coordinator: User
    reviewer: User
    other_coordinator: User
    outsider: User
    session: Session
    sites: list[Any]
    applicants: list[User]
    applications: list[Application]
    waiting: Application


@pytest.fixture
def program(network: Any) -> Program:
    host = factories.InstitutionFactory(name="Fictional Lima Teaching Hospital", city="Lima")
    home = factories.InstitutionFactory(name="Fictional Accra Medical School", city="Accra")
    other = factories.InstitutionFactory(name="Fictional Hanoi Hospital", city="Hanoi")
    for institution in (host, home, other):
        factories.MembershipFactory(institution=institution, network=network)
    sites = [
        factories.SiteFactory(institution=host, name=name)
        for name in ("Central Emergency", "North Trauma Unit", "South Paediatrics")
    ]
    opportunity = factories.OpportunityFactory(
        host=host, kind=OpportunityKind.EXCHANGE_PROGRAM, title="Fictional Lima EM Exchange"
    )
    opportunity.sites.set(sites)
    session = open_session(opportunity, capacity=4)  # 28 days: four weeks
    coordinator = factories.coordinator_of(host, full_name="Host Coordinator")
    applicants = [
        applicant_with_profile(home, full_name=name)
        for name in ("Ana Alvarez", "Bo Baptiste", "Cy Chen")
    ]
    applications = [seat(person, session, coordinator) for person in applicants]
    waiting = submit(applicant_with_profile(home, full_name="Di Waiting"), session)
    return Program(
        host=host,
        coordinator=coordinator,
        reviewer=reviewer_of(host, full_name="Host Reviewer"),
        other_coordinator=factories.coordinator_of(other, full_name="Other Coordinator"),
        outsider=applicant_with_profile(home, full_name="Outside Applicant"),
        session=session,
        sites=sites,
        applicants=applicants,
        applications=applications,
        waiting=waiting,
    )


@pytest.fixture
def plan(program: Program) -> RotationPlan:
    return services.rotation_plan_create(session=program.session, actor=program.coordinator)


def solve_now(plan: RotationPlan, actor: User, capture: Any) -> PlanSolve:
    """Start a solve and let its on-commit task run in-process, as without a broker."""
    with capture(execute=True):
        solve = services.plan_solve_start(plan=plan, actor=actor)
    solve.refresh_from_db()
    return solve


def assert_keeps_hard_rules(plan: RotationPlan) -> None:
    """An independent check of the saved cells against the plan's rules, read from the
    database (not through the engine): presence, capacity, closures, minimum staffing,
    languages, must / must-not visit, distinct sites, stay lengths and pairs."""
    plan.refresh_from_db()
    sites = {site.pk: site for site in plan.sites.all()}
    people = list(plan.participants.all())
    where: dict[int, dict[int, int]] = defaultdict(dict)
    for cell in plan.cells.all():
        where[cell.participant_id][cell.period] = cell.site_id
    count = plan.period_count
    for person in people:
        first, last = plan.period_of(person.arrival), plan.period_of(person.departure)
        row = where[person.pk]
        assert sorted(row) == list(range(first, last + 1)), person
        for t, site_pk in row.items():
            site = sites[site_pk]
            assert t not in site.closed
            assert site_pk not in person.must_not_visit
            if site.languages and person.languages:
                assert set(site.languages) & set(person.languages)
        visited = set(row.values())
        assert len(visited) >= plan.min_sites
        assert set(person.must_visit) <= visited
        t = first
        while t <= last:
            end = t
            while end + 1 <= last and row[end + 1] == row[t]:
                end += 1
            length = end - t + 1
            assert length >= plan.min_stay, (person, t)
            if plan.max_stay:
                assert length <= plan.max_stay, (person, t)
            t = end + 1
    for site in sites.values():
        capacity = site.capacity_per_period or [site.capacity] * count
        for t in range(count):
            here = sum(1 for row in where.values() if row.get(t) == site.pk)
            if t in site.closed:
                assert here == 0
                continue
            assert here <= capacity[t]
            assert here >= site.min_staff
    for a, b in plan.together:
        for t in set(where[a]) & set(where[b]):
            assert where[a][t] == where[b][t]
    for a, b in plan.apart:
        for t in set(where[a]) & set(where[b]):
            assert where[a][t] != where[b][t]


def supervisor_of(institution: Any, **kwargs: Any) -> User:
    user = factories.UserFactory(**kwargs)
    InstitutionRole.objects.create(
        user=user, institution=institution, role=InstitutionRoleKind.SUPERVISOR
    )
    return user


@pytest.fixture
def supervisor(program: Program) -> User:
    return supervisor_of(program.host, full_name="Grace Supervisor")


@pytest.fixture
def solved(
    program: Program, plan: RotationPlan, django_capture_on_commit_callbacks: Any
) -> RotationPlan:
    services.rotation_plan_update(
        plan=plan,
        actor=program.coordinator,
        unit="week",
        start_date=plan.start_date,
        min_sites=2,
        min_stay=1,
        max_stay=None,
        balance=True,
    )
    solve = solve_now(plan, program.coordinator, django_capture_on_commit_callbacks)
    assert solve.outcome in {"optimal", "feasible"}, solve.error
    plan.refresh_from_db()
    return plan


def publish(plan: RotationPlan, actor: User, capture: Any) -> Any:
    with capture(execute=True):
        publication = services.rotation_plan_publish(plan=plan, actor=actor)
    plan.refresh_from_db()
    return publication


def move(plan: RotationPlan, actor: User, person: Any, period: int) -> Any:
    """Move ``person`` in ``period`` to another site; returns (old site, new site)."""
    cell = plan.cells.get(participant=person, period=period)
    other = next(s for s in selectors.plan_sites(plan) if s.pk != cell.site_id)
    old = cell.site
    services.plan_cell_set(
        plan=plan, actor=actor, participant=person, period=period, site=other, pinned=False
    )
    return old, other
