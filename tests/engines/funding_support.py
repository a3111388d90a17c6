"""An independent checker and brute force for scholarship allocations, on the raw JSON.

Written from docs/funding-allocation-engine.md, not from the engine: it never imports
the solver, so a wrong model cannot vouch for itself. Feasibility with splitting is a
plain max-flow here (the engine uses Hall's rows); without splitting every assignment
of awards to single funds is tried.
"""

from __future__ import annotations

import itertools
from collections import deque
from decimal import Decimal
from typing import Any, NamedTuple


def minor(text: str, digits: int) -> int:
    return int(Decimal(text).scaleb(digits))


def hundredths(priority: Any) -> int:
    return int(Decimal(str(priority)) * 100)


class Req(NamedTuple):
    id: str
    priority: int
    amount: int
    minimum: int
    funds: tuple[str, ...]
    pinned: str | None


def requests_of(instance: dict[str, Any]) -> list[Req]:
    digits = instance["minor_digits"]
    found = []
    for r in instance["requests"]:
        amount = minor(r["amount"], digits)
        minimum = minor(r["min_amount"], digits) if r.get("min_amount") else amount
        found.append(
            Req(
                r["id"],
                hundredths(r["priority"]),
                amount,
                minimum,
                tuple(r["funds"]),
                r.get("pinned"),
            )
        )
    return found


def caps_of(instance: dict[str, Any]) -> dict[str, int]:
    return {f["id"]: minor(f["available"], instance["minor_digits"]) for f in instance["funds"]}


def max_flow(
    demand: dict[str, int], edges: dict[str, tuple[str, ...]], caps: dict[str, int]
) -> int:
    """Edmonds-Karp from a source through requests and funds to a sink."""
    residual: dict[str, dict[str, int]] = {"s": {}, "t": {}}
    big = sum(demand.values()) + 1

    def arc(u: str, v: str, c: int) -> None:
        residual.setdefault(u, {})
        residual.setdefault(v, {})
        residual[u][v] = residual[u].get(v, 0) + c
        residual[v].setdefault(u, 0)

    for r, d in demand.items():
        arc("s", "r:" + r, d)
        for f in edges[r]:
            arc("r:" + r, "f:" + f, big)
    for f, c in caps.items():
        arc("f:" + f, "t", c)
    total = 0
    while True:
        parent: dict[str, str] = {"s": "s"}
        queue = deque(["s"])
        while queue and "t" not in parent:
            u = queue.popleft()
            for v, c in residual[u].items():
                if c > 0 and v not in parent:
                    parent[v] = u
                    queue.append(v)
        if "t" not in parent:
            return total
        path = []
        v = "t"
        while v != "s":
            path.append((parent[v], v))
            v = parent[v]
        push = min(residual[u][v] for u, v in path)
        for u, v in path:
            residual[u][v] -= push
            residual[v][u] += push
        total += push


class Value(NamedTuple):
    """The engine's lexicographic levels, larger is better (shortfall negated)."""

    priority: int
    funded: int
    neg_shortfall: int
    ids: int


def best_given(subset: list[Req], caps: dict[str, int], split: bool) -> int | None:
    """The most money the funds can give ``subset`` with every award at least its minimum
    (None when the minimums do not fit)."""
    if split:
        need = sum(r.minimum for r in subset)
        edges = {r.id: r.funds for r in subset}
        if max_flow({r.id: r.minimum for r in subset}, edges, caps) < need:
            return None
        return max_flow({r.id: r.amount for r in subset}, edges, caps)
    best: int | None = None
    for choice in itertools.product(*[r.funds for r in subset]):
        load: dict[str, int] = dict.fromkeys(caps, 0)
        asked: dict[str, int] = dict.fromkeys(caps, 0)
        for r, f in zip(subset, choice, strict=True):
            load[f] += r.minimum
            asked[f] += r.amount
        if all(load[f] <= caps[f] for f in caps):
            given = sum(min(asked[f], caps[f]) for f in caps)
            best = given if best is None else max(best, given)
    return best


