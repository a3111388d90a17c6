"""Greedy allocations: the solver's starting hint and the benchmark's baseline.

``greedy(problem, "ratio")`` takes free requests by priority per amount (the LP's
order), ``greedy(problem, "priority")`` by priority alone, which is what a committee
funding "the best scores until the money runs out" does. Each request is added when
it still fits (Hall's rows with splitting; without, the eligible fund with the least
money that still covers it) and skipped otherwise.
"""

from __future__ import annotations

from .flow import minimum_shares
from .problem import Problem


def greedy(problem: Problem, by: str = "ratio") -> tuple[list[int], dict[int, int]]:
    """The chosen free requests and, without splitting, each award's fund (pins too)."""
    p, m, ids = problem.priority, problem.minimum, problem.ids
    if by == "ratio":
        order = sorted(problem.free, key=lambda i: (-p[i] / m[i], -p[i], ids[i]))
    else:
        order = sorted(problem.free, key=lambda i: (-p[i], ids[i]))
    chosen: list[int] = []
    fund_of: dict[int, int] = {}
    if problem.split:
        load = [0] * len(problem.rows)
        rows_of: dict[int, list[int]] = {}
        for r, row in enumerate(problem.rows):
            for i in row.members:
                rows_of.setdefault(i, []).append(r)
        for i in order:
            mine = rows_of.get(i, [])
            if all(load[r] + m[i] <= problem.rows[r].cap for r in mine):
                for r in mine:
                    load[r] += m[i]
                chosen.append(i)
        return chosen, fund_of
    left = list(problem.cap)
    placed = place_pins(problem)
    if placed is None:
        return chosen, fund_of
    for i, j in placed.items():
        left[j] -= m[i]
        fund_of[i] = j
    for i in order:
        fits = [j for j in problem.listed[i] if left[j] >= m[i]]
        if fits:
            j = min(fits, key=lambda j: (left[j], j))
            left[j] -= m[i]
            fund_of[i] = j
            chosen.append(i)
    return chosen, fund_of


def place_pins(problem: Problem) -> dict[int, int] | None:
    """Pinned awards to single funds, largest first into the tightest fund that fits."""
    left = list(problem.cap)
    placed: dict[int, int] = {}
    for i in sorted(problem.awarded, key=lambda i: (-problem.minimum[i], problem.ids[i])):
        fits = [j for j in problem.listed[i] if left[j] >= problem.minimum[i]]
        if not fits:
            return None
        j = min(fits, key=lambda j: (left[j], j))
        left[j] -= problem.minimum[i]
        placed[i] = j
    return placed


def pack(problem: Problem, wanted: set[int]) -> tuple[list[int], dict[int, int]]:
    """Without splitting: a placement of (most of) ``wanted``, a set that fits when split.

    The pins go first (largest into the tightest fund); ``wanted`` then flows into what
    is left, and a flow splits few awards: each unsplit award keeps its fund, each split
    one moves whole to an eligible fund that still covers it or is dropped. The money
    left is offered to the other requests by priority per amount.
    """
    m = problem.minimum
    placed = place_pins(problem)
    if placed is None:
        return [], {}
    left = list(problem.cap)
    fund_of: dict[int, int] = {}
    for i, j in placed.items():
        left[j] -= m[i]
        fund_of[i] = j
    chosen: list[int] = []
    shares = minimum_shares(problem, sorted(wanted), left) or {}
    split_ones: list[int] = []
    for i in sorted(shares, key=lambda i: problem.ids[i]):
        if len(shares[i]) == 1:
            (j,) = shares[i]
            left[j] -= m[i]
            fund_of[i] = j
            chosen.append(i)
        else:
            split_ones.append(i)
    rest = sorted(
        (i for i in problem.free if i not in fund_of),
        key=lambda i: (-problem.priority[i] / m[i], -problem.priority[i], problem.ids[i]),
    )
    for i in sorted(split_ones, key=lambda i: (-m[i], problem.ids[i])) + rest:
        if i in fund_of:
            continue
        fits = [j for j in problem.listed[i] if left[j] >= m[i]]
        if fits:
            j = min(fits, key=lambda j: (left[j], j))
            left[j] -= m[i]
            fund_of[i] = j
            chosen.append(i)
    return chosen, fund_of
