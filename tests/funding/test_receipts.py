"""Receipts: sequential numbers per fiscal year without gaps (also under twenty
concurrent issues on PostgreSQL), the PDF and e-mail in the donor's language, receipts
for gifts recorded by hand, and year-end statements."""

from __future__ import annotations

import datetime as dt
import io
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection, connections
from django.urls import reverse
from pypdf import PdfReader

from medexchange.funding import receipts, services
from medexchange.funding.choices import ReceiptKind
from medexchange.funding.models import Donation, Receipt
from tests import factories
from tests.funding.conftest import give, make_fund

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_numbers_follow_each_other_within_a_fiscal_year_and_restart_in_the_next(
    fund: Any, finance: Any, settings: Any
) -> None:
    settings.FISCAL_YEAR_START_MONTH = 7
    days = [dt.date(2025, 7, 1), dt.date(2026, 6, 30), dt.date(2026, 7, 1), dt.date(2026, 1, 5)]
    issued = [
        receipts.receipt_issue(donation=give(fund, finance, received_on=day), send=False)
        for day in days
    ]
    assert [(r.fiscal_year, r.number) for r in issued] == [
        (2025, 1),
        (2025, 2),
        (2026, 1),
        (2025, 3),
    ]
    assert issued[2].label == "2026-000001"
    assert receipts.fiscal_year_label(2025) == "2025/26"


def test_a_gift_has_one_receipt_and_only_a_received_gift_has_one(fund: Any, finance: Any) -> None:
    gift = give(fund, finance)
    first = receipts.receipt_issue(donation=gift, send=False)
    assert receipts.receipt_issue(donation=gift, send=False) == first
    assert Receipt.objects.count() == 1
    pending = services.donation_start(fund=fund, amount=Decimal("5.00"), currency="EUR")
    with pytest.raises(ValidationError, match="Only a received gift"):
        receipts.receipt_issue(donation=pending)
    with pytest.raises(PermissionDenied):
        receipts.receipt_issue(donation=give(fund, finance), actor=factories.UserFactory())
    # A refused issue takes no number: the next receipt is number 2.
    assert receipts.receipt_issue(donation=give(fund, finance), send=False).number == 2


def test_the_receipt_pdf_is_in_the_donors_language_with_its_facts(fund: Any, finance: Any) -> None:
    gift = give(
        fund,
        finance,
        "1250.00",
        donor_name="Amélie Donatrice",
        language="fr",
        dedication="En mémoire de Jeanne",
    )
    receipt = receipts.receipt_issue(donation=gift, send=False)
    html = receipts.render_receipt_html(receipt)
    assert '<html lang="fr"' in html
    assert "1\u00a0250,00\u00a0EUR" in html or "1 250,00" in html
    text = pdf_text(receipts.render_receipt_pdf(receipt))
    for fact in (receipt.label, "Amélie Donatrice", "EM Residents Fund", "En mémoire de Jeanne"):
        assert fact in text


def test_the_receipt_email_carries_the_pdf_to_the_donor(
    fund: Any, finance: Any, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    gift = give(fund, finance, donor_email="amelie@example.org", language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        receipt = receipts.receipt_issue(donation=gift)
    (message,) = mailoutbox
    assert message.to == ["amelie@example.org"]
    assert receipt.label in message.subject
    assert "/funding/my-gifts/" in message.body
    name, content, mimetype = message.attachments[0]
    assert (name, mimetype) == (f"receipt-{receipt.label}.pdf", "application/pdf")
    assert receipt.label in pdf_text(content)


def test_finance_staff_issue_the_missing_receipts_of_gifts_recorded_by_hand(
    client: Any,
    fund: Any,
    finance: Any,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    cheques = [give(fund, finance, donor_email=f"d{n}@example.org") for n in range(3)]
    url = reverse("funding:fund-receipts", kwargs={"network": fund.network.slug, "fund": fund.slug})
    client.force_login(finance)
    page = client.get(url).content.decode()
    assert "Issue receipt" in page
    assert "Issue the 3 missing receipts" in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"donation": str(cheques[0].pk)})
    assert Receipt.objects.get(donation=cheques[0]).number == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"donation": "all"})
    assert sorted(Receipt.objects.values_list("number", flat=True)) == [1, 2, 3]
    assert len(mailoutbox) == 3
    assert "missing" not in client.get(url).content.decode()


