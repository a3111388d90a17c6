"""The bound argument that makes optimality provable: LP prices and a core knapsack DP.

A scholarship allocation is a knapsack: with many requests of similar priority per
amount, branch and bound (CP-SAT included) finds the optimum fast but cannot prove
it, because millions of subsets lie within the LP's gap. Three classical steps close
it exactly:

1. **Prices.** The LP relaxation (GLOP) gives a price ``λ_T >= 0`` per row. For *any*
   such prices, ``U = Σ λ_T cap_T + Σ_i max(0, rc_i)`` with ``rc_i = p_i - Σ_T λ_T m_i``
   bounds every allocation, and an allocation that differs from the LP's rounding on a
   set ``D`` of requests is worth at most ``U - Σ_{i in D} |rc_i|``. The bound is
   recomputed here from the prices, so it is valid whatever the LP's accuracy.
2. **Core.** To look for allocations worth at least ``U - δ``, every request with
   ``|rc_i| > δ`` is fixed to its side of the LP (reduced-cost fixing). What remains
   is the *core*: the few requests whose priority per amount is close to the price.
3. **Dynamic programme.** On the core the binding rows are folded into one surrogate
   row (integer multipliers from the prices: a relaxation) and a Pareto dynamic
   programme over (weight, value) states, pruned by the same Lagrangian bound, finds
   the core's best value exactly. States are merged by dominance, which is what
   enumeration cannot do. If the best found is worth at least ``U - δ`` it is the
   relaxation's optimum; otherwise ``δ`` grows and the search starts again.

The states carry one integer per lexicographic level (:class:`Levels`: priority,
then the number funded, ...) and dominance compares them in that order; the pruning
uses the first level (priority), whose LP is numerically tame. The result is a proven
upper bound per level for the full problem and, when the chosen set also passes every
row (it nearly always does: the other rows are slack), the optimum itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from ortools.linear_solver.python import model_builder

from .problem import Problem

_MULTIPLIER = 1024  # resolution of the surrogate row's integer multipliers
MAX_STATES = 400_000  # per step; beyond it the programme gives up (the solver goes on)

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Prices:
    """Row prices, reduced costs and the bound ``upper`` they prove (level 1, free part).

    Arrays are indexed by *slot*: a request's position in ``problem.free``.
    """

    lam: tuple[float, ...]
    rc: dict[int, float]
    upper: float
    lp_value: float
    slot: dict[int, int]
    rc_array: NDArray[np.float64]
    rows: IntArray  # rows x slots: each row's coefficients (minimum amounts)
    caps: IntArray


@dataclass(frozen=True, slots=True)
class Levels:
    """Per lexicographic level, an integer per free request (by slot) to maximise in
    total; the first level is the priority."""

    names: tuple[str, ...]
    values: tuple[IntArray, ...]


@dataclass(frozen=True, slots=True)
class Core:
    chosen: tuple[int, ...]  # free requests in the best allocation (forced ones included)
    totals: tuple[int, ...]  # its value at each level (lexicographically the relaxation's best)
    certified: bool  # value is the relaxation's optimum (an upper bound for the problem)
    feasible: bool  # the chosen set passes every row, not only the surrogate one
    delta: float
    core: int  # requests left to the programme
    states: int  # the most states held after one step

    @property
    def optimal(self) -> bool:
        return self.certified and self.feasible

    @property
    def priority(self) -> int:
        return self.totals[0] if self.totals else 0


def prices(problem: Problem) -> Prices:
    free = problem.free
    p = problem.priority
    slot = {i: k for k, i in enumerate(free)}
    matrix = np.zeros((len(problem.rows), len(free)), dtype=np.int64)
    for r, row in enumerate(problem.rows):
        for i in row.members:
            matrix[r, slot[i]] = problem.minimum[i]
    caps = np.array([row.cap for row in problem.rows], dtype=np.int64)
    lam: tuple[float, ...] = ()
    lp_value = float(sum(p[i] for i in free))
    if problem.rows:
        model = model_builder.Model()  # type: ignore[no-untyped-call]
        var = [model.new_num_var(0.0, 1.0, f"y{i}") for i in free]
        constraints = []
        for row in problem.rows:
            expr = model_builder.LinearExpr.weighted_sum(
                [var[slot[i]] for i in row.members],
                [float(problem.minimum[i]) for i in row.members],
            )
            constraints.append(model.add(expr <= float(row.cap)))
        model.maximize(model_builder.LinearExpr.weighted_sum(var, [float(p[i]) for i in free]))
        solver = model_builder.Solver("glop")
        if solver.solve(model) == model_builder.SolveStatus.OPTIMAL:
            lam = tuple(max(0.0, float(solver.dual_value(c))) for c in constraints)
            lp_value = float(solver.objective_value)
        else:  # never expected (y = 0 is feasible, the LP bounded): zero prices stay valid
            lam = tuple(0.0 for _ in constraints)
    priorities = np.array([p[i] for i in free], dtype=np.float64)
    rc_array = priorities - (np.array(lam) @ matrix if lam else 0.0)
    upper = float(sum(price * row.cap for row, price in zip(problem.rows, lam, strict=True)))
    upper += float(np.maximum(rc_array, 0.0).sum())
    rc = {i: float(rc_array[k]) for k, i in enumerate(free)}
    return Prices(lam, rc, upper, lp_value, slot, rc_array, matrix, caps)


def levels(problem: Problem, names: tuple[str, ...]) -> Levels:
    """``priority``, ``count`` (one per funded), ``cheaper`` (minus the amount asked: a
    proxy for the shortfall, see :mod:`.solve`) and ``ids`` (:func:`id_weights`)."""
    weights = id_weights(problem)
    free = problem.free
    table = {
        "priority": [problem.priority[i] for i in free],
        "count": [1] * len(free),
        "cheaper": [-problem.amount[i] for i in free],
        "ids": [weights[i] for i in free],
    }
    return Levels(names, tuple(np.array(table[name], dtype=np.int64) for name in names))


def id_weights(problem: Problem) -> list[int]:
    """The tie-break level: ``n - position`` of each request among all ids, sorted."""
    n = problem.n
    weights = [0] * n
    for position, i in enumerate(sorted(range(n), key=lambda i: problem.ids[i])):
        weights[i] = n - position
    return weights


def passes_rows(pr: Prices, chosen: BoolArray) -> bool:
    return bool(np.all(pr.rows @ chosen.astype(np.int64) <= pr.caps))


def core_search(
    problem: Problem,
    pr: Prices,
    lv: Levels,
    *,
    forced_in: frozenset[int] = frozenset(),
    forced_out: frozenset[int] = frozenset(),
    known: int | None = None,
    deadline: float | None = None,
) -> Core | None:
    """The best allocation of the relaxation, proven, or ``None`` (gave up on time/size).

    ``known`` is the priority of an allocation known to be feasible (with the forced
    requests), so that the search never needs ``δ`` beyond ``upper - known``.
    """
    rc = pr.rc_array
    n = len(problem.free)
    must = np.zeros(n, dtype=np.bool_)
    never = np.zeros(n, dtype=np.bool_)
    for i in forced_in:
        must[pr.slot[i]] = True
    for i in forced_out:
        never[pr.slot[i]] = True
    upper = pr.upper - float(np.maximum(-rc[must], 0.0).sum())
    upper -= float(np.maximum(rc[never], 0.0).sum())
    eps = 1e-7 * max(1.0, abs(pr.upper))
    # The δ schedule: small first (a tiny core), doubling.
    reach = upper - known if known is not None else upper
    delta = max(1.0, reach / 64.0)
    while True:
        if deadline is not None and time.monotonic() > deadline:
            return None
        result = _attempt(problem, pr, lv, must, never, upper, delta, eps, deadline)
        if result is None:
            return None  # too many states: a wider core would only hold more
        if result.certified or delta >= reach + 1.0:
            return result  # uncertified only if ``known`` was wrong
        delta = min(delta * 2.0, reach + 1.0)


def _attempt(
    problem: Problem,
    pr: Prices,
    lv: Levels,
    must: BoolArray,
    never: BoolArray,
    upper: float,
    delta: float,
    eps: float,
    deadline: float | None,
) -> Core | None:
    rc = pr.rc_array
    target = upper - delta
    take_all = must | ((rc > delta + eps) & ~never)
    drop_all = never | ((rc < -delta - eps) & ~must)
    core = np.flatnonzero(~take_all & ~drop_all)
    residual = pr.caps - pr.rows @ take_all.astype(np.int64)
    base = [int(values[take_all].sum()) for values in lv.values]
    if np.any(residual < 0):
        # The decided requests overrun a row: nothing is worth U - δ.
        return _failed(lv, delta, len(core), 0)
    touched = (pr.rows[:, core] != 0).any(axis=1) if len(core) else np.zeros(len(pr.caps), bool)
    lam = np.array(pr.lam) if pr.lam else np.zeros(0)
    binding = np.flatnonzero(touched & (lam > 0)) if len(lam) else np.zeros(0, dtype=np.int64)
    if not len(binding):
        binding = np.flatnonzero(touched)
    top = float(lam[binding].max()) if len(binding) else 0.0
    if top > 0:
        mult = np.maximum(1, np.rint(lam[binding] / top * _MULTIPLIER)).astype(np.int64)
    else:
        mult = np.ones(len(binding), dtype=np.int64)
    nu = top / _MULTIPLIER if top > 0 else 0.0
    weight_of = mult @ pr.rows[binding][:, core] if len(binding) else np.zeros(len(core), int)
    capacity = int(mult @ residual[binding]) if len(binding) else 0
    # Decisive requests first: their wrong choices are pruned at once.
    ids = problem.ids
    free = problem.free
    order = sorted(range(len(core)), key=lambda k: (-abs(rc[core[k]]), ids[free[core[k]]]))
    core = core[order]
    weight_of = np.asarray(weight_of, dtype=np.int64)[order]
    priorities = lv.values[0][core].astype(np.float64)
    gain = np.maximum(priorities - nu * weight_of, 0.0)
    rest = np.concatenate([np.cumsum(gain[::-1])[::-1], [0.0]])
    core_values = [values[core] for values in lv.values]
    w_states: IntArray = np.zeros(1, dtype=np.int64)
    l_states = [np.zeros(1, dtype=np.int64) for _ in lv.values]
    parents: list[IntArray] = []
    takes: list[BoolArray] = []
    most = 1
    floor = target - base[0] - eps
    for k in range(len(core)):
        w = int(weight_of[k])
        w_new = w_states + w
        ok = w_new <= capacity
        n_old = len(w_states)
        w_all = np.concatenate([w_states, w_new[ok]])
        l_all = [
            np.concatenate([states, (states + int(values[k]))[ok]])
            for states, values in zip(l_states, core_values, strict=True)
        ]
        parent = np.concatenate([np.arange(n_old, dtype=np.int64), np.flatnonzero(ok)])
        take = np.concatenate([np.zeros(n_old, dtype=np.bool_), np.ones(int(ok.sum()), np.bool_)])
        # By weight, then best first; a state is kept when it beats every lighter one.
        order_k = np.lexsort((*(-states for states in reversed(l_all)), w_all))
        w_all, parent, take = w_all[order_k], parent[order_k], take[order_k]
        l_all = [states[order_k] for states in l_all]
        rank = _ranks(l_all)
        keep = np.empty(len(rank), dtype=np.bool_)
        keep[0] = True
        if len(rank) > 1:
            keep[1:] = rank[1:] > np.maximum.accumulate(rank)[:-1]
        bound = l_all[0].astype(np.float64) + rest[k + 1] + nu * (capacity - w_all)
        keep &= bound >= floor
        w_states = w_all[keep]
        l_states = [states[keep] for states in l_all]
        parents.append(parent[keep])
        takes.append(take[keep])
        most = max(most, len(w_states))
        if len(w_states) > MAX_STATES:
            return None
        if deadline is not None and k % 16 == 15 and time.monotonic() > deadline:
            return None
        if not len(w_states):
            return _failed(lv, delta, len(core), most)
    best = int(np.argmax(_ranks(l_states)))
    chosen = take_all.copy()
    state = best
    for k in range(len(core) - 1, -1, -1):
        if takes[k][state]:
            chosen[core[k]] = True
        state = int(parents[k][state])
    totals = tuple(b + int(states[best]) for b, states in zip(base, l_states, strict=True))
    return Core(
        chosen=tuple(sorted(free[k] for k in np.flatnonzero(chosen))),
        totals=totals,
        certified=totals[0] >= target - eps,
        feasible=passes_rows(pr, chosen),
        delta=delta,
        core=len(core),
        states=most,
    )


def _ranks(columns: list[IntArray]) -> IntArray:
    """Dense ranks of the rows of ``columns`` in lexicographic order (first column first)."""
    if len(columns) == 1:
        return columns[0]
    order = np.lexsort(tuple(reversed(columns)))
    n = len(order)
    rank = np.zeros(n, dtype=np.int64)
    if n > 1:
        changed = np.zeros(n - 1, dtype=np.bool_)
        for column in columns:
            ordered = column[order]
            changed |= ordered[1:] != ordered[:-1]
        rank[order[1:]] = np.cumsum(changed)
    return rank


def _failed(lv: Levels, delta: float, core: int, states: int) -> Core:
    """No allocation is worth ``upper - delta`` with these fixings."""
    return Core((), tuple(0 for _ in lv.values), False, False, delta, core, states)


def face_fixings(problem: Problem, pr: Prices, priority: int) -> dict[int, int]:
    """Requests decided in every allocation worth at least ``priority`` (level 1).

    Flipping request ``i`` from its LP side costs ``|rc_i|``, so when that exceeds
    ``upper - priority`` no such allocation flips it.
    """
    eps = 1e-7 * max(1.0, abs(pr.upper))
    slack = pr.upper - priority
    decided: dict[int, int] = {}
    for i in problem.free:
        if pr.rc[i] > slack + eps:
            decided[i] = 1
        elif pr.rc[i] < -slack - eps:
            decided[i] = 0
    return decided
