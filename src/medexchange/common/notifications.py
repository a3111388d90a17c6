"""Tell people about state changes: e-mail after commit, and in-app notifications."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext

from medexchange.common.models import Notification
from medexchange.common.tasks import send_templated_email


def email_after_commit(
    *, to: str, template: str, context: dict[str, Any], language: str = "en"
) -> None:
    """Send only if the state change is saved, so nobody hears of a rolled-back decision."""

    def queue() -> None:
        send_templated_email.delay(to=[to], template=template, context=context, language=language)

    transaction.on_commit(queue)


def notify_users(
    *,
    users: Iterable[Any],
    message: str,
    params: dict[str, Any],
    url: str = "",
    email_template: str | None = None,
    email_context: dict[str, Any] | None = None,
) -> list[Notification]:
    """Notify each user in their own language, in the app and (optionally) by e-mail.

    ``message`` is an untranslated msgid (mark it with ``gettext_noop``); it and any lazy
    ``params`` are rendered under each recipient's language.
    """
    notifications = []
    for user in users:
        with translation.override(user.preferred_language or "en"):
            rendered = gettext(message) % {key: str(value) for key, value in params.items()}
        notifications.append(Notification(user=user, message=rendered[:500], url=url))
        if email_template:
            email_after_commit(
                to=user.email,
                template=email_template,
                context={**(email_context or {}), "message": rendered, "url": url},
                language=user.preferred_language or "en",
            )
    return Notification.objects.bulk_create(notifications)
