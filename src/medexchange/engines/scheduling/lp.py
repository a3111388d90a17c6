"""A small sparse linear program, solved by GLOP, with a bound that does not trust GLOP.

The bound of a maximisation is recomputed from GLOP's dual values as a Lagrangian bound:
for any multipliers ``mu``, ``c.x = mu.(A x) + (c - mu A).x`` and each part is bounded
from the row limits and the variable bounds, so the figure is an upper bound of every
feasible point whatever the multipliers' accuracy (only its tightness depends on them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ortools.linear_solver.python import model_builder_helper as mbh
from ortools.sat.python import cp_model

INF = math.inf


@dataclass(frozen=True, slots=True)
class Integer:
    """An integer solve: its value and proven bound (None when time ran out first)."""

    value: int | None = None
    bound: int | None = None
    values: list[int] = field(default_factory=list)
    infeasible: bool = False


class SparseLP:
    """Variables in ``[0, upper]``; rows ``lo <= sum(coef * var) <= hi``; maximise."""

    def __init__(self) -> None:
        self.upper: list[float] = []
        self.objective: list[float] = []
        self.rows: list[tuple[list[int], list[float], float, float]] = []
        self.values: list[float] = []
        self.infeasible = False  # GLOP proved that no point meets the rows

    def var(self, upper: float = 1.0, objective: float = 0.0) -> int:
        self.upper.append(upper)
        self.objective.append(objective)
        return len(self.upper) - 1

    def row(self, index: list[int], coef: list[float], lo: float, hi: float) -> None:
        self.rows.append((index, coef, lo, hi))

    def maximize(self, *, seconds: float) -> float | None:
        """A certified upper bound of the maximum (None when GLOP gives up or the LP is
        infeasible: then nothing is claimed). ``values`` holds GLOP's solution."""
        model = mbh.ModelBuilderHelper()
        for ub, c in zip(self.upper, self.objective, strict=True):
            j = model.add_var()
            model.set_var_lower_bound(j, 0.0)
            model.set_var_upper_bound(j, ub)
            if c:
                model.set_var_objective_coefficient(j, c)
        for index, coef, lo, hi in self.rows:
            i = model.add_linear_constraint()
            model.set_constraint_lower_bound(i, lo)
            model.set_constraint_upper_bound(i, hi)
            for j, a in zip(index, coef, strict=True):
                model.add_term_to_constraint(i, j, a)
        model.set_maximize(True)
        solver = mbh.ModelSolverHelper("glop")
        solver.set_time_limit_in_seconds(max(0.05, seconds))
        solver.solve(model)
        status = solver.status()
        if status != mbh.SolveStatus.OPTIMAL:
            self.infeasible = status == mbh.SolveStatus.INFEASIBLE
            return None
        self.values = [float(v) for v in solver.variable_values()]
        return self._certified([float(mu) for mu in solver.dual_values()])

    def solve_integer(
        self, *, at_most: int, seconds: float, workers: int, hint: list[int] | None = None
    ) -> Integer:
        """CP-SAT on the same rows, every column an integer in ``[0, upper]`` (rows and
        objective have integer coefficients here). ``at_most`` is a known bound (the
        LP's), added so that reaching it ends the search; ``hint`` (by default GLOP's
        rounded solution) is where the search starts."""
        model = cp_model.CpModel()
        columns = [model.new_int_var(0, int(ub), "") for ub in self.upper]
        for index, coef, lo, hi in self.rows:
            expression = cp_model.LinearExpr.weighted_sum(
                [columns[j] for j in index], [round(a) for a in coef]
            )
            if lo == hi:
                model.add(expression == round(lo))
            else:
                if lo != -INF:
                    model.add(expression >= math.ceil(lo))
                if hi != INF:
                    model.add(expression <= math.floor(hi))
        terms = [(j, round(c)) for j, c in enumerate(self.objective) if c]
        objective = cp_model.LinearExpr.weighted_sum(
            [columns[j] for j, _ in terms], [c for _, c in terms]
        )
        model.add(objective <= at_most)
        model.maximize(objective)
        start = hint if hint is not None else [round(v) for v in self.values]
        for j, v in enumerate(start):
            model.add_hint(columns[j], min(max(0, v), int(self.upper[j])))
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.05, seconds)
        solver.parameters.num_workers = max(1, workers)
        status = solver.solve(model)
        if status == cp_model.INFEASIBLE:
            return Integer(infeasible=True)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return Integer()
        return Integer(
            value=round(solver.objective_value),
            bound=round(solver.best_objective_bound),
            values=[solver.value(column) for column in columns],
        )

    def _certified(self, duals: list[float]) -> float:
        reduced = list(self.objective)
        bound = 0.0
        for (index, coef, lo, hi), mu in zip(self.rows, duals, strict=True):
            if (mu > 0 and hi == INF) or (mu < 0 and lo == -INF):
                mu = 0.0  # this multiplier would claim nothing: drop it
            if mu == 0.0:
                continue
            bound += mu * (hi if mu > 0 else lo)
            for j, a in zip(index, coef, strict=True):
                reduced[j] -= mu * a
        for j, r in enumerate(reduced):
            if r > 0:
                if self.upper[j] == INF:
                    return INF
                bound += r * self.upper[j]
        return bound


def floor_bound(value: float) -> int:
    """The integer bound a certified real upper bound gives (float noise allowed for)."""
    return math.floor(value + 1e-6 * max(1.0, abs(value)))
