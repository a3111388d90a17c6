"""Receipts for gifts and donors' year-end statements: numbers, PDFs, e-mails.

Numbering: every receipt and statement takes the next number of its fiscal year from
``services.receipt_number_take`` (a ``ReceiptSequence`` row locked with
``select_for_update``) inside the transaction that creates it, so a year's numbers run
1, 2, 3 … with no gap and no repeat even when gifts arrive at the same moment. A gift's
fiscal year is that of the day it was received; a statement takes a number of the year
it covers. Fiscal years begin on the first day of ``FISCAL_YEAR_START_MONTH`` and are
named by the calendar year they begin in.

PDFs are rendered on each download (and for each e-mail) from the gift's rows, in the
donor's language, by WeasyPrint with a URL fetcher that refuses everything but inline
``data:`` URLs (``applications.letters.refuse_remote_fetch``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from medexchange.applications.letters import refuse_remote_fetch
from medexchange.common.services import audit_record
from medexchange.funding import services
from medexchange.funding.choices import RECEIVED_STATUSES, ReceiptKind
from medexchange.funding.models import Donation, Receipt
from medexchange.funding.money import format_money
from medexchange.funding.permissions import is_finance_staff

ZERO = Decimal(0)


# --------------------------------------------------------------------------- fiscal years


def fiscal_year_of(day: dt.date) -> int:
    """The fiscal year ``day`` falls in, named by the calendar year it begins in."""
    start = settings.FISCAL_YEAR_START_MONTH
    return day.year if day.month >= start else day.year - 1


def fiscal_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    """(first day, first day of the next fiscal year) of fiscal year ``year``."""
    start = settings.FISCAL_YEAR_START_MONTH
    return dt.date(year, start, 1), dt.date(year + 1, start, 1)


def fiscal_year_label(year: int) -> str:
    """``2026`` for calendar fiscal years, ``2026/27`` for the others."""
    if settings.FISCAL_YEAR_START_MONTH == 1:
        return str(year)
    return f"{year}/{(year + 1) % 100:02d}"


# --------------------------------------------------------------------------- issuing


def _require_system_or_finance(actor: Any, network_id: int) -> None:
    if actor is not None and not is_finance_staff(actor, network_id):
        raise PermissionDenied


def _donor_email(donation: Donation) -> str:
    if donation.donor_email:
        return donation.donor_email
    return donation.donor.email if donation.donor is not None else ""


def _send_after_commit(receipt: Receipt) -> None:
    from medexchange.funding.tasks import send_receipt

    receipt_id = receipt.pk
    # robust: a failed e-mail is logged, it never undoes the receipt or the gift.
    transaction.on_commit(lambda: send_receipt.delay(receipt_id=receipt_id), robust=True)


def receipt_issue(*, donation: Donation, actor: Any = None, send: bool = True) -> Receipt:
    """The gift's receipt: numbered in the fiscal year the gift was received, e-mailed
    to the donor (``send``) after commit. A gift has one receipt: asking again returns
    it. The system (``actor=None``, the webhook) and the fund's finance staff issue them."""
    _require_system_or_finance(actor, donation.fund.network_id)
    with transaction.atomic():
        locked = Donation.objects.select_for_update().get(pk=donation.pk)
        existing = Receipt.objects.filter(donation=locked).first()
        if existing is not None:
            return existing
        if locked.status not in RECEIVED_STATUSES:
            raise ValidationError(
                _("Only a received gift has a receipt; this one is “%(status)s”.")
                % {"status": locked.get_status_display()},
                code="not_received",
            )
        day = locked.received_on or timezone.localdate()
        year = fiscal_year_of(day)
        number = services.receipt_number_take(fiscal_year=year)
        receipt = Receipt.objects.create(
            donation=locked,
            donor=locked.donor,
            kind=ReceiptKind.RECEIPT,
            fiscal_year=year,
            number=number,
            language=locked.language or "en",
            donor_email=_donor_email(locked),
        )
        audit_record(
            actor=actor,
            action="receipt.issued",
            target=receipt,
            data={"donation": locked.pk, "fiscal_year": year, "number": number},
        )
        if send and receipt.donor_email:
            _send_after_commit(receipt)
    return receipt


