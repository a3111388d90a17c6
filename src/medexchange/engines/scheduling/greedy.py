"""A simple greedy assignment: the baseline the benchmark compares the solver with.

Participants in input order, period by period, each to the most wanted open site with a
free place that keeps the stay rules, preferring sites not yet visited. It ignores pairs
and minimum staffing and may leave cells empty: it is what a coordinator's spreadsheet
does, not a solver.
"""

from __future__ import annotations

from .model import Plan, Score
from .solve import allowed


def greedy(plan: Plan) -> tuple[dict[str, dict[str, str]], Score]:
    n_sites, n_periods = len(plan.sites), len(plan.periods)
    load = [[0] * n_periods for _ in range(n_sites)]
    order = {site.id: s for s, site in enumerate(plan.sites)}
    assignment: dict[str, dict[str, str]] = {}
    rules = plan.rules
    for p, person in enumerate(plan.participants):
        wanted = [order[site_id] for site_id in person.preferences]
        rest = [s for s in range(n_sites) if s not in wanted]
        ranking = wanted + rest
        row: dict[str, str] = {}
        visited: set[int] = set()
        current, stay = -1, 0
        for t in person.periods:

            def fits(s: int, t: int = t, p: int = p) -> bool:
                return allowed(plan, p, s, t) and load[s][t] < plan.sites[s].capacity[t]

            can_stay = current >= 0 and fits(current)
            if can_stay and stay < rules.min_stay:
                choice = current  # the minimum stay first
            else:
                fresh = [s for s in ranking if s not in visited and fits(s)]
                longer = can_stay and (rules.max_stay is None or stay < rules.max_stay)
                again = [s for s in ranking if s in visited and s != current and fits(s)]
                choice = fresh[0] if fresh else current if longer else again[0] if again else -1
            if choice < 0:
                current, stay = -1, 0
                continue
            stay = stay + 1 if choice == current else 1
            current = choice
            visited.add(choice)
            load[choice][t] += 1
            row[plan.periods[t].id] = plan.sites[choice].id
        assignment[person.id] = row
    return assignment, score_of(plan, assignment)


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
