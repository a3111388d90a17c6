"""An exact shortcut for plans where everyone can see a new site in every period.

When stays may last one period (``min_stay`` 1) and every participant has at least as
many sites open to them as periods present, a participant's diversity is at most the
number of periods they are there, reached exactly when they are somewhere new every
period. The gain (preferences + diversity) is then at most ``sum(periods) + U``, where
``U`` bounds the preferences alone. ``U`` comes from a *relaxation* R, small because it
only looks at the sites someone wishes (or must visit):

* a single participant's cell ``z[p, s, t]`` is the period of their *first* visit to a
  wished site ``s`` (at most one per site), the rest of their time is "elsewhere";
* a participant in a ``together`` pair keeps presence cells on the pair's wished sites,
  equal to their partner's, with visits linked to them (the pair shares its sites);
* wished sites keep their capacity in each period; apart pairs never share a cell.

Every plan maps into R with the same preferences, so R's linear optimum (certified from
GLOP's duals, see :mod:`.lp`) and its integer optimum (CP-SAT) bound the preferences of
every plan.

If a plan that is somewhere new every period reaches ``sum(periods) + U``, it is
optimal, and *every* optimal plan has that shape (a repeat costs a unit of diversity
that the preferences cannot win back). The balance phase is then a question about those
plans only, and R extended with the rest of each site's occupancy (a count per site
and period, within its places and minimum staffing) and the deviations from the fair
shares bounds it from below, with parity (the deviations add up to a constant, so their
absolute values keep its parity).

Plans come from R's solutions (the preferences' optimum, and the balance's when it is
integral; else CP-SAT's integer optimum of the extended R): their wished cells stay,
:func:`_fill` puts everyone else somewhere new period by period, :func:`_rebalance`
moves people between sites along chains that lower the imbalance, and the independent
validator of :mod:`.check` must accept the result. A plan at both bounds is optimal
without any search. Otherwise the model D (a Boolean per participant, site and period;
everyone at one site per period and at each site at most once, so the stay rules hold by
construction) searches for the balance from the best plan, within the bounds. When the
shortcut cannot conclude, the general model takes over with its best plan as a hint and
the gain bound proven here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from .check import violations
from .facts import Cells, fair_shares
from .lp import INF, SparseLP, floor_bound
from .model import Plan
from .score import score_of

Cell = tuple[int, int, int]  # participant, site, period
# Seconds kept back from the search for reading its plan and scoring it.
_MARGIN = 0.25
# Above this many cells, D's search is not run when a valid plan at the gain's bound is
# already known: on the 500-participant benchmark it improved nothing in 30-55 s.
_D_CELLS = 60_000
# D's search parameters. Measured on the month and year of bench/bench_scheduling.py with
# the filled plans withheld (so that D must find the optimum from the hint): 0.02-0.34 s
# with these, 0.07-1.24 s with CP-SAT's defaults and 0.11-2.0 s with the full LP alone;
# presolve's inclusion detection and probing cost more than they find here.
_D_PARAMETERS: dict[str, int | bool | list[str]] = {
    "linearization_level": 2,
    "presolve_inclusion_work_limit": 0,
    "cp_model_probing_level": 0,
}


@dataclass
class Outcome:
    """What the shortcut established: a plan (or none), and what is proven about it."""

    assignment: dict[tuple[int, int], int] | None = None  # (participant, period) -> site
    gain: int = 0
    gain_bound: int | None = None  # a proven upper bound of every plan's gain
    imbalance: int = 0
    imbalance_bound: int = 0  # a proven lower bound of the balance among optimal-gain plans
    optimal: bool = False  # gain and balance both proven
    hint: dict[tuple[int, int], int] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)


def applies(plan: Plan, cells: Cells) -> bool:
    """Whether the shortcut's argument holds: one-period stays allowed, no plan to repair,
    and a new site open to everyone in each of their periods is at least conceivable."""
    if plan.previous or plan.rules.min_stay > 1:
        return False
    sites = {site.id: s for s, site in enumerate(plan.sites)}
    periods = {period.id: t for t, period in enumerate(plan.periods)}
    people = {person.id: p for p, person in enumerate(plan.participants)}
    for p, person in enumerate(plan.participants):
        open_sites = cells.sites_of(p)
        if any(not room for room in cells.by_person[p].values()):
            return False  # nowhere to be in some period: the general model explains it
        if len(open_sites) < len(person.periods):
            return False
        if any(sites[site_id] not in open_sites for site_id in person.must_visit):
            return False
        if len(person.periods) < (person.min_sites or plan.rules.min_sites):
            return False
    reachable = {(s, t) for room in cells.by_person for t, here in room.items() for s in here}
    for s, site in enumerate(plan.sites):
        for t in range(len(plan.periods)):
            if site.min_staff[t] and t not in site.closed and (s, t) not in reachable:
                return False  # a minimum staffing nobody can meet
    for person_id, row in plan.pinned.items():
        p = people[person_id]
        for period_id, site_id in row.items():
            t = periods[period_id]
            if sites[site_id] not in cells.by_person[p].get(t, ()):
                return False
    return True


class _Relaxation:
    """The relaxation R of the preferences (see the module docstring), built once as a
    sparse LP and, with the same rows, as a CP-SAT model for an integer solution."""

    def __init__(self, plan: Plan, cells: Cells) -> None:
        self.plan = plan
        self.lp = SparseLP()
        self.cells: dict[Cell, int] = {}  # (p, s, t) -> column: first visit or presence
        self.elsewhere: dict[tuple[int, int], int] = {}
        self.visit: dict[tuple[int, int], int] = {}  # pair members: (p, s) -> column
        self.balance_lp: SparseLP | None = None
        self.rest: dict[tuple[int, int], int] = {}  # balance LP: (site, period) -> column
        self.deviation: dict[int, int] = {}  # balance LP: site -> column
        self.paired: set[int] = set()
        self._build(cells)

    def _build(self, cells: Cells) -> None:
        plan, lp = self.plan, self.lp
        people = {person.id: p for p, person in enumerate(plan.participants)}
        sites = {site.id: s for s, site in enumerate(plan.sites)}
        periods = {period.id: t for t, period in enumerate(plan.periods)}
        # Together pairs, grouped (a chain a-b, b-c is one group): one wished-site list.
        group = list(range(len(plan.participants)))

        def root(p: int) -> int:
            while group[p] != p:
                group[p] = group[group[p]]
                p = group[p]
            return p

        paired = self.paired
        for a, b in plan.rules.together:
            pa, pb = people[a], people[b]
            paired |= {pa, pb}
            group[root(pa)] = root(pb)
        relevant: dict[int, set[int]] = {}
        for p, person in enumerate(plan.participants):
            mine = set(cells.weight[p]) | {sites[site_id] for site_id in person.must_visit}
            relevant.setdefault(root(p), set()).update(mine & cells.sites_of(p))
        by_site_period: dict[tuple[int, int], list[int]] = {}
        for p, person in enumerate(plan.participants):
            keep = (
                relevant[root(p)]
                if p in paired
                else set(cells.weight[p]) | {sites[site_id] for site_id in person.must_visit}
            )
            weight = cells.weight[p]
            pins = {periods[k]: sites[v] for k, v in plan.pinned.get(person.id, {}).items()}
            for t in person.periods:
                row: list[int] = []
                for s in cells.by_person[p][t]:
                    if s not in keep:
                        continue
                    pinned_elsewhere = t in pins and pins[t] != s
                    first = p not in paired
                    gain = weight.get(s, 0) if first else 0
                    column = lp.var(upper=0.0 if pinned_elsewhere else 1.0, objective=gain)
                    self.cells[p, s, t] = column
                    row.append(column)
                    by_site_period.setdefault((s, t), []).append(column)
                # "Elsewhere": anywhere for a single participant (a repeat, or a site no
                # one here wishes); for a pair member, a site outside the pair's list.
                outside = p not in paired or any(s not in keep for s in cells.by_person[p][t])
                pinned_inside = t in pins and pins[t] in keep and p in paired
                if outside:
                    column = lp.var(upper=0.0 if pinned_inside else 1.0)
                    self.elsewhere[p, t] = column
                    row.append(column)
                lp.row(row, [1.0] * len(row), 1.0, 1.0)
            for s in sorted(keep):
                columns = [self.cells[p, s, t] for t in person.periods if (p, s, t) in self.cells]
                if not columns:
                    continue
                must = plan.sites[s].id in person.must_visit
                if p not in paired:
                    lp.row(columns, [1.0] * len(columns), 1.0 if must else 0.0, 1.0)
                else:
                    if weight.get(s, 0):
                        visit = lp.var(upper=1.0, objective=weight[s])
                        self.visit[p, s] = visit
                        lp.row([*columns, visit], [1.0] * len(columns) + [-1.0], 0.0, float("inf"))
                    if must:
                        lp.row(columns, [1.0] * len(columns), 1.0, float("inf"))
            for t, s in pins.items():
                if p not in paired and s in keep:
                    # At s in t: s was first visited in t or before.
                    columns = [
                        self.cells[p, s, u]
                        for u in person.periods
                        if u <= t and (p, s, u) in self.cells
                    ]
                    lp.row(columns, [1.0] * len(columns), 1.0, float("inf"))
                elif p in paired and s in keep:
                    lp.row([self.cells[p, s, t]], [1.0], 1.0, 1.0)
        for (s, t), columns in by_site_period.items():
            if len(columns) > plan.sites[s].capacity[t]:
                lp.row(columns, [1.0] * len(columns), 0.0, float(plan.sites[s].capacity[t]))
        for a, b in plan.rules.together:
            pa, pb = people[a], people[b]
            for t in _shared(plan, pa, pb):
                for s in relevant[root(pa)]:
                    ca, cb = self.cells.get((pa, s, t)), self.cells.get((pb, s, t))
                    self._equal(ca, cb)
                self._equal(self.elsewhere.get((pa, t)), self.elsewhere.get((pb, t)))
        for a, b in plan.rules.apart:
            # First-visit and presence cells both imply presence: never both at 1.
            pa, pb = people[a], people[b]
            for t in _shared(plan, pa, pb):
                for s in range(len(plan.sites)):
                    ca, cb = self.cells.get((pa, s, t)), self.cells.get((pb, s, t))
                    if ca is not None and cb is not None:
                        lp.row([ca, cb], [1.0, 1.0], 0.0, 1.0)

    def _equal(self, a: int | None, b: int | None) -> None:
        if a is not None and b is not None:
            self.lp.row([a, b], [1.0, -1.0], 0.0, 0.0)
        elif a is not None:
            self.lp.row([a], [1.0], 0.0, 0.0)
        elif b is not None:
            self.lp.row([b], [1.0], 0.0, 0.0)

    def balance_bound(
        self, *, target: int, fair: list[int], seconds: float, near: set[Cell] | None = None
    ) -> tuple[int, set[Cell] | None]:
        """A proven lower bound of the balance of every plan of D whose preferences reach
        ``target``: R's rows, each site at most once for pair members too, the people R
        does not place ("rest" of each site and period, within its places and minimum
        staffing), the loads and their deviations from fair shares.
        With it, R's cells of the LP's solution when they are integral: wishes chosen
        with the balance in mind, a better start than those of the first LP."""
        plan = self.plan
        lp = SparseLP()
        lp.upper, lp.objective = list(self.lp.upper), [0.0] * len(self.lp.upper)
        lp.rows = list(self.lp.rows)
        prefs = [(j, c) for j, c in enumerate(self.lp.objective) if c]
        lp.row([j for j, _ in prefs], [c for _, c in prefs], float(target), INF)
        # A plan of D is at each site once: so are pair members (R alone lets them stay).
        visits: dict[tuple[int, int], list[int]] = {}
        for (p, s, _t), j in self.cells.items():
            if p in self.paired:
                visits.setdefault((p, s), []).append(j)
        for columns in visits.values():
            if len(columns) > 1:
                lp.row(columns, [1.0] * len(columns), 0.0, 1.0)
        counted: dict[tuple[int, int], list[int]] = {}
        for (_p, s, t), j in self.cells.items():
            counted.setdefault((s, t), []).append(j)
        uncounted: dict[int, list[int]] = {}
        for (_p, t), j in self.elsewhere.items():
            uncounted.setdefault(t, []).append(j)
        load: dict[int, list[int]] = {}
        for t, elsewhere in uncounted.items():
            rest = []
            for s, site in enumerate(plan.sites):
                if t in site.closed or not site.capacity[t]:
                    continue
                r = lp.var(upper=float(site.capacity[t]))
                self.rest[s, t] = r
                rest.append(r)
                here = [*counted.get((s, t), []), r]
                lp.row(here, [1.0] * len(here), float(site.min_staff[t]), float(site.capacity[t]))
                load.setdefault(s, []).extend(here)
            lp.row([*rest, *elsewhere], [1.0] * len(rest) + [-1.0] * len(elsewhere), 0.0, 0.0)
        for (s, t), here in counted.items():
            if t not in uncounted:  # nobody elsewhere then: the counted cells are all
                site = plan.sites[s]
                lp.row(here, [1.0] * len(here), float(site.min_staff[t]), float(site.capacity[t]))
                load.setdefault(s, []).extend(here)
        presence = sum(len(person.periods) for person in plan.participants)
        for s, share in enumerate(fair):
            here = load.get(s, [])
            d = lp.var(upper=float(max(share, presence)), objective=-1.0)
            self.deviation[s] = d
            lp.row([d, *here], [1.0] + [-1.0] * len(here), -float(share), INF)
            lp.row([d, *here], [1.0] + [1.0] * len(here), float(share), INF)
        self.balance_lp = lp
        # Among balance-optimal points, lean towards ``near`` (an integral solution of R):
        # GLOP then tends to stop at an integral one. The tilt is nonnegative, so the
        # bound stays valid for the balance alone; it adds at most 1/4, which costs
        # nothing once rounded when the balance's LP optimum is an integer (it was on
        # every benchmark seed tried), and at most one unit otherwise.
        tilt = 0.25 / len(near) if near else 0.0
        for k in near or ():
            lp.objective[self.cells[k]] = tilt
        bound = lp.maximize(seconds=seconds)
        for k in near or ():
            lp.objective[self.cells[k]] = 0.0
        if bound is None:  # -1: GLOP says no plan of D reaches the target
            return (-1 if lp.infeasible else 0), None
        values = lp.values
        chosen: set[Cell] | None = {k for k, j in self.cells.items() if values[j] > 0.5}
        if any(1e-6 < values[j] < 1 - 1e-6 for j in self.cells.values()):
            chosen = None
        return max(0, -floor_bound(bound)), chosen

    def integral(self) -> set[Cell] | None:
        """The cells at 1 of the LP's solution when it is integral (it often is)."""
        values = self.lp.values
        if any(1e-6 < v < 1 - 1e-6 for v in values):
            return None
        return {k for k, j in self.cells.items() if values[j] > 0.5}

    def encode(self, filled: dict[tuple[int, int], int], fair: list[int]) -> list[int]:
        """A plan as a solution of the balance LP's rows (the hint of its integer solve):
        first visits (presence for pair members), the rest of each site and period, and
        the deviations."""
        if self.balance_lp is None:
            return []
        values = [0] * len(self.balance_lp.upper)
        first: dict[tuple[int, int], int] = {}
        count: dict[tuple[int, int], int] = {}
        load = [0] * len(self.plan.sites)
        for (p, t), s in sorted(filled.items(), key=lambda item: item[0][1]):
            first.setdefault((p, s), t)
            count[s, t] = count.get((s, t), 0) + 1
            load[s] += 1
        counted_at: dict[tuple[int, int], int] = {}
        counted_here: dict[tuple[int, int], int] = {}
        for (p, s, t), j in self.cells.items():
            at = filled.get((p, t)) == s and (p in self.paired or first[p, s] == t)
            if at:
                values[j] = 1
                counted_at[p, t] = 1
                counted_here[s, t] = counted_here.get((s, t), 0) + 1
        for (p, t), j in self.elsewhere.items():
            values[j] = 1 - counted_at.get((p, t), 0)
        for (p, s), j in self.visit.items():
            values[j] = 1 if (p, s) in first else 0
        for (s, t), j in self.rest.items():
            values[j] = count.get((s, t), 0) - counted_here.get((s, t), 0)
        for s, j in self.deviation.items():
            values[j] = abs(load[s] - fair[s])
        return values

    def ones(self, values: list[int]) -> set[Cell]:
        """R's cells at 1 in an integer solution of R (or of its balance extension)."""
        return {k for k, j in self.cells.items() if values[j]}


