"""Queue e-mails once the surrounding transaction has committed."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from medexchange.common.tasks import send_templated_email


def email_after_commit(
    *, to: str, template: str, context: dict[str, Any], language: str = "en"
) -> None:
    """Send only if the state change is saved, so nobody hears of a rolled-back decision."""

    def queue() -> None:
        send_templated_email.delay(to=[to], template=template, context=context, language=language)

    transaction.on_commit(queue)
