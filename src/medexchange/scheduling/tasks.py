"""Background work of rotation plans: solving one queued solve."""

from __future__ import annotations

from celery import shared_task

from medexchange.scheduling import services


@shared_task
def plan_solve_execute(solve_id: int) -> str:
    """Solve one queued solve (queued on commit by ``services.plan_solve_start``)."""
    solve = services.plan_solve_execute(solve_id=solve_id)
    return solve.status if solve is not None else "missing"
