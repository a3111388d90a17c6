"""Applicant side of the catalog: search, its map, and the opportunity page."""

from __future__ import annotations

import math

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET, require_http_methods

from medexchange.applications.selectors import median_days_to_decision
from medexchange.catalog import alerts, selectors
from medexchange.catalog.choices import DocumentKind, Immunisation
from medexchange.catalog.filters import (
    OpportunitySearchFilter,
    Sort,
    distance_km,
    searchable_opportunities,
)
from medexchange.catalog.models import SAVED_SEARCH_LIMIT, SavedSearch
from medexchange.common.http import HtmxHttpRequest
from medexchange.common.languages import language_name

SEARCH_PAGE_SIZE = 20


class SaveSearchForm(forms.Form):
    """The search page's "save this search": its query string and an optional name."""

    query = forms.CharField(max_length=4000, required=False, strip=True)
    name = forms.CharField(max_length=200, required=False)


class SavedSearchAlertsForm(forms.Form):
    """Pause or resume the alerts of one saved search (the list page's buttons)."""

    action = forms.ChoiceField(choices=[("pause", "pause"), ("resume", "resume")])
    pk = forms.IntegerField(min_value=1)


@login_required
@require_http_methods(["GET", "POST"])
def saved_searches(request: HttpRequest) -> HttpResponse:
    """The person's saved searches; POST saves the search page's filters, or pauses one."""
    if request.method == "POST" and "action" in request.POST:
        toggle = SavedSearchAlertsForm(request.POST)
        if not toggle.is_valid():
            raise Http404
        saved = get_object_or_404(
            SavedSearch.objects.visible_to(request.user), pk=toggle.cleaned_data["pk"]
        )
        active = toggle.cleaned_data["action"] == "resume"
        alerts.saved_search_set_active(saved_search=saved, actor=request.user, active=active)
        if active:
            messages.success(request, _("Alerts for “%(name)s” resumed.") % {"name": saved})
        else:
            messages.success(request, _("Alerts for “%(name)s” paused.") % {"name": saved})
        return redirect("catalog:saved-searches")
    if request.method == "POST":
        form = SaveSearchForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Give the search a name of up to 200 characters."))
            return redirect("catalog:saved-searches")
        try:
            saved, created = alerts.saved_search_create(
                user=request.user,
                query=form.cleaned_data["query"].lstrip("?"),
                name=form.cleaned_data["name"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if created:
                messages.success(
                    request,
                    _(
                        "Search saved as “%(name)s”. We will e-mail you when a new matching "
                        "session is published."
                    )
                    % {"name": saved},
                )
            else:
                messages.info(
                    request, _("You already saved this search as “%(name)s”.") % {"name": saved}
                )
        return redirect("catalog:saved-searches")
    searches = list(SavedSearch.objects.visible_to(request.user).order_by("-created_at", "-pk"))
    for saved in searches:
        saved.summary = alerts.query_summary(saved.query)  # type: ignore[attr-defined]
    context = {"saved_searches": searches, "limit": SAVED_SEARCH_LIMIT}
    return render(request, "catalog/saved_searches.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def saved_search_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST deletes. Only the owner's own saved searches exist here."""
    saved = get_object_or_404(SavedSearch.objects.visible_to(request.user), pk=pk)
    if request.method == "POST":
        name = saved.name
        alerts.saved_search_delete(saved_search=saved, actor=request.user)
        messages.success(request, _("Saved search “%(name)s” deleted.") % {"name": name})
        return redirect("catalog:saved-searches")
    return render(request, "catalog/saved_search_confirm_delete.html", {"saved_search": saved})


def _filters(request: HttpRequest) -> tuple[OpportunitySearchFilter, OpportunitySearchFilter]:
    """The filters as asked (with their errors) and the valid part of them, to apply."""
    candidates = searchable_opportunities(request.user)
    asked = OpportunitySearchFilter(request.GET.copy(), queryset=candidates, request=request)
    if asked.is_valid():
        return asked, asked
    valid = request.GET.copy()
    for name in asked.errors:
        valid.pop(name, None)
    applied = OpportunitySearchFilter(valid, queryset=candidates, request=request)
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


def _near_choices(raw: str, point: object) -> list[tuple[str, str]]:
    """Host cities to sort by distance from, plus the place in the URL if it is another."""
    choices = selectors.host_city_choices()
    if point and raw not in {value for value, _label in choices}:
        choices.append((raw, raw))
    return choices


@require_GET
def search(request: HtmxHttpRequest) -> HttpResponse:
    asked, applied = _filters(request)
    data = applied.form.cleaned_data
    notices = []
    if data.get("sort") == Sort.DISTANCE and not data.get("near"):
        notices.append(_("Choose a place (latitude,longitude) to sort by distance."))
    if applied.eligibility_notice():
        notices.append(applied.eligibility_notice())
    searched = applied.text_queryset(applied.queryset)
    # One query counts the results and every facet; then one reads the page of results
    # (with what its cards need), even when there are none: a fixed number of queries.
    counts = selectors.facet_counts(applied, searched)
    results = applied.ordered(applied.facet_queryset(searched))
    paginator = selectors.CountedPaginator(
        selectors.results_queryset(results), SEARCH_PAGE_SIZE, count=counts.total
    )
    number, page_notice = _page_number(request, paginator)
    if page_notice:
        notices.append(page_notice)
    page = paginator.page_read(number)
    opportunities = list(page.object_list)
    selectors.attach_card_details(opportunities)
    for opportunity in opportunities:
        opportunity.distance_km = distance_km(getattr(opportunity, "distance_sq", None))
    errors = {name: " ".join(messages) for name, messages in asked.errors.items()}
    facets = selectors.search_facets(applied, searched, counts)
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
        "near_choices": _near_choices(request.GET.get("near", ""), data.get("near")),
        "current_near": request.GET.get("near", ""),
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


def _whole_days(days: float | None) -> int | None:
    """A median such as 0.4 days reads "within 1 day"."""
    return None if days is None else max(1, math.ceil(days))


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
        "days_to_decision": _whole_days(median_days_to_decision(opportunity.host_id)),
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
