from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import factories
from tests.documents.factories import stored_files


@pytest.fixture(autouse=True)
def private_root(settings: Any, tmp_path: Path) -> Path:
    """Every test of the vault stores its files under its own temporary folder."""
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.fixture
def no_files(private_root: Path) -> Any:
    """Call to assert nothing is in the private storage."""

    def check() -> None:
        assert stored_files(private_root) == []

    return check


@pytest.fixture
def applicant(db: Any) -> Any:
    return factories.UserFactory(email="applicant@example.org", full_name="Wanjiru Kamau")


@pytest.fixture
def other_applicant(db: Any) -> Any:
    return factories.UserFactory(email="other@example.org")


@pytest.fixture
def coordinator(db: Any) -> Any:
    host = factories.InstitutionFactory(name="Fictional Nairobi School of Medicine")
    return factories.coordinator_of(host, email="coordinator@example.org")


@pytest.fixture
def applicant_client(client: Any, applicant: Any) -> Any:
    client.force_login(applicant)
    return client
