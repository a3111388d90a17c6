"""The iCalendar feed of a search's session dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from icalendar import Calendar  # type: ignore[import-untyped]

from medexchange.catalog.choices import Level, OpportunityKind, OpportunityStatus
from medexchange.catalog.views import feeds
from tests import factories

pytestmark = pytest.mark.django_db

FEED = "/opportunities/sessions.ics"


def session_for(opportunity: Any, start_in_days: int, **kwargs: Any) -> Any:
    start = timezone.localdate() + dt.timedelta(days=start_in_days)
    values: dict[str, Any] = {
        "opportunity": opportunity,
        "start_date": start,
        "end_date": start + dt.timedelta(days=opportunity.duration_days - 1),
        "applications_open_at": timezone.now() - dt.timedelta(days=10),
        "applications_close_at": dt.datetime.combine(
            start - dt.timedelta(days=42), dt.time(23, 59), tzinfo=dt.UTC
        ),
    }
    values.update(kwargs)
    return factories.SessionFactory(**values)


@pytest.fixture
def sessions(network: Any, africa_network: Any) -> dict[str, Any]:
    nairobi = factories.InstitutionFactory(
        name="Nairobi School", slug="nairobi", time_zone="Africa/Nairobi"
    )
    accra = factories.InstitutionFactory(
        name="Accra Hospital", slug="accra", country=factories.country("GH"), city="Accra"
    )
    factories.MembershipFactory(institution=nairobi, network=network)
    factories.MembershipFactory(institution=accra, network=africa_network)
    elective = factories.OpportunityFactory(
        host=nairobi, slug="elective", title="Emergency elective"
    )
    course = factories.OpportunityFactory(
        host=accra,
        slug="ecg",
        title="ECG course",
        kind=OpportunityKind.COURSE,
        level=Level.POSTGRADUATE,
        duration_days=2,
    )
    draft = factories.OpportunityFactory(
        host=nairobi, slug="draft", title="Draft", status=OpportunityStatus.DRAFT
    )
    return {
        "nairobi": nairobi,
        "elective": session_for(elective, 60),
        "course": session_for(course, 100),
        "past": session_for(
            elective,
            -40,
            applications_close_at=timezone.now() - dt.timedelta(days=80),
            applications_open_at=timezone.now() - dt.timedelta(days=160),
        ),
        "cancelled": session_for(elective, 120, cancelled_at=timezone.now()),
        "draft": session_for(draft, 60),
    }


def events(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_feed_has_a_day_event_and_a_deadline_per_upcoming_session(
    client: Client, sessions: dict[str, Any]
) -> None:
    found = events(client.get(FEED))

    elective, course = sessions["elective"], sessions["course"]
    assert set(found) == {
        f"session-{elective.pk}@medexchange",
        f"deadline-{elective.pk}@medexchange",
        f"session-{course.pk}@medexchange",
        f"deadline-{course.pk}@medexchange",
    }
    event = found[f"session-{elective.pk}@medexchange"]
    assert str(event["SUMMARY"]) == "Emergency elective — Nairobi School"
    assert event.decoded("DTSTART") == elective.start_date
    # DTEND of an all-day event is exclusive: the day after the last day.
    assert event.decoded("DTEND") == elective.end_date + dt.timedelta(days=1)
    assert str(event["URL"]) == "http://testserver/opportunities/elective/"
    # 23:59 UTC is 02:59 the next day in Nairobi.
    closes = elective.applications_close_at + dt.timedelta(hours=3)
    assert f"Applications close {closes:%Y-%m-%d} 02:59 (Africa/Nairobi)" in str(
        event["DESCRIPTION"]
    )

    deadline = found[f"deadline-{elective.pk}@medexchange"]
    assert str(deadline["SUMMARY"]).startswith("Application deadline: Emergency elective")
    assert deadline.decoded("DTSTART") == elective.applications_close_at
    assert "VALARM" not in deadline.to_ical().decode()


def test_feed_uses_the_api_filters(client: Client, sessions: dict[str, Any]) -> None:
    course = sessions["course"]
    for query in ({"kind": "course"}, {"country": "GH"}, {"network": "africa"}):
        assert set(events(client.get(FEED, query))) == {
            f"session-{course.pk}@medexchange",
            f"deadline-{course.pk}@medexchange",
        }
    assert events(client.get(FEED, {"specialty": "toxicology"})) == {}
    elective = sessions["elective"]
    assert f"session-{elective.pk}@medexchange" in events(
        client.get(FEED, {"level": "undergraduate"})
    )


def test_drafts_stay_out_of_the_feed_even_for_their_coordinator(
    client: Client, sessions: dict[str, Any]
) -> None:
    client.force_login(factories.coordinator_of(sessions["nairobi"]))
    assert f"session-{sessions['draft'].pk}@medexchange" not in events(client.get(FEED))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"kind": "picnic"}, "kind"),
        ({"start_after": "2026-02-30"}, "start_after"),
        ({"network": "nowhere"}, "network"),
    ],
)
def test_malformed_filters_are_a_400_with_the_reason(
    client: Client, sessions: dict[str, Any], query: dict[str, str], field: str
) -> None:
    response = client.get(FEED, query)

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert f"{field}:" in response.content.decode()


def test_feed_is_limited_and_runs_a_fixed_number_of_queries(
    client: Client,
    sessions: dict[str, Any],
    monkeypatch: Any,
    django_assert_max_num_queries: Any,
) -> None:
    monkeypatch.setattr(feeds, "MAX_SESSIONS", 3)
    for days in range(80, 90):
        session_for(sessions["course"].opportunity, days)

    # sessions with opportunity, host and country; plus the network lookup
    with django_assert_max_num_queries(2):
        found = events(client.get(FEED, {"network": "africa"}))
    assert len(found) == 6


def test_feed_answers_only_get(client: Client, sessions: dict[str, Any]) -> None:
    assert client.post(FEED).status_code == 405
