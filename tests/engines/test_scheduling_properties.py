"""Random small plans: every plan returned keeps every hard rule (by the independent
validator), the optimum equals a brute force, and "no plan" is true when said."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from medexchange.engines.scheduling import PlanError, distinct, parse_plan, solve

from .scheduling_support import best_by_brute_force, problems, value

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def plans(draw: st.DrawFn, *, people: int = 4, sites: int = 3, periods: int = 4) -> dict[str, Any]:
    n_periods = draw(st.integers(1, periods))
    period_ids = [f"W{k + 1}" for k in range(n_periods)]
    site_ids = [f"s{k}" for k in range(draw(st.integers(1, sites)))]
    site_list = []
    for s in site_ids:
        site: dict[str, Any] = {"id": s}
        capacity = draw(st.lists(st.integers(0, 2), min_size=n_periods, max_size=n_periods))
        site["capacity"] = capacity
        if draw(st.booleans()):
            site["min_staff"] = [min(c, draw(st.integers(0, 1))) for c in capacity]
        if draw(st.integers(0, 3)) == 0:
            site["closed"] = draw(st.lists(st.sampled_from(period_ids), unique=True, max_size=1))
        if draw(st.integers(0, 3)) == 0:
            site["languages"] = draw(
                st.lists(st.sampled_from(["en", "es"]), min_size=1, unique=True)
            )
        site_list.append(site)
    min_sites = draw(st.integers(1, min(2, len(site_ids))))
    min_stay = draw(st.integers(1, 2))
    max_stay = draw(st.one_of(st.none(), st.integers(min_stay, 3)))
    person_list = []
    for k in range(draw(st.integers(1, people))):
        first = draw(st.integers(0, n_periods - 1))
        last = draw(st.integers(first, n_periods - 1))
        if (last - first + 1) < min_sites * min_stay:
            first, last = 0, n_periods - 1
            if n_periods < min_sites * min_stay:
                min_sites, min_stay = 1, 1
                max_stay = max_stay if max_stay is None or max_stay >= 1 else None
        person: dict[str, Any] = {
            "id": f"p{k}",
            "arrival": period_ids[first],
            "departure": period_ids[last],
            "preferences": draw(st.lists(st.sampled_from(site_ids), unique=True, max_size=2)),
        }
        if draw(st.integers(0, 3)) == 0:
            person["languages"] = [draw(st.sampled_from(["en", "es"]))]
        if draw(st.integers(0, 4)) == 0:
            person["must_not_visit"] = [draw(st.sampled_from(site_ids))]
        person_list.append(person)
    # The required number of sites must stay open to each participant.
    for person in person_list:
        if len(site_ids) - len(person.get("must_not_visit", [])) < min_sites:
            person.pop("must_not_visit")
    rules: dict[str, Any] = {"min_sites": min_sites, "min_stay": min_stay, "max_stay": max_stay}
    if max_stay is None:
        rules.pop("max_stay")
    ids = [p["id"] for p in person_list]
    if len(ids) >= 2 and draw(st.booleans()):
        pair = draw(st.permutations(ids))[:2]
        rules[draw(st.sampled_from(["together", "apart"]))] = [pair]
    return {
        "horizon": {"start": "2027-03-01", "count": n_periods},
        "sites": site_list,
        "participants": person_list,
        "rules": rules,
    }


@FAST
@given(plans())
def test_every_returned_plan_keeps_every_hard_rule(plan: dict[str, Any]) -> None:
    solution = solve(parse_plan(plan), time_limit=10, workers=1)
    if solution.status in ("optimal", "feasible"):
        assert problems(plan, solution.assignment) == []
        assert solution.score is not None
        assert solution.bound is not None and solution.objective is not None
        assert solution.objective <= solution.bound
    else:
        assert solution.status == "infeasible"
        (conflict,) = solution.conflicts
        assert conflict.rules and len(conflict.messages) == len(conflict.rules)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans(people=3, sites=2, periods=3))
def test_the_optimum_and_no_plan_agree_with_a_brute_force(plan: dict[str, Any]) -> None:
    solution = solve(parse_plan(plan), time_limit=10, workers=1)
    best = best_by_brute_force(plan)
    if best is None:
        assert solution.status == "infeasible"
    else:
        assert solution.status == "optimal"
        assert value(plan, solution.assignment) == best


@st.composite
def new_site_each_period(draw: st.DrawFn) -> dict[str, Any]:
    """Plans shaped for the engine's exact shortcut (stays of one period allowed, at least
    as many sites as periods), with pairs, pins and must-visit sites: the shortcut proves
    optimality from a relaxation's bounds, so these check that every such claim holds."""
    n_sites = draw(st.integers(2, 4))
    n_periods = draw(st.integers(1, 3 if n_sites <= 3 else 2))
    n_people = draw(st.integers(1, 3 if n_sites**n_periods <= 27 else 2))
    period_ids = [f"W{k + 1}" for k in range(n_periods)]
    site_ids = [f"s{k}" for k in range(n_sites)]
    site_list = []
    for s in site_ids:
        capacity = draw(
            st.lists(st.sampled_from([0, 1, 1, 2, 2, 3]), min_size=n_periods, max_size=n_periods)
        )
        site: dict[str, Any] = {"id": s, "capacity": capacity}
        if draw(st.integers(0, 3)) == 0:
            site["min_staff"] = [min(c, draw(st.integers(0, 1))) for c in capacity]
        if draw(st.integers(0, 4)) == 0:
            site["closed"] = [draw(st.sampled_from(period_ids))]
        if draw(st.integers(0, 4)) == 0:
            site["languages"] = [draw(st.sampled_from(["en", "es"]))]
        site_list.append(site)
    person_list = []
    for k in range(n_people):
        first = draw(st.integers(0, n_periods - 1))
        last = draw(st.integers(first, n_periods - 1))
        person: dict[str, Any] = {
            "id": f"p{k}",
            "arrival": period_ids[first],
            "departure": period_ids[last],
            "preferences": draw(st.lists(st.sampled_from(site_ids), unique=True, max_size=3)),
        }
        if draw(st.integers(0, 3)) == 0:
            person["languages"] = [draw(st.sampled_from(["en", "es"]))]
        if draw(st.integers(0, 3)) == 0:
            person["must_not_visit"] = [draw(st.sampled_from(site_ids))]
        if draw(st.integers(0, 3)) == 0:
            must = draw(st.sampled_from(site_ids))
            if must not in person.get("must_not_visit", []):
                person["must_visit"] = [must]
        person_list.append(person)
    rules: dict[str, Any] = {"min_sites": draw(st.integers(1, 2)), "balance": draw(st.booleans())}
    if draw(st.booleans()):
        rules["max_stay"] = draw(st.integers(1, 3))
    ids = [p["id"] for p in person_list]
    if len(ids) >= 2 and draw(st.booleans()):
        rules["together"] = [draw(st.permutations(ids))[:2]]
    if len(ids) >= 2 and draw(st.booleans()):
        rules["apart"] = [draw(st.permutations(ids))[:2]]
    plan: dict[str, Any] = {
        "horizon": {"start": "2027-03-01", "count": n_periods},
        "sites": site_list,
        "participants": person_list,
        "rules": rules,
    }
    if draw(st.integers(0, 2)) == 0:
        pinned = draw(st.sampled_from(person_list))
        here = period_ids[
            period_ids.index(pinned["arrival"]) : period_ids.index(pinned["departure"]) + 1
        ]
        plan["pinned"] = {
            pinned["id"]: {draw(st.sampled_from(here)): draw(st.sampled_from(site_ids))}
        }
    return plan


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(new_site_each_period())
def test_the_shortcut_s_optimum_and_no_plan_agree_with_a_brute_force(
    plan: dict[str, Any],
) -> None:
    try:
        parsed = parse_plan(plan)
    except PlanError:
        return  # e.g. a must-visit site the participant's languages rule out: refused
    solution = solve(parsed, time_limit=10, workers=1)
    best = best_by_brute_force(plan)
    if best is None:
        assert solution.status == "infeasible"
    else:
        assert solution.status == "optimal"
        assert problems(plan, solution.assignment) == []
        assert value(plan, solution.assignment) == best
        assert solution.objective == solution.bound


