"""The line an application's pages show about its exchange agreement."""

from __future__ import annotations

from typing import Any

from django import template

from medexchange.agreements.selectors import agreement_standing

register = template.Library()


@register.inclusion_tag("agreements/_application_agreement.html")
def application_agreement(application: Any) -> dict[str, Any]:
    return {"standing": agreement_standing(application)}
