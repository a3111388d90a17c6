"""Reads of rotation plans: the engine's JSON, the grid, occupancy and translated feedback.

The engine speaks English; the platform never shows its sentences. Rule codes
(``capacity:s3``, ``stay:p7``…) and hand-edit violations are turned into sentences in the
reader's language here, with names filled in from the plan.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from medexchange.applications.choices import ApplicationState
from medexchange.applications.models import Placement
from medexchange.catalog.models import Session
from medexchange.engines import scheduling as engine
from medexchange.scheduling.choices import PlanUnit
from medexchange.scheduling.models import PlanCell, PlanParticipant, PlanSite, RotationPlan

#: Seats that put a participant into the plan (a completed stay is history).
PLAN_SEAT_STATES = frozenset(
    {ApplicationState.ACCEPTED, ApplicationState.CONFIRMED, ApplicationState.IN_PROGRESS}
)


def seat_placements(session: Session) -> QuerySet[Placement]:
    """The session's placements that put someone in its rotation plan."""
    return (
        Placement.objects.filter(
            session=session,
            released_at__isnull=True,
            application__state__in=PLAN_SEAT_STATES,
            application__applicant__isnull=False,
        )
        .select_related("application__applicant__applicant_profile")
        .order_by("pk")
    )


def plan_sites(plan: RotationPlan) -> list[PlanSite]:
    return list(plan.sites.select_related("site").order_by("position", "pk"))


def plan_participants(plan: RotationPlan) -> list[PlanParticipant]:
    """The participants the plan places (not those reported as not coming)."""
    return list(
        plan.participants.filter(excluded=False)
        .select_related("placement__application__applicant")
        .order_by("pk")
    )


def visible_participants(plan: RotationPlan, user: Any) -> list[PlanParticipant]:
    """Every row for the host's people; only their own for a participant."""
    people = plan_participants(plan)
    if RotationPlan.objects.managed_by(user).filter(pk=plan.pk).exists():
        return people
    return [p for p in people if p.placement.application.applicant_id == user.pk]


def assignment_of(plan: RotationPlan) -> dict[int, dict[int, PlanCell]]:
    """participant pk → period index → cell."""
    rows: dict[int, dict[int, PlanCell]] = defaultdict(dict)
    for cell in plan.cells.all():
        rows[cell.participant_id][cell.period] = cell
    return rows


# --------------------------------------------------------------------------- engine JSON


def _pair_ids(pairs: list[Any], known: set[int]) -> list[list[str]]:
    return [
        [f"p{a}", f"p{b}"]
        for a, b in (tuple(pair) for pair in pairs if len(pair) == 2)
        if a in known and b in known
    ]


def plan_json(
    plan: RotationPlan,
    *,
    sites: list[PlanSite] | None = None,
    people: list[PlanParticipant] | None = None,
    cells: list[PlanCell] | None = None,
    previous: bool = True,
) -> dict[str, Any]:
    """The plan in the engine's format (docs/scheduling-engine.md): pinned cells as
    ``pinned``, every current cell as ``previous`` (so a re-solve changes little)."""
    sites = plan_sites(plan) if sites is None else sites
    people = plan_participants(plan) if people is None else people
    cells = list(plan.cells.all()) if cells is None else cells
    count = plan.period_count
    last = count - 1
    site_ids = {site.pk for site in sites}
    data: dict[str, Any] = {
        "unit": plan.unit,
        "horizon": {"start": plan.start_date.isoformat(), "count": count},
        "sites": [
            {
                "id": site.engine_id,
                "name": site.short_name or site.site.name,
                "capacity": site.capacities(count) if site.capacity_per_period else site.capacity,
                "min_staff": site.min_staff,
                "languages": sorted(set(site.languages)),
                "closed": [plan.period_id(t) for t in sorted(set(site.closed)) if 0 <= t <= last],
            }
            for site in sites
        ],
        "participants": [
            {
                "id": person.engine_id,
                "name": person.name,
                "arrival": plan.period_id(min(max(plan.period_of(person.arrival), 0), last)),
                "departure": plan.period_id(min(max(plan.period_of(person.departure), 0), last)),
                "languages": sorted(set(person.languages)),
                "preferences": [f"s{pk}" for pk in person.preferences if pk in site_ids],
                "must_visit": [f"s{pk}" for pk in person.must_visit if pk in site_ids],
                "must_not_visit": [f"s{pk}" for pk in person.must_not_visit if pk in site_ids],
            }
            for person in people
        ],
        "rules": {
            "min_sites": plan.min_sites,
            "min_stay": plan.min_stay,
            **({"max_stay": plan.max_stay} if plan.max_stay else {}),
            "balance": plan.balance,
            "together": _pair_ids(plan.together, {p.pk for p in people}),
            "apart": _pair_ids(plan.apart, {p.pk for p in people}),
        },
    }
    present = {p.pk for p in people}
    pinned: dict[str, dict[str, str]] = defaultdict(dict)
    earlier: dict[str, dict[str, str]] = defaultdict(dict)
    for cell in cells:
        if cell.participant_id not in present or cell.site_id not in site_ids:
            continue
        if cell.period > last:
            continue
        key, period, site = (
            f"p{cell.participant_id}",
            plan.period_id(cell.period),
            f"s{cell.site_id}",
        )
        earlier[key][period] = site
        if cell.pinned:
            pinned[key][period] = site
    if pinned:
        data["pinned"] = dict(pinned)
    if previous and earlier:
        data["previous"] = dict(earlier)
    return data


