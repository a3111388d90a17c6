"""JSON (already decoded) → :class:`Plan`, validating as it goes.

Every problem raises :class:`PlanError` whose message starts with the JSON path of
the first offending value, e.g. ``sites[2].capacity: must be a non-negative integer``.
Impossible minimums that need no solver to see (a minimum staffing above the
capacity, a stay too short to visit the required number of sites) are refused here
too; conflicts between rules are the solver's to explain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from .model import Participant, Period, Plan, PlanError, Rules, Site

_TOP_KEYS = frozenset(
    {"unit", "horizon", "periods", "sites", "participants", "rules", "previous", "pinned"}
)
_UNITS = {"week": 7, "day": 1}


def _fail(path: str, message: str) -> PlanError:
    return PlanError(f"{path}: {message}")


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, "must be an object")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(path, "must be a list")
    return value


def _count(value: Any, path: str, *, least: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        noun = "a non-negative integer" if least == 0 else f"an integer of at least {least}"
        raise _fail(path, f"must be {noun}")
    return value


def _text(value: Any, path: str, *, required: bool = True) -> str:
    if not isinstance(value, str) or (required and not value):
        raise _fail(path, "must be a non-empty string" if required else "must be a string")
    return value


def _date(value: Any, path: str) -> dt.date:
    try:
        return dt.date.fromisoformat(_text(value, path))
    except ValueError:
        raise _fail(path, "must be a date (YYYY-MM-DD)") from None


def _unique(items: Iterable[tuple[str, str]], section: str) -> dict[str, int]:
    index: dict[str, int] = {}
    for k, (path, item_id) in enumerate(items):
        if item_id in index:
            raise _fail(path, f"repeats the {section} id {item_id!r}")
        index[item_id] = k
    return index


def _ids(value: Any, path: str, known: dict[str, int], kind: str) -> list[str]:
    items = _list(value, path)
    seen: set[str] = set()
    for k, item in enumerate(items):
        if not isinstance(item, str) or item not in known:
            raise _fail(f"{path}[{k}]", f"unknown {kind} {item!r}")
        if item in seen:
            raise _fail(f"{path}[{k}]", f"repeats {item!r}")
        seen.add(item)
    return items


def _periods(data: dict[str, Any], unit: str) -> tuple[Period, ...]:
    if "periods" in data and "horizon" in data:
        raise _fail("horizon", "give either periods or horizon, not both")
    if "horizon" in data:
        horizon = _object(data["horizon"], "horizon")
        start = _date(horizon.get("start"), "horizon.start")
        count = _count(horizon.get("count"), "horizon.count", least=1)
        if count > 400:
            raise _fail("horizon.count", "must be at most 400 periods")
        step = _UNITS[unit]
        prefix = "W" if unit == "week" else "D"
        return tuple(
            Period(
                id=f"{prefix}{k + 1}",
                label=f"{prefix}{k + 1}",
                start=(start + dt.timedelta(days=k * step)).isoformat(),
                end=(start + dt.timedelta(days=(k + 1) * step - 1)).isoformat(),
            )
            for k in range(count)
        )
    raw = _list(data.get("periods"), "periods")
    if not raw:
        raise _fail("periods", "must list at least one period")
    periods: list[Period] = []
    previous_end: dt.date | None = None
    for k, item in enumerate(raw):
        path = f"periods[{k}]"
        item = _object(item, path)
        begins = _date(item["start"], f"{path}.start") if "start" in item else None
        ends = _date(item["end"], f"{path}.end") if "end" in item else None
        if begins and ends and ends < begins:
            raise _fail(f"{path}.end", "is before its start")
        if begins is not None and previous_end is not None and begins <= previous_end:
            raise _fail(f"{path}.start", f"overlaps periods[{k - 1}] (periods must not overlap)")
        previous_end = ends or begins
        periods.append(
            Period(
                id=_text(item.get("id"), f"{path}.id"),
                label=_text(item.get("label", ""), f"{path}.label", required=False),
                start=begins.isoformat() if begins else None,
                end=ends.isoformat() if ends else None,
            )
        )
    _unique(((f"periods[{k}].id", p.id) for k, p in enumerate(periods)), "period")
    return tuple(periods)


def _per_period(value: Any, path: str, n: int) -> tuple[int, ...]:
    if isinstance(value, list):
        if len(value) != n:
            raise _fail(path, f"must give one number per period ({n}), or a single number")
        return tuple(_count(v, f"{path}[{k}]") for k, v in enumerate(value))
    return (_count(value, path),) * n


def _languages(value: Any, path: str) -> frozenset[str]:
    return frozenset(
        _text(item, f"{path}[{k}]").lower() for k, item in enumerate(_list(value, path))
    )


def _sites(data: dict[str, Any], period_index: dict[str, int]) -> tuple[Site, ...]:
    raw = _list(data.get("sites"), "sites")
    if not raw:
        raise _fail("sites", "must list at least one site")
    n = len(period_index)
    sites = []
    for k, item in enumerate(raw):
        path = f"sites[{k}]"
        item = _object(item, path)
        site_id = _text(item.get("id"), f"{path}.id")
        capacity = _per_period(item.get("capacity"), f"{path}.capacity", n)
        min_staff = _per_period(item.get("min_staff", 0), f"{path}.min_staff", n)
        closed = {
            period_index[p]
            for p in _ids(item.get("closed", []), f"{path}.closed", period_index, "period")
        }
        for t in range(n):
            if t not in closed and min_staff[t] > capacity[t]:
                raise _fail(
                    f"{path}.min_staff",
                    f"needs {min_staff[t]} but the capacity is {capacity[t]} in period "
                    f"{list(period_index)[t]!r}",
                )
        sites.append(
            Site(
                id=site_id,
                name=_text(item.get("name", ""), f"{path}.name", required=False),
                capacity=capacity,
                min_staff=min_staff,
                languages=_languages(item.get("languages", []), f"{path}.languages"),
                closed=frozenset(closed),
            )
        )
    _unique(((f"sites[{k}].id", s.id) for k, s in enumerate(sites)), "site")
    return tuple(sites)


def _rules(data: dict[str, Any]) -> Rules:
    raw = _object(data.get("rules", {}), "rules")
    min_stay = _count(raw.get("min_stay", 1), "rules.min_stay", least=1)
    max_stay = raw.get("max_stay")
    if max_stay is not None:
        max_stay = _count(max_stay, "rules.max_stay", least=1)
        if max_stay < min_stay:
            raise _fail("rules.max_stay", f"is below rules.min_stay ({min_stay})")
    balance = raw.get("balance", True)
    if not isinstance(balance, bool):
        raise _fail("rules.balance", "must be true or false")
    return Rules(
        min_sites=_count(raw.get("min_sites", 1), "rules.min_sites", least=1),
        min_stay=min_stay,
        max_stay=max_stay,
        balance=balance,
    )


def _pairs(value: Any, path: str, people: dict[str, int]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for k, item in enumerate(_list(value, path)):
        ids = _ids(item, f"{path}[{k}]", people, "participant")
        if len(ids) != 2:
            raise _fail(f"{path}[{k}]", "must name two different participants")
        pairs.append((ids[0], ids[1]))
    return tuple(pairs)


def _participants(
    data: dict[str, Any], periods: tuple[Period, ...], sites: tuple[Site, ...], rules: Rules
) -> tuple[Participant, ...]:
    period_index = {p.id: k for k, p in enumerate(periods)}
    site_index = {s.id: k for k, s in enumerate(sites)}
    raw = _list(data.get("participants"), "participants")
    people = []
    for k, item in enumerate(raw):
        path = f"participants[{k}]"
        item = _object(item, path)
        person_id = _text(item.get("id"), f"{path}.id")
        first = period_index.get(item.get("arrival", periods[0].id))
        last = period_index.get(item.get("departure", periods[-1].id))
        if first is None:
            raise _fail(f"{path}.arrival", f"unknown period {item.get('arrival')!r}")
        if last is None:
            raise _fail(f"{path}.departure", f"unknown period {item.get('departure')!r}")
        if last < first:
            raise _fail(f"{path}.departure", "is before the arrival")
        must = frozenset(_ids(item.get("must_visit", []), f"{path}.must_visit", site_index, "site"))
        never = frozenset(
            _ids(item.get("must_not_visit", []), f"{path}.must_not_visit", site_index, "site")
        )
        if must & never:
            raise _fail(
                f"{path}.must_not_visit", f"also in must_visit: {sorted(must & never)[0]!r}"
            )
        min_sites = item.get("min_sites")
        if min_sites is not None:
            min_sites = _count(min_sites, f"{path}.min_sites", least=1)
        person = Participant(
            id=person_id,
            name=_text(item.get("name", ""), f"{path}.name", required=False),
            first=first,
            last=last,
            languages=_languages(item.get("languages", []), f"{path}.languages"),
            preferences=tuple(
                _ids(item.get("preferences", []), f"{path}.preferences", site_index, "site")
            ),
            must_visit=must,
            must_not_visit=never,
            min_sites=min_sites,
        )
        needed = max(person.min_sites or rules.min_sites, len(must))
        allowed = len(sites) - len(never)
        if needed > allowed:
            raise _fail(path, f"must visit {needed} sites but only {allowed} are open to them")
        stay = last - first + 1
        if needed * rules.min_stay > stay:
            raise _fail(
                path,
                f"is there {stay} period(s): too short to visit {needed} site(s) for "
                f"at least {rules.min_stay} period(s) each",
            )
        people.append(person)
    _unique(((f"participants[{k}].id", p.id) for k, p in enumerate(people)), "participant")
    return tuple(people)


def _cells(
    value: Any,
    path: str,
    plan_ids: tuple[dict[str, int], dict[str, int], dict[str, int]],
    *,
    strict: bool,
) -> dict[str, dict[str, str]]:
    """participant -> period -> site; ``strict`` refuses unknown ids (pins), otherwise
    they are dropped (a previous plan names people who have since dropped out)."""
    people, periods, sites = plan_ids
    cells: dict[str, dict[str, str]] = {}
    for person, row in _object(value, path).items():
        row = _object(row, f"{path}.{person}")
        if person not in people:
            if strict:
                raise _fail(f"{path}.{person}", "unknown participant")
            continue
        for period, site in row.items():
            cell = f"{path}.{person}.{period}"
            if period not in periods or not isinstance(site, str) or site not in sites:
                if strict:
                    what = "period" if period not in periods else "site"
                    raise _fail(cell, f"unknown {what}")
                continue
            cells.setdefault(person, {})[period] = site
    return cells


def parse_plan(data: Any) -> Plan:
    """Validate decoded JSON and build the plan problem."""
    data = _object(data, "plan")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise _fail(sorted(unknown)[0], "unknown key")
    unit = data.get("unit", "week")
    if unit not in _UNITS:
        raise _fail("unit", "must be 'week' or 'day'")
    periods = _periods(data, unit)
    period_index = {p.id: k for k, p in enumerate(periods)}
    sites = _sites(data, period_index)
    rules = _rules(data)
    people = _participants(data, periods, sites, rules)
    person_index = {p.id: k for k, p in enumerate(people)}
    raw_rules = _object(data.get("rules", {}), "rules")
    together = _pairs(raw_rules.get("together", []), "rules.together", person_index)
    apart = _pairs(raw_rules.get("apart", []), "rules.apart", person_index)
    rules = Rules(
        min_sites=rules.min_sites,
        min_stay=rules.min_stay,
        max_stay=rules.max_stay,
        together=together,
        apart=apart,
        balance=rules.balance,
    )
    ids = (person_index, period_index, {s.id: k for k, s in enumerate(sites)})
    pinned = _cells(data.get("pinned", {}), "pinned", ids, strict=True)
    for person, row in pinned.items():
        p = people[person_index[person]]
        for period in row:
            if period_index[period] not in p.periods:
                raise _fail(f"pinned.{person}.{period}", "the participant is not there then")
    previous = _cells(data.get("previous", {}), "previous", ids, strict=False)
    return Plan(
        periods=periods,
        sites=sites,
        participants=people,
        rules=rules,
        previous=previous,
        pinned=pinned,
        unit=unit,
    )
