"""Every state change of rotation plans: validated, audited.

Each settings change is checked field by field first (translated field errors), then the
whole would-be plan goes through the engine's ``parse_plan``, the final validator: its
``PlanError`` (an English JSON path) becomes a translated error naming the field.

A solve runs in the background (in-process without a broker): building → solving →
saving, with the cancel flag checked between stages. Pinned cells go to the engine as
``pinned`` and every current cell as ``previous``, so a re-solve changes as little as
it can; the result replaces the unpinned cells.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from medexchange.catalog.models import Session
from medexchange.common.languages import is_known_language
from medexchange.common.notifications import notify_users
from medexchange.common.runs import RunCancelled, run_stage
from medexchange.common.services import audit_record
from medexchange.engines import scheduling as engine
from medexchange.scheduling import selectors
from medexchange.scheduling.choices import (
    UNIT_DAYS,
    AbsenceKind,
    AbsenceStatus,
    CellSource,
    PairKind,
    PlanStatus,
    PlanUnit,
    SolveStage,
    SolveStatus,
)
from medexchange.scheduling.models import (
    AbsenceReport,
    CalendarFeed,
    PlanCell,
    PlanParticipant,
    PlanPublication,
    PlanSite,
    PlanSolve,
    RotationPlan,
)
from medexchange.scheduling.permissions import (
    can_edit_plan,
    can_plan_session,
    can_read_participant,
    can_read_site,
)

DEFAULT_SOLVE_SECONDS = 20.0
SHORT_NAME_MAX = 24
MAX_PERIODS = 400


def solve_seconds() -> float:
    """The solver's time limit (``settings.ROTATION_SOLVE_SECONDS``, default 20 s)."""
    return float(getattr(settings, "ROTATION_SOLVE_SECONDS", DEFAULT_SOLVE_SECONDS))


def period_count_for(session: Session, start: dt.date, unit: str) -> int:
    """Periods from ``start`` to the session's last day, the last one possibly partial."""
    days = (session.end_date - start).days + 1
    return max(1, math.ceil(days / UNIT_DAYS[PlanUnit(unit)]))


def _languages_of_profile(participant_placement: Any) -> list[str]:
    applicant = participant_placement.application.applicant
    profile = getattr(applicant, "applicant_profile", None) if applicant else None
    codes = [item.get("code") for item in (profile.languages if profile else []) or []]
    return sorted({str(code).lower() for code in codes if isinstance(code, str) and code})


def _require_editor(actor: Any, plan: RotationPlan) -> None:
    if not can_edit_plan(actor, plan):
        raise PermissionDenied


def _locked(plan: RotationPlan) -> RotationPlan:
    return RotationPlan.objects.select_for_update().get(pk=plan.pk)


# --------------------------------------------------------------------------- PlanError


_PATH = re.compile(r"^(?P<section>[a-z_]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<field>[a-z_]+))?")


def _error_path(error: engine.PlanError) -> tuple[str, int | None, str, str]:
    """(section, index, field, the engine's detail) of a ``PlanError``."""
    text = str(error)
    path, _sep, detail = text.partition(": ")
    match = _PATH.match(path)
    if match is None:
        return "", None, "", text
    index = match.group("index")
    return match.group("section"), int(index) if index else None, match.group("field") or "", detail


def plan_error_message(
    plan: RotationPlan,
    error: engine.PlanError,
    *,
    sites: Sequence[PlanSite] | None = None,
    people: Sequence[PlanParticipant] | None = None,
) -> str:
    """A translated sentence for the engine's refusal of the plan, naming what is wrong."""
    section, index, field, detail = _error_path(error)
    sites = selectors.plan_sites(plan) if sites is None else sites
    people = selectors.plan_participants(plan) if people is None else people
    if section == "sites" and index is not None and index < len(sites):
        site = {"site": str(sites[index])}
        if field == "capacity":
            return (
                _("The places of %(site)s must be 0 or more: one number, or one per period.") % site
            )
        if field == "min_staff":
            return (
                _("%(site)s needs more participants than it has places in some open period.") % site
            )
        if field == "closed":
            return (
                _(
                    "The closed periods of %(site)s name a period the plan does not have, or one "
                    "twice."
                )
                % site
            )
        return _("The settings of %(site)s are not valid.") % site
    if section == "sites":
        return _("The plan has no site: add sites to the opportunity first.")
    if section == "rules":
        if field == "max_stay":
            return _("The longest stay cannot be shorter than the shortest stay.")
        if field == "min_stay":
            return _("The shortest stay is at least one period.")
        if field == "min_sites":
            return _("Each participant visits at least one site.")
        if field in {"together", "apart"}:
            return _("A pair names a participant who is no longer in the plan.")
        return _("The rules of the plan are not valid.")
    if section == "participants" and index is not None and index < len(people):
        who = {"who": people[index].name}
        if field == "departure":
            return _("%(who)s leaves before arriving.") % who
        if field == "arrival":
            return _("The arrival of %(who)s is outside the plan.") % who
        if field == "must_not_visit":
            return _("%(who)s cannot both have to visit and not visit the same site.") % who
        if not field and "too short" in detail:
            return (
                _(
                    "%(who)s is there too briefly to visit the required number of sites for the "
                    "shortest stay at each."
                )
                % who
            )
        if not field:
            return _("%(who)s must visit more sites than are open to them.") % who
        return _("The settings of %(who)s are not valid.") % who
    if section == "participants":
        return _("The plan has a participant the platform cannot read.")
    if section == "pinned":
        return _(
            "A pinned cell falls outside its participant's stay: unpin it or change the dates."
        )
    if section == "horizon":
        return _("The plan can have from 1 to %(n)d periods.") % {"n": MAX_PERIODS}
    return _("The plan's settings are not valid (%(where)s).") % {"where": str(error)}


#: JSON field of the engine → form field, per part of the plan.
_FIELDS = {
    "sites": {"capacity": "capacity", "min_staff": "min_staff", "closed": "closed"},
    "participants": {
        "arrival": "arrival",
        "departure": "departure",
        "must_not_visit": "must_not_visit",
        "must_visit": "must_visit",
        "preferences": "preferences",
        "languages": "languages",
    },
    "rules": {"max_stay": "max_stay", "min_stay": "min_stay", "min_sites": "min_sites"},
    "horizon": {"count": "start_date", "start": "start_date"},
}


def _final_check(
    plan: RotationPlan,
    *,
    sites: list[PlanSite],
    people: list[PlanParticipant],
    own: tuple[str, int | None] | None = None,
    cells: list[PlanCell] | None = None,
) -> None:
    """Run the would-be plan through the engine's validator; raise a translated error on
    the form field it names (when it is the object being edited), else on the form."""
    data = selectors.plan_json(plan, sites=sites, people=people, cells=cells, previous=False)
    try:
        engine.parse_plan(data)
    except engine.PlanError as error:
        message = plan_error_message(plan, error, sites=sites, people=people)
        section, index, field, _detail = _error_path(error)
        key: str = NON_FIELD_ERRORS
        if own is not None and section == own[0] and index == own[1]:
            key = _FIELDS.get(section, {}).get(field, NON_FIELD_ERRORS)
        raise ValidationError({key: [message]}, code="plan") from None


