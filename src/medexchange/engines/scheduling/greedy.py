"""A simple greedy assignment: the baseline the benchmark compares the solver with.

Participants in input order, period by period, each to the most wanted open site with a
free place that keeps the stay rules, preferring sites not yet visited. It ignores pairs
and minimum staffing and may leave cells empty: it is what a coordinator's spreadsheet
does, not a solver.
"""

from __future__ import annotations

from .facts import allowed
from .model import Plan, Score
from .score import score_of


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
