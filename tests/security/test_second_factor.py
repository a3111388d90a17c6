"""Accounts with two-factor authentication cannot be signed into with the password alone,
whichever sign-in form is used."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests import factories
from tests.security.world import with_totp

pytestmark = pytest.mark.django_db


def superuser_with_totp() -> Any:
    return with_totp(
        factories.UserFactory(email="root@example.org", is_staff=True, is_superuser=True)
    )


def test_site_sign_in_asks_for_the_second_factor(client: Any) -> None:
    superuser_with_totp()
    response = client.post(
        reverse("account_login"), {"login": "root@example.org", "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    # Not signed in yet: staff pages and the admin still want a sign-in.
    assert client.get(reverse("network:join-queue")).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 302


def test_admin_sign_in_asks_for_the_second_factor(client: Any) -> None:
    superuser_with_totp()
    client.post(
        reverse("admin:login"),
        {"username": "root@example.org", "password": factories.PASSWORD, "next": "/admin/"},
    )
    assert client.get(reverse("admin:index")).status_code == 302
    assert client.get(reverse("network:join-queue")).status_code == 302
