"""Turn the solver's :class:`Outcome` into a :class:`Result`: awards, shares, reasons.

Every request gets one explanation: a stable ``reason_code`` and JSON-ready
``params`` the platform translates (docs/funding-allocation-engine.md lists them).
For requests left out although they could fit, the explanation says how much money
is left in their eligible funds, how many of the funded requests competing for the
same funds had a higher (or lower) priority per amount, and what funding them would
cost in total priority: exactly (re-solved with the request forced in) for the
``options.explain_top`` highest-priority ones while time allows, otherwise the lower
bound the LP prices give at no cost.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from typing import Any

from .flow import single_fund_shares, split_shares
from .model import PRIORITY_SCALE, Award, Conflict, Explanation, FundUse, Result, Share
from .problem import NO_ELIGIBLE_FUND, NO_MONEY, PINNED_OUT, USED_BY_PINS, Problem
from .solve import Outcome, forced_cost

_MONEY_KEYS = frozenset({"available", "needed"})


def money(minor: int, digits: int) -> str:
    """Minor units as a plain decimal string with exactly ``digits`` decimals."""
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    if not digits:
        return f"{sign}{minor}"
    scale = 10**digits
    return f"{sign}{minor // scale}.{minor % scale:0{digits}d}"


def priority_number(hundredths: int) -> float | int:
    if hundredths % PRIORITY_SCALE == 0:
        return hundredths // PRIORITY_SCALE
    return hundredths / PRIORITY_SCALE


def competition_ranks(problem: Problem) -> list[int]:
    """1 for the highest priority; equal priorities share a rank (1, 2, 2, 4)."""
    ordered = sorted(problem.priority, reverse=True)
    first: dict[int, int] = {}
    for position, value in enumerate(ordered):
        first.setdefault(value, position + 1)
    return [first[p] for p in problem.priority]


def _conflict_json(conflict: Conflict, digits: int) -> Conflict:
    params = {
        key: money(value, digits) if key in _MONEY_KEYS and isinstance(value, int) else value
        for key, value in conflict.params.items()
    }
    return Conflict(conflict.code, params)


def _shares(problem: Problem, outcome: Outcome, funded: list[int]) -> dict[int, dict[int, int]]:
    if problem.split:
        return split_shares(problem, funded)
    return single_fund_shares(problem, {i: outcome.fund_of[i] for i in funded})


def check_allocation(problem: Problem, shares: dict[int, dict[int, int]]) -> list[str]:
    """Every rule the shares break, in words (empty when they keep them all)."""
    found = []
    used = [0] * len(problem.cap)
    for i, by_fund in shares.items():
        total = sum(by_fund.values())
        if not problem.minimum[i] <= total <= problem.amount[i]:
            found.append(f"{problem.ids[i]}: {total} outside its range")
        if not problem.split and len(by_fund) != 1:
            found.append(f"{problem.ids[i]}: split over {len(by_fund)} funds")
        for j, value in by_fund.items():
            if value <= 0 or j not in problem.listed[i]:
                found.append(f"{problem.ids[i]}: bad share from fund {problem.fund_ids[j]}")
            used[j] += value
    for j, value in enumerate(used):
        if value > problem.cap[j]:
            found.append(f"fund {problem.fund_ids[j]} overrun")
    return found


def build_result(
    problem: Problem,
    outcome: Outcome,
    *,
    started: float,
    time_limit: float,
) -> Result:
    inst = problem.instance
    digits = inst.minor_digits
    ids = problem.ids
    ranks = competition_ranks(problem)
    pinned = set(problem.awarded)
    solved = outcome.status in ("optimal", "feasible")
    funded = sorted([*outcome.funded, *problem.awarded]) if solved else []
    shares = _shares(problem, outcome, funded) if funded else {}
    broken = check_allocation(problem, shares)
    if broken:  # a defect of this engine, never of the input
        raise RuntimeError("allocation breaks its own rules: " + "; ".join(broken[:5]))
    used = [0] * len(problem.cap)
    for by_fund in shares.values():
        for j, value in by_fund.items():
            used[j] += value
    left = [c - u for c, u in zip(problem.cap, used, strict=True)]
    fund_use = tuple(
        FundUse(fund=f, available=problem.cap[j], used=used[j])
        for j, f in enumerate(problem.fund_ids)
    )
    awards = tuple(
        Award(
            request=ids[i],
            amount=sum(shares[i].values()),
            shares=tuple(Share(problem.fund_ids[j], v) for j, v in shares[i].items()),
        )
        for i in funded
    )
    funded_set = set(funded)
    pin_priority = sum(problem.priority[i] for i in problem.awarded)
    objective = sum(problem.priority[i] for i in funded) if solved else None
    bound = outcome.bound + pin_priority if outcome.bound is not None else None
    if outcome.status == "optimal":
        bound = objective

    in_conflict: set[str] = set()
    for conflict in outcome.conflicts:
        names = conflict.params.get("requests") or [conflict.params.get("request")]
        in_conflict.update(str(name) for name in names if name)

    ratio_index = _RatioIndex(problem, funded)
    explanations: dict[str, Explanation] = {}
    outranked: list[int] = []
    for i, r in enumerate(inst.requests):
        base: dict[str, Any] = {"priority": priority_number(r.priority), "rank": ranks[i]}
        eligible = list(r.funds)
        if i in funded_set:
            given = sum(shares[i].values())
            params = base | {
                "amount": money(given, digits),
                "requested": money(r.amount, digits),
                "funds": [problem.fund_ids[j] for j in shares[i]],
            }
            if i in pinned:
                code = "pinned_by_staff"
                params["pin"] = "award"
            elif given < r.amount:
                code = "funded_reduced"
                params["min_amount"] = money(r.min_amount, digits)
                params["shortfall"] = money(r.amount - given, digits)
            else:
                code = "funded"
            explanations[r.id] = Explanation(True, code, params)
            continue
        reason = problem.out.get(i)
        if reason == PINNED_OUT or r.pinned is not None:
            params = base | {"pin": r.pinned}
            if r.id in in_conflict:
                params["in_conflict"] = True
            explanations[r.id] = Explanation(False, "pinned_by_staff", params)
        elif reason == NO_ELIGIBLE_FUND:
            explanations[r.id] = Explanation(False, NO_ELIGIBLE_FUND, base)
        elif reason == NO_MONEY:
            alone = (
                problem.capacity(problem.mask[i])
                if problem.split
                else max(problem.cap[j] for j in problem.listed[i])
            )
            explanations[r.id] = Explanation(
                False,
                NO_MONEY,
                base
                | {
                    "eligible_funds": eligible,
                    "available": money(alone, digits),
                    "needed": money(r.min_amount, digits),
                    "split": problem.split,
                },
            )
        elif reason == USED_BY_PINS:
            explanations[r.id] = Explanation(
                False,
                USED_BY_PINS,
                base
                | {
                    "eligible_funds": eligible,
                    "left_after_pins": money(max(0, problem.room_after_pins[i]), digits),
                    "needed": money(r.min_amount, digits),
                },
            )
        elif outcome.status == "infeasible":
            explanations[r.id] = Explanation(False, "not_allocated_pins_conflict", base)
        elif outcome.status == "unknown":
            explanations[r.id] = Explanation(False, "not_solved_in_time", base)
        else:
            higher, lower = ratio_index.count(i)
            explanations[r.id] = Explanation(
                False,
                "outranked",
                base
                | {
                    "needed": money(r.min_amount, digits),
                    "requested": money(r.amount, digits),
                    "priority_per_1000": _per_thousand(r.priority, r.min_amount, digits),
                    "eligible_funds": eligible,
                    "left": money(sum(left[j] for j in problem.listed[i]), digits),
                    "left_by_fund": {
                        problem.fund_ids[j]: money(left[j], digits) for j in problem.listed[i]
                    },
                    "funded_higher_ratio": higher,
                    "funded_lower_ratio": lower,
                    "cost": None,
                    "cost_kind": None,
                },
            )
            outranked.append(i)

    explained_exactly = _costs(problem, outcome, outranked, explanations, started, time_limit)
    unfunded = tuple(r.id for i, r in enumerate(inst.requests) if i not in funded_set)
    awarded_total = sum(a.amount for a in awards)
    requested_total = sum(problem.amount[i] for i in funded)
    stats = dict(outcome.stats) | {
        "levels": outcome.levels,
        "funded": len(funded),
        "awarded": money(awarded_total, digits),
        "shortfall": money(requested_total - awarded_total, digits),
        "costs_exact": explained_exactly,
    }
    if outcome.prices is not None:
        stats["lp_bound"] = round(outcome.prices.upper + pin_priority) / PRIORITY_SCALE
    stats.pop("hint_priority", None)
    return Result(
        status=outcome.status,
        objective=objective,
        bound=bound,
        awards=awards,
        unfunded=unfunded,
        fund_use=fund_use,
        explanations=explanations,
        conflicts=tuple(_conflict_json(c, digits) for c in outcome.conflicts),
        seconds=time.monotonic() - started,
        stats=stats,
    )


def _per_thousand(priority: int, minor: int, digits: int) -> float:
    """Priority per 1,000 units of the currency asked for (at the minimum amount)."""
    scale: int = 10**digits
    return round(priority / PRIORITY_SCALE * 1000 * scale / minor, 3)


class _RatioIndex:
    """Funded requests by eligible-fund set, sorted by priority per amount."""

    def __init__(self, problem: Problem, funded: list[int]) -> None:
        self.problem = problem
        # Floats: equal ratios divide to equal floats, which is all the ties need.
        groups: dict[int, list[float]] = {}
        for i in funded:
            groups.setdefault(problem.mask[i], []).append(problem.priority[i] / problem.minimum[i])
        self.groups = {mask: sorted(values) for mask, values in groups.items()}

    def count(self, i: int) -> tuple[int, int]:
        """Funded requests sharing an eligible fund with ``i``: (ratio >= its, ratio < its)."""
        mine = self.problem.priority[i] / self.problem.minimum[i]
        higher = lower = 0
        for mask, values in self.groups.items():
            if mask & self.problem.mask[i]:
                below = bisect_left(values, mine)
                lower += below
                higher += len(values) - below
        return higher, lower


def _costs(
    problem: Problem,
    outcome: Outcome,
    outranked: list[int],
    explanations: dict[str, Explanation],
    started: float,
    time_limit: float,
) -> int:
    """Fill ``cost`` in the outranked explanations; returns how many are exact."""
    pr = outcome.prices
    if pr is None or not outranked:
        return 0
    best = sum(problem.priority[k] for k in outcome.funded)
    deadline = started + time_limit * 0.93
    top = sorted(outranked, key=lambda i: (-problem.priority[i], problem.ids[i]))
    top = top[: problem.instance.options.explain_top]
    exact = 0
    for position, i in enumerate(top):
        now = time.monotonic()
        if now >= deadline:
            break
        share = (deadline - now) / (len(top) - position)
        found = forced_cost(problem, outcome, i, deadline=now + share)
        if found is None:
            continue
        cost, is_exact, displaced = found
        is_exact = is_exact and outcome.status == "optimal"
        params = explanations[problem.ids[i]].params
        params["cost"] = priority_number(cost)
        params["cost_kind"] = "exact" if is_exact else "at_least"
        if is_exact:
            params["displaced"] = displaced
            exact += 1
    eps = 1e-7 * max(1.0, abs(pr.upper))
    for i in outranked:
        params = explanations[problem.ids[i]].params
        if params["cost_kind"] is not None:
            continue
        # Forcing i in costs at least its reduced cost beyond the LP's gap.
        forced_upper = math.floor(pr.upper + min(0.0, pr.rc[i]) + eps)
        cost = best - forced_upper
        if cost > 0:
            params["cost"] = priority_number(cost)
            params["cost_kind"] = "at_least"
    return exact
