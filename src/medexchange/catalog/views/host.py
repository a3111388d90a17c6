"""Host side of the catalog (being built: every page answers 404 until it exists)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def _not_yet(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise Http404


host_opportunities = opportunity_add = opportunity_import = opportunity_export = _not_yet
opportunity_edit = opportunity_duplicate = opportunity_status = _not_yet
session_add = session_generate = session_edit = session_cancel = _not_yet
