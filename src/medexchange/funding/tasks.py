"""Background work of funding: e-mailing receipts and statements (queued after commit)."""

from __future__ import annotations

from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_receipt(*, receipt_id: int) -> None:
    """E-mail one receipt or year-end statement with its PDF."""
    from medexchange.funding.models import Receipt
    from medexchange.funding.receipts import receipt_email_send

    receipt = Receipt.objects.filter(pk=receipt_id).select_related("donation__fund").first()
    if receipt is not None:
        receipt_email_send(receipt)
