"""The public fund pages (a network's funds, one fund, its impact) and the finance
staff's reports with their CSV exports.

Funds are read through ``Fund.objects.visible_to`` (public pages) or ``managed_by``
(reports): a fund someone may not see is a 404, like one that does not exist; the
reports of a network are a 404 to anyone who is not its finance staff. Public pages
show no recipient's identity (``funding.impact``) and no donor's amount, e-mail
address or dedication (``funding.reports.recent_supporters``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from medexchange.funding import charts, impact, reports, selectors
from medexchange.funding.models import Fund
from medexchange.funding.page_forms import ReportForm
from medexchange.funding.permissions import is_finance_staff
from medexchange.funding.selectors import FundTotals
from medexchange.network.models import Network

CHART_MONTHS = 24
EXPORTS = ("ledger", "table", "countries", "programs")


def donate_url(fund: Fund) -> str | None:
    """The fund's donation page, when the fund takes gifts (and the page exists)."""
    if not fund.is_active:
        return None
    try:
        return reverse("funding:donate", kwargs={"network": fund.network.slug, "fund": fund.slug})
    except NoReverseMatch:
        return None


def progress(totals: FundTotals, target: Decimal | None) -> int | None:
    """Raised (net of refunds) as a whole percentage of the target, at most 100."""
    if not target:
        return None
    raised = totals.raised - totals.refunded
    return max(0, min(100, int(raised * 100 / target)))


def _public_fund(request: HttpRequest, network: str, fund: str) -> Fund:
    return get_object_or_404(
        Fund.objects.visible_to(request.user).select_related("network"),
        network__slug=network,
        slug=fund,
    )


# --------------------------------------------------------------------------- public pages


@require_GET
def fund_list(request: HttpRequest, network: str) -> HttpResponse:
    """The network's funds that take gifts, with what each raised (one query of totals)."""
    place = get_object_or_404(Network, slug=network)
    funds = list(
        Fund.objects.visible_to(request.user)
        .filter(network=place)
        .select_related("network")
        .order_by("-is_active", "name", "pk")
    )
    totals = selectors.fund_totals_many(funds)
    rows = [
        {
            "fund": fund,
            "totals": totals[fund.pk],
            "net_raised": totals[fund.pk].raised - totals[fund.pk].refunded,
            "progress": progress(totals[fund.pk], fund.target),
            "donate_url": donate_url(fund),
        }
        for fund in funds
    ]
    return render(request, "funding/pages/list.html", {"network": place, "rows": rows})


@require_GET
def fund_page(request: HttpRequest, network: str, fund: str) -> HttpResponse:
    """One fund: what it is for, its target, its money (derived from the ledger), a
    chart of money in and out, its recent supporters and what it achieved."""
    found = _public_fund(request, network, fund)
    figures = reports.fund_figures(found)
    totals = figures.totals
    flows = figures.flows(months=CHART_MONTHS)
    return render(
        request,
        "funding/pages/fund.html",
        {
            "fund": found,
            "network": found.network,
            "totals": totals,
            "net_raised": totals.raised - totals.refunded,
            "progress": progress(totals, found.target),
            "flows": flows,
            "chart": charts.flow_chart(flows, found.currency),
            "supporters": reports.recent_supporters(found),
            "impact": impact.fund_impact(found),
            "donate_url": donate_url(found),
            "is_staff_view": is_finance_staff(request.user, found.network_id),
        },
    )


@require_GET
def fund_impact(request: HttpRequest, network: str, fund: str) -> HttpResponse:
    """What the fund achieved: participants per year, by home country and by program
    (small groups not named), the total awarded, and named recipients who agreed."""
    found = _public_fund(request, network, fund)
    return render(
        request,
        "funding/pages/impact.html",
        {
            "fund": found,
            "network": found.network,
            "impact": impact.fund_impact(found, stories=True),
            "small_group": impact.SMALL_GROUP,
            "donate_url": donate_url(found),
        },
    )


