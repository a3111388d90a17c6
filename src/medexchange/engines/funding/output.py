""":class:`Result` → JSON (see docs/funding-allocation-engine.md)."""

from __future__ import annotations

from typing import Any

from .explain import money, priority_number
from .model import Result

ENGINE_VERSION = "medexchange-funding 1.0"


def result_to_json(result: Result, minor_digits: int, *, timing: bool = True) -> dict[str, Any]:
    def cash(minor: int) -> str:
        return money(minor, minor_digits)

    data: dict[str, Any] = {
        "engine": ENGINE_VERSION,
        "status": result.status,
        "objective": None if result.objective is None else priority_number(result.objective),
        "bound": None if result.bound is None else priority_number(result.bound),
        "gap": None if result.gap is None else round(result.gap, 9),
        "awards": [
            {
                "request": award.request,
                "amount": cash(award.amount),
                "shares": [{"fund": s.fund, "amount": cash(s.amount)} for s in award.shares],
            }
            for award in result.awards
        ],
        "unfunded": list(result.unfunded),
        "fund_use": [
            {
                "fund": use.fund,
                "available": cash(use.available),
                "used": cash(use.used),
                "left": cash(use.left),
            }
            for use in result.fund_use
        ],
        "explanations": {
            request: {"funded": e.funded, "reason_code": e.reason_code, "params": e.params}
            for request, e in result.explanations.items()
        },
        "conflicts": [{"code": c.code, "params": c.params} for c in result.conflicts],
        "stats": dict(result.stats),
    }
    if timing:
        data["seconds"] = round(result.seconds, 4)
    return data
