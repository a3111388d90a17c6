"""Pages that redirect to a ``next`` address from the request never leave the site."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

ELSEWHERE = ["https://evil.example.net/", "//evil.example.net/", "/\\evil.example.net/"]


def stays_on_site(response: Any) -> bool:
    location = urlsplit(response["Location"])
    return not location.netloc and not location.path.startswith(("//", "/\\"))


@pytest.mark.parametrize("target", ELSEWHERE)
def test_sign_in_does_not_redirect_off_site(client: Any, target: str) -> None:
    factories.UserFactory(email="someone@example.org")
    response = client.post(
        f"{reverse('account_login')}?next={target}",
        {"login": "someone@example.org", "password": factories.PASSWORD},
    )
    assert response.status_code == 302
    assert stays_on_site(response), response["Location"]


@pytest.mark.parametrize("target", ELSEWHERE)
def test_language_switch_does_not_redirect_off_site(client: Any, target: str) -> None:
    response = client.post(reverse("set_language"), {"language": "es", "next": target})
    assert response.status_code == 302
    assert stays_on_site(response), response["Location"]
