"""Benchmark: the matching engine on an NRMP-sized instance.

Run: ``.venv/bin/python bench/bench_matching.py [--seed 1] [--applicants 45000]
[--programs 6000] [--places 40000] [--ranks 12] [--couples 1000] [--matching-full]``.

A seeded generator with popularity skew (Zipf-like program popularity, applicant
preferences correlated through it, program rankings correlated through an
applicant quality score) writes the instances to a temporary directory. The
script times, in this one process: loading (JSON parse, validation, compile),
the engine's solve after loading, the explanations, the whole command line as a
subprocess (JSON parsing and writing included), the PyPI ``matching`` package's
``HospitalResident`` solver on the same instance (on the full instance only with
``--matching-full``; otherwise on a 1/10 sample and the full figure is
extrapolated, see the printed note), the couples variant, and peak memory.
Goals: solve < 0.25 s; >= 30x faster than ``matching``; CLI < 1.5 s; with
couples CLI < 3 s; peak memory < 500 MB.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import itertools
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from medexchange.engines.matching import compile_instance
from medexchange.engines.matching.explain import outcome_to_bytes
from medexchange.engines.matching.parse import parse_indexed
from medexchange.engines.matching.solve import solve_compiled


def generate(
    *, seed: int, applicants: int, programs: int, places: int, ranks: int, couples: int
) -> dict[str, Any]:
    """A seeded instance with popularity skew; deterministic for given arguments."""
    rng = random.Random(seed)
    pids = [f"p{j}" for j in range(programs)]
    # Capacities: 1..15 with weights, scaled to the total number of places.
    raw = [rng.randint(1, 12) for _ in range(programs)]
    scale = places / sum(raw)
    caps = [max(1, round(x * scale)) for x in raw]
    diff = places - sum(caps)
    k = 0
    while diff:
        j = k % programs
        if diff > 0:
            caps[j] += 1
            diff -= 1
        elif caps[j] > 1:
            caps[j] -= 1
            diff += 1
        k += 1
    # Zipf-like popularity: program j has weight 1 / (position + 10) ** 0.9.
    order = list(range(programs))
    rng.shuffle(order)
    weight = [0.0] * programs
    for pos, j in enumerate(order):
        weight[j] = 1.0 / (pos + 10) ** 0.9
    cum = list(itertools.accumulate(weight))
    total = cum[-1]

    def pick(count: int) -> list[int]:
        chosen: dict[int, float] = {}
        while len(chosen) < count:
            j = bisect.bisect(cum, rng.random() * total)
            if j not in chosen:
                # Correlated preferences: popular programs tend to come first.
                chosen[j] = weight[j] * rng.lognormvariate(0.0, 0.6)
        return sorted(chosen, key=lambda x: -chosen[x])

    quality: dict[str, float] = {}
    applicant_rows: list[dict[str, Any]] = []
    applied: list[list[str]] = [[] for _ in range(programs)]
    for i in range(applicants):
        aid = f"a{i}"
        quality[aid] = rng.random()
        count = max(1, min(programs, round(rng.gauss(ranks, 3))))
        prefs = pick(count)
        for j in prefs:
            applied[j].append(aid)
        applicant_rows.append({"id": aid, "ranks": [pids[j] for j in prefs]})
    couple_rows: list[dict[str, Any]] = []
    for c in range(couples):
        m1, m2 = f"c{c}a", f"c{c}b"
        quality[m1], quality[m2] = rng.random(), rng.random()
        applicant_rows.append({"id": m1, "ranks": []})
        applicant_rows.append({"id": m2, "ranks": []})
        first, second = pick(5), pick(5)
        options = [(x, y) for x in first for y in second][: ranks + 3]
        options.append((first[0], -1))
        seen1, seen2 = set(), set()
        for x, y in options:
            if x not in seen1:
                seen1.add(x)
                applied[x].append(m1)
            if y >= 0 and y not in seen2:
                seen2.add(y)
                applied[y].append(m2)
        couple_rows.append(
            {
                "members": [m1, m2],
                "ranks": [[pids[x], pids[y] if y >= 0 else None] for x, y in options],
            }
        )
    program_rows = []
    for j in range(programs):
        # Programs rank 95% of their applicants, by quality with noise.
        ranked = [a for a in applied[j] if rng.random() < 0.95]
        noisy = {a: quality[a] + rng.gauss(0.0, 0.15) for a in ranked}
        ranked.sort(key=lambda a: -noisy[a])
        program_rows.append({"id": pids[j], "capacity": caps[j], "ranks": ranked})
    data: dict[str, Any] = {"applicants": applicant_rows, "programs": program_rows}
    if couple_rows:
        data["couples"] = couple_rows
    return data


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cli(path: Path, out: Path, *extra: str) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - runs this project's own engine
        [
            sys.executable,
            "-m",
            "medexchange.engines.matching",
            str(path),
            "--output",
            str(out),
            *extra,
        ],
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "src")},
    )
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    assert done.returncode == 0
    return elapsed, peak


def _matching_package(data: dict[str, Any]) -> tuple[float, dict[str, str | None]]:
    """Solve with the PyPI ``matching`` package (mutually acceptable lists only)."""
    import types

    from matching.games import HospitalResident, hospital_resident

    # Its constructor deep-copies the players recursively, which overflows the stack
    # at this size; the players are built fresh here, so skip the copy (not timed).
    hospital_resident.copy = types.SimpleNamespace(deepcopy=lambda x: x)

    prog_ranks = {p["id"]: p["ranks"] for p in data["programs"]}
    rank_sets = {p: set(r) for p, r in prog_ranks.items()}
    resident_prefs = {}
    for a in data["applicants"]:
        prefs = [p for p in a["ranks"] if a["id"] in rank_sets[p]]
        if prefs:
            resident_prefs[a["id"]] = prefs
    wanted: dict[str, set[str]] = {p: set() for p in prog_ranks}
    for a, prefs in resident_prefs.items():
        for p in prefs:
            wanted[p].add(a)
    caps = {p["id"]: p["capacity"] for p in data["programs"]}
    hospital_prefs = {p: [a for a in r if a in wanted[p]] for p, r in prog_ranks.items()}
    hospital_prefs = {p: r for p, r in hospital_prefs.items() if r and caps[p] > 0}
    resident_prefs = {
        a: [p for p in prefs if p in hospital_prefs] for a, prefs in resident_prefs.items()
    }
    resident_prefs = {a: prefs for a, prefs in resident_prefs.items() if prefs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        game = HospitalResident.create_from_dictionaries(
            resident_prefs, hospital_prefs, {p: caps[p] for p in hospital_prefs}
        )
        gc.freeze()
        gc.disable()
        started = time.perf_counter()
        solved = game.solve(optimal="resident")
        elapsed = time.perf_counter() - started
        gc.enable()
        gc.unfreeze()
    matching: dict[str, str | None] = {a["id"]: None for a in data["applicants"]}
    for hospital, residents in solved.items():
        for resident in residents:
            matching[resident.name] = hospital.name
    return elapsed, matching


def _engine(path: Path, *, explain: bool) -> dict[str, float]:
    # Same conditions as the command line (and as the matching package below):
    # collection is paused from the start (the loaded data moved out of its sight).
    gc.disable()
    started = time.perf_counter()
    data = json.loads(path.read_bytes())
    parsed = time.perf_counter()
    indexed = parse_indexed(data)
    validated = time.perf_counter()
    compiled = compile_instance(*indexed)
    gc.freeze()
    loaded = time.perf_counter()
    outcome = solve_compiled(compiled)
    solved = time.perf_counter()
    # The command line's path: explanations (or not) and the compact JSON bytes.
    written = outcome_to_bytes(compiled, outcome, explain=explain)
    explained = time.perf_counter()
    gc.enable()
    gc.unfreeze()
    stable = json.loads(written[: written.index(b',"instability"')] + b"}")["stable"]
    return {
        "json": parsed - started,
        "validate": validated - parsed,
        "compile": loaded - validated,
        "solve": solved - loaded,
        "result": explained - solved,
        "proposals": float(outcome.proposals),
        "chases": float(outcome.chases),
        "stable": float(stable),
        "matched": float(sum(1 for p in outcome.assign if p >= 0)),
        "bytes": float(len(written)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--applicants", type=int, default=45_000)
    parser.add_argument("--programs", type=int, default=6_000)
    parser.add_argument("--places", type=int, default=40_000)
    parser.add_argument("--ranks", type=int, default=12)
    parser.add_argument("--couples", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--matching-full", action="store_true")
    args = parser.parse_args()
    size = {"applicants": args.applicants, "programs": args.programs, "places": args.places}
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        data = generate(seed=args.seed, ranks=args.ranks, couples=0, **size)
        plain = tmpdir / "plain.json"
        plain.write_text(json.dumps(data))
        n_ranks = sum(len(a["ranks"]) for a in data["applicants"])
        print(
            f"instance: {args.applicants} applicants, {args.programs} programs, "
            f"{args.places} places, {n_ranks / args.applicants:.1f} ranks per applicant, "
            f"{plain.stat().st_size / 1e6:.1f} MB JSON"
        )
        runs = [_engine(plain, explain=True) for _ in range(args.repeat)]
        best = {k: min(r[k] for r in runs) for k in runs[0]}
        print(
            f"engine (best of {args.repeat}): json {best['json']:.3f} s, validate "
            f"{best['validate']:.3f} s, compile {best['compile']:.3f} s | solve "
            f"{best['solve']:.3f} s (goal < 0.25) | explanations+JSON {best['result']:.3f} s "
            f"({best['bytes'] / 1e6:.1f} MB)"
        )
        print(f"  proposals {best['proposals']:.0f}, matched {best['matched']:.0f}")
        cli = [_cli(plain, tmpdir / "out.json") for _ in range(args.repeat)]
        cli_quiet = [
            _cli(plain, tmpdir / "out2.json", "--no-explanations") for _ in range(args.repeat)
        ]
        print(
            f"CLI subprocess (best of {args.repeat}): {min(t for t, _ in cli):.3f} s with "
            f"explanations, {min(t for t, _ in cli_quiet):.3f} s --no-explanations "
            f"(goal < 1.5); child peak RSS {max(m for _, m in cli)} MB"
        )
        engine_matching = json.loads((tmpdir / "out.json").read_text())["matching"]
        if args.matching_full:
            seconds, theirs = _matching_package(data)
            same = theirs == engine_matching
            print(
                f"matching package, full instance: {seconds:.2f} s -> engine is "
                f"{seconds / best['solve']:.0f}x faster (goal >= 30x); identical matching: {same}"
            )
        else:
            small = {k: v // 10 for k, v in size.items()}
            sample = generate(seed=args.seed, ranks=args.ranks, couples=0, **small)
            sample_path = tmpdir / "sample.json"
            sample_path.write_text(json.dumps(sample))
            seconds, theirs = _matching_package(sample)
            ours = _engine(sample_path, explain=False)
            print(
                f"matching package, 1/10 instance: {seconds:.3f} s vs engine {ours['solve']:.4f} s "
                f"({seconds / ours['solve']:.0f}x); its cost grows at least linearly, so on the "
                f"full instance it needs >= {seconds * 10:.1f} s -> >= "
                f"{seconds * 10 / best['solve']:.0f}x (run with --matching-full to time it)"
            )
        if args.couples:
            with_couples = generate(seed=args.seed, ranks=args.ranks, couples=args.couples, **size)
            cpath = tmpdir / "couples.json"
            cpath.write_text(json.dumps(with_couples))
            ours = _engine(cpath, explain=True)
            ctimes = [_cli(cpath, tmpdir / "cout.json") for _ in range(args.repeat)]
            cquiet = [
                _cli(cpath, tmpdir / "cout2.json", "--no-explanations") for _ in range(args.repeat)
            ]
            print(
                f"with {args.couples} couples: solve {ours['solve']:.3f} s "
                f"({ours['proposals']:.0f} proposals, {ours['chases']:.0f} chases, "
                f"stable {bool(ours['stable'])}), check+explanations+JSON {ours['result']:.3f} s "
                f"({ours['bytes'] / 1e6:.1f} MB); CLI "
                f"{min(t for t, _ in ctimes):.3f} s with explanations, "
                f"{min(t for t, _ in cquiet):.3f} s --no-explanations (goal < 3)"
            )
        print(f"peak memory: this process {_peak_mb():.0f} MB (goal < 500)")


if __name__ == "__main__":
    main()
