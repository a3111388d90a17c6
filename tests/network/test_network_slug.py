"""A network cannot take a short name that a fixed address already uses."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from medexchange.network.models import Network
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("slug", ["my-gifts", "webhooks"])
def test_the_admin_refuses_a_short_name_the_funding_addresses_use(client: Any, slug: str) -> None:
    admin = factories.UserFactory(is_superuser=True, is_staff=True)
    TOTP.activate(admin, generate_totp_secret())
    client.force_login(admin)

    response = client.post(
        reverse("admin:network_network_add"),
        {"name": "Gift Network", "slug": slug, "scope": "global", "region": ""},
    )

    assert response.status_code == 200
    assert "already use; choose another short name" in response.content.decode()
    assert not Network.objects.filter(slug=slug).exists()
    accepted = client.post(
        reverse("admin:network_network_add"),
        {"name": "Gift Network", "slug": f"{slug}-network", "scope": "global", "region": ""},
    )
    assert accepted.status_code == 302
    assert Network.objects.filter(slug=f"{slug}-network").exists()