@st.composite
def medium_plans(draw: st.DrawFn) -> dict[str, Any]:
    """Too big for a brute force, small enough for the general model to prove quickly."""
    n_periods = draw(st.integers(2, 4))
    site_ids = [f"s{k}" for k in range(draw(st.integers(n_periods, 6)))]
    people = draw(st.integers(4, 9))
    site_list = [
        {
            "id": s,
            "capacity": draw(st.lists(st.integers(1, 3), min_size=n_periods, max_size=n_periods)),
        }
        for s in site_ids
    ]
    site_list[-1]["min_staff"] = 1 if draw(st.booleans()) else 0
    person_list = [
        {
            "id": f"p{k}",
            "preferences": draw(st.lists(st.sampled_from(site_ids), unique=True, max_size=3)),
            "arrival": f"W{draw(st.integers(1, 2))}" if n_periods > 2 else "W1",
        }
        for k in range(people)
    ]
    rules: dict[str, Any] = {"min_sites": 1, "max_stay": draw(st.integers(1, 2))}
    if draw(st.booleans()):
        rules["together"] = [["p0", "p1"]]
    if draw(st.booleans()):
        rules["apart"] = [["p2", "p3"]]
    return {
        "horizon": {"start": "2027-03-01", "count": n_periods},
        "sites": site_list,
        "participants": person_list,
        "rules": rules,
    }


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(medium_plans())
def test_the_shortcut_and_the_general_model_prove_the_same_optimum(plan: dict[str, Any]) -> None:
    parsed = parse_plan(plan)
    fast = solve(parsed, time_limit=20, workers=1)
    general = solve(parsed, time_limit=60, workers=1, shortcut=False)
    if general.status == "infeasible":
        assert fast.status == "infeasible"
        return
    assert problems(plan, fast.assignment) == []
    assert fast.objective is not None and general.bound is not None
    assert fast.objective <= general.bound  # each bound holds for the other's plan
    assert general.objective is not None and fast.bound is not None
    assert general.objective <= fast.bound
    if fast.status == general.status == "optimal":
        assert fast.objective == general.objective


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(new_site_each_period())
@example(  # one cell open to one participant: the balance's parity bound is exact
    plan={
        "horizon": {"start": "2027-03-01", "count": 3},
        "sites": [
            {"id": "s0", "capacity": [0, 0, 0]},
            {"id": "s1", "capacity": [0, 0, 1]},
            {"id": "s2", "capacity": [0, 1, 0], "closed": ["W1"], "languages": ["en"]},
        ],
        "participants": [{"id": "p0", "arrival": "W3", "departure": "W3", "languages": ["en"]}],
        "rules": {"min_sites": 1, "balance": True},
    }
)
def test_without_its_heuristic_plans_the_shortcut_still_finds_the_optimum(
    plan: dict[str, Any],
) -> None:
    """The shortcut's filled plans usually meet its bounds at once; without them, its
    exact search (and the general model after it) must reach the same optimum."""
    try:
        parsed = parse_plan(plan)
    except PlanError:
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(distinct, "_best_fill", lambda *args, **kwargs: None)
        solution = solve(parsed, time_limit=10, workers=1)
    best = best_by_brute_force(plan)
    if best is None:
        assert solution.status == "infeasible"
    else:
        assert solution.status == "optimal"
        assert problems(plan, solution.assignment) == []
        assert value(plan, solution.assignment) == best
