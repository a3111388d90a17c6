"""Money in templates, and the scholarship box on the applicant's application page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medexchange.funding.money import format_money, quantize

register = template.Library()

ACTIONS = {
    "scholarship_call.created": _("Call created"),
    "scholarship_call.updated": _("Call changed"),
    "scholarship_call.opened": _("Call opened"),
    "scholarship_call.review_started": _("Review started"),
    "scholarship_call.allocated": _("Awards committed"),
    "scholarship_call.closed": _("Call closed"),
    "award.committed": _("Award committed"),
    "award.commit_refused": _("Commit refused"),
    "award.released": _("Award released"),
    "award.money_released": _("Money released to the funds"),
    "award.cancelled": _("Award cancelled"),
    "award.paid": _("Award paid in full"),
    "award.disbursement_planned": _("Payment planned"),
    "award.disbursement_paid": _("Payment made"),
    "award.disbursement_returned": _("Payment returned"),
    "award.disbursement_cancelled": _("Planned payment cancelled"),
}


@register.filter
def scholarship_action(code: str) -> str:
    """An audit action code in words (the code itself when it has none)."""
    return str(ACTIONS.get(code, code))


@register.filter
def money(amount: Any, currency: str) -> str:
    """``{{ amount|money:"EUR" }}`` → ``1,250.00 EUR`` in the reader's language."""
    if amount is None or amount == "":
        return "—"
    return format_money(Decimal(str(amount)), currency)


@register.filter
def amount_text(amount: Any, currency: str) -> str:
    """An amount as typed into a form: the currency's decimals, no grouping (``1250.00``)."""
    if amount is None or amount == "":
        return ""
    return str(quantize(Decimal(str(amount)), currency))


@register.inclusion_tag("scholarships/_application_calls.html", takes_context=True)
def scholarship_calls_for(context: dict[str, Any], application: Any) -> dict[str, Any]:
    """For the applicant: their requests made from this application, and the open calls
    they may ask (and, folded, the others with why not)."""
    from medexchange.scholarships.eligibility import REQUESTABLE_STATES
    from medexchange.scholarships.models import ScholarshipCall, ScholarshipRequest
    from medexchange.scholarships.services import eligibility_reasons

    request = context.get("request")
    user = getattr(request, "user", None)
    empty: dict[str, Any] = {"show": False}
    if user is None or not user.is_authenticated or application.applicant_id != user.pk:
        return empty
    requests = list(
        ScholarshipRequest.objects.owned_by(user)
        .filter(application=application)
        .select_related("call")
        .order_by("-pk")
    )
    eligible: list[tuple[Any, list[Any]]] = []
    other: list[tuple[Any, list[Any]]] = []
    if application.state in REQUESTABLE_STATES:
        now = timezone.now()
        asked = {item.call_id for item in requests if item.status != "withdrawn"}
        calls = (
            ScholarshipCall.objects.visible_to(user)
            .taking_requests(now)
            .exclude(pk__in=asked)
            .order_by("closes_at", "pk")
        )
        for call in calls[:20]:
            reasons = eligibility_reasons(call, application, now=now)
            (other if reasons else eligible).append((call, reasons))
    return {
        "show": bool(requests or eligible or other),
        "application": application,
        "requests": requests,
        "eligible": eligible,
        "other": other,
    }
