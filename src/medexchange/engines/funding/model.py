"""Frozen data of a scholarship allocation instance and of its result.

Money is held in integer minor units of the call currency (cents for EUR) and
priorities in hundredths (``87.5`` is ``8750``); the JSON layer
(:mod:`medexchange.engines.funding.parse`, :mod:`medexchange.engines.funding.output`)
converts at the edges, so the solver never sees a float.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Priorities have a resolution of 0.01: they are held as integers of hundredths.
PRIORITY_SCALE = 100
PINS = ("award", "no_award")


class InstanceError(ValueError):
    """A malformed instance; the message names the first problem by JSON path."""


@dataclass(frozen=True, slots=True)
class Fund:
    id: str
    available: int  # minor units, >= 0


@dataclass(frozen=True, slots=True)
class Request:
    id: str
    priority: int  # hundredths, >= 0
    amount: int  # minor units, > 0: what is asked for
    min_amount: int  # minor units, 0 < min_amount <= amount: the least that still helps
    funds: tuple[str, ...]  # eligible fund ids, in the order given
    pinned: str | None = None  # "award", "no_award" or None


@dataclass(frozen=True, slots=True)
class Options:
    allow_split: bool = True  # one award may draw from several eligible funds
    time_limit: float = 10.0  # seconds for the whole allocation, explanations included
    explain_top: int = 20  # unfunded requests whose exact cost of inclusion is computed


@dataclass(frozen=True, slots=True)
class Instance:
    currency: str
    minor_digits: int
    funds: tuple[Fund, ...]
    requests: tuple[Request, ...]
    options: Options = field(default_factory=Options)


@dataclass(frozen=True, slots=True)
class Share:
    fund: str
    amount: int


@dataclass(frozen=True, slots=True)
class Award:
    request: str
    amount: int
    shares: tuple[Share, ...]


@dataclass(frozen=True, slots=True)
class FundUse:
    fund: str
    available: int
    used: int

    @property
    def left(self) -> int:
        return self.available - self.used


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a request is (not) funded: a stable machine code and its parameters.

    ``params`` holds JSON-ready values (amounts already as decimal strings); the
    codes are listed in docs/funding-allocation-engine.md.
    """

    funded: bool
    reason_code: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Conflict:
    """Staff pins that cannot all hold: a machine code and its parameters."""

    code: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Result:
    status: str  # optimal, feasible, infeasible, unknown
    objective: int | None  # total priority funded, hundredths
    bound: int | None  # proven upper bound of it, hundredths
    awards: tuple[Award, ...]
    unfunded: tuple[str, ...]
    fund_use: tuple[FundUse, ...]
    explanations: dict[str, Explanation]
    conflicts: tuple[Conflict, ...] = ()
    seconds: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """Relative distance to the bound (0.0 when proven optimal)."""
        if self.objective is None or self.bound is None:
            return None
        if self.bound == 0:
            return 0.0
        return (self.bound - self.objective) / self.bound
