"""The applicant's pages: apply, draft, checklist, submit, follow, answer the offer, withdraw."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from medexchange.applications import services
from medexchange.applications.choices import ApplicationState
from medexchange.applications.models import Application
from medexchange.common.models import Notification
from tests.applications.conftest import Exchange
from tests.documents.factories import DocumentFactory, DocumentVersionFactory

S = ApplicationState
pytestmark = pytest.mark.django_db


def _require_cv(exchange: Exchange) -> None:
    opportunity = exchange.session.opportunity
    opportunity.required_documents = ["cv"]
    opportunity.save()


def _start(client: Any, exchange: Exchange) -> Application:
    client.force_login(exchange.applicant)
    response = client.post(reverse("applications:apply", args=[exchange.session.pk]))
    application = Application.objects.get(applicant=exchange.applicant)
    assert response.status_code == 302
    assert response["Location"] == reverse("applications:edit", args=[application.pk])
    return application


def test_apply_page_shows_the_deadline_in_both_time_zones(client: Any, exchange: Exchange) -> None:
    exchange.host.time_zone = "America/Lima"
    exchange.host.save()
    exchange.applicant.time_zone = "Africa/Accra"
    exchange.applicant.save()
    client.force_login(exchange.applicant)
    response = client.get(reverse("applications:apply", args=[exchange.session.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "America/Lima" in page
    assert "Start my application" in page
    assert not Application.objects.exists(), "a GET must not create a draft"


def test_apply_needs_sign_in(client: Any, exchange: Exchange) -> None:
    response = client.get(reverse("applications:apply", args=[exchange.session.pk]))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_cancelled_session_cannot_be_applied_for(client: Any, exchange: Exchange) -> None:
    exchange.session.cancelled_at = timezone.now()
    exchange.session.save()
    client.force_login(exchange.applicant)
    assert client.get(reverse("applications:apply", args=[exchange.session.pk])).status_code == 404


def test_draft_lists_what_is_missing_then_submits(client: Any, exchange: Exchange) -> None:
    _require_cv(exchange)
    application = _start(client, exchange)
    edit = reverse("applications:edit", args=[application.pk])
    page = client.get(edit).content.decode()
    assert "Attach your CV." in page
    assert "Write a personal statement." in page

    # Submitting an incomplete file keeps the draft and says why.
    response = client.post(edit, {"statement": "", "action": "submit"}, follow=True)
    assert "Attach your CV." in response.content.decode()
    application.refresh_from_db()
    assert application.state == S.DRAFT

    cv = DocumentVersionFactory(document=DocumentFactory(owner=exchange.applicant, kind="cv"))
    response = client.post(
        edit,
        {"statement": "Emergency care at home needs me.", "document_cv": cv.pk, "action": "submit"},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == S.SUBMITTED
    assert list(application.attachments.values_list("version_id", flat=True)) == [cv.pk]
    assert Notification.objects.filter(user=exchange.reviewer).exists()


def test_an_expiring_document_is_flagged_before_submission(client: Any, exchange: Exchange) -> None:
    _require_cv(exchange)
    application = _start(client, exchange)
    expiring = exchange.session.start_date + dt.timedelta(days=3)
    cv = DocumentVersionFactory(
        document=DocumentFactory(owner=exchange.applicant, kind="cv", expires_on=expiring)
    )
    edit = reverse("applications:edit", args=[application.pk])
    client.post(edit, {"statement": "Hello.", "document_cv": cv.pk, "action": "save"})
    page = client.get(edit).content.decode()
    assert "before the session ends" in page
    client.post(edit, {"statement": "Hello.", "document_cv": cv.pk, "action": "submit"})
    application.refresh_from_db()
    assert application.state == S.DRAFT


def test_someone_elses_document_cannot_be_attached(client: Any, exchange: Exchange) -> None:
    _require_cv(exchange)
    application = _start(client, exchange)
    stranger = DocumentVersionFactory(document=DocumentFactory(kind="cv"))
    edit = reverse("applications:edit", args=[application.pk])
    response = client.post(edit, {"statement": "Hi.", "document_cv": stranger.pk, "action": "save"})
    assert response.status_code == 200  # the choice is not among the applicant's own
    assert not application.attachments.exists()


def test_statement_too_long_is_a_field_error(client: Any, exchange: Exchange) -> None:
    application = _start(client, exchange)
    edit = reverse("applications:edit", args=[application.pk])
    response = client.post(edit, {"statement": "x" * 5001, "action": "save"})
    assert response.status_code == 200
    assert "at most 5000 characters" in response.content.decode()
    application.refresh_from_db()
    assert application.statement == ""


def _submitted(exchange: Exchange) -> Application:
    application = services.application_start(
        applicant=exchange.applicant, session=exchange.session, actor=exchange.applicant
    )
    services.application_save_draft(
        application=application, actor=exchange.applicant, statement="I want to learn."
    )
    return services.application_submit(application=application, actor=exchange.applicant)


def test_detail_shows_the_timeline_with_actors(client: Any, exchange: Exchange) -> None:
    application = _submitted(exchange)
    services.application_score(application=application, actor=exchange.reviewer, scores={})
    services.application_comment(
        application=application, actor=exchange.reviewer, body="Private: strong file."
    )
    services.application_offer(application=application, actor=exchange.reviewer)
    client.force_login(exchange.applicant)
    page = client.get(application.get_absolute_url()).content.decode()
    assert "Draft → Submitted" in page
    assert "Under review → Offered a place" in page
    assert "Host Reviewer" in page
    assert "Accept the place" in page
    assert "Private: strong file." not in page
    assert "Reviewer comment" not in page


def test_accepting_from_the_page_opens_the_checklist(client: Any, exchange: Exchange) -> None:
    application = _submitted(exchange)
    services.application_offer(application=application, actor=exchange.reviewer)
    client.force_login(exchange.applicant)
    response = client.post(reverse("applications:accept", args=[application.pk]), follow=True)
    page = response.content.decode()
    assert "You accepted the place." in page
    assert "Pre-departure checklist" in page
    application.refresh_from_db()
    assert application.state == S.ACCEPTED

    item = application.checklist.get(kind="visa")
    client.post(reverse("applications:checklist-tick", args=[item.pk]), {"done": "1"})
    item.refresh_from_db()
    assert item.applicant_done_at is not None and item.host_done_at is None
    client.force_login(exchange.host_coordinator)
    client.post(reverse("applications:checklist-tick", args=[item.pk]), {"done": "1"})
    item.refresh_from_db()
    assert item.is_done


def test_accepting_a_full_session_says_so(client: Any, exchange: Exchange) -> None:
    exchange.session.capacity = 0
    exchange.session.save()
    application = _submitted(exchange)
    services.application_offer(application=application, actor=exchange.reviewer)
    client.force_login(exchange.applicant)
    response = client.post(reverse("applications:accept", args=[application.pk]), follow=True)
    assert "the session is full" in response.content.decode()
    application.refresh_from_db()
    assert application.state == S.OFFERED


def test_declining_an_offer_and_withdrawing(client: Any, exchange: Exchange) -> None:
    application = _submitted(exchange)
    services.application_offer(application=application, actor=exchange.reviewer)
    client.force_login(exchange.applicant)
    url = reverse("applications:decline-offer", args=[application.pk])
    assert "Decline the offer" in client.get(url).content.decode()
    client.post(url, {"reason": "I matched elsewhere."})
    application.refresh_from_db()
    assert application.state == S.OFFER_DECLINED
    # A closed application offers no withdrawal.
    page = client.get(reverse("applications:withdraw", args=[application.pk])).content.decode()
    assert "already closed" in page


def test_withdrawing_a_submitted_application(client: Any, exchange: Exchange) -> None:
    application = _submitted(exchange)
    client.force_login(exchange.applicant)
    response = client.post(
        reverse("applications:withdraw", args=[application.pk]), {"reason": "Visa refused."}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == S.WITHDRAWN
    assert Notification.objects.filter(user=exchange.reviewer, message__contains="withdrew")


def test_my_applications_lists_only_mine_with_the_next_step(
    client: Any, exchange: Exchange, django_assert_max_num_queries: Any
) -> None:
    _submitted(exchange)
    other = services.application_start(
        applicant=exchange.other_applicant, session=exchange.session, actor=exchange.other_applicant
    )
    client.force_login(exchange.applicant)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("applications:mine")).content.decode()
    assert exchange.session.opportunity.title in page
    assert "The host decides by" in page
    assert reverse("applications:edit", args=[other.pk]) not in page


def test_empty_dashboard_points_to_the_catalog(client: Any, exchange: Exchange) -> None:
    client.force_login(exchange.other_applicant)
    page = client.get(reverse("applications:mine")).content.decode()
    assert "You have not applied for anything yet." in page
    assert reverse("catalog:search") in page


@pytest.mark.parametrize("name", ["detail", "edit", "withdraw", "decline-offer"])
def test_strangers_get_404(client: Any, exchange: Exchange, name: str) -> None:
    application = _submitted(exchange)
    for stranger in (exchange.other_applicant, exchange.other_coordinator):
        client.force_login(stranger)
        assert client.get(reverse(f"applications:{name}", args=[application.pk])).status_code == 404


@pytest.mark.parametrize("name", ["accept", "withdraw", "decline-offer"])
def test_strangers_cannot_act(client: Any, exchange: Exchange, name: str) -> None:
    application = _submitted(exchange)
    services.application_offer(application=application, actor=exchange.reviewer)
    for stranger in (exchange.other_applicant, exchange.host_coordinator):
        client.force_login(stranger)
        response = client.post(reverse(f"applications:{name}", args=[application.pk]))
        assert response.status_code == 404
    application.refresh_from_db()
    assert application.state == S.OFFERED


def test_each_person_hears_in_their_own_language(
    exchange: Exchange, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    exchange.applicant.preferred_language = "es"
    exchange.applicant.save()
    exchange.reviewer.preferred_language = "ar"
    exchange.reviewer.save()
    with django_capture_on_commit_callbacks(execute=True):
        _submitted(exchange)
    title = exchange.session.opportunity.title
    mine = Notification.objects.get(user=exchange.applicant)
    assert mine.message == f"Se envió su solicitud para {title}."
    theirs = Notification.objects.get(user=exchange.reviewer)
    assert "طلب" in theirs.message and title in theirs.message
    to_applicant = next(mail for mail in mailoutbox if mail.to == [exchange.applicant.email])
    assert "Se envió su solicitud" in to_applicant.body
