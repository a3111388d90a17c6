"""The shortcut's linear bounds: certified from any multipliers, never trusted blindly."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from medexchange.engines.scheduling.lp import INF, SparseLP, floor_bound


@st.composite
def small_programs(draw: st.DrawFn) -> SparseLP:
    lp = SparseLP()
    n = draw(st.integers(1, 4))
    for _ in range(n):
        lp.var(upper=1.0, objective=float(draw(st.integers(-3, 3))))
    for _ in range(draw(st.integers(0, 4))):
        index = sorted(draw(st.sets(st.integers(0, n - 1), min_size=1)))
        coef = [float(draw(st.integers(-2, 2))) for _ in index]
        lo = draw(st.sampled_from([-INF, -1.0, 0.0, 1.0]))
        hi = draw(st.sampled_from([INF, 0.0, 1.0, 2.0]))
        lp.row(index, coef, lo, max(lo, hi))
    return lp


def best_point(lp: SparseLP) -> float | None:
    """The maximum over the 0/1 points that meet every row (None when none does)."""
    best = None
    for point in itertools.product((0, 1), repeat=len(lp.upper)):
        if all(
            lo <= sum(a * point[j] for j, a in zip(index, coef, strict=True)) <= hi
            for index, coef, lo, hi in lp.rows
        ):
            value = sum(c * x for c, x in zip(lp.objective, point, strict=True))
            best = value if best is None else max(best, value)
    return best


@settings(max_examples=200, deadline=None)
@given(small_programs(), st.lists(st.floats(-5, 5), min_size=4, max_size=4))
def test_any_multipliers_give_a_bound_above_every_feasible_point(
    lp: SparseLP, multipliers: list[float]
) -> None:
    best = best_point(lp)
    bound = lp._certified((multipliers * 2)[: len(lp.rows)])
    if best is not None:
        assert bound >= best - 1e-9


@settings(max_examples=200, deadline=None)
@given(small_programs())
def test_glop_s_bound_holds_and_is_the_linear_optimum(lp: SparseLP) -> None:
    bound = lp.maximize(seconds=5)
    best = best_point(lp)
    if bound is None:  # no bound is claimed; "infeasible" must be true
        assert not lp.infeasible or best is None
        return
    assert best is None or floor_bound(bound) >= best
    # At the optimum the multipliers are exact: the bound is the LP's value.
    value = sum(c * x for c, x in zip(lp.objective, lp.values, strict=True))
    assert math.isclose(bound, value, abs_tol=1e-6)
