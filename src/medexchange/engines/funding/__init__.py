"""Scholarship allocation engine: the awards that maximise the committee's priority.

``allocate(instance_json)`` takes scholarship requests (priority, amount, minimum,
eligible funds, staff pins) and the funds' available money, and returns the awards
that fund the most total priority within the budget, proven optimal, with the shares
drawn from each fund and the reason for every request's outcome. Pure Python on
OR-Tools (CP-SAT, GLOP) and NumPy, no Django. See docs/funding-allocation-engine.md.
"""

from __future__ import annotations

import time
from typing import Any

from .explain import build_result
from .model import Instance, InstanceError, Result
from .output import ENGINE_VERSION, result_to_json
from .parse import parse_instance
from .problem import compile_problem
from .solve import DEFAULT_WORKERS, solve_problem

__all__ = [
    "ENGINE_VERSION",
    "Instance",
    "InstanceError",
    "Result",
    "allocate",
    "parse_instance",
    "result_to_json",
    "solve",
]


def solve(
    instance: Instance, *, time_limit: float | None = None, workers: int = DEFAULT_WORKERS
) -> Result:
    """Allocate ``instance`` within ``time_limit`` seconds (default: its options')."""
    started = time.monotonic()
    limit = instance.options.time_limit if time_limit is None else time_limit
    problem = compile_problem(instance)
    outcome = solve_problem(problem, time_limit=limit, workers=workers)
    return build_result(problem, outcome, started=started, time_limit=limit)


def allocate(instance: dict[str, Any], *, time_limit: float | None = None) -> dict[str, Any]:
    """JSON in, JSON out (the shapes of docs/funding-allocation-engine.md).

    Raises :class:`InstanceError` (a ``ValueError``) naming the first problem by its
    JSON path when the instance is malformed.
    """
    parsed = parse_instance(instance)
    return result_to_json(solve(parsed, time_limit=time_limit), parsed.minor_digits)