# --------------------------------------------------------------------------- plans


def _site_short_name(name: str) -> str:
    return name if len(name) <= SHORT_NAME_MAX else name[: SHORT_NAME_MAX - 1] + "…"


def rotation_plan_create(*, session: Session, actor: Any) -> RotationPlan:
    """A draft plan for an exchange-program session: its sites, its seat holders."""
    if not can_plan_session(actor, session):
        raise PermissionDenied
    opportunity_sites = list(
        session.opportunity.sites.select_related("institution").order_by("name", "pk")
    )
    if not opportunity_sites:
        raise ValidationError(
            _("The program has no sites yet: add its sites to the opportunity first."),
            code="no_sites",
        )
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=session.pk)
        if RotationPlan.objects.filter(session=session).exists():
            raise ValidationError(_("This session already has a rotation plan."), code="exists")
        count = period_count_for(session, session.start_date, PlanUnit.WEEK)
        places = max(1, math.ceil(session.capacity / len(opportunity_sites)))
        plan = RotationPlan.objects.create(
            session=session,
            unit=PlanUnit.WEEK,
            start_date=session.start_date,
            period_count=count,
            min_sites=min(2, len(opportunity_sites)) if count >= 2 else 1,
            created_by=actor if actor.is_authenticated else None,
        )
        PlanSite.objects.bulk_create(
            [
                PlanSite(
                    plan=plan,
                    site=site,
                    short_name=_site_short_name(site.name),
                    capacity=places,
                    languages=sorted({str(c).lower() for c in site.institution.languages or []}),
                    position=position,
                )
                for position, site in enumerate(opportunity_sites)
            ]
        )
        added = _add_participants(plan)
        audit_record(
            actor=actor,
            action="rotation_plan.created",
            target=plan,
            to_state=PlanStatus.DRAFT,
            data={
                "session": session.pk,
                "sites": [site.pk for site in opportunity_sites],
                "participants": added,
                "periods": count,
            },
        )
    return plan


def _add_participants(plan: RotationPlan) -> list[int]:
    """Rows for the session's seat holders not yet in the plan; returns their placements."""
    have = set(plan.participants.values_list("placement_id", flat=True))
    session = plan.session
    rows = [
        PlanParticipant(
            plan=plan,
            placement=placement,
            arrival=max(session.start_date, plan.start_date),
            departure=min(session.end_date, plan.end_date),
            languages=_languages_of_profile(placement),
        )
        for placement in selectors.seat_placements(session)
        if placement.pk not in have
    ]
    PlanParticipant.objects.bulk_create(rows)
    return [row.placement_id for row in rows]


@dataclass
class RefreshResult:
    added: list[int]
    removed: list[int]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def _refresh(plan: RotationPlan) -> RefreshResult:
    current = set(selectors.seat_placements(plan.session).values_list("pk", flat=True))
    gone = list(plan.participants.exclude(placement_id__in=current))
    gone_ids = {row.pk for row in gone}
    removed = [row.placement_id for row in gone]
    if gone:
        plan.together = [p for p in plan.together if not set(p) & gone_ids]
        plan.apart = [p for p in plan.apart if not set(p) & gone_ids]
        plan.save(update_fields=["together", "apart", "updated_at"])
        PlanParticipant.objects.filter(pk__in=gone_ids).delete()
    return RefreshResult(added=_add_participants(plan), removed=removed)


def rotation_plan_refresh(*, plan: RotationPlan, actor: Any) -> RefreshResult:
    """Follow the session's placements: add new seat holders, drop released ones."""
    _require_editor(actor, plan)
    with transaction.atomic():
        plan = _locked(plan)
        result = _refresh(plan)
        if result.changed:
            audit_record(
                actor=actor,
                action="rotation_plan.participants_refreshed",
                target=plan,
                data={"added": result.added, "removed": result.removed},
            )
    return result


def participants_out_of_date(plan: RotationPlan) -> bool:
    """Whether the session's seat holders differ from the plan's participants."""
    current = set(selectors.seat_placements(plan.session).values_list("pk", flat=True))
    return current != set(plan.participants.values_list("placement_id", flat=True))


def rotation_plan_update(
    *,
    plan: RotationPlan,
    actor: Any,
    unit: str,
    start_date: dt.date,
    min_sites: int,
    min_stay: int,
    max_stay: int | None,
    balance: bool,
) -> RotationPlan:
    """Change the horizon and the rules. A new unit or start clears the cells (their
    periods would mean other days); a shorter horizon drops the cells beyond it."""
    _require_editor(actor, plan)
    errors: dict[str, list[str]] = {}
    if unit not in PlanUnit.values:
        errors["unit"] = [_("Choose weeks or days.")]
    session = plan.session
    if start_date is None or start_date > session.end_date:
        errors["start_date"] = [
            _("The first period starts on or before the session's last day (%(day)s).")
            % {"day": session.end_date.isoformat()}
        ]
    if min_sites is None or min_sites < 1:
        errors["min_sites"] = [_("Each participant visits at least one site.")]
    if min_stay is None or min_stay < 1:
        errors["min_stay"] = [_("The shortest stay is at least one period.")]
    if max_stay is not None and max_stay < 1:
        errors["max_stay"] = [_("The longest stay is at least one period, or leave it empty.")]
    elif max_stay is not None and min_stay is not None and max_stay < min_stay:
        errors["max_stay"] = [_("The longest stay cannot be shorter than the shortest stay.")]
    if errors:
        raise ValidationError(errors)
    count = period_count_for(session, start_date, unit)
    if count > MAX_PERIODS:
        raise ValidationError(
            {"unit": [_("The plan can have from 1 to %(n)d periods.") % {"n": MAX_PERIODS}]}
        )
    with transaction.atomic():
        plan = _locked(plan)
        before = {
            "unit": plan.unit,
            "start_date": plan.start_date.isoformat(),
            "min_sites": plan.min_sites,
            "min_stay": plan.min_stay,
            "max_stay": plan.max_stay,
            "balance": plan.balance,
        }
        moved = unit != plan.unit or start_date != plan.start_date
        plan.unit, plan.start_date, plan.period_count = unit, start_date, count
        plan.min_sites, plan.min_stay, plan.max_stay, plan.balance = (
            min_sites,
            min_stay,
            max_stay,
            balance,
        )
        sites = selectors.plan_sites(plan)
        sites_reset: list[dict[str, Any]] = []  # what a new horizon took from the sites
        for site in sites:
            old = {"capacity": list(site.capacity_per_period), "closed": list(site.closed)}
            if site.capacity_per_period and len(site.capacity_per_period) != count:
                site.capacity_per_period = []
            site.closed = [t for t in site.closed if t < count]
            if old != {"capacity": site.capacity_per_period, "closed": site.closed}:
                sites_reset.append({"site": site.pk, "from": old})
        people = selectors.plan_participants(plan)
        cells = [] if moved else [c for c in plan.cells.all() if c.period < count]
        _final_check(plan, sites=sites, people=people, own=("rules", None), cells=cells)
        plan.save()
        for site in sites:
            site.save(update_fields=["capacity_per_period", "closed"])
        dropped = plan.cells.all() if moved else plan.cells.filter(period__gte=count)
        cleared = dropped.count()
        dropped.delete()
        after = {
            "unit": unit,
            "start_date": start_date.isoformat(),
            "min_sites": min_sites,
            "min_stay": min_stay,
            "max_stay": max_stay,
            "balance": balance,
        }
        audit_record(
            actor=actor,
            action="rotation_plan.settings_changed",
            target=plan,
            data={
                "from": before,
                "to": after,
                "cells_cleared": cleared,
                "sites_reset": sites_reset,
            },
        )
    return plan