def engine_assignment(plan: RotationPlan, cells: list[PlanCell]) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = defaultdict(dict)
    for cell in cells:
        if cell.period < plan.period_count:
            rows[f"p{cell.participant_id}"][plan.period_id(cell.period)] = f"s{cell.site_id}"
    return dict(rows)


# --------------------------------------------------------------------------- wording


def period_label(plan: RotationPlan | engine.Plan, index: int) -> str:
    """ "week 3" / "day 12", in the reader's language."""
    unit = plan.unit
    if unit == PlanUnit.DAY:
        return _("day %(n)d") % {"n": index + 1}
    return _("week %(n)d") % {"n": index + 1}


class _Names:
    """Names of an engine plan's participants, sites and periods."""

    def __init__(self, plan: engine.Plan) -> None:
        self.plan = plan
        self.people = {p.id: p for p in plan.participants}
        self.sites = {s.id: s for s in plan.sites}
        self.periods = {period.id: t for t, period in enumerate(plan.periods)}

    def who(self, person_id: str | None) -> str:
        person = self.people.get(person_id or "")
        return (person.name or person.id) if person else (person_id or "?")

    def where(self, site_id: str | None) -> str:
        site = self.sites.get(site_id or "")
        return (site.name or site.id) if site else (site_id or "?")

    def when(self, period_id: str | None) -> str:
        t = self.periods.get(period_id or "")
        return period_label(self.plan, t) if t is not None else (period_id or "?")