def brute_force(
    instance: dict[str, Any], *, force: str | None = None
) -> tuple[Value, frozenset[str]] | None:
    """The lexicographically best funded set over all subsets, or None (pins conflict).

    ``force`` names a request that must be funded too (for checking costs).
    """
    reqs = requests_of(instance)
    caps = caps_of(instance)
    split = instance.get("options", {}).get("allow_split", True)
    order = sorted(r.id for r in reqs)
    weight = {rid: len(reqs) - k for k, rid in enumerate(order)}
    must = [r for r in reqs if r.pinned == "award" or r.id == force]
    optional = [r for r in reqs if r.pinned is None and r.id != force and r.funds]
    best: tuple[Value, frozenset[str]] | None = None
    for size in range(len(optional) + 1):
        for extra in itertools.combinations(optional, size):
            subset = must + list(extra)
            if any(not r.funds for r in subset):
                continue
            given = best_given(subset, caps, split)
            if given is None:
                continue
            free = [r for r in subset if r.pinned != "award"]
            value = Value(
                sum(r.priority for r in subset),
                len(free),
                -(sum(r.amount for r in subset) - given),
                sum(weight[r.id] for r in free),
            )
            if best is None or value > best[0]:
                best = (value, frozenset(r.id for r in subset))
    return best


def value_of(instance: dict[str, Any], result: dict[str, Any]) -> Value:
    """The levels of the engine's result, computed from its awards."""
    digits = instance["minor_digits"]
    reqs = {r.id: r for r in requests_of(instance)}
    order = sorted(reqs)
    weight = {rid: len(reqs) - k for k, rid in enumerate(order)}
    funded = [reqs[a["request"]] for a in result["awards"]]
    given = sum(minor(a["amount"], digits) for a in result["awards"])
    free = [r for r in funded if r.pinned != "award"]
    return Value(
        sum(r.priority for r in funded),
        len(free),
        -(sum(r.amount for r in funded) - given),
        sum(weight[r.id] for r in free),
    )


def problems(instance: dict[str, Any], result: dict[str, Any]) -> list[str]:
    """Every rule the result breaks, in words; empty when it keeps them all."""
    digits = instance["minor_digits"]
    reqs = {r.id: r for r in requests_of(instance)}
    caps = caps_of(instance)
    split = instance.get("options", {}).get("allow_split", True)
    found: list[str] = []
    used = dict.fromkeys(caps, 0)
    awarded: set[str] = set()
    for award in result["awards"]:
        rid = award["request"]
        if rid not in reqs or rid in awarded:
            found.append(f"award for unknown or repeated request {rid}")
            continue
        awarded.add(rid)
        r = reqs[rid]
        amount = minor(award["amount"], digits)
        if not r.minimum <= amount <= r.amount:
            found.append(f"{rid}: {amount} outside [{r.minimum}, {r.amount}]")
        shares = award["shares"]
        if sum(minor(s["amount"], digits) for s in shares) != amount:
            found.append(f"{rid}: shares do not add up to the award")
        if not split and len(shares) != 1:
            found.append(f"{rid}: {len(shares)} shares without splitting")
        for s in shares:
            if s["fund"] not in r.funds:
                found.append(f"{rid}: draws on {s['fund']}, not eligible")
            elif minor(s["amount"], digits) <= 0:
                found.append(f"{rid}: empty share")
            else:
                used[s["fund"]] += minor(s["amount"], digits)
        if r.pinned == "no_award":
            found.append(f"{rid}: pinned no_award but funded")
    for f, c in caps.items():
        if used[f] > c:
            found.append(f"fund {f}: {used[f]} used of {c}")
    for use in result["fund_use"]:
        f = use["fund"]
        if minor(use["used"], digits) != used[f] or minor(use["left"], digits) != caps[f] - used[f]:
            found.append(f"fund_use of {f} does not match the shares")
    for r in reqs.values():
        if r.pinned == "award" and r.id not in awarded and result["status"] != "infeasible":
            found.append(f"{r.id}: pinned award not funded")
        expl = result["explanations"].get(r.id)
        if expl is None:
            found.append(f"{r.id}: no explanation")
        elif expl["funded"] != (r.id in awarded):
            found.append(f"{r.id}: explanation says funded={expl['funded']}")
    if set(result["unfunded"]) != set(reqs) - awarded:
        found.append("unfunded is not the complement of the awards")
    total = sum(reqs[a].priority for a in awarded)
    if result["status"] in ("optimal", "feasible") and hundredths(result["objective"]) != total:
        found.append(f"objective {result['objective']} is not the funded priority {total / 100}")
    return found