def plan_site_update(
    *,
    plan_site: PlanSite,
    actor: Any,
    short_name: str,
    capacity: Sequence[int],
    min_staff: int,
    closed: Sequence[int],
    languages: Sequence[str],
) -> PlanSite:
    """Places (one number, or one per period), minimum staffing, closures, languages."""
    plan = plan_site.plan
    _require_editor(actor, plan)
    count = plan.period_count
    errors: dict[str, list[str]] = {}
    short_name = (short_name or "").strip()
    if not short_name or len(short_name) > SHORT_NAME_MAX or "\x00" in short_name:
        errors["short_name"] = [
            _("Give a short name of up to %(n)d characters.") % {"n": SHORT_NAME_MAX}
        ]
    places = [int(v) for v in capacity]
    if not places or len(places) not in {1, count}:
        errors["capacity"] = [_("Give one number, or one per period (%(n)d).") % {"n": count}]
    elif any(v < 0 for v in places):
        errors["capacity"] = [_("Places cannot be negative.")]
    elif any(v > 999 for v in places):
        errors["capacity"] = [_("Give at most 999 places.")]
    if min_staff is None or min_staff < 0:
        errors["min_staff"] = [_("The minimum cannot be negative.")]
    shut = sorted(set(closed))
    if len(shut) != len(list(closed)):
        errors["closed"] = [_("Each closed period once: these periods overlap.")]
    elif any(not 0 <= t < count for t in shut):
        errors["closed"] = [_("Name periods of the plan only.")]
    bad = [code for code in languages if not is_known_language(code)]
    if bad:
        errors["languages"] = [_("Unknown language code: %(codes)s.") % {"codes": ", ".join(bad)}]
    if not errors and min_staff:
        per_period = places * count if len(places) == 1 else places
        tight = [t for t in range(count) if t not in shut and per_period[t] < min_staff]
        if tight:
            errors["min_staff"] = [
                _("The minimum (%(least)d) is above the places in %(when)s (%(places)d).")
                % {
                    "least": min_staff,
                    "when": selectors.period_label(plan, tight[0]),
                    "places": per_period[tight[0]],
                }
            ]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        _locked(plan)
        plan_site = PlanSite.objects.select_for_update().get(pk=plan_site.pk)
        before = _site_state(plan_site)
        plan_site.short_name = short_name
        if len(places) == 1:
            plan_site.capacity, plan_site.capacity_per_period = places[0], []
        else:
            plan_site.capacity, plan_site.capacity_per_period = max(places), places
        plan_site.min_staff = min_staff
        plan_site.closed = shut
        plan_site.languages = sorted({code.lower() for code in languages})
        sites = [plan_site if s.pk == plan_site.pk else s for s in selectors.plan_sites(plan)]
        index = next(k for k, s in enumerate(sites) if s.pk == plan_site.pk)
        _final_check(
            plan, sites=sites, people=selectors.plan_participants(plan), own=("sites", index)
        )
        plan_site.save()
        audit_record(
            actor=actor,
            action="rotation_plan.site_changed",
            target=plan,
            data={"site": plan_site.pk, "from": before, "to": _site_state(plan_site)},
        )
    return plan_site


def _site_state(site: PlanSite) -> dict[str, Any]:
    return {
        "short_name": site.short_name,
        "capacity": site.capacity_per_period or site.capacity,
        "min_staff": site.min_staff,
        "closed": list(site.closed),
        "languages": list(site.languages),
    }


def plan_participant_update(
    *,
    participant: PlanParticipant,
    actor: Any,
    arrival: dt.date,
    departure: dt.date,
    languages: Sequence[str],
    preferences: Sequence[int],
    must_visit: Sequence[int],
    must_not_visit: Sequence[int],
) -> PlanParticipant:
    """Dates (mapped to periods), languages, preferred sites, must / must-not visit."""
    plan = participant.plan
    _require_editor(actor, plan)
    errors: dict[str, list[str]] = {}
    first, last = plan.start_date, plan.end_date
    if arrival is None or not first <= arrival <= last:
        errors["arrival"] = [
            _("Arrive between %(first)s and %(last)s.")
            % {"first": first.isoformat(), "last": last.isoformat()}
        ]
    if departure is None or not first <= departure <= last:
        errors["departure"] = [
            _("Leave between %(first)s and %(last)s.")
            % {"first": first.isoformat(), "last": last.isoformat()}
        ]
    if not errors and departure < arrival:
        errors["departure"] = [_("The departure is on or after the arrival.")]
    known = set(plan.sites.values_list("pk", flat=True))
    for name, values in (
        ("preferences", preferences),
        ("must_visit", must_visit),
        ("must_not_visit", must_not_visit),
    ):
        if any(pk not in known for pk in values):
            errors[name] = [_("Choose sites of this plan.")]
        elif len(set(values)) != len(list(values)):
            errors[name] = [_("Choose each site once.")]
    if set(must_visit) & set(must_not_visit):
        errors["must_not_visit"] = [_("A site cannot be both a must and a must-not.")]
    bad = [code for code in languages if not is_known_language(code)]
    if bad:
        errors["languages"] = [_("Unknown language code: %(codes)s.") % {"codes": ", ".join(bad)}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        _locked(plan)
        participant = PlanParticipant.objects.select_for_update().get(pk=participant.pk)
        before = _participant_state(participant)
        participant.arrival, participant.departure = arrival, departure
        participant.languages = sorted({code.lower() for code in languages})
        participant.preferences = list(preferences)
        participant.must_visit = list(must_visit)
        participant.must_not_visit = list(must_not_visit)
        people = [
            participant if p.pk == participant.pk else p for p in selectors.plan_participants(plan)
        ]
        index = next(k for k, p in enumerate(people) if p.pk == participant.pk)
        # Pins outside the new stay would make the plan unreadable: refuse them here.
        first_t, last_t = plan.period_of(arrival), plan.period_of(departure)
        outside = plan.cells.filter(participant=participant, pinned=True).exclude(
            period__gte=first_t, period__lte=last_t
        )
        if outside.exists():
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: [
                        _("Some pinned cells fall outside these dates: unpin them first.")
                    ]
                }
            )
        _final_check(
            plan, sites=selectors.plan_sites(plan), people=people, own=("participants", index)
        )
        participant.save()
        audit_record(
            actor=actor,
            action="rotation_plan.participant_changed",
            target=plan,
            data={
                "participant": participant.pk,
                "from": before,
                "to": _participant_state(participant),
            },
        )
    return participant


def _participant_state(person: PlanParticipant) -> dict[str, Any]:
    return {
        "arrival": person.arrival.isoformat(),
        "departure": person.departure.isoformat(),
        "languages": list(person.languages),
        "preferences": list(person.preferences),
        "must_visit": list(person.must_visit),
        "must_not_visit": list(person.must_not_visit),
    }


