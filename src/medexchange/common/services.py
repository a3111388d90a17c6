"""Writes shared by every app: the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from medexchange.common.models import AuditEntry, Notification


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit entry; services call this for every state change."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=ContentType.objects.get_for_model(target),
        target_id=str(target.pk),
        target_repr=str(target)[:255],
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
    )


def notifications_mark_read(*, user: Any) -> int:
    """Mark all of ``user``'s notifications read; reading is not a state change to audit."""
    return Notification.objects.visible_to(user).unread().update(read_at=timezone.now())
