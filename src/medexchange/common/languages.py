"""ISO 639-1 languages with names in the reader's language (data from pycountry)."""

from __future__ import annotations

import gettext
import re
from functools import cache

import pycountry
from django.utils.translation import get_language

_QUALIFIER = re.compile(r"\s*\([^)]*\)$")


@cache
def _iso639_codes() -> dict[str, str]:
    """alpha-2 code → English name, e.g. "sw" → "Swahili"."""
    names = {}
    for language in pycountry.languages:
        code = getattr(language, "alpha_2", None)
        if code:
            names[code] = getattr(language, "common_name", None) or language.name
    return names


@cache
def _catalogue(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso639-3", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


def language_name(code: str, language: str | None = None) -> str:
    """The name of ``code`` in ``language`` (default: the active one); the code if unknown."""
    english = _iso639_codes().get(code)
    if english is None:
        return code
    translated = _catalogue((language or get_language() or "en").split("-")[0]).gettext(english)
    return _QUALIFIER.sub("", translated)


def language_choices() -> list[tuple[str, str]]:
    """Choices for forms, named and sorted in the active language."""
    return sorted(
        ((code, language_name(code)) for code in _iso639_codes()), key=lambda item: item[1]
    )


def is_known_language(code: str) -> bool:
    return code in _iso639_codes()
