"""Random small plans: every plan returned keeps every hard rule (by the independent
validator), the optimum equals a brute force, and "no plan" is true when said."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medexchange.engines.scheduling import parse_plan, solve

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
