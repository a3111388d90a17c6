"""Calendar feeds of the catalog: a search's session dates in iCalendar (RFC 5545).

``/opportunities/sessions.ics?kind=course&country=KE`` accepts the same filters as
``/api/v1/sessions/`` (one shared FilterSet) and answers with one all-day event per
upcoming scheduled session of the visible, published opportunities, plus one event at each
of their application deadlines. UIDs are stable (``session-<pk>@medexchange``,
``deadline-<pk>@medexchange``), so a subscribed calendar updates events in place.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django.views.decorators.http import require_GET
from icalendar import Calendar, Event  # type: ignore[import-untyped]

from medexchange.api.catalog import SessionFilter
from medexchange.catalog.choices import OpportunityStatus
from medexchange.catalog.models import Session

# Two events per session (its dates and its deadline): at most 2,000 events per feed.
MAX_SESSIONS = 1000
UID_DOMAIN = "medexchange"
PRODUCT_ID = "-//MedExchange//Opportunity catalog//EN"


def feed_sessions(user: Any) -> QuerySet[Session]:
    """Scheduled sessions of published opportunities ``user`` may see, soonest first."""
    return (
        Session.objects.visible_to(user)
        .scheduled()
        .filter(
            opportunity__status=OpportunityStatus.PUBLISHED,
            end_date__gte=timezone.localdate(),
        )
        .select_related("opportunity__host__country")
        .order_by("start_date", "pk")
    )


def _error_text(errors: dict[str, Any]) -> str:
    lines = ["Invalid filter:"]
    for field, messages in sorted(errors.items()):
        lines.extend(f"  {field}: {message}" for message in messages)
    return "\n".join(lines) + "\n"


def _deadline_text(session: Session) -> str:
    zone_name = session.opportunity.host.time_zone
    closes = session.applications_close_at.astimezone(ZoneInfo(zone_name))
    return f"Applications close {closes:%Y-%m-%d %H:%M} ({zone_name})."


def build_calendar(sessions: list[Session], *, base_url: str, stamp: dt.datetime) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "MedExchange sessions")
    for session in sessions:
        opportunity = session.opportunity
        title = f"{opportunity.title} — {opportunity.host.name}"
        url = base_url + opportunity.get_absolute_url()
        deadline = _deadline_text(session)

        event = Event()
        event.add("uid", f"session-{session.pk}@{UID_DOMAIN}")
        event.add("dtstamp", stamp)
        event.add("summary", title)
        event.add("dtstart", session.start_date)
        # All-day events end on the day after the last one (DTEND is exclusive).
        event.add("dtend", session.end_date + dt.timedelta(days=1))
        event.add("url", url)
        event.add("location", f"{opportunity.host.city}, {opportunity.host.country.name}")
        event.add("description", f"{opportunity.summary}\n\n{deadline}\n{url}")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)

        reminder = Event()
        reminder.add("uid", f"deadline-{session.pk}@{UID_DOMAIN}")
        reminder.add("dtstamp", stamp)
        reminder.add("summary", f"Application deadline: {title}")
        reminder.add("dtstart", session.applications_close_at.astimezone(dt.UTC))
        reminder.add("url", url)
        reminder.add(
            "description",
            f"{deadline}\nSession: {session.start_date:%Y-%m-%d} to "
            f"{session.end_date:%Y-%m-%d}.\n{url}",
        )
        reminder.add("transp", "TRANSPARENT")
        calendar.add_component(reminder)
    return calendar


@require_GET
def search_calendar(request: HttpRequest) -> HttpResponse:
    filterset = SessionFilter(request.GET, queryset=feed_sessions(request.user), request=request)
    if not filterset.is_valid():
        return HttpResponseBadRequest(
            _error_text(filterset.errors), content_type="text/plain; charset=utf-8"
        )
    sessions = list(filterset.qs[:MAX_SESSIONS])
    base_url = f"{request.scheme}://{request.get_host()}"
    calendar = build_calendar(sessions, base_url=base_url, stamp=timezone.now())
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="medexchange-sessions.ics"'
    return response