def plan_pair_add(
    *,
    plan: RotationPlan,
    actor: Any,
    kind: str,
    first: PlanParticipant,
    second: PlanParticipant,
) -> RotationPlan:
    """Two participants always (``together``) or never (``apart``) at the same site."""
    _require_editor(actor, plan)
    if kind not in PairKind.values:
        raise ValidationError({"kind": [_("Choose together or apart.")]})
    if first.plan_id != plan.pk or second.plan_id != plan.pk:
        raise ValidationError({"first": [_("Choose participants of this plan.")]})
    if first.pk == second.pk:
        raise ValidationError({"second": [_("Choose two different participants.")]})
    pair = sorted([first.pk, second.pk])
    with transaction.atomic():
        plan = _locked(plan)
        taken = [sorted(p) for p in (*plan.together, *plan.apart)]
        if pair in taken:
            raise ValidationError(
                {"second": [_("These two already have a rule: remove it first.")]}
            )
        getattr(plan, kind).append(pair)
        plan.save(update_fields=[kind, "updated_at"])
        audit_record(
            actor=actor,
            action="rotation_plan.pair_added",
            target=plan,
            data={"kind": kind, "pair": pair},
        )
    return plan


def plan_pair_remove(*, plan: RotationPlan, actor: Any, kind: str, index: int) -> RotationPlan:
    _require_editor(actor, plan)
    if kind not in PairKind.values:
        raise ValidationError(_("Choose together or apart."))
    with transaction.atomic():
        plan = _locked(plan)
        pairs = getattr(plan, kind)
        if not 0 <= index < len(pairs):
            raise ValidationError(_("That rule is no longer there."))
        pair = pairs.pop(index)
        plan.save(update_fields=[kind, "updated_at"])
        audit_record(
            actor=actor,
            action="rotation_plan.pair_removed",
            target=plan,
            data={"kind": kind, "pair": pair},
        )
    return plan


# --------------------------------------------------------------------------- cells


def plan_cell_set(
    *,
    plan: RotationPlan,
    actor: Any,
    participant: PlanParticipant,
    period: int,
    site: PlanSite | None,
    pinned: bool,
) -> PlanCell | None:
    """Put a participant at a site in one period (or nowhere), pinned or not.

    The edit is kept even when it breaks a rule (the coordinator decides); the plan page
    then lists what it breaks (``selectors.plan_feedback``)."""
    _require_editor(actor, plan)
    if participant.plan_id != plan.pk:
        raise ValidationError({"site": [_("Choose a participant of this plan.")]})
    if not 0 <= period < plan.period_count:
        raise ValidationError({"site": [_("Choose a period of this plan.")]})
    if site is not None and site.plan_id != plan.pk:
        raise ValidationError({"site": [_("Choose a site of this plan.")]})
    if pinned and site is None:
        raise ValidationError({"pinned": [_("Choose a site to pin.")]})
    if pinned and not plan.period_of(participant.arrival) <= period <= plan.period_of(
        participant.departure
    ):
        raise ValidationError(
            {
                "pinned": [
                    _("%(who)s is not there in %(when)s: only a cell of their stay can be pinned.")
                    % {"who": participant.name, "when": selectors.period_label(plan, period)}
                ]
            }
        )
    with transaction.atomic():
        plan = _locked(plan)
        cell = PlanCell.objects.filter(participant=participant, period=period).first()
        before: dict[str, Any] = (
            {"site": cell.site_id, "pinned": cell.pinned} if cell else {"site": None}
        )
        if site is None:
            if cell is not None:
                cell.delete()
            cell = None
        elif cell is None:
            cell = PlanCell.objects.create(
                plan=plan,
                participant=participant,
                period=period,
                site=site,
                pinned=pinned,
                source=CellSource.HAND,
            )
        else:
            if cell.site_id != site.pk:
                cell.source = CellSource.HAND
            cell.site, cell.pinned = site, pinned
            cell.save()
        after = {"site": site.pk if site else None, "pinned": bool(pinned and site)}
        if before != after:
            audit_record(
                actor=actor,
                action="rotation_plan.cell_changed",
                target=plan,
                data={
                    "participant": participant.pk,
                    "period": period,
                    "from": before,
                    "to": after,
                },
            )
    return cell


# --------------------------------------------------------------------------- solves


def plan_solve_start(*, plan: RotationPlan, actor: Any) -> PlanSolve:
    """Queue a solve; it runs in the background (in-process without a broker)."""
    from medexchange.scheduling import tasks

    _require_editor(actor, plan)
    with transaction.atomic():
        plan = _locked(plan)
        if plan.solves.filter(status__in=[SolveStatus.QUEUED, SolveStatus.RUNNING]).exists():
            raise ValidationError(
                _("A solve of this plan is already under way: wait for it or cancel it."),
                code="pending",
            )
        refreshed = _refresh(plan)
        if not plan.participants.exists():
            raise ValidationError(
                _("The session has no participant holding a seat yet: nothing to plan."),
                code="empty",
            )
        _final_check(
            plan, sites=selectors.plan_sites(plan), people=selectors.plan_participants(plan)
        )
        solve = PlanSolve.objects.create(plan=plan, started_by=actor)
        source = plan.status
        plan.status = PlanStatus.SOLVING
        plan.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="rotation_plan.solve_queued",
            target=plan,
            from_state=source,
            to_state=PlanStatus.SOLVING,
            data={"solve": solve.pk, "added": refreshed.added, "removed": refreshed.removed},
        )
        transaction.on_commit(lambda: tasks.plan_solve_execute.delay(solve.pk))
    return solve


def _settled_status(plan: RotationPlan) -> str:
    """Where a plan goes back to when a solve ends without a new assignment."""
    last = (
        plan.solves.filter(status=SolveStatus.DONE, is_proposal=False)
        .exclude(outcome="")
        .order_by("-pk")
        .first()
    )
    if last is not None and last.outcome in {"infeasible", "unknown"}:
        return PlanStatus.FAILED
    return PlanStatus.SOLVED if plan.cells.exists() else PlanStatus.DRAFT


def plan_solve_cancel(*, solve: PlanSolve, actor: Any) -> PlanSolve:
    """A queued solve is cancelled at once; a running one stops at its next stage."""
    _require_editor(actor, solve.plan)
    now = timezone.now()
    with transaction.atomic():
        plan = _locked(solve.plan)
        solve = PlanSolve.objects.select_for_update().get(pk=solve.pk)
        if solve.status == SolveStatus.QUEUED:
            solve.status = SolveStatus.CANCELLED
            solve.finished_at = solve.cancel_requested_at = now
            solve.save(update_fields=["status", "finished_at", "cancel_requested_at"])
            plan.status = _settled_status(plan)
            plan.save(update_fields=["status", "updated_at"])
            audit_record(
                actor=actor,
                action="rotation_plan.solve_cancelled",
                target=solve,
                from_state=SolveStatus.QUEUED,
                to_state=SolveStatus.CANCELLED,
            )
        elif solve.status == SolveStatus.RUNNING:
            solve.cancel_requested_at = now
            solve.save(update_fields=["cancel_requested_at"])
            audit_record(actor=actor, action="rotation_plan.solve_cancel_requested", target=solve)
        else:
            raise ValidationError(_("Only a queued or running solve can be cancelled."))
    return solve


