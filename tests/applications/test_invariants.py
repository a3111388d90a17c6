"""Random sequences of actions never break the invariants of applications.

Seats taken never exceed capacity; an applicant has at most one active application per
session; a seat is held exactly by the applications in a seat state; and the audit trail
of every application is an unbroken chain of transitions ending in its current state.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medexchange.applications import services
from medexchange.applications.choices import ACTIVE_STATES, SEAT_STATES, ApplicationState
from medexchange.applications.models import Application, Placement
from medexchange.common.models import AuditEntry
from tests.applications.conftest import Exchange, applicant_with_profile

S = ApplicationState
pytestmark = pytest.mark.django_db

ACTIONS = (
    "apply",
    "offer",
    "waitlist",
    "decline",
    "accept",
    "decline_offer",
    "withdraw",
    "expire",
    "confirm",
)


def _latest(session: Any, applicant: Any) -> Application | None:
    return Application.objects.filter(session=session, applicant=applicant).order_by("-pk").first()


def _act(action: str, applicant: Any, exchange: Exchange, clock: list[dt.datetime]) -> None:
    session, host = exchange.session, exchange.reviewer
    application = _latest(session, applicant)
    if action == "apply":
        draft = services.application_start(applicant=applicant, session=session, actor=applicant)
        services.application_save_draft(application=draft, actor=applicant, statement="Hi.")
        services.application_submit(application=draft, actor=applicant)
        return
    if application is None:
        return
    if action == "offer":
        services.application_offer(application=application, actor=host, now=clock[0])
    elif action == "waitlist":
        services.application_waitlist(application=application, actor=host)
    elif action == "decline":
        services.application_decline(application=application, actor=host, reason="No place.")
    elif action == "accept":
        services.application_accept(application=application, actor=applicant, now=clock[0])
    elif action == "decline_offer":
        services.application_decline_offer(application=application, actor=applicant)
    elif action == "withdraw":
        services.application_withdraw(application=application, actor=applicant)
    elif action == "confirm":
        services.application_confirm(application=application, actor=exchange.host_coordinator)
    elif action == "expire":
        clock[0] += dt.timedelta(days=8)
        services.offers_expire(now=clock[0])


def _check_invariants(exchange: Exchange) -> None:
    session = exchange.session
    held = Placement.objects.filter(session=session, released_at__isnull=True)
    assert held.count() <= session.capacity
    applications = list(Application.objects.filter(session=session))
    seat_holders = {app.pk for app in applications if app.state in SEAT_STATES}
    assert set(held.values_list("application_id", flat=True)) == seat_holders
    active: dict[int | None, int] = {}
    for application in applications:
        if application.state in ACTIVE_STATES:
            active[application.applicant_id] = active.get(application.applicant_id, 0) + 1
        trail = list(
            AuditEntry.objects.filter(target_id=str(application.pk))
            .exclude(to_state="")
            .order_by("pk")
            .values_list("from_state", "to_state")
        )
        assert trail[0] == ("", S.DRAFT)
        for (_before, after), (source, _target) in itertools.pairwise(trail):
            assert source == after
        assert trail[-1][1] == application.state
    assert all(count <= 1 for count in active.values())


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.integers(min_value=0, max_value=2)), max_size=20
    )
)
def test_random_action_sequences_keep_the_invariants(
    exchange: Exchange, steps: list[tuple[str, int]]
) -> None:
    with transaction.atomic():
        applicants = [exchange.applicant, exchange.other_applicant, applicant_with_profile()]
        clock = [timezone.now()]
        for action, who in steps:
            try:
                with transaction.atomic():
                    _act(action, applicants[who], exchange, clock)
            except (ValidationError, PermissionDenied):
                pass
            _check_invariants(exchange)
        transaction.set_rollback(True)
