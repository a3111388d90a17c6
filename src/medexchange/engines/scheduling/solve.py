"""The CP-SAT model of a rotation plan, its objective, and the explanation of conflicts.

One Boolean ``x[p, s, t]`` says participant ``p`` is at site ``s`` in period ``t``;
``y[p, s]`` says ``p`` visits ``s`` at some point. Hard rules are clauses and linear
constraints over them. The objective is lexicographic, folded into one weighted sum:
with a previous plan, fewest changes first; then satisfied preferences and diversity of
exposure; then balance.

When no plan exists, the same rules are rebuilt with one assumption literal per rule
(per site, participant or pair), and CP-SAT's sufficient assumptions for infeasibility,
shrunk by deletion, name the rules that conflict.

Plans where stays of one period are allowed and nothing is to be repaired go through the
exact shortcut of :mod:`.distinct` first; this general model is the fallback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ortools.sat.python import cp_model

from . import distinct
from .facts import Cells, allowed, speaks
from .model import Conflict, Participant, Plan, Score, Solution
from .score import score_of

DEFAULT_TIME_LIMIT = 30.0
DEFAULT_WORKERS = 2
# The general model's subsolvers with two workers. CP-SAT then runs one full-problem
# worker, the first of the list, and shares the other thread among its neighbourhood
# searches: default_lp for the gain, max_lp (the LP with every clause) for the balance.
# Measured on the month of bench/bench_scheduling.py with the shortcut off: CP-SAT's own
# choice did not prove the balance in 30 s, this one did in 2-8 s (under load).
_TWO_WORKERS = {"gain": ["default_lp", "max_lp"], "imbalance": ["max_lp", "core"]}
# Cores bigger than this are reported as found, without shrinking them one by one.
_SHRINK_LIMIT = 24

Literal = cp_model.IntVar


__all__ = ["allowed", "explain", "solve", "speaks"]


@dataclass
class _Built:
    model: cp_model.CpModel
    x: dict[tuple[int, int, int], Literal]
    y: dict[tuple[int, int], Literal]
    assumptions: dict[str, Literal]
    preferences: cp_model.LinearExpr
    diversity: cp_model.LinearExpr
    imbalance: cp_model.LinearExpr
    changes: cp_model.LinearExpr


class _Builder:
    """Adds every rule, each under its own assumption literal when ``explain`` is set."""

    def __init__(self, plan: Plan, *, explain: bool) -> None:
        self.plan = plan
        self.explain = explain
        self.model = cp_model.CpModel()
        self.assumptions: dict[str, Literal] = {}
        self.x: dict[tuple[int, int, int], Literal] = {}
        self.y: dict[tuple[int, int], Literal] = {}
        self.site_index = {site.id: s for s, site in enumerate(plan.sites)}
        self.period_index = {period.id: t for t, period in enumerate(plan.periods)}
        self.person_index = {person.id: p for p, person in enumerate(plan.participants)}

    # ------------------------------------------------------------------ helpers
    def rule(self, code: str) -> list[Literal]:
        """The enforcement literals for a rule: none outside explanation mode."""
        if not self.explain:
            return []
        if code not in self.assumptions:
            self.assumptions[code] = self.model.new_bool_var(code)
        return [self.assumptions[code]]

    def cell(self, p: int, s: int, t: int) -> Literal | None:
        return self.x.get((p, s, t))

    def cells_at(self, p: int, s: int) -> Iterator[tuple[int, Literal]]:
        for t in self.plan.participants[p].periods:
            var = self.x.get((p, s, t))
            if var is not None:
                yield t, var

    # ------------------------------------------------------------------ variables
    def variables(self) -> None:
        plan = self.plan
        for p, person in enumerate(plan.participants):
            for s, site in enumerate(plan.sites):
                for t in person.periods:
                    if self.explain:
                        if t in site.closed or site.capacity[t] == 0:
                            continue  # a closed site is a fact, not a rule to relax
                        self.x[p, s, t] = self.model.new_bool_var(f"x{p}_{s}_{t}")
                    elif allowed(plan, p, s, t):
                        self.x[p, s, t] = self.model.new_bool_var(f"x{p}_{s}_{t}")
        if self.explain:
            for (p, s, _t), var in self.x.items():
                person, site = plan.participants[p], plan.sites[s]
                if site.id in person.must_not_visit:
                    self.model.add(var == 0).only_enforce_if(
                        self.rule(f"must_not_visit:{person.id}:{site.id}")
                    )
                elif not speaks(site, person):
                    self.model.add(var == 0).only_enforce_if(self.rule(f"language:{person.id}"))
        for p in range(len(plan.participants)):
            for s in range(len(plan.sites)):
                cells = [var for _t, var in self.cells_at(p, s)]
                if not cells:
                    continue
                visit = self.model.new_bool_var(f"y{p}_{s}")
                self.y[p, s] = visit
                for var in cells:
                    self.model.add_implication(var, visit)
                self.model.add_bool_or(cells).only_enforce_if(visit)

    def bounds(self) -> None:
        """Redundant rows over the visits alone: they give the LP relaxation the bound
        that proves optimality (a stay of n periods visits at most n / min_stay sites; a
        site receives at most as many visits as its open places allow)."""
        if self.explain:
            return  # they restate capacity and stays, which explanations must relax
        plan = self.plan
        m = plan.rules.min_stay
        for p, person in enumerate(plan.participants):
            visits = [self.y[p, s] for s in range(len(plan.sites)) if (p, s) in self.y]
            if visits:
                self.model.add(sum(visits) <= len(person.periods) // m)
        for s, site in enumerate(plan.sites):
            visits = [self.y[p, s] for p in range(len(plan.participants)) if (p, s) in self.y]
            places = sum(c for t, c in enumerate(site.capacity) if t not in site.closed)
            if len(visits) > places // m:
                self.model.add(sum(visits) <= places // m)

    # ------------------------------------------------------------------ hard rules
    def presence(self) -> None:
        """Every participant is at exactly one site in every period they are there."""
        for p, person in enumerate(self.plan.participants):
            enforce = self.rule(f"presence:{person.id}")
            for t in person.periods:
                cells = [self.x[k] for k in self._cells_in_period(p, t)]
                self.model.add(sum(cells) <= 1)
                self.model.add(sum(cells) >= 1).only_enforce_if(enforce)

    def _cells_in_period(self, p: int, t: int) -> Iterator[tuple[int, int, int]]:
        for s in range(len(self.plan.sites)):
            if (p, s, t) in self.x:
                yield (p, s, t)

    def capacity(self) -> None:
        by_site_period: dict[tuple[int, int], list[Literal]] = {}
        for (_p, s, t), var in self.x.items():
            by_site_period.setdefault((s, t), []).append(var)
        for s, site in enumerate(self.plan.sites):
            enforce_cap = self.rule(f"capacity:{site.id}")
            enforce_min = self.rule(f"min_staff:{site.id}") if any(site.min_staff) else []
            for t in range(len(self.plan.periods)):
                cells = by_site_period.get((s, t), [])
                if t in site.closed:
                    continue
                if len(cells) > site.capacity[t]:
                    self.model.add(sum(cells) <= site.capacity[t]).only_enforce_if(enforce_cap)
                if site.min_staff[t]:
                    self.model.add(sum(cells) >= site.min_staff[t]).only_enforce_if(enforce_min)

    def visits(self) -> None:
        rules = self.plan.rules
        for p, person in enumerate(self.plan.participants):
            visits = [self.y[p, s] for s in range(len(self.plan.sites)) if (p, s) in self.y]
            needed = person.min_sites or rules.min_sites
            self.model.add(sum(visits) >= needed).only_enforce_if(
                self.rule(f"min_sites:{person.id}")
            )
            for site_id in sorted(person.must_visit):
                s = self.site_index[site_id]
                enforce = self.rule(f"must_visit:{person.id}:{site_id}")
                if (p, s) in self.y:
                    self.model.add(self.y[p, s] == 1).only_enforce_if(enforce)
                else:
                    self.model.add_bool_or([]).only_enforce_if(enforce)

    def stays(self) -> None:
        rules = self.plan.rules
        m, big_m = rules.min_stay, rules.max_stay
        for p, person in enumerate(self.plan.participants):
            enforce = self.rule(f"stay:{person.id}")
            first, last = person.first, person.last
            for s in range(len(self.plan.sites)):
                if m > 1:
                    for t in person.periods:
                        var = self.cell(p, s, t)
                        if var is None:
                            continue
                        before = self.cell(p, s, t - 1) if t > first else None
                        for k in range(1, m):
                            after = self.cell(p, s, t + k) if t + k <= last else None
                            clause = [var.Not()]
                            if before is not None:
                                clause.append(before)
                            if after is not None:
                                clause.append(after)
                            self.model.add_bool_or(clause).only_enforce_if(enforce)
                if big_m is not None:
                    for start in range(first, last - big_m + 1):
                        window = [
                            var
                            for t in range(start, start + big_m + 1)
                            if (var := self.cell(p, s, t)) is not None
                        ]
                        if len(window) > big_m:
                            self.model.add(sum(window) <= big_m).only_enforce_if(enforce)

    def pairs(self) -> None:
        plan = self.plan
        for k, (a, b) in enumerate(plan.rules.together):
            enforce = self.rule(f"together:{k}")
            pa, pb = self.person_index[a], self.person_index[b]
            for t in self._shared_periods(pa, pb):
                for s in range(len(plan.sites)):
                    va, vb = self.cell(pa, s, t), self.cell(pb, s, t)
                    if va is not None and vb is not None:
                        self.model.add(va == vb).only_enforce_if(enforce)
                    elif va is not None:
                        self.model.add(va == 0).only_enforce_if(enforce)
                    elif vb is not None:
                        self.model.add(vb == 0).only_enforce_if(enforce)
        for k, (a, b) in enumerate(plan.rules.apart):
            enforce = self.rule(f"apart:{k}")
            pa, pb = self.person_index[a], self.person_index[b]
            for t in self._shared_periods(pa, pb):
                for s in range(len(plan.sites)):
                    va, vb = self.cell(pa, s, t), self.cell(pb, s, t)
                    if va is not None and vb is not None:
                        self.model.add_bool_or([va.Not(), vb.Not()]).only_enforce_if(enforce)

    def _shared_periods(self, pa: int, pb: int) -> range:
        a, b = self.plan.participants[pa], self.plan.participants[pb]
        return range(max(a.first, b.first), min(a.last, b.last) + 1)

    def pins(self) -> None:
        for person_id, row in sorted(self.plan.pinned.items()):
            p = self.person_index[person_id]
            for period_id, site_id in sorted(row.items()):
                t, s = self.period_index[period_id], self.site_index[site_id]
                enforce = self.rule(f"pinned:{person_id}:{period_id}")
                var = self.cell(p, s, t)
                if var is None:
                    self.model.add_bool_or([]).only_enforce_if(enforce)
                else:
                    self.model.add(var == 1).only_enforce_if(enforce)

    # ------------------------------------------------------------------ objective
    def objective(self) -> _Built:
        plan = self.plan
        weights: list[int] = []
        visits: list[Literal] = []
        for p, person in enumerate(plan.participants):
            n = len(person.preferences)
            for rank, site_id in enumerate(person.preferences):
                visit = self.y.get((p, self.site_index[site_id]))
                if visit is not None:
                    visits.append(visit)
                    weights.append(n - rank)
        preferences = cp_model.LinearExpr.weighted_sum(visits, weights)
        diversity = cp_model.LinearExpr.sum(list(self.y.values()))
        imbalance = self._imbalance()
        changes = self._changes()
        return _Built(
            model=self.model,
            x=self.x,
            y=self.y,
            assumptions=self.assumptions,
            preferences=preferences,
            diversity=diversity,
            imbalance=imbalance,
            changes=changes,
        )

    def _imbalance(self) -> cp_model.LinearExpr:
        plan = self.plan
        if not plan.rules.balance:
            return cp_model.LinearExpr.sum([])
        open_capacity = [
            sum(c for t, c in enumerate(site.capacity) if t not in site.closed)
            for site in plan.sites
        ]
        total_capacity = sum(open_capacity)
        presence = sum(len(person.periods) for person in plan.participants)
        if not total_capacity:
            return cp_model.LinearExpr.sum([])
        load: dict[int, list[Literal]] = {}
        for (_p, s, _t), var in self.x.items():
            load.setdefault(s, []).append(var)
        deviations = []
        for s, capacity in enumerate(open_capacity):
            fair = round(presence * capacity / total_capacity)
            cells = load.get(s, [])
            deviation = self.model.new_int_var(0, max(fair, len(cells)), f"dev{s}")
            self.model.add(deviation >= sum(cells) - fair)
            self.model.add(deviation >= fair - sum(cells))
            deviations.append(deviation)
        return cp_model.LinearExpr.sum(deviations)

    def _changes(self) -> cp_model.LinearExpr:
        """Cells of the previous plan that the new plan keeps: changes = total - kept."""
        kept: list[Literal] = []
        total = 0
        for person_id, row in sorted(self.plan.previous.items()):
            p = self.person_index[person_id]
            for period_id, site_id in sorted(row.items()):
                t, s = self.period_index[period_id], self.site_index[site_id]
                if t not in self.plan.participants[p].periods:
                    continue  # the participant is no longer there then: not a choice
                var = self.cell(p, s, t)
                total += 1
                if var is not None:
                    kept.append(var)
                    self.model.add_hint(var, 1)
        return cp_model.LinearExpr.sum(kept) * -1 + total

    def build(self) -> _Built:
        self.variables()
        self.bounds()
        self.presence()
        self.capacity()
        self.visits()
        self.stays()
        self.pairs()
        self.pins()
        return self.objective()


def _bounds(plan: Plan) -> tuple[int, int]:
    """Upper bounds of the balance and of preferences + diversity: the fold's weights."""
    presence = sum(len(person.periods) for person in plan.participants)
    imbalance_max = 2 * presence + 1
    primary_max = sum(
        len(person.preferences) * (len(person.preferences) + 1) // 2 + len(plan.sites)
        for person in plan.participants
    )
    return imbalance_max, primary_max


