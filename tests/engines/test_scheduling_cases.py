"""Each rule of the rotation scheduler on a small case whose answer is known by hand."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from medexchange.engines.scheduling import (
    PlanError,
    greedy,
    parse_plan,
    solve,
    violations,
)

from .scheduling_support import best_by_brute_force, problems, value


def plan_of(**overrides: Any) -> dict[str, Any]:
    plan: dict[str, Any] = {
        "horizon": {"start": "2027-03-01", "count": 4},
        "sites": [
            {"id": "er", "name": "Emergency", "capacity": 2},
            {"id": "icu", "name": "ICU", "capacity": 2},
            {"id": "peds", "name": "Paediatrics", "capacity": 2},
        ],
        "participants": [{"id": "ana"}, {"id": "bo"}, {"id": "cy"}],
        "rules": {"min_sites": 1},
    }
    plan.update(overrides)
    return plan


def solved(plan: dict[str, Any]) -> dict[str, dict[str, str]]:
    solution = solve(parse_plan(plan), time_limit=10, workers=1)
    assert solution.status == "optimal", solution.conflicts
    assert problems(plan, solution.assignment) == []
    return solution.assignment


def sites_of(assignment: dict[str, dict[str, str]], person: str) -> list[str]:
    return list(assignment[person].values())


def test_everyone_is_somewhere_in_every_period_they_are_there() -> None:
    plan = plan_of(participants=[{"id": "ana", "arrival": "W2", "departure": "W3"}, {"id": "bo"}])
    assignment = solved(plan)
    assert list(assignment["ana"]) == ["W2", "W3"]
    assert list(assignment["bo"]) == ["W1", "W2", "W3", "W4"]


def test_capacity_per_period_is_never_exceeded_and_may_vary() -> None:
    plan = plan_of(
        horizon={"start": "2027-03-01", "count": 2},
        sites=[{"id": "er", "capacity": [3, 1]}, {"id": "icu", "capacity": [0, 2]}],
    )
    assignment = solved(plan)
    assert sorted(row["W1"] for row in assignment.values()) == ["er", "er", "er"]
    assert sorted(row["W2"] for row in assignment.values()) == ["er", "icu", "icu"]


def test_a_closed_site_gets_nobody_in_its_closed_periods() -> None:
    plan = plan_of(
        sites=[{"id": "er", "capacity": 3, "closed": ["W2"]}, {"id": "icu", "capacity": 3}]
    )
    assignment = solved(plan)
    assert all(row["W2"] == "icu" for row in assignment.values())


def test_minimum_staffing_puts_someone_at_an_unwanted_site() -> None:
    plan = plan_of(
        sites=[{"id": "er", "capacity": 3}, {"id": "rural", "capacity": 1, "min_staff": 1}],
        participants=[{"id": p, "preferences": ["er"]} for p in ("ana", "bo", "cy")],
        rules={"min_sites": 1, "balance": False},
    )
    assignment = solved(plan)
    for t in ("W1", "W2", "W3", "W4"):
        assert sum(row[t] == "rural" for row in assignment.values()) == 1


def test_languages_keep_a_participant_where_they_are_understood() -> None:
    plan = plan_of(
        sites=[
            {"id": "er", "capacity": 3, "languages": ["en"]},
            {"id": "hgu", "capacity": 3, "languages": ["es", "en"]},
        ],
        participants=[{"id": "ana", "languages": ["ES"], "preferences": ["er"]}, {"id": "bo"}],
    )
    assignment = solved(plan)
    assert set(sites_of(assignment, "ana")) == {"hgu"}


def test_must_visit_and_must_not_visit() -> None:
    plan = plan_of(
        participants=[
            {"id": "ana", "preferences": ["er"], "must_visit": ["peds"], "must_not_visit": ["icu"]}
        ],
        rules={"min_sites": 1, "max_stay": 3},
    )
    visited = set(sites_of(solved(plan), "ana"))
    assert "peds" in visited and "icu" not in visited


def test_each_participant_visits_at_least_k_distinct_sites() -> None:
    plan = plan_of(rules={"min_sites": 3, "balance": False})
    assignment = solved(plan)
    assert all(len(set(row.values())) >= 3 for row in assignment.values())


def test_stays_last_between_the_minimum_and_the_maximum() -> None:
    plan = plan_of(
        horizon={"start": "2027-03-01", "count": 6},
        participants=[{"id": "ana", "preferences": ["er"]}, {"id": "bo", "preferences": ["er"]}],
        rules={"min_stay": 2, "max_stay": 3, "min_sites": 2},
    )
    assignment = solved(plan)
    for row in assignment.values():
        sequence = list(row.values())
        runs = []
        for site in sequence:
            if runs and runs[-1][0] == site:
                runs[-1][1] += 1
            else:
                runs.append([site, 1])
        assert all(2 <= length <= 3 for _site, length in runs), sequence


def test_pairs_together_and_apart() -> None:
    plan = plan_of(
        participants=[
            {"id": "ana", "preferences": ["er"]},
            {"id": "bo", "preferences": ["icu"]},
            {"id": "cy", "preferences": ["er"]},
        ],
        rules={"min_sites": 2, "together": [["ana", "bo"]], "apart": [["ana", "cy"]]},
    )
    assignment = solved(plan)
    assert assignment["ana"] == assignment["bo"]
    assert all(assignment["ana"][t] != assignment["cy"][t] for t in assignment["ana"])


def test_a_pinned_cell_stays_where_it_was_pinned() -> None:
    plan = plan_of(
        participants=[{"id": "ana", "preferences": ["er", "icu"]}],
        pinned={"ana": {"W3": "peds"}},
        rules={"min_sites": 1, "balance": False},
    )
    assert solved(plan)["ana"]["W3"] == "peds"


def test_preferences_are_honoured_when_there_is_room() -> None:
    plan = plan_of(
        participants=[
            {"id": "ana", "preferences": ["peds", "icu"]},
            {"id": "bo", "preferences": ["er"]},
        ],
        rules={"min_sites": 2, "balance": False},
    )
    assignment = solved(plan)
    assert {"peds", "icu"} <= set(sites_of(assignment, "ana"))
    assert "er" in sites_of(assignment, "bo")


def test_balance_spreads_participants_in_proportion_to_places() -> None:
    plan = plan_of(
        horizon={"start": "2027-03-01", "count": 1},
        sites=[{"id": "a", "capacity": 6}, {"id": "b", "capacity": 3}],
        participants=[{"id": f"p{k}"} for k in range(6)],
    )
    assignment = solved(plan)
    placed = [row["W1"] for row in assignment.values()]
    assert placed.count("a") == 4 and placed.count("b") == 2


def test_the_optimum_matches_a_brute_force_on_a_small_case() -> None:
    plan = plan_of(
        horizon={"start": "2027-03-01", "count": 3},
        sites=[{"id": "a", "capacity": 1}, {"id": "b", "capacity": 2}, {"id": "c", "capacity": 1}],
        participants=[
            {"id": "x", "preferences": ["a", "c"]},
            {"id": "y", "preferences": ["a"]},
            {"id": "z", "preferences": ["c", "b"], "arrival": "W2"},
        ],
        rules={"min_sites": 2, "max_stay": 2},
    )
    assignment = solved(plan)
    assert value(plan, assignment) == best_by_brute_force(plan)


def test_a_pair_together_every_week_shares_its_sites_and_loses_a_wish() -> None:
    # Two weeks together: two sites between them, three wished. Keeping ana's two wishes
    # or one of hers and bo's gives 3 preference points; either way 2 sites each, and
    # the loads (2, 2, 0) against fair shares of 1 each leave an imbalance of 3.
    plan = plan_of(
        horizon={"start": "2027-03-01", "count": 2},
        sites=[{"id": s, "capacity": 2} for s in ("a", "b", "c")],
        participants=[{"id": "ana", "preferences": ["a", "b"]}, {"id": "bo", "preferences": ["c"]}],
        rules={"min_sites": 1, "together": [["ana", "bo"]]},
    )
    solution = solve(parse_plan(plan), time_limit=10, workers=1)
    assert solution.status == "optimal"
    assert solution.assignment["ana"] == solution.assignment["bo"]
    assert solution.score is not None
    assert (solution.score.preferences, solution.score.diversity) == (3, 4)
    assert solution.score.imbalance == 3
    assert value(plan, solution.assignment) == best_by_brute_force(plan)


def test_the_bound_is_proven_when_a_busy_site_cannot_take_every_wish() -> None:
    # Four people all wish "er" first, which has one place a week for three weeks: one of
    # them cannot go. Everyone still sees three sites and "icu", so the gain is 12 + 3 * 2
    # (the three who get "er") + 4 * 1 = 22, and the solver proves it (objective = bound).
    plan = plan_of(
        horizon={"start": "2027-03-01", "count": 3},
        sites=[
            {"id": "er", "capacity": 1},
            {"id": "icu", "capacity": 2},
            {"id": "peds", "capacity": 2},
            {"id": "ward", "capacity": 2},
        ],
        participants=[{"id": f"p{k}", "preferences": ["er", "icu"]} for k in range(4)],
        rules={"min_sites": 3, "max_stay": 1, "balance": False},
    )
    solution = solve(parse_plan(plan), time_limit=10, workers=1)
    assert solution.status == "optimal"
    assert solution.objective == solution.bound
    assert problems(plan, solution.assignment) == []
    assert sum("er" in row.values() for row in solution.assignment.values()) == 3
    assert solution.score is not None
    assert solution.score.diversity == 12
    assert solution.score.preferences == 3 * 2 + 4 * 1


def test_repair_after_a_closure_changes_only_what_it_must() -> None:
    sites = [{"id": s, "capacity": 2} for s in ("a", "b", "c")]
    previous = {
        "p1": {"W1": "a", "W2": "b", "W3": "c"},
        "p2": {"W1": "b", "W2": "c", "W3": "a"},
        "p3": {"W1": "c", "W2": "a", "W3": "b"},
    }
    base = {
        "horizon": {"start": "2027-03-01", "count": 3},
        "sites": sites,
        "participants": [{"id": p} for p in previous],
        "rules": {"min_sites": 3, "max_stay": 1},
    }
    # The previous plan is optimal for the old problem: nothing to change.
    unchanged = solve(parse_plan({**base, "previous": previous}), time_limit=10, workers=1)
    assert unchanged.score is not None and unchanged.score.changes == 0
    # Site c closes in W3 where p1 was: p1 must see c earlier; two cells is the least
    # (for example a, c, b), and nobody else needs to move.
    closed = copy.deepcopy(base)
    closed["sites"][2]["closed"] = ["W3"]
    repaired = solve(parse_plan({**closed, "previous": previous}), time_limit=10, workers=1)
    assert repaired.status == "optimal"
    assert repaired.score is not None and repaired.score.changes == 2
    assert problems(closed, repaired.assignment) == []
    assert repaired.assignment["p2"] == previous["p2"]
    assert repaired.assignment["p3"] == previous["p3"]


def test_repair_after_a_drop_out_keeps_everyone_else() -> None:
    previous = {
        "ana": {"W1": "er", "W2": "icu", "W3": "er", "W4": "icu"},
        "bo": {"W1": "icu", "W2": "er", "W3": "icu", "W4": "er"},
        "cy": {"W1": "peds", "W2": "peds", "W3": "peds", "W4": "peds"},
    }
    plan = plan_of(participants=[{"id": "ana"}, {"id": "bo"}], previous=previous)
    solution = solve(parse_plan(plan), time_limit=10, workers=1)
    assert solution.score is not None and solution.score.changes == 0
    assert solution.assignment == {"ana": previous["ana"], "bo": previous["bo"]}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (  # more people than places
            {
                "horizon": {"start": "2027-03-01", "count": 1},
                "sites": [{"id": "er", "capacity": 1}, {"id": "icu", "capacity": 1}],
            },
            {"capacity:er", "capacity:icu"},
        ),
        (  # a site that needs a visitor nobody may be
            {
                "sites": [
                    {"id": "er", "capacity": 3},
                    {"id": "icu", "capacity": 1, "min_staff": 1},
                ],
                "participants": [{"id": "ana", "must_not_visit": ["icu"]}],
            },
            {"min_staff:icu", "must_not_visit:ana:icu"},
        ),
        (  # the same pair together and apart
            {"rules": {"together": [["ana", "bo"]], "apart": [["ana", "bo"]]}},
            {"together:0", "apart:0"},
        ),
        (  # a language nobody at the only site with room speaks
            {
                "sites": [
                    {"id": "er", "capacity": 3, "languages": ["en"]},
                    {"id": "hgu", "capacity": 1, "languages": ["es"]},
                ],
                "participants": [
                    {"id": "ana", "languages": ["es"]},
                    {"id": "bo", "languages": ["es"]},
                ],
            },
            {"language:ana", "language:bo", "capacity:hgu"},
        ),
    ],
)
def test_no_plan_names_the_rules_that_conflict(
    overrides: dict[str, Any], expected: set[str]
) -> None:
    solution = solve(parse_plan(plan_of(**overrides)), time_limit=10, workers=1)
    assert solution.status == "infeasible"
    assert solution.assignment == {}
    (conflict,) = solution.conflicts
    assert expected <= set(conflict.rules)
    assert len(conflict.messages) == len(conflict.rules)
    # Sentences, not codes.
    assert all(message.endswith(".") and " " in message for message in conflict.messages)


def test_the_explanation_is_small_and_in_words() -> None:
    plan = plan_of(
        sites=[
            {"id": "er", "name": "Emergency", "capacity": 3},
            {"id": "icu", "name": "ICU", "capacity": 1, "min_staff": 1},
        ],
        participants=[
            {"id": "ana", "name": "Ana", "must_not_visit": ["icu"]},
            {"id": "bo", "name": "Bo", "must_not_visit": ["icu"]},
        ],
    )
    (conflict,) = solve(parse_plan(plan), time_limit=10, workers=1).conflicts
    assert set(conflict.rules) == {
        "min_staff:icu",
        "must_not_visit:ana:icu",
        "must_not_visit:bo:icu",
    }
    assert "ICU needs at least 1 visitor(s) when open." in conflict.messages
    assert "Ana must not go to ICU." in conflict.messages


def test_a_hand_edited_cell_is_told_which_rules_it_breaks() -> None:
    plan = parse_plan(
        plan_of(
            sites=[{"id": "er", "capacity": 1}, {"id": "icu", "capacity": 2, "languages": ["en"]}],
            participants=[{"id": "ana", "languages": ["es"]}, {"id": "bo"}],
            rules={"min_sites": 1, "max_stay": 2},
        )
    )
    edited = {
        "ana": {"W1": "er", "W2": "er", "W3": "icu", "W4": "er"},
        "bo": {"W1": "icu", "W2": "icu", "W3": "icu", "W4": "er"},
    }
    rules = {(v.rule, v.participant or v.site, v.period) for v in violations(plan, edited)}
    assert ("language", "ana", "W3") in rules
    assert ("capacity", "er", "W4") in rules  # ana and bo, one place
    assert ("stay", "bo", "W1") in rules  # three weeks at icu from W1, two at most
    assert all(rule != "presence" for rule, _who, _when in rules)


def test_greedy_keeps_capacity_but_scores_no_better_than_the_solver() -> None:
    plan = plan_of(
        participants=[{"id": f"p{k}", "preferences": ["er", "icu"]} for k in range(5)],
        rules={"min_sites": 2, "max_stay": 2},
    )
    parsed = parse_plan(plan)
    assignment, score = greedy(parsed)
    best = solve(parsed, time_limit=10, workers=1)
    assert best.score is not None
    assert not [p for p in problems(plan, assignment) if "over capacity" in p]
    assert (score.preferences + score.diversity, -score.imbalance) <= (
        best.score.preferences + best.score.diversity,
        -best.score.imbalance,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"sites": [{"id": "er", "capacity": -1}]},
            "sites[0].capacity: must be a non-negative integer",
        ),
        (
            {"participants": [{"id": "ana", "preferences": ["nowhere"]}]},
            "participants[0].preferences[0]: unknown site 'nowhere'",
        ),
        (
            {
                "horizon": None,
                "periods": [
                    {"id": "a", "start": "2027-03-01", "end": "2027-03-07"},
                    {"id": "b", "start": "2027-03-05", "end": "2027-03-11"},
                ],
            },
            "periods[1].start: overlaps periods[0] (periods must not overlap)",
        ),
        (
            {"sites": [{"id": "er", "capacity": 1, "min_staff": 2}]},
            "sites[0].min_staff: needs 2 but the capacity is 1 in period 'W1'",
        ),
        ({"rules": {"min_stay": 3, "max_stay": 2}}, "rules.max_stay: is below rules.min_stay (3)"),
        (
            {"rules": {"min_sites": 4}},
            "participants[0]: must visit 4 sites but only 3 are open to them",
        ),
        (
            {"rules": {"min_sites": 3, "min_stay": 2}},
            "participants[0]: is there 4 period(s): too short to visit 3 site(s) for at least "
            "2 period(s) each",
        ),
        (
            {"rules": {"together": [["ana", "zed"]]}},
            "rules.together[0][1]: unknown participant 'zed'",
        ),
        ({"pinned": {"ana": {"W9": "er"}}}, "pinned.ana.W9: unknown period"),
        ({"unit": "month"}, "unit: must be 'week' or 'day'"),
    ],
)
def test_bad_plans_are_refused_with_the_path_of_the_problem(
    change: dict[str, Any], message: str
) -> None:
    plan = plan_of(**change)
    if plan.get("horizon") is None:
        plan.pop("horizon")
    with pytest.raises(PlanError) as caught:
        parse_plan(plan)
    assert str(caught.value) == message