def statement_donations(receipt: Receipt) -> QuerySet[Donation]:
    """The gifts a year-end statement lists: received in its fiscal year, by its donor
    (their account, or gifts without an account given with the same e-mail address)."""
    start, end = fiscal_year_bounds(receipt.fiscal_year)
    gifts = Donation.objects.filter(
        status__in=RECEIVED_STATUSES, received_on__gte=start, received_on__lt=end
    )
    by_email = Q(donor__isnull=True, donor_email__iexact=receipt.donor_email)
    if receipt.donor_id is not None:
        gifts = gifts.filter(Q(donor_id=receipt.donor_id) | by_email)
    else:
        gifts = gifts.filter(by_email)
    return (
        gifts.select_related("fund", "fund__network").with_refunded().order_by("received_on", "pk")
    )


def statement_issue(
    *, fiscal_year: int, donor: Any = None, email: str, language: str = "en", actor: Any = None
) -> tuple[Receipt, bool]:
    """The donor's statement of ``fiscal_year`` (created, or the one already issued) and
    whether it is new. Only the system and superusers issue statements (they span every
    network the donor gave to)."""
    if actor is not None and not (actor.is_authenticated and actor.is_superuser):
        raise PermissionDenied
    email = (email or "").strip().lower()
    if donor is None and not email:
        raise ValidationError(_("A statement needs a donor or an e-mail address."))
    with transaction.atomic():
        existing = Receipt.objects.select_for_update().filter(
            kind=ReceiptKind.STATEMENT, fiscal_year=fiscal_year
        )
        existing = (
            existing.filter(donor=donor)
            if donor is not None
            else existing.filter(donor__isnull=True, donor_email__iexact=email)
        )
        found = existing.first()
        if found is not None:
            return found, False
        number = services.receipt_number_take(fiscal_year=fiscal_year)
        statement = Receipt.objects.create(
            donation=None,
            donor=donor,
            kind=ReceiptKind.STATEMENT,
            fiscal_year=fiscal_year,
            number=number,
            language=language or "en",
            donor_email=email or (donor.email if donor is not None else ""),
        )
        audit_record(
            actor=actor,
            action="receipt.statement_issued",
            target=statement,
            data={"fiscal_year": fiscal_year, "number": number},
        )
    return statement, True


@dataclass
class StatementRun:
    """What ``year_end_statements`` did."""

    issued: list[Receipt] = field(default_factory=list)
    already: list[Receipt] = field(default_factory=list)
    without_email: int = 0


def year_end_statements(*, fiscal_year: int, send: bool = True, actor: Any = None) -> StatementRun:
    """One statement per donor who gave in ``fiscal_year`` (their account, or their
    e-mail address for gifts without an account), e-mailed to them (``send``). Donors
    with a statement for the year already are not issued another (nor e-mailed again)."""
    start, end = fiscal_year_bounds(fiscal_year)
    gifts = (
        Donation.objects.filter(
            status__in=RECEIVED_STATUSES, received_on__gte=start, received_on__lt=end
        )
        .select_related("donor")
        .order_by("received_on", "pk")
    )
    accounts: dict[int, Any] = {}
    languages: dict[Any, str] = {}
    emails: dict[str, str] = {}
    without_email = 0
    for gift in gifts:
        if gift.donor is not None:
            accounts.setdefault(gift.donor.pk, gift.donor)
            languages[gift.donor.pk] = gift.language
        elif gift.donor_email:
            emails.setdefault(gift.donor_email.lower(), gift.language)
        else:
            without_email += 1
    account_emails = {user.email.lower() for user in accounts.values()}
    run = StatementRun(without_email=without_email)
    for user in accounts.values():
        language = user.preferred_language or languages.get(user.pk) or "en"
        statement, created = statement_issue(
            fiscal_year=fiscal_year, donor=user, email=user.email, language=language, actor=actor
        )
        (run.issued if created else run.already).append(statement)
    for email, language in emails.items():
        if email in account_emails:
            continue  # listed on the statement of the account with this address
        statement, created = statement_issue(
            fiscal_year=fiscal_year, email=email, language=language, actor=actor
        )
        (run.issued if created else run.already).append(statement)
    if send:
        for statement in run.issued:
            if statement.donor_email:
                _send_after_commit(statement)
    return run


# --------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class StatementLine:
    donation: Donation
    net: Decimal


def _statement_lines(receipt: Receipt) -> tuple[list[StatementLine], list[tuple[str, Decimal]]]:
    lines = []
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for gift in statement_donations(receipt):
        net = gift.amount - gift.refunded_amount
        if net <= 0:
            continue
        lines.append(StatementLine(donation=gift, net=net))
        totals[gift.currency] += net
    return lines, sorted(totals.items())