def _shared(plan: Plan, pa: int, pb: int) -> range:
    a, b = plan.participants[pa], plan.participants[pb]
    return range(max(a.first, b.first), min(a.last, b.last) + 1)


class _Distinct:
    """The model D: each participant at exactly one site per period, each site at most once."""

    def __init__(self, plan: Plan, cells: Cells, preferences_at_least: int) -> None:
        self.plan = plan
        self.cells = cells
        self.model = cp_model.CpModel()
        self.x: dict[Cell, cp_model.IntVar] = {}
        self.deviation: list[tuple[cp_model.IntVar, list[Cell], int]] = []
        self._build(preferences_at_least)

    def _build(self, preferences_at_least: int) -> None:
        plan, model, cells = self.plan, self.model, self.cells
        people = {person.id: p for p, person in enumerate(plan.participants)}
        sites = {site.id: s for s, site in enumerate(plan.sites)}
        periods = {period.id: t for t, period in enumerate(plan.periods)}
        by_site_period: dict[tuple[int, int], list[cp_model.IntVar]] = {}
        by_site: dict[int, list[Cell]] = {}
        wished: list[cp_model.IntVar] = []
        weights: list[int] = []
        for p, person in enumerate(plan.participants):
            by_visit: dict[int, list[cp_model.IntVar]] = {}
            weight = cells.weight[p]
            for t, room in cells.by_person[p].items():
                here = []
                for s in room:
                    var = model.new_bool_var("")
                    self.x[p, s, t] = var
                    here.append(var)
                    by_visit.setdefault(s, []).append(var)
                    by_site_period.setdefault((s, t), []).append(var)
                    by_site.setdefault(s, []).append((p, s, t))
                    if s in weight:
                        wished.append(var)
                        weights.append(weight[s])
                model.add_exactly_one(here)
            for s, visits in by_visit.items():
                if plan.sites[s].id in person.must_visit:
                    model.add_exactly_one(visits)
                elif len(visits) > 1:
                    model.add_at_most_one(visits)
            for period_id, site_id in plan.pinned.get(person.id, {}).items():
                model.add(self.x[p, sites[site_id], periods[period_id]] == 1)
        for s, site in enumerate(plan.sites):
            for t in range(len(plan.periods)):
                here = by_site_period.get((s, t), [])
                if t in site.closed or not here:
                    continue
                if len(here) > site.capacity[t]:
                    model.add(cp_model.LinearExpr.sum(here) <= site.capacity[t])
                if site.min_staff[t]:
                    model.add(cp_model.LinearExpr.sum(here) >= site.min_staff[t])
        for a, b in plan.rules.together:
            pa, pb = people[a], people[b]
            for t in _shared(plan, pa, pb):
                for s in set(cells.by_person[pa][t]) | set(cells.by_person[pb][t]):
                    va, vb = self.x.get((pa, s, t)), self.x.get((pb, s, t))
                    if va is not None and vb is not None:
                        model.add(va == vb)
                    elif va is not None:
                        model.add(va == 0)
                    elif vb is not None:
                        model.add(vb == 0)
        for a, b in plan.rules.apart:
            pa, pb = people[a], people[b]
            for t in _shared(plan, pa, pb):
                for s in set(cells.by_person[pa][t]) & set(cells.by_person[pb][t]):
                    model.add_bool_or([self.x[pa, s, t].Not(), self.x[pb, s, t].Not()])
        self.preferences = cp_model.LinearExpr.weighted_sum(wished, weights)
        model.add(self.preferences >= preferences_at_least)
        fair = fair_shares(plan)
        if fair is not None:
            for s, share in enumerate(fair):
                here_cells = by_site.get(s, [])
                load = cp_model.LinearExpr.sum([self.x[k] for k in here_cells])
                deviation = model.new_int_var(0, max(share, len(here_cells)), "")
                model.add(deviation >= load - share)
                model.add(deviation >= share - load)
                self.deviation.append((deviation, here_cells, share))

    @property
    def imbalance(self) -> cp_model.LinearExpr:
        return cp_model.LinearExpr.sum([d for d, _cells, _share in self.deviation])


