"""Properties checked by the independent checker, a brute force and the `matching` package."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medexchange.engines.matching import parse_instance, result_to_json, solve

from .matching_support import (
    all_stable_matchings,
    blocking_pairs,
    feasibility_problems,
    position,
)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def instances(
    draw: st.DrawFn,
    *,
    max_applicants: int = 5,
    max_programs: int = 3,
    reserves: bool = False,
    quotas: bool = False,
    couples: bool = False,
) -> dict[str, Any]:
    n = draw(st.integers(1, max_applicants))
    m = draw(st.integers(1, max_programs))
    aids = [f"a{i}" for i in range(n)]
    pids = [f"p{j}" for j in range(m)]
    applicants = []
    for a in aids:
        ranks = draw(st.permutations(pids))[: draw(st.integers(0, m))]
        entry: dict[str, Any] = {"id": a, "ranks": ranks}
        if reserves and draw(st.booleans()):
            entry["groups"] = ["g"]
        applicants.append(entry)
    programs = []
    for p in pids:
        cap = draw(st.integers(0, 2))
        ranks = draw(st.permutations(aids))[: draw(st.integers(0, n))]
        entry = {"id": p, "capacity": cap, "ranks": ranks}
        if reserves and cap and draw(st.booleans()):
            entry["reserved"] = {"g": draw(st.integers(1, cap))}
        programs.append(entry)
    inst: dict[str, Any] = {"applicants": applicants, "programs": programs}
    if quotas:
        inst["quotas"] = [
            {
                "id": f"q{k}",
                "capacity": draw(st.integers(0, 2)),
                "programs": draw(st.permutations(pids))[: draw(st.integers(1, m))],
                "applicants": draw(st.permutations(aids))[: draw(st.integers(1, n))],
            }
            for k in range(draw(st.integers(1, 2)))
        ]
    if couples and n >= 2:
        options = [(x, y) for x in [*pids, None] for y in [*pids, None] if (x, y) != (None, None)]
        chosen = draw(st.permutations(options))[: draw(st.integers(0, 4))]
        inst["couples"] = [{"members": [aids[0], aids[1]], "ranks": [list(o) for o in chosen]}]
    return inst


def engine(inst: dict[str, Any]) -> dict[str, Any]:
    return result_to_json(solve(parse_instance(inst)), timing=False)


def assert_applicant_optimal(inst: dict[str, Any], mu: dict[str, str | None]) -> None:
    stable = all_stable_matchings(inst)
    assert mu in stable
    for other in stable:
        for a in mu:
            assert position(inst, a, mu[a]) <= position(inst, a, other[a])


@FAST
@given(instances())
def test_capacities_only_gives_the_applicant_optimal_stable_matching(inst: dict[str, Any]) -> None:
    out = engine(inst)
    assert out["stable"] is True
    assert feasibility_problems(inst, out["matching"]) == []
    assert blocking_pairs(inst, out["matching"]) == []
    assert_applicant_optimal(inst, out["matching"])


@FAST
@given(instances(reserves=True))
def test_reserves_give_the_applicant_optimal_stable_matching(inst: dict[str, Any]) -> None:
    out = engine(inst)
    assert out["stable"] is True
    assert_applicant_optimal(inst, out["matching"])


@FAST
@given(instances(quotas=True, reserves=True))
def test_quotas_respected_and_the_stable_flag_is_honest(inst: dict[str, Any]) -> None:
    out = engine(inst)
    mu = out["matching"]
    assert feasibility_problems(inst, mu) == []
    found = blocking_pairs(inst, mu)
    assert out["stable"] is (not found)
    assert [(tuple(b["applicants"]), tuple(b["programs"])) for b in out["instability"]] == found


@FAST
@given(instances(couples=True, quotas=False))
def test_couples_placed_together_and_the_stable_flag_is_honest(inst: dict[str, Any]) -> None:
    out = engine(inst)
    mu = out["matching"]
    assert feasibility_problems(inst, mu) == []
    found = blocking_pairs(inst, mu)
    assert out["stable"] is (not found)
    assert [(tuple(b["applicants"]), tuple(b["programs"])) for b in out["instability"]] == found


@FAST
@given(instances(max_applicants=8, max_programs=4, reserves=True, quotas=True, couples=True))
def test_same_instance_same_bytes(inst: dict[str, Any]) -> None:
    first = json.dumps(engine(inst))
    shuffled_keys = json.loads(json.dumps(inst, sort_keys=True))
    assert json.dumps(engine(shuffled_keys)) == first


def random_instance(seed: int, n: int, m: int) -> dict[str, Any]:
    rng = random.Random(seed)  # noqa: S311 - seeded test data, not security
    aids = [f"a{i}" for i in range(n)]
    pids = [f"p{j}" for j in range(m)]
    applicants = [{"id": a, "ranks": rng.sample(pids, rng.randint(0, m))} for a in aids]
    programs = [
        {"id": p, "capacity": rng.randint(0, 4), "ranks": rng.sample(aids, rng.randint(0, n))}
        for p in pids
    ]
    return {"applicants": applicants, "programs": programs}


def matching_package(inst: dict[str, Any]) -> dict[str, str | None]:
    from matching.games import HospitalResident

    ranks = {p["id"]: p["ranks"] for p in inst["programs"]}
    caps = {p["id"]: p["capacity"] for p in inst["programs"]}
    residents = {
        a["id"]: [p for p in a["ranks"] if a["id"] in ranks[p] and caps[p] > 0]
        for a in inst["applicants"]
    }
    residents = {a: r for a, r in residents.items() if r}
    hospitals = {
        p: [a for a in r if a in residents and p in residents[a]] for p, r in ranks.items()
    }
    hospitals = {p: r for p, r in hospitals.items() if r}
    mu: dict[str, str | None] = {a["id"]: None for a in inst["applicants"]}
    if not residents:
        return mu
    game = HospitalResident.create_from_dictionaries(
        residents, hospitals, {p: caps[p] for p in hospitals}
    )
    for hospital, matched in game.solve(optimal="resident").items():
        for resident in matched:
            mu[resident.name] = hospital.name
    return mu


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**9), st.integers(1, 30), st.integers(1, 8))
def test_agrees_with_the_matching_package(seed: int, n: int, m: int) -> None:
    inst = random_instance(seed, n, m)
    assert engine(inst)["matching"] == matching_package(inst)


@pytest.mark.parametrize("seed", range(3))
def test_agrees_with_the_matching_package_on_a_larger_instance(seed: int) -> None:
    inst = random_instance(seed, 400, 40)
    assert engine(inst)["matching"] == matching_package(inst)


def _beaten_by_brute_force(
    inst: dict[str, Any], mu: dict[str, str | None], a: str, p: str
) -> tuple[list[str], list[str]]:
    """From the instance and matching alone: the applicants placed in ``p`` whom ``p``
    ranks above ``a`` (in ``p``'s order), and those it ranks below ``a``."""
    ranks = next(x["ranks"] for x in inst["programs"] if x["id"] == p)
    mine = ranks.index(a)
    placed = [b for b in ranks if mu[b] == p]
    return [b for b in placed if ranks.index(b) < mine], [
        b for b in placed if ranks.index(b) > mine
    ]


@FAST
@given(instances(max_applicants=7, max_programs=4, reserves=True))
def test_compact_full_loss_recovers_exactly_who_beat_the_applicant(inst: dict[str, Any]) -> None:
    out = engine(inst)
    mu = out["matching"]
    expl = out["explanations"]
    programs = {p["id"]: p for p in inst["programs"]}
    for applicant in inst["applicants"]:
        a = applicant["id"]
        e = expl["applicants"][a]
        ranked_above = applicant["ranks"][: position(inst, a, mu[a])]
        assert [x["program"] for x in e["lost"]] == ranked_above
        for loss in e["lost"]:
            if loss["reason"] != "full":
                continue
            p = loss["program"]
            section = expl["programs"][p]
            ranks = programs[p]["ranks"]
            assert loss["your_rank"] == ranks.index(a) + 1
            assert section["admitted"] == [b for b in ranks if mu[b] == p]
            assert section["filled"] == len(section["admitted"]) == programs[p]["capacity"]
            assert loss["last_admitted_rank"] == section["last_admitted_rank"]
            beat, below = _beaten_by_brute_force(inst, mu, a, p)
            # From the result alone: the first filled - reserved admitted applicants.
            admitted = section["admitted"]
            assert admitted[: len(admitted) - loss.get("reserved", 0)] == beat
            assert admitted[len(admitted) - loss.get("reserved", 0) :] == below
            # The documented reading with the instance: admitted ranked above your_rank.
            assert [b for b in admitted if ranks.index(b) + 1 < loss["your_rank"]] == beat
            if "reserved" not in loss:
                assert below == []
                assert loss["last_admitted_rank"] is None or (
                    loss["last_admitted_rank"] < loss["your_rank"]
                )


def test_compact_full_loss_on_a_larger_instance() -> None:
    inst = random_instance(7, 300, 30)
    out = engine(inst)
    mu = out["matching"]
    checked = 0
    for applicant in inst["applicants"]:
        for loss in out["explanations"]["applicants"][applicant["id"]]["lost"]:
            if loss["reason"] == "full":
                admitted = out["explanations"]["programs"][loss["program"]]["admitted"]
                beat, below = _beaten_by_brute_force(inst, mu, applicant["id"], loss["program"])
                assert admitted == beat
                assert below == []
                checked += 1
    assert checked > 100


@FAST
@given(instances(max_applicants=6, max_programs=3, quotas=True))
def test_compact_quota_loss_recovers_the_members_ahead(inst: dict[str, Any]) -> None:
    out = engine(inst)
    mu = out["matching"]
    quotas = {q["id"]: q for q in inst["quotas"]}
    for applicant in inst["applicants"]:
        for loss in out["explanations"]["applicants"][applicant["id"]]["lost"]:
            if loss["reason"] != "quota":
                continue
            quota = quotas[loss["quota"]]
            order = quota["applicants"]
            mine = order.index(applicant["id"])
            assert loss["your_priority"] == mine + 1
            placed = [x for x in order if mu[x] in quota["programs"]]
            assert out["explanations"]["quotas"][quota["id"]]["placed"] == placed
            assert placed[: loss["ahead"]] == [x for x in placed if order.index(x) < mine]


@FAST
@given(instances(max_applicants=8, max_programs=4, reserves=True, quotas=True, couples=True))
def test_the_command_line_path_gives_the_same_json(inst: dict[str, Any]) -> None:
    from medexchange.engines.matching import compile_instance
    from medexchange.engines.matching.explain import build_result, outcome_to_bytes
    from medexchange.engines.matching.parse import parse_indexed
    from medexchange.engines.matching.solve import solve_compiled

    compiled = compile_instance(parse_instance(inst))
    from_indices = compile_instance(*parse_indexed(inst))
    outcome = solve_compiled(compiled)
    for explain in (True, False):
        text = outcome_to_bytes(from_indices, solve_compiled(from_indices), explain=explain)
        assert isinstance(json.loads(text)["stats"]["seconds"], float)
        result = result_to_json(build_result(compiled, outcome, explain=explain))
        del result["stats"]["seconds"]
        # Byte for byte what json.dumps writes for the result (timing aside).
        written = json.loads(text)
        del written["stats"]["seconds"]
        assert written == result
        expected = json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode()
        assert outcome_to_bytes(from_indices, outcome, explain=explain, timing=False) == expected


def test_the_text_path_escapes_ids_as_json_does() -> None:
    from medexchange.engines.matching import compile_instance
    from medexchange.engines.matching import explain as explain_module
    from medexchange.engines.matching.explain import outcome_to_bytes
    from medexchange.engines.matching.solve import solve_compiled

    odd = ['é"x', "back\\slash", "new\nline", "tab\tand\u2028", "\x01ctl", "日本"]
    inst = {
        "applicants": [{"id": a, "ranks": ['p"1', "ü/2"]} for a in odd],
        "programs": [
            {"id": 'p"1', "capacity": 2, "ranks": odd[::-1]},
            {"id": "ü/2", "capacity": 1, "ranks": odd[:3]},
        ],
    }
    compiled = compile_instance(parse_instance(inst))
    outcome = solve_compiled(compiled)
    data = result_to_json(solve(parse_instance(inst)), timing=False)
    expected = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    assert outcome_to_bytes(compiled, outcome, timing=False) == expected
    # orjson, when installed, writes exactly what the stdlib fallback writes.
    assert explain_module._dumps(data) == explain_module._stdlib_dumps(data) == expected
