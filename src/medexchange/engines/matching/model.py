"""Frozen data of a matching instance and of its result.

Instances use the string ids of the JSON format; the solver works on integer
indices built by :func:`medexchange.engines.matching.solve.compile_instance`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class InstanceError(ValueError):
    """A malformed instance; the message names the first problem by JSON path."""


@dataclass(frozen=True, slots=True)
class Applicant:
    id: str
    ranks: tuple[str, ...]
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reserve:
    """``seats`` places of a program held first for members of ``group``."""

    group: str
    seats: int


@dataclass(frozen=True, slots=True)
class Program:
    id: str
    capacity: int
    ranks: tuple[str, ...]
    reserved: tuple[Reserve, ...] = ()


@dataclass(frozen=True, slots=True)
class Couple:
    """Two applicants placed together or not at all; options name one program per member."""

    members: tuple[str, str]
    ranks: tuple[tuple[str | None, str | None], ...]


@dataclass(frozen=True, slots=True)
class QuotaGroup:
    """At most ``capacity`` of ``applicants`` in ``programs`` together.

    ``applicants`` is also the quota's priority order, most preferred first.
    """

    id: str
    capacity: int
    programs: tuple[str, ...]
    applicants: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Instance:
    applicants: tuple[Applicant, ...]
    programs: tuple[Program, ...]
    couples: tuple[Couple, ...] = ()
    quotas: tuple[QuotaGroup, ...] = ()


@dataclass(frozen=True, slots=True)
class BlockingPair:
    """Applicants (one, or a couple) and the programs they would rather be in, and could."""

    applicants: tuple[str, ...]
    programs: tuple[str | None, ...]


class Loss(NamedTuple):
    """Why an applicant is not in a program it ranked above the one obtained.

    ``reason`` is ``not_ranked`` (the program does not rank the applicant), ``full``
    (``your_rank``: the applicant's 1-based rank at the program, which preferred the
    admitted applicants ranked above it; ``reserved``: how many admitted applicants are
    ranked below it, on seats reserved for their group: the last ``reserved`` of the
    program's ``admitted`` list), ``quota`` (``quota`` full; ``your_priority``: the
    applicant's 1-based position in the quota's priority order; ``ahead``: how many of
    its members of higher priority are placed: the first ``ahead`` of the quota's
    ``placed`` list), ``admits`` (for a couple: this program would take the member,
    the partner's would not) or ``blocking`` (the program would take the applicant:
    unstable). A named tuple: hundreds of thousands are built per NRMP-sized result.
    """

    program: str
    reason: str
    your_rank: int | None = None
    last_admitted_rank: int | None = None
    reserved: int = 0
    quota: str | None = None
    your_priority: int | None = None
    ahead: int = 0


@dataclass(frozen=True, slots=True)
class OptionLoss:
    """For a couple member: one joint option ranked above the one obtained."""

    option: tuple[str | None, str | None]
    programs: tuple[Loss, ...]


@dataclass(frozen=True, slots=True)
class ApplicantExplanation:
    obtained: str | None
    rank: int | None  # 1-based position of the obtained program (or couple option)
    lost: tuple[Loss | OptionLoss, ...]


@dataclass(frozen=True, slots=True)
class ProgramExplanation:
    capacity: int
    filled: int
    last_admitted_rank: int | None  # 1-based position of its lowest admitted applicant
    admitted: tuple[str, ...] = ()  # admitted applicants in the program's rank order


@dataclass(frozen=True, slots=True)
class QuotaExplanation:
    capacity: int
    placed: tuple[str, ...]  # members placed in its programs, in the quota's priority order


@dataclass(frozen=True, slots=True)
class Explanations:
    applicants: dict[str, ApplicantExplanation]
    programs: dict[str, ProgramExplanation]
    quotas: dict[str, QuotaExplanation] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Stats:
    applicants: int
    matched: int
    proposals: int
    seconds: float
    chases: int = 0  # re-proposals made to remove instabilities (couples, quotas)


@dataclass(frozen=True, slots=True)
class Result:
    matching: dict[str, str | None]
    unfilled: dict[str, int]
    stats: Stats
    stable: bool
    instability: tuple[BlockingPair, ...] = ()
    explanations: Explanations | None = field(default=None)
