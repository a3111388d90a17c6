"""Property tests: every result keeps the rules, and small ones match a brute force."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medexchange.engines.funding import allocate

from .funding_support import (
    best_given,
    brute_force,
    caps_of,
    hundredths,
    problems,
    requests_of,
    value_of,
)

PRIORITIES = [0, 1, 2.5, 5, 5, 7.25, 10, 33.33]


def _money(minor: int, digits: int) -> str:
    if not digits:
        return str(minor)
    return f"{minor // 10**digits}.{minor % 10**digits:0{digits}d}"


@st.composite
def instances(draw: st.DrawFn, *, most: int = 6, funds: int = 3) -> dict[str, Any]:
    digits = draw(st.sampled_from([0, 2]))
    unit = 10**digits
    n_funds = draw(st.integers(1, funds))
    fund_ids = [f"f{j}" for j in range(n_funds)]
    fund_list = [
        {"id": f, "available": _money(draw(st.integers(0, 30 * unit)), digits)} for f in fund_ids
    ]
    requests = []
    for k in range(draw(st.integers(0, most))):
        amount = draw(st.integers(1, 15 * unit))
        r: dict[str, Any] = {
            "id": f"r{draw(st.integers(0, 99)):02d}-{k}",
            "priority": draw(st.sampled_from(PRIORITIES)),
            "amount": _money(amount, digits),
            "funds": draw(st.lists(st.sampled_from(fund_ids), unique=True, max_size=n_funds)),
        }
        if draw(st.integers(0, 3)) == 0:
            r["min_amount"] = _money(draw(st.integers(1, amount)), digits)
        pin = draw(st.sampled_from([None] * 8 + ["award", "no_award"]))
        if pin:
            r["pinned"] = pin
        requests.append(r)
    return {
        "currency": "EUR" if digits else "JPY",
        "minor_digits": digits,
        "funds": fund_list,
        "requests": requests,
        "options": {"allow_split": draw(st.booleans()), "time_limit": 5, "explain_top": 3},
    }


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_small_allocations_are_the_brute_force_optimum(data: dict[str, Any]) -> None:
    result = allocate(data)
    assert problems(data, result) == []
    best = brute_force(data)
    if best is None:
        assert result["status"] == "infeasible"
        assert result["conflicts"]
        return
    assert result["status"] == "optimal"
    assert result["objective"] == result["bound"]
    # Every level: priority, number funded, shortfall, then the id tie-break.
    assert value_of(data, result) == best[0]
    for rid, explanation in result["explanations"].items():
        params = explanation["params"]
        if explanation["reason_code"] != "outranked" or params["cost_kind"] is None:
            continue
        forced = brute_force(data, force=rid)
        if forced is None:
            continue  # cannot be funded beside the pins at all: any lower bound holds
        cost = best[0].priority - forced[0].priority
        if params["cost_kind"] == "exact":
            assert hundredths(params["cost"]) == cost
        else:
            assert hundredths(params["cost"]) <= cost


def _greedy_by_priority(data: dict[str, Any]) -> int:
    """Fund by priority while the minimums still fit (split or not), pins first."""
    reqs = requests_of(data)
    caps = caps_of(data)
    split = data["options"]["allow_split"]
    chosen = [r for r in reqs if r.pinned == "award"]
    for r in sorted(reqs, key=lambda r: (-r.priority, r.id)):
        if r.pinned or not r.funds:
            continue
        if best_given([*chosen, r], caps, split) is not None:
            chosen.append(r)
    return sum(r.priority for r in chosen)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(most=40, funds=3))
def test_larger_allocations_keep_the_rules_and_beat_the_greedy(data: dict[str, Any]) -> None:
    # Splitting and no pins: the greedy then needs only a max-flow per step.
    data["options"]["allow_split"] = True
    for r in data["requests"]:
        r.pop("pinned", None)
    result = allocate(data)
    assert problems(data, result) == []
    assert result["status"] == "optimal"
    assert hundredths(result["objective"]) >= _greedy_by_priority(data)
