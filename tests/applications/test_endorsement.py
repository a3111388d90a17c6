"""The home institution endorses (or not) its applicants, and follows them abroad."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from medexchange.applications import services
from medexchange.applications.choices import ApplicationState
from medexchange.applications.models import Application
from medexchange.common.models import AuditEntry
from tests.applications.conftest import Exchange
from tests.applications.review_helpers import attach_cv, submit, use_private_root

S = ApplicationState
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_files(settings: Any, tmp_path: Path) -> None:
    use_private_root(settings, tmp_path)


def endorsement_url(application: Application) -> str:
    return reverse("applications:endorsement", kwargs={"pk": application.pk})


def outbound_url(exchange: Exchange) -> str:
    return reverse("applications:outbound", kwargs={"slug": exchange.home.slug})


def test_the_home_coordinator_sees_the_file_and_endorses(client: Any, exchange: Exchange) -> None:
    application = submit(exchange, endorsement=True)
    cv = attach_cv(application)
    client.force_login(exchange.home_coordinator)

    page = client.get(endorsement_url(application)).content.decode()
    assert "I want to learn emergency care in Lima." in page
    assert reverse("documents:download", kwargs={"pk": cv.pk}) in page
    assert "Endorse and send to the host" in page

    response = client.post(
        endorsement_url(application), {"action": "endorse", "endorse-note": "A strong student."}
    )

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == S.ENDORSED
    assert application.reached_host_at is not None
    assert application.endorsement_note == "A strong student."
    client.force_login(exchange.reviewer)
    assert (
        client.get(reverse("applications:review", kwargs={"pk": application.pk})).status_code == 200
    )


def test_declining_an_endorsement_needs_a_reason(client: Any, exchange: Exchange) -> None:
    application = submit(exchange, endorsement=True)
    client.force_login(exchange.home_coordinator)

    response = client.post(
        endorsement_url(application), {"action": "decline", "decline-reason": ""}
    )

    assert response.status_code == 400
    assert response.context["decline_form"].errors["reason"]
    application.refresh_from_db()
    assert application.state == S.SUBMITTED
    assert not AuditEntry.objects.filter(action="application.endorsement_declined").exists()

    client.post(
        endorsement_url(application), {"action": "decline", "decline-reason": "Exams that month."}
    )
    application.refresh_from_db()
    assert application.state == S.NOT_ENDORSED
    client.force_login(exchange.applicant)
    assert "Exams that month." in client.get(application.get_absolute_url()).content.decode()


def test_an_application_not_waiting_shows_no_forms(client: Any, exchange: Exchange) -> None:
    application = submit(exchange)  # this host does not require an endorsement
    client.force_login(exchange.home_coordinator)
    page = client.get(endorsement_url(application)).content.decode()
    assert "does not require an endorsement" in page
    assert 'value="endorse"' not in page
    response = client.post(endorsement_url(application), {"action": "endorse"})
    assert response.status_code == 400
    application.refresh_from_db()
    assert application.state == S.SUBMITTED


def test_strangers_get_404_and_visitors_sign_in(client: Any, exchange: Exchange) -> None:
    application = submit(exchange, endorsement=True)
    urls = [endorsement_url(application), outbound_url(exchange)]
    for user in (
        exchange.other_coordinator,
        exchange.other_applicant,
        exchange.host_coordinator,
        exchange.reviewer,
        exchange.applicant,
    ):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
        post = client.post(urls[0], {"action": "endorse"})
        assert post.status_code == 404
    client.logout()
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_the_outbound_dashboard_lists_waiting_first_and_who_is_abroad(
    client: Any, exchange: Exchange
) -> None:
    waiting = submit(exchange, endorsement=True)
    abroad = submit(exchange, exchange.other_applicant)
    services.application_offer(application=abroad, actor=exchange.host_coordinator)
    services.application_accept(application=abroad, actor=exchange.other_applicant)
    services.application_confirm(application=abroad, actor=exchange.host_coordinator)
    session = exchange.session
    today = timezone.localdate()
    session.start_date, session.end_date = (
        today - dt.timedelta(days=3),
        today + dt.timedelta(days=9),
    )
    session.save()
    client.force_login(exchange.home_coordinator)

    response = client.get(outbound_url(exchange))

    assert [a.pk for a in response.context["waiting"]] == [waiting.pk]
    rows = list(response.context["applications"])
    assert [a.pk for a in rows] == [abroad.pk, waiting.pk]  # abroad now first
    assert rows[0].abroad_now and not rows[1].abroad_now
    page = response.content.decode()
    assert "abroad now" in page
    assert 'class="highlight"' in page
    assert "Fictional Lima Teaching Hospital" in page


def test_the_outbound_dashboard_has_an_empty_state(client: Any, exchange: Exchange) -> None:
    client.force_login(exchange.home_coordinator)
    page = client.get(outbound_url(exchange)).content.decode()
    assert "Nothing waits for your endorsement." in page
    assert "None of your people has submitted an application yet." in page
