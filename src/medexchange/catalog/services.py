"""State changes of the catalog (opportunities and sessions); each one is validated and audited.

Rules enforced here, whatever the caller (page, import, API, command):

- an opportunity's sites belong to its host; languages are ``{"code", "level"}`` pairs with
  a known ISO 639-1 code and a CEFR level; training levels, documents and immunisations come
  from their choice lists; a "listed countries" rule lists at least one country;
- a session's dates are in order: applications open < applications close ≤ the start of the
  first day *in the host's time zone* (a session starts at 00:00 host time on its start date),
  decisions fall on or after the closing day and before the start, the end is on or after
  the start; capacity is a whole number ≥ 0; cancelled sessions are no longer changed.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medexchange.catalog.alerts import saved_search_alerts_queue
from medexchange.catalog.choices import (
    Cefr,
    DocumentKind,
    HomeCountryRule,
    Immunisation,
    OpportunityStatus,
    Recurrence,
    TrainingLevel,
)
from medexchange.catalog.models import Opportunity, Session
from medexchange.common.languages import is_known_language
from medexchange.common.services import audit_record
from medexchange.common.slugs import unique_slug
from medexchange.network.models import CountryProfile, Institution, Site

OPPORTUNITY_EDITABLE_FIELDS = (
    "kind",
    "title",
    "slug",
    "summary",
    "description",
    "level",
    "specialty",
    "languages",
    "duration_days",
    "training_levels",
    "min_year_of_study",
    "max_year_of_study",
    "home_country_rule",
    "required_documents",
    "required_immunisations",
    "currency",
    "application_fee",
    "tuition_fee",
    "international_surcharge",
    "fee_notes",
    "waiver_under_agreement",
    "waiver_for_lower_income",
    "waiver_notes",
    "scholarship_eligible",
    "accommodation",
    "accommodation_notes",
    "monthly_housing_cost",
    "monthly_transport_cost",
    "monthly_insurance_cost",
    "endorsement_required",
    "contact_name",
    "contact_email",
)

SESSION_EDITABLE_FIELDS = (
    "start_date",
    "end_date",
    "capacity",
    "applications_open_at",
    "applications_close_at",
    "decision_date",
)

MAX_GENERATED_SESSIONS = 60
RECURRENCE_MONTHS = {Recurrence.MONTHLY: 1, Recurrence.QUARTERLY: 3, Recurrence.YEARLY: 12}


# --------------------------------------------------------------------------- helpers


def host_zone(opportunity: Opportunity) -> ZoneInfo:
    return ZoneInfo(opportunity.host.time_zone or "UTC")


def session_starts_at(opportunity: Opportunity, start_date: dt.date) -> dt.datetime:
    """The instant a session starts: 00:00 on its start date in the host's time zone."""
    return dt.datetime.combine(start_date, dt.time(0, 0), tzinfo=host_zone(opportunity))


def unique_opportunity_slug(base: str, *, exclude_pk: int | None = None) -> str:
    others = Opportunity.objects.all()
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    return unique_slug(base, taken=others, fallback="opportunity")


def _add_error(errors: dict[str, list[Any]], field: str, message: Any) -> None:
    errors.setdefault(field, []).append(message)