def _fill(
    plan: Plan, cells: Cells, fixed: dict[tuple[int, int], int]
) -> dict[tuple[int, int], int]:
    """A plan around ``fixed`` cells: period by period, every participant to a site they
    have not seen yet, with room, preferring the sites furthest below their fair share.
    A heuristic for the solver's hint: it may leave cells empty or break a pair rule."""
    fair = fair_shares(plan) or [0] * len(plan.sites)
    people = {person.id: p for p, person in enumerate(plan.participants)}
    together: dict[int, set[int]] = {}
    for a, b in plan.rules.together:
        pa, pb = people[a], people[b]
        together.setdefault(pa, set()).add(pb)
        together.setdefault(pb, set()).add(pa)
    apart: dict[int, set[int]] = {}
    for a, b in plan.rules.apart:
        pa, pb = people[a], people[b]
        apart.setdefault(pa, set()).add(pb)
        apart.setdefault(pb, set()).add(pa)
    plan_cells = dict(fixed)
    load = [0] * len(plan.sites)
    here: dict[tuple[int, int], int] = {}
    seen: dict[int, set[int]] = {p: set() for p in range(len(plan.participants))}
    for (p, t), s in fixed.items():
        load[s] += 1
        here[s, t] = here.get((s, t), 0) + 1
        seen[p].add(s)
    for t in range(len(plan.periods)):
        waiting = [
            p
            for p, person in enumerate(plan.participants)
            if t in person.periods and (p, t) not in plan_cells
        ]
        # The least flexible people first.
        waiting.sort(key=lambda p: (len(cells.by_person[p][t]), p))
        for p in waiting:
            if (p, t) in plan_cells:
                continue
            mates = [q for q in together.get(p, ()) if t in plan.participants[q].periods]
            placed = [plan_cells[q, t] for q in mates if (q, t) in plan_cells]
            group = [p] + [q for q in mates if (q, t) not in plan_cells]
            if placed:
                options = [placed[0]]
            else:
                options = [
                    s
                    for s in cells.by_person[p][t]
                    if all(s in cells.by_person[q][t] and s not in seen[q] for q in group)
                    and here.get((s, t), 0) + len(group) <= plan.sites[s].capacity[t]
                    and not any(
                        plan_cells.get((r, t)) == s for q in group for r in apart.get(q, ())
                    )
                ]
            if not options:
                continue

            def rank(s: int, t: int = t) -> tuple[bool, int, int]:
                # Sites short of their minimum staffing first, then the furthest below
                # their fair share.
                needed = here.get((s, t), 0) < plan.sites[s].min_staff[t]
                return needed, fair[s] - load[s], -s

            best = max(options, key=rank)
            for q in group:
                plan_cells[q, t] = best
                load[best] += 1
                here[best, t] = here.get((best, t), 0) + 1
                seen[q].add(best)
    return plan_cells