def conflict_sentence(plan: engine.Plan, code: str) -> str:
    """One translated sentence for an engine rule code of an infeasible plan."""
    names = _Names(plan)
    kind, _sep, rest = code.partition(":")
    if kind == "presence":
        person = names.people.get(rest)
        if person is not None:
            return _("%(who)s must be at a site in every period from %(first)s to %(last)s.") % {
                "who": names.who(rest),
                "first": period_label(plan, person.first),
                "last": period_label(plan, person.last),
            }
    if kind == "capacity" and rest in names.sites:
        capacity = names.sites[rest].capacity
        shown = str(capacity[0]) if len(set(capacity)) == 1 else " / ".join(map(str, capacity))
        return _("%(site)s takes at most %(n)s participant(s) per period.") % {
            "site": names.where(rest),
            "n": shown,
        }
    if kind == "min_staff" and rest in names.sites:
        return _("%(site)s needs at least %(n)d participant(s) whenever it is open.") % {
            "site": names.where(rest),
            "n": max(names.sites[rest].min_staff),
        }
    if kind == "min_sites" and rest in names.people:
        needed = names.people[rest].min_sites or plan.rules.min_sites
        return ngettext(
            "%(who)s must visit at least %(n)d site.",
            "%(who)s must visit at least %(n)d different sites.",
            needed,
        ) % {"who": names.who(rest), "n": needed}
    if kind == "must_visit":
        person_id, _sep, site_id = rest.partition(":")
        return _("%(who)s must visit %(site)s.") % {
            "who": names.who(person_id),
            "site": names.where(site_id),
        }
    if kind == "must_not_visit":
        person_id, _sep, site_id = rest.partition(":")
        return _("%(who)s must not go to %(site)s.") % {
            "who": names.who(person_id),
            "site": names.where(site_id),
        }
    if kind == "language":
        return _("%(who)s can only go to sites where one of their languages is spoken.") % {
            "who": names.who(rest)
        }
    if kind == "stay":
        rules = plan.rules
        if rules.max_stay:
            return _(
                "%(who)s stays at least %(min)d and at most %(max)d consecutive period(s) at a "
                "site."
            ) % {"who": names.who(rest), "min": rules.min_stay, "max": rules.max_stay}
        return _("%(who)s stays at least %(min)d consecutive period(s) at a site.") % {
            "who": names.who(rest),
            "min": rules.min_stay,
        }
    if kind in {"together", "apart"} and rest.isdigit():
        pairs = plan.rules.together if kind == "together" else plan.rules.apart
        if int(rest) < len(pairs):
            a, b = pairs[int(rest)]
            sentence = (
                _("%(a)s and %(b)s must be at the same site.")
                if kind == "together"
                else _("%(a)s and %(b)s must not be at the same site.")
            )
            return sentence % {"a": names.who(a), "b": names.who(b)}
    if kind == "pinned":
        person_id, _sep, period_id = rest.partition(":")
        pinned_site = plan.pinned.get(person_id, {}).get(period_id)
        return _("%(who)s is pinned to %(site)s in %(when)s.") % {
            "who": names.who(person_id),
            "site": names.where(pinned_site),
            "when": names.when(period_id),
        }
    if kind == "closed":
        return _("%(site)s is closed in some periods.") % {"site": names.where(rest)}
    if kind == "time_limit":
        return _("No plan was found within the time limit: try again, or relax some rules.")
    return _("A rule of the plan (%(code)s).") % {"code": code}


def _stay_length(seq: list[str | None], start: int) -> int:
    site, end = seq[start], start
    while end + 1 < len(seq) and seq[end + 1] == site:
        end += 1
    return end - start + 1


def violation_sentence(
    plan: engine.Plan, assignment: dict[str, dict[str, str]], violation: engine.Violation
) -> str:
    """One translated sentence for a rule a hand-edited plan breaks."""
    names = _Names(plan)
    who, where, when = (
        names.who(violation.participant),
        names.where(violation.site),
        names.when(violation.period),
    )
    period_ids = [period.id for period in plan.periods]
    t = names.periods.get(violation.period or "")
    rule = violation.rule
    if rule == "presence":
        if violation.site is None:
            return _("%(who)s has no site in %(when)s.") % {"who": who, "when": when}
        return _("%(who)s is not there in %(when)s but has a site.") % {"who": who, "when": when}
    if rule == "closed":
        return _("%(site)s is closed in %(when)s.") % {"site": where, "when": when}
    if rule == "must_not_visit":
        return _("%(who)s must not go to %(site)s.") % {"who": who, "site": where}
    if rule == "language":
        return _("Nobody at %(site)s speaks a language of %(who)s.") % {"site": where, "who": who}
    if rule in {"capacity", "min_staff"} and t is not None and violation.site in names.sites:
        here = sum(1 for row in assignment.values() if row.get(period_ids[t]) == violation.site)
        site = names.sites[violation.site]
        if rule == "capacity":
            return _(
                "%(site)s has %(n)d participants in %(when)s, more than its %(places)d places."
            ) % {"site": where, "n": here, "when": when, "places": site.capacity[t]}
        return _(
            "%(site)s has %(n)d participant(s) in %(when)s, fewer than the %(least)d it needs."
        ) % {"site": where, "n": here, "when": when, "least": site.min_staff[t]}
    if rule == "min_sites":
        person = names.people.get(violation.participant or "")
        visited = len(set(assignment.get(violation.participant or "", {}).values()))
        needed = (person.min_sites if person else None) or plan.rules.min_sites
        return _("%(who)s visits %(n)d site(s), fewer than the %(least)d required.") % {
            "who": who,
            "n": visited,
            "least": needed,
        }
    if rule == "must_visit":
        return _("%(who)s never visits %(site)s.") % {"who": who, "site": where}
    if rule == "stay" and t is not None:
        row = assignment.get(violation.participant or "", {})
        length = _stay_length([row.get(p) for p in period_ids], t)
        if length < plan.rules.min_stay:
            return _(
                "%(who)s stays %(n)d period(s) at %(site)s from %(when)s, fewer than %(least)d."
            ) % {"who": who, "n": length, "site": where, "when": when, "least": plan.rules.min_stay}
        return _("%(who)s stays %(n)d period(s) at %(site)s from %(when)s, more than %(most)d.") % {
            "who": who,
            "n": length,
            "site": where,
            "when": when,
            "most": plan.rules.max_stay,
        }
    if rule in {"together", "apart"}:
        other = _pair_partner(plan, rule, violation.participant)
        if rule == "together":
            return _("%(a)s and %(b)s are at different sites in %(when)s.") % {
                "a": who,
                "b": names.who(other),
                "when": when,
            }
        return _("%(a)s and %(b)s share %(site)s in %(when)s.") % {
            "a": who,
            "b": names.who(other),
            "site": where,
            "when": when,
        }
    if rule == "pinned":
        return _("%(who)s is pinned to %(site)s in %(when)s.") % {
            "who": who,
            "site": where,
            "when": when,
        }
    return _("A rule of the plan is broken (%(code)s).") % {"code": rule}


