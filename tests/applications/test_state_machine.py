"""Every transition of the application state machine, allowed and refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from medexchange.applications import services
from medexchange.applications.choices import (
    ACTIVE_STATES,
    SEAT_STATES,
    TRANSITIONS,
    ApplicationState,
)
from medexchange.applications.models import Application, Placement
from medexchange.common.models import AuditEntry
from tests.applications.conftest import Exchange

S = ApplicationState
pytestmark = pytest.mark.django_db


def submitted(exchange: Exchange, *, endorsement: bool = False) -> Application:
    opportunity = exchange.session.opportunity
    opportunity.endorsement_required = endorsement
    opportunity.save()
    application = services.application_start(
        applicant=exchange.applicant, session=exchange.session, actor=exchange.applicant
    )
    services.application_save_draft(
        application=application, actor=exchange.applicant, statement="I want to learn."
    )
    return services.application_submit(application=application, actor=exchange.applicant)


def bring_to(state: str, exchange: Exchange) -> Application:
    """An application of ``exchange.applicant`` in ``state``, reached through services."""
    applicant, host = exchange.applicant, exchange.host_coordinator
    if state == S.DRAFT:
        return services.application_start(
            applicant=applicant, session=exchange.session, actor=applicant
        )
    if state in {S.ENDORSED, S.NOT_ENDORSED}:
        application = submitted(exchange, endorsement=True)
        if state == S.ENDORSED:
            return services.application_endorse(
                application=application, actor=exchange.home_coordinator
            )
        return services.application_endorsement_decline(
            application=application, actor=exchange.home_coordinator, reason="Not in good standing."
        )
    application = submitted(exchange)
    steps: dict[str, list[Callable[[Application], Application]]] = {
        S.SUBMITTED: [],
        S.UNDER_REVIEW: [lambda a: services.application_start_review(application=a, actor=host)],
        S.WAITLISTED: [lambda a: services.application_waitlist(application=a, actor=host)],
        S.DECLINED: [
            lambda a: services.application_decline(application=a, actor=host, reason="Full.")
        ],
        S.OFFERED: [lambda a: services.application_offer(application=a, actor=host)],
        S.OFFER_DECLINED: [
            lambda a: services.application_offer(application=a, actor=host),
            lambda a: services.application_decline_offer(application=a, actor=applicant),
        ],
        S.OFFER_EXPIRED: [
            lambda a: services.application_offer(application=a, actor=host),
            lambda a: _expire(a),
        ],
        S.ACCEPTED: [
            lambda a: services.application_offer(application=a, actor=host),
            lambda a: services.application_accept(application=a, actor=applicant),
        ],
        S.CONFIRMED: [
            lambda a: services.application_offer(application=a, actor=host),
            lambda a: services.application_accept(application=a, actor=applicant),
            lambda a: services.application_confirm(application=a, actor=host),
        ],
        S.IN_PROGRESS: [
            lambda a: services.application_offer(application=a, actor=host),
            lambda a: services.application_accept(application=a, actor=applicant),
            lambda a: services.application_confirm(application=a, actor=host),
            lambda a: services.application_begin(application=a, actor=host),
        ],
        S.COMPLETED: [
            lambda a: services.application_offer(application=a, actor=host),
            lambda a: services.application_accept(application=a, actor=applicant),
            lambda a: services.application_confirm(application=a, actor=host),
            lambda a: services.application_begin(application=a, actor=host),
            lambda a: services.application_complete(application=a, actor=host),
        ],
        S.WITHDRAWN: [lambda a: services.application_withdraw(application=a, actor=applicant)],
    }
    for step in steps[state]:
        application = step(application)
    assert application.state == state
    return application


def _expire(application: Application) -> Application:
    services.offers_expire(now=application.offer_expires_at + dt.timedelta(seconds=1))
    application.refresh_from_db()
    return application


# What each action tries, as whom, and which state it leads to.
ACTIONS: dict[str, tuple[str, Callable[[Application, Exchange], Any]]] = {
    "submit": (
        S.SUBMITTED,
        lambda a, e: services.application_submit(application=a, actor=e.applicant),
    ),
    "endorse": (
        S.ENDORSED,
        lambda a, e: services.application_endorse(application=a, actor=e.home_coordinator),
    ),
    "refuse_endorsement": (
        S.NOT_ENDORSED,
        lambda a, e: services.application_endorsement_decline(
            application=a, actor=e.home_coordinator, reason="No."
        ),
    ),
    "offer": (S.OFFERED, lambda a, e: services.application_offer(application=a, actor=e.reviewer)),
    "waitlist": (
        S.WAITLISTED,
        lambda a, e: services.application_waitlist(application=a, actor=e.reviewer),
    ),
    "decline": (
        S.DECLINED,
        lambda a, e: services.application_decline(application=a, actor=e.reviewer, reason="No."),
    ),
    "accept": (
        S.ACCEPTED,
        lambda a, e: services.application_accept(application=a, actor=e.applicant),
    ),
    "decline_offer": (
        S.OFFER_DECLINED,
        lambda a, e: services.application_decline_offer(application=a, actor=e.applicant),
    ),
    "confirm": (
        S.CONFIRMED,
        lambda a, e: services.application_confirm(application=a, actor=e.host_coordinator),
    ),
    "begin": (
        S.IN_PROGRESS,
        lambda a, e: services.application_begin(application=a, actor=e.host_coordinator),
    ),
    "complete": (
        S.COMPLETED,
        lambda a, e: services.application_complete(application=a, actor=e.host_coordinator),
    ),
    "withdraw": (
        S.WITHDRAWN,
        lambda a, e: services.application_withdraw(application=a, actor=e.applicant),
    ),
}


def _allowed(application: Application, action: str) -> bool:
    target, _call = ACTIONS[action]
    if target not in TRANSITIONS[application.state]:
        return False
    # Endorsement moves exist only for applications that need an endorsement.
    if action in {"endorse", "refuse_endorsement"}:
        return application.endorsement_required
    return True


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_action_from_every_state(exchange: Exchange, state: str, action: str) -> None:
    application = bring_to(state, exchange)
    if application.state == S.DRAFT and action == "submit":
        services.application_save_draft(
            application=application, actor=exchange.applicant, statement="Ready."
        )
    if state == S.SUBMITTED and action in {"endorse", "refuse_endorsement"}:
        # A file that needs no endorsement is not waiting for one.
        assert not application.endorsement_required
    target, call = ACTIONS[action]
    audit_before = AuditEntry.objects.filter(target_id=str(application.pk)).count()
    if _allowed(application, action):
        result = call(application, exchange)
        application.refresh_from_db()
        assert application.state == target
        assert result.state == target
        entry = AuditEntry.objects.filter(target_id=str(application.pk)).order_by("-pk").first()
        assert entry is not None
        assert (entry.from_state, entry.to_state) == (state, target)
    else:
        with pytest.raises((ValidationError, PermissionDenied)):
            call(application, exchange)
        application.refresh_from_db()
        assert application.state == state
        assert AuditEntry.objects.filter(target_id=str(application.pk)).count() == audit_before


def test_endorsement_path_reaches_the_host_only_after_endorsement(exchange: Exchange) -> None:
    application = submitted(exchange, endorsement=True)
    assert application.reached_host_at is None
    assert not Application.objects.visible_to(exchange.reviewer).filter(pk=application.pk).exists()
    assert Application.objects.visible_to(exchange.home_coordinator).filter(pk=application.pk)
    with pytest.raises(PermissionDenied):
        services.application_offer(application=application, actor=exchange.reviewer)
    services.application_endorse(application=application, actor=exchange.home_coordinator)
    assert Application.objects.visible_to(exchange.reviewer).filter(pk=application.pk).exists()


def test_endorsement_needs_a_home_institution(exchange: Exchange) -> None:
    profile = exchange.applicant.applicant_profile
    profile.home_institution = None
    profile.save()
    with pytest.raises(ValidationError, match="home institution"):
        submitted(exchange, endorsement=True)


def test_only_the_right_people_act(exchange: Exchange) -> None:
    application = submitted(exchange)
    for outsider in (
        exchange.other_coordinator,
        exchange.other_applicant,
        exchange.home_coordinator,
    ):
        with pytest.raises(PermissionDenied):
            services.application_offer(application=application, actor=outsider)
    with pytest.raises(PermissionDenied):
        services.application_withdraw(application=application, actor=exchange.host_coordinator)
    services.application_offer(application=application, actor=exchange.reviewer)
    with pytest.raises(PermissionDenied):
        services.application_accept(application=application, actor=exchange.other_applicant)


def test_submission_refused_after_the_deadline_with_a_reason(exchange: Exchange) -> None:
    application = services.application_start(
        applicant=exchange.applicant, session=exchange.session, actor=exchange.applicant
    )
    services.application_save_draft(
        application=application, actor=exchange.applicant, statement="Hello."
    )
    late = exchange.session.applications_close_at + dt.timedelta(minutes=1)
    with pytest.raises(ValidationError) as excinfo:
        services.application_submit(application=application, actor=exchange.applicant, now=late)
    assert "closed" in " ".join(excinfo.value.messages)
    application.refresh_from_db()
    assert application.state == S.DRAFT


def test_submission_refused_when_not_eligible(exchange: Exchange) -> None:
    opportunity = exchange.session.opportunity
    opportunity.training_levels = ["physician"]
    opportunity.save()
    application = services.application_start(
        applicant=exchange.applicant, session=exchange.session, actor=exchange.applicant
    )
    services.application_save_draft(
        application=application, actor=exchange.applicant, statement="Hello."
    )
    with pytest.raises(ValidationError) as excinfo:
        services.application_submit(application=application, actor=exchange.applicant)
    assert "training levels" in " ".join(excinfo.value.messages)


def test_submission_needs_a_statement(exchange: Exchange) -> None:
    application = services.application_start(
        applicant=exchange.applicant, session=exchange.session, actor=exchange.applicant
    )
    with pytest.raises(ValidationError, match="statement"):
        services.application_submit(application=application, actor=exchange.applicant)


def test_one_active_application_per_session(exchange: Exchange) -> None:
    first = services.application_start(
        applicant=exchange.applicant, session=exchange.session, actor=exchange.applicant
    )
    again = services.application_start(
        applicant=exchange.applicant, session=exchange.session, actor=exchange.applicant
    )
    assert again.pk == first.pk
    services.application_withdraw(application=first, actor=exchange.applicant)
    fresh = services.application_start(
        applicant=exchange.applicant, session=exchange.session, actor=exchange.applicant
    )
    assert fresh.pk != first.pk


def test_accepting_takes_a_seat_and_opens_the_checklist(exchange: Exchange) -> None:
    application = bring_to(S.ACCEPTED, exchange)
    assert Placement.objects.filter(session=exchange.session, released_at__isnull=True).count() == 1
    assert application.checklist.count() == 5


def test_full_session_refuses_acceptance(exchange: Exchange) -> None:
    session = exchange.session
    session.capacity = 0
    session.save()
    application = bring_to(S.OFFERED, exchange)
    with pytest.raises(services.SessionFull, match="full"):
        services.application_accept(application=application, actor=exchange.applicant)
    application.refresh_from_db()
    assert application.state == S.OFFERED
    assert not Placement.objects.exists()


def test_expired_offer_cannot_be_accepted(exchange: Exchange) -> None:
    application = bring_to(S.OFFERED, exchange)
    late = application.offer_expires_at + dt.timedelta(seconds=1)
    with pytest.raises(ValidationError, match="expired"):
        services.application_accept(application=application, actor=exchange.applicant, now=late)


def test_unanswered_offer_expires_and_the_waitlist_moves_up(exchange: Exchange) -> None:
    exchange.session.capacity = 1
    exchange.session.save()
    offered = bring_to(S.OFFERED, exchange)
    other = services.application_start(
        applicant=exchange.other_applicant, session=exchange.session, actor=exchange.other_applicant
    )
    services.application_save_draft(
        application=other, actor=exchange.other_applicant, statement="x"
    )
    services.application_submit(application=other, actor=exchange.other_applicant)
    services.application_waitlist(application=other, actor=exchange.reviewer)
    expired = services.offers_expire(now=offered.offer_expires_at + dt.timedelta(minutes=1))
    assert [application.pk for application in expired] == [offered.pk]
    other.refresh_from_db()
    assert other.state == S.OFFERED
    assert other.offer_expires_at is not None
    entry = AuditEntry.objects.filter(target_id=str(other.pk)).order_by("-pk").first()
    assert entry is not None and entry.actor is None and entry.data["from_waitlist"] is True


def test_withdrawal_after_acceptance_frees_the_seat_for_the_waitlist(exchange: Exchange) -> None:
    exchange.session.capacity = 1
    exchange.session.save()
    accepted = bring_to(S.ACCEPTED, exchange)
    other = services.application_start(
        applicant=exchange.other_applicant, session=exchange.session, actor=exchange.other_applicant
    )
    services.application_save_draft(
        application=other, actor=exchange.other_applicant, statement="x"
    )
    services.application_submit(application=other, actor=exchange.other_applicant)
    services.application_waitlist(application=other, actor=exchange.reviewer)
    services.application_withdraw(application=accepted, actor=exchange.applicant, reason="Visa.")
    assert accepted.placement.released_at is not None
    other.refresh_from_db()
    assert other.state == S.OFFERED
    services.application_accept(application=other, actor=exchange.other_applicant)
    assert Placement.objects.filter(session=exchange.session, released_at__isnull=True).count() == 1


def test_waitlist_does_not_move_while_the_places_are_covered(exchange: Exchange) -> None:
    exchange.session.capacity = 1
    exchange.session.save()
    bring_to(S.ACCEPTED, exchange)
    other = services.application_start(
        applicant=exchange.other_applicant, session=exchange.session, actor=exchange.other_applicant
    )
    services.application_save_draft(
        application=other, actor=exchange.other_applicant, statement="x"
    )
    services.application_submit(application=other, actor=exchange.other_applicant)
    services.application_waitlist(application=other, actor=exchange.reviewer)
    assert services.offers_expire(now=timezone.now() + dt.timedelta(days=400)) == []
    other.refresh_from_db()
    assert other.state == S.WAITLISTED


def test_decline_needs_a_reason_the_applicant_sees(exchange: Exchange) -> None:
    application = submitted(exchange)
    with pytest.raises(ValidationError, match="reason"):
        services.application_decline(application=application, actor=exchange.reviewer, reason=" ")
    services.application_decline(
        application=application, actor=exchange.reviewer, reason="All places went to PGY3+."
    )
    application.refresh_from_db()
    assert application.decision_reason == "All places went to PGY3+."
    assert application.decided_at is not None


def test_placements_advance_with_the_calendar(exchange: Exchange) -> None:
    application = bring_to(S.CONFIRMED, exchange)
    session = exchange.session
    assert services.placements_advance(today=session.start_date) == {"started": 1, "completed": 0}
    assert services.placements_advance(today=session.end_date + dt.timedelta(days=1)) == {
        "started": 0,
        "completed": 1,
    }
    application.refresh_from_db()
    assert application.state == S.COMPLETED
    assert application.state in SEAT_STATES


def test_the_states_partition_the_machine() -> None:
    assert set(TRANSITIONS) == set(S.values)
    assert set(S.values) >= SEAT_STATES
    assert S.DRAFT in ACTIVE_STATES
    for moves in TRANSITIONS.values():
        assert moves <= set(S.values)


def test_a_second_start_racing_the_first_returns_the_same_draft(
    exchange: Exchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = services.application_start(
        applicant=exchange.applicant, session=exchange.session, actor=exchange.applicant
    )
    # The racing request did not see the draft when it looked: it tries to create another.
    real_active = Application.objects.active
    calls = {"n": 0}

    def blind_active() -> Any:
        calls["n"] += 1
        return real_active().none() if calls["n"] == 1 else real_active()

    monkeypatch.setattr(Application.objects, "active", blind_active)
    again = services.application_start(
        applicant=exchange.applicant, session=exchange.session, actor=exchange.applicant
    )
    assert again.pk == first.pk
    assert Application.objects.filter(applicant=exchange.applicant).count() == 1
