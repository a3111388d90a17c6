"""The integer form of an instance: requests sorted into fixed and free, and the rows.

With splitting allowed, a set of awards fits the funds exactly when it passes Hall's
condition (max-flow/min-cut): for every set of funds ``T``, the minimum amounts of the
awards that may draw only on funds of ``T`` sum to at most what ``T`` holds. Those
rows (one per set of funds that can overflow at all) are the whole model: no share
variables are needed, and the shares are computed afterwards by a flow
(:mod:`medexchange.engines.funding.flow`). Without splitting they are still a valid
relaxation, which the bound uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import Conflict, Instance

# Why a request is out before any solving (the explanation codes of docs/...).
NO_ELIGIBLE_FUND = "no_eligible_fund"
NO_MONEY = "not_eligible_for_any_fund_with_money"
USED_BY_PINS = "eligible_funds_used_by_pinned_awards"
PINNED_OUT = "pinned_by_staff"


@dataclass(frozen=True, slots=True)
class Row:
    """``sum(coef[i] * y[i] for i in members) <= cap`` (``cap`` net of pinned awards)."""

    mask: int  # the set of funds T, as bits of fund indices
    members: tuple[int, ...]  # free request indices whose eligible funds lie inside T
    cap: int


@dataclass
class Problem:
    instance: Instance
    split: bool
    ids: list[str]
    fund_ids: list[str]
    priority: list[int]  # hundredths
    amount: list[int]  # minor units
    minimum: list[int]
    mask: list[int]  # eligible funds as bits
    listed: list[tuple[int, ...]]  # eligible fund indices in the order given
    cap: list[int]  # per fund
    awarded: list[int]  # pinned awards (indices)
    free: list[int]  # the solver's decisions
    out: dict[int, str]  # index -> reason code for requests that cannot be funded
    conflicts: list[Conflict]
    rows: list[Row] = field(default_factory=list)  # over minimum amounts
    short_rows: list[Row] = field(default_factory=list)  # over full amounts (shortfall)
    rows_of: dict[int, list[int]] = field(default_factory=dict)  # free index -> its rows
    room_after_pins: dict[int, int] = field(default_factory=dict)
    flexible: bool = False  # some award may be below its amount: the shortfall level exists

    @property
    def n(self) -> int:
        return len(self.ids)

    def capacity(self, mask: int) -> int:
        return sum(c for j, c in enumerate(self.cap) if mask >> j & 1)

    def fund_names(self, mask: int) -> list[str]:
        return [f for j, f in enumerate(self.fund_ids) if mask >> j & 1]


def _subset_sums(values: list[int], bits: int) -> list[int]:
    """``out[T] = sum(values[S] for S subset of T)`` (the zeta transform)."""
    out = list(values)
    for b in range(bits):
        step = 1 << b
        for t in range(1 << bits):
            if t & step:
                out[t] += out[t ^ step]
    return out


def _subset_unions(present: list[bool], bits: int) -> list[int]:
    """``out[T]`` = the union of the present masks that lie inside ``T``."""
    out = [t if present[t] else 0 for t in range(1 << bits)]
    for b in range(bits):
        step = 1 << b
        for t in range(1 << bits):
            if t & step:
                out[t] |= out[t ^ step]
    return out


def _superset_min(values: list[int], bits: int) -> list[int]:
    out = list(values)
    for b in range(bits):
        step = 1 << b
        for t in range(1 << bits):
            if not t & step:
                out[t] = min(out[t], out[t | step])
    return out


def compile_problem(instance: Instance) -> Problem:
    fund_ids = [f.id for f in instance.funds]
    index = {f: j for j, f in enumerate(fund_ids)}
    requests = instance.requests
    listed = [tuple(index[f] for f in r.funds) for r in requests]
    masks = [sum(1 << j for j in js) for js in listed]
    problem = Problem(
        instance=instance,
        split=instance.options.allow_split,
        ids=[r.id for r in requests],
        fund_ids=fund_ids,
        priority=[r.priority for r in requests],
        amount=[r.amount for r in requests],
        minimum=[r.min_amount for r in requests],
        mask=masks,
        listed=listed,
        cap=[f.available for f in instance.funds],
        awarded=[],
        free=[],
        out={},
        conflicts=[],
    )
    bits = len(fund_ids)
    cap = problem.cap
    for i, r in enumerate(requests):
        if r.pinned == "no_award":
            problem.out[i] = PINNED_OUT
            continue
        # What the eligible funds could give this request alone.
        alone = (
            problem.capacity(masks[i])
            if problem.split
            else max((cap[j] for j in listed[i]), default=0)
        )
        if r.pinned == "award":
            if not masks[i]:
                problem.conflicts.append(
                    Conflict("pinned_award_without_eligible_fund", {"request": r.id})
                )
            elif alone < r.min_amount:
                problem.conflicts.append(
                    Conflict(
                        "pinned_award_exceeds_eligible_funds",
                        {
                            "request": r.id,
                            "funds": list(r.funds),
                            "needed": r.min_amount,
                            "available": alone,
                            "split": problem.split,
                        },
                    )
                )
            problem.awarded.append(i)
        elif not masks[i]:
            problem.out[i] = NO_ELIGIBLE_FUND
        elif alone < r.min_amount:
            problem.out[i] = NO_MONEY
        else:
            problem.free.append(i)
    if problem.conflicts:
        return problem

    # Hall's condition on the pinned awards alone, over every set of funds.
    full = 1 << bits
    capacity = [problem.capacity(t) for t in range(full)]
    pin_load = [0] * full
    pin_full = [0] * full
    for i in problem.awarded:
        pin_load[masks[i]] += problem.minimum[i]
        pin_full[masks[i]] += problem.amount[i]
    pin_load = _subset_sums(pin_load, bits)
    pin_full = _subset_sums(pin_full, bits)
    violated = [t for t in range(1, full) if pin_load[t] > capacity[t]]
    minimal = [t for t in violated if not any(s != t and s & t == s for s in violated)]
    for t in minimal:
        inside = [i for i in problem.awarded if masks[i] & t == masks[i]]
        problem.conflicts.append(
            Conflict(
                "pinned_awards_overrun_funds",
                {
                    "funds": problem.fund_names(t),
                    "available": capacity[t],
                    "needed": pin_load[t],
                    "requests": [problem.ids[i] for i in inside],
                },
            )
        )
    if problem.conflicts:
        return problem

    if problem.split:
        # Room left to a request by the pins: the least slack over the sets of funds
        # that contain all of its eligible funds.
        room = _superset_min([capacity[t] - pin_load[t] for t in range(full)], bits)
        still: list[int] = []
        for i in problem.free:
            problem.room_after_pins[i] = room[masks[i]]
            if room[masks[i]] < problem.minimum[i]:
                problem.out[i] = USED_BY_PINS
            else:
                still.append(i)
        problem.free = still

    present = [False] * full
    for i in problem.free + problem.awarded:
        present[masks[i]] = True
    unions = _subset_unions(present, bits)
    free_min = [0] * full
    free_full = [0] * full
    for i in problem.free:
        free_min[masks[i]] += problem.minimum[i]
        free_full[masks[i]] += problem.amount[i]
    free_min = _subset_sums(free_min, bits)
    free_full = _subset_sums(free_full, bits)
    rows: list[int] = []
    short_rows: list[int] = []
    for t in range(1, full):
        if unions[t] != t:
            continue  # a larger set than the requests inside it need: never tighter
        if free_min[t] > capacity[t] - pin_load[t]:
            rows.append(t)
        if free_full[t] + pin_full[t] > capacity[t]:
            short_rows.append(t)
    by_mask: dict[int, list[int]] = {}
    for i in problem.free:
        by_mask.setdefault(masks[i], []).append(i)
    members: dict[int, list[int]] = {t: [] for t in sorted(set(rows) | set(short_rows))}
    for t, inside in members.items():
        for mask, group in by_mask.items():
            if mask & t == mask:
                inside.extend(group)
        inside.sort()
    problem.rows = [Row(t, tuple(members[t]), capacity[t] - pin_load[t]) for t in rows]
    for k, row in enumerate(problem.rows):
        for i in row.members:
            problem.rows_of.setdefault(i, []).append(k)
    problem.short_rows = [Row(t, tuple(members[t]), capacity[t] - pin_full[t]) for t in short_rows]
    problem.flexible = any(
        problem.minimum[i] < problem.amount[i] for i in problem.free + problem.awarded
    )
    return problem
