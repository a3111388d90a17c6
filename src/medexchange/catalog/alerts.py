"""Saved searches and their alerts: "tell me when a new matching session is published".

A saved search keeps the search page's filters as a normalised query string. When
sessions become public — an opportunity is published, or a session is created, generated
or imported for a published one — the catalog services queue ``saved_search_alerts_send``
after the commit with the opportunity's primary key. The task finds every active saved
search whose filters match the opportunity (``OpportunitySearchFilter``, the search page's
own filters, free text included) and sends each owner one notification — in the app and
by e-mail, in their language — listing the sessions that are new *to that saved search*:

- upcoming and scheduled, and public only since the search was saved (created after it,
  or the opportunity was (re-)published after it);
- never announced to it before: each announced session is recorded as a
  ``SavedSearchHit``, under a row lock on the saved search, with a unique constraint
  behind it, so two tasks racing over the same opportunity announce each session once.

So a generated year of twelve sessions, or an import of twelve rows, is one e-mail per
saved search listing twelve dates (the first task to run announces them all; the others
find nothing new). The host's own coordinators are never alerted about their own
opportunities. Each alert links to the saved searches page, where the search is paused
or deleted: the unsubscribe path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from celery import shared_task
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.accounts.models import InstitutionRole
from medexchange.catalog.choices import OpportunityStatus
from medexchange.catalog.filters import (
    OpportunitySearchFilter,
    searchable_opportunities,
    upcoming_sessions,
)
from medexchange.catalog.models import (
    SAVED_SEARCH_LIMIT,
    Opportunity,
    SavedSearch,
    SavedSearchHit,
    Session,
)
from medexchange.common.notifications import notify_users
from medexchange.common.services import audit_record

#: Query-string names that are not filters: they never make a saved search differ.
NOT_SAVED = frozenset({"page", "sort", "view", "near"})
#: At most this many session dates are listed in one e-mail (the rest are counted).
SESSIONS_LISTED = 24


# --------------------------------------------------------------------------- queries


def _filterset(query: str | QueryDict, queryset: QuerySet[Opportunity]) -> OpportunitySearchFilter:
    data = query if isinstance(query, QueryDict) else QueryDict(query)
    filterset = OpportunitySearchFilter(data, queryset=queryset)
    filterset.is_valid()  # fills ``cleaned_data`` with the valid filters only
    return filterset


def normalise_query(query: str | QueryDict) -> str:
    """The search filters of ``query`` as a canonical query string.

    Only known filters with a non-empty, valid value are kept (no page, sort, view or
    place to sort by), names and values in a fixed order, so the same search saved twice
    is the same string.
    """
    data = query if isinstance(query, QueryDict) else QueryDict(query)
    names = [name for name in OpportunitySearchFilter.base_filters if name not in NOT_SAVED]
    filterset = _filterset(data, Opportunity.objects.none())
    kept = QueryDict(mutable=True)
    for name in sorted(names):
        if name in filterset.errors:
            continue
        values = sorted({value.strip() for value in data.getlist(name) if value.strip()})
        if values:
            kept.setlist(name, values)
    return kept.urlencode()


def query_summary(query: str) -> str:
    """A readable summary of the filters, e.g. ``ultrasound · Course · Kenya``."""
    filterset = _filterset(query, Opportunity.objects.none())
    data = filterset.form.cleaned_data
    parts: list[str] = []
    for name, field in filterset.form.fields.items():
        value = data.get(name)
        if name in NOT_SAVED or not value:
            continue
        if name == "q":
            parts.append(str(value))
        elif name == "start_month":
            parts.append(
                _("starting %(month)s") % {"month": date_format(value, "YEAR_MONTH_FORMAT")}
            )
        elif value is True:
            parts.append(str(field.label))
        else:
            values = list(value) if isinstance(value, list | tuple | QuerySet) else [value]
            # Model choices (networks) name themselves; coded choices need their labels.
            labels = dict(field.choices) if isinstance(values[0], str) else {}
            parts.append(", ".join(str(labels.get(item, item)) for item in values))
    return " · ".join(parts)[:200] or _("All opportunities")


def opportunity_matches(query: str, opportunity_id: int) -> bool:
    """Whether the search page with ``query`` would list this opportunity.

    Facets and free text are those of the search page. The text is searched over the
    whole catalog and then narrowed to this opportunity, because on PostgreSQL the
    search falls back to fuzzy (trigram) matching when *nothing* matches the exact
    words: over a one-row queryset every non-matching text would fall back, so a
    misspelling-tolerant match would alert about opportunities the page does not show.
    """
    filterset = _filterset(query, searchable_opportunities(AnonymousUser()))
    searched = filterset.text_queryset(filterset.queryset)
    return filterset.facet_queryset(searched).filter(pk=opportunity_id).exists()


def _session_condition(query: str) -> Q:
    """Filters that also narrow which sessions are news (a "starting in" month)."""
    month = _filterset(query, Opportunity.objects.none()).form.cleaned_data.get("start_month")
    if not isinstance(month, dt.date):
        return Q()
    next_month = (month + dt.timedelta(days=32)).replace(day=1)
    return Q(start_date__gte=month, start_date__lt=next_month)


# --------------------------------------------------------------------------- services


@transaction.atomic
def saved_search_create(
    *, user: Any, query: str | QueryDict, name: str = ""
) -> tuple[SavedSearch, bool]:
    """Save the filters of ``query`` for ``user`` (at most ``SAVED_SEARCH_LIMIT`` each).

    Returns the saved search and whether it is new: the same filters saved again give
    the existing one, unchanged.
    """
    # The person's row is the lock: two tabs saving at once cannot pass the limit.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    normalised = normalise_query(query)
    existing = SavedSearch.objects.filter(user=user, query=normalised).first()
    if existing is not None:
        return existing, False
    if SavedSearch.objects.filter(user=user).count() >= SAVED_SEARCH_LIMIT:
        raise ValidationError(
            _(
                "You can keep up to %(limit)d saved searches. "
                "Delete one you no longer need to save this one."
            )
            % {"limit": SAVED_SEARCH_LIMIT}
        )
    saved = SavedSearch(
        user=user, query=normalised, name=(name.strip() or query_summary(normalised))[:200]
    )
    saved.full_clean()
    saved.save()
    audit_record(
        actor=user, action="saved_search.created", target=saved, data={"query": normalised}
    )
    return saved, True


@transaction.atomic
def saved_search_set_active(*, saved_search: SavedSearch, actor: Any, active: bool) -> SavedSearch:
    """Pause or resume the alerts of a saved search."""
    if saved_search.is_active != active:
        saved_search.is_active = active
        saved_search.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="saved_search.resumed" if active else "saved_search.paused",
            target=saved_search,
        )
    return saved_search


@transaction.atomic
def saved_search_delete(*, saved_search: SavedSearch, actor: Any) -> None:
    audit_record(
        actor=actor,
        action="saved_search.deleted",
        target=saved_search,
        data={"query": saved_search.query, "name": saved_search.name},
    )
    saved_search.delete()


def saved_search_alerts_queue(opportunity: Opportunity) -> None:
    """After the commit, alert saved searches about new sessions of a published opportunity."""
    if opportunity.status != OpportunityStatus.PUBLISHED:
        return
    opportunity_id = opportunity.pk
    transaction.on_commit(lambda: saved_search_alerts_send.delay(opportunity_id=opportunity_id))


# --------------------------------------------------------------------------- the task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def saved_search_alerts_send(*, opportunity_id: int) -> int:
    """Alert every matching saved search about the opportunity's new sessions.

    Returns how many saved searches were alerted.
    """
    opportunity = (
        Opportunity.objects.published().select_related("host").filter(pk=opportunity_id).first()
    )
    if opportunity is None or not upcoming_sessions().filter(opportunity=opportunity).exists():
        return 0
    host_coordinators = InstitutionRole.objects.filter(
        institution_id=opportunity.host_id, role=InstitutionRoleKind.COORDINATOR
    ).values("user_id")
    candidates = SavedSearch.objects.active().filter(user__is_active=True)
    candidates = candidates.exclude(user_id__in=host_coordinators)
    # Many people save the same filters: match each distinct query once.
    queries = candidates.order_by().values_list("query", flat=True).distinct()
    matching = [query for query in queries if opportunity_matches(query, opportunity.pk)]
    alerted = 0
    for saved_search_id in candidates.filter(query__in=matching).values_list("pk", flat=True):
        alerted += _alert(saved_search_id, opportunity)
    return alerted


@transaction.atomic
def _alert(saved_search_id: int, opportunity: Opportunity) -> int:
    saved_search = (
        SavedSearch.objects.select_for_update()
        .filter(pk=saved_search_id, is_active=True)
        .select_related("user")
        .first()
    )
    if saved_search is None:
        return 0
    sessions = upcoming_sessions().filter(opportunity=opportunity)
    sessions = sessions.filter(_session_condition(saved_search.query))
    published_at = opportunity.published_at
    if published_at is None or published_at < saved_search.created_at:
        # Public before the search was saved: only sessions added since then are news.
        sessions = sessions.filter(created_at__gte=saved_search.created_at)
    sessions = sessions.exclude(
        pk__in=SavedSearchHit.objects.filter(saved_search=saved_search).values("session_id")
    )
    new = list(sessions.order_by("start_date", "pk"))
    if not new:
        return 0
    SavedSearchHit.objects.bulk_create(
        [SavedSearchHit(saved_search=saved_search, session=session) for session in new]
    )
    saved_search.last_notified_at = timezone.now()
    saved_search.save(update_fields=["last_notified_at"])
    _notify(saved_search, opportunity, new)
    return 1


def _user_zone(user: Any) -> ZoneInfo:
    try:
        return ZoneInfo(user.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _session_lines(sessions: Iterable[Session], user: Any) -> list[dict[str, str]]:
    """The dates, formatted in the person's language and (deadlines) time zone."""
    zone = _user_zone(user)
    with translation.override(user.preferred_language or "en"):
        return [
            {
                "start": date_format(session.start_date, "DATE_FORMAT"),
                "end": date_format(session.end_date, "DATE_FORMAT"),
                "closes": date_format(
                    timezone.localtime(session.applications_close_at, zone), "DATETIME_FORMAT"
                ),
                "zone": zone.key,
            }
            for session in sessions
        ]


def _notify(saved_search: SavedSearch, opportunity: Opportunity, sessions: list[Session]) -> None:
    user = saved_search.user
    message = (
        gettext_noop("A new session of “%(title)s” matches your saved search “%(name)s”.")
        if len(sessions) == 1
        else gettext_noop("New sessions of “%(title)s” match your saved search “%(name)s”.")
    )
    notify_users(
        users=[user],
        message=message,
        params={"title": opportunity.title, "name": saved_search.name},
        url=opportunity.get_absolute_url(),
        email_template="catalog/email/saved_search_match",
        email_context={
            "search_name": saved_search.name,
            "opportunity_title": opportunity.title,
            "host_name": opportunity.host.name,
            "host_city": opportunity.host.city,
            "sessions": _session_lines(sessions[:SESSIONS_LISTED], user),
            "more": max(len(sessions) - SESSIONS_LISTED, 0),
            "search_url": saved_search.get_absolute_url(),
            "saved_searches_url": reverse("catalog:saved-searches"),
        },
    )