def _pair_partner(plan: engine.Plan, rule: str, person_id: str | None) -> str | None:
    pairs = plan.rules.together if rule == "together" else plan.rules.apart
    for a, b in pairs:
        if a == person_id:
            return b
    return None


# --------------------------------------------------------------------------- feedback


@dataclass
class Problem:
    """A broken rule, placed where the page shows it."""

    rule: str
    sentence: str
    participant: int | None = None  # PlanParticipant pk
    period: int | None = None  # index
    site: int | None = None  # PlanSite pk


@dataclass
class Feedback:
    """Which hard rules the current cells break (``problems``), or why the plan's settings
    cannot be read by the engine (``invalid``)."""

    problems: list[Problem] = field(default_factory=list)
    invalid: str = ""

    def by_cell(self) -> dict[tuple[int, int], list[str]]:
        cells: dict[tuple[int, int], list[str]] = defaultdict(list)
        for p in self.problems:
            if p.participant is not None and p.period is not None:
                cells[(p.participant, p.period)].append(p.sentence)
        return cells

    def by_participant(self) -> dict[int, list[str]]:
        rows: dict[int, list[str]] = defaultdict(list)
        for p in self.problems:
            if p.participant is not None and p.period is None:
                rows[p.participant].append(p.sentence)
        return rows

    def by_site_period(self) -> dict[tuple[int, int], list[str]]:
        rows: dict[tuple[int, int], list[str]] = defaultdict(list)
        for p in self.problems:
            if p.participant is None and p.site is not None and p.period is not None:
                rows[(p.site, p.period)].append(p.sentence)
        return rows


def _pk(engine_id: str | None) -> int | None:
    if engine_id and engine_id[1:].isdigit():
        return int(engine_id[1:])
    return None


def plan_feedback(
    plan: RotationPlan,
    *,
    sites: list[PlanSite] | None = None,
    people: list[PlanParticipant] | None = None,
    cells: list[PlanCell] | None = None,
) -> Feedback:
    """The hard rules the plan's cells break now, as translated sentences."""
    from medexchange.scheduling.services import plan_error_message

    cells = list(plan.cells.all()) if cells is None else cells
    data = plan_json(plan, sites=sites, people=people, cells=cells, previous=False)
    try:
        parsed = engine.parse_plan(data)
    except engine.PlanError as error:
        return Feedback(invalid=plan_error_message(plan, error, sites=sites, people=people))
    assignment = engine_assignment(plan, cells)
    period_index = {period.id: t for t, period in enumerate(parsed.periods)}
    problems = [
        Problem(
            rule=v.rule,
            sentence=violation_sentence(parsed, assignment, v),
            participant=_pk(v.participant),
            period=period_index.get(v.period or ""),
            site=_pk(v.site),
        )
        for v in engine.violations(parsed, assignment)
    ]
    return Feedback(problems=problems)


