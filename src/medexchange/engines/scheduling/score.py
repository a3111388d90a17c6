"""The objective's terms computed from an assignment, for the solver's and any plan."""

from __future__ import annotations

from .model import Plan, Score


def score_of(plan: Plan, assignment: dict[str, dict[str, str]]) -> Score:
    """The solver's objective terms, computed for any assignment."""
    preferences = diversity = 0
    loads = {site.id: 0 for site in plan.sites}
    for person in plan.participants:
        visited = set(assignment.get(person.id, {}).values())
        diversity += len(visited)
        n = len(person.preferences)
        preferences += sum(n - rank for rank, s in enumerate(person.preferences) if s in visited)
        for site_id in assignment.get(person.id, {}).values():
            loads[site_id] += 1
    open_capacity = {
        site.id: sum(c for t, c in enumerate(site.capacity) if t not in site.closed)
        for site in plan.sites
    }
    total = sum(open_capacity.values())
    presence = sum(len(person.periods) for person in plan.participants)
    imbalance = (
        sum(abs(loads[s] - round(presence * c / total)) for s, c in open_capacity.items())
        if total and plan.rules.balance
        else 0
    )
    period_index = {period.id: t for t, period in enumerate(plan.periods)}
    present = {person.id: person.periods for person in plan.participants}
    changes = sum(
        1
        for person_id, row in plan.previous.items()
        for period, site_id in row.items()
        if period_index[period] in present[person_id]
        and assignment.get(person_id, {}).get(period) != site_id
    )
    return Score(preferences=preferences, diversity=diversity, imbalance=imbalance, changes=changes)
