"""Hand-made cases whose answers are known: textbook, reserves, quotas, couples."""

from __future__ import annotations

from typing import Any

from medexchange.engines.matching import parse_instance, result_to_json, solve

from .matching_support import blocking_pairs, feasibility_problems, is_stable


def run(inst: dict[str, Any]) -> dict[str, Any]:
    return result_to_json(solve(parse_instance(inst)), timing=False)


def app(ident: str, *ranks: str, groups: tuple[str, ...] = ()) -> dict[str, Any]:
    data: dict[str, Any] = {"id": ident, "ranks": list(ranks)}
    if groups:
        data["groups"] = list(groups)
    return data


def prog(ident: str, capacity: int, *ranks: str, **reserved: int) -> dict[str, Any]:
    data: dict[str, Any] = {"id": ident, "capacity": capacity, "ranks": list(ranks)}
    if reserved:
        data["reserved"] = reserved
    return data


def test_gale_shapley_rejection_chain() -> None:
    inst = {
        "applicants": [app("a", "x", "y", "z"), app("b", "y", "x", "z"), app("c", "x", "z", "y")],
        "programs": [
            prog("x", 1, "b", "c", "a"),
            prog("y", 1, "a", "b", "c"),
            prog("z", 1, "c", "a", "b"),
        ],
    }
    out = run(inst)
    assert out["matching"] == {"a": "y", "b": "x", "c": "z"}
    assert out["stable"] is True
    assert out["instability"] == []
    assert out["unfilled"] == {}
    assert is_stable(inst, out["matching"])
    assert out["stats"]["proposals"] == 6


def test_many_to_one_with_capacities_and_explanations() -> None:
    inst = {
        "applicants": [
            app("r1", "h1", "h2"),
            app("r2", "h2", "h1"),
            app("r3", "h1", "h2"),
            app("r4", "h1"),
        ],
        "programs": [prog("h1", 2, "r2", "r4", "r1", "r3"), prog("h2", 1, "r1", "r3", "r2")],
    }
    out = run(inst)
    assert out["matching"] == {"r1": "h2", "r2": "h1", "r3": None, "r4": "h1"}
    expl = out["explanations"]
    assert expl["applicants"]["r3"] == {
        "obtained": None,
        "rank": None,
        "lost": [
            {"program": "h1", "reason": "full", "your_rank": 4, "last_admitted_rank": 2},
            {"program": "h2", "reason": "full", "your_rank": 2, "last_admitted_rank": 1},
        ],
    }
    assert expl["applicants"]["r1"]["rank"] == 2
    assert expl["applicants"]["r1"]["lost"] == [
        {"program": "h1", "reason": "full", "your_rank": 3, "last_admitted_rank": 2}
    ]
    assert expl["programs"] == {
        "h1": {"capacity": 2, "filled": 2, "last_admitted_rank": 2, "admitted": ["r2", "r4"]},
        "h2": {"capacity": 1, "filled": 1, "last_admitted_rank": 1, "admitted": ["r1"]},
    }
    assert expl["quotas"] == {}
    # Who beat r3 at h1: the admitted applicants ranked above its rank 4.
    h1 = inst["programs"][0]["ranks"]
    beat = [a for a in expl["programs"]["h1"]["admitted"] if h1.index(a) + 1 < 4]
    assert beat == ["r2", "r4"]


def test_not_ranked_and_zero_capacity_and_format_example() -> None:
    inst = {
        "applicants": [app("a1", "p3", "p1", "p7"), app("a2", "p1")],
        "programs": [prog("p1", 4, "a2", "a1"), prog("p3", 0, "a1"), prog("p7", 2)],
    }
    out = run(inst)
    assert out["matching"] == {"a1": "p1", "a2": "p1"}
    assert out["unfilled"] == {"p1": 2, "p7": 2}
    assert out["explanations"]["applicants"]["a1"]["lost"] == [
        {"program": "p3", "reason": "full", "your_rank": 1, "last_admitted_rank": None}
    ]
    assert out["explanations"]["programs"]["p7"]["last_admitted_rank"] is None
    inst["programs"][1]["capacity"] = 1
    out = run(inst)
    assert out["matching"]["a1"] == "p3"
    only_p7 = {"applicants": [app("a", "p7")], "programs": [prog("p7", 2)]}
    lost = run(only_p7)["explanations"]["applicants"]["a"]["lost"]
    assert lost == [{"program": "p7", "reason": "not_ranked"}]


