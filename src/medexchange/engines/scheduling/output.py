""":class:`Solution` → JSON (see docs/scheduling-engine.md)."""

from __future__ import annotations

from typing import Any

from .model import Solution

ENGINE_VERSION = "medexchange-scheduling 1.0"


def solution_to_json(solution: Solution, *, timing: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "engine": ENGINE_VERSION,
        "status": solution.status,
        "assignment": solution.assignment,
        "objective": solution.objective,
        "bound": solution.bound,
        "gap": solution.gap,
        "score": None,
        "conflicts": [
            {"rules": list(c.rules), "messages": list(c.messages)} for c in solution.conflicts
        ],
        "stats": dict(solution.stats),
    }
    if solution.score is not None:
        s = solution.score
        data["score"] = {
            "preferences": s.preferences,
            "diversity": s.diversity,
            "imbalance": s.imbalance,
            "changes": s.changes,
        }
    if timing:
        data["stats"]["seconds"] = round(solution.seconds, 4)
    return data
