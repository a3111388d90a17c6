"""Sign-up with e-mail verification, sign-in limits, two-factor for staff, preferences."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.hashers import identify_hasher
from django.core import mail
from django.urls import reverse

from medexchange.accounts.models import User
from medexchange.common.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.argon2
def test_signup_requires_email_verification(client: Any) -> None:
    response = client.post(
        reverse("account_signup"),
        {
            "email": "new.resident@example.org",
            "password1": factories.PASSWORD,
            "password2": factories.PASSWORD,
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.resident@example.org")
    assert identify_hasher(user.password).algorithm == "argon2"
    # Not signed in until the address is confirmed.
    assert client.get(reverse("accounts:preferences")).status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    path = "/" + link.group(0).split("/", 3)[3]
    client.post(path)
    assert client.get(reverse("accounts:preferences")).status_code == 200


def test_login_with_email_and_password(client: Any) -> None:
    factories.UserFactory(email="someone@example.org")
    response = client.post(
        reverse("account_login"), {"login": "someone@example.org", "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("accounts:preferences")).status_code == 200


def test_repeated_failed_logins_are_rate_limited(client: Any) -> None:
    factories.UserFactory(email="target@example.org")
    for _attempt in range(5):
        response = client.post(
            reverse("account_login"), {"login": "target@example.org", "password": "wrong"}
        )
        assert response.status_code == 200
    response = client.post(
        reverse("account_login"), {"login": "target@example.org", "password": factories.PASSWORD}
    )
    # Even the right password is refused while the limit holds.
    assert client.get(reverse("accounts:preferences")).status_code == 302
    assert response.status_code in {200, 429}
    assert "Too many" in response.content.decode()


def test_network_staff_must_set_up_two_factor(client: Any, network: Any) -> None:
    staff = factories.staff_of(network)
    Authenticator.objects.filter(user=staff).delete()
    client.force_login(staff)

    response = client.get(reverse("network:join-queue"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    # Public pages too: a staff session without two-factor is confined to account pages.
    assert client.get(reverse("network:directory")).status_code == 302
    # Setting it up is allowed (allauth first asks for the password again).
    setup = client.get(reverse("mfa_activate_totp"))
    assert setup.status_code == 302
    assert setup["Location"].startswith(reverse("account_reauthenticate"))
    assert client.get(setup["Location"]).status_code == 200


def test_staff_with_two_factor_are_asked_for_a_code_at_login(client: Any, network: Any) -> None:
    staff = factories.staff_of(network, email="staff@example.org")
    response = client.post(
        reverse("account_login"), {"login": "staff@example.org", "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    # Password alone does not sign in.
    assert client.get(reverse("network:join-queue")).status_code == 302
    assert staff.is_network_staff


def test_applicants_are_not_forced_into_two_factor(client: Any) -> None:
    client.force_login(factories.UserFactory())
    assert client.get(reverse("network:directory")).status_code == 200


def test_preferences_set_language_and_time_zone(client: Any) -> None:
    user = factories.UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:preferences"),
        {"full_name": "Dr Fictional", "preferred_language": "ar", "time_zone": "Africa/Nairobi"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.preferred_language, user.time_zone) == ("ar", "Africa/Nairobi")
    page = client.get(reverse("home")).content.decode()
    assert '<html lang="ar" dir="rtl">' in page
    assert AuditEntry.objects.filter(action="user.preferences_updated", actor=user).exists()


def test_preferences_reject_unknown_time_zone(client: Any) -> None:
    client.force_login(factories.UserFactory())
    response = client.post(
        reverse("accounts:preferences"),
        {"full_name": "", "preferred_language": "en", "time_zone": "Mars/Olympus"},
    )
    assert response.status_code == 200
    assert "time_zone" in response.context["form"].errors


def test_language_switch_is_remembered_for_signed_in_users(client: Any) -> None:
    user = factories.UserFactory()
    client.force_login(user)
    response = client.post(reverse("set_language"), {"language": "es", "next": "/"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.preferred_language == "es"
    assert '<html lang="es"' in client.get("/").content.decode()


def test_language_switch_rejects_unknown_language(client: Any) -> None:
    response = client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert '<html lang="en"' in client.get("/").content.decode()


def test_preferences_list_my_roles(client: Any, member: Any) -> None:
    coordinator = factories.coordinator_of(member)
    client.force_login(coordinator)
    body = client.get(reverse("accounts:preferences")).content.decode()
    assert "Fictional Nairobi School of Medicine" in body
    assert member.get_absolute_url() in body


def test_preferences_explain_how_to_get_a_role(client: Any) -> None:
    client.force_login(factories.UserFactory())
    body = client.get(reverse("accounts:preferences")).content.decode()
    assert "You have no role at an institution yet." in body