def _solver(time_limit: float, workers: int) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, time_limit)
    solver.parameters.num_workers = max(1, workers)
    return solver


def solve(
    plan: Plan,
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
    workers: int = DEFAULT_WORKERS,
    progress: Callable[[int, int], None] | None = None,
    shortcut: bool = True,
) -> Solution:
    """The best plan found within ``time_limit`` seconds, or why none exists.

    The lexicographic objective is solved in phases (fewest changes, then preferences
    and diversity, then balance), each fixed at its optimum before the next: small
    objectives whose bounds CP-SAT proves quickly, where one big weighted sum would
    stall. ``objective`` and ``bound`` report the same order folded into one number.
    ``progress(objective, bound)`` is called on every improving solution of a phase.

    Plans where everyone can see a new site every period first go through the exact
    shortcut of :mod:`.distinct` (a relaxation bounds the gain, a smaller model reaches
    it and balances); when it cannot conclude, the general model below continues from
    its best plan and its proven bound. ``shortcut=False`` skips it (to compare).
    """
    started = time.perf_counter()
    deadline = started + time_limit
    base_stats = {
        "participants": len(plan.participants),
        "sites": len(plan.sites),
        "periods": len(plan.periods),
    }
    cells = Cells.of(plan)
    hint: dict[tuple[int, int], int] = {}
    gain_upper: int | None = None
    if shortcut and distinct.applies(plan, cells):
        outcome = distinct.solve_distinct(
            plan, cells, deadline=deadline, workers=workers, progress=progress
        )
        if outcome.assignment is not None and outcome.gain_bound is not None:
            return _from_shortcut(
                plan,
                outcome,
                _assignment(plan, outcome.assignment),
                outcome.gain_bound,
                started,
                {**outcome.stats, **base_stats, "shortcut": 1},
            )
        hint, gain_upper = outcome.hint, outcome.gain_bound
    return _solve_general(
        plan,
        started=started,
        deadline=deadline,
        workers=workers,
        progress=progress,
        hint=hint,
        gain_upper=gain_upper,
        base_stats=base_stats,
    )


