"""The allocation model on OR-Tools CP-SAT, solved level by level, and its orchestration.

One Boolean ``y[i]`` per free request says it is funded. With splitting allowed the
only constraints are Hall's rows (:mod:`medexchange.engines.funding.problem`): the
shares are a flow computed afterwards. Without splitting ``z[i, j]`` says award ``i``
draws on fund ``j`` alone, and each fund's minimums must fit it.

The objective is lexicographic: (1) total priority funded, (2) number of requests
funded, (3) least total shortfall (requested minus given, over the funded), (4) earlier
ids first (each funded request weighs ``n - its position in id order``). Each level is
a phase, fixed at its proven optimum before the next.

Before CP-SAT runs, :mod:`medexchange.engines.funding.bound` proves a bound for each
level and usually finds an allocation that meets them all; CP-SAT gets the bounds as
constraints (each only while the earlier levels took the programme's values, which is
what makes it valid), the allocation (or a greedy one) as its hint, and the requests
that every allocation at least as good decides as fixed values. Each phase is then
proven at once; without the programme it is an ordinary time-limited search.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from .bound import Core, Prices, core_search, face_fixings, id_weights, levels, prices
from .greedy import greedy, pack, place_pins
from .model import Conflict
from .problem import Problem

DEFAULT_WORKERS = 2
# The main solve leaves this share of the time limit to the explanations.
EXPLANATION_SHARE = 0.15
LEVELS = ("priority", "count", "shortfall", "ids")
_PRESOLVE_LIMIT = 500

Literal = cp_model.IntVar


@dataclass
class Outcome:
    """What the solver decided, in indices; :mod:`.explain` turns it into a Result."""

    status: str  # optimal, feasible, infeasible, unknown
    funded: list[int]  # free requests funded (pinned awards not included)
    fund_of: dict[int, int]  # without splitting: award -> fund (pinned awards too)
    bound: int | None  # upper bound of the free part's priority, hundredths
    prices: Prices | None = None
    core: Core | None = None
    conflicts: list[Conflict] = field(default_factory=list)
    levels: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


class _Model:
    """The CP-SAT model with some free requests decided in advance (``decided``)."""

    def __init__(self, problem: Problem, decided: dict[int, int]) -> None:
        self.problem = problem
        self.model = cp_model.CpModel()
        self.y: dict[int, Literal] = {}
        self.z: dict[tuple[int, int], Literal] = {}
        self.ones = [i for i in problem.free if decided.get(i) == 1]
        for i in problem.free:
            if i not in decided:
                self.y[i] = self.model.new_bool_var(f"y{i}")
        if problem.split:
            self._rows()
        else:
            self._single_funds()

    def _rows(self) -> None:
        p, m = self.problem, self.problem.minimum
        ones = set(self.ones)
        for row in p.rows:
            const = sum(m[i] for i in row.members if i in ones)
            terms = [(self.y[i], m[i]) for i in row.members if i in self.y]
            if sum(c for _v, c in terms) + const > row.cap:
                self.model.add(
                    cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms])
                    <= row.cap - const
                )

    def _single_funds(self) -> None:
        p = self.problem
        m, cap = p.minimum, p.cap
        for i in [*self.y, *self.ones, *p.awarded]:
            options = [j for j in p.listed[i] if cap[j] >= m[i]]
            for j in options:
                self.z[i, j] = self.model.new_bool_var(f"z{i}_{j}")
            chosen = [self.z[i, j] for j in options]
            if i in self.y:
                self.model.add(sum(chosen) == self.y[i])
            else:
                self.model.add_exactly_one(chosen)
        for j in range(len(cap)):
            items = [(var, m[i]) for (i, jj), var in self.z.items() if jj == j]
            if sum(c for _v, c in items) > cap[j]:
                self.model.add(
                    cp_model.LinearExpr.weighted_sum([v for v, _ in items], [c for _, c in items])
                    <= cap[j]
                )

    def weighted(self, values: dict[int, int]) -> cp_model.LinearExprT:
        """``sum(values[i] * y[i])`` over the free requests, decided ones as constants."""
        keys = list(self.y)
        const = sum(values[i] for i in self.ones)
        return (
            cp_model.LinearExpr.weighted_sum([self.y[i] for i in keys], [values[i] for i in keys])
            + const
        )

    def shortfall(self) -> cp_model.LinearExprT:
        """Requested minus given over all awards, at the best flow (or per fund)."""
        p = self.problem
        a = p.amount
        total = sum(a[i] for i in [*p.free, *p.awarded])
        if p.split:
            short = self.model.new_int_var(0, total, "shortfall")
            ones = set(self.ones)
            for row in p.short_rows:
                const = sum(a[i] for i in row.members if i in ones)
                terms = [(self.y[i], a[i]) for i in row.members if i in self.y]
                if not terms and const <= row.cap:
                    continue
                expr = cp_model.LinearExpr.weighted_sum(
                    [v for v, _ in terms], [c for _, c in terms]
                )
                self.model.add(short >= expr + const - row.cap)
            return short
        parts: list[cp_model.IntVar] = []
        for j, cap in enumerate(p.cap):
            items = [(var, a[i]) for (i, jj), var in self.z.items() if jj == j]
            asked = sum(c for _v, c in items)
            if asked <= cap:
                continue
            part = self.model.new_int_var(0, asked, f"short{j}")
            expr = cp_model.LinearExpr.weighted_sum([v for v, _ in items], [c for _, c in items])
            self.model.add(part >= expr - cap)
            parts.append(part)
        return cp_model.LinearExpr.sum(parts)

    def hint(self, funded: set[int], fund_of: dict[int, int] | None) -> None:
        self.model.clear_hints()  # type: ignore[no-untyped-call]
        for i, var in self.y.items():
            self.model.add_hint(var, i in funded)
        if fund_of is not None:
            for (i, j), var in self.z.items():
                self.model.add_hint(var, fund_of.get(i) == j)


def _solver(seconds: float, workers: int, built: _Model | None = None) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, seconds)
    solver.parameters.num_workers = max(1, workers)
    if built is not None and built.problem.split and len(built.y) > _PRESOLVE_LIMIT:
        # On a thousand requests in a few dense rows CP-SAT's presolve (dominance
        # detection) alone outlasts a 10 s limit (measured on the benchmark).
        solver.parameters.cp_model_presolve = False
    return solver


def _read(built: _Model, solver: cp_model.CpSolver) -> tuple[set[int], dict[int, int]]:
    funded = {i for i, var in built.y.items() if solver.boolean_value(var)}
    funded.update(built.ones)
    fund_of = {i: j for (i, j), var in built.z.items() if solver.boolean_value(var)}
    return funded, fund_of


def pins_packing_conflict(problem: Problem, seconds: float, workers: int) -> Conflict | None:
    """Without splitting: whether the pinned awards fit single funds (and which do not)."""
    if not problem.awarded or place_pins(problem) is not None:
        return None
    model = cp_model.CpModel()
    m, cap = problem.minimum, problem.cap
    z: dict[tuple[int, int], Literal] = {}
    assumption: dict[int, Literal] = {}
    for i in problem.awarded:
        options = [j for j in problem.listed[i] if cap[j] >= m[i]]
        for j in options:
            z[i, j] = model.new_bool_var(f"z{i}_{j}")
        assumption[i] = model.new_bool_var(f"pin{i}")
        model.add(sum(z[i, j] for j in options) == 1).only_enforce_if(assumption[i])
    for j in range(len(cap)):
        items = [(var, m[i]) for (i, jj), var in z.items() if jj == j]
        if items:
            model.add(
                cp_model.LinearExpr.weighted_sum([v for v, _ in items], [c for _, c in items])
                <= cap[j]
            )
    model.add_assumptions(list(assumption.values()))
    solver = _solver(seconds, 1)  # assumptions need a single worker
    status = solver.solve(model)
    if status != cp_model.INFEASIBLE:
        return None
    by_index = {var.index: i for i, var in assumption.items()}
    core = sorted(
        (by_index[k] for k in solver.sufficient_assumptions_for_infeasibility()),
        key=lambda i: problem.ids[i],
    )
    funds = 0
    for i in core:
        funds |= problem.mask[i]
    return Conflict(
        "pinned_awards_do_not_fit_single_funds",
        {
            "requests": [problem.ids[i] for i in core],
            "funds": problem.fund_names(funds),
            "available": problem.capacity(funds),
            "needed": sum(m[i] for i in core),
        },
    )


def shortfall_of(problem: Problem, chosen: set[int], fund_of: dict[int, int]) -> int:
    """Requested minus given for an allocation: at the best flow (split), or per fund."""
    a = problem.amount
    if problem.split:
        worst = 0
        for row in problem.short_rows:
            worst = max(worst, sum(a[i] for i in row.members if i in chosen) - row.cap)
        return worst
    asked = [0] * len(problem.cap)
    for i, j in fund_of.items():
        if i in chosen or i in problem.awarded:
            asked[j] += a[i]
    return sum(max(0, value - cap) for value, cap in zip(asked, problem.cap, strict=True))


def _shortfall_floor(problem: Problem, asked: int) -> int:
    """The least shortfall of allocations whose free awards ask ``asked`` in total: what
    they and the pins ask beyond all the money their funds hold (split or not)."""
    union = 0
    for i in [*problem.free, *problem.awarded]:
        union |= problem.mask[i]
    pins = sum(problem.amount[i] for i in problem.awarded)
    return max(0, asked + pins - problem.capacity(union))


def solve_problem(
    problem: Problem, *, time_limit: float, workers: int = DEFAULT_WORKERS
) -> Outcome:
    started = time.monotonic()
    deadline = started + time_limit * (1 - EXPLANATION_SHARE)
    stats: dict[str, Any] = {"free": len(problem.free), "rows": len(problem.rows)}

    def left() -> float:
        return deadline - time.monotonic()

    if problem.conflicts:
        return Outcome("infeasible", [], {}, None, conflicts=list(problem.conflicts), stats=stats)
    if not problem.split:
        conflict = pins_packing_conflict(problem, max(0.5, left() / 2), workers)
        if conflict is not None:
            return Outcome("infeasible", [], {}, None, conflicts=[conflict], stats=stats)

    pinned = set(problem.awarded)
    hint_set, hint_funds = greedy(problem, "ratio")
    hint_priority = sum(problem.priority[i] for i in hint_set)
    pr = prices(problem)
    stats["lp_bound"] = pr.upper
    flexible = problem.flexible
    names = ("priority", "count", "cheaper", "ids") if flexible else ("priority", "count", "ids")
    t0 = time.monotonic()
    bound_deadline = started + time_limit * 0.4
    core = core_search(
        problem, pr, levels(problem, names), known=hint_priority, deadline=bound_deadline
    )
    # With minimum amounts the id level is bounded over all plans of best priority and
    # count, whatever their shortfall: a second programme without the shortfall proxy.
    second: Core | None = None
    if flexible and core is not None and core.certified:
        second = core_search(
            problem,
            pr,
            levels(problem, ("priority", "count", "ids")),
            known=hint_priority,
            deadline=bound_deadline,
        )
    stats["bound_seconds"] = round(time.monotonic() - t0, 4)
    if core is not None:
        stats["core"] = {
            "size": core.core,
            "delta": round(core.delta, 2),
            "states": core.states,
            "certified": core.certified,
            "feasible": core.feasible,
        }

    decided: dict[int, int] = {}
    hint: set[int] = set(hint_set)
    hint_of: dict[int, int] | None = hint_funds if not problem.split else None
    packed: dict[int, int] | None = None
    if core is not None and core.optimal:
        wanted = set(core.chosen)
        if problem.split:
            packed = {}
        else:
            # The relaxation's optimum is the optimum if it fits single funds.
            placed, placed_of = pack(problem, wanted)
            if wanted.issubset(placed):
                packed = {i: j for i, j in placed_of.items() if i in wanted or i in pinned}
            else:
                packed = _pack(problem, wanted, min(left() / 6, 1.5), workers)
                if packed is None and sum(problem.priority[i] for i in placed) > hint_priority:
                    hint, hint_of = set(placed), placed_of
        if packed is not None:
            # The optimum is worth core.priority: decide what every such allocation decides.
            decided = face_fixings(problem, pr, core.priority)
            hint = wanted
            hint_of = packed if not problem.split else None
    if not decided:
        # Every allocation better than the hint keeps these decisions: the model without
        # the others still holds every improvement, so its optimum is the optimum.
        decided = face_fixings(problem, pr, sum(problem.priority[i] for i in hint))
    built = _Model(problem, decided)
    built.hint(hint, hint_of)
    stats["variables"] = len(built.y) + len(built.z)

    weights = id_weights(problem)
    expressions: dict[str, tuple[cp_model.LinearExprT, bool]] = {
        "priority": (built.weighted({i: problem.priority[i] for i in problem.free}), True),
        "count": (built.weighted(dict.fromkeys(problem.free, 1)), True),
        "ids": (built.weighted({i: weights[i] for i in problem.free}), True),
    }
    if flexible:
        expressions["shortfall"] = (built.shortfall(), False)

    # What the programme proved, each valid while the earlier levels took its values.
    by_dp: dict[str, int] = {}
    if core is not None and core.certified:
        by_dp = dict(zip(names, core.totals, strict=True))
    floor = _shortfall_floor(problem, -by_dp["cheaper"]) if "cheaper" in by_dp else 0
    ids_bound = by_dp.get("ids") if not flexible else None
    if flexible and core is not None and by_dp:
        if second is not None and second.certified and second.totals[:2] == core.totals[:2]:
            ids_bound = second.totals[2]
        met = packed is not None and shortfall_of(problem, set(core.chosen), packed) == floor
        if met and floor > 0:
            # The floor is met: the best plans are exactly the programme's cheapest ones,
            # over which it maximised the ids too.
            ids_bound = core.totals[3] if ids_bound is None else min(ids_bound, core.totals[3])

    funded: set[int] = set()
    fund_of: dict[int, int] = {}
    status = "optimal"
    bound: int | None = None
    levels_out: list[dict[str, Any]] = []
    on_face = bool(by_dp)
    for k, name in enumerate(level for level in LEVELS if level in expressions):
        expr, maximize = expressions[name]
        if maximize:
            built.model.maximize(expr)
        else:
            built.model.minimize(expr)
        if on_face:
            if name in ("priority", "count"):
                built.model.add(expr <= by_dp[name])
            elif name == "shortfall" and floor:
                built.model.add(expr >= floor)
            elif name == "ids" and ids_bound is not None:
                built.model.add(expr <= ids_bound)
        solver = _solver(left(), workers, built)
        t0 = time.monotonic()
        result = solver.solve(built.model)
        seconds = round(time.monotonic() - t0, 4)
        if result not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            # At the first phase not even the hint survived the time limit.
            status = "unknown" if k == 0 else "feasible"
            levels_out.append({"level": name, "status": solver.status_name(result)})
            break
        funded, fund_of = _read(built, solver)
        value = int(solver.value(expr))
        proven = result == cp_model.OPTIMAL
        best = value if proven else round(solver.best_objective_bound)
        if name == "priority":
            bound = min(best, by_dp.get("priority", best))
        levels_out.append(
            {"level": name, "value": value, "bound": best, "proven": proven, "seconds": seconds}
        )
        if not proven:
            status = "feasible"
            break
        if name in ("priority", "count"):
            on_face = on_face and value == by_dp[name]
        built.model.add(expr == value)
        built.hint(funded, fund_of if not problem.split else None)
        if (
            name == "shortfall"
            and problem.split
            and second is not None
            and second.feasible
            and shortfall_of(problem, set(second.chosen), {}) == value
        ):
            built.hint(set(second.chosen), None)  # it meets the id bound
    if status == "unknown":
        return Outcome("unknown", [], {}, None, pr, core, levels=levels_out, stats=stats)
    free_funded = sorted(i for i in funded if i not in pinned)
    return Outcome(status, free_funded, fund_of, bound, pr, core, levels=levels_out, stats=stats)


def _pack(
    problem: Problem, chosen: set[int], seconds: float, workers: int
) -> dict[int, int] | None:
    """Without splitting: single funds for the awards ``chosen`` (and the pins), if any."""
    decided = {i: int(i in chosen) for i in problem.free}
    built = _Model(problem, decided)
    solver = _solver(seconds, workers)
    if solver.solve(built.model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return _read(built, solver)[1]


def forced_cost(
    problem: Problem,
    outcome: Outcome,
    i: int,
    *,
    deadline: float,
    workers: int = DEFAULT_WORKERS,
) -> tuple[int, bool, int | None] | None:
    """The least priority lost by funding request ``i`` too: ``(cost, exact, displaced)``.

    ``exact`` is False when only a lower bound is proven; ``displaced`` counts the
    requests funded now that the best allocation with ``i`` leaves out (when exact).
    """
    pr = outcome.prices
    if pr is None:
        return None
    best = sum(problem.priority[k] for k in outcome.funded)
    plain = levels(problem, ("priority",))
    known = _known_with(problem, outcome.funded, i)
    core = core_search(problem, pr, plain, forced_in=frozenset([i]), known=known, deadline=deadline)
    if core is None or not core.certified:
        return None
    relaxed_cost = max(0, best - core.priority)
    if problem.split and core.feasible:
        return relaxed_cost, True, len(set(outcome.funded) - set(core.chosen))
    # The relaxation's best does not fit (or not single funds): a warm-started re-solve
    # with the request forced in, bounded by the relaxation.
    seconds = deadline - time.monotonic()
    if seconds <= 0.05:
        return relaxed_cost, False, None
    built = _Model(problem, {i: 1})
    built.hint(set(core.chosen), None)
    priority = built.weighted({k: problem.priority[k] for k in problem.free})
    built.model.add(priority <= core.priority)
    built.model.maximize(priority)
    solver = _solver(seconds, workers, built)
    status = solver.solve(built.model)
    if status == cp_model.OPTIMAL:
        chosen, _ = _read(built, solver)
        value = int(solver.value(priority))
        return max(0, best - value), True, len(set(outcome.funded) - chosen)
    if status == cp_model.FEASIBLE:
        return max(relaxed_cost, best - round(solver.best_objective_bound)), False, None
    return relaxed_cost, False, None


def _known_with(problem: Problem, funded: list[int], i: int) -> int | None:
    """The priority of some allocation funding ``i``: the plan with ``i`` added and, while
    a row overflows, its lowest priority-per-amount award removed (Hall's rows)."""
    m, p = problem.minimum, problem.priority
    chosen = set(funded) | {i}
    loads = [0] * len(problem.rows)
    for k in chosen:
        for r in problem.rows_of.get(k, ()):
            loads[r] += m[k]
    over = {r for r in problem.rows_of.get(i, ()) if loads[r] > problem.rows[r].cap}
    for k in sorted(funded, key=lambda k: (p[k] / m[k], problem.ids[k])):
        if not over:
            break
        mine = problem.rows_of.get(k, ())
        if not over.intersection(mine):
            continue
        chosen.discard(k)
        for r in mine:
            loads[r] -= m[k]
            if loads[r] <= problem.rows[r].cap:
                over.discard(r)
    if over:
        return None
    return sum(p[k] for k in chosen)