def _organisation(receipt: Receipt) -> str:
    if receipt.donation is not None:
        return receipt.donation.fund.network.name
    return ""


def receipt_filename(receipt: Receipt) -> str:
    kind = "statement" if receipt.kind == ReceiptKind.STATEMENT else "receipt"
    return f"{kind}-{receipt.label}.pdf"


def render_receipt_html(receipt: Receipt) -> str:
    """The receipt or statement as a stand-alone A4 HTML page, in the donor's language."""
    language = receipt.language or "en"
    with translation.override(language):
        context: dict[str, Any] = {
            "receipt": receipt,
            "language": language,
            "bidi": translation.get_language_bidi(),
            "issued_on": timezone.localtime(receipt.issued_at).date(),
            "fiscal_year": fiscal_year_label(receipt.fiscal_year),
            "organisation": _organisation(receipt),
        }
        if receipt.kind == ReceiptKind.STATEMENT:
            lines, totals = _statement_lines(receipt)
            context["lines"] = [
                {
                    "donation": line.donation,
                    "net": format_money(line.net, line.donation.currency, language),
                    "amount": format_money(line.donation.amount, line.donation.currency, language),
                    "refunded": line.net != line.donation.amount,
                }
                for line in lines
            ]
            context["totals"] = [
                format_money(total, currency, language) for currency, total in totals
            ]
            context["donor_name"] = (
                receipt.donor.get_full_name()
                if receipt.donor is not None
                else next((line.donation.donor_name for line in lines), "")
            )
            template = "funding/receipts/statement.html"
        else:
            donation = receipt.donation
            if donation is None:  # a constraint forbids it; never render a blank receipt
                raise ValueError(f"receipt {receipt.pk} names no gift")
            refunded = donation.refunded_amount
            context.update(
                {
                    "donation": donation,
                    "amount": format_money(donation.amount, donation.currency, language),
                    "fund_amount": format_money(
                        donation.fund_amount, donation.fund.currency, language
                    )
                    if donation.currency != donation.fund.currency
                    else "",
                    "refunded": format_money(refunded, donation.currency, language)
                    if refunded > 0
                    else "",
                }
            )
            template = "funding/receipts/receipt.html"
        return render_to_string(template, context)


def render_receipt_pdf(receipt: Receipt) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]

    pdf: bytes = HTML(
        string=render_receipt_html(receipt), url_fetcher=refuse_remote_fetch
    ).write_pdf()
    return pdf


def receipt_email_send(receipt: Receipt) -> None:
    """E-mail the receipt (or statement) with its PDF attached, in the donor's language."""
    if not receipt.donor_email:
        return
    kind = "statement" if receipt.kind == ReceiptKind.STATEMENT else "receipt"
    language = receipt.language or "en"
    with translation.override(language):
        context = {
            "site_url": settings.SITE_URL,
            "receipt": receipt,
            "donation": receipt.donation,
            "fiscal_year": fiscal_year_label(receipt.fiscal_year),
            "amount": format_money(receipt.donation.amount, receipt.donation.currency, language)
            if receipt.donation is not None
            else "",
        }
        subject = render_to_string(f"funding/email/{kind}_subject.txt", context).strip()
        body = render_to_string(f"funding/email/{kind}_body.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()), body=body, to=[receipt.donor_email]
    )
    message.attach(receipt_filename(receipt), render_receipt_pdf(receipt), "application/pdf")
    message.send()


# --------------------------------------------------------------------------- reads


def receipts_of(user: Any) -> QuerySet[Receipt]:
    """The receipts and statements a donor may download: theirs by account, or sent to
    one of their verified e-mail addresses."""
    if not user.is_authenticated or not user.is_active:
        return Receipt.objects.none()
    from medexchange.funding.donations import verified_emails

    addresses = verified_emails(user)
    condition = Q(donor=user)
    if addresses:
        condition |= Q(donor__isnull=True, donor_email__in=addresses)
    return Receipt.objects.filter(condition)


def receipts_managed_by(user: Any) -> QuerySet[Receipt]:
    """Receipts of gifts to the funds whose money ``user`` handles."""
    from medexchange.funding.models import Fund

    return Receipt.objects.filter(donation__fund__in=Fund.objects.managed_by(user))