def _from_shortcut(
    plan: Plan,
    outcome: distinct.Outcome,
    assignment: dict[str, dict[str, str]],
    gain_bound: int,
    started: float,
    stats: dict[str, int],
) -> Solution:
    score = score_of(plan, assignment)
    values = {"gain": outcome.gain, "imbalance": outcome.imbalance}
    bounds = {"gain": gain_bound}
    if plan.rules.balance:
        bounds["imbalance"] = outcome.imbalance_bound
    objective, bound = _folded(plan, score, values, bounds, outcome.optimal)
    return Solution(
        status="optimal" if outcome.optimal else "feasible",
        assignment=assignment,
        objective=objective,
        bound=bound,
        score=score,
        seconds=time.perf_counter() - started,
        stats={**stats, **_phase_bounds(bounds)},
    )


def _phase_bounds(bounds: dict[str, int]) -> dict[str, int]:
    """Each phase's own proven bound, for the stats: the folded gap hides the balance's."""
    return {f"{name}_bound": value for name, value in bounds.items()}


def _assignment(plan: Plan, cells: dict[tuple[int, int], int]) -> dict[str, dict[str, str]]:
    """(participant, period) -> site indices as ids, each row in period order."""
    assignment: dict[str, dict[str, str]] = {person.id: {} for person in plan.participants}
    for (p, t), s in sorted(cells.items(), key=lambda item: item[0][::-1]):
        assignment[plan.participants[p].id][plan.periods[t].id] = plan.sites[s].id
    return assignment