def _stage(solve_id: int, stage: str, progress: int, **values: Any) -> None:
    run_stage(PlanSolve, solve_id, stage, progress, **values)


def _baseline(plan: engine.Plan) -> dict[str, Any]:
    """What a spreadsheet would do (the engine's greedy), for comparison."""
    assignment, score = engine.greedy(plan)
    broken = engine.violations(plan, assignment)
    return {
        "preferences": score.preferences,
        "diversity": score.diversity,
        "imbalance": score.imbalance,
        "broken": len(broken),
        "empty": sum(1 for v in broken if v.rule == "presence"),
    }


def _solve_watched(solve_id: int, plan: engine.Plan, time_limit: float) -> engine.Solution:
    """Solve in a helper thread; this thread writes the progress the callback saw.

    CP-SAT calls ``progress`` from its own threads, which must not touch the database:
    they only record the latest objective and bound, written here twice a second.
    """
    seen: dict[str, int] = {}
    outcome: dict[str, Any] = {}

    def report(objective: int, bound: int) -> None:
        seen["objective"], seen["bound"] = objective, bound

    def work() -> None:
        try:
            outcome["solution"] = engine.solve(plan, time_limit=time_limit, progress=report)
        except BaseException as error:  # re-raised below, in the calling thread
            outcome["error"] = error

    started = time.monotonic()
    helper = threading.Thread(target=work, name=f"plan-solve-{solve_id}", daemon=True)
    helper.start()
    written: dict[str, int] = {}
    while helper.is_alive():
        helper.join(timeout=0.5)
        if seen and seen != written:
            written = dict(seen)
            elapsed = time.monotonic() - started
            progress = 30 + min(50, int(50 * elapsed / max(time_limit, 0.1)))
            PlanSolve.objects.filter(pk=solve_id).update(
                objective=written["objective"], bound=written["bound"], progress=progress
            )
    if "error" in outcome:
        raise outcome["error"]
    solution: engine.Solution = outcome["solution"]
    return solution


def plan_solve_execute(*, solve_id: int) -> PlanSolve | None:
    """The background work of a solve: build, solve, save; cancel between stages."""
    with transaction.atomic():
        solve = PlanSolve.objects.select_for_update().filter(pk=solve_id).first()
        if solve is None or solve.status != SolveStatus.QUEUED:
            return solve
        solve.status = SolveStatus.RUNNING
        solve.started_at = timezone.now()
        solve.save(update_fields=["status", "started_at"])
        audit_record(
            actor=None,
            action="rotation_plan.solve_started",
            target=solve,
            from_state=SolveStatus.QUEUED,
            to_state=SolveStatus.RUNNING,
        )
    try:
        _stage(solve_id, SolveStage.BUILDING, 10)
        plan = RotationPlan.objects.get(pk=solve.plan_id)
        report = AbsenceReport.objects.filter(proposal_id=solve_id).first()
        data = absence_plan_json(report) if report is not None else selectors.plan_json(plan)
        parsed = engine.parse_plan(data)
        _stage(
            solve_id,
            SolveStage.SOLVING,
            30,
            input_json=data,
            engine_version=engine.ENGINE_VERSION,
            baseline=_baseline(parsed),
        )
        solution = _solve_watched(solve_id, parsed, solve_seconds())
        _stage(solve_id, SolveStage.SAVING, 85)
        result = engine.solution_to_json(solution)
        with transaction.atomic():
            plan = _locked(plan)
            if PlanSolve.objects.filter(pk=solve_id, cancel_requested_at__isnull=False).exists():
                raise RunCancelled
            found = solution.status in {"optimal", "feasible"}
            if report is not None:
                AbsenceReport.objects.filter(pk=report.pk, status=AbsenceStatus.PROPOSING).update(
                    status=AbsenceStatus.PROPOSED if found else AbsenceStatus.FAILED
                )
            else:
                if found:
                    _save_assignment(plan, solution.assignment)
                plan.status = PlanStatus.SOLVED if found else PlanStatus.FAILED
                plan.save(update_fields=["status", "updated_at"])
            return _finish(
                solve_id,
                SolveStatus.DONE,
                action="rotation_plan.solved" if found else "rotation_plan.no_plan",
                result_json=result,
                outcome=solution.status,
                objective=solution.objective,
                bound=solution.bound,
                gap=solution.gap,
                seconds=round(solution.seconds, 3),
                conflicts=result["conflicts"],
                stage=SolveStage.FINISHED,
                progress=100,
            )
    except RunCancelled:
        return _finish(solve_id, SolveStatus.CANCELLED, action="rotation_plan.solve_cancelled")
    except engine.PlanError as error:
        plan = RotationPlan.objects.get(pk=solve.plan_id)
        return _finish(
            solve_id,
            SolveStatus.FAILED,
            action="rotation_plan.solve_failed",
            error=plan_error_message(plan, error),
        )
    except Exception as error:  # any failure is recorded on the solve, not lost
        return _finish(
            solve_id, SolveStatus.FAILED, action="rotation_plan.solve_failed", error=repr(error)
        )


def _save_assignment(plan: RotationPlan, assignment: dict[str, dict[str, str]]) -> None:
    """Replace the unpinned cells by the solver's; pinned cells stay as they are."""
    people = set(plan.participants.values_list("pk", flat=True))
    sites = set(plan.sites.values_list("pk", flat=True))
    period_of = {plan.period_id(t): t for t in range(plan.period_count)}
    pinned = set(plan.cells.filter(pinned=True).values_list("participant_id", "period"))
    plan.cells.filter(pinned=False).delete()
    rows = []
    for person_id, row in assignment.items():
        person = int(person_id[1:])
        if person not in people:
            continue
        for period_id, site_id in row.items():
            t, site = period_of.get(period_id), int(site_id[1:])
            if t is None or site not in sites or (person, t) in pinned:
                continue
            rows.append(
                PlanCell(
                    plan=plan,
                    participant_id=person,
                    period=t,
                    site_id=site,
                    source=CellSource.SOLVER,
                )
            )
    PlanCell.objects.bulk_create(rows)


def _finish(solve_id: int, status: str, *, action: str, **values: Any) -> PlanSolve:
    with transaction.atomic():
        solve = PlanSolve.objects.select_for_update().get(pk=solve_id)
        source = solve.status
        solve.status = status
        solve.finished_at = timezone.now()
        for name, value in values.items():
            setattr(solve, name, value)
        solve.save()
        plan = RotationPlan.objects.select_for_update().get(pk=solve.plan_id)
        if status != SolveStatus.DONE and solve.is_proposal:
            AbsenceReport.objects.filter(proposal=solve, status=AbsenceStatus.PROPOSING).update(
                status=AbsenceStatus.FAILED
            )
        if status != SolveStatus.DONE and plan.status == PlanStatus.SOLVING:
            plan.status = _settled_status(plan)
            plan.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=None,
            action=action,
            target=solve,
            from_state=source,
            to_state=status,
            data={"error": values["error"]} if "error" in values else None,
        )
    return solve


# --------------------------------------------------------------------------- publishing

EMAIL_TEMPLATE = "scheduling/email/plan"


