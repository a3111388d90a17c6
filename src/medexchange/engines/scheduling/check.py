"""Which hard rules a given assignment breaks, and why: feedback on a hand-edited cell.

Independent of the solver: it reads the assignment cell by cell, so a coordinator who
moves a participant by hand sees at once what the move breaks.
"""

from __future__ import annotations

from dataclasses import dataclass

from .facts import speaks
from .model import Plan


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str  # a rule code, as in Conflict.rules
    message: str
    participant: str | None = None
    period: str | None = None
    site: str | None = None


def violations(plan: Plan, assignment: dict[str, dict[str, str]]) -> list[Violation]:
    """Every broken hard rule of ``assignment`` (participant -> period -> site)."""
    found: list[Violation] = []
    sites = {site.id: site for site in plan.sites}
    period_ids = [period.id for period in plan.periods]
    where_is: dict[str, list[str | None]] = {}
    for person in plan.participants:
        row = assignment.get(person.id, {})
        seq: list[str | None] = [row.get(period_ids[t]) for t in range(len(period_ids))]
        where_is[person.id] = seq
        name = person.name or person.id
        for t in person.periods:
            site_id, period = seq[t], period_ids[t]
            if site_id is None:
                found.append(
                    Violation("presence", f"{name} has no site in {period}.", person.id, period)
                )
                continue
            site = sites.get(site_id)
            if site is None:
                found.append(Violation("unknown_site", f"No site {site_id!r}.", person.id, period))
                continue
            if t in site.closed:
                found.append(
                    Violation(
                        "closed",
                        f"{site.name or site.id} is closed in {period}.",
                        person.id,
                        period,
                        site.id,
                    )
                )
            if site.id in person.must_not_visit:
                found.append(
                    Violation(
                        "must_not_visit",
                        f"{name} must not go to {site.name or site.id}.",
                        person.id,
                        period,
                        site.id,
                    )
                )
            if not speaks(site, person):
                found.append(
                    Violation(
                        "language",
                        f"Nobody at {site.name or site.id} speaks a language of {name}.",
                        person.id,
                        period,
                        site.id,
                    )
                )
        for t, site_id in enumerate(seq):
            if site_id is not None and t not in person.periods:
                found.append(
                    Violation(
                        "presence",
                        f"{name} is not there in {period_ids[t]}.",
                        person.id,
                        period_ids[t],
                        site_id,
                    )
                )
        visited = {site_id for site_id in seq if site_id is not None}
        needed = person.min_sites or plan.rules.min_sites
        if len(visited) < needed:
            found.append(
                Violation(
                    "min_sites",
                    f"{name} visits {len(visited)} site(s), fewer than {needed}.",
                    person.id,
                )
            )
        for site_id in sorted(person.must_visit - visited):
            found.append(
                Violation(
                    "must_visit",
                    f"{name} never visits {sites[site_id].name or site_id}.",
                    person.id,
                    site=site_id,
                )
            )
        found.extend(_stays(plan, person.id, name, seq, person.first, person.last))
    for t, period in enumerate(period_ids):
        for site in plan.sites:
            here = sum(1 for seq in where_is.values() if seq[t] == site.id)
            if t in site.closed:
                continue
            if here > site.capacity[t]:
                found.append(
                    Violation(
                        "capacity",
                        f"{site.name or site.id} has {here} participants in {period}, "
                        f"more than its {site.capacity[t]} places.",
                        period=period,
                        site=site.id,
                    )
                )
            if here < site.min_staff[t]:
                found.append(
                    Violation(
                        "min_staff",
                        f"{site.name or site.id} has {here} participant(s) in {period}, "
                        f"fewer than the {site.min_staff[t]} it needs.",
                        period=period,
                        site=site.id,
                    )
                )
    for a, b in plan.rules.together:
        for t, period in enumerate(period_ids):
            sa, sb = where_is[a][t], where_is[b][t]
            if sa is not None and sb is not None and sa != sb:
                found.append(
                    Violation(
                        "together", f"{a} and {b} are at different sites in {period}.", a, period
                    )
                )
    for a, b in plan.rules.apart:
        for t, period in enumerate(period_ids):
            sa = where_is[a][t]
            if sa is not None and sa == where_is[b][t]:
                found.append(
                    Violation("apart", f"{a} and {b} share {sa} in {period}.", a, period, sa)
                )
    for person_id, row in plan.pinned.items():
        for period, site_id in row.items():
            if assignment.get(person_id, {}).get(period) != site_id:
                found.append(
                    Violation(
                        "pinned",
                        f"{person_id} is pinned to {site_id} in {period}.",
                        person_id,
                        period,
                        site_id,
                    )
                )
    return found


def _stays(
    plan: Plan, person_id: str, name: str, seq: list[str | None], first: int, last: int
) -> list[Violation]:
    found = []
    t = first
    while t <= last:
        site_id = seq[t]
        end = t
        while end + 1 <= last and seq[end + 1] == site_id:
            end += 1
        length = end - t + 1
        if site_id is not None:
            period = plan.periods[t].id
            if length < plan.rules.min_stay:
                found.append(
                    Violation(
                        "stay",
                        f"{name} stays {length} period(s) at {site_id} from {period}, "
                        f"fewer than {plan.rules.min_stay}.",
                        person_id,
                        period,
                        site_id,
                    )
                )
            if plan.rules.max_stay is not None and length > plan.rules.max_stay:
                found.append(
                    Violation(
                        "stay",
                        f"{name} stays {length} period(s) at {site_id} from {period}, "
                        f"more than {plan.rules.max_stay}.",
                        person_id,
                        period,
                        site_id,
                    )
                )
        t = end + 1
    return found
