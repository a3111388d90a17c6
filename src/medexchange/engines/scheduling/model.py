"""Frozen data of a rotation plan problem and of its solution.

A plan problem uses the string ids of the JSON format (docs/scheduling-engine.md);
the solver works on integer indices.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class PlanError(ValueError):
    """A malformed or impossible plan; the message names the first problem by JSON path."""


@dataclass(frozen=True, slots=True)
class Period:
    id: str
    label: str = ""
    start: str | None = None  # ISO date, optional
    end: str | None = None


@dataclass(frozen=True, slots=True)
class Site:
    id: str
    capacity: tuple[int, ...]  # per period
    min_staff: tuple[int, ...]  # per period: at least this many visitors when open
    languages: frozenset[str] = frozenset()  # empty: any language is fine
    closed: frozenset[int] = frozenset()  # period indices
    name: str = ""


@dataclass(frozen=True, slots=True)
class Participant:
    id: str
    first: int  # index of the arrival period
    last: int  # index of the departure period (inclusive)
    languages: frozenset[str] = frozenset()
    preferences: tuple[str, ...] = ()  # site ids, most wanted first
    must_visit: frozenset[str] = frozenset()
    must_not_visit: frozenset[str] = frozenset()
    min_sites: int | None = None  # overrides rules.min_sites
    name: str = ""

    @property
    def periods(self) -> range:
        return range(self.first, self.last + 1)


@dataclass(frozen=True, slots=True)
class Rules:
    min_sites: int = 1
    min_stay: int = 1
    max_stay: int | None = None  # None: no maximum
    together: tuple[tuple[str, str], ...] = ()
    apart: tuple[tuple[str, str], ...] = ()
    balance: bool = True


@dataclass(frozen=True, slots=True)
class Plan:
    periods: tuple[Period, ...]
    sites: tuple[Site, ...]
    participants: tuple[Participant, ...]
    rules: Rules = field(default_factory=Rules)
    # participant id -> period id -> site id
    previous: dict[str, dict[str, str]] = field(default_factory=dict)
    pinned: dict[str, dict[str, str]] = field(default_factory=dict)
    unit: str = "week"


@dataclass(frozen=True, slots=True)
class Conflict:
    """Rules that cannot all hold together; ``rules`` are machine codes, ``message`` prose."""

    rules: tuple[str, ...]
    messages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Score:
    preferences: int  # weighted: a participant's first of n wishes counts n, the last 1
    diversity: int  # distinct sites visited, over all participants
    imbalance: int  # sum over sites of |assigned participant-periods - fair share|
    changes: int  # cells that differ from the previous plan (0 without one)


@dataclass(frozen=True, slots=True)
class Solution:
    status: str  # optimal, feasible, infeasible, unknown
    assignment: dict[str, dict[str, str]]  # participant id -> period id -> site id
    objective: int | None
    bound: int | None
    score: Score | None
    conflicts: tuple[Conflict, ...] = ()
    seconds: float = 0.0
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """Relative distance to the solver's bound (0.0 when proven optimal)."""
        if self.objective is None or self.bound is None:
            return None
        if self.bound == 0:
            return 0.0 if self.objective == 0 else 1.0
        return abs(self.bound - self.objective) / abs(self.bound)
