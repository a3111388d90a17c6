"""The applications API: each role's view of the files, and every decision through it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.middleware.csrf import get_token
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from medexchange.applications import services
from medexchange.applications.choices import ApplicationState
from medexchange.applications.models import Application, ReviewCriterion
from medexchange.catalog.choices import OpportunityStatus
from medexchange.common.models import AuditEntry
from tests import factories
from tests.applications.conftest import (
    Exchange,
    applicant_with_profile,
    exchange,  # noqa: F401 - the fixture, shared with the applications app's tests
    open_session,
)
from tests.documents.factories import DocumentVersionFactory

S = ApplicationState
API = "/api/v1/applications"
LIMA = ZoneInfo("America/Lima")
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_root(settings: Any, tmp_path: Path) -> Path:
    """Document versions made here store their files under a temporary folder."""
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.fixture
def ex(exchange: Exchange) -> Exchange:  # noqa: F811 - pytest injects the imported fixture
    exchange.host.time_zone = "America/Lima"
    exchange.host.save()
    return exchange


def client_for(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def draft(ex: Exchange, applicant: Any = None, session: Any = None) -> Application:
    applicant = applicant or ex.applicant
    application = services.application_start(
        applicant=applicant, session=session or ex.session, actor=applicant
    )
    return services.application_save_draft(
        application=application, actor=applicant, statement="I want to learn."
    )


def submitted(
    ex: Exchange, *, endorsement: bool = False, applicant: Any = None, session: Any = None
) -> Application:
    application = draft(ex, applicant, session)
    opportunity = application.session.opportunity
    if opportunity.endorsement_required != endorsement:
        opportunity.endorsement_required = endorsement
        opportunity.save()
    return services.application_submit(application=application, actor=application.applicant)


def offered(ex: Exchange, **kwargs: Any) -> Application:
    application = submitted(ex, **kwargs)
    return services.application_offer(application=application, actor=ex.reviewer)


def detail(user: Any, application: Application) -> Any:
    return client_for(user).get(f"{API}/{application.pk}/")


def post(user: Any, application: Application, verb: str, body: Any = None) -> Any:
    return client_for(user).post(f"{API}/{application.pk}/{verb}/", body or {}, format="json")


def listed(user: Any, **query: Any) -> list[int]:
    response = client_for(user).get(f"{API}/", query)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def state_of(application: Application) -> str:
    application.refresh_from_db()
    return application.state


# --- who sees what --------------------------------------------------------------------


def test_anonymous_callers_are_refused(ex: Exchange) -> None:
    application = submitted(ex)
    anonymous = client_for()

    assert anonymous.get(f"{API}/").status_code == 403
    assert anonymous.get(f"{API}/{application.pk}/").status_code == 403
    assert anonymous.post(f"{API}/", {"session": ex.session.pk}, format="json").status_code == 403
    assert post(None, application, "withdraw").status_code == 403
    assert state_of(application) == S.SUBMITTED


def test_the_applicant_sees_their_own_application(ex: Exchange) -> None:
    application = submitted(ex)
    submitted(ex, applicant=ex.other_applicant)

    assert listed(ex.applicant) == [application.pk]
    data = detail(ex.applicant, application).json()
    assert data["state"] == S.SUBMITTED
    assert data["state_label"] == "Submitted"
    assert data["applicant"] == {"name": "Ama Applicant", "email": ex.applicant.email}
    assert data["session"]["id"] == ex.session.pk
    assert data["session"]["opportunity"]["title"] == "Fictional Lima EM Elective"
    assert data["session"]["host"] == {"slug": ex.host.slug, "name": ex.host.name}
    assert data["home_institution"] == {"slug": ex.home.slug, "name": ex.home.name}
    assert data["home_country"] == "GH"
    assert data["statement"] == "I want to learn."
    assert data["scores"] is None  # the host's work
    assert [(e["from_state"], e["to_state"]) for e in data["timeline"] if e["to_state"]] == [
        ("", S.DRAFT),
        (S.DRAFT, S.SUBMITTED),
    ]
    assert data["timeline"][-1]["actor"] == "Ama Applicant"
    # Times carry the host's offset (Lima, UTC-5).
    assert data["submitted_at"].endswith("-05:00")


def test_the_host_sees_its_files_with_their_scores(ex: Exchange) -> None:
    application = submitted(ex)
    elsewhere = factories.OpportunityFactory(host=ex.other)
    submitted(ex, applicant=ex.other_applicant, session=open_session(elsewhere))

    for user in (ex.reviewer, ex.host_coordinator):
        assert listed(user) == [application.pk]
    data = detail(ex.reviewer, application).json()
    assert data["applicant"]["email"] == ex.applicant.email
    assert data["scores"] == {"weighted_percent": None, "count": 0, "reviewers": 0}


def test_the_home_coordinator_sees_files_awaiting_endorsement(ex: Exchange) -> None:
    application = submitted(ex, endorsement=True)

    assert listed(ex.home_coordinator) == [application.pk]
    data = detail(ex.home_coordinator, application).json()
    assert data["endorsement_required"] is True
    assert data["applicant"]["name"] == "Ama Applicant"
    assert data["scores"] is None
    # Not yet the host's: it reaches the host on endorsement.
    assert listed(ex.reviewer) == []
    assert detail(ex.reviewer, application).status_code == 404


def test_strangers_get_404_and_an_empty_list(ex: Exchange) -> None:
    application = submitted(ex)
    a_draft = draft(ex, ex.other_applicant)

    for user in (ex.other_applicant, ex.other_coordinator):
        assert detail(user, application).status_code == 404
    assert listed(ex.other_coordinator) == []
    assert listed(ex.other_applicant) == [a_draft.pk]
    # A draft is its applicant's alone.
    for user in (ex.reviewer, ex.home_coordinator):
        assert detail(user, a_draft).status_code == 404
    assert client_for(ex.applicant).get(f"{API}/not-a-number/").status_code == 404


def test_a_superuser_sees_everything(ex: Exchange) -> None:
    application = submitted(ex)
    root = factories.UserFactory(is_superuser=True, is_staff=True)

    data = detail(root, application).json()
    assert data["applicant"]["email"] == ex.applicant.email
    assert data["scores"]["count"] == 0


def test_attachments_link_to_the_download(ex: Exchange) -> None:
    version = DocumentVersionFactory(document__owner=ex.applicant, document__title="My CV")
    application = draft(ex)
    services.application_save_draft(
        application=application, actor=ex.applicant, statement="Hi.", versions=[version]
    )

    [attachment] = detail(ex.applicant, application).json()["attachments"]
    assert attachment == {
        "version": version.pk,
        "document_kind": "cv",
        "title": "My CV",
        "confidential": False,
        "download_url": f"http://testserver/documents/versions/{version.pk}/download/",
    }


# --- filters ------------------------------------------------------------------------------


def test_filters(ex: Exchange) -> None:
    first = submitted(ex)
    later = open_session(ex.session.opportunity)
    second = submitted(ex, applicant=ex.other_applicant, session=later)
    services.application_offer(application=second, actor=ex.reviewer)
    Application.objects.filter(pk=first.pk).update(
        submitted_at=dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    )
    reviewer = ex.reviewer

    assert listed(reviewer, state=S.OFFERED) == [second.pk]
    assert set(listed(reviewer, state=[S.OFFERED, S.SUBMITTED])) == {first.pk, second.pk}
    assert listed(reviewer, session=later.pk) == [second.pk]
    assert len(listed(reviewer, opportunity=ex.session.opportunity.slug)) == 2
    assert listed(reviewer, opportunity="no-such-opportunity") == []
    assert len(listed(reviewer, host=ex.host.slug)) == 2
    assert listed(reviewer, host=ex.other.slug) == []
    assert len(listed(reviewer, home_institution=ex.home.slug)) == 2
    assert listed(reviewer, submitted_before="2026-03-10") == [first.pk]
    assert listed(reviewer, submitted_after="2026-03-11") == [second.pk]
    assert listed(reviewer, submitted_after="2026-03-10", submitted_before="2026-03-10") == [
        first.pk
    ]
    assert listed(reviewer, ordering="submitted_at") == [first.pk, second.pk]
    assert listed(reviewer, ordering="-submitted_at") == [second.pk, first.pk]
    # Empty dates come last, either way.
    assert listed(reviewer, ordering="offer_expires_at") == [second.pk, first.pk]
    assert listed(reviewer, ordering="-offer_expires_at") == [second.pk, first.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"submitted_after": "2026-13-01"}, "submitted_after"),
        ({"submitted_before": "yesterday"}, "submitted_before"),
        ({"state": "lost"}, "state"),
        ({"session": "abc"}, "session"),
        ({"session": "1.5"}, "session"),
        ({"ordering": "applicant__email"}, "ordering"),
    ],
)
def test_a_malformed_filter_is_400_naming_it(
    ex: Exchange, query: dict[str, str], field: str
) -> None:
    response = client_for(ex.reviewer).get(f"{API}/", query)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert response.json()[field]


@pytest.mark.parametrize("rows", [3, 30])
def test_a_page_costs_a_fixed_number_of_queries(
    ex: Exchange, rows: int, django_assert_max_num_queries: Any
) -> None:
    criterion = ReviewCriterion.objects.create(opportunity=ex.session.opportunity, name="Fit")
    for _ in range(rows):
        applicant = applicant_with_profile(ex.home)
        version = DocumentVersionFactory(document__owner=applicant)
        application = draft(ex, applicant)
        services.application_save_draft(
            application=application, actor=applicant, statement="Hello.", versions=[version]
        )
        services.application_submit(application=application, actor=applicant)
        services.application_score(
            application=application, actor=ex.reviewer, scores={criterion.pk: 4}
        )
        services.application_comment(application=application, actor=ex.reviewer, body="Good.")
    client = client_for(ex.reviewer)

    # the caller's roles, count, page, attachments, audit entries, scores
    with django_assert_max_num_queries(6):
        response = client.get(f"{API}/", {"page_size": 50})

    results = response.json()["results"]
    assert len(results) == rows
    assert all(row["scores"]["weighted_percent"] == 80.0 for row in results)
    assert all(len(row["attachments"]) == 1 for row in results)


# --- the applicant's draft ------------------------------------------------------------


def test_starting_a_draft(ex: Exchange) -> None:
    client = client_for(ex.applicant)

    created = client.post(f"{API}/", {"session": ex.session.pk}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["state"] == S.DRAFT
    again = client.post(f"{API}/", {"session": ex.session.pk}, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == created.json()["id"]
    assert client.post(f"{API}/", {}, format="json").json() == {
        "session": ["This field is required."]
    }


def test_a_draft_is_only_started_for_a_session_the_applicant_can_see(ex: Exchange) -> None:
    hidden = factories.OpportunityFactory(host=ex.host, status=OpportunityStatus.DRAFT)
    closed = open_session(
        ex.session.opportunity, applications_close_at=timezone.now() - dt.timedelta(days=1)
    )
    client = client_for(ex.applicant)

    assert (
        client.post(f"{API}/", {"session": open_session(hidden).pk}, format="json").status_code
        == 404
    )
    refused = client.post(f"{API}/", {"session": closed.pk}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"non_field_errors": ["Applications for this session have closed."]}
    assert not Application.objects.exists()


def test_patching_a_draft(ex: Exchange) -> None:
    application = draft(ex)
    mine = DocumentVersionFactory(document__owner=ex.applicant)
    theirs = DocumentVersionFactory(document__owner=ex.other_applicant)
    client = client_for(ex.applicant)
    url = f"{API}/{application.pk}/"

    response = client.patch(url, {"statement": "New.", "attachments": [mine.pk]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["statement"] == "New."
    assert [a["version"] for a in response.json()["attachments"]] == [mine.pk]
    # Only the attachments: the statement stays.
    response = client.patch(url, {"attachments": []}, format="json")
    assert response.json()["statement"] == "New."
    assert response.json()["attachments"] == []

    refused = client.patch(url, {"attachments": [theirs.pk]}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()) == ["attachments"]
    too_long = client.patch(url, {"statement": "x" * 5001}, format="json")
    assert too_long.status_code == 400
    assert list(too_long.json()) == ["statement"]
    assert client.put(url, {"statement": "Put."}, format="json").status_code == 405
    assert client.delete(url).status_code == 405


def test_only_the_applicant_patches_and_only_a_draft(ex: Exchange) -> None:
    application = submitted(ex)
    url = f"{API}/{application.pk}/"

    assert client_for(ex.reviewer).patch(url, {"statement": "X"}, format="json").status_code == 403
    assert client_for(ex.other_applicant).patch(url, {}, format="json").status_code == 404
    refused = client_for(ex.applicant).patch(url, {"statement": "Later."}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "non_field_errors": ["A submitted application can no longer be edited."]
    }


def test_submission_problems_are_400_with_every_reason(ex: Exchange) -> None:
    application = services.application_start(
        applicant=ex.applicant, session=ex.session, actor=ex.applicant
    )

    refused = post(ex.applicant, application, "submit")

    assert refused.status_code == 400
    assert "Write a personal statement." in refused.json()["non_field_errors"]
    assert post(ex.home_coordinator, application, "submit").status_code == 404  # a draft
    assert state_of(application) == S.DRAFT


# --- every action, allowed and refused ------------------------------------------------


def test_submit_and_withdraw(ex: Exchange) -> None:
    application = draft(ex)

    response = post(ex.applicant, application, "submit")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == S.SUBMITTED
    assert post(ex.applicant, application, "submit").json() == {
        "non_field_errors": ["This application was already submitted."]
    }
    assert post(ex.reviewer, application, "withdraw").status_code == 403
    assert post(ex.other_coordinator, application, "withdraw").status_code == 404
    response = post(ex.applicant, application, "withdraw", {"reason": "Plans changed."})
    assert response.status_code == 200
    assert response.json()["state"] == S.WITHDRAWN
    assert response.json()["timeline"][-1]["reason"] == "Plans changed."


def test_endorse_and_decline_endorsement(ex: Exchange) -> None:
    application = submitted(ex, endorsement=True)
    other = submitted(ex, endorsement=True, applicant=ex.other_applicant)

    assert post(ex.applicant, application, "endorse").status_code == 403
    assert post(ex.reviewer, application, "endorse").status_code == 404  # not the host's yet
    response = post(ex.home_coordinator, application, "endorse", {"note": "A fine student."})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == S.ENDORSED
    assert response.json()["endorsed_at"] is not None
    assert post(ex.home_coordinator, application, "endorse").json() == {
        "non_field_errors": ["This application is not waiting for an endorsement."]
    }
    # Now the host's.
    assert detail(ex.reviewer, application).status_code == 200

    assert post(ex.home_coordinator, other, "decline-endorsement").json() == {
        "reason": ["Please give a reason."]
    }
    assert post(ex.applicant, application, "decline-endorsement", {"reason": "X"}).status_code == (
        403
    )
    response = post(ex.home_coordinator, other, "decline-endorsement", {"reason": "Not yet."})
    assert response.status_code == 200
    assert response.json()["state"] == S.NOT_ENDORSED


def test_offer_with_a_deadline_in_the_hosts_time_zone(ex: Exchange) -> None:
    application = submitted(ex)
    deadline = (
        (timezone.now() + dt.timedelta(days=10))
        .astimezone(LIMA)
        .replace(microsecond=0, tzinfo=None)
    )

    assert post(ex.applicant, application, "offer").status_code == 403
    assert post(ex.home_coordinator, application, "offer").status_code == 403
    past = post(ex.reviewer, application, "offer", {"respond_by": "2020-01-01T12:00:00"})
    assert past.status_code == 400
    assert past.json() == {"respond_by": ["The answer deadline must be in the future."]}
    malformed = post(ex.reviewer, application, "offer", {"respond_by": "next week"})
    assert malformed.status_code == 400
    assert list(malformed.json()) == ["respond_by"]

    response = post(
        ex.reviewer,
        application,
        "offer",
        {"respond_by": deadline.isoformat(), "reason": "Welcome!"},
    )

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["state"] == S.OFFERED
    assert data["decision_reason"] == "Welcome!"
    assert data["offer_expires_at"] == deadline.replace(tzinfo=LIMA).isoformat()
    application.refresh_from_db()
    assert application.offer_expires_at == deadline.replace(tzinfo=LIMA)


def test_an_offer_deadline_with_an_offset_is_kept(ex: Exchange) -> None:
    application = submitted(ex)
    deadline = (timezone.now() + dt.timedelta(days=3)).replace(microsecond=0)

    response = post(ex.reviewer, application, "offer", {"respond_by": deadline.isoformat()})

    assert response.status_code == 200
    application.refresh_from_db()
    assert application.offer_expires_at == deadline


def test_waitlist_and_decline(ex: Exchange) -> None:
    application = submitted(ex)

    assert post(ex.applicant, application, "waitlist").status_code == 403
    response = post(ex.host_coordinator, application, "waitlist", {"reason": "Strong field."})
    assert response.status_code == 200
    assert response.json()["state"] == S.WAITLISTED
    assert post(ex.reviewer, application, "decline").json() == {"reason": ["Please give a reason."]}
    assert post(ex.applicant, application, "decline", {"reason": "No."}).status_code == 403
    response = post(ex.reviewer, application, "decline", {"reason": "All places taken."})
    assert response.status_code == 200
    assert response.json()["state"] == S.DECLINED
    assert response.json()["decision_reason"] == "All places taken."
    assert response.json()["decided_at"] is not None
    refused = post(ex.reviewer, application, "waitlist")
    assert refused.status_code == 400
    assert refused.json()["non_field_errors"] == [
        "An application that is “Declined by host” cannot become “Waitlisted”."
    ]


def test_accept_decline_offer_and_confirm(ex: Exchange) -> None:
    application = offered(ex)
    other = offered(ex, applicant=ex.other_applicant)

    assert post(ex.reviewer, application, "confirm").status_code == 400  # not accepted yet
    assert post(ex.reviewer, application, "accept").status_code == 403
    response = post(ex.applicant, application, "accept")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == S.ACCEPTED
    assert response.json()["responded_at"] is not None
    assert post(ex.applicant, application, "accept").json() == {
        "non_field_errors": ["There is no open offer to accept."]
    }
    assert post(ex.applicant, application, "confirm").status_code == 403
    response = post(ex.reviewer, application, "confirm")
    assert response.status_code == 200
    assert response.json()["state"] == S.CONFIRMED

    assert post(ex.reviewer, other, "decline-offer").status_code == 403
    response = post(ex.other_applicant, other, "decline-offer", {"reason": "Another place."})
    assert response.status_code == 200
    assert response.json()["state"] == S.OFFER_DECLINED


def test_accepting_a_full_session_is_409(ex: Exchange) -> None:
    ex.session.capacity = 1
    ex.session.save()
    first = offered(ex)
    second = offered(ex, applicant=ex.other_applicant)
    assert post(ex.applicant, first, "accept").status_code == 200

    response = post(ex.other_applicant, second, "accept")

    assert response.status_code == 409
    assert "session is full" in response.json()["detail"]
    assert state_of(second) == S.OFFERED


def test_actions_are_post_only(ex: Exchange) -> None:
    application = submitted(ex)
    client = client_for(ex.reviewer)

    assert client.get(f"{API}/{application.pk}/offer/").status_code == 405
    assert client.put(f"{API}/{application.pk}/offer/", {}, format="json").status_code == 405


def test_writes_with_a_session_need_the_csrf_token(ex: Exchange) -> None:
    application = submitted(ex)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(ex.reviewer)
    url = f"{API}/{application.pk}/waitlist/"

    refused = client.post(url, {}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    request = RequestFactory().get("/")
    token = get_token(request)
    client.cookies["csrftoken"] = request.META["CSRF_COOKIE"]
    assert client.post(url, {}, format="json", HTTP_X_CSRFTOKEN=token).status_code == 200


# --- the host's private work ------------------------------------------------------------


def test_reviewers_score(ex: Exchange) -> None:
    application = submitted(ex)
    fit = ReviewCriterion.objects.create(opportunity=ex.session.opportunity, name="Fit")
    motivation = ReviewCriterion.objects.create(
        opportunity=ex.session.opportunity, name="Motivation", max_score=10, position=1
    )
    url = f"{API}/{application.pk}/scores/"
    client = client_for(ex.reviewer)

    sheet = client.get(url).json()
    assert [(c["name"], c["my_score"]) for c in sheet["criteria"]] == [
        ("Fit", None),
        ("Motivation", None),
    ]
    response = client.post(url, {"scores": {str(fit.pk): 5, str(motivation.pk): 5}}, format="json")
    assert response.status_code == 200, response.content
    sheet = response.json()
    assert [c["my_score"] for c in sheet["criteria"]] == [5, 5]
    assert sheet["summary"] == {"weighted_percent": 66.7, "count": 2, "reviewers": 1}
    assert {row["reviewer"] for row in sheet["scores"]} == {"Host Reviewer"}
    assert state_of(application) == S.UNDER_REVIEW
    # Another reviewer sees the scores, not as theirs.
    theirs = client_for(ex.host_coordinator).get(url).json()
    assert [c["my_score"] for c in theirs["criteria"]] == [None, None]
    assert detail(ex.host_coordinator, application).json()["scores"]["count"] == 2

    out_of_range = client.post(url, {"scores": {str(fit.pk): 6}}, format="json")
    assert out_of_range.status_code == 400
    assert out_of_range.json() == {f"criterion_{fit.pk}": ["Give a score from 0 to 5."]}
    assert client.post(url, {"scores": {"fit": 3}}, format="json").status_code == 400
    assert client.post(url, {"scores": {"999999": 3}}, format="json").status_code == 400


def test_comments_are_the_hosts_alone(ex: Exchange) -> None:
    application = submitted(ex)
    url = f"{API}/{application.pk}/comments/"
    reviewer = client_for(ex.reviewer)

    created = reviewer.post(url, {"body": "Strong letter of motivation."}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["author"] == "Host Reviewer"
    assert reviewer.post(url, {"body": "   "}, format="json").json() == {
        "body": ["Write a comment first."]
    }
    [comment] = client_for(ex.host_coordinator).get(url).json()
    assert comment["body"] == "Strong letter of motivation."

    for user in (ex.applicant, ex.home_coordinator, ex.other_coordinator, ex.other_applicant):
        assert client_for(user).get(url).status_code == 404
        assert client_for(user).post(url, {"body": "Hi"}, format="json").status_code == 404
        assert client_for(user).get(f"{API}/{application.pk}/scores/").status_code == 404
    # Neither the comment nor the host's review work show in the applicant's file.
    services.application_score(application=application, actor=ex.reviewer, scores={})
    mine = detail(ex.applicant, application)
    assert "Strong letter" not in mine.content.decode()
    actions = {entry["action"] for entry in mine.json()["timeline"]}
    assert not actions & {"application.commented", "application.scored"}
    hosts = {entry["action"] for entry in detail(ex.reviewer, application).json()["timeline"]}
    assert {"application.commented", "application.scored"} <= hosts


# --- the whole path ---------------------------------------------------------------------


def test_the_whole_path_through_the_api(ex: Exchange) -> None:
    applicant, reviewer = client_for(ex.applicant), client_for(ex.reviewer)
    version = DocumentVersionFactory(document__owner=ex.applicant)

    started = applicant.post(f"{API}/", {"session": ex.session.pk}, format="json")
    assert started.status_code == 201
    pk = started.json()["id"]
    patched = applicant.patch(
        f"{API}/{pk}/",
        {"statement": "Emergency medicine is my calling.", "attachments": [version.pk]},
        format="json",
    )
    assert patched.status_code == 200
    assert applicant.post(f"{API}/{pk}/submit/", format="json").status_code == 200
    assert reviewer.get(f"{API}/", {"state": S.SUBMITTED}).json()["count"] == 1
    assert reviewer.post(f"{API}/{pk}/offer/", {}, format="json").status_code == 200
    accepted = applicant.post(f"{API}/{pk}/accept/", format="json")

    assert accepted.status_code == 200
    data = accepted.json()
    assert data["state"] == S.ACCEPTED
    assert [entry["to_state"] for entry in data["timeline"] if entry["to_state"]] == [
        S.DRAFT,
        S.SUBMITTED,
        S.OFFERED,
        S.ACCEPTED,
    ]
    assert AuditEntry.objects.filter(action="application.accepted", actor=ex.applicant).exists()


def test_the_schema_documents_the_applications_api(client: Any) -> None:
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]

    assert set(paths["/api/v1/applications/"]) == {"get", "post"}
    assert set(paths["/api/v1/applications/{id}/"]) == {"get", "patch"}
    assert set(paths["/api/v1/applications/{id}/scores/"]) == {"get", "post"}
    assert set(paths["/api/v1/applications/{id}/comments/"]) == {"get", "post"}
    accept = paths["/api/v1/applications/{id}/accept/"]["post"]
    assert {"200", "400", "403", "404", "409"} <= set(accept["responses"])
    parameters = {p["name"] for p in paths["/api/v1/applications/"]["get"]["parameters"]}
    assert parameters == {
        "state",
        "session",
        "opportunity",
        "host",
        "home_institution",
        "submitted_after",
        "submitted_before",
        "ordering",
        "page",
        "page_size",
    }
