"""Every user-facing string is translated into each offered language."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

import medexchange

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


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext's xgettext")
def test_catalogues_hold_every_marked_string(tmp_path: Path) -> None:
    """Re-extract the strings from a copy of the code: none may be missing from the .po."""
    package = Path(medexchange.__file__).resolve().parent
    copy = tmp_path / "medexchange"
    shutil.copytree(
        package,
        copy,
        ignore=shutil.ignore_patterns("static", "migrations", "__pycache__", "*.mo"),
    )
    environment = {**os.environ, "PYTHONPATH": str(package.parent)}
    environment.pop("DATABASE_URL", None)
    subprocess.run(
        # django-admin rather than ``python -m django``: the copy's celery.py would
        # shadow the celery package if the copy were on sys.path.
        [str(Path(sys.executable).parent / "django-admin"), "makemessages", "-l", "es"],
        cwd=copy,
        env={**environment, "DJANGO_SETTINGS_MODULE": "medexchange.settings"},
        check=True,
        capture_output=True,
        timeout=120,
    )
    extracted = {
        entry.msgid for entry in polib.pofile(str(copy / "locale/es/LC_MESSAGES/django.po"))
    }
    committed = {
        entry.msgid for entry in polib.pofile(str(LOCALE_DIR / "es/LC_MESSAGES/django.po"))
    }
    assert extracted - committed == set(), "run makemessages and translate the new strings"