def _host_coordinators(plan: RotationPlan) -> list[Any]:
    from medexchange.accounts.choices import InstitutionRoleKind

    return selectors.people_with_role(
        plan.session.opportunity.host_id, InstitutionRoleKind.COORDINATOR
    )


class _Text:
    """A sentence list rendered when ``str()`` is called: in the recipient's language
    (``notify_users`` renders each notification under its recipient's language)."""

    def __init__(self, render: Any) -> None:
        self.render = render

    def __str__(self) -> str:
        return str(self.render())


def _rotation_text(plan: RotationPlan, row: dict[str, int], sites: dict[int, PlanSite]) -> _Text:
    def render() -> str:
        parts = [
            _("%(when)s: %(site)s") % {"when": stay.label, "site": stay.site.site.name}
            for stay in selectors.stays(plan, row, sites)
        ]
        return "; ".join(parts) or _("no site in any period")

    return _Text(render)


def _where(site_pk: int | None, sites: dict[int, PlanSite]) -> str:
    if site_pk is None:
        return _("no site")
    site = sites.get(site_pk)
    return site.site.name if site else "?"


def _participant_changes_text(
    plan: RotationPlan, changes: list[selectors.Change], sites: dict[int, PlanSite]
) -> _Text:
    def render() -> str:
        return "; ".join(
            _("%(when)s: %(before)s → %(after)s")
            % {
                "when": selectors.period_span_label(plan, change.period, change.period),
                "before": _where(change.before, sites),
                "after": _where(change.after, sites),
            }
            for change in changes
        )

    return _Text(render)


def _site_lines(
    plan: RotationPlan,
    site: PlanSite,
    changes: list[selectors.Change],
    names: dict[int, str],
) -> list[str]:
    lines = []
    for change in changes:
        when = selectors.period_span_label(plan, change.period, change.period)
        who = names[change.participant]
        if change.after == site.pk:
            lines.append(_("%(who)s now comes in %(when)s") % {"who": who, "when": when})
        elif change.before == site.pk:
            lines.append(_("%(who)s no longer comes in %(when)s") % {"who": who, "when": when})
    return lines


def _supervisor_text(
    plan: RotationPlan,
    parts: list[tuple[PlanSite, list[selectors.Change] | None]],
    names: dict[int, str],
) -> _Text:
    """Per site of the supervisor: who comes when (first publication) or what changed."""

    def render() -> str:
        out = []
        for site, changes in parts:
            if changes is None:
                roster = [
                    _("%(when)s: %(who)s")
                    % {
                        "when": period.label,
                        "who": ", ".join(p.name for p in period.people) or _("nobody"),
                    }
                    for period in selectors.site_roster(plan, site)
                ]
                body = "; ".join(roster)
            else:
                body = "; ".join(_site_lines(plan, site, changes, names))
            out.append(_("At %(site)s: %(details)s") % {"site": site.site.name, "details": body})
        return " ".join(out)

    return _Text(render)


def rotation_plan_publish(*, plan: RotationPlan, actor: Any) -> PlanPublication | None:
    """Publish the cells as they stand: participants, site supervisors and the calendar
    feeds see them from now on. A first publication tells everyone their rotation; a
    later one tells only the people whose rotation or site changed, with the difference.
    Nothing changed since the last publication: nothing is published (returns None)."""
    _require_editor(actor, plan)
    with transaction.atomic():
        plan = _locked(plan)
        if plan.solves.filter(status__in=[SolveStatus.QUEUED, SolveStatus.RUNNING]).exists():
            raise ValidationError(
                _("A solve of this plan is under way: wait for it before publishing."),
                code="pending",
            )
        sites = {site.pk: site for site in selectors.plan_sites(plan)}
        people = {p.pk: p for p in selectors.plan_participants(plan)}
        new = selectors.working_assignment(plan)
        if not any(new.values()):
            raise ValidationError(
                _("The plan places nobody yet: solve it or set cells before publishing."),
                code="empty",
            )
        first = plan.published_at is None
        old = plan.published_assignment or {}
        changes = [] if first else selectors.assignment_changes(old, new)
        if not first and not changes:
            return None
        version = selectors.publication_version(plan) + 1
        plan.published_at = timezone.now()
        plan.published_assignment = new
        plan.save(update_fields=["published_at", "published_assignment", "updated_at"])
        names: dict[int, str] = defaultdict(lambda: _("a participant who left the plan"))
        names.update(
            (person.pk, person.name)
            for person in plan.participants.select_related("placement__application__applicant")
        )
        notified = _tell_published(plan, sites, people, names, new, None if first else changes)
        publication = PlanPublication.objects.create(
            plan=plan,
            version=version,
            published_by=actor,
            assignment=new,
            changes=[
                {"participant": c.participant, "period": c.period, "from": c.before, "to": c.after}
                for c in changes
            ],
            notified=notified,
        )
        audit_record(
            actor=actor,
            action="rotation_plan.published",
            target=plan,
            data={"version": version, "changes": len(changes), "notified": notified},
        )
    return publication


def _tell_published(
    plan: RotationPlan,
    sites: dict[int, PlanSite],
    people: dict[int, PlanParticipant],
    names: dict[int, str],
    new: selectors.Assignment,
    changes: list[selectors.Change] | None,
) -> int:
    """Notify participants and supervisors (only the affected ones after a change)."""
    program = plan.session.opportunity.title
    url = plan.get_absolute_url()
    told = 0
    by_person: dict[int, list[selectors.Change]] = defaultdict(list)
    by_site: dict[int, list[selectors.Change]] = defaultdict(list)
    for change in changes or []:
        by_person[change.participant].append(change)
        for site_pk in {change.before, change.after} - {None}:
            by_site[int(site_pk)].append(change)  # type: ignore[arg-type]
    for pk, person in people.items():
        applicant = person.placement.application.applicant
        if applicant is None or not applicant.is_active:
            continue
        if changes is None:
            message = gettext_noop("Your rotation in %(program)s is published: %(rotation)s")
            params: dict[str, Any] = {
                "program": program,
                "rotation": _rotation_text(plan, new.get(str(pk), {}), sites),
            }
        elif pk in by_person:
            message = gettext_noop("Your rotation in %(program)s changed: %(changes)s")
            params = {
                "program": program,
                "changes": _participant_changes_text(plan, by_person[pk], sites),
            }
        else:
            continue
        notify_users(
            users=[applicant],
            message=message,
            params=params,
            url=url,
            email_template=EMAIL_TEMPLATE,
            email_context={"program": program},
        )
        told += 1
    supervisors: dict[int, tuple[Any, list[tuple[PlanSite, list[selectors.Change] | None]]]] = {}
    for site in sites.values():
        if changes is not None and site.pk not in by_site:
            continue
        for user in selectors.supervisors_of(site):
            entry = supervisors.setdefault(user.pk, (user, []))
            entry[1].append((site, None if changes is None else by_site[site.pk]))
    for user, parts in supervisors.values():
        notify_users(
            users=[user],
            message=gettext_noop("The rotation plan of %(program)s: %(details)s")
            if changes is None
            else gettext_noop("The rotation plan of %(program)s changed. %(details)s"),
            params={"program": program, "details": _supervisor_text(plan, parts, names)},
            url=reverse("scheduling:roster", kwargs={"pk": plan.pk}),
            email_template=EMAIL_TEMPLATE,
            email_context={"program": program},
        )
        told += 1
    return told


