"""An independent checker for matching results, a brute force, and instance builders.

Written from the documented semantics (docs/matching-engine.md), not from the
engine's code: choice functions are recomputed from scratch on id sets.
"""

from __future__ import annotations

import itertools
from typing import Any

Instance = dict[str, Any]
Matching = dict[str, str | None]


def _programs(inst: Instance) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in inst["programs"]}


def _groups(inst: Instance) -> dict[str, set[str]]:
    return {a["id"]: set(a.get("groups", [])) for a in inst["applicants"]}


def choice(inst: Instance, pid: str, pool: set[str]) -> set[str]:
    """Reserved seats (groups in sorted order, best-ranked members), then open seats."""
    program = _programs(inst)[pid]
    ranked = [a for a in program["ranks"] if a in pool]
    groups = _groups(inst)
    chosen: list[str] = []
    for group, seats in sorted(program.get("reserved", {}).items()):
        members = [a for a in ranked if a not in chosen and group in groups[a]]
        chosen.extend(members[:seats])
    rest = [a for a in ranked if a not in chosen]
    chosen.extend(rest[: program["capacity"] - len(chosen)])
    return set(chosen)


def _couple_of(inst: Instance) -> dict[str, dict[str, Any]]:
    return {m: c for c in inst.get("couples", []) for m in c["members"]}


def _admissible(
    inst: Instance, mu: Matching, moves: list[tuple[str, str]], movers: set[str]
) -> bool:
    """Would programs and quotas take ``moves`` once ``movers`` leave their places?"""
    progs = _programs(inst)
    dropped: set[str] = set()
    by_program: dict[str, set[str]] = {}
    for a, p in moves:
        if a not in progs[p]["ranks"]:
            return False
        by_program.setdefault(p, set()).add(a)
    for p, incoming in by_program.items():
        pool = {x for x, q in mu.items() if q == p and x not in movers} | incoming
        kept = choice(inst, p, pool)
        if not incoming <= kept:
            return False
        dropped |= pool - kept
    for quota in inst.get("quotas", []):
        incoming_q = {a for a, p in moves if a in quota["applicants"] and p in quota["programs"]}
        if not incoming_q:
            continue
        held = {
            x
            for x in quota["applicants"]
            if mu.get(x) in quota["programs"] and x not in movers and x not in dropped
        }
        pool = held | incoming_q
        if len(pool) > quota["capacity"]:
            ordered = [x for x in quota["applicants"] if x in pool]
            out = set(ordered[quota["capacity"] :])
            if out & incoming_q:
                return False
            dropped |= out
    return True


def feasibility_problems(inst: Instance, mu: Matching) -> list[str]:
    problems = []
    progs = _programs(inst)
    ranks = {a["id"]: a.get("ranks", []) for a in inst["applicants"]}
    couple_of = _couple_of(inst)
    if set(mu) != set(ranks):
        problems.append("matching does not list every applicant exactly")
    for p, program in progs.items():
        admitted = {a for a, q in mu.items() if q == p}
        if len(admitted) > program["capacity"]:
            problems.append(f"{p} over capacity")
        if choice(inst, p, admitted) != admitted:
            problems.append(f"{p} would not choose its own admitted set")
    for a, p in mu.items():
        if p is None:
            continue
        if a not in progs[p]["ranks"]:
            problems.append(f"{p} does not rank {a}")
        if a not in couple_of and p not in ranks[a]:
            problems.append(f"{a} does not rank {p}")
    for c in inst.get("couples", []):
        pair = [mu[m] for m in c["members"]]
        if pair != [None, None] and pair not in [list(o) for o in c["ranks"]]:
            problems.append(f"couple {c['members']} placed outside its options")
    for quota in inst.get("quotas", []):
        inside = [x for x in quota["applicants"] if mu.get(x) in quota["programs"]]
        if len(inside) > quota["capacity"]:
            problems.append(f"quota {quota['id']} over its cap")
    return problems


def blocking_pairs(
    inst: Instance, mu: Matching
) -> list[tuple[tuple[str, ...], tuple[str | None, ...]]]:
    found: list[tuple[tuple[str, ...], tuple[str | None, ...]]] = []
    couple_of = _couple_of(inst)
    for applicant in inst["applicants"]:
        a = applicant["id"]
        if a in couple_of:
            continue
        for p in applicant.get("ranks", []):
            if p == mu[a]:
                break
            if _admissible(inst, mu, [(a, p)], {a}):
                found.append(((a,), (p,)))
    for c in inst.get("couples", []):
        m1, m2 = c["members"]
        current = [mu[m1], mu[m2]]
        for option in c["ranks"]:
            if list(option) == current:
                break
            moves = [(m, p) for m, p in zip((m1, m2), option, strict=True) if p is not None]
            if _admissible(inst, mu, moves, {m1, m2}):
                found.append(((m1, m2), tuple(option)))
    return found


def is_stable(inst: Instance, mu: Matching) -> bool:
    return not feasibility_problems(inst, mu) and not blocking_pairs(inst, mu)


def all_stable_matchings(inst: Instance) -> list[Matching]:
    """Brute force over every assignment (tiny instances only)."""
    ids = [a["id"] for a in inst["applicants"]]
    choices: list[str | None] = [None, *[p["id"] for p in inst["programs"]]]
    stable = []
    for combo in itertools.product(choices, repeat=len(ids)):
        mu = dict(zip(ids, combo, strict=True))
        if is_stable(inst, mu):
            stable.append(mu)
    return stable


def position(inst: Instance, a: str, p: str | None) -> int:
    ranks = next(x.get("ranks", []) for x in inst["applicants"] if x["id"] == a)
    return len(ranks) if p is None else ranks.index(p)