def _solve_general(
    plan: Plan,
    *,
    started: float,
    deadline: float,
    workers: int,
    progress: Callable[[int, int], None] | None,
    hint: dict[tuple[int, int], int],
    gain_upper: int | None,
    base_stats: dict[str, int],
) -> Solution:
    """The phases on the full model. ``hint`` is a plan to start from and ``gain_upper``
    a proven upper bound of the gain (both from the shortcut, when it ran)."""
    time_limit = deadline - started
    built = _Builder(plan, explain=False).build()
    stats = {
        "variables": len(built.model.proto.variables),
        "constraints": len(built.model.proto.constraints),
        **base_stats,
    }
    gain_expression = built.preferences + built.diversity
    if gain_upper is not None:
        built.model.add(gain_expression <= gain_upper)  # proven: a cut, not a restriction
    if hint:
        for (p, s, t), var in built.x.items():
            built.model.add_hint(var, 1 if hint.get((p, t)) == s else 0)
    # (name, expression, sense): +1 maximise, -1 minimise.
    phases: list[tuple[str, cp_model.LinearExpr, int]] = []
    if plan.previous:
        phases.append(("changes", built.changes, -1))
    phases.append(("gain", gain_expression, 1))
    if plan.rules.balance:
        phases.append(("imbalance", built.imbalance, -1))
    solver: cp_model.CpSolver | None = None
    proven = True
    values: dict[str, int] = {}
    bounds: dict[str, int] = {}
    for name, expression, sense in phases:
        left = deadline - time.perf_counter()
        if left <= 0.01 and solver is not None:
            proven = False
            break
        if sense > 0:
            built.model.maximize(expression)
        else:
            built.model.minimize(expression)
        phase_solver = _solver(max(left, 0.01), workers)
        if workers == 2 and name in _TWO_WORKERS:
            phase_solver.parameters.subsolvers.extend(_TWO_WORKERS[name])
        callback = _Progress(progress) if progress else None
        status = phase_solver.solve(built.model, callback)
        if status == cp_model.INFEASIBLE and solver is None:
            conflicts = explain(plan, time_limit=max(1.0, deadline - time.perf_counter()))
            return _without_plan("infeasible", conflicts, started, stats)
        if status == cp_model.MODEL_INVALID:  # a bug of this module, not of the input
            raise RuntimeError(built.model.validate())
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            if solver is None:
                return _without_plan("unknown", (_timed_out(time_limit),), started, stats)
            proven = False  # keep the previous phase's plan
            break
        solver = phase_solver
        values[name] = round(phase_solver.objective_value)
        bounds[name] = round(phase_solver.best_objective_bound)
        # The next phase starts from this plan and may not lose what this one won.
        built.model.clear_hints()  # type: ignore[no-untyped-call]
        for var in built.x.values():
            built.model.add_hint(var, phase_solver.boolean_value(var))
        if sense > 0:
            built.model.add(expression >= values[name])
        else:
            built.model.add(expression <= values[name])
        if status != cp_model.OPTIMAL:
            proven = False
            break
    if solver is None:  # pragma: no cover - every path above sets it or returns
        raise RuntimeError("no phase was solved")
    chosen = {(p, t): s for (p, s, t), var in built.x.items() if solver.boolean_value(var)}
    assignment = _assignment(plan, chosen)
    # From the assignment, not the solver's values: a phase that stopped early leaves
    # the later phases' deviation variables at any value above their true one.
    score = score_of(plan, assignment)
    objective, bound = _folded(plan, score, values, bounds, proven)
    return Solution(
        status="optimal" if proven else "feasible",
        assignment=assignment,
        objective=objective,
        bound=bound,
        score=score,
        seconds=time.perf_counter() - started,
        stats={**stats, **_phase_bounds(bounds)},
    )


