"""``python -m medexchange.engines.scheduling PLAN.json [--output RESULT.json] [--time-limit S]``.

Exit status 0 with a plan (optimal or feasible), 1 when no plan exists (the result
names the conflicting rules), 2 with one line on standard error for bad input.
"""

from __future__ import annotations

import sys

from medexchange.engines.cli import BadInput, ExitParser, read_json, seconds, write_json

from . import ENGINE_VERSION, PlanError, parse_plan, solution_to_json, solve
from .solve import DEFAULT_TIME_LIMIT, DEFAULT_WORKERS


def main(argv: list[str] | None = None) -> int:
    parser = ExitParser(prog="python -m medexchange.engines.scheduling", description=__doc__)
    parser.add_argument("plan", help="plan JSON (see docs/scheduling-engine.md)")
    parser.add_argument("--output", "-o", help="write the result here instead of standard output")
    parser.add_argument(
        "--time-limit", type=seconds, default=DEFAULT_TIME_LIMIT, help="seconds (default 30)"
    )
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="solver threads")
    parser.add_argument("--version", action="version", version=ENGINE_VERSION)
    args = parser.parse_args(argv)
    try:
        data = read_json(args.plan)
    except BadInput as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    try:
        plan = parse_plan(data)
    except PlanError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    solution = solve(plan, time_limit=args.time_limit, workers=args.workers)
    write_json(solution_to_json(solution), args.output)
    return 0 if solution.status in ("optimal", "feasible") else 1


if __name__ == "__main__":
    raise SystemExit(main())
