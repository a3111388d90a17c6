"""Benchmark: the rotation scheduler on four seeded scenarios, against a greedy baseline.

Run: ``.venv/bin/python bench/bench_scheduling.py [--seed 1] [--only month,year,network,repair]
[--repeat 2] [--general]``.

Scenarios (goals from issue 6, 2 cores):
- month: 40 participants, 10 sites, 4 weekly periods, proven optimal in < 1 s;
- year: 100 participants, 20 sites, 48 weekly periods (stays of 4-8 weeks), optimal < 10 s;
- network: 500 participants, 50 sites, 48 weekly periods, a plan keeping every hard rule
  within 60 s and within 1 % of the solver's bound;
- repair: the month after one drop-out, from the month's plan, < 2 s with the fewest changes.

For each: the solver's status, seconds (each of ``--repeat`` runs, with the load average
then: the machine is shared), objective, bound and gap, whether the exact shortcut or the
general model produced the plan, its score terms, and the greedy baseline's score on the
same input (with how many hard rules greedy breaks). ``--general`` also times the general
model alone (the engine before the shortcut), for comparison.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from medexchange.engines.scheduling import greedy, parse_plan, solve, violations
from medexchange.engines.scheduling.model import Score, Solution

LANGUAGES = ["en", "es", "fr", "ar", "pt", "it"]


def generate(
    rng: random.Random,
    *,
    people: int,
    sites: int,
    periods: int,
    stay: tuple[int, int] | None,
    min_sites: int,
    max_stay: int,
) -> dict[str, Any]:
    """Sites with capacities enough for a little slack, popularity-skewed preferences."""
    popularity = [1.0 / (k + 1) ** 0.8 for k in range(sites)]
    present_per_period = [0] * periods
    participants = []
    for k in range(people):
        if stay is None:
            first, last = 0, periods - 1
        else:
            length = rng.randint(*stay)
            first = rng.randint(0, periods - length)
            last = first + length - 1
        for t in range(first, last + 1):
            present_per_period[t] += 1
        wishes: list[int] = []
        while len(wishes) < 3:
            s = rng.choices(range(sites), weights=popularity)[0]
            if s not in wishes:
                wishes.append(s)
        person: dict[str, Any] = {
            "id": f"p{k}",
            "arrival": f"W{first + 1}",
            "departure": f"W{last + 1}",
            "preferences": [f"s{s}" for s in wishes],
            "languages": ["en", *rng.sample(LANGUAGES[1:], 1)],
        }
        if rng.random() < 0.05:
            person["must_not_visit"] = [f"s{rng.randrange(sites)}"]
        participants.append(person)
    peak = max(present_per_period)
    site_list = []
    for s in range(sites):
        base = max(1, round(peak * 1.3 / sites))
        capacity = [max(1, base + rng.randint(-1, 1)) for _ in range(periods)]
        site: dict[str, Any] = {"id": f"s{s}", "name": f"Site {s}", "capacity": capacity}
        if s % 5 == 4:
            site["min_staff"] = [1 if present_per_period[t] >= sites else 0 for t in range(periods)]
        site_list.append(site)
    ids = [p["id"] for p in participants]
    return {
        "horizon": {"start": "2027-01-04", "count": periods},
        "sites": site_list,
        "participants": participants,
        "rules": {
            "min_sites": min_sites,
            "max_stay": max_stay,
            "together": [[ids[0], ids[1]]],
            "apart": [[ids[2], ids[3]]],
        },
    }


def _score(score: Score | None) -> str:
    if score is None:
        return "-"
    return (
        f"gain {score.preferences + score.diversity} (preferences {score.preferences}, "
        f"diversity {score.diversity}), imbalance {score.imbalance}, changes {score.changes}"
    )


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text(encoding="ascii").split()[0]
    except OSError:  # not Linux
        return "?"


def run(
    name: str, data: dict[str, Any], time_limit: float, *, repeat: int, general: bool
) -> Solution:
    """Solve ``repeat`` times (the machine is shared: each run's time is printed), then
    the greedy baseline once; with ``general``, the general model alone as well."""
    plan = parse_plan(data)
    print(
        f"== {name}: {len(plan.participants)} participants, {len(plan.sites)} sites, "
        f"{len(plan.periods)} periods"
    )
    variants = [("solver", True)] + ([("general model", False)] if general else [])
    solution: Solution | None = None
    for label, shortcut in variants:
        for _ in range(repeat):
            load = _load()
            started = time.perf_counter()
            found = solve(plan, time_limit=time_limit, workers=2, shortcut=shortcut)
            seconds = time.perf_counter() - started
            broken = violations(plan, found.assignment) if found.assignment else []
            gap = found.gap
            path = "shortcut" if found.stats.get("shortcut") else "general model"
            print(
                f"   {label}: {found.status} in {seconds:.2f} s (load {load}, {path}); "
                f"objective {found.objective}, bound {found.bound}, "
                f"gap {gap * 100 if gap is not None else float('nan'):.4f} %; "
                f"hard rules broken: {len(broken)}"
            )
            print(f"           {_score(found.score)}")
            phases = ", ".join(f"{k} {v}" for k, v in found.stats.items() if k.endswith("_bound"))
            print(f"           proven bounds of each phase: {phases or '-'}")
            if solution is None:
                solution = found
    g_started = time.perf_counter()
    assignment, g_score = greedy(plan)
    g_seconds = time.perf_counter() - g_started
    g_broken = violations(plan, assignment)
    empty = sum(1 for v in g_broken if v.rule == "presence")
    print(
        f"   greedy: {g_seconds:.2f} s; {_score(g_score)}; hard rules broken: {len(g_broken)} "
        f"({empty} empty cells)"
    )
    assert solution is not None
    if solution.score is not None:
        ours = solution.score.preferences + solution.score.diversity
        theirs = g_score.preferences + g_score.diversity
        print(
            f"   solver vs greedy: gain {ours} vs {theirs}, imbalance "
            f"{solution.score.imbalance} vs {g_score.imbalance}"
        )
    return solution


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default="month,year,network,repair")
    parser.add_argument("--repeat", type=int, default=2, help="solves per scenario (timed)")
    parser.add_argument(
        "--general", action="store_true", help="also time the general model without the shortcut"
    )
    args = parser.parse_args()
    only = set(args.only.split(","))
    rng = random.Random(args.seed)
    options = {"repeat": args.repeat, "general": args.general}
    print(f"load average at start: {_load()} (2 cores; other work shares them)")
    month = generate(rng, people=40, sites=10, periods=4, stay=None, min_sites=3, max_stay=2)
    if "month" in only or "repair" in only:
        solution = run("month", month, 10, **options)
        if "repair" in only:
            dropped = {**month, "participants": month["participants"][:-1]}
            dropped["previous"] = solution.assignment
            repaired = run("repair after one drop-out", dropped, 10, **options)
            assert repaired.score is not None
            print(
                f"   cells changed: {repaired.score.changes} (fewest possible: 0 unless the "
                "leaver held a minimum staffing)"
            )
    if "year" in only:
        year = generate(rng, people=100, sites=20, periods=48, stay=(4, 8), min_sites=2, max_stay=4)
        run("year", year, 60, **options)
    if "network" in only:
        network = generate(
            rng, people=500, sites=50, periods=48, stay=(4, 8), min_sites=2, max_stay=4
        )
        run("network", network, 60, **options)
    print(f"load average at end: {_load()}")


if __name__ == "__main__":
    main()
