"""Labels for the application timeline."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from medexchange.applications.choices import ApplicationState

register = template.Library()

ACTION_LABELS = {
    "application.created": _("Draft started"),
    "application.draft_saved": _("Draft saved"),
    "application.scored": _("Scored by a reviewer"),
    "application.commented": _("Reviewer comment"),
    "application.checklist_ticked": _("Checklist step ticked"),
    "application.checklist_unticked": _("Checklist step unticked"),
    "application.letter_issued": _("Letter issued"),
    "application.letter_revoked": _("Letter revoked"),
    "application.documents_purged": _("Documents deleted after the retention period"),
}


@register.filter
def state_label(value: str) -> str:
    try:
        return str(ApplicationState(value).label)
    except ValueError:
        return value


@register.filter
def action_label(value: str) -> str:
    return str(ACTION_LABELS.get(value, value))