def _rebalance(
    plan: Plan, cells: Cells, plan_cells: dict[tuple[int, int], int], *, rounds: int = 10_000
) -> None:
    """Move participants from sites above their fair share to sites below it, in place.

    Each round finds, by breadth-first search over sites, a chain of moves "someone at
    A in some period goes to B, someone at B in another period goes to C, ..." from a
    site above its share to one below, each move to a site with room then and new to
    whoever moves: loads in between do not change, so the imbalance drops by two. Only
    cells that carry no preference, must-visit, pin or pair rule move, so the gain
    stays. A heuristic (the solver still checks what it gives)."""
    fair = fair_shares(plan)
    if fair is None:
        return
    sites = {site.id: s for s, site in enumerate(plan.sites)}
    periods = {period.id: t for t, period in enumerate(plan.periods)}
    people = {person.id: p for p, person in enumerate(plan.participants)}
    frozen = {(people[a], periods[t]) for a, row in plan.pinned.items() for t in row}
    paired = {people[x] for pair in plan.rules.together for x in pair}
    apart: dict[int, list[int]] = {}
    for first_id, second_id in plan.rules.apart:
        apart.setdefault(people[first_id], []).append(people[second_id])
        apart.setdefault(people[second_id], []).append(people[first_id])
    keep = [
        set(cells.weight[p]) | {sites[x] for x in person.must_visit}
        for p, person in enumerate(plan.participants)
    ]
    count: dict[tuple[int, int], int] = {}
    load = [0] * len(plan.sites)
    seen: dict[int, set[int]] = {p: set() for p in range(len(plan.participants))}
    movable: dict[int, set[tuple[int, int]]] = {s: set() for s in range(len(plan.sites))}
    for (p, t), s in plan_cells.items():
        count[s, t] = count.get((s, t), 0) + 1
        load[s] += 1
        seen[p].add(s)
        if (p, t) not in frozen and p not in paired and s not in keep[p]:
            movable[s].add((p, t))

    def move(p: int, t: int, a: int, b: int) -> None:
        plan_cells[p, t] = b
        count[a, t] -= 1
        count[b, t] = count.get((b, t), 0) + 1
        load[a] -= 1
        load[b] += 1
        seen[p].discard(a)
        seen[p].add(b)
        movable[a].discard((p, t))
        if b not in keep[p]:
            movable[b].add((p, t))

    for _round in range(rounds):
        sources = [s for s in range(len(plan.sites)) if load[s] > fair[s]]
        parent: dict[int, tuple[int, int, int] | None] = dict.fromkeys(sources)
        queue = list(sources)
        found: int | None = None
        while queue and found is None:
            a = queue.pop(0)
            for p, t in sorted(movable[a]):
                if count[a, t] <= plan.sites[a].min_staff[t]:
                    continue
                for b in cells.by_person[p][t]:
                    if b in parent or b in seen[p]:
                        continue
                    if count.get((b, t), 0) >= plan.sites[b].capacity[t]:
                        continue
                    if any(plan_cells.get((q, t)) == b for q in apart.get(p, ())):
                        continue
                    parent[b] = (a, p, t)
                    if load[b] < fair[b]:
                        found = b
                        break
                    queue.append(b)
                if found is not None:
                    break
        if found is None:
            return
        chain = []
        node = found
        while (step := parent[node]) is not None:
            chain.append((step[1], step[2], step[0], node))
            node = step[0]
        if len({p for p, _t, _a, _b in chain}) < len(chain):
            return  # one person twice on the chain: stop rather than risk a repeat
        for p, t, a, b in chain:
            move(p, t, a, b)