def _folded(
    plan: Plan, score: Score, values: dict[str, int], bounds: dict[str, int], proven: bool
) -> tuple[int, int]:
    """The lexicographic objective as one number, and a valid upper bound of it.

    objective = W_gain * gain - imbalance - W_changes * changes, with weights larger
    than anything the later terms can make up. The bound takes the proven value of each
    finished phase, the solver's bound of the phase that stopped early, and the best
    conceivable value (no imbalance) of the phases never reached.
    """
    imbalance_max, gain_max = _bounds(plan)
    w_gain = imbalance_max
    w_changes = w_gain * (gain_max + 1) + imbalance_max
    gain = score.preferences + score.diversity
    objective = w_gain * gain - score.imbalance - w_changes * score.changes
    if proven:
        return objective, objective
    changes_bound = bounds.get("changes", 0) if plan.previous else 0
    if "changes" in values and values["changes"] != changes_bound:
        return objective, -w_changes * changes_bound + w_gain * gain_max
    gain_bound = bounds.get("gain", gain_max)
    if gain_bound != values.get("gain", gain):
        return objective, w_gain * gain_bound - w_changes * changes_bound
    imbalance_bound = bounds.get("imbalance", 0)
    return objective, w_gain * gain - imbalance_bound - w_changes * score.changes