def test_reserved_seat_goes_to_group_member_ranked_lower() -> None:
    inst = {
        "applicants": [app("x", "p"), app("y", "p"), app("z", "p", groups=("em_priority",))],
        "programs": [prog("p", 2, "x", "y", "z", em_priority=1)],
    }
    out = run(inst)
    assert out["matching"] == {"x": "p", "y": None, "z": "p"}
    assert out["explanations"]["applicants"]["y"]["lost"] == [
        {"program": "p", "reason": "full", "your_rank": 2, "last_admitted_rank": 3, "reserved": 1}
    ]
    # x beat y; z (ranked below y) holds the seat reserved for its group.
    assert out["explanations"]["programs"]["p"]["admitted"] == ["x", "z"]
    assert is_stable(inst, out["matching"])


def test_unfilled_reserved_seats_revert_to_open() -> None:
    inst = {
        "applicants": [app("x", "p"), app("y", "p"), app("w", "p")],
        "programs": [prog("p", 2, "x", "y", "w", em_priority=2)],
    }
    assert run(inst)["matching"] == {"x": "p", "y": "p", "w": None}


def test_reserved_member_rejected_elsewhere_falls_back_to_open_competition() -> None:
    # Two group members, one reserved seat: the better-ranked member takes it, the
    # other competes for the open seat with everybody else.
    g = ("em_priority",)
    inst = {
        "applicants": [app("m1", "p", groups=g), app("m2", "p", groups=g), app("o", "p")],
        "programs": [prog("p", 2, "o", "m2", "m1", em_priority=1)],
    }
    assert run(inst)["matching"] == {"m1": None, "m2": "p", "o": "p"}


def quota(cap: int, programs: list[str], applicants: list[str]) -> dict[str, Any]:
    return {"id": "agreement-7", "capacity": cap, "programs": programs, "applicants": applicants}


def test_quota_keeps_its_priority_order() -> None:
    inst = {
        "applicants": [app("a1", "p1"), app("a2", "p2"), app("b", "p1")],
        "programs": [prog("p1", 2, "a1", "b"), prog("p2", 2, "a2")],
        "quotas": [quota(1, ["p1", "p2"], ["a2", "a1"])],
    }
    out = run(inst)
    assert out["matching"] == {"a1": None, "a2": "p2", "b": "p1"}
    assert out["stable"] is True
    assert out["explanations"]["applicants"]["a1"]["lost"] == [
        {
            "program": "p1",
            "reason": "quota",
            "quota": "agreement-7",
            "your_priority": 2,
            "ahead": 1,
        }
    ]
    assert out["explanations"]["quotas"] == {"agreement-7": {"capacity": 1, "placed": ["a2"]}}
    assert is_stable(inst, out["matching"])


def test_quota_bump_frees_a_seat_that_the_chase_refills() -> None:
    # a1 holds p1's only seat and b is turned away; then a2 (higher quota priority)
    # takes the agreement's only place at p2, bumping a1. The freed seat goes to b.
    inst = {
        "applicants": [app("a1", "p1"), app("b", "p1"), app("a2", "p2")],
        "programs": [prog("p1", 1, "a1", "b"), prog("p2", 1, "a2")],
        "quotas": [quota(1, ["p1", "p2"], ["a2", "a1"])],
    }
    out = run(inst)
    assert out["matching"] == {"a1": None, "b": "p1", "a2": "p2"}
    assert out["stable"] is True
    assert out["stats"]["chases"] == 1
    assert is_stable(inst, out["matching"])


def test_quota_of_zero_closes_the_programs_to_its_applicants_only() -> None:
    inst = {
        "applicants": [app("a1", "p1", "p2"), app("b", "p1")],
        "programs": [prog("p1", 2, "a1", "b"), prog("p2", 1, "a1")],
        "quotas": [quota(0, ["p1"], ["a1"])],
    }
    assert run(inst)["matching"] == {"a1": "p2", "b": "p1"}


def couple(m1: str, m2: str, *options: tuple[str | None, str | None]) -> dict[str, Any]:
    return {"members": [m1, m2], "ranks": [list(o) for o in options]}


