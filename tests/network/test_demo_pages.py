"""Every public page of a demo network renders: no data the demo can make breaks a page."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from medexchange.network.models import Institution, JoinRequest
from tests import factories

pytestmark = pytest.mark.django_db


def test_every_demo_page_renders(client: Any, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", "--seed", "7", "--institutions", "120", stdout=None)

    for path in (
        reverse("home"),
        reverse("network:directory"),
        reverse("network:networks"),
        reverse("network:map"),
        reverse("network:map-list"),
        reverse("network:map-geojson"),
        reverse("network:join"),
    ):
        assert client.get(path).status_code == 200, path
    for institution in Institution.objects.members():
        for language in ("en", "ar"):
            client.cookies["django_language"] = language
            response = client.get(institution.get_absolute_url())
            assert response.status_code == 200, institution.slug

    root = factories.staff_of(factories.NetworkFactory(slug="global"))
    root.is_superuser = True
    root.save()
    client.force_login(root)
    for join_request in JoinRequest.objects.all():
        response = client.get(reverse("network:join-detail", args=[join_request.pk]))
        assert response.status_code == 200, join_request.pk