def _merge(errors: dict[str, list[Any]], error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            for message in messages:
                _add_error(errors, field, message)
    else:
        for message in error.messages:
            _add_error(errors, "__all__", message)


def _check_subset(
    errors: dict[str, list[Any]], field: str, value: Any, allowed: Iterable[str]
) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        _add_error(errors, field, _("Give a list of codes."))
        return
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        _add_error(errors, field, _("Unknown choices: %(codes)s.") % {"codes": ", ".join(unknown)})


def _check_languages(errors: dict[str, list[Any]], languages: Any) -> None:
    if not isinstance(languages, list):
        _add_error(errors, "languages", _("Give a list of languages with their levels."))
        return
    seen: set[str] = set()
    for item in languages:
        if not isinstance(item, dict) or set(item) != {"code", "level"}:
            _add_error(errors, "languages", _("Each language needs a code and a level."))
            continue
        code, level = item["code"], item["level"]
        if not isinstance(code, str) or not is_known_language(code):
            _add_error(
                errors, "languages", _("“%(code)s” is not a known language code.") % {"code": code}
            )
        elif code in seen:
            _add_error(
                errors, "languages", _("“%(code)s” is listed more than once.") % {"code": code}
            )
        seen.add(str(code))
        if level not in Cefr.values:
            _add_error(
                errors,
                "languages",
                _("“%(level)s” is not a CEFR level (A1 to C2).") % {"level": level},
            )


def _validate_opportunity(
    opportunity: Opportunity, *, sites: Sequence[Site], countries: Sequence[CountryProfile]
) -> None:
    """Every rule on an opportunity and its relations; raises one error with all problems."""
    errors: dict[str, list[Any]] = {}
    _check_languages(errors, opportunity.languages)
    _check_subset(errors, "training_levels", opportunity.training_levels, TrainingLevel.values)
    _check_subset(errors, "required_documents", opportunity.required_documents, DocumentKind.values)
    _check_subset(
        errors, "required_immunisations", opportunity.required_immunisations, Immunisation.values
    )
    if any(site.institution_id != opportunity.host_id for site in sites):
        _add_error(errors, "sites", _("Sites must belong to the host institution."))
    if opportunity.home_country_rule == HomeCountryRule.LISTED and not countries:
        _add_error(
            errors,
            "eligible_countries",
            _("List at least one country when only listed countries may apply."),
        )
    currency = opportunity.currency or ""
    if not (len(currency) == 3 and currency.isalpha() and currency.isupper()):
        _add_error(errors, "currency", _("Use a three-letter ISO currency code, e.g. USD."))
    try:
        opportunity.full_clean()
    except ValidationError as error:
        _merge(errors, error)
    if errors:
        raise ValidationError(errors)


def _set_values(instance: Any, values: dict[str, Any]) -> dict[str, list[str]]:
    changes: dict[str, list[str]] = {}
    for field, new in values.items():
        old = getattr(instance, field)
        if old != new:
            changes[field] = [str(old), str(new)]
            setattr(instance, field, new)
    return changes


def _check_fields(values: dict[str, Any], allowed: Sequence[str]) -> None:
    unknown = set(values) - set(allowed)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")


# --------------------------------------------------------------------------- opportunities


@transaction.atomic
def opportunity_create(
    *,
    host: Institution,
    actor: Any,
    values: dict[str, Any],
    sites: Iterable[Site] = (),
    eligible_countries: Iterable[CountryProfile] = (),
) -> Opportunity:
    """Create a draft opportunity of ``host``; a slug is made from the title when missing."""
    _check_fields(values, OPPORTUNITY_EDITABLE_FIELDS)
    sites, eligible_countries = list(sites), list(eligible_countries)
    opportunity = Opportunity(host=host, **values)
    opportunity.status = OpportunityStatus.DRAFT
    if not opportunity.slug:
        opportunity.slug = unique_opportunity_slug(opportunity.title or "")
    _validate_opportunity(opportunity, sites=sites, countries=eligible_countries)
    opportunity.save()
    opportunity.sites.set(sites)
    opportunity.eligible_countries.set(eligible_countries)
    audit_record(
        actor=actor,
        action="opportunity.created",
        target=opportunity,
        to_state=opportunity.status,
        data={"host": host.slug},
    )
    return opportunity


@transaction.atomic
def opportunity_update(
    *,
    opportunity: Opportunity,
    actor: Any,
    values: dict[str, Any],
    sites: Iterable[Site] | None = None,
    eligible_countries: Iterable[CountryProfile] | None = None,
) -> Opportunity:
    """Apply ``values`` (and the sites/countries when given); audit what really changed."""
    _check_fields(values, OPPORTUNITY_EDITABLE_FIELDS)
    current_sites = list(opportunity.sites.all())
    current_countries = list(opportunity.eligible_countries.all())
    new_sites = current_sites if sites is None else list(sites)
    new_countries = current_countries if eligible_countries is None else list(eligible_countries)
    changes = _set_values(opportunity, values)
    if not opportunity.slug:
        raise ValidationError({"slug": _("An opportunity needs a web address.")})
    _validate_opportunity(opportunity, sites=new_sites, countries=new_countries)
    old_site_ids = sorted(site.pk for site in current_sites)
    new_site_ids = sorted(site.pk for site in new_sites)
    if old_site_ids != new_site_ids:
        changes["sites"] = [str(old_site_ids), str(new_site_ids)]
    old_codes = sorted(str(c.code) for c in current_countries)
    new_codes = sorted(str(c.code) for c in new_countries)
    if old_codes != new_codes:
        changes["eligible_countries"] = [str(old_codes), str(new_codes)]
    if changes:
        opportunity.save()
        opportunity.sites.set(new_sites)
        opportunity.eligible_countries.set(new_countries)
        audit_record(actor=actor, action="opportunity.updated", target=opportunity, data=changes)
    return opportunity


@transaction.atomic
def opportunity_duplicate(*, opportunity: Opportunity, actor: Any) -> Opportunity:
    """A draft copy titled "… (copy)" with the same sites and countries and no sessions."""
    values = {field: getattr(opportunity, field) for field in OPPORTUNITY_EDITABLE_FIELDS}
    suffix = _(" (copy)")
    values["title"] = opportunity.title[: 200 - len(suffix)] + suffix
    values["slug"] = unique_opportunity_slug(f"{opportunity.slug[:190]}-copy")
    copy = Opportunity(host=opportunity.host, **values)
    copy.status = OpportunityStatus.DRAFT
    sites = list(opportunity.sites.all())
    countries = list(opportunity.eligible_countries.all())
    _validate_opportunity(copy, sites=sites, countries=countries)
    copy.save()
    copy.sites.set(sites)
    copy.eligible_countries.set(countries)
    audit_record(
        actor=actor,
        action="opportunity.duplicated",
        target=copy,
        to_state=copy.status,
        data={"source": opportunity.slug, "source_id": opportunity.pk},
    )
    return copy


def _lock(opportunity: Opportunity) -> Opportunity:
    return Opportunity.objects.select_for_update().select_related("host").get(pk=opportunity.pk)


@transaction.atomic
def opportunity_publish(*, opportunity: Opportunity, actor: Any) -> Opportunity:
    """Show a draft or unpublished opportunity in the catalog."""
    locked = _lock(opportunity)
    previous = locked.status
    if previous == OpportunityStatus.PUBLISHED:
        raise ValidationError(_("This opportunity is already published."))
    _validate_opportunity(
        locked,
        sites=list(locked.sites.all()),
        countries=list(locked.eligible_countries.all()),
    )
    locked.status = OpportunityStatus.PUBLISHED
    locked.published_at = timezone.now()
    locked.save(update_fields=["status", "published_at", "updated_at"])
    audit_record(
        actor=actor,
        action="opportunity.published",
        target=locked,
        from_state=previous,
        to_state=locked.status,
    )
    saved_search_alerts_queue(locked)
    return locked


@transaction.atomic
def opportunity_unpublish(*, opportunity: Opportunity, actor: Any, reason: str = "") -> Opportunity:
    """Take a published opportunity out of the catalog (its sessions stay)."""
    locked = _lock(opportunity)
    previous = locked.status
    if previous != OpportunityStatus.PUBLISHED:
        raise ValidationError(_("Only a published opportunity can be unpublished."))
    locked.status = OpportunityStatus.UNPUBLISHED
    locked.published_at = None
    locked.save(update_fields=["status", "published_at", "updated_at"])
    audit_record(
        actor=actor,
        action="opportunity.unpublished",
        target=locked,
        from_state=previous,
        to_state=locked.status,
        reason=reason,
    )
    return locked


# --------------------------------------------------------------------------- sessions


def _aware(value: Any, zone: ZoneInfo) -> Any:
    """Naive datetimes given to a service are read in the host's time zone."""
    if isinstance(value, dt.datetime) and timezone.is_naive(value):
        return value.replace(tzinfo=zone)
    return value


def _validate_session(session: Session) -> None:
    errors: dict[str, list[Any]] = {}
    opportunity = session.opportunity
    zone = host_zone(opportunity)
    capacity = session.capacity
    if capacity is None or isinstance(capacity, bool) or not isinstance(capacity, int):
        _add_error(errors, "capacity", _("Give the number of places as a whole number."))
    elif capacity < 0:
        _add_error(errors, "capacity", _("The number of places cannot be negative."))
    opens, closes = session.applications_open_at, session.applications_close_at
    start, end = session.start_date, session.end_date
    for field in ("applications_open_at", "applications_close_at"):
        value = getattr(session, field)
        if value is not None and (not isinstance(value, dt.datetime) or timezone.is_naive(value)):
            _add_error(errors, field, _("Give a date and time."))
    if not errors and opens and closes and start:
        if closes <= opens:
            _add_error(errors, "applications_close_at", _("Applications close after they open."))
        elif closes > session_starts_at(opportunity, start):
            _add_error(
                errors,
                "applications_close_at",
                _(
                    "Applications must close before the session starts "
                    "(00:00 on %(date)s, %(zone)s time)."
                )
                % {"date": start.isoformat(), "zone": zone.key},
            )
    if start and end and end < start:
        _add_error(errors, "end_date", _("A session ends on or after the day it starts."))
    if session.decision_date and start and session.decision_date >= start:
        _add_error(errors, "decision_date", _("Decisions are due before the session starts."))
    elif (
        session.decision_date
        and isinstance(closes, dt.datetime)
        and timezone.is_aware(closes)
        and session.decision_date < timezone.localtime(closes, zone).date()
    ):
        _add_error(
            errors, "decision_date", _("Decisions come on or after the day applications close.")
        )
    if not errors:
        try:
            session.full_clean()
        except ValidationError as error:
            _merge(errors, error)
    if errors:
        raise ValidationError(errors)


def _check_not_cancelled(session: Session) -> None:
    if session.cancelled_at is not None:
        raise ValidationError(_("This session is cancelled and can no longer be changed."))


def session_build(*, opportunity: Opportunity, values: dict[str, Any]) -> Session:
    """A validated, unsaved session (used for previews and by ``session_create``)."""
    _check_fields(values, SESSION_EDITABLE_FIELDS)
    zone = host_zone(opportunity)
    values = {field: _aware(value, zone) for field, value in values.items()}
    session = Session(opportunity=opportunity, **values)
    _validate_session(session)
    return session


@transaction.atomic
def session_create(*, opportunity: Opportunity, actor: Any, values: dict[str, Any]) -> Session:
    session = session_build(opportunity=opportunity, values=values)
    session.save()
    audit_record(
        actor=actor,
        action="session.created",
        target=session,
        data={"opportunity": opportunity.slug, "start_date": str(session.start_date)},
    )
    saved_search_alerts_queue(opportunity)
    return session


@transaction.atomic
def session_update(*, session: Session, actor: Any, values: dict[str, Any]) -> Session:
    _check_fields(values, SESSION_EDITABLE_FIELDS)
    _check_not_cancelled(session)
    zone = host_zone(session.opportunity)
    changes = _set_values(session, {field: _aware(v, zone) for field, v in values.items()})
    if changes:
        _validate_session(session)
        session.save()
        audit_record(actor=actor, action="session.updated", target=session, data=changes)
    return session


@transaction.atomic
def session_cancel(*, session: Session, actor: Any, reason: str = "") -> Session:
    locked = Session.objects.select_for_update().get(pk=session.pk)
    _check_not_cancelled(locked)
    locked.cancelled_at = timezone.now()
    locked.save(update_fields=["cancelled_at"])
    audit_record(
        actor=actor,
        action="session.cancelled",
        target=locked,
        from_state="scheduled",
        to_state="cancelled",
        reason=reason,
    )
    return locked


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months``, clamped to the end of shorter months (31 Jan → 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def sessions_plan(
    *,
    opportunity: Opportunity,
    first_start: dt.date,
    count: int,
    recurrence: str,
    capacity: int,
    open_days_before: int,
    close_days_before: int,
    decision_days_before: int | None = None,
) -> list[Session]:
    """The validated, unsaved sessions a recurrence would create (the dry run).

    Each session lasts ``opportunity.duration_days``; applications open at 00:00 host time
    ``open_days_before`` days before its start and close at 23:59 host time
    ``close_days_before`` days before it; decisions are due ``decision_days_before`` days
    before the start.
    """
    errors: dict[str, list[Any]] = {}
    if recurrence not in RECURRENCE_MONTHS:
        _add_error(errors, "recurrence", _("Choose how often the sessions repeat."))
    if not 1 <= count <= MAX_GENERATED_SESSIONS:
        _add_error(
            errors,
            "count",
            _("Generate between 1 and %(max)d sessions at a time.")
            % {"max": MAX_GENERATED_SESSIONS},
        )
    if capacity < 0:
        _add_error(errors, "capacity", _("The number of places cannot be negative."))
    if close_days_before < 1:
        _add_error(
            errors,
            "close_days_before",
            _("Applications close at least one day before the session starts."),
        )
    if open_days_before <= close_days_before:
        _add_error(
            errors,
            "open_days_before",
            _("Applications open before they close: open more days before the start."),
        )
    if decision_days_before is not None and not 1 <= decision_days_before <= close_days_before:
        _add_error(
            errors,
            "decision_days_before",
            _("Decisions are due after applications close and at least one day before the start."),
        )
    if errors:
        raise ValidationError(errors)
    zone = host_zone(opportunity)
    step = RECURRENCE_MONTHS[Recurrence(recurrence)]
    sessions = []
    for index in range(count):
        start = add_months(first_start, index * step)
        opens_on = start - dt.timedelta(days=open_days_before)
        closes_on = start - dt.timedelta(days=close_days_before)
        values = {
            "start_date": start,
            "end_date": start + dt.timedelta(days=opportunity.duration_days - 1),
            "capacity": capacity,
            "applications_open_at": dt.datetime.combine(opens_on, dt.time(0, 0), tzinfo=zone),
            "applications_close_at": dt.datetime.combine(closes_on, dt.time(23, 59), tzinfo=zone),
            "decision_date": (
                start - dt.timedelta(days=decision_days_before)
                if decision_days_before is not None
                else None
            ),
        }
        try:
            sessions.append(session_build(opportunity=opportunity, values=values))
        except ValidationError as error:
            messages = "; ".join(error.messages)
            raise ValidationError(
                _("The session starting %(date)s is not valid: %(errors)s")
                % {"date": start.isoformat(), "errors": messages}
            ) from error
    return sessions


@transaction.atomic
def sessions_generate(
    *,
    opportunity: Opportunity,
    actor: Any,
    first_start: dt.date,
    count: int,
    recurrence: str,
    capacity: int,
    open_days_before: int,
    close_days_before: int,
    decision_days_before: int | None = None,
) -> list[Session]:
    """Create ``count`` sessions every month, quarter or year from ``first_start``."""
    sessions = sessions_plan(
        opportunity=opportunity,
        first_start=first_start,
        count=count,
        recurrence=recurrence,
        capacity=capacity,
        open_days_before=open_days_before,
        close_days_before=close_days_before,
        decision_days_before=decision_days_before,
    )
    for session in sessions:
        session.save()
        audit_record(
            actor=actor,
            action="session.generated",
            target=session,
            data={
                "opportunity": opportunity.slug,
                "start_date": str(session.start_date),
                "recurrence": recurrence,
            },
        )
    saved_search_alerts_queue(opportunity)
    return sessions
