"""The pages and the API as each person sees them: own results only, 404 for strangers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from medexchange.matching import services
from medexchange.matching.models import MatchCycle, MatchRun
from tests import factories
from tests.matching.conftest import Match, close, run_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def released(match: Match, django_capture_on_commit_callbacks: Any) -> MatchRun:
    run = run_now(match.cycle, match.staff, django_capture_on_commit_callbacks)
    close(match.cycle, match.staff)
    services.match_run_release(run=run, actor=match.staff)
    return run


def test_anonymous_visitors_are_sent_to_sign_in(client: Any, match: Match) -> None:
    for url in (
        reverse("matching:cycles"),
        reverse("matching:cycle", kwargs={"pk": match.cycle.pk}),
        reverse("matching:my-ranking", kwargs={"pk": match.cycle.pk}),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse(settings.LOGIN_URL))


def test_strangers_get_404_and_staff_see_the_cycle(client: Any, match: Match) -> None:
    url = reverse("matching:cycle", kwargs={"pk": match.cycle.pk})
    stranger = factories.UserFactory()
    for user, status in (
        (match.exchange.other_coordinator, 404),
        (stranger, 404),
        (match.exchange.applicant, 200),
        (match.host, 200),
        (match.staff, 200),
    ):
        client.force_login(user)
        assert client.get(url).status_code == status, user
    client.force_login(stranger)
    assert (
        client.get(reverse("matching:my-ranking", kwargs={"pk": match.cycle.pk})).status_code == 404
    )
    client.force_login(match.exchange.other_coordinator)
    host_url = reverse(
        "matching:host-ranking", kwargs={"pk": match.cycle.pk, "session_id": match.session_a.pk}
    )
    assert client.get(host_url).status_code == 404


def test_applicant_moves_an_application_up_without_javascript(client: Any, match: Match) -> None:
    client.force_login(match.exchange.applicant)
    url = reverse("matching:my-ranking", kwargs={"pk": match.cycle.pk})
    page = client.get(url).content.decode()
    assert page.index("Fictional Lima EM Elective") < page.index("Fictional Lima Toxicology")
    response = client.post(url, {"application": match.ama_b.pk, "direction": "up"})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert page.index("Fictional Lima Toxicology") < page.index("Fictional Lima EM Elective")
    # Someone else's application is not theirs to move.
    response = client.post(url, {"application": match.other_a.pk, "direction": "up"})
    assert response.status_code == 404


def test_ranking_after_the_window_shows_the_reason(client: Any, match: Match) -> None:
    import datetime as dt

    from django.utils import timezone

    MatchCycle.objects.filter(pk=match.cycle.pk).update(
        ranking_closes_at=timezone.now() - dt.timedelta(minutes=1)
    )
    client.force_login(match.host)
    url = reverse(
        "matching:host-ranking", kwargs={"pk": match.cycle.pk, "session_id": match.session_a.pk}
    )
    response = client.post(url, {"application": match.other_a.pk, "direction": "up"})
    assert response.status_code == 400
    assert "Ranking closed on" in response.content.decode()
    response = client.post(url, {"application": match.other_a.pk, "direction": "sideways"})
    assert response.status_code == 400


def test_each_applicant_sees_only_their_own_result(
    client: Any, match: Match, released: MatchRun
) -> None:
    client.force_login(match.exchange.applicant)
    page = client.get(match.cycle.get_absolute_url()).content.decode()
    assert "You are matched to Fictional Lima EM Elective" in page
    assert "Other Applicant" not in page and "Third Applicant" not in page
    detail = client.get(match.ama_a.get_absolute_url()).content.decode()
    assert "You are matched to Fictional Lima EM Elective" in detail
    assert client.get(released.get_absolute_url()).status_code == 404
    client.force_login(match.exchange.other_applicant)
    page = client.get(match.cycle.get_absolute_url()).content.decode()
    assert "You are not matched" in page
    assert "Ama Applicant" not in page
    assert client.get(reverse("matching:run-result", kwargs={"pk": released.pk})).status_code == 404


def test_host_sees_its_sessions_results(client: Any, match: Match, released: MatchRun) -> None:
    client.force_login(match.host)
    page = client.get(match.cycle.get_absolute_url()).content.decode()
    assert "Results per session" in page
    assert "Ama Applicant" in page and "Third Applicant" in page
    # A network cycle's runs belong to its staff.
    assert client.get(released.get_absolute_url()).status_code == 404


def test_staff_run_page_exports_and_replays(
    client: Any, match: Match, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(match.staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("matching:run-start", kwargs={"pk": match.cycle.pk}), {"kind": "dry"}
        )
    run = MatchRun.objects.get()
    assert response["Location"] == run.get_absolute_url()
    page = client.get(run.get_absolute_url()).content.decode()
    assert "Other Applicant" in page  # the unmatched list
    assert "100%" in page
    download = client.get(reverse("matching:run-instance", kwargs={"pk": run.pk}))
    assert download["Content-Disposition"].startswith("attachment")
    assert download.content.decode() == run.instance_json
    replay = client.post(reverse("matching:run-replay", kwargs={"pk": run.pk}))
    assert "Identical" in replay.content.decode()
    progress = client.get(
        reverse("matching:run-progress", kwargs={"pk": run.pk}), HTTP_HX_REQUEST="true"
    )
    assert progress.headers.get("HX-Refresh") == "true"
    bad = client.get(reverse("matching:run-compare", kwargs={"pk": run.pk}), {"other": "x"})
    assert bad.status_code == 400


def test_staff_open_a_cycle_through_the_form(client: Any, match: Match) -> None:
    client.force_login(match.exchange.host_coordinator)
    url = reverse("matching:cycle-create")
    organiser = f"host-{match.exchange.host.pk}"
    page = client.get(url, {"organiser": organiser})
    assert page.status_code == 200
    response = client.post(
        url,
        {
            "organiser": organiser,
            "name": "Host cycle",
            "sessions": [match.session_a.pk],
            "reserved_places": 0,
            "ranking_opens_at": "2031-01-01T10:00",
            "ranking_closes_at": "2030-01-01T10:00",
            "results_planned_at": "2031-02-01T10:00",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Ranking closes after it opens." in body
    assert "already in the open cycle" in body
    client.force_login(match.exchange.applicant)
    assert client.get(url).status_code == 403


def test_api_shows_cycles_to_participants_and_runs_to_organisers(
    client: Any, match: Match, released: MatchRun
) -> None:
    cycles = reverse("api-v1:match-cycle-list")
    run_url = reverse("api-v1:match-run-detail", kwargs={"pk": released.pk})
    client.force_login(match.exchange.applicant)
    assert [row["id"] for row in client.get(cycles).json()["results"]] == [match.cycle.pk]
    assert client.get(run_url).status_code == 404
    client.force_login(match.exchange.other_coordinator)
    assert client.get(cycles).json()["results"] == []
    assert (
        client.get(reverse("api-v1:match-cycle-detail", kwargs={"pk": match.cycle.pk})).status_code
        == 404
    )
    client.force_login(match.staff)
    data = client.get(run_url).json()
    assert data["status"] == "done" and data["statistics"]["placed"] == 2
    instance = client.get(reverse("api-v1:match-run-instance", kwargs={"pk": released.pk})).json()
    assert instance == json.loads(released.instance_json)
    client.logout()
    assert client.get(cycles).status_code == 403
