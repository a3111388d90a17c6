"""Instances, runs, statistics, comparison, release, post-match round and replay."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from medexchange.applications import services as application_services
from medexchange.applications.choices import ApplicationState
from medexchange.applications.models import Application, Placement
from medexchange.common import notifications
from medexchange.common.models import AuditEntry, Notification
from medexchange.engines.matching import ENGINE_VERSION
from medexchange.matching import selectors, services
from medexchange.matching.choices import CycleStatus, RunStatus
from medexchange.matching.models import MatchRun
from medexchange.network.choices import EmStatus
from tests.applications.conftest import applicant_with_profile
from tests.matching.conftest import Match, close, make_cycle, run_now, submit

pytestmark = pytest.mark.django_db
S = ApplicationState


def u(application: Application) -> str:
    return f"u{application.applicant_id}"


def test_instance_ids_capacities_ranks_and_reserved_places(match: Match) -> None:
    # A fourth applicant holds B's only place before the cycle: B has none left.
    holder = applicant_with_profile(match.exchange.home, full_name="Seat Holder")
    held = submit(holder, match.session_b)
    match.session_b.capacity = 2
    match.session_b.save()
    match.cycle.status = CycleStatus.POST_MATCH  # let the host offer directly for the set-up
    match.cycle.save()
    application_services.application_offer(application=held, actor=match.host)
    application_services.application_accept(application=held, actor=holder)
    match.cycle.status = CycleStatus.RANKING
    match.cycle.reserved_places = 1
    match.cycle.save()
    country = match.ama_a.home_country
    country.em_status = EmStatus.NOT_RECOGNISED
    country.save()

    built = selectors.build_instance(match.cycle)
    a, b = f"p{match.session_a.pk}", f"p{match.session_b.pk}"
    assert built.data["programs"] == [
        {
            "id": a,
            "capacity": 1,
            "ranks": [u(match.ama_a), u(match.other_a)],
            "reserved": {"em_priority": 1},
        },
        {
            "id": b,
            "capacity": 1,
            "ranks": [u(match.ama_b), u(match.third_b)],
            "reserved": {"em_priority": 1},
        },
    ]
    ama = next(x for x in built.data["applicants"] if x["id"] == u(match.ama_a))
    assert ama == {"id": u(match.ama_a), "ranks": [a, b], "groups": ["em_priority"]}
    assert built.key[u(match.ama_a)] == {a: match.ama_a.pk, b: match.ama_b.pk}
    assert built.hash == hashlib.sha256(built.text.encode()).hexdigest()
    assert json.loads(built.text) == built.data


def test_a_run_end_to_end_stores_hash_engine_version_and_result(
    match: Match, django_capture_on_commit_callbacks: Any
) -> None:
    run = run_now(match.cycle, match.staff, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.DONE
    assert run.progress == 100
    assert run.engine_version == ENGINE_VERSION
    assert run.instance_hash == hashlib.sha256(run.instance_json.encode()).hexdigest()
    result = json.loads(run.result_json)
    # Ama ranks A first and the host ranks her first (equal scores: arrival order).
    assert result["matching"] == {
        u(match.ama_a): f"p{match.session_a.pk}",
        u(match.other_a): None,
        u(match.third_b): f"p{match.session_b.pk}",
    }
    assert "seconds" not in result["stats"]
    actions = list(
        AuditEntry.objects.filter(target_id=str(run.pk), action__startswith="match_run.")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["match_run.queued", "match_run.started", "match_run.done"]


def test_a_queued_run_can_be_cancelled_and_is_then_never_solved(
    match: Match, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = services.match_run_start(cycle=match.cycle, actor=match.staff)
    services.match_run_cancel(run=run, actor=match.staff)
    for callback in callbacks:
        callback()  # the worker picks the task up after the cancel
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.result_json == ""
    assert AuditEntry.objects.filter(action="match_run.cancelled", target_id=str(run.pk)).exists()
    with pytest.raises(ValidationError):
        services.match_run_cancel(run=run, actor=match.staff)


def test_statistics_and_comparison_of_two_runs(
    match: Match, django_capture_on_commit_callbacks: Any
) -> None:
    first = run_now(match.cycle, match.staff, django_capture_on_commit_callbacks)
    stats = first.statistics
    assert (stats["places"], stats["placed"], stats["fill_rate"]) == (2, 2, 100.0)
    assert stats["first_choice"] == 2
    assert stats["first_choice_rate"] == pytest.approx(66.7)
    assert stats["unmatched"] == [u(match.other_a)]
    assert stats["by_home_country"] == {"GH": 2}
    assert stats["by_host"] == {str(match.exchange.host.pk): 2}
    assert selectors.unmatched_people(first) == ["Other Applicant"]
    # The host now prefers the other applicant for A: Ama falls to B, the third loses B.
    services.host_rank_move(
        cycle=match.cycle, application=match.other_a, actor=match.host, direction="up"
    )
    second = run_now(match.cycle, match.staff, django_capture_on_commit_callbacks)
    comparison = selectors.run_comparison(second, first)
    changes = {change.name: (change.before, change.after) for change in comparison.changes}
    assert set(changes) == {"Ama Applicant", "Other Applicant", "Third Applicant"}
    assert changes["Third Applicant"][1] == "Unmatched"
    assert changes["Other Applicant"][0] == "Unmatched"
    assert "Fictional Lima Toxicology" in changes["Ama Applicant"][1]


def _spy_emails(monkeypatch: Any) -> list[dict[str, Any]]:
    """Record the language each e-mail is queued in (the real task still runs)."""
    sent: list[dict[str, Any]] = []
    original = notifications.send_templated_email.delay

    def delay(**kwargs: Any) -> Any:
        sent.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(notifications.send_templated_email, "delay", delay)
    return sent


def test_binding_release_places_within_capacity_and_explains_in_each_language(
    match: Match, django_capture_on_commit_callbacks: Any, monkeypatch: Any, mailoutbox: Any
) -> None:
    other = match.exchange.other_applicant
    other.preferred_language = "es"
    other.save()
    run = run_now(match.cycle, match.staff, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError, match="Close the ranking"):
        services.match_run_release(run=run, actor=match.staff)
    close(match.cycle, match.staff)
    sent = _spy_emails(monkeypatch)
    languages: list[str] = []
    real = selectors.explanation_sentences

    def seen(*args: Any, **kwargs: Any) -> list[str]:
        languages.append(translation.get_language())
        return real(*args, **kwargs)

    monkeypatch.setattr(selectors, "explanation_sentences", seen)
    with django_capture_on_commit_callbacks(execute=True):
        cycle = services.match_run_release(run=run, actor=match.staff)
    assert cycle.status == CycleStatus.POST_MATCH
    assert cycle.released_run == run
    for application in (match.ama_a, match.third_b):
        application.refresh_from_db()
        assert application.state == S.ACCEPTED
    match.other_a.refresh_from_db()
    match.ama_b.refresh_from_db()
    assert match.other_a.state == S.UNDER_REVIEW or match.other_a.state == S.SUBMITTED
    assert match.ama_b.state == S.SUBMITTED  # Ama's second choice stays for the post-match
    for session in (match.session_a, match.session_b):
        assert Placement.objects.filter(session=session, released_at__isnull=True).count() <= 1
    # Each person's explanation was rendered in their own language, and e-mailed in it.
    assert sorted(languages) == ["en", "en", "es"]
    to_other = [mail for mail in sent if mail["to"] == [other.email]]
    assert to_other and all(mail["language"] == "es" for mail in to_other)
    lost = Notification.objects.filter(user=match.exchange.other_applicant).first()
    assert lost is not None
    # Told in Spanish, with the reason: the host ranked them second, and admitted its first.
    assert lost.message.startswith("Resultados de la asignación de")
    assert "usted era el número 2 de su lista y el último admitido fue el número 1" in (
        lost.message
    )
    told = Notification.objects.get(
        user=match.exchange.applicant, message__contains="Match results"
    )
    assert "You are matched to Fictional Lima EM Elective" in told.message
    assert any("match results of" in mail.subject for mail in mailoutbox)
    # Once only.
    with pytest.raises(ValidationError, match="already released"):
        services.match_run_release(run=run, actor=match.staff)


def test_post_match_round_lists_free_places_and_hosts_offer_again(
    match: Match, django_capture_on_commit_callbacks: Any
) -> None:
    match.session_b.capacity = 3
    match.session_b.save()
    run = run_now(match.cycle, match.staff, django_capture_on_commit_callbacks)
    close(match.cycle, match.staff)
    services.match_run_release(run=run, actor=match.staff)
    unfilled = selectors.unfilled_sessions(match.cycle)
    assert [(session.pk, places) for session, places in unfilled] == [(match.session_b.pk, 2)]
    told = Notification.objects.filter(
        user=match.exchange.other_applicant, message__contains="post-match round"
    )
    assert told.count() == 1
    assert "Fictional Lima Toxicology" in told.get().message
    # The host may offer directly again.
    offered = application_services.application_offer(application=match.other_a, actor=match.host)
    assert offered.state == S.OFFERED


def test_non_binding_release_makes_offers(
    exchange: Any, network: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tests import factories

    staff = factories.staff_of(network)
    application = submit(exchange.applicant, exchange.session)
    cycle = make_cycle(exchange, staff, [exchange.session], binding=False)
    run = run_now(cycle, staff, django_capture_on_commit_callbacks)
    close(cycle, staff)
    services.match_run_release(run=run, actor=staff)
    application.refresh_from_db()
    assert application.state == S.OFFERED
    assert not Placement.objects.filter(application=application).exists()


def test_release_refuses_a_run_made_before_the_rankings_changed(
    match: Match, django_capture_on_commit_callbacks: Any
) -> None:
    run = run_now(match.cycle, match.staff, django_capture_on_commit_callbacks)
    services.host_rank_move(
        cycle=match.cycle, application=match.other_a, actor=match.host, direction="up"
    )
    close(match.cycle, match.staff)
    with pytest.raises(ValidationError, match="changed since this run"):
        services.match_run_release(run=run, actor=match.staff)
    assert not Placement.objects.exists()


def test_replay_verdict(match: Match, django_capture_on_commit_callbacks: Any) -> None:
    run = run_now(match.cycle, match.staff, django_capture_on_commit_callbacks)
    verdict = services.match_run_replay(run=run)
    assert verdict.ok
    data = json.loads(run.instance_json)
    data["programs"][0]["capacity"] = 0
    MatchRun.objects.filter(pk=run.pk).update(instance_json=selectors.canonical_json(data))
    run.refresh_from_db()
    verdict = services.match_run_replay(run=run)
    assert not verdict.hash_matches
    assert not verdict.result_matches
