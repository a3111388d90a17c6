from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.utils import translation

from tests import factories


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Rate limits live in the cache; start every test with a clean slate."""
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language() -> Any:
    """Django's LocaleMiddleware leaves the last request's language active in the thread;
    every test starts in the site's default language whatever ran before it."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: Any, settings: Any) -> None:
    """Argon2 is slow by design; tests that check it are marked ``argon2``."""
    if "argon2" not in request.keywords:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def network(db: Any) -> Any:
    return factories.NetworkFactory(name="Global Exchange Network", slug="global")


@pytest.fixture
def africa_network(db: Any) -> Any:
    return factories.RegionalNetworkFactory(name="Africa Network", slug="africa")


@pytest.fixture
def member(network: Any) -> Any:
    institution = factories.InstitutionFactory(name="Fictional Nairobi School of Medicine")
    factories.MembershipFactory(institution=institution, network=network)
    return institution


@pytest.fixture
def staff_user(network: Any) -> Any:
    return factories.staff_of(network)


@pytest.fixture(autouse=True)
def _private_storage_in_tmp(settings: Any, tmp_path: Any) -> None:
    """Uploaded documents go to a folder of each test's own, never the developer's var/."""
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }
