"""Saved searches: saving, listing, deleting, and the e-mail when a matching session appears."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext

from medexchange.catalog import alerts, services
from medexchange.catalog.choices import Level, OpportunityKind, OpportunityStatus, Recurrence
from medexchange.catalog.models import SAVED_SEARCH_LIMIT, SavedSearch, SavedSearchHit, Specialty
from medexchange.common.models import AuditEntry, Notification
from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = "/saved-searches/"


@pytest.fixture
def host() -> Any:
    return factories.InstitutionFactory(name="Fictional Nairobi School of Medicine")


@pytest.fixture
def coordinator(host: Any) -> Any:
    return factories.coordinator_of(host, email="coordinator@example.org")


@pytest.fixture
def applicant() -> Any:
    return factories.UserFactory(email="applicant@example.org")


@pytest.fixture
def opportunity(host: Any) -> Any:
    """A published emergency elective in Nairobi, Kenya, with one session already."""
    opportunity = factories.OpportunityFactory(host=host, title="Emergency elective in Nairobi")
    factories.SessionFactory(opportunity=opportunity)
    return opportunity


@pytest.fixture
def course() -> Any:
    """A published ultrasound course in Lima, Peru."""
    lima = factories.InstitutionFactory(
        name="Fictional Lima Institute", country=factories.country("PE"), city="Lima"
    )
    course = factories.OpportunityFactory(
        host=lima,
        title="Point of care ultrasound course",
        kind=OpportunityKind.COURSE,
        level=Level.POSTGRADUATE,
        specialty=Specialty.objects.get(code="radiology"),
    )
    factories.SessionFactory(opportunity=course)
    return course


def save(user: Any, query: str, name: str = "") -> SavedSearch:
    saved, _created = alerts.saved_search_create(user=user, query=query, name=name)
    return saved


def generate(opportunity: Any, actor: Any, count: int = 12) -> list[Any]:
    """``count`` monthly sessions from about two months ahead."""
    return services.sessions_generate(
        opportunity=opportunity,
        actor=actor,
        first_start=timezone.localdate() + dt.timedelta(days=60),
        count=count,
        recurrence=Recurrence.MONTHLY,
        capacity=3,
        open_days_before=45,
        close_days_before=15,
    )


def add_session(opportunity: Any, actor: Any, days_ahead: int = 90) -> Any:
    start = timezone.localdate() + dt.timedelta(days=days_ahead)
    return services.session_create(
        opportunity=opportunity,
        actor=actor,
        values={
            "start_date": start,
            "end_date": start + dt.timedelta(days=27),
            "capacity": 2,
            "applications_open_at": timezone.now(),
            "applications_close_at": timezone.now() + dt.timedelta(days=days_ahead - 20),
        },
    )


# --------------------------------------------------------------------------- pages


def test_saving_the_current_search(client: Any, applicant: Any) -> None:
    client.force_login(applicant)
    response = client.post(
        LIST_URL,
        {"query": "?q=ultrasound&kind=course&country=PE&page=3&sort=start&view=map", "name": ""},
    )
    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    saved = SavedSearch.objects.get()
    assert saved.user == applicant
    # Normalised: filters only, in a fixed order, without page, sort or view.
    assert saved.query == "country=PE&kind=course&q=ultrasound"
    assert saved.name == "ultrasound · Course · Peru"
    assert saved.is_active
    assert AuditEntry.objects.filter(action="saved_search.created", actor=applicant).exists()

    page = client.get(LIST_URL).content.decode()
    assert "Search saved as" in page
    assert 'href="/opportunities/?country=PE&amp;kind=course&amp;q=ultrasound"' in page
    assert date_format(timezone.localdate(saved.created_at), "DATE_FORMAT") in page
    assert f'href="/saved-searches/{saved.pk}/delete/"' in page


def test_a_name_can_be_given_and_the_same_search_is_kept_once(client: Any, applicant: Any) -> None:
    client.force_login(applicant)
    client.post(LIST_URL, {"query": "kind=course", "name": "Courses for me"})
    response = client.post(LIST_URL, {"query": "kind=course&page=2", "name": "Again"}, follow=True)
    assert [s.name for s in SavedSearch.objects.all()] == ["Courses for me"]
    assert "You already saved this search" in response.content.decode()


def test_malformed_filters_are_dropped_when_saving(applicant: Any) -> None:
    saved = save(applicant, "kind=castle&start_month=soon&level=faculty&q=")
    assert saved.query == "level=faculty"


def test_the_search_page_offers_to_save(client: Any, applicant: Any, opportunity: Any) -> None:
    anonymous = client.get("/opportunities/?kind=course").content.decode()
    assert "Sign in to save this search" in anonymous
    assert 'action="/saved-searches/"' not in anonymous

    client.force_login(applicant)
    page = client.get("/opportunities/?kind=course").content.decode()
    assert 'action="/saved-searches/"' in page
    assert 'name="query" id="save-search-query" value="kind=course"' in page
    assert "Save this search" in page
    # htmx updates keep the query of the save form current (out of band).
    partial = client.get("/opportunities/?kind=fellowship", HTTP_HX_REQUEST="true")
    assert 'value="kind=fellowship" form="save-search-form" hx-swap-oob="true"' in (
        partial.content.decode()
    )


def test_signing_in_is_required(client: Any) -> None:
    response = client.post(LIST_URL, {"query": "kind=course"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert not SavedSearch.objects.exists()


def test_at_most_twenty_saved_searches(client: Any, applicant: Any) -> None:
    for number in range(SAVED_SEARCH_LIMIT):
        SavedSearch.objects.create(user=applicant, name=f"Search {number}", query=f"q={number}")
    client.force_login(applicant)
    response = client.post(LIST_URL, {"query": "kind=course"}, follow=True)
    assert SavedSearch.objects.filter(user=applicant).count() == SAVED_SEARCH_LIMIT
    assert "You can keep up to 20 saved searches" in response.content.decode()


def test_the_list_shows_only_your_own(
    client: Any, applicant: Any, django_assert_max_num_queries: Any
) -> None:
    other = factories.UserFactory()
    save(other, "q=secret", name="Someone else's search")
    for number in range(5):
        save(applicant, f"q=word{number}")
    client.force_login(applicant)
    with django_assert_max_num_queries(12):
        page = client.get(LIST_URL).content.decode()
    assert "word4" in page
    assert "Someone else" not in page


def test_deleting_your_own_saved_search(client: Any, applicant: Any) -> None:
    saved = save(applicant, "kind=course", name="Courses")
    client.force_login(applicant)
    url = f"/saved-searches/{saved.pk}/delete/"
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Delete the saved search “Courses”?" in confirm.content.decode()
    assert SavedSearch.objects.exists()
    response = client.post(url)
    assert response.status_code == 302
    assert not SavedSearch.objects.exists()
    assert AuditEntry.objects.filter(action="saved_search.deleted").exists()


def test_another_persons_saved_search_does_not_exist_for_you(client: Any, applicant: Any) -> None:
    saved = save(factories.UserFactory(), "kind=course")
    client.force_login(applicant)
    url = f"/saved-searches/{saved.pk}/delete/"
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert client.post(LIST_URL, {"action": "pause", "pk": saved.pk}).status_code == 404
    assert client.post(LIST_URL, {"action": "pause", "pk": "nope"}).status_code == 404
    assert SavedSearch.objects.get().is_active


def test_pausing_and_resuming_alerts(client: Any, applicant: Any) -> None:
    saved = save(applicant, "kind=course")
    client.force_login(applicant)
    client.post(LIST_URL, {"action": "pause", "pk": saved.pk})
    saved.refresh_from_db()
    assert not saved.is_active
    assert "Resume alerts" in client.get(LIST_URL).content.decode()
    client.post(LIST_URL, {"action": "resume", "pk": saved.pk})
    saved.refresh_from_db()
    assert saved.is_active


# --------------------------------------------------------------------------- matching


@pytest.mark.parametrize(
    ("query", "elective", "ultrasound"),
    [
        ("", True, True),
        ("kind=clinical_elective", True, False),
        ("kind=course&kind=observership", False, True),
        ("country=KE", True, False),
        ("country=PE&level=postgraduate", False, True),
        ("q=ultrasound", False, True),
        ("q=nairobi+emergency", True, False),
        ("q=toxicology", False, False),
        ("kind=course&q=nairobi", False, False),
        ("specialty=radiology&scholarship=on", False, False),
    ],
)
def test_matching_uses_the_search_filters(
    query: str, elective: bool, ultrasound: bool, opportunity: Any, course: Any
) -> None:
    assert alerts.opportunity_matches(query, opportunity.pk) is elective
    assert alerts.opportunity_matches(query, course.pk) is ultrasound


def test_drafts_never_match(opportunity: Any) -> None:
    opportunity.status = OpportunityStatus.DRAFT
    opportunity.save()
    assert not alerts.opportunity_matches("", opportunity.pk)


# --------------------------------------------------------------------------- alerts


def test_a_generated_year_of_sessions_is_one_email(
    applicant: Any,
    coordinator: Any,
    opportunity: Any,
    course: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    saved = save(applicant, "country=KE&q=emergency", name="Kenya EM")
    save(applicant, "kind=course", name="Courses")  # matches the course, not the elective
    with django_capture_on_commit_callbacks(execute=True):
        sessions = generate(opportunity, coordinator)
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["applicant@example.org"]
    assert "Emergency elective in Nairobi" in email.subject
    body = email.body
    for session in sessions:
        assert date_format(session.start_date, "DATE_FORMAT") in body
    # The session that was public before the search was saved is not news.
    assert body.count(" to ") == 12
    assert "/saved-searches/" in body  # the unsubscribe path
    assert f"/opportunities/{opportunity.slug}/" in body
    assert SavedSearchHit.objects.filter(saved_search=saved).count() == 12
    notification = Notification.objects.get(user=applicant)
    assert notification.url == f"/opportunities/{opportunity.slug}/"
    assert "Kenya EM" in notification.message
    saved.refresh_from_db()
    assert saved.last_notified_at is not None


def test_sessions_added_one_by_one_in_one_transaction_are_one_email(
    applicant: Any, coordinator: Any, opportunity: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The import adds sessions one at a time through ``session_create``."""
    save(applicant, "kind=clinical_elective")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for days in (90, 120, 150):
            add_session(opportunity, coordinator, days_ahead=days)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].body.count(" to ") == 3


