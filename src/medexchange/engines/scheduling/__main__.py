"""``python -m medexchange.engines.scheduling PLAN.json [--output RESULT.json] [--time-limit S]``.

Exit status 0 with a plan (optimal or feasible), 1 when no plan exists (the result
names the conflicting rules), 2 with one line on standard error for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import ENGINE_VERSION, PlanError, parse_plan, solution_to_json, solve
from .solve import DEFAULT_TIME_LIMIT, DEFAULT_WORKERS


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: {message}\n")
        raise SystemExit(2)


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number of seconds") from None
    if not 0 < number <= 3600:
        raise argparse.ArgumentTypeError("must be between 0 and 3600 seconds")
    return number


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m medexchange.engines.scheduling", description=__doc__)
    parser.add_argument("plan", help="plan JSON (see docs/scheduling-engine.md)")
    parser.add_argument("--output", "-o", help="write the result here instead of standard output")
    parser.add_argument(
        "--time-limit", type=_positive, default=DEFAULT_TIME_LIMIT, help="seconds (default 30)"
    )
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="solver threads")
    parser.add_argument("--version", action="version", version=ENGINE_VERSION)
    args = parser.parse_args(argv)
    try:
        raw = Path(args.plan).read_bytes()
    except OSError as exc:
        sys.stderr.write(f"{args.plan}: cannot read: {exc.strerror}\n")
        return 2
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        sys.stderr.write(f"{args.plan}: invalid JSON: {exc}\n")
        return 2
    try:
        plan = parse_plan(data)
    except PlanError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    solution = solve(plan, time_limit=args.time_limit, workers=args.workers)
    text = json.dumps(solution_to_json(solution), ensure_ascii=False, indent=1)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    return 0 if solution.status in ("optimal", "feasible") else 1


if __name__ == "__main__":
    raise SystemExit(main())
