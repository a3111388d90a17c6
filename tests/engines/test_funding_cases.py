"""Hand-made allocations whose right answer is known, and what the committee is told."""

from __future__ import annotations

from typing import Any

import pytest

from medexchange.engines.funding import InstanceError, allocate

from .funding_support import brute_force, problems, value_of


def instance(
    funds: dict[str, str], requests: list[dict[str, Any]], **options: Any
) -> dict[str, Any]:
    return {
        "currency": "EUR",
        "minor_digits": 2,
        "funds": [{"id": f, "available": a} for f, a in funds.items()],
        "requests": requests,
        "options": {"time_limit": 5, **options},
    }


def req(rid: str, priority: float, amount: str, funds: list[str], **extra: Any) -> dict[str, Any]:
    return {"id": rid, "priority": priority, "amount": amount, "funds": funds, **extra}


def run(data: dict[str, Any]) -> dict[str, Any]:
    result = allocate(data)
    assert problems(data, result) == []
    return result


def awarded(result: dict[str, Any]) -> dict[str, str]:
    return {a["request"]: a["amount"] for a in result["awards"]}


def reason(result: dict[str, Any], rid: str) -> tuple[str, dict[str, Any]]:
    e = result["explanations"][rid]
    return e["reason_code"], e["params"]


def test_the_best_total_priority_beats_funding_the_top_score_first() -> None:
    # Greedy by priority funds a (10) and then nothing fits; b + c give 17.
    data = instance(
        {"f": "100.00"},
        [
            req("a", 10, "60.00", ["f"]),
            req("b", 9, "50.00", ["f"]),
            req("c", 8, "50.00", ["f"]),
        ],
    )
    result = run(data)
    assert result["status"] == "optimal"
    assert awarded(result) == {"b": "50.00", "c": "50.00"}
    assert result["objective"] == 17
    assert result["bound"] == 17
    code, params = reason(result, "a")
    assert code == "outranked"
    assert params["rank"] == 1
    assert params["left"] == "0.00"
    # Funding a leaves room for nothing else: 10 instead of 17.
    assert params["cost"] == 7
    assert params["cost_kind"] == "exact"
    assert params["displaced"] == 2
    # Per euro: b 0.18 is above a's 0.167, c 0.16 below it (and still funded).
    assert (params["funded_higher_ratio"], params["funded_lower_ratio"]) == (1, 1)
    assert reason(result, "b") == (
        "funded",
        {"priority": 9, "rank": 2, "amount": "50.00", "requested": "50.00", "funds": ["f"]},
    )


def test_one_award_may_draw_on_two_funds_only_when_splitting_is_allowed() -> None:
    requests = [req("r", 5, "80.00", ["f1", "f2"])]
    funds = {"f1": "50.00", "f2": "50.00"}
    split = run(instance(funds, requests))
    assert awarded(split) == {"r": "80.00"}
    shares = {s["fund"]: s["amount"] for s in split["awards"][0]["shares"]}
    assert shares == {"f1": "50.00", "f2": "30.00"}

    single = run(instance(funds, requests, allow_split=False))
    assert awarded(single) == {}
    code, params = reason(single, "r")
    assert code == "not_eligible_for_any_fund_with_money"
    assert params["available"] == "50.00"
    assert params["needed"] == "80.00"
    assert params["split"] is False


def test_without_splitting_awards_are_packed_into_funds() -> None:
    # 60 + 40 into f1 (100) and 70 into f2 (70): all three fit, but only one way.
    data = instance(
        {"f1": "100.00", "f2": "70.00"},
        [
            req("a", 5, "60.00", ["f1", "f2"]),
            req("b", 5, "40.00", ["f1", "f2"]),
            req("c", 5, "70.00", ["f1", "f2"]),
        ],
        allow_split=False,
    )
    result = run(data)
    assert result["status"] == "optimal"
    assert set(awarded(result)) == {"a", "b", "c"}
    fund_of = {a["request"]: a["shares"][0]["fund"] for a in result["awards"]}
    assert fund_of == {"a": "f1", "b": "f1", "c": "f2"}


def test_shares_are_rerouted_so_that_a_restricted_request_gets_its_fund() -> None:
    # a may use either fund, b only f1: a must draw on f2 for both to be funded.
    data = instance(
        {"f1": "60.00", "f2": "60.00"},
        [req("a", 10, "60.00", ["f1", "f2"]), req("b", 9, "60.00", ["f1"])],
    )
    result = run(data)
    shares = {
        a["request"]: [(s["fund"], s["amount"]) for s in a["shares"]] for a in result["awards"]
    }
    assert shares == {"a": [("f2", "60.00")], "b": [("f1", "60.00")]}


