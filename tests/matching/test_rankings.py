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
from tests.applications.review_helpers import criteria
from tests.matching.conftest import Match

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