# --------------------------------------------------------------------------- calendar feeds


def calendar_feed_issue(
    *,
    plan: RotationPlan,
    actor: Any,
    participant: PlanParticipant | None = None,
    site: PlanSite | None = None,
) -> CalendarFeed:
    """The active private feed of a participant or a site, issued on first use."""
    if (participant is None) == (site is None):
        raise ValidationError(_("A calendar feed is of one participant or of one site."))
    if participant is not None and not can_read_participant(actor, participant):
        raise PermissionDenied
    if site is not None and not can_read_site(actor, site):
        raise PermissionDenied
    with transaction.atomic():
        _locked(plan)
        feeds = CalendarFeed.objects.active().filter(plan=plan)
        found = (
            feeds.filter(participant=participant) if participant else feeds.filter(site=site)
        ).first()
        if found is not None:
            return found
        feed = CalendarFeed.objects.create(plan=plan, participant=participant, site=site)
        audit_record(actor=actor, action="calendar_feed.issued", target=feed)
    return feed


def calendar_feed_revoke(*, feed: CalendarFeed, actor: Any) -> CalendarFeed:
    """Stop the feed's URL at once (a leaked link); a new one can then be issued."""
    if feed.participant is not None and not can_read_participant(actor, feed.participant):
        raise PermissionDenied
    if feed.site is not None and not can_read_site(actor, feed.site):
        raise PermissionDenied
    with transaction.atomic():
        feed = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
        if feed.revoked_at is not None:
            raise ValidationError(_("This calendar link was already revoked."))
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="calendar_feed.revoked",
            target=feed,
            from_state="active",
            to_state="revoked",
        )
    return feed


def calendar_feed_read(*, token: str) -> CalendarFeed | None:
    """The active feed of a token (None: unknown or revoked); stamps the last read."""
    if not token or len(token) > 64:
        return None
    feed = (
        CalendarFeed.objects.active()
        .select_related("plan__session__opportunity__host", "participant", "site__site")
        .filter(token=token, plan__published_at__isnull=False)
        .first()
    )
    if feed is not None:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_read_at=timezone.now())
    return feed


# --------------------------------------------------------------------------- absences


def _new_stay(
    plan: RotationPlan, participant: PlanParticipant, kind: str, day: dt.date | None
) -> tuple[dt.date, dt.date]:
    """The participant's stay once the report is accepted (field errors when impossible)."""
    if kind == AbsenceKind.NO_SHOW:
        return participant.arrival, participant.departure
    if day is None:
        raise ValidationError({"day": [_("Give the date.")]})
    if kind == AbsenceKind.LATE_ARRIVAL:
        if not participant.arrival < day <= participant.departure:
            raise ValidationError(
                {
                    "day": [
                        _(
                            "A late arrival is after the planned arrival (%(arrival)s) and "
                            "no later than the departure (%(departure)s)."
                        )
                        % {
                            "arrival": formats.date_format(participant.arrival),
                            "departure": formats.date_format(participant.departure),
                        }
                    ]
                }
            )
        return day, participant.departure
    if not participant.arrival <= day < participant.departure:
        raise ValidationError(
            {
                "day": [
                    _(
                        "An early departure is before the planned departure (%(departure)s) "
                        "and no earlier than the arrival (%(arrival)s)."
                    )
                    % {
                        "arrival": formats.date_format(participant.arrival),
                        "departure": formats.date_format(participant.departure),
                    }
                ]
            }
        )
    return participant.arrival, day


def absence_plan_json(report: AbsenceReport) -> dict[str, Any]:
    """The plan as it would be after the report: the participant's stay shortened (or the
    participant gone), their pins outside the new stay dropped; every cell as previous."""
    plan = report.plan
    person = report.participant
    data = selectors.plan_json(plan)
    key = person.engine_id
    if report.kind == AbsenceKind.NO_SHOW:
        data["participants"] = [p for p in data["participants"] if p["id"] != key]
        for section in ("pinned", "previous"):
            data.get(section, {}).pop(key, None)
        for rule in ("together", "apart"):
            data["rules"][rule] = [pair for pair in data["rules"][rule] if key not in pair]
        return data
    arrival, departure = _new_stay(plan, person, report.kind, report.day)
    last = plan.period_count - 1
    first_t = min(max(plan.period_of(arrival), 0), last)
    last_t = min(max(plan.period_of(departure), 0), last)
    for item in data["participants"]:
        if item["id"] == key:
            item["arrival"], item["departure"] = plan.period_id(first_t), plan.period_id(last_t)
    inside = {plan.period_id(t) for t in range(first_t, last_t + 1)}
    for section in ("pinned", "previous"):
        row = data.get(section, {}).get(key)
        if row is not None:
            data[section][key] = {t: site for t, site in row.items() if t in inside}
    return data


def _proposal_assignment(plan: RotationPlan, result: dict[str, Any]) -> selectors.Assignment:
    """The engine's assignment in the publication format."""
    index = {plan.period_id(t): t for t in range(plan.period_count)}
    out: dict[str, dict[str, int]] = {}
    for person, row in (result.get("assignment") or {}).items():
        cells = {
            str(index[period]): int(site[1:])
            for period, site in row.items()
            if period in index and site
        }
        if cells:
            out[person[1:]] = dict(sorted(cells.items(), key=lambda kv: int(kv[0])))
    return out


def absence_proposal(report: AbsenceReport) -> selectors.Assignment | None:
    solve = report.proposal
    if solve is None or solve.status != SolveStatus.DONE or not solve.result_json:
        return None
    if solve.outcome not in {"optimal", "feasible"}:
        return None
    return _proposal_assignment(report.plan, solve.result_json)


def _queue_proposal(report: AbsenceReport, actor: Any) -> PlanSolve | None:
    """Queue the repair solve of a report, unless another solve of the plan is under way."""
    from medexchange.scheduling import tasks

    plan = report.plan
    if plan.solves.filter(status__in=[SolveStatus.QUEUED, SolveStatus.RUNNING]).exists():
        return None
    solve = PlanSolve.objects.create(plan=plan, started_by=actor, is_proposal=True)
    report.proposal = solve
    report.base = selectors.working_assignment(plan)
    report.status = AbsenceStatus.PROPOSING
    report.save(update_fields=["proposal", "base", "status"])
    transaction.on_commit(lambda: tasks.plan_solve_execute.delay(solve.pk))
    return solve