def test_couple_placed_together() -> None:
    inst = {
        "applicants": [app("s", "p1"), app("c1"), app("c2")],
        "programs": [prog("p1", 1, "s", "c1"), prog("p2", 1, "c2"), prog("p3", 2, "c1", "c2")],
        "couples": [couple("c1", "c2", ("p1", "p2"), ("p3", "p3"))],
    }
    out = run(inst)
    assert out["matching"] == {"s": "p1", "c1": "p3", "c2": "p3"}
    assert out["stable"] is True
    assert is_stable(inst, out["matching"])
    lost = out["explanations"]["applicants"]["c2"]["lost"]
    assert lost == [
        {
            "option": ["p1", "p2"],
            "programs": [
                {"program": "p1", "reason": "full", "your_rank": 2, "last_admitted_rank": 1},
                {"program": "p2", "reason": "admits"},
            ],
        }
    ]
    assert out["explanations"]["applicants"]["c1"]["rank"] == 2


def test_couple_displaces_a_single_who_moves_on() -> None:
    inst = {
        "applicants": [app("s", "p1", "p2"), app("c1"), app("c2")],
        "programs": [prog("p1", 1, "c1", "s"), prog("p2", 1, "s"), prog("p3", 1, "c2")],
        "couples": [couple("c1", "c2", ("p1", "p3"), ("p1", None))],
    }
    out = run(inst)
    assert out["matching"] == {"s": "p2", "c1": "p1", "c2": "p3"}
    assert is_stable(inst, out["matching"])


def test_couple_with_one_member_unmatched_option() -> None:
    inst = {
        "applicants": [app("c1"), app("c2")],
        "programs": [prog("p1", 1, "c1"), prog("p2", 1)],
        "couples": [couple("c1", "c2", ("p1", "p2"), ("p1", None))],
    }
    out = run(inst)
    assert out["matching"] == {"c1": "p1", "c2": None}
    assert out["stable"] is True


def test_no_stable_matching_with_a_couple_terminates_and_says_so() -> None:
    # Every matching is blocked: the couple wants (p1, p2); p1 prefers c1 to s but
    # p2 prefers s to c2, and s prefers p1 to p2.
    inst = {
        "applicants": [app("s", "p1", "p2"), app("c1"), app("c2")],
        "programs": [prog("p1", 1, "c1", "s"), prog("p2", 1, "s", "c2")],
        "couples": [couple("c1", "c2", ("p1", "p2"))],
    }
    from .matching_support import all_stable_matchings

    assert all_stable_matchings(inst) == []
    out = run(inst)
    assert out["stable"] is False
    assert feasibility_problems(inst, out["matching"]) == []
    found = blocking_pairs(inst, out["matching"])
    assert found
    assert [(tuple(b["applicants"]), tuple(b["programs"])) for b in out["instability"]] == found


def test_the_documented_result_example() -> None:
    # docs/matching-engine.md, "Result extensions".
    inst = {
        "applicants": [app("a1", "p3", "p1"), app("a2", "p3", "p1"), app("a3", "p3", "p1")],
        "programs": [prog("p1", 4, "a2", "a1"), prog("p3", 1, "a1", "a2", "a3")],
    }
    out = run(inst)
    assert out["matching"] == {"a1": "p3", "a2": "p1", "a3": None}
    assert out["unfilled"] == {"p1": 3}
    assert out["stats"] == {"applicants": 3, "matched": 2, "proposals": 4, "chases": 0}
    assert out["explanations"] == {
        "applicants": {
            "a1": {"obtained": "p3", "rank": 1, "lost": []},
            "a2": {
                "obtained": "p1",
                "rank": 2,
                "lost": [
                    {"program": "p3", "reason": "full", "your_rank": 2, "last_admitted_rank": 1}
                ],
            },
            "a3": {
                "obtained": None,
                "rank": None,
                "lost": [
                    {"program": "p3", "reason": "full", "your_rank": 3, "last_admitted_rank": 1},
                    {"program": "p1", "reason": "not_ranked"},
                ],
            },
        },
        "programs": {
            "p1": {"capacity": 4, "filled": 1, "last_admitted_rank": 1, "admitted": ["a2"]},
            "p3": {"capacity": 1, "filled": 1, "last_admitted_rank": 1, "admitted": ["a1"]},
        },
        "quotas": {},
    }
