"""Background work of match cycles: solving a run, closing rankings whose window ended."""

from __future__ import annotations

from celery import shared_task

from medexchange.matching import services


@shared_task
def match_run_execute(run_id: int) -> str:
    """Solve one queued run (queued on commit by ``services.match_run_start``)."""
    run = services.match_run_execute(run_id=run_id)
    return run.status if run is not None else "missing"


@shared_task
def close_due_rankings() -> int:
    """Run every few minutes: cycles whose ranking window ended stop taking rankings."""
    return services.match_cycles_close_due()