def absence_report_create(
    *,
    plan: RotationPlan,
    participant: PlanParticipant,
    kind: str,
    day: dt.date | None,
    note: str,
    actor: Any,
) -> AbsenceReport:
    """A supervisor of a site the participant is published at (or the host's coordinator)
    reports an absence; a repaired plan is proposed in the background."""
    if participant.plan_id != plan.pk or participant.excluded:
        raise ValidationError({"participant": [_("Choose a participant of this plan.")]})
    editor = can_edit_plan(actor, plan)
    site = None
    if not editor:
        mine = {s.pk: s for s in selectors.supervised_sites(plan, actor)}
        row = (plan.published_assignment or {}).get(str(participant.pk), {})
        at = [mine[pk] for pk in row.values() if pk in mine]
        if not at:
            raise PermissionDenied
        site = at[0]
    if kind not in AbsenceKind.values:
        raise ValidationError({"kind": [_("Choose what happened.")]})
    _new_stay(plan, participant, kind, day)
    with transaction.atomic():
        plan = _locked(plan)
        if AbsenceReport.objects.filter(
            participant=participant,
            status__in=[AbsenceStatus.PROPOSING, AbsenceStatus.PROPOSED],
        ).exists():
            raise ValidationError(
                _(
                    "An absence of %(who)s is already waiting for the coordinator: it is "
                    "decided first."
                )
                % {"who": participant.name}
            )
        report = AbsenceReport.objects.create(
            plan=plan,
            participant=participant,
            site=site,
            kind=kind,
            day=None if kind == AbsenceKind.NO_SHOW else day,
            note=note.strip(),
            reported_by=actor,
        )
        _queue_proposal(report, actor)
        audit_record(
            actor=actor,
            action="absence.reported",
            target=report,
            to_state=report.status,
            data={"participant": participant.pk, "kind": kind, "day": str(day or "")},
        )
        notify_users(
            users=[u for u in _host_coordinators(plan) if u.pk != getattr(actor, "pk", None)],
            message=gettext_noop(
                "%(reporter)s reported that %(who)s %(what)s (%(program)s); a repaired plan "
                "is proposed for you to accept."
            ),
            params={
                "reporter": actor,
                "who": participant.name,
                "what": _AbsenceWhat(report),
                "program": plan.session.opportunity.title,
            },
            url=report.get_absolute_url(),
            email_template=EMAIL_TEMPLATE,
            email_context={"program": plan.session.opportunity.title},
        )
    return report


class _AbsenceWhat:
    """ "arrives on 3 March" in the reader's language."""

    def __init__(self, report: AbsenceReport) -> None:
        self.report = report

    def __str__(self) -> str:
        return absence_sentence(self.report)


def absence_sentence(report: AbsenceReport) -> str:
    day = formats.date_format(report.day) if report.day else ""
    if report.kind == AbsenceKind.LATE_ARRIVAL:
        return _("arrives only on %(day)s") % {"day": day}
    if report.kind == AbsenceKind.EARLY_DEPARTURE:
        return _("leaves on %(day)s") % {"day": day}
    return _("is not coming")


def absence_repropose(*, report: AbsenceReport, actor: Any) -> AbsenceReport:
    """Propose again (the plan changed since, or the earlier attempt could not run)."""
    _require_editor(actor, report.plan)
    with transaction.atomic():
        _locked(report.plan)
        report = AbsenceReport.objects.select_for_update().get(pk=report.pk)
        if report.status not in {
            AbsenceStatus.PROPOSING,
            AbsenceStatus.PROPOSED,
            AbsenceStatus.FAILED,
        }:
            raise ValidationError(_("This report is already decided."))
        if report.proposal is not None and report.proposal.is_pending:
            raise ValidationError(_("A repair of this report is being worked out: wait for it."))
        if _queue_proposal(report, actor) is None:
            raise ValidationError(
                _("A solve of this plan is under way: wait for it, then propose again.")
            )
        audit_record(actor=actor, action="absence.reproposed", target=report)
    return report


def absence_accept(*, report: AbsenceReport, actor: Any) -> AbsenceReport:
    """Apply the proposed repair: the participant's stay changes (or they leave the plan)
    and the cells become the proposal. Refused when the plan changed since the proposal."""
    _require_editor(actor, report.plan)
    with transaction.atomic():
        plan = _locked(report.plan)
        report = AbsenceReport.objects.select_for_update().get(pk=report.pk)
        if report.status != AbsenceStatus.PROPOSED:
            raise ValidationError(_("Only a proposed repair can be accepted."))
        proposal = absence_proposal(report)
        if proposal is None:
            raise ValidationError(_("This report has no repaired plan to accept."))
        if selectors.working_assignment(plan) != report.base:
            raise ValidationError(
                _(
                    "The plan changed since this repair was proposed: propose again so "
                    "the repair starts from the plan as it is now."
                ),
                code="stale",
            )
        person = PlanParticipant.objects.select_for_update().get(pk=report.participant_id)
        before = {
            "arrival": str(person.arrival),
            "departure": str(person.departure),
            "excluded": person.excluded,
        }
        if report.kind == AbsenceKind.NO_SHOW:
            person.excluded = True
            person.cells.all().delete()
            plan.together = [p for p in plan.together if person.pk not in p]
            plan.apart = [p for p in plan.apart if person.pk not in p]
            plan.save(update_fields=["together", "apart", "updated_at"])
        else:
            person.arrival, person.departure = _new_stay(plan, person, report.kind, report.day)
            first, last = plan.period_of(person.arrival), plan.period_of(person.departure)
            person.cells.exclude(period__gte=first, period__lte=last).delete()
        person.save(update_fields=["arrival", "departure", "excluded"])
        engine_rows = {
            f"p{pk}": {plan.period_id(int(t)): f"s{site}" for t, site in row.items()}
            for pk, row in proposal.items()
        }
        _save_assignment(plan, engine_rows)
        changes = selectors.assignment_changes(report.base, selectors.working_assignment(plan))
        report.status = AbsenceStatus.ACCEPTED
        report.decided_by, report.decided_at = actor, timezone.now()
        report.save(update_fields=["status", "decided_by", "decided_at"])
        audit_record(
            actor=actor,
            action="absence.accepted",
            target=report,
            from_state=AbsenceStatus.PROPOSED,
            to_state=AbsenceStatus.ACCEPTED,
            data={"participant": before, "changes": len(changes)},
        )
        _tell_reporter(report, accepted=True)
    return report


def absence_reject(*, report: AbsenceReport, actor: Any, reason: str = "") -> AbsenceReport:
    """Set the report aside: the plan stays as it is."""
    _require_editor(actor, report.plan)
    with transaction.atomic():
        _locked(report.plan)
        report = AbsenceReport.objects.select_for_update().get(pk=report.pk)
        if report.status in {AbsenceStatus.ACCEPTED, AbsenceStatus.REJECTED}:
            raise ValidationError(_("This report is already decided."))
        source = report.status
        report.status = AbsenceStatus.REJECTED
        report.decided_by, report.decided_at = actor, timezone.now()
        report.save(update_fields=["status", "decided_by", "decided_at"])
        audit_record(
            actor=actor,
            action="absence.rejected",
            target=report,
            from_state=source,
            to_state=AbsenceStatus.REJECTED,
            reason=reason,
        )
        _tell_reporter(report, accepted=False)
    return report


def _tell_reporter(report: AbsenceReport, *, accepted: bool) -> None:
    reporter = report.reported_by
    if reporter is None or reporter.pk == getattr(report.decided_by, "pk", None):
        return
    notify_users(
        users=[reporter],
        message=gettext_noop(
            "Your report that %(who)s %(what)s was accepted: the plan is repaired and "
            "everyone affected is told once it is published."
        )
        if accepted
        else gettext_noop(
            "Your report that %(who)s %(what)s was set aside: the plan stays as it is."
        ),
        params={"who": report.participant.name, "what": _AbsenceWhat(report)},
        url=report.get_absolute_url(),
    )