def test_publishing_alerts_once_and_republishing_does_not_repeat(
    applicant: Any, coordinator: Any, host: Any, django_capture_on_commit_callbacks: Any
) -> None:
    draft = factories.OpportunityFactory(
        host=host, title="Toxicology observership", status=OpportunityStatus.DRAFT
    )
    with django_capture_on_commit_callbacks(execute=True):
        add_session(draft, coordinator, days_ahead=90)  # a draft: nobody hears of it
    save(applicant, "q=toxicology")
    assert not mail.outbox

    with django_capture_on_commit_callbacks(execute=True):
        published = services.opportunity_publish(opportunity=draft, actor=coordinator)
    assert len(mail.outbox) == 1
    assert "Toxicology observership" in mail.outbox[0].subject

    with django_capture_on_commit_callbacks(execute=True):
        unpublished = services.opportunity_unpublish(opportunity=published, actor=coordinator)
        services.opportunity_publish(opportunity=unpublished, actor=coordinator)
    assert len(mail.outbox) == 1

    with django_capture_on_commit_callbacks(execute=True):
        new = add_session(published, coordinator, days_ahead=200)
    assert len(mail.outbox) == 2
    second = mail.outbox[1].body
    assert date_format(new.start_date, "DATE_FORMAT") in second
    assert second.count(" to ") == 1

    # Running the task again (a retry, a second worker) finds nothing new.
    alerts.saved_search_alerts_send(opportunity_id=published.pk)
    assert len(mail.outbox) == 2


