"""Production security headers and cookie flags on every page, and no inline scripts.

The production values come from ``settings.PRODUCTION_SECURITY``, the same dict
settings.py applies when DEBUG is off, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from tests import factories
from tests.security.policy import POLICY
from tests.security.test_url_policy import request_url
from tests.security.world import ROLES, World

ONE_YEAR = 31_536_000
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json", "application/geo+json"}

# Every (pattern, role) the policy says answers 200: all pages anyone can see.
PAGES = [
    (key, role) for key in sorted(POLICY) for role in ROLES if POLICY[key].outcome(role) == 200
]


@pytest.fixture(autouse=True)
def _production_security() -> Iterator[None]:
    with override_settings(**settings.PRODUCTION_SECURITY):
        yield


def csp_directives(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name.lower()] = values
    return directives


class ScriptAudit(HTMLParser):
    """Collects what a strict CSP would block or what would load code from elsewhere."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._inline: dict[str, str | None] | None = None
        self._body = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"inline event handler <{tag} {name}={value!r}>")
            if name in {"href", "src", "action"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"javascript: URL in <{tag} {name}>")
        if tag == "script":
            src = attributes.get("src")
            if src is None:
                self._inline, self._body = attributes, ""
            elif not src.startswith("/") or src.startswith("//"):
                self.problems.append(f"script from another origin: {src}")
        if tag == "link" and "stylesheet" in (attributes.get("rel") or "").split():
            href = attributes.get("href") or ""
            if not href.startswith("/") or href.startswith("//"):
                self.problems.append(f"stylesheet from another origin: {href}")

    def handle_data(self, data: str) -> None:
        if self._inline is not None:
            self._body += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._inline is not None:
            kind = (self._inline.get("type") or "").lower()
            if self._body.strip() and kind not in DATA_SCRIPT_TYPES:
                self.problems.append(f"inline <script>: {self._body.strip()[:80]!r}")
            self._inline = None


def assert_secure_cookies(response: Any) -> None:
    for name, morsel in response.cookies.items():
        if not morsel.value:  # a deletion: nothing to protect
            continue
        assert morsel["secure"], f"cookie {name} lacks Secure"
        assert morsel["httponly"], f"cookie {name} lacks HttpOnly"


@pytest.mark.parametrize(("key", "role"), PAGES)
def test_security_headers(key: str, role: str, walk: World, client: Any) -> None:
    walk.sign_in(client, role)
    url = request_url(key, walk)

    response = client.get(url, secure=True)

    assert response.status_code == 200, url
    hsts = [part.strip() for part in response["Strict-Transport-Security"].split(";")]
    max_age = next(part for part in hsts if part.startswith("max-age="))
    assert int(max_age.removeprefix("max-age=")) >= ONE_YEAR
    assert "includeSubDomains" in hsts
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert_secure_cookies(response)
    if not response["Content-Type"].startswith("text/html"):
        return
    policy = csp_directives(response["Content-Security-Policy"])
    script_src = policy.get("script-src", policy.get("default-src"))
    assert script_src is not None
    assert "'self'" in script_src
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:"} & set(script_src), script_src
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    audit = ScriptAudit()
    audit.feed(response.content.decode())
    assert not audit.problems, f"{role} GET {url}: {audit.problems}"


def test_plain_http_is_redirected_to_https(client: Any, db: Any) -> None:
    response = client.get(reverse("network:directory"))
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_csrf_cookie_is_secure(client: Any, db: Any) -> None:
    response = client.get(reverse("account_login"), secure=True)
    assert response.status_code == 200
    assert settings.CSRF_COOKIE_NAME in response.cookies
    assert_secure_cookies(response)
    assert response.cookies[settings.CSRF_COOKIE_NAME]["samesite"] == "Lax"


def test_session_cookie_is_secure(client: Any, db: Any) -> None:
    factories.UserFactory(email="someone@example.org")
    response = client.post(
        reverse("account_login"),
        {"login": "someone@example.org", "password": factories.PASSWORD},
        secure=True,
    )
    assert response.status_code == 302
    assert settings.SESSION_COOKIE_NAME in response.cookies
    assert_secure_cookies(response)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["samesite"] == "Lax"


def test_language_cookie_is_secure(client: Any, db: Any) -> None:
    response = client.post(reverse("set_language"), {"language": "es", "next": "/"}, secure=True)
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME in response.cookies
    assert_secure_cookies(response)
