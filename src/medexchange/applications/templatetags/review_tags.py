"""Links to the review work from other apps' pages (the institution page)."""

from __future__ import annotations

from typing import Any

from django import template

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.applications.models import HOST_ROLES

register = template.Library()


@register.inclusion_tag("applications/_institution_links.html", takes_context=True)
def institution_application_links(context: dict[str, Any], institution: Any) -> dict[str, Any]:
    """Inbound (coordinators and reviewers) and outbound (coordinators) links; one query."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"institution": institution, "inbound": False, "outbound": False}
    if user.is_superuser:
        roles = {InstitutionRoleKind.COORDINATOR.value}
    else:
        roles = set(
            user.institution_roles.filter(institution=institution).values_list("role", flat=True)
        )
    return {
        "institution": institution,
        "inbound": bool(roles & {str(role) for role in HOST_ROLES}),
        "outbound": InstitutionRoleKind.COORDINATOR in roles,
    }
