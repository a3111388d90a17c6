from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.text import slugify


def unique_slug(text: str, *, taken: QuerySet[Any], fallback: str, max_length: int = 200) -> str:
    """A slug of ``text`` that no row of ``taken`` uses, numbered ``-2``, ``-3``… if needed."""
    base = (slugify(text) or fallback)[:max_length]
    slug, counter = base, 2
    while taken.filter(slug=slug).exists():
        slug = f"{base}-{counter}"
        counter += 1
    return slug
