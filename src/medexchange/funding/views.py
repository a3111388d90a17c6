"""The finance staff's pages: a network's funds, one fund's books, recording a gift,
importing a bank statement, recording exchange rates. Thin: a form, one service call,
a template.

Funds are found through ``Fund.objects.managed_by`` and networks through the user's
staff roles: anything else is a 404 ("not yours" and "does not exist" alike). The
public fund and donation pages are another module's (they will read ``visible_to``).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from medexchange.applications.views.host import add_service_errors
from medexchange.funding import bank_import, donations, receipts, selectors, services
from medexchange.funding.choices import LedgerKind
from medexchange.funding.forms import (
    BankImportForm,
    ExchangeRateForm,
    FundForm,
    OfflineGiftForm,
    RefundForm,
)
from medexchange.funding.models import Donation, ExchangeRate, Fund, LedgerEntry
from medexchange.funding.money import format_money, parse_amount, quantize
from medexchange.network.models import Network

LEDGER_PAGE_SIZE = 50
RATES_SHOWN = 100
IMPORT_SESSION_KEY = "funding-bank-import-%d"


def _network(request: HttpRequest, slug: str) -> Network:
    """A network whose money the user handles (its staff, or a superuser)."""
    user: Any = request.user
    networks = Network.objects.all()
    if not user.is_superuser:
        networks = networks.filter(pk__in=user.staffed_network_ids())
    return get_object_or_404(networks, slug=slug)


def _fund(request: HttpRequest, network: str, fund: str) -> Fund:
    return get_object_or_404(
        Fund.objects.managed_by(request.user).select_related("network"),
        network__slug=network,
        slug=fund,
    )


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, failed: bool = False
) -> HttpResponse:
    return render(request, template, context, status=400 if failed else 200)


# --------------------------------------------------------------------------- funds


@login_required
@require_GET
def network_funds(request: HttpRequest, network: str) -> HttpResponse:
    """The network's funds with their totals (one query for all the totals)."""
    place = _network(request, network)
    funds = list(
        Fund.objects.filter(network=place)
        .select_related("network")
        .order_by("-is_active", "name", "pk")
    )
    totals = selectors.fund_totals_many(funds)
    return render(
        request,
        "funding/network_funds.html",
        {"network": place, "rows": [(fund, totals[fund.pk]) for fund in funds]},
    )


def _fund_values(form: FundForm) -> dict[str, Any]:
    values = dict(form.cleaned_data)
    values["target"] = values.get("target") or None
    return values