def test_staff_pins_are_kept_even_against_the_priorities() -> None:
    data = instance(
        {"f": "100.00"},
        [
            req("top", 9, "100.00", ["f"], pinned="no_award"),
            req("low", 1, "60.00", ["f"], pinned="award"),
            req("mid", 5, "50.00", ["f"]),
            req("small", 2, "40.00", ["f"]),
        ],
    )
    result = run(data)
    assert awarded(result) == {"low": "60.00", "small": "40.00"}
    assert reason(result, "top")[0] == "pinned_by_staff"
    assert reason(result, "top")[1]["pin"] == "no_award"
    assert reason(result, "low")[0] == "pinned_by_staff"
    assert reason(result, "low")[1]["pin"] == "award"
    # The pinned award leaves 40 of the 100: too little for mid's 50.
    code, params = reason(result, "mid")
    assert code == "eligible_funds_used_by_pinned_awards"
    assert params["left_after_pins"] == "40.00"


def test_pins_that_overrun_a_fund_are_named_not_just_infeasible() -> None:
    data = instance(
        {"f": "100.00", "g": "500.00"},
        [
            req("a", 5, "60.00", ["f"], pinned="award"),
            req("b", 5, "50.00", ["f"], pinned="award"),
            req("c", 5, "10.00", ["g"]),
        ],
    )
    result = run(data)
    assert result["status"] == "infeasible"
    assert result["awards"] == []
    assert result["conflicts"] == [
        {
            "code": "pinned_awards_overrun_funds",
            "params": {
                "funds": ["f"],
                "available": "100.00",
                "needed": "110.00",
                "requests": ["a", "b"],
            },
        }
    ]
    assert reason(result, "a") == (
        "pinned_by_staff",
        {"priority": 5, "rank": 1, "pin": "award", "in_conflict": True},
    )
    assert reason(result, "c")[0] == "not_allocated_pins_conflict"


def test_pins_that_fit_only_when_split_are_named_without_splitting() -> None:
    data = instance(
        {"f": "100.00", "g": "100.00"},
        [
            req("a", 5, "60.00", ["f", "g"], pinned="award"),
            req("b", 5, "60.00", ["f", "g"], pinned="award"),
            req("c", 5, "60.00", ["f", "g"], pinned="award"),
        ],
        allow_split=False,
    )
    result = run(data)
    assert result["status"] == "infeasible"
    (conflict,) = result["conflicts"]
    assert conflict["code"] == "pinned_awards_do_not_fit_single_funds"
    assert conflict["params"]["requests"] == ["a", "b", "c"]
    assert conflict["params"]["available"] == "200.00"
    assert conflict["params"]["needed"] == "180.00"


def test_a_request_eligible_for_no_fund_is_told_so() -> None:
    data = instance({"f": "100.00"}, [req("lost", 9, "10.00", []), req("ok", 1, "10.00", ["f"])])
    result = run(data)
    assert awarded(result) == {"ok": "10.00"}
    assert reason(result, "lost") == ("no_eligible_fund", {"priority": 9, "rank": 1})


def test_money_taken_by_pins_is_the_reason_when_nothing_is_left() -> None:
    data = instance(
        {"f": "100.00"},
        [req("p", 1, "90.00", ["f"], pinned="award"), req("r", 9, "20.00", ["f"])],
    )
    result = run(data)
    code, params = reason(result, "r")
    assert code == "eligible_funds_used_by_pinned_awards"
    assert params["left_after_pins"] == "10.00"
    assert params["needed"] == "20.00"


def test_a_minimum_amount_lets_more_requests_share_the_money() -> None:
    data = instance(
        {"f": "100.00"},
        [
            req("a", 10, "70.00", ["f"], min_amount="50.00"),
            req("b", 9, "50.00", ["f"]),
        ],
    )
    result = run(data)
    assert awarded(result) == {"a": "50.00", "b": "50.00"}
    code, params = reason(result, "a")
    assert code == "funded_reduced"
    assert params["shortfall"] == "20.00"
    assert params["min_amount"] == "50.00"


def test_full_amounts_are_preferred_when_the_priority_is_the_same() -> None:
    # Either a (flexible) or b fits next to c; both give priority 9 + 5, but with a the
    # award would be cut by 30, with b nobody is cut.
    data = instance(
        {"f": "100.00"},
        [
            req("a", 5, "80.00", ["f"], min_amount="50.00"),
            req("b", 5, "50.00", ["f"]),
            req("c", 9, "50.00", ["f"]),
        ],
    )
    result = run(data)
    assert awarded(result) == {"b": "50.00", "c": "50.00"}
    assert result["stats"]["shortfall"] == "0.00"