def test_the_hosts_own_coordinators_are_not_alerted(
    applicant: Any, coordinator: Any, opportunity: Any, django_capture_on_commit_callbacks: Any
) -> None:
    save(coordinator, "q=emergency")
    save(applicant, "q=emergency")
    with django_capture_on_commit_callbacks(execute=True):
        add_session(opportunity, coordinator)
    assert [email.to for email in mail.outbox] == [["applicant@example.org"]]
    assert not Notification.objects.filter(user=coordinator).exists()


def test_no_alert_for_searches_that_do_not_match_or_are_paused(
    applicant: Any, coordinator: Any, opportunity: Any, django_capture_on_commit_callbacks: Any
) -> None:
    save(applicant, "kind=course")
    paused = save(factories.UserFactory(), "q=emergency")
    paused.is_active = False
    paused.save()
    with django_capture_on_commit_callbacks(execute=True):
        add_session(opportunity, coordinator)
    assert not mail.outbox
    assert not SavedSearchHit.objects.exists()


def test_a_start_month_search_lists_only_that_months_sessions(
    applicant: Any, coordinator: Any, opportunity: Any, django_capture_on_commit_callbacks: Any
) -> None:
    month = (timezone.localdate() + dt.timedelta(days=120)).replace(day=1)
    save(applicant, f"start_month={month:%Y-%m}")
    with django_capture_on_commit_callbacks(execute=True):
        sessions = generate(opportunity, coordinator, count=6)
    in_month = [
        s for s in sessions if (s.start_date.year, s.start_date.month) == (month.year, month.month)
    ]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].body.count(" to ") == len(in_month) == 1


def test_the_email_is_in_the_persons_language(
    coordinator: Any, opportunity: Any, django_capture_on_commit_callbacks: Any
) -> None:
    reader = factories.UserFactory(email="lector@example.org", preferred_language="es")
    saved = save(reader, "q=emergency", name="Urgencias")
    with django_capture_on_commit_callbacks(execute=True):
        session = add_session(opportunity, coordinator)
    email = mail.outbox[0]
    with translation.override("es"):
        expected_message = gettext(
            "A new session of “%(title)s” matches your saved search “%(name)s”."
        ) % {"title": opportunity.title, "name": saved.name}
        assert gettext("All results of your saved search:") in email.body
        # Django's own Spanish formats and month names apply even before ours exist.
        spanish_date = date_format(session.start_date, "DATE_FORMAT")
    assert " de " in spanish_date
    assert spanish_date in email.body
    assert expected_message in email.body
    assert Notification.objects.get(user=reader).message == expected_message
    assert "/saved-searches/" in email.body  # the unsubscribe path


def test_deleting_a_saved_search_stops_its_alerts(
    applicant: Any, coordinator: Any, opportunity: Any, django_capture_on_commit_callbacks: Any
) -> None:
    saved = save(applicant, "q=emergency")
    alerts.saved_search_delete(saved_search=saved, actor=applicant)
    with django_capture_on_commit_callbacks(execute=True):
        add_session(opportunity, coordinator)
    assert not mail.outbox