def conflict_sentences(input_json: dict[str, Any] | None, conflicts: list[Any]) -> list[str]:
    """The translated sentences of a stored solve's conflicts."""
    if not conflicts:
        return []
    codes = [code for conflict in conflicts for code in conflict.get("rules", [])]
    try:
        parsed = engine.parse_plan(input_json)
    except engine.PlanError:
        return [_("A rule of the plan (%(code)s).") % {"code": code} for code in codes]
    return [conflict_sentence(parsed, code) for code in codes]


# --------------------------------------------------------------------------- pages


@dataclass
class GridCell:
    period: int
    label: str
    cell: PlanCell | None
    site: PlanSite | None
    problems: list[str]
    absent: bool


@dataclass
class GridRow:
    participant: PlanParticipant
    cells: list[GridCell]
    problems: list[str]


@dataclass
class OccupancyCell:
    period: int
    here: int
    capacity: int
    closed: bool
    under: bool
    over: bool
    problems: list[str]


@dataclass
class OccupancyRow:
    site: PlanSite
    cells: list[OccupancyCell]


@dataclass
class PeriodHead:
    index: int
    label: str
    dates: str


def period_heads(plan: RotationPlan) -> list[PeriodHead]:
    return [
        PeriodHead(
            index=t,
            label=period_label(plan, t),
            dates=formats.date_format(plan.period_start(t), "SHORT_DATE_FORMAT")
            if plan.unit == PlanUnit.DAY
            else "{} \u2013 {}".format(
                formats.date_format(plan.period_start(t), "SHORT_DATE_FORMAT"),
                formats.date_format(plan.period_end(t), "SHORT_DATE_FORMAT"),
            ),
        )
        for t in range(plan.period_count)
    ]


def grid(
    plan: RotationPlan,
    people: list[PlanParticipant],
    sites: list[PlanSite],
    feedback: Feedback,
    *,
    published: bool = False,
) -> list[GridRow]:
    """The participants-by-periods grid: the working cells, or (``published``) the
    assignment as last published, which is all a participant ever sees."""
    rows = published_cells(plan) if published else assignment_of(plan)
    by_site = {site.pk: site for site in sites}
    problems = feedback.by_cell()
    labels = [period_label(plan, t) for t in range(plan.period_count)]
    row_problems = feedback.by_participant()
    out = []
    for person in people:
        first = plan.period_of(person.arrival)
        last = plan.period_of(person.departure)
        cells = []
        for t in range(plan.period_count):
            cell = rows.get(person.pk, {}).get(t)
            cells.append(
                GridCell(
                    period=t,
                    label=labels[t],
                    cell=cell,
                    site=by_site.get(cell.site_id) if cell else None,
                    problems=problems.get((person.pk, t), []),
                    absent=not first <= t <= last,
                )
            )
        out.append(
            GridRow(participant=person, cells=cells, problems=row_problems.get(person.pk, []))
        )
    return out


def occupancy(plan: RotationPlan, sites: list[PlanSite], feedback: Feedback) -> list[OccupancyRow]:
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for cell in plan.cells.all():
        counts[(cell.site_id, cell.period)] += 1
    problems = feedback.by_site_period()
    out = []
    for site in sites:
        capacity = site.capacities(plan.period_count)
        closed = set(site.closed)
        cells = []
        for t in range(plan.period_count):
            here = counts[(site.pk, t)]
            shut = t in closed
            cells.append(
                OccupancyCell(
                    period=t,
                    here=here,
                    capacity=0 if shut else capacity[t],
                    closed=shut,
                    under=not shut and here < site.min_staff,
                    over=here > (0 if shut else capacity[t]),
                    problems=problems.get((site.pk, t), []),
                )
            )
        out.append(OccupancyRow(site=site, cells=cells))
    return out


# --------------------------------------------------------------------------- published