def _timed_out(time_limit: float) -> Conflict:
    return Conflict(
        rules=("time_limit",),
        messages=(f"No plan was found within {time_limit:g} seconds.",),
    )


def _without_plan(
    status: str, conflicts: tuple[Conflict, ...], started: float, stats: dict[str, int]
) -> Solution:
    return Solution(
        status=status,
        assignment={},
        objective=None,
        bound=None,
        score=None,
        conflicts=conflicts,
        seconds=time.perf_counter() - started,
        stats=stats,
    )


class _Progress(cp_model.CpSolverSolutionCallback):
    def __init__(self, report: Callable[[int, int], None]) -> None:
        super().__init__()
        self._report = report

    def on_solution_callback(self) -> None:
        self._report(round(self.objective_value), round(self.best_objective_bound))


def _feasible(plan: Plan, codes: list[str], time_limit: float) -> bool | None:
    """Whether the rules ``codes`` (and the facts) can hold together; None if unknown."""
    built = _Builder(plan, explain=True).build()
    chosen = [built.assumptions[c] for c in codes if c in built.assumptions]
    built.model.add_assumptions(chosen)
    status = _solver(time_limit, 1).solve(built.model)
    if status == cp_model.INFEASIBLE:
        return False
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return True
    return None


def explain(plan: Plan, *, time_limit: float = 10.0) -> tuple[Conflict, ...]:
    """Name a small set of rules that cannot all hold, in codes and in words."""
    deadline = time.perf_counter() + time_limit
    built = _Builder(plan, explain=True).build()
    codes = sorted(built.assumptions)
    built.model.add_assumptions([built.assumptions[c] for c in codes])
    solver = _solver(max(0.1, time_limit / 2), 1)
    status = solver.solve(built.model)
    if status != cp_model.INFEASIBLE:
        return (
            Conflict(
                rules=("time_limit",),
                messages=(
                    "No plan exists, and the conflicting rules could not be isolated in time.",
                ),
            ),
        )
    by_index = {var.index: code for code, var in built.assumptions.items()}
    core = sorted(by_index[i] for i in solver.sufficient_assumptions_for_infeasibility())
    if not core:  # the facts alone conflict (e.g. nowhere open to a participant)
        core = []
    if len(core) <= _SHRINK_LIMIT:
        for code in list(core):
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            trial = [c for c in core if c != code]
            if _feasible(plan, trial, min(left, 2.0)) is False:
                core = trial
    return (Conflict(rules=tuple(core), messages=tuple(describe(plan, c) for c in core)),)


