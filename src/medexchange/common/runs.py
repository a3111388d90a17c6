"""Background runs (match runs, plan solves): progress by stage, and a cancel flag.

A run model has ``stage``, ``progress`` and ``cancel_requested_at``; its task calls
:func:`run_stage` between stages and stops on :class:`RunCancelled`.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.http import HttpResponse


class RunCancelled(Exception):
    """The run's cancel flag was found set between two stages."""


def run_stage(model: type[models.Model], pk: int, stage: str, progress: int, **values: Any) -> None:
    """Record progress; stop if someone asked to cancel meanwhile."""
    rows = model._default_manager.filter(pk=pk)
    if rows.filter(cancel_requested_at__isnull=False).exists():
        raise RunCancelled
    rows.update(stage=stage, progress=progress, **values)


def json_attachment(content: str | Any, filename: str) -> HttpResponse:
    """A run's input or result as a JSON download (text as stored, or data to encode)."""
    text = (
        content if isinstance(content, str) else json.dumps(content, ensure_ascii=False, indent=1)
    )
    response = HttpResponse(text, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