def test_more_requests_funded_breaks_a_tie_in_priority() -> None:
    data = instance(
        {"f": "100.00"},
        [
            req("big", 10, "100.00", ["f"]),
            req("x", 5, "50.00", ["f"]),
            req("y", 5, "50.00", ["f"]),
        ],
    )
    result = run(data)
    assert set(awarded(result)) == {"x", "y"}


def test_equal_requests_are_decided_by_id_the_same_way_every_time() -> None:
    data = instance(
        {"f": "50.00"},
        [req(rid, 5, "50.00", ["f"]) for rid in ("r3", "r1", "r2")],
    )
    first = run(data)
    assert awarded(first) == {"r1": "50.00"}
    for _ in range(3):
        assert allocate(data)["awards"] == first["awards"]


def test_zero_decimal_currencies_count_in_whole_units() -> None:
    data = {
        "currency": "JPY",
        "minor_digits": 0,
        "funds": [{"id": "f", "available": "150000"}],
        "requests": [req("a", 3, "100000", ["f"]), req("b", 2, "60000", ["f"])],
    }
    result = run(data)
    assert awarded(result) == {"a": "100000"}
    assert result["fund_use"] == [
        {"fund": "f", "available": "150000", "used": "100000", "left": "50000"}
    ]
    with pytest.raises(InstanceError, match=r"requests\[0\]\.amount: has more than 0 decimals"):
        allocate({**data, "requests": [req("a", 3, "1.5", ["f"])]})


def test_empty_calls_and_empty_funds_are_not_errors() -> None:
    assert run(instance({}, []))["status"] == "optimal"
    result = run(instance({"f": "0.00"}, [req("a", 1, "10.00", ["f"])]))
    assert result["status"] == "optimal"
    assert reason(result, "a")[0] == "not_eligible_for_any_fund_with_money"


def test_mixed_eligibility_matches_the_brute_force() -> None:
    data = instance(
        {"gen": "120.00", "em": "80.00", "res": "45.50"},
        [
            req("a", 87.5, "60.00", ["gen", "em"]),
            req("b", 80, "45.50", ["res"]),
            req("c", 80, "70.00", ["em"], min_amount="40.00"),
            req("d", 66.67, "50.25", ["gen", "res"]),
            req("e", 66.67, "30.00", ["gen"]),
            req("f", 50, "90.00", ["gen", "em", "res"]),
            req("g", 12.5, "10.00", ["em"], pinned="award"),
        ],
    )
    for split in (True, False):
        data["options"]["allow_split"] = split
        result = run(data)
        best = brute_force(data)
        assert best is not None
        assert result["status"] == "optimal"
        assert value_of(data, result) == best[0]
        assert set(awarded(result)) == best[1]


def test_a_pinned_award_that_no_fund_can_hold_is_a_named_conflict() -> None:
    data = instance(
        {"f": "100.00", "g": "100.00"},
        [
            req("big", 5, "150.00", ["f", "g"], pinned="award"),
            req("lost", 5, "10.00", [], pinned="award"),
        ],
        allow_split=False,
    )
    result = run(data)
    assert result["status"] == "infeasible"
    assert {c["code"] for c in result["conflicts"]} == {
        "pinned_award_exceeds_eligible_funds",
        "pinned_award_without_eligible_fund",
    }
    (exceeds,) = [c for c in result["conflicts"] if c["code"].endswith("eligible_funds")]
    assert exceeds["params"] == {
        "request": "big",
        "funds": ["f", "g"],
        "needed": "150.00",
        "available": "100.00",
        "split": False,
    }
    # With splitting the two funds together hold it.
    data["requests"].pop()
    data["options"]["allow_split"] = True
    assert awarded(run(data)) == {"big": "150.00"}


def test_the_time_limit_argument_and_malformed_options() -> None:
    data = instance({"f": "10.00"}, [req("a", 1, "10.00", ["f"])])
    assert allocate(data, time_limit=1)["status"] == "optimal"
    with pytest.raises(InstanceError, match=r"options\.time_limit"):
        allocate({**data, "options": {"time_limit": 0}})
    with pytest.raises(InstanceError, match="at most 8 funds"):
        allocate(instance({f"f{k}": "1.00" for k in range(9)}, []))
