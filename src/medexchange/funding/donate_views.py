"""Donation pages: give to a fund, the thank-you page, the provider's webhook, the
donor's own gifts and receipts, and the finance staff's receipts register.

Funds are read through ``Fund.objects.visible_to`` (public, active funds) or
``managed_by`` (finance staff); donors' gifts, pledges and receipts through
``donations.donations_of`` / ``pledges_of`` / ``receipts.receipts_of``: another person's
gift is a 404, the same as one that does not exist. The thank-you page and its receipt
link are reached with a signed token (the donor may have no account).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medexchange.funding import donations, receipts
from medexchange.funding.choices import RECEIVED_STATUSES, ReceiptKind
from medexchange.funding.donate_forms import DonationForm, add_donation_errors
from medexchange.funding.models import Donation, Fund, Receipt
from medexchange.funding.payments import InvalidWebhook, get_provider, online_provider

GIFT_LINK_SALT = "medexchange.funding.donation"
#: How long the thank-you link of a gift works (seconds): a month.
TOKEN_MAX_AGE = 31 * 24 * 3600
RECEIPTS_SHOWN = 200


def _public_fund(request: HttpRequest, network: str, fund: str) -> Fund:
    return get_object_or_404(
        Fund.objects.visible_to(request.user).active().select_related("network"),
        network__slug=network,
        slug=fund,
    )


def _fund_page_url(fund: Fund) -> str:
    """The public fund page (another module's) when it exists, else the donation page."""
    from django.urls import NoReverseMatch

    try:
        return reverse("funding:fund", kwargs={"network": fund.network.slug, "fund": fund.slug})
    except NoReverseMatch:
        return donate_url(fund)


def donate_url(fund: Fund) -> str:
    return reverse("funding:donate", kwargs={"network": fund.network.slug, "fund": fund.slug})


def gift_token(donation: Donation) -> str:
    return signing.dumps(donation.pk, salt=GIFT_LINK_SALT)


def _gift_from_token(token: str, fund: Fund) -> Donation:
    try:
        pk = signing.loads(token, salt=GIFT_LINK_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise Http404 from None
    if not isinstance(pk, int):
        raise Http404
    return get_object_or_404(
        Donation.objects.select_related("fund", "fund__network").with_refunded(),
        pk=pk,
        fund=fund,
    )


def _pdf(receipt: Receipt) -> HttpResponse:
    response = HttpResponse(receipts.render_receipt_pdf(receipt), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{receipts.receipt_filename(receipt)}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --------------------------------------------------------------------------- giving


@require_http_methods(["GET", "POST"])
def donate(request: HttpRequest, network: str, fund: str) -> HttpResponse:
    """The fund's donation form; a valid one sends the donor to the provider's checkout."""
    found = _public_fund(request, network, fund)
    provider = online_provider()
    user: Any = request.user
    initial = (
        {"donor_email": user.email, "donor_name": user.get_full_name()}
        if (user.is_authenticated)
        else {}
    )
    form = DonationForm(request.POST or None, fund=found, initial=initial)
    if request.GET.get("cancelled"):
        messages.info(request, _("You cancelled the payment: nothing was charged."))
    if request.method == "POST" and provider is not None and form.is_valid():

        def urls(donation: Donation) -> tuple[str, str]:
            thanks = reverse(
                "funding:donate-thanks",
                kwargs={"network": network, "fund": fund, "token": gift_token(donation)},
            )
            return (
                request.build_absolute_uri(thanks),
                request.build_absolute_uri(donate_url(found) + "?cancelled=1"),
            )

        try:
            started = donations.donation_checkout_start(
                fund=found,
                values=form.values(),
                donor=user,
                language=translation.get_language() or "en",
                urls=urls,
                provider=provider,
            )
        except ValidationError as error:
            add_donation_errors(form, error)
        else:
            return redirect(started.url)
    failed = request.method == "POST"
    response = render(
        request,
        "funding/donate/donate.html",
        {
            "fund": found,
            "form": form,
            "online": provider is not None,
            "fund_url": _fund_page_url(found),
        },
        status=400 if failed and (provider is None or form.errors) else 200,
    )
    if provider is not None:
        # The form's POST is answered with a redirect to the provider's checkout:
        # browsers apply the page's form-action to it (django-csp merges this in).
        response._csp_update = {"form-action": provider.checkout_origins()}  # type: ignore[attr-defined]
    return response


@require_GET
def donate_thanks(request: HttpRequest, network: str, fund: str, token: str) -> HttpResponse:
    """Where the provider sends the donor back: the gift's state and its receipt."""
    found = _public_fund(request, network, fund)
    gift = _gift_from_token(token, found)
    receipt = Receipt.objects.filter(donation=gift).first()
    return render(
        request,
        "funding/donate/thanks.html",
        {
            "fund": found,
            "gift": gift,
            "received": gift.status in RECEIVED_STATUSES,
            "receipt": receipt,
            "token": token,
            "fund_url": _fund_page_url(found),
        },
    )


@require_GET
def donate_receipt(request: HttpRequest, network: str, fund: str, token: str) -> HttpResponse:
    """The receipt PDF of the gift the token names."""
    found = _public_fund(request, network, fund)
    gift = _gift_from_token(token, found)
    receipt = get_object_or_404(Receipt, donation=gift)
    return _pdf(receipt)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events: verified by signature (400 with the reason otherwise), stored
    once, processed once."""
    provider = get_provider("stripe")
    try:
        event = provider.parse_webhook(request.body, request.headers)
    except InvalidWebhook as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    result = donations.provider_event_receive(provider=provider.name, event=event)
    return JsonResponse({"status": result.status, "outcome": result.outcome})


# --------------------------------------------------------------------------- the donor


@login_required
@require_GET
def my_gifts(request: HttpRequest) -> HttpResponse:
    """The signed-in donor's gifts, receipts, statements and pledges."""
    gifts = list(
        donations.donations_of(request.user)
        .exclude(status="pending", provider_reference="")
        .select_related("fund", "fund__network", "receipt")
        .with_refunded()
        .order_by("-created_at", "-pk")[:500]
    )
    pledges = list(
        donations.pledges_of(request.user)
        .select_related("fund", "fund__network")
        .order_by("-created_at", "-pk")
    )
    statements = list(
        receipts.receipts_of(request.user)
        .filter(kind=ReceiptKind.STATEMENT)
        .order_by("-fiscal_year", "-number")
    )
    return render(
        request,
        "funding/donate/my_gifts.html",
        {
            "gifts": gifts,
            "pledges": pledges,
            "statements": [(s, receipts.fiscal_year_label(s.fiscal_year)) for s in statements],
        },
    )


@login_required
@require_GET
def my_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    """A receipt or statement PDF of the donor's own (404 for anyone else's)."""
    receipt = get_object_or_404(
        receipts.receipts_of(request.user).select_related("donation__fund__network"), pk=pk
    )
    return _pdf(receipt)


@login_required
@require_POST
def pledge_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    pledge = get_object_or_404(donations.pledges_of(request.user).select_related("fund"), pk=pk)
    try:
        donations.pledge_cancel(pledge=pledge, actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except PermissionDenied:  # pragma: no cover - pledges_of already limits to theirs
        raise Http404 from None
    else:
        messages.success(request, _("Your monthly gift is stopped. Thank you for your support."))
    return redirect("funding:my-gifts")


# --------------------------------------------------------------------------- finance staff


def _managed_fund(request: HttpRequest, network: str, fund: str) -> Fund:
    return get_object_or_404(
        Fund.objects.managed_by(request.user).select_related("network"),
        network__slug=network,
        slug=fund,
    )


@login_required
@require_http_methods(["GET", "POST"])
def fund_receipts(request: HttpRequest, network: str, fund: str) -> HttpResponse:
    """The fund's received gifts and their receipts; issue the missing ones (offline
    gifts recorded by hand, or any gift whose receipt was not issued)."""
    found = _managed_fund(request, network, fund)
    if request.method == "POST":
        wanted = request.POST.get("donation", "")
        gifts = Donation.objects.filter(
            fund=found, status__in=RECEIVED_STATUSES, receipt__isnull=True
        )
        if wanted != "all":
            gifts = gifts.filter(pk=int(wanted) if wanted.isdigit() else 0)
        issued = 0
        for gift in gifts.order_by("received_on", "pk"):
            try:
                receipts.receipt_issue(donation=gift, actor=request.user)
            except ValidationError as error:
                for message in error.messages:
                    messages.error(request, message)
            else:
                issued += 1
        if issued:
            messages.success(
                request,
                _("%(count)d receipt(s) issued and e-mailed to the donors.") % {"count": issued},
            )
        elif not gifts.exists():
            messages.info(request, _("Every received gift already has its receipt."))
        return redirect("funding:fund-receipts", network=network, fund=fund)
    shown = list(
        Donation.objects.filter(fund=found, status__in=[*RECEIVED_STATUSES, "refunded"])
        .select_related("receipt")
        .order_by("-received_on", "-pk")[:RECEIPTS_SHOWN]
    )
    missing = Donation.objects.filter(
        fund=found, status__in=RECEIVED_STATUSES, receipt__isnull=True
    ).count()
    return render(
        request,
        "funding/donate/fund_receipts.html",
        {"fund": found, "gifts": shown, "missing": missing, "shown": RECEIPTS_SHOWN},
    )


@login_required
@require_GET
def staff_receipt(request: HttpRequest, network: str, fund: str, pk: int) -> HttpResponse:
    found = _managed_fund(request, network, fund)
    receipt = get_object_or_404(
        receipts.receipts_managed_by(request.user).select_related("donation__fund__network"),
        pk=pk,
        donation__fund=found,
    )
    return _pdf(receipt)