# --------------------------------------------------------------------------- reports


class _Echo:
    """A file-like object whose ``write`` hands the CSV line back (for streaming)."""

    def write(self, value: str) -> str:
        return value


def csv_response(rows: Iterable[list[str]], filename: str) -> StreamingHttpResponse:
    """A CSV download for spreadsheets: UTF-8 with a byte-order mark (so Excel reads the
    accents right), streamed row by row."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[bytes]:
        yield "\ufeff".encode()
        for row in rows:
            yield writer.writerow(row).encode("utf-8")

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def report(request: HttpRequest, network: str) -> HttpResponseBase:
    """Per fund and per period: raised, refunded, committed, released, disbursed,
    returned, adjusted, and held / available at each period's end; scholarship money by
    recipient home country and by program; CSV exports of the ledger and of the tables."""
    place = get_object_or_404(Network, slug=network)
    if not is_finance_staff(request.user, place):
        raise Http404
    funds = (
        Fund.objects.managed_by(request.user)
        .filter(network=place)
        .select_related("network")
        .order_by("name", "pk")
    )
    # What the address leaves out is this year so far, by month, for every fund.
    form = ReportForm({**ReportForm.defaults(), **request.GET.dict()}, funds=funds)
    context: dict[str, Any] = {"network": place, "form": form, "has_funds": funds.exists()}
    if not form.is_valid():
        return render(request, "funding/pages/reports.html", context, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    granularity = form.cleaned_data["granularity"]
    chosen = (
        [form.cleaned_data["fund"]]
        if form.cleaned_data["fund"]
        else list(funds.order_by("-is_active", "name", "pk"))
    )
    export = request.GET.get("export", "")
    stamp = f"{place.slug}-{start.isoformat()}-{end.isoformat()}"
    if export == "ledger":
        entries = reports.ledger_entries(chosen, start=start, end=end).iterator(chunk_size=2000)
        rows = _with_header(reports.LEDGER_COLUMNS, reports.ledger_rows(entries))
        return csv_response(rows, f"{stamp}-ledger.csv")
    if export == "table":
        table = reports.period_report(chosen, start=start, end=end, granularity=granularity)
        return csv_response(reports.report_rows(table), f"{stamp}-{granularity}s.csv")
    if export in ("countries", "programs"):
        by = reports.BY_COUNTRY if export == "countries" else reports.BY_PROGRAM
        lines = reports.awards_by(chosen, start=start, end=end, by=by)
        heading = "home_country" if export == "countries" else "program"
        return csv_response(reports.award_rows(lines, heading), f"{stamp}-{export}.csv")
    if export:
        raise Http404
    query = _query(form.cleaned_data)
    context.update(
        {
            "reports": reports.period_report(chosen, start=start, end=end, granularity=granularity),
            "headings": reports.report_headings(),
            "by_country": reports.awards_by(chosen, start=start, end=end, by=reports.BY_COUNTRY),
            "by_program": reports.awards_by(chosen, start=start, end=end, by=reports.BY_PROGRAM),
            "start": start,
            "end": end,
            "exports": {name: _export_query(query, name) for name in EXPORTS},
            "generated_at": timezone.now(),
        }
    )
    return render(request, "funding/pages/reports.html", context)


def _with_header(header: Iterable[str], rows: Iterable[list[str]]) -> Iterator[list[str]]:
    yield list(header)
    yield from rows


def _query(data: dict[str, Any]) -> QueryDict:
    """The report's choices as a query string's parameters (for the export links)."""
    query = QueryDict(mutable=True)
    query["fund"] = data["fund"].slug if data.get("fund") else ""
    query["granularity"] = data["granularity"]
    query["start"] = data["start"].isoformat()
    query["end"] = data["end"].isoformat()
    return query


def _export_query(query: QueryDict, name: str) -> str:
    copy = query.copy()
    copy["export"] = name
    return str(copy.urlencode())