class _Report(cp_model.CpSolverSolutionCallback):
    def __init__(self, report: Callable[[int, int], None]) -> None:
        super().__init__()
        self._report = report

    def on_solution_callback(self) -> None:
        self._report(round(self.objective_value), round(self.best_objective_bound))


def solve_distinct(
    plan: Plan,
    cells: Cells,
    *,
    deadline: float,
    workers: int,
    progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """The shortcut: bound the gain and the balance with R, build plans from R's solutions
    and stop if one meets both bounds; otherwise search D at that gain for the balance."""
    outcome = Outcome()
    presence = sum(len(person.periods) for person in plan.participants)
    relaxation = _Relaxation(plan, cells)
    lp_bound = relaxation.lp.maximize(seconds=max(0.1, (deadline - time.perf_counter()) / 4))
    if lp_bound is None:
        return outcome  # R has no solution, so no plan exists: the general model explains
    target = floor_bound(lp_bound)
    chosen = relaxation.integral()
    if chosen is None:  # a fractional optimum: CP-SAT finds R's best integer solution
        found = relaxation.lp.solve_integer(
            at_most=target, seconds=max(0.1, (deadline - time.perf_counter()) / 4), workers=workers
        )
        if found.infeasible:
            return outcome
        if found.bound is not None:
            target = min(target, found.bound)  # R's integer optimum bounds the gain better
        chosen = relaxation.ones(found.values) if found.values else set()
    outcome.gain_bound = presence + target
    outcome.stats = {"variables": len(relaxation.lp.upper), "constraints": len(relaxation.lp.rows)}
    fair = fair_shares(plan)
    starts = [chosen]
    lower = 0
    balanced: set[Cell] | None = None
    if fair is not None:
        lower, balanced = relaxation.balance_bound(
            target=target,
            fair=fair,
            seconds=max(0.1, (deadline - time.perf_counter()) / 4),
            near=chosen,
        )
        if lower < 0:  # GLOP finds no plan of D at the target: let CP-SAT decide
            return outcome
        lower = _with_parity(max(lower, abs(presence - sum(fair))), presence - sum(fair))
        if balanced is not None:
            starts.insert(0, balanced)
    best = _best_fill(plan, cells, starts, outcome, lower)
    extended = relaxation.balance_lp
    if (
        fair is not None
        and balanced is None
        and extended is not None
        and (best is None or best[1] > lower)
    ):
        # The balance LP's optimum is fractional: CP-SAT finds the best integer one (a
        # small model, like R), which bounds D's balance better and gives new wishes.
        found = extended.solve_integer(
            at_most=-lower,
            seconds=max(0.1, (deadline - time.perf_counter()) / 3),
            workers=workers,
            hint=relaxation.encode(best[0], fair) if best is not None else None,
        )
        if found.infeasible and best is None:
            outcome.gain_bound -= 1
            return outcome
        if found.bound is not None:
            lower = max(lower, _with_parity(-found.bound, presence - sum(fair)))
        if found.values:
            best = _best_fill(plan, cells, [relaxation.ones(found.values)], outcome, lower, best)
    if best is not None:
        outcome.assignment, outcome.imbalance = best
        outcome.gain, outcome.imbalance_bound = outcome.gain_bound, lower
        outcome.optimal = best[1] <= lower
        if progress:
            progress(best[1], lower)
        if outcome.optimal:
            return outcome
    size = sum(len(room) for rows in cells.by_person for room in rows.values())
    if best is not None and size > _D_CELLS:
        return outcome  # a valid plan at the gain's bound: D is too big to do better
    # The search on D: the best plan so far as its hint, the proven bounds as its limits.
    distinct = _Distinct(plan, cells, target)
    model = distinct.model
    outcome.stats = {
        "variables": len(model.proto.variables),
        "constraints": len(model.proto.constraints),
    }
    if fair is not None:
        model.add(distinct.imbalance >= lower)
        model.minimize(distinct.imbalance)
    hint = outcome.hint
    for (p, s, t), var in distinct.x.items():
        model.add_hint(var, 1 if hint.get((p, t)) == s else 0)
    for deviation, here_cells, share in distinct.deviation:
        here = sum(1 for p, s, t in here_cells if hint.get((p, t)) == s)
        model.add_hint(deviation, abs(here - share))
    solver = cp_model.CpSolver()
    margin = _MARGIN + 3e-6 * size  # reading a big model's solution takes a while
    left = deadline - time.perf_counter() - margin
    if best is None:
        left /= 2  # without a plan yet, leave the general model time of its own
    solver.parameters.max_time_in_seconds = max(0.05, left)
    solver.parameters.num_workers = max(1, workers)
    for name, setting in _D_PARAMETERS.items():
        if isinstance(setting, list):
            getattr(solver.parameters, name).extend(setting)
        else:
            setattr(solver.parameters, name, setting)
    status = solver.solve(model, _Report(progress) if progress else None)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        found_cells = {
            (p, t): s for (p, s, t), var in distinct.x.items() if solver.boolean_value(var)
        }
        checked = _checked(plan, found_cells)  # D keeps every rule by construction: check
        if checked is not None and (best is None or checked[1] <= best[1]):
            outcome.assignment = found_cells
            outcome.gain = checked[0]
            outcome.imbalance = checked[1] if fair is not None else 0
        if fair is not None:
            outcome.imbalance_bound = max(lower, round(solver.best_objective_bound))
        outcome.optimal = (
            outcome.assignment is not None and outcome.imbalance <= outcome.imbalance_bound
        )
    elif status == cp_model.INFEASIBLE and best is None:
        # No plan visits somewhere new every period at that gain: the gain is lower.
        outcome.gain_bound = presence + target - 1
    outcome.hint = outcome.assignment or outcome.hint
    return outcome


def _with_parity(bound: int, total: int) -> int:
    """sum |d| has the parity of sum d (= ``total``): round a lower bound up to it."""
    return bound + (bound - total) % 2


def _best_fill(
    plan: Plan,
    cells: Cells,
    starts: list[set[Cell]],
    outcome: Outcome,
    lower: int,
    best: tuple[dict[tuple[int, int], int], int] | None = None,
) -> tuple[dict[tuple[int, int], int], int] | None:
    """Plans filled around R's solutions: the best that keeps every rule at the gain's
    bound, as (cells, imbalance); stops early at the balance's bound."""
    for start in starts:
        if best is not None and best[1] <= lower:
            break
        filled = _fill(plan, cells, {(p, t): s for (p, s, t) in start})
        _rebalance(plan, cells, filled)
        checked = _checked(plan, filled)
        outcome.hint = outcome.hint or filled
        if checked is None or checked[0] != outcome.gain_bound:
            continue
        imbalance = checked[1] if plan.rules.balance else 0
        if best is None or imbalance < best[1]:
            best = (filled, imbalance)
            outcome.hint = filled
    return best


def _checked(plan: Plan, filled: dict[tuple[int, int], int]) -> tuple[int, int] | None:
    """(gain, imbalance) of a filled plan that keeps every hard rule, by the validator."""
    assignment: dict[str, dict[str, str]] = {person.id: {} for person in plan.participants}
    for (p, t), s in filled.items():
        assignment[plan.participants[p].id][plan.periods[t].id] = plan.sites[s].id
    if violations(plan, assignment):
        return None
    score = score_of(plan, assignment)
    return score.preferences + score.diversity, score.imbalance
