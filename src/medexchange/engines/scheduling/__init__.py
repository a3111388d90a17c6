"""Rotation scheduling engine: multi-site rotation plans on OR-Tools CP-SAT.

``solve(parse_plan(json.load(f)))`` gives the best plan found (proven optimal when the
status says so), or the rules that conflict when none exists. Pure Python beside
OR-Tools, no Django. See docs/scheduling-engine.md.
"""

from __future__ import annotations

from .check import Violation, violations
from .greedy import greedy
from .model import Conflict, Plan, PlanError, Score, Solution
from .output import ENGINE_VERSION, solution_to_json
from .parse import parse_plan
from .score import score_of
from .solve import explain, solve

__all__ = [
    "ENGINE_VERSION",
    "Conflict",
    "Plan",
    "PlanError",
    "Score",
    "Solution",
    "Violation",
    "explain",
    "greedy",
    "parse_plan",
    "score_of",
    "solution_to_json",
    "solve",
    "violations",
]
