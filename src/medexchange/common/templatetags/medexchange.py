from __future__ import annotations

from django import template

from medexchange.common.languages import language_name as _language_name

register = template.Library()


@register.filter
def language_name(code: str) -> str:
    """``{{ "sw"|language_name }}`` → "Swahili" in the reader's language."""
    return _language_name(code)