def describe(plan: Plan, code: str) -> str:
    """One sentence for a rule code (the platform translates codes itself)."""
    kind, _, rest = code.partition(":")
    people = {p.id: p for p in plan.participants}
    sites = {s.id: s for s in plan.sites}

    def who(person_id: str) -> str:
        person = people[person_id]
        return person.name or person.id

    def where(site_id: str) -> str:
        site = sites[site_id]
        return site.name or site.id

    def when(p: Participant) -> str:
        first, last = plan.periods[p.first], plan.periods[p.last]
        return f"{first.label or first.id} to {last.label or last.id}"

    if kind == "presence":
        return f"{who(rest)} must be at a site in every period from {when(people[rest])}."
    if kind == "capacity":
        cap = sites[rest].capacity
        shown = str(cap[0]) if len(set(cap)) == 1 else "/".join(map(str, cap))
        return f"{where(rest)} takes at most {shown} participant(s) per period."
    if kind == "min_staff":
        return f"{where(rest)} needs at least {max(sites[rest].min_staff)} visitor(s) when open."
    if kind == "min_sites":
        n = people[rest].min_sites or plan.rules.min_sites
        return f"{who(rest)} must visit at least {n} different site(s)."
    if kind == "must_visit":
        person_id, _, site_id = rest.partition(":")
        return f"{who(person_id)} must visit {where(site_id)}."
    if kind == "must_not_visit":
        person_id, _, site_id = rest.partition(":")
        return f"{who(person_id)} must not go to {where(site_id)}."
    if kind == "language":
        return f"{who(rest)} can only go to sites where one of their languages is spoken."
    if kind == "stay":
        rules = plan.rules
        top = f" and at most {rules.max_stay}" if rules.max_stay else ""
        return f"{who(rest)} stays at least {rules.min_stay}{top} consecutive period(s) at a site."
    if kind == "together":
        a, b = plan.rules.together[int(rest)]
        return f"{who(a)} and {who(b)} must be at the same site."
    if kind == "apart":
        a, b = plan.rules.apart[int(rest)]
        return f"{who(a)} and {who(b)} must not be at the same site."
    if kind == "pinned":
        person_id, _, period_id = rest.partition(":")
        site_id = plan.pinned[person_id][period_id]
        return f"{who(person_id)} is pinned to {where(site_id)} in {period_id}."
    return code
