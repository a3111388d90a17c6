"""A small match cycle: one host with two sessions, three applicants, network staff."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from medexchange.accounts.models import User
from medexchange.applications import services as application_services
from medexchange.applications.models import Application
from medexchange.catalog.models import Session
from medexchange.matching import services
from medexchange.matching.choices import CycleStatus
from medexchange.matching.models import MatchCycle, MatchRun
from tests import factories
from tests.applications.conftest import (  # noqa: F401 - the exchange fixture
    Exchange,
    applicant_with_profile,
    exchange,
    open_session,
)


def submit(applicant: User, session: Session) -> Application:
    """An application of ``applicant`` to ``session``, submitted through the services."""
    application = application_services.application_start(
        applicant=applicant, session=session, actor=applicant
    )
    application_services.application_save_draft(
        application=application, actor=applicant, statement="I want to learn emergency care."
    )
    return application_services.application_submit(application=application, actor=applicant)


@dataclass
class Match:
    exchange: Exchange
    staff: User
    third_applicant: User
    session_a: Session  # 1 place
    session_b: Session  # 1 place
    cycle: MatchCycle
    # applicant: A then B; other_applicant: A; third_applicant: B
    ama_a: Application
    ama_b: Application
    other_a: Application
    third_b: Application

    @property
    def host(self) -> User:
        return self.exchange.host_coordinator


def make_cycle(world: Exchange, staff: User, sessions: list[Session], **kwargs: Any) -> MatchCycle:
    now = timezone.now()
    values: dict[str, Any] = {
        "name": "Fictional 2027 elective match",
        "network": world.host.memberships.get().network,
        "ranking_opens_at": now - dt.timedelta(days=1),
        "ranking_closes_at": now + dt.timedelta(days=7),
        "results_planned_at": now + dt.timedelta(days=8),
    } | kwargs
    cycle = services.match_cycle_create(actor=staff, sessions=sessions, **values)
    return services.match_cycle_act(cycle=cycle, actor=staff, verb="open")


@pytest.fixture
def match(exchange: Exchange, network: Any) -> Match:  # noqa: F811 - the fixture above
    staff = factories.staff_of(network, full_name="Network Staff")
    session_a = exchange.session
    session_a.capacity = 1
    session_a.save()
    session_b = open_session(
        factories.OpportunityFactory(host=exchange.host, title="Fictional Lima Toxicology"),
        capacity=1,
    )
    third = applicant_with_profile(exchange.home, full_name="Third Applicant")
    ama_a = submit(exchange.applicant, session_a)
    ama_b = submit(exchange.applicant, session_b)
    other_a = submit(exchange.other_applicant, session_a)
    third_b = submit(third, session_b)
    cycle = make_cycle(exchange, staff, [session_a, session_b])
    return Match(
        exchange, staff, third, session_a, session_b, cycle, ama_a, ama_b, other_a, third_b
    )


def run_now(cycle: MatchCycle, actor: User, capture: Any, kind: str = "dry") -> MatchRun:
    """Start a run and let its on-commit task run in-process, as without a broker."""
    with capture(execute=True):
        run = services.match_run_start(cycle=cycle, actor=actor, kind=kind)
    run.refresh_from_db()
    return run


def close(cycle: MatchCycle, staff: User) -> MatchCycle:
    cycle = services.match_cycle_act(cycle=cycle, actor=staff, verb="close")
    assert cycle.status == CycleStatus.CLOSED
    return cycle
