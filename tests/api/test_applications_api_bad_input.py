"""Wrong JSON types and odd values on the applications API: 4xx, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from medexchange.applications.models import ReviewCriterion
from tests.api import test_applications_api as api_tests
from tests.api.test_applications_api import API, client_for, draft, post, submitted
from tests.applications.conftest import Exchange

pytestmark = pytest.mark.django_db
# The applications API tests' fixtures: their small exchange, in the host's time zone.
exchange = api_tests.exchange
ex = api_tests.ex
private_root = api_tests.private_root


@pytest.mark.parametrize(
    "body",
    [
        [],
        "text",
        123,
        {"session": "abc"},
        {"session": None},
        {"session": [1]},
        {"session": 99999999999999999999999},
        {"session": -1},
        {"session": 1.5},
    ],
)
def test_create_with_wrong_types(ex: Exchange, body: Any) -> None:
    response = client_for(ex.applicant).post(f"{API}/", body, format="json")
    assert 400 <= response.status_code < 500, response.content


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"statement": ["a"]},
        {"statement": "a\x00b"},
        {"statement": "x" * 6000},
        {"attachments": "1"},
        {"attachments": [None]},
        {"attachments": ["abc"]},
        {"attachments": [99999999999999999999999]},
        {"attachments": [-1]},
        {"attachments": {"a": 1}},
    ],
)
def test_draft_with_wrong_types(ex: Exchange, body: Any) -> None:
    application = draft(ex)
    response = client_for(ex.applicant).patch(f"{API}/{application.pk}/", body, format="json")
    assert 400 <= response.status_code < 500, response.content


@pytest.mark.parametrize(
    ("verb", "body"),
    [
        ("offer", {"respond_by": 5}),
        ("offer", {"respond_by": ["x"]}),
        ("offer", {"respond_by": "9999-12-31T23:59:59"}),
        ("offer", {"respond_by": "9999-12-31T23:59:59-05:00"}),
        ("offer", {"respond_by": "0001-01-01T00:00:00+14:00"}),
        ("offer", {"reason": {"a": 1}}),
        ("offer", {"reason": "a\x00"}),
        ("waitlist", {"reason": ["x"]}),
        ("decline", {"reason": None}),
        ("withdraw", {"reason": "x" * 3000}),
        ("scores", {"scores": []}),
        ("scores", {"scores": "x"}),
        ("scores", {"scores": {"abc": 1}}),
        ("scores", {"scores": {"1": "abc"}}),
        ("scores", {"scores": {"99999999999999999999": 1}}),
        ("scores", {"scores": {"1": 99999999999999999999}}),
        ("scores", {"scores": {"1": -1}}),
        ("scores", {"scores": {"1": 1.5}}),
        ("scores", {"scores": {"": 1}}),
        ("scores", {}),
        ("comments", {}),
        ("comments", {"body": ["x"]}),
        ("comments", {"body": "   "}),
        ("comments", {"body": "x\x00"}),
        ("endorse", {"note": ["x"]}),
        ("decline-endorsement", {"reason": {}}),
    ],
)
def test_actions_with_wrong_types(ex: Exchange, verb: str, body: Any) -> None:
    ReviewCriterion.objects.create(opportunity=ex.session.opportunity, name="Fit", max_score=5)
    application = submitted(ex)
    user = ex.applicant if verb == "withdraw" else ex.reviewer
    if verb in {"endorse", "decline-endorsement"}:
        user = ex.home_coordinator
    response = post(user, application, verb, body)
    assert 400 <= response.status_code < 500, response.content


def test_list_filters_garbage(ex: Exchange) -> None:
    submitted(ex)
    client = client_for(ex.reviewer)
    for query in [
        {"session": "abc"},
        {"session": "99999999999999999999999"},
        {"state": "zzz"},
        {"submitted_after": "garbage"},
        {"submitted_after": "9999-12-31"},
        {"submitted_before": "9999-12-31"},
        {"ordering": "password"},
        {"page": "abc"},
        {"opportunity": "\x00"},
        {"host": "a\x00"},
    ]:
        response = client.get(f"{API}/", query)
        assert response.status_code in {200, 400, 404}, (query, response.content)


def test_detail_with_huge_id(ex: Exchange) -> None:
    client = client_for(ex.reviewer)
    assert client.get(f"{API}/99999999999999999999999/").status_code == 404
    assert (
        client.post(f"{API}/99999999999999999999999/withdraw/", {}, format="json").status_code
        == 404
    )


def test_an_offer_deadline_after_the_session_starts_is_refused(ex: Exchange) -> None:
    application = submitted(ex)
    response = post(ex.reviewer, application, "offer", {"respond_by": "9999-12-31T23:59:59"})
    assert response.status_code == 400
    assert response.json() == {
        "respond_by": ["The answer deadline cannot be after the session starts."]
    }
    application.refresh_from_db()
    assert application.state == "submitted"
    # The list still reads (a stored year-10000 deadline would break every read on PostgreSQL).
    assert client_for(ex.reviewer).get(f"{API}/").status_code == 200


def test_submitted_before_the_last_day_there_is(ex: Exchange) -> None:
    application = submitted(ex)
    response = client_for(ex.reviewer).get(f"{API}/", {"submitted_before": "9999-12-31"})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [application.pk]