#: The publication format: {"<participant pk>": {"<period index>": site pk}}.
Assignment = dict[str, dict[str, int]]


def working_assignment(plan: RotationPlan) -> Assignment:
    """The current cells in the publication format (participants not coming left out)."""
    rows: dict[str, dict[str, int]] = defaultdict(dict)
    cells = plan.cells.filter(participant__excluded=False).values_list(
        "participant_id", "period", "site_id"
    )
    for participant_id, period, site_id in cells.order_by("participant_id", "period"):
        rows[str(participant_id)][str(period)] = site_id
    return dict(rows)


def published_cells(plan: RotationPlan) -> dict[int, dict[int, PlanCell]]:
    """The published assignment as unsaved cells, shaped like ``assignment_of``."""
    out: dict[int, dict[int, PlanCell]] = defaultdict(dict)
    for participant, row in (plan.published_assignment or {}).items():
        for period, site in row.items():
            out[int(participant)][int(period)] = PlanCell(
                plan=plan, participant_id=int(participant), period=int(period), site_id=site
            )
    return out


@dataclass(frozen=True)
class Change:
    """One cell that differs between two assignments."""

    participant: int
    period: int
    before: int | None
    after: int | None


def assignment_changes(old: Assignment, new: Assignment) -> list[Change]:
    changes = []
    for person in sorted({*old, *new}, key=int):
        before, after = old.get(person, {}), new.get(person, {})
        for period in sorted({*before, *after}, key=int):
            if before.get(period) != after.get(period):
                changes.append(
                    Change(int(person), int(period), before.get(period), after.get(period))
                )
    return changes


def publication_version(plan: RotationPlan) -> int:
    """The version of the plan's latest publication (0 before the first)."""
    found = plan.publications.order_by("-version").values_list("version", flat=True).first()
    return int(found or 0)


def unpublished_changes(plan: RotationPlan) -> list[Change]:
    """What publishing now would change for people (nothing before a first publication)."""
    if plan.published_at is None:
        return []
    return assignment_changes(plan.published_assignment or {}, working_assignment(plan))


@dataclass(frozen=True)
class Stay:
    """Consecutive periods of one participant at one site."""

    site: PlanSite
    first: int
    last: int
    start: dt.date
    end: dt.date
    label: str


def stays(plan: RotationPlan, row: dict[str, int], sites: dict[int, PlanSite]) -> list[Stay]:
    """A participant's published row as stays, in order (a gap or a move ends one)."""
    out: list[Stay] = []
    run: list[int] = []
    site_of = {int(t): pk for t, pk in row.items()}

    def close() -> None:
        if run and site_of[run[0]] in sites:
            first, last = run[0], run[-1]
            out.append(
                Stay(
                    site=sites[site_of[first]],
                    first=first,
                    last=last,
                    start=plan.period_start(first),
                    end=min(plan.period_end(last), plan.session.end_date),
                    label=period_span_label(plan, first, last),
                )
            )

    for t in sorted(site_of):
        if run and (t != run[-1] + 1 or site_of[t] != site_of[run[-1]]):
            close()
            run = []
        run.append(t)
    close()
    return out


def period_span_label(plan: RotationPlan, first: int, last: int) -> str:
    """ "week 2" or "weeks 2-3" with the dates, in the reader's language."""
    start = formats.date_format(plan.period_start(first), "SHORT_DATE_FORMAT")
    end = formats.date_format(plan.period_end(last), "SHORT_DATE_FORMAT")
    if first == last:
        return _("%(period)s (%(start)s – %(end)s)") % {  # noqa: RUF001
            "period": period_label(plan, first),
            "start": start,
            "end": end,
        }
    if plan.unit == PlanUnit.DAY:
        span = _("days %(first)d–%(last)d") % {"first": first + 1, "last": last + 1}  # noqa: RUF001
    else:
        span = _("weeks %(first)d–%(last)d") % {"first": first + 1, "last": last + 1}  # noqa: RUF001
    return _("%(period)s (%(start)s – %(end)s)") % {  # noqa: RUF001
        "period": span,
        "start": start,
        "end": end,
    }


@dataclass
class RosterPerson:
    participant: PlanParticipant
    name: str
    email: str
    phone: str
    languages: list[str]
    home: str


