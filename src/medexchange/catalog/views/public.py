"""Applicant side of the catalog (being built: every page answers 404 until it exists)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def _not_yet(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise Http404


search = search_geojson = search_calendar = opportunity_detail = _not_yet
saved_searches = saved_search_delete = _not_yet