@pytest.mark.parametrize("who", ["applicant", "other_network_staff", "anonymous"])
def test_nobody_else_sees_or_issues_a_funds_receipts(
    client: Any, fund: Any, finance: Any, who: str
) -> None:
    gift = give(fund, finance)
    url = reverse("funding:fund-receipts", kwargs={"network": fund.network.slug, "fund": fund.slug})
    if who == "applicant":
        client.force_login(factories.UserFactory())
    elif who == "other_network_staff":
        client.force_login(factories.staff_of(factories.RegionalNetworkFactory(slug="elsewhere")))
    expected = 302 if who == "anonymous" else 404
    assert client.get(url).status_code == expected
    assert client.post(url, {"donation": str(gift.pk)}).status_code == expected
    assert not Receipt.objects.exists()


def test_year_end_statements_list_each_donors_gifts_with_totals_per_currency(
    client: Any,
    network: Any,
    fund: Any,
    finance: Any,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    ada = factories.UserFactory(email="ada@example.org", full_name="Ada Donor")
    dollars = make_fund(network, currency="USD", slug="usd-fund", name="Dollar Fund")
    gifts = [
        give(
            fund, finance, "100.00", donor_email="ada@example.org", received_on=dt.date(2025, 2, 1)
        ),
        give(
            fund, finance, "50.00", donor_email="ada@example.org", received_on=dt.date(2025, 11, 30)
        ),
        give(
            dollars,
            finance,
            "30.00",
            donor_email="ada@example.org",
            received_on=dt.date(2025, 6, 1),
        ),
    ]
    Donation.objects.filter(pk=gifts[0].pk).update(donor=ada)
    give(fund, finance, "999.00", donor_email="ada@example.org", received_on=dt.date(2026, 1, 2))
    give(fund, finance, "20.00", donor_email="bo@example.org", received_on=dt.date(2025, 3, 3))
    refunded = give(
        fund, finance, "40.00", donor_email="bo@example.org", received_on=dt.date(2025, 3, 4)
    )
    services.donation_refund(donation=refunded, amount=Decimal("10.00"), actor=finance, reason="x")
    receipts.receipt_issue(donation=gifts[0], send=False)  # 2025 number 1

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("funding_year_end_statements", "--year", "2025", stdout=out)

    assert "2 statement(s) issued" in out.getvalue()
    statements = Receipt.objects.filter(kind=ReceiptKind.STATEMENT).order_by("number")
    assert [(s.fiscal_year, s.number) for s in statements] == [(2025, 2), (2025, 3)]
    ada_statement = statements.get(donor=ada)
    text = pdf_text(receipts.render_receipt_pdf(ada_statement))
    assert "150.00 EUR" in text.replace("\u00a0", " ")
    assert "30.00 USD" in text.replace("\u00a0", " ")
    assert "999" not in text
    bo_text = pdf_text(receipts.render_receipt_pdf(statements.get(donor_email="bo@example.org")))
    assert "50.00 EUR" in bo_text.replace("\u00a0", " ")  # 20 + (40 - 10 refunded)
    assert sorted(m.to[0] for m in mailoutbox) == ["ada@example.org", "bo@example.org"]
    assert all(m.attachments[0][0].startswith("statement-2025-") for m in mailoutbox)

    # Run again: nothing new, nothing sent twice.
    again = io.StringIO()
    call_command("funding_year_end_statements", "--year", "2025", stdout=again)
    assert "0 statement(s) issued, 2 already issued" in again.getvalue()
    assert len(mailoutbox) == 2

    # The donor downloads it from their page.
    client.force_login(ada)
    page = client.get("/funding/my-gifts/").content.decode()
    url = reverse("funding:my-receipt", args=[ada_statement.pk])
    assert url in page
    assert client.get(url)["Content-Type"] == "application/pdf"


def test_the_command_refuses_a_year_in_the_future() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="fiscal year between"):
        call_command("funding_year_end_statements", "--year", "2999")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (set DATABASE_URL)"
)
def test_twenty_receipts_issued_at_once_are_numbered_1_to_20(network: Any) -> None:
    finance = factories.staff_of(network)
    fund = make_fund(network, slug="race")
    gifts = [give(fund, finance, "10.00", received_on=dt.date(2026, 2, 1)) for _ in range(20)]
    barrier = threading.Barrier(len(gifts))
    errors: list[str] = []
    lock = threading.Lock()

    def issue(gift: Donation) -> None:
        try:
            barrier.wait(timeout=30)
            receipts.receipt_issue(donation=gift, send=False)
        except Exception as error:  # pragma: no cover - would be a bug
            with lock:
                errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue, args=(gift,)) for gift in gifts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    numbers = sorted(Receipt.objects.filter(fiscal_year=2026).values_list("number", flat=True))
    assert numbers == list(range(1, 21))