@dataclass
class RosterPeriod:
    index: int
    label: str
    dates: str
    people: list[RosterPerson]


def roster_person(person: PlanParticipant) -> RosterPerson:
    applicant = person.placement.application.applicant
    profile = getattr(applicant, "applicant_profile", None) if applicant else None
    home = ""
    if profile is not None:
        home = str(profile.home_institution or profile.home_institution_name or "")
    return RosterPerson(
        participant=person,
        name=person.name,
        email=applicant.email if applicant else "",
        phone=profile.phone if profile else "",
        languages=language_names(person.languages),
        home=home,
    )


def language_names(codes: list[str]) -> list[str]:
    from django.utils.translation import get_language_info

    names = []
    for code in codes:
        try:
            names.append(str(get_language_info(code)["name_translated"]))
        except KeyError:
            names.append(code)
    return names


def roster_people(plan: RotationPlan) -> dict[int, RosterPerson]:
    """Everyone of the plan with contact details, in one query."""
    people = plan.participants.select_related(
        "placement__application__applicant__applicant_profile__home_institution"
    )
    return {person.pk: roster_person(person) for person in people}


def site_roster(
    plan: RotationPlan, site: PlanSite, people: dict[int, RosterPerson] | None = None
) -> list[RosterPeriod]:
    """Who is at ``site`` in each period of the published plan."""
    people = roster_people(plan) if people is None else people
    here: dict[int, list[RosterPerson]] = defaultdict(list)
    for participant, row in (plan.published_assignment or {}).items():
        for period, site_pk in row.items():
            if site_pk == site.pk and int(participant) in people:
                here[int(period)].append(people[int(participant)])
    heads = period_heads(plan)
    return [
        RosterPeriod(
            index=head.index,
            label=head.label,
            dates=head.dates,
            people=sorted(here.get(head.index, []), key=lambda p: p.name.casefold()),
        )
        for head in heads
    ]


def people_with_role(institution_id: int, role: str) -> list[Any]:
    """The active people holding ``role`` at an institution, in a stable order."""
    from medexchange.accounts.models import User

    return list(
        User.objects.filter(
            is_active=True,
            institution_roles__institution_id=institution_id,
            institution_roles__role=role,
        )
        .distinct()
        .order_by("pk")
    )


def supervisors_of(site: PlanSite) -> list[Any]:
    """The site supervisors of the institution that owns the site."""
    from medexchange.accounts.choices import InstitutionRoleKind

    return people_with_role(site.site.institution_id, InstitutionRoleKind.SUPERVISOR)


def supervised_sites(plan: RotationPlan, user: Any) -> list[PlanSite]:
    """The plan's sites whose roster ``user`` may read as a site supervisor."""
    sites = plan_sites(plan)
    if RotationPlan.objects.managed_by(user).filter(pk=plan.pk).exists():
        return sites
    if not RotationPlan.objects.supervised_by(user).filter(pk=plan.pk).exists():
        return []
    from medexchange.scheduling.models import supervised_institution_ids

    mine = set(supervised_institution_ids(user))
    return [site for site in sites if site.site.institution_id in mine]


@dataclass
class PlanRow:
    plan: RotationPlan
    role: str
    url: str


def plans_for(user: Any) -> list[PlanRow]:
    """The person's plans with what they are to it, newest session first (three queries)."""
    from django.urls import reverse

    managed = set(RotationPlan.objects.managed_by(user).values_list("pk", flat=True))
    supervised = set(RotationPlan.objects.supervised_by(user).values_list("pk", flat=True))
    plans = (
        RotationPlan.objects.visible_to(user)
        .select_related("session__opportunity__host")
        .order_by("-start_date", "-pk")[:200]
    )
    rows = []
    for plan in plans:
        if plan.pk in managed:
            role, url = _("You plan it"), plan.get_absolute_url()
        elif plan.pk in supervised:
            role = _("You supervise a site")
            url = reverse("scheduling:roster", kwargs={"pk": plan.pk})
        else:
            role, url = _("You take part"), plan.get_absolute_url()
        rows.append(PlanRow(plan=plan, role=role, url=url))
    return rows
