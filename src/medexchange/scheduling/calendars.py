"""Published rotations as iCalendar feeds and printable PDF rosters.

Both show the plan as last published (``RotationPlan.published_assignment``), never the
coordinator's working cells, and are written in their owner's language: a calendar app
fetches a feed without a session, so the feed carries the language of the person (or,
for a site, of the host) it belongs to.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vText  # type: ignore[import-untyped]

from medexchange.applications.letters import refuse_remote_fetch
from medexchange.scheduling import selectors
from medexchange.scheduling.models import CalendarFeed, PlanParticipant, PlanSite, RotationPlan

PRODID = "-//MedExchange//Rotation plans//EN"


def _domain() -> str:
    return settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0] or "medexchange.local"


def owner_language(plan: RotationPlan, participant: PlanParticipant | None) -> str:
    """The language a feed or roster of ``participant`` (or of a site) is written in."""
    if participant is not None:
        applicant = participant.placement.application.applicant
        if applicant is not None and applicant.preferred_language:
            return str(applicant.preferred_language)
    return str(getattr(settings, "LANGUAGE_CODE", "en")).split("-")[0]


def _site_place(site: PlanSite) -> str:
    where = site.site
    return ", ".join(part for part in (where.name, where.address, where.city) if part)


def _supervisor_lines(site: PlanSite) -> list[str]:
    return [f"{user} <{user.email}>" for user in selectors.supervisors_of(site)]


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    return calendar


def _event(
    *,
    uid: str,
    summary: str,
    start: dt.date,
    end: dt.date,
    location: str,
    description: str,
    stamp: dt.datetime,
    sequence: int,
) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("summary", summary)
    event.add("dtstart", start)
    # All-day events end on the day after the last (RFC 5545, DTEND is exclusive).
    event.add("dtend", end + dt.timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    event.add("sequence", sequence)
    if location:
        event.add("location", vText(location))
    if description:
        event.add("description", description)
    return event


def participant_calendar(plan: RotationPlan, participant: PlanParticipant) -> bytes:
    """One all-day event per stay at a site, in the participant's language."""
    sites = {site.pk: site for site in selectors.plan_sites(plan)}
    row = (plan.published_assignment or {}).get(str(participant.pk), {})
    stamp = plan.published_at or timezone.now()
    sequence = selectors.publication_version(plan)
    program = plan.session.opportunity.title
    with translation.override(owner_language(plan, participant)):
        calendar = _calendar(_("Rotation: %(program)s") % {"program": program})
        for stay in selectors.stays(plan, row, sites):
            supervisors = _supervisor_lines(stay.site)
            lines = [program, stay.label]
            if supervisors:
                lines.append(_("Site supervisors: %(names)s") % {"names": "; ".join(supervisors)})
            calendar.add_component(
                _event(
                    uid=f"rotation-{plan.pk}-p{participant.pk}-{stay.first}@{_domain()}",
                    summary=_("Rotation at %(site)s") % {"site": stay.site.site.name},
                    start=stay.start,
                    end=stay.end,
                    location=_site_place(stay.site),
                    description="\n".join(lines),
                    stamp=stamp,
                    sequence=sequence,
                )
            )
    return bytes(calendar.to_ical())


def site_calendar(plan: RotationPlan, site: PlanSite) -> bytes:
    """One all-day event per participant's stay at the site, with contact and languages."""
    sites = {s.pk: s for s in selectors.plan_sites(plan)}
    people = selectors.roster_people(plan)
    stamp = plan.published_at or timezone.now()
    sequence = selectors.publication_version(plan)
    program = plan.session.opportunity.title
    with translation.override(owner_language(plan, None)):
        calendar = _calendar(
            _("%(site)s: %(program)s") % {"site": site.site.name, "program": program}
        )
        for participant, row in sorted(
            (plan.published_assignment or {}).items(), key=lambda kv: int(kv[0])
        ):
            person = people.get(int(participant))
            if person is None:
                continue
            for stay in selectors.stays(plan, row, sites):
                if stay.site.pk != site.pk:
                    continue
                details = [program, stay.label, person.email]
                if person.phone:
                    details.append(person.phone)
                if person.languages:
                    details.append(
                        _("Languages: %(languages)s") % {"languages": ", ".join(person.languages)}
                    )
                event = _event(
                    uid=f"rotation-{plan.pk}-s{site.pk}-p{participant}-{stay.first}@{_domain()}",
                    summary=_("%(who)s at %(site)s")
                    % {"who": person.name, "site": site.short_name},
                    start=stay.start,
                    end=stay.end,
                    location=_site_place(site),
                    description="\n".join(details),
                    stamp=stamp,
                    sequence=sequence,
                )
                calendar.add_component(event)
    return bytes(calendar.to_ical())


def feed_calendar(feed: CalendarFeed) -> bytes:
    if feed.participant is not None:
        return participant_calendar(feed.plan, feed.participant)
    if feed.site is None:  # the table's check constraint rules this out
        raise ValueError("a calendar feed without a participant or a site")
    return site_calendar(feed.plan, feed.site)


# --------------------------------------------------------------------------- PDF rosters


def _pdf(template: str, context: dict[str, Any], language: str) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]

    with translation.override(language):
        html = render_to_string(
            template,
            {**context, "language": language, "bidi": translation.get_language_bidi()},
        )
        pdf: bytes = HTML(string=html, url_fetcher=refuse_remote_fetch).write_pdf()
    return pdf


def participant_roster_pdf(plan: RotationPlan, participant: PlanParticipant) -> bytes:
    """The participant's published rotation: sites, dates, addresses, supervisors."""
    sites = {site.pk: site for site in selectors.plan_sites(plan)}
    row = (plan.published_assignment or {}).get(str(participant.pk), {})
    language = owner_language(plan, participant)
    with translation.override(language):
        stays = [
            {
                "stay": stay,
                "place": _site_place(stay.site),
                "supervisors": _supervisor_lines(stay.site),
            }
            for stay in selectors.stays(plan, row, sites)
        ]
    return _pdf(
        "scheduling/roster_participant.html",
        {
            "plan": plan,
            "session": plan.session,
            "person": selectors.roster_person(participant),
            "stays": stays,
            "version": selectors.publication_version(plan),
        },
        language,
    )


def site_roster_pdf(plan: RotationPlan, site: PlanSite, language: str) -> bytes:
    """Who is on the site in each period of the published plan, with contact details."""
    with translation.override(language):
        periods = selectors.site_roster(plan, site)
    return _pdf(
        "scheduling/roster_site.html",
        {
            "plan": plan,
            "session": plan.session,
            "site": site,
            "place": _site_place(site),
            "periods": periods,
            "version": selectors.publication_version(plan),
        },
        language,
    )
