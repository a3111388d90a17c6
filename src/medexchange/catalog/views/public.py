"""Applicant side of the catalog: search, its map, and the opportunity page."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from medexchange.catalog import selectors
from medexchange.catalog.choices import DocumentKind, Immunisation
from medexchange.catalog.filters import (
    OpportunitySearchFilter,
    Sort,
    distance_km,
    searchable_opportunities,
)
from medexchange.common.http import HtmxHttpRequest
from medexchange.common.languages import language_name

SEARCH_PAGE_SIZE = 20


def _not_yet(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise Http404


# Built by others or later: the iCalendar feed, and saved searches (need a model).
search_calendar = _not_yet
saved_searches = saved_search_delete = _not_yet


def _filters(request: HttpRequest) -> tuple[OpportunitySearchFilter, OpportunitySearchFilter]:
    """The filters as asked (with their errors) and the valid part of them, to apply."""
    candidates = searchable_opportunities(request.user)
    asked = OpportunitySearchFilter(request.GET.copy(), queryset=candidates)
    if asked.is_valid():
        return asked, asked
    valid = request.GET.copy()
    for name in asked.errors:
        valid.pop(name, None)
    applied = OpportunitySearchFilter(valid, queryset=candidates)
    applied.is_valid()
    return asked, applied


def _page_number(request: HttpRequest, paginator: Paginator) -> tuple[int, str]:
    raw = request.GET.get("page", "")
    if not raw:
        return 1, ""
    try:
        number = int(raw)
    except ValueError:
        return 1, _("The page number was not understood; showing the first page.")
    if number < 1:
        return 1, _("The page number was not understood; showing the first page.")
    if number > paginator.num_pages:
        return paginator.num_pages, _("There are fewer pages; showing the last one.")
    return number, ""


@require_GET
def search(request: HtmxHttpRequest) -> HttpResponse:
    asked, applied = _filters(request)
    data = applied.form.cleaned_data
    notices = []
    if data.get("sort") == Sort.DISTANCE and not data.get("near"):
        notices.append(_("Choose a place (latitude,longitude) to sort by distance."))
    searched = applied.text_queryset(applied.queryset)
    results = applied.ordered(applied.facet_queryset(searched))
    paginator = Paginator(selectors.results_queryset(results), SEARCH_PAGE_SIZE)
    number, page_notice = _page_number(request, paginator)
    if page_notice:
        notices.append(page_notice)
    page = paginator.page(number)
    opportunities = list(page.object_list)
    selectors.attach_card_details(opportunities)
    for opportunity in opportunities:
        opportunity.distance_km = distance_km(getattr(opportunity, "distance_sq", None))
    errors = {name: " ".join(messages) for name, messages in asked.errors.items()}
    facets = selectors.search_facets(applied, searched)
    for facet in facets:
        facet.error = errors.get(facet.name, "")
    query = request.GET.copy()
    for name in ("page", "view"):
        query.pop(name, None)
    context = {
        "filter": asked,
        "facets": facets,
        "errors": errors,
        "page": page,
        "opportunities": opportunities,
        "query": query.urlencode(),
        "notices": notices,
        "has_filters": any(name not in ("sort", "page") for name in query),
        "sort_choices": asked.filters["sort"].extra["choices"],
        "current_sort": data.get("sort") or Sort.RELEVANCE,
    }
    if request.GET.get("view") == "map":
        return render(request, "catalog/search_map.html", context)
    template = "catalog/_results.html" if request.htmx else "catalog/search.html"
    return render(request, template, context)


@gzip_page
@require_GET
def search_geojson(request: HttpRequest) -> HttpResponse:
    asked, applied = _filters(request)
    if asked is not applied:
        return JsonResponse({"errors": asked.errors.get_json_data()}, status=400)
    results = applied.facet_queryset(applied.text_queryset(applied.queryset))
    return HttpResponse(
        selectors.hosts_feature_collection(results), content_type="application/geo+json"
    )


@require_GET
def opportunity_detail(request: HttpRequest, slug: str) -> HttpResponse:
    opportunity = selectors.opportunity_for_page(request.user, slug)
    if opportunity is None:
        raise Http404
    documents = dict(DocumentKind.choices)
    immunisations = dict(Immunisation.choices)
    cost = opportunity.cost_estimate()
    cost_international = opportunity.cost_estimate(international=True)
    languages = [
        {"name": language_name(str(item.get("code", ""))), "level": item.get("level", "")}
        for item in opportunity.languages
        if isinstance(item, dict)
    ]
    back = request.GET.get("back", "")
    context = {
        "opportunity": opportunity,
        "host": opportunity.host,
        "sites": list(opportunity.sites.all()),
        "eligible_countries": sorted(
            opportunity.eligible_countries.all(), key=lambda profile: profile.name
        ),
        "languages": languages,
        "documents": [documents.get(code, code) for code in opportunity.required_documents],
        "immunisations": [
            immunisations.get(code, code) for code in opportunity.required_immunisations
        ],
        "cost": cost,
        "cost_international": cost_international,
        "international_difference": cost_international["total"] - cost["total"],
        "sessions": selectors.session_rows(opportunity),
        "host_zone": str(selectors.host_zone(opportunity)),
        "viewer_zone": timezone.get_current_timezone_name(),
        "can_edit": type(opportunity)
        .objects.editable_by(request.user)
        .filter(pk=opportunity.pk)
        .exists(),
        # Only a path on this site, so "back to results" keeps the filters safely.
        "back": back if back.startswith("/") and back[1:2] not in ("/", "\\") else "",
    }
    return render(request, "catalog/opportunity_detail.html", context)
