"""Every URL of the project has a decided policy row, and every row holds for every role."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import resolve, reverse

from tests.security.policy import (
    ADMIN_LOGIN,
    ADMIN_MODELS,
    DEVELOPMENT_ONLY,
    KNOWN_VIOLATIONS,
    LOGIN,
    POLICY,
    Outcome,
    Redirect,
)
from tests.security.walker import url_patterns
from tests.security.world import ROLES, World


def test_every_url_pattern_has_a_policy_row() -> None:
    missing = [
        f"{found.key}  ({found.view})"
        for found in url_patterns()
        if found.key not in POLICY and found.route not in DEVELOPMENT_ONLY
    ]
    assert not missing, (
        "URL patterns without a row in tests/security/policy.py; decide who may open them:\n  "
        + "\n  ".join(missing)
    )


def test_no_stale_policy_rows() -> None:
    keys = {found.key for found in url_patterns()}
    stale = sorted(key for key in POLICY if key not in keys)
    assert not stale, "Policy rows naming no URL pattern:\n  " + "\n  ".join(stale)


def test_known_violations_name_real_cells() -> None:
    assert all(key in POLICY and role in ROLES for key, role in KNOWN_VIOLATIONS)


def test_pattern_keys_are_unique() -> None:
    """Two patterns under one name could not both be walked: reverse() finds only one."""
    counts = Counter(found.key for found in url_patterns())
    assert not [key for key, count in counts.items() if count > 1]


def test_every_admin_registered_model_is_listed() -> None:
    from django.contrib import admin

    registered = {(m._meta.app_label, m._meta.model_name) for m in admin.site._registry}
    assert registered == set(ADMIN_MODELS)


def check_outcome(response: Any, expected: Outcome, world: World) -> str | None:
    """None when ``response`` is ``expected``, else what it was instead."""
    status = response.status_code
    location = response.get("Location", "")
    got = f"{status} {location}".strip()
    if isinstance(expected, int):
        return None if status == expected else got
    if status != 302:
        return got
    if expected == LOGIN:
        target = resolve_url(settings.LOGIN_URL)
        return None if location.startswith(target + "?next=") else got
    if expected == ADMIN_LOGIN:
        target = reverse("admin:login")
        return None if location.startswith(target + "?next=") else got
    assert isinstance(expected, Redirect), expected
    return None if urlsplit(location).path == expected.path(world) else got


def request_url(key: str, world: World) -> str:
    row = POLICY[key]
    url = row.url(key, world)
    match = resolve(url)
    # The URL built for a row must reach the pattern the row is about.
    assert key in {match.view_name, match.route}, (key, url, match)
    return f"{url}?{urlencode(row.query)}" if row.query else url


def policy_cells() -> list[Any]:
    """Every (pattern, role) of the table; known violations as strict expected failures."""
    return [
        pytest.param(
            key,
            role,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_VIOLATIONS[key, role])]
            if (key, role) in KNOWN_VIOLATIONS
            else [],
            id=f"{key}-{role}",
        )
        for key in sorted(POLICY)
        for role in ROLES
    ]


@pytest.mark.parametrize(("key", "role"), policy_cells())
def test_policy(key: str, role: str, walk: World, client: Any) -> None:
    expected = POLICY[key].outcome(role)
    walk.sign_in(client, role)
    url = request_url(key, walk)

    response = client.get(url)

    wrong = check_outcome(response, expected, walk)
    assert wrong is None, f"{role} GET {url}: expected {expected!r}, got {wrong}"


def test_staff_of_another_network_cannot_manage_its_institutions(walk: World, client: Any) -> None:
    """Institution C and the second join request belong to the Africa network only."""
    walk.sign_in(client, "network_staff")
    slug = walk.institution_c.slug
    for url in (
        reverse("network:institution-edit", kwargs={"slug": slug}),
        reverse("network:institution-people", kwargs={"slug": slug}),
        reverse("network:site-add", kwargs={"slug": slug}),
        reverse("network:join-detail", kwargs={"pk": walk.join_request_africa.pk}),
    ):
        assert client.get(url).status_code == 404, url
    # The public page stays public.
    assert client.get(reverse("network:institution", kwargs={"slug": slug})).status_code == 200


def test_another_institutions_site_is_404_to_a_coordinator(walk: World, client: Any) -> None:
    """A coordinator of B cannot reach A's site even through B's own address."""
    walk.sign_in(client, "other_coordinator")
    url = reverse(
        "network:site-edit", kwargs={"slug": walk.institution_b.slug, "pk": walk.site_a.pk}
    )
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 404),
        ("applicant", 404),
        ("other_coordinator", 404),
        ("network_staff", 200),
    ],
)
def test_an_institution_not_yet_a_member_is_hidden(
    role: str, status: int, walk: World, client: Any
) -> None:
    walk.sign_in(client, role)
    slug = walk.institution_unlisted.slug
    for url in (
        reverse("network:institution", kwargs={"slug": slug}),
        reverse("api-v1:institution-detail", kwargs={"slug": slug}),
    ):
        assert client.get(url).status_code == status, url
    if status == 404:
        assert slug not in client.get(reverse("network:map-geojson")).content.decode()
        assert slug not in client.get(reverse("api-v1:institution-list")).content.decode()


CATALOG_API = ("api-v1:opportunity-", "api-v1:session-")
# Written by applicants, home coordinators and hosts (tests/api/test_applications_api.py).
APPLICATIONS_API = ("api-v1:application-",)
# Staff actions on scholarship calls (tests/scholarships/test_api.py).
SCHOLARSHIPS_API = ("api-v1:scholarship-call-",)


@pytest.mark.parametrize("role", ["anonymous", "superuser"])
def test_the_directory_api_is_read_only(role: str, walk: World, client: Any) -> None:
    walk.sign_in(client, role)
    for key in sorted(k for k in POLICY if k.startswith("api-v1:")):
        written = CATALOG_API + APPLICATIONS_API + SCHOLARSHIPS_API
        if role != "anonymous" and key.startswith(written):
            continue  # written by their people (and superusers): tested with their API
        url = request_url(key, walk)
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)(url, {}, content_type="application/json")
            # 405 for the method; 403 first when the caller is not signed in (catalog)
            # or a session's request lacks a CSRF token.
            assert response.status_code in {403, 405}, (method, url, response.status_code)


@pytest.mark.parametrize("role", ["applicant", "other_coordinator", "network_staff"])
def test_only_the_hosts_coordinators_write_the_catalog(role: str, walk: World, client: Any) -> None:
    """Institution A's opportunity and session: every write of anyone else changes nothing."""
    from medexchange.common.models import AuditEntry

    walk.sign_in(client, role)
    audited = AuditEntry.objects.count()
    bodies = [{}, {"host": walk.institution_a.slug, "opportunity": walk.opportunity.slug}]
    for key in sorted(k for k in POLICY if k.startswith(CATALOG_API)):
        url = request_url(key, walk)
        for method in ("post", "put", "patch", "delete"):
            for body in bodies:
                response = getattr(client, method)(url, body, content_type="application/json")
                # 400 only for a body naming no host or opportunity, before any lookup.
                assert response.status_code in {400, 404, 405}, (method, url, body, response)
    assert AuditEntry.objects.count() == audited
