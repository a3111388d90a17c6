"""An independent validator and brute force for rotation plans, on the raw JSON.

Written from docs/scheduling-engine.md, not from the engine: it never imports the
solver, so a wrong model cannot vouch for itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

Assignment = dict[str, dict[str, str]]


def period_ids(plan: dict[str, Any]) -> list[str]:
    if "horizon" in plan:
        prefix = "D" if plan.get("unit") == "day" else "W"
        return [f"{prefix}{k + 1}" for k in range(plan["horizon"]["count"])]
    return [p["id"] for p in plan["periods"]]


def _per_period(value: Any, n: int) -> list[int]:
    return list(value) if isinstance(value, list) else [value] * n


def presence(plan: dict[str, Any], person: dict[str, Any]) -> list[str]:
    ids = period_ids(plan)
    first = ids.index(person.get("arrival", ids[0]))
    last = ids.index(person.get("departure", ids[-1]))
    return ids[first : last + 1]


def problems(plan: dict[str, Any], assignment: Assignment) -> list[str]:
    """Every hard rule the assignment breaks, in words; empty when it keeps them all."""
    ids = period_ids(plan)
    n = len(ids)
    rules = plan.get("rules", {})
    min_stay = rules.get("min_stay", 1)
    max_stay = rules.get("max_stay")
    sites = {s["id"]: s for s in plan["sites"]}
    found = []
    occupancy = {(s, t): 0 for s in sites for t in ids}
    for person in plan["participants"]:
        pid = person["id"]
        row = assignment.get(pid, {})
        here = presence(plan, person)
        for t in ids:
            if t in here and t not in row:
                found.append(f"{pid} has no site in {t}")
            if t not in here and t in row:
                found.append(f"{pid} is placed in {t} but not there")
        for t, s in row.items():
            if s not in sites:
                found.append(f"{pid} at unknown site {s}")
                continue
            occupancy[s, t] += 1
            site = sites[s]
            if t in site.get("closed", []):
                found.append(f"{pid} at closed {s} in {t}")
            if s in person.get("must_not_visit", []):
                found.append(f"{pid} at forbidden {s}")
            site_languages = {x.lower() for x in site.get("languages", [])}
            person_languages = {x.lower() for x in person.get("languages", [])}
            if site_languages and person_languages and not site_languages & person_languages:
                found.append(f"{pid} at {s} without a shared language")
        visited = set(row.values())
        need = person.get("min_sites", rules.get("min_sites", 1))
        if len(visited) < need:
            found.append(f"{pid} visits {len(visited)} < {need} sites")
        for s in person.get("must_visit", []):
            if s not in visited:
                found.append(f"{pid} never visits {s}")
        # Runs of consecutive periods at one site.
        sequence = [row.get(t) for t in here]
        for site_id, run in itertools.groupby(sequence):
            length = len(list(run))
            if site_id is None:
                continue
            if length < min_stay:
                found.append(f"{pid} stays {length} < {min_stay} at {site_id}")
            if max_stay is not None and length > max_stay:
                found.append(f"{pid} stays {length} > {max_stay} at {site_id}")
    for s, site in sites.items():
        capacity = _per_period(site["capacity"], n)
        min_staff = _per_period(site.get("min_staff", 0), n)
        for k, t in enumerate(ids):
            if t in site.get("closed", []):
                continue
            if occupancy[s, t] > capacity[k]:
                found.append(f"{s} over capacity in {t}")
            if occupancy[s, t] < min_staff[k]:
                found.append(f"{s} under minimum staffing in {t}")
    for a, b in rules.get("together", []):
        for t in ids:
            sa, sb = assignment.get(a, {}).get(t), assignment.get(b, {}).get(t)
            if sa and sb and sa != sb:
                found.append(f"{a} and {b} apart in {t}")
    for a, b in rules.get("apart", []):
        for t in ids:
            sa, sb = assignment.get(a, {}).get(t), assignment.get(b, {}).get(t)
            if sa and sa == sb:
                found.append(f"{a} and {b} together in {t}")
    for pid, row in plan.get("pinned", {}).items():
        for t, s in row.items():
            if assignment.get(pid, {}).get(t) != s:
                found.append(f"{pid} not at pinned {s} in {t}")
    return found


def value(plan: dict[str, Any], assignment: Assignment) -> tuple[int, int, int]:
    """The documented lexicographic objective: (-changes, preferences + diversity, -imbalance)."""
    ids = period_ids(plan)
    n = len(ids)
    gain = 0
    loads = {s["id"]: 0 for s in plan["sites"]}
    for person in plan["participants"]:
        row = assignment.get(person["id"], {})
        visited = set(row.values())
        wishes = person.get("preferences", [])
        gain += len(visited) + sum(len(wishes) - r for r, s in enumerate(wishes) if s in visited)
        for s in row.values():
            loads[s] += 1
    imbalance = 0
    if plan.get("rules", {}).get("balance", True):
        open_capacity = {
            s["id"]: sum(
                c
                for k, c in enumerate(_per_period(s["capacity"], n))
                if ids[k] not in s.get("closed", [])
            )
            for s in plan["sites"]
        }
        total = sum(open_capacity.values())
        present = sum(len(presence(plan, p)) for p in plan["participants"])
        if total:
            imbalance = sum(
                abs(loads[s] - round(present * c / total)) for s, c in open_capacity.items()
            )
    people = {p["id"]: p for p in plan["participants"]}
    changes = sum(
        1
        for pid, row in plan.get("previous", {}).items()
        if pid in people
        for t, s in row.items()
        if t in presence(plan, people[pid]) and assignment.get(pid, {}).get(t) != s
    )
    return (-changes, gain, -imbalance)


def all_assignments(plan: dict[str, Any]) -> Iterator[Assignment]:
    """Every way of placing everyone somewhere in every period they are there."""
    sites = [s["id"] for s in plan["sites"]]
    cells = [(p["id"], t) for p in plan["participants"] for t in presence(plan, p)]
    for choice in itertools.product(sites, repeat=len(cells)):
        assignment: Assignment = {p["id"]: {} for p in plan["participants"]}
        for (pid, t), s in zip(cells, choice, strict=True):
            assignment[pid][t] = s
        yield assignment


def best_by_brute_force(plan: dict[str, Any]) -> tuple[int, int, int] | None:
    best = None
    for assignment in all_assignments(plan):
        if not problems(plan, assignment):
            v = value(plan, assignment)
            if best is None or v > best:
                best = v
    return best