@login_required
@require_http_methods(["GET", "POST"])
def fund_create(request: HttpRequest, network: str) -> HttpResponse:
    place = _network(request, network)
    form = FundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            fund = services.fund_create(
                network=place, actor=request.user, values=_fund_values(form)
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The fund is created."))
            return redirect(fund.get_manage_url())
    return _render(
        request,
        "funding/fund_form.html",
        {"network": place, "form": form, "fund": None},
        failed=request.method == "POST",
    )


@login_required
@require_http_methods(["GET", "POST"])
def fund_edit(request: HttpRequest, network: str, fund: str) -> HttpResponse:
    found = _fund(request, network, fund)
    form = FundForm(request.POST or None, initial=FundForm.initial_of(found))
    if request.method == "POST" and form.is_valid():
        try:
            services.fund_update(fund=found, actor=request.user, values=_fund_values(form))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The fund is saved."))
            return redirect(found.get_manage_url())
    return _render(
        request,
        "funding/fund_form.html",
        {"network": found.network, "form": form, "fund": found},
        failed=request.method == "POST",
    )


@login_required
@require_GET
def manage(request: HttpRequest, network: str, fund: str) -> HttpResponse:
    """One fund's books: totals derived from the ledger, and the ledger, newest first."""
    found = _fund(request, network, fund)
    entries = (
        LedgerEntry.objects.filter(fund=found)
        .select_related("donation", "commitment", "disbursement", "actor")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(entries, LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "funding/manage.html",
        {
            "fund": found,
            "network": found.network,
            "totals": selectors.fund_totals(found),
            "pending_refunds": selectors.pending_refunds(found.pk),
            "page": page,
            "entries": page.object_list,
        },
    )


# --------------------------------------------------------------------------- offline gifts


@login_required
@require_http_methods(["GET", "POST"])
def gift_record(request: HttpRequest, network: str, fund: str) -> HttpResponse:
    found = _fund(request, network, fund)
    form = OfflineGiftForm(request.POST or None, fund=found)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        receipt = None
        try:
            with transaction.atomic():  # a gift and its receipt, or neither
                donation = services.donation_record_offline(
                    fund=found,
                    amount=data["amount"],
                    currency=data["currency"],
                    method=data["method"],
                    donor_name=data["donor_name"],
                    donor_email=data["donor_email"],
                    memo=data["memo"],
                    received_on=data["received_on"],
                    rate=data["rate"] or None,
                    reference=data["reference"],
                    is_anonymous=data["is_anonymous"],
                    language=data["language"] or settings.LANGUAGE_CODE,
                    actor=request.user,
                )
                if data["issue_receipt"]:
                    receipt = receipts.receipt_issue(donation=donation, actor=request.user)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            amount = format_money(donation.amount, donation.currency)
            if receipt is None:
                text = _("The gift of %(amount)s is recorded.") % {"amount": amount}
            elif receipt.donor_email:
                text = _(
                    "The gift of %(amount)s is recorded; receipt %(receipt)s is e-mailed to "
                    "%(email)s."
                ) % {"amount": amount, "receipt": receipt.label, "email": receipt.donor_email}
            else:
                text = _(
                    "The gift of %(amount)s is recorded with receipt %(receipt)s; without an "
                    "e-mail address, print it from the Receipts page."
                ) % {"amount": amount, "receipt": receipt.label}
            messages.success(request, text)
            return redirect(found.get_manage_url())
    return _render(
        request,
        "funding/gift_form.html",
        {"fund": found, "network": found.network, "form": form},
        failed=request.method == "POST",
    )


@login_required
@require_http_methods(["GET", "POST"])
def gift_refund(request: HttpRequest, network: str, fund: str, pk: int) -> HttpResponse:
    """Give back part or all of a gift: a gift recorded by hand leaves the ledger at once;
    an online gift is refunded at the payment provider and leaves it when the provider
    confirms."""
    found = _fund(request, network, fund)
    gift = get_object_or_404(
        Donation.objects.visible_to(request.user).filter(fund=found).select_related("fund"),
        pk=pk,
    )
    online = bool(gift.provider) and not gift.provider.startswith("bank:")
    left = gift.refundable_amount
    form = RefundForm(
        request.POST or None,
        initial={
            "amount": quantize(left, gift.currency) if left else "",
            "refunded_before": gift.refunded_amount,
        },
    )
    if request.method == "POST" and form.is_valid():
        values = {
            "donation": gift,
            "amount": form.cleaned_data["amount"],
            "actor": request.user,
            "reason": form.cleaned_data["reason"],
            "expected_refunded": form.cleaned_data["refunded_before"],
        }
        try:
            if online:
                donations.donation_refund_online(**values)
            else:
                services.donation_refund(**values)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_service_errors(form, error)
            # Sent again from this page, the form is checked against what it shows now.
            resent = request.POST.copy()
            resent["refunded_before"] = str(gift.refunded_amount)
            form.data = resent
        else:
            given = format_money(parse_amount(values["amount"], gift.currency), gift.currency)
            messages.success(
                request,
                _(
                    "The payment service is asked to give %(amount)s back; the fund's ledger "
                    "shows the refund as soon as the service confirms it."
                )
                % {"amount": given}
                if online
                else _("%(amount)s is given back; the fund's ledger shows the refund.")
                % {"amount": given},
            )
            return redirect(found.get_manage_url())
    refunds = (
        LedgerEntry.objects.filter(fund=found, donation=gift, kind=LedgerKind.REFUND)
        .select_related("actor")
        .order_by("created_at", "pk")
    )
    return _render(
        request,
        "funding/gift_refund.html",
        {
            "fund": found,
            "network": found.network,
            "gift": gift,
            "online": online,
            "refunds": refunds,
            "left": left,
            "pending": selectors.pending_refund(gift) if online else None,
            "form": form,
        },
        failed=request.method == "POST",
    )


# --------------------------------------------------------------------------- bank import


def _import_context(
    place: Network, form: BankImportForm, preview: Any = None, file_error: str = ""
) -> dict[str, Any]:
    return {
        "network": place,
        "form": form,
        "preview": preview,
        "file_error": file_error,
        "columns": bank_import.COLUMNS,
    }


@login_required
@require_http_methods(["GET", "POST"])
def bank_import_page(request: HttpRequest, network: str) -> HttpResponse:
    """Upload → a dry run listing every row; "Record" writes the OK rows of the checked
    file at once (or nothing). The checked file waits in the session between the two."""
    place = _network(request, network)
    funds = Fund.objects.filter(network=place, is_active=True).order_by("name")
    key = IMPORT_SESSION_KEY % place.pk
    initial = {}
    if request.method == "GET" and request.GET.get("fund"):
        initial["default_fund"] = funds.filter(slug=request.GET["fund"]).first()
    form = BankImportForm(initial=initial, funds=funds)
    if request.method == "POST" and request.POST.get("action") == "commit":
        return _import_commit(request, place, form, key)
    if request.method == "POST":
        form = BankImportForm(request.POST, request.FILES, funds=funds)
        if not form.is_valid():
            return _render(
                request, "funding/bank_import.html", _import_context(place, form), failed=True
            )
        content = form.cleaned_data["file"].read()
        default_fund = form.cleaned_data["default_fund"]
        try:
            preview = services.bank_import_preview(
                fund_or_network=place,
                csv_file=content,
                actor=request.user,
                default_fund=default_fund,
            )
        except bank_import.BankFileError as error:
            request.session.pop(key, None)
            context = _import_context(place, form, file_error=" ".join(error.messages))
            return _render(request, "funding/bank_import.html", context, failed=True)
        if preview.ok_rows:
            request.session[key] = {
                "content": base64.b64encode(content).decode("ascii"),
                "sha256": hashlib.sha256(content).hexdigest(),
                "default_fund": default_fund.pk if default_fund else None,
                "ok_lines": sorted(preview.ok_lines),
            }
        else:
            request.session.pop(key, None)
        return _render(
            request,
            "funding/bank_import.html",
            _import_context(place, form, preview),
            failed=not preview.ok_rows,
        )
    return render(request, "funding/bank_import.html", _import_context(place, form))


def _import_commit(
    request: HttpRequest, place: Network, form: BankImportForm, key: str
) -> HttpResponse:
    stored = request.session.get(key)
    if not stored:
        context = _import_context(
            place,
            form,
            file_error=_("Upload the file again: the checked file is no longer available."),
        )
        return _render(request, "funding/bank_import.html", context, failed=True)
    content = base64.b64decode(stored["content"])
    default_fund = (
        Fund.objects.filter(network=place, pk=stored["default_fund"]).first()
        if stored["default_fund"]
        else None
    )
    try:
        result = services.bank_import_commit(
            fund_or_network=place,
            csv_file=content,
            actor=request.user,
            default_fund=default_fund,
            expected=stored["ok_lines"],
        )
    except bank_import.ImportChanged as changed:
        stored["ok_lines"] = sorted(changed.preview.ok_lines)
        request.session[key] = stored
        context = _import_context(place, form, changed.preview, file_error=changed.messages[0])
        return _render(request, "funding/bank_import.html", context, failed=True)
    except ValidationError as error:
        request.session.pop(key, None)
        context = _import_context(place, form, file_error=" ".join(error.messages))
        return _render(request, "funding/bank_import.html", context, failed=True)
    del request.session[key]
    recorded = len(result.donations)
    parts = [
        ngettext("%(count)d gift recorded.", "%(count)d gifts recorded.", recorded)
        % {"count": recorded}
    ]
    if result.duplicates:
        count = len(result.duplicates)
        parts.append(
            ngettext(
                "%(count)d row was already recorded and skipped.",
                "%(count)d rows were already recorded and skipped.",
                count,
            )
            % {"count": count}
        )
    if result.not_recorded:
        count = len(result.not_recorded)
        parts.append(
            ngettext(
                "%(count)d row with errors was not recorded.",
                "%(count)d rows with errors were not recorded.",
                count,
            )
            % {"count": count}
        )
    messages.success(request, " ".join(parts))
    return redirect("funding:funds", network=place.slug)


# --------------------------------------------------------------------------- rates


@login_required
@require_http_methods(["GET", "POST"])
def rates(request: HttpRequest, network: str) -> HttpResponse:
    """The rates the network's gifts are converted at (its own and the platform's), and
    a form to record one."""
    place = _network(request, network)
    form = ExchangeRateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            recorded = services.exchange_rate_record(
                network=place,
                from_currency=data["from_currency"],
                to_currency=data["to_currency"],
                rate=data["rate"],
                on=data["on"],
                source=data["source"],
                actor=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Recorded: %(rate)s.") % {"rate": recorded})
            return redirect("funding:rates", network=place.slug)
    shown = (
        ExchangeRate.objects.filter(Q(network=place) | Q(network__isnull=True))
        .select_related("recorded_by")
        .order_by("-on", "-pk")[:RATES_SHOWN]
    )
    return _render(
        request,
        "funding/rates.html",
        {
            "network": place,
            "form": form,
            "rates": list(shown),
        },
        failed=request.method == "POST",
    )
