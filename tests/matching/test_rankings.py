"""Ranking rules: the window, who takes part, reordering, the host's default order."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from medexchange.applications import services as application_services
from medexchange.applications.models import ReviewScore
from medexchange.common.models import AuditEntry
from medexchange.matching import selectors, services
from tests import factories
from tests.applications.conftest import open_session
from tests.applications.review_helpers import criteria
from tests.matching.conftest import Match, make_cycle, submit

pytestmark = pytest.mark.django_db


def test_ranking_before_the_window_opens_is_refused_with_the_date(match: Match) -> None:
    early = match.cycle.ranking_opens_at - dt.timedelta(hours=1)
    with pytest.raises(ValidationError, match="Ranking opens on"):
        services.applicant_rank_move(
            cycle=match.cycle,
            application=match.ama_b,
            actor=match.exchange.applicant,
            direction="up",
            now=early,
        )


def test_ranking_after_the_window_closes_is_refused(match: Match) -> None:
    late = match.cycle.ranking_closes_at + dt.timedelta(minutes=1)
    with pytest.raises(ValidationError, match="Ranking closed on"):
        services.host_rank_move(
            cycle=match.cycle,
            application=match.other_a,
            actor=match.host,
            direction="up",
            now=late,
        )


def test_a_withdrawn_application_cannot_be_ranked(match: Match) -> None:
    application_services.application_withdraw(
        application=match.ama_b, actor=match.exchange.applicant
    )
    with pytest.raises(ValidationError, match="no longer takes part"):
        services.applicant_rank_move(
            cycle=match.cycle,
            application=match.ama_b,
            actor=match.exchange.applicant,
            direction="up",
        )
    assert selectors.applicant_order(match.cycle, match.exchange.applicant) == [match.ama_a]


def test_applicant_reorders_and_every_change_is_audited(match: Match) -> None:
    applicant = match.exchange.applicant
    assert selectors.applicant_order(match.cycle, applicant) == [match.ama_a, match.ama_b]
    order = services.applicant_rank_move(
        cycle=match.cycle, application=match.ama_b, actor=applicant, direction="up"
    )
    assert order == [match.ama_b, match.ama_a]
    order = services.applicant_rank_move(
        cycle=match.cycle, application=match.ama_b, actor=applicant, position=2
    )
    assert order == [match.ama_a, match.ama_b]
    moves = AuditEntry.objects.filter(action="match_ranking.applicant_moved").order_by("pk")
    assert [(m.data["from"], m.data["to"]) for m in moves] == [(2, 1), (1, 2)]
    with pytest.raises(ValidationError):
        services.applicant_rank_move(
            cycle=match.cycle, application=match.ama_b, actor=applicant, position=3
        )


def test_host_order_starts_from_the_weighted_review_scores(match: Match) -> None:
    match.exchange.session = match.session_a
    criterion = criteria(match.exchange)[0]
    ReviewScore.objects.create(
        application=match.other_a, reviewer=match.host, criterion=criterion, score=5
    )
    ReviewScore.objects.create(
        application=match.ama_a, reviewer=match.host, criterion=criterion, score=1
    )
    order = selectors.host_order(match.cycle, match.session_a)
    assert order.ranked == [match.other_a, match.ama_a]
    assert order.unranked == []
    program = selectors.build_instance(match.cycle).data["programs"][0]
    assert program["ranks"] == [f"u{match.other_a.applicant_id}", f"u{match.ama_a.applicant_id}"]


def test_unranked_applicant_is_unacceptable_to_the_session(match: Match) -> None:
    order = services.host_rank_set(
        cycle=match.cycle, application=match.ama_a, actor=match.host, ranked=False
    )
    assert order.unranked == [match.ama_a]
    assert order.ranked == [match.other_a]
    program = selectors.build_instance(match.cycle).data["programs"][0]
    assert program["ranks"] == [f"u{match.other_a.applicant_id}"]
    assert AuditEntry.objects.filter(action="match_ranking.host_unranked").count() == 1
    with pytest.raises(ValidationError, match="Rank this applicant first"):
        services.host_rank_move(
            cycle=match.cycle, application=match.ama_a, actor=match.host, direction="up"
        )
    order = services.host_rank_set(
        cycle=match.cycle, application=match.ama_a, actor=match.host, ranked=True
    )
    assert order.ranked == [match.other_a, match.ama_a]


def test_a_host_cannot_offer_directly_while_the_cycle_ranks(match: Match) -> None:
    with pytest.raises(ValidationError, match="allocated by the match cycle"):
        application_services.application_offer(application=match.other_a, actor=match.host)
    # Waitlisting and declining stay possible.
    application_services.application_waitlist(application=match.other_a, actor=match.host)
    assert timezone.now() < match.cycle.ranking_closes_at


def test_a_place_freed_during_the_cycle_is_not_offered_to_the_waitlist(match: Match) -> None:
    # A one-place session: one applicant offered, the other waitlisted, before any cycle.
    session = open_session(
        factories.OpportunityFactory(host=match.exchange.host, title="Fictional Lima Ultrasound"),
        capacity=1,
    )
    offered = submit(match.exchange.applicant, session)
    waiting = submit(match.third_applicant, session)
    application_services.application_offer(application=offered, actor=match.host)
    application_services.application_waitlist(application=waiting, actor=match.host)
    make_cycle(match.exchange, match.staff, [session], name="Ultrasound match")
    # The offer is declined while the cycle ranks: outside a cycle the waitlist would be
    # offered the place at once; inside it, the match decides.
    application_services.application_decline_offer(
        application=offered, actor=match.exchange.applicant
    )
    waiting.refresh_from_db()
    assert waiting.state == "waitlisted"


def test_cycle_dates_must_lie_within_a_few_years(match: Match) -> None:
    far = timezone.now().replace(year=9999, month=12, day=31)
    with pytest.raises(ValidationError) as caught:
        services.match_cycle_create(
            actor=match.staff,
            name="Far away",
            sessions=[match.session_b],
            network=match.cycle.network,
            ranking_opens_at=timezone.now(),
            ranking_closes_at=far,
            results_planned_at=far,
        )
    assert "within the next 5 years" in str(caught.value.message_dict["ranking_closes_at"])
