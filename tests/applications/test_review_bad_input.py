"""Garbage on the applications pages is a 4xx or a field error, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from medexchange.applications import services
from medexchange.applications.models import Application
from tests.applications.conftest import Exchange
from tests.applications.review_helpers import criteria, submit

pytestmark = pytest.mark.django_db


def accepted(exchange: Exchange) -> Application:
    application = submit(exchange)
    services.application_offer(application=application, actor=exchange.host_coordinator)
    return services.application_accept(application=application, actor=exchange.applicant)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"action": ""},
        {"action": "nonsense"},
        {"action": "score"},
        {"action": "score", "criterion_default": "abc"},
        {"action": "score", "criterion_default": "99"},
        {"action": "score", "criterion_default": "-1"},
        {"action": "score", "criterion_default": "1e3"},
        {"action": "score", "criterion_default": "99999999999999999999999"},
        {"action": "score", "criterion_999": "3"},
        {"action": "comment"},
        {"action": "comment", "body": "x" * 6000},
        {"action": "comment", "body": "a\x00b"},
        {"action": "offer"},
        {"action": "offer", "offer-respond_by": "garbage"},
        {"action": "offer", "offer-respond_by": "2001-01-01T10:00"},
        {"action": "offer", "offer-respond_by": "9999-12-31T23:59"},
        {"action": "offer", "offer-respond_by": "2099-13-45T25:61"},
        {"action": "offer", "offer-respond_by": "0001-01-01"},
        {"action": "waitlist", "waitlist-reason": "x" * 3000},
        {"action": "decline"},
        {"action": "decline", "decline-reason": "   "},
        {"action": "confirm"},
    ],
)
def test_review_actions_with_bad_input(exchange: Exchange, client: Any, data: dict) -> None:
    application = submit(exchange)
    client.force_login(exchange.host_coordinator)
    response = client.post(reverse("applications:review", args=[application.pk]), data)
    assert response.status_code in {302, 400}, response.status_code


@pytest.mark.parametrize(
    "data",
    [
        {"action": "score", "criterion_X": "3"},
        {"action": "score", "criterion_1": "abc"},
        {"action": "score", "criterion_1": "11"},
    ],
)
def test_scores_with_criteria(exchange: Exchange, client: Any, data: dict) -> None:
    rows = criteria(exchange)
    application = submit(exchange)
    client.force_login(exchange.reviewer)
    data = {key.replace("criterion_1", f"criterion_{rows[1].pk}"): v for key, v in data.items()}
    response = client.post(reverse("applications:review", args=[application.pk]), data)
    assert response.status_code in {302, 400}


def test_review_document_query_garbage(exchange: Exchange, client: Any) -> None:
    application = submit(exchange)
    client.force_login(exchange.reviewer)
    for value in ["abc", "99999999999999999999999", "-1", "²"]:
        url = reverse("applications:review", args=[application.pk]) + f"?document={value}"
        assert client.get(url).status_code == 200
        assert client.post(url, {"action": "comment", "body": "hi"}).status_code == 302


@pytest.mark.parametrize("kind", ["nonsense", "ACCEPTANCE", "acceptance%00", "x" * 300])
def test_letter_kind_not_in_choices(exchange: Exchange, client: Any, kind: str) -> None:
    application = accepted(exchange)
    client.force_login(exchange.host_coordinator)
    issue = f"/applications/{application.pk}/letters/{kind}/issue/"
    assert client.post(issue).status_code == 404
    assert client.get(f"/applications/{application.pk}/letters/{kind}.pdf").status_code == 404


@pytest.mark.parametrize(
    "code",
    ["%00", "ab%00cd", "%C3%9F", "%EF%AC%81", "a" * 200, "%E2%80%AE", "..", "%2e%2e", "<script>"],
)
def test_verify_codes_with_odd_characters(client: Any, db: Any, code: str) -> None:
    response = client.get(f"/verify/{code}/", follow=True)
    assert response.status_code in {200, 404, 429}


@pytest.mark.parametrize(
    "code", ["a/b", "AB/CD", "\x00", "a\x00", "?", "#", "%", "ß" * 40, " ", "--", "ﬁ"]
)
def test_verify_form_with_odd_characters(client: Any, db: Any, code: str) -> None:
    response = client.get("/verify/", {"code": code}, follow=True)
    assert response.status_code in {200, 404, 429}


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"name": ""},
        {"name": "X", "weight": "abc", "max_score": "5", "position": "0"},
        {"name": "X", "weight": "0", "max_score": "5", "position": "0"},
        {"name": "X", "weight": "100", "max_score": "5", "position": "0"},
        {"name": "X", "weight": "1e400", "max_score": "5", "position": "0"},
        {"name": "X", "weight": "NaN", "max_score": "5", "position": "0"},
        {"name": "X", "weight": "Infinity", "max_score": "5", "position": "0"},
        {"name": "X", "weight": "1", "max_score": "0", "position": "0"},
        {"name": "X", "weight": "1", "max_score": "99999", "position": "0"},
        {"name": "X", "weight": "1", "max_score": "5", "position": "-1"},
        {"name": "X", "weight": "1", "max_score": "5", "position": "99999999"},
        {"name": "X" * 500, "weight": "1", "max_score": "5", "position": "0"},
    ],
)
def test_criteria_forms(exchange: Exchange, client: Any, data: dict) -> None:
    client.force_login(exchange.host_coordinator)
    slug = exchange.session.opportunity.slug
    response = client.post(reverse("applications:criteria", args=[slug]), data)
    assert response.status_code in {302, 400}
    rows = criteria(exchange)
    response = client.post(reverse("applications:criterion-edit", args=[slug, rows[0].pk]), data)
    assert response.status_code in {200, 302, 400}
    response = client.post(
        reverse("applications:criterion-delete", args=[slug, rows[0].pk]), {"confirm": "maybe"}
    )
    assert response.status_code in {200, 302, 400}


def test_endorsement_with_bad_input(exchange: Exchange, client: Any) -> None:
    application = submit(exchange, endorsement=True)
    client.force_login(exchange.home_coordinator)
    url = reverse("applications:endorsement", args=[application.pk])
    for data in [
        {},
        {"action": "x"},
        {"action": "decline"},
        {"action": "endorse", "endorse-note": "x" * 3000},
    ]:
        assert client.post(url, data).status_code in {302, 400}


def test_applicant_posts_with_bad_input(exchange: Exchange, client: Any) -> None:
    application = submit(exchange)
    client.force_login(exchange.applicant)
    for name in ["withdraw", "decline-offer", "accept"]:
        url = reverse(f"applications:{name}", args=[application.pk])
        assert client.post(url, {"reason": "x" * 3000}).status_code in {200, 302, 400}
    accepted_application = application
    services.application_offer(application=accepted_application, actor=exchange.host_coordinator)
    services.application_accept(application=accepted_application, actor=exchange.applicant)
    item = accepted_application.checklist.first()
    url = reverse("applications:checklist-tick", args=[item.pk])
    for data in [{}, {"done": "x"}, {"done": "1", "note": "x" * 3000}, {"note": "\x00"}]:
        assert client.post(url, data).status_code in {302, 400}


def test_letter_templates_bad_input(exchange: Exchange, client: Any) -> None:
    client.force_login(exchange.host_coordinator)
    url = reverse("applications:letter-templates", args=[exchange.host.slug])
    for data in [
        {},
        {"kind": "nonsense"},
        {"kind": "acceptance"},
        {
            "kind": "acceptance",
            "acceptance-body": "{nope} {applicant.__class__}",
            "acceptance-signatory_name": "X",
        },
        {
            "kind": "acceptance",
            "acceptance-body": "{ {{ }} {0} {applicant",
            "acceptance-signatory_name": "X",
            "action": "preview",
        },
        {"kind": "acceptance", "acceptance-body": "x" * 20000, "acceptance-signatory_name": "X"},
    ]:
        assert client.post(url, data).status_code in {200, 302, 400}


def test_edit_draft_bad_input(exchange: Exchange, client: Any) -> None:
    application = services.application_start(
        applicant=exchange.applicant, session=exchange.session, actor=exchange.applicant
    )
    client.force_login(exchange.applicant)
    url = reverse("applications:edit", args=[application.pk])
    for data in [
        {"statement": "x" * 6000},
        {"statement": "ok", "extra_documents": ["abc", "99999999999999999999"]},
        {"statement": "ok", "document_cv": "abc"},
        {"statement": "ok", "action": "submit"},
    ]:
        assert client.post(url, data).status_code in {200, 302, 400}


def test_queue_filters_garbage(exchange: Exchange, client: Any) -> None:
    submit(exchange)
    client.force_login(exchange.reviewer)
    url = reverse("applications:queue", args=[exchange.session.pk])
    for query in [
        "?sort=evil",
        "?state=zzz",
        "?country=ZZ",
        "?page=abc",
        "?page=99999999999999999999",
        "?q=%00",
    ]:
        assert client.get(url + query).status_code == 200


def test_review_document_query_with_attachment(exchange: Exchange, client: Any) -> None:
    from tests.applications.review_helpers import attach_cv

    application = submit(exchange)
    attach_cv(application)
    client.force_login(exchange.reviewer)
    for value in ["abc", "²", "٣", "-1"]:
        url = reverse("applications:review", args=[application.pk]) + f"?document={value}"
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("respond_by", ["9999-12-31T23:59", "2999-01-01T10:00"])
def test_an_offer_deadline_after_the_session_starts_is_a_field_error(
    exchange: Exchange, client: Any, respond_by: str
) -> None:
    exchange.host.time_zone = "America/Lima"  # 9999-12-31 23:59 there is past year 9999 in UTC
    exchange.host.save()
    application = submit(exchange)
    client.force_login(exchange.reviewer)
    response = client.post(
        reverse("applications:review", args=[application.pk]),
        {"action": "offer", "offer-respond_by": respond_by},
    )
    assert response.status_code == 400
    assert response.context["offer_form"].errors["respond_by"] == [
        "The answer deadline cannot be after the session starts."
    ]
    application.refresh_from_db()
    assert application.state == "submitted"


def test_verify_with_a_slash_or_nul_is_an_unknown_code(client: Any, db: Any) -> None:
    response = client.get("/verify/", {"code": "AB/CD"})
    assert response.status_code == 404
    assert "There is no letter with the code AB/CD" in response.content.decode()
    assert client.get("/verify/AB%00CD/").status_code == 404


def test_a_nul_character_in_a_checklist_note_is_refused(exchange: Exchange, client: Any) -> None:
    item = accepted(exchange).checklist.first()
    client.force_login(exchange.applicant)
    response = client.post(
        reverse("applications:checklist-tick", args=[item.pk]), {"done": "1", "note": "a\x00b"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.applicant_done_at is None
    assert item.note == ""


def test_a_nul_character_in_a_revoke_reason_is_refused(exchange: Exchange, client: Any) -> None:
    from medexchange.applications import letters

    letter = letters.letter_issue(
        application=accepted(exchange), kind="acceptance", actor=exchange.reviewer
    )
    client.force_login(exchange.reviewer)
    response = client.post(
        reverse("applications:letter-revoke", args=[letter.pk]), {"reason": "oops\x00"}
    )
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.revoked_at is None
