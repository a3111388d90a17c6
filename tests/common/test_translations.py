"""Every user-facing string is translated into each offered language."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_complete(language: str) -> None:
    catalogue = polib.pofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.po"))
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert not untranslated, f"untranslated in {language}: {untranslated}"
    assert not fuzzy, f"fuzzy in {language}: {fuzzy}"


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "direction"), [("es", "ltr"), ("it", "ltr"), ("ar", "rtl")])
def test_core_pages_render_translated(language: str, direction: str) -> None:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for name in ("home", "network:directory", "network:join", "network:map"):
        english = Client().get(reverse(name)).content.decode()
        page = client.get(reverse(name)).content.decode()
        assert f'<html lang="{language}" dir="{direction}">' in page
        # The navigation is translated: the English label is gone.
        assert ">Partner map<" in english
        assert ">Partner map<" not in page
