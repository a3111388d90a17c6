"""Matching engine: applicant-proposing deferred acceptance, pure Python.

``solve(parse_instance(json.load(f)))`` gives the applicant-optimal stable
matching for many-to-one instances with capacities and reserved seats, and a
Roth-Peranson style result (with a stability verdict) when couples or quotas are
present. See docs/matching-engine.md.
"""

from __future__ import annotations

from .explain import ENGINE_VERSION, build_result, result_to_json
from .model import Instance, InstanceError, Result
from .parse import parse_instance
from .solve import compile_instance, solve_compiled

__all__ = [
    "ENGINE_VERSION",
    "Instance",
    "InstanceError",
    "Result",
    "compile_instance",
    "parse_instance",
    "result_to_json",
    "solve",
]


def solve(instance: Instance, *, explain: bool = True) -> Result:
    """Solve ``instance``; ``stats.seconds`` times the algorithm after compilation."""
    compiled = compile_instance(instance)
    return build_result(compiled, solve_compiled(compiled), explain=explain)
