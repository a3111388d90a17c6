"""Amounts and shares for a chosen set of awards, computed deterministically.

With splitting allowed the shares are a flow from funds to awards: first every award
receives its minimum amount, then each is topped up towards its full amount, in
order (pinned awards first, then by priority, then by id). Each step draws from a
single eligible fund when one can cover it (the first listed), otherwise along
augmenting paths that move other awards' shares between their eligible funds. An
award that finds no augmenting path never finds one later, so the result is a
maximum flow: every award gets at least its minimum (Hall's condition holds for the
chosen set) and the total given is the most the funds allow, which is what the
shortfall level of the objective assumes.

Without splitting each award draws on the one fund the solver chose: minimums first,
then the fund's remainder tops up its awards in the same order.
"""

from __future__ import annotations

from collections import deque

from .problem import Problem


def award_order(problem: Problem, funded: list[int]) -> list[int]:
    pinned = set(problem.awarded)
    return sorted(funded, key=lambda i: (i not in pinned, -problem.priority[i], problem.ids[i]))


class _Flow:
    def __init__(self, problem: Problem, cap: list[int] | None = None) -> None:
        self.problem = problem
        self.cap = list(problem.cap) if cap is None else cap
        self.used = [0] * len(problem.cap)
        self.flow: dict[int, dict[int, int]] = {}
        self.holders: list[set[int]] = [set() for _ in problem.cap]

    def residual(self, j: int) -> int:
        return self.cap[j] - self.used[j]

    def _move(self, k: int, j: int, delta: int) -> None:
        shares = self.flow.setdefault(k, {})
        value = shares.get(j, 0) + delta
        if value:
            shares[j] = value
            self.holders[j].add(k)
        else:
            shares.pop(j, None)
            self.holders[j].discard(k)

    def _path(self, i: int) -> list[tuple[int, int, int]] | None:
        """Hops ``(request, from_fund, to_fund)`` ending at a fund with money left;
        the first hop is ``(i, -1, fund)``."""
        listed = self.problem.listed
        parent: dict[int, tuple[int, int]] = {}
        queue: deque[int] = deque()
        for j in listed[i]:
            if j not in parent:
                parent[j] = (i, -1)
                queue.append(j)
        while queue:
            j = queue.popleft()
            if self.residual(j) > 0:
                hops: list[tuple[int, int, int]] = []
                node = j
                while True:
                    k, previous = parent[node]
                    hops.append((k, previous, node))
                    if previous < 0:
                        return hops[::-1]
                    node = previous
            for k in sorted(self.holders[j]):
                for j2 in listed[k]:
                    if j2 not in parent:
                        parent[j2] = (k, j)
                        queue.append(j2)
        return None

    def push(self, i: int, want: int) -> int:
        """Give request ``i`` up to ``want`` more; returns how much it got."""
        if want <= 0:
            return 0
        for j in self.problem.listed[i]:
            if self.residual(j) >= want:
                self._move(i, j, want)
                self.used[j] += want
                return want
        got = 0
        while got < want:
            hops = self._path(i)
            if hops is None:
                break
            delta = want - got
            end = hops[-1][2]
            delta = min(delta, self.residual(end))
            for k, source, _target in hops[1:]:
                delta = min(delta, self.flow[k][source])
            for k, source, target in hops:
                if source >= 0:
                    self._move(k, source, -delta)
                self._move(k, target, delta)
            self.used[end] += delta
            got += delta
        return got


def minimum_shares(
    problem: Problem, funded: list[int], cap: list[int]
) -> dict[int, dict[int, int]] | None:
    """Shares of the minimum amounts only, within ``cap``; None if they do not fit."""
    flow = _Flow(problem, list(cap))
    for i in award_order(problem, funded):
        if flow.push(i, problem.minimum[i]) < problem.minimum[i]:
            return None
    return {i: dict(flow.flow.get(i, {})) for i in funded}


def split_shares(problem: Problem, funded: list[int]) -> dict[int, dict[int, int]]:
    """Request index -> fund index -> amount, for a set that passes Hall's condition."""
    flow = _Flow(problem)
    order = award_order(problem, funded)
    for i in order:
        need = problem.minimum[i]
        if flow.push(i, need) < need:
            raise RuntimeError(f"the awards do not fit the funds at {problem.ids[i]!r}")
    for i in order:
        extra = problem.amount[i] - problem.minimum[i]
        if extra:
            flow.push(i, extra)
    return {i: dict(sorted(flow.flow.get(i, {}).items())) for i in funded}


def single_fund_shares(problem: Problem, fund_of: dict[int, int]) -> dict[int, dict[int, int]]:
    """Each award from its one fund: minimums first, then top-ups in award order."""
    left = list(problem.cap)
    amounts = {i: problem.minimum[i] for i in fund_of}
    for i, j in fund_of.items():
        left[j] -= problem.minimum[i]
    if any(value < 0 for value in left):
        raise RuntimeError("the awards do not fit their funds")
    for i in award_order(problem, list(fund_of)):
        j = fund_of[i]
        extra = min(problem.amount[i] - problem.minimum[i], left[j])
        amounts[i] += extra
        left[j] -= extra
    return {i: {fund_of[i]: amounts[i]} for i in fund_of}
