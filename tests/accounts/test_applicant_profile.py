"""The applicant profile: its page (own profile only), validation and audit."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from medexchange.accounts.models import ApplicantProfile
from medexchange.accounts.services import applicant_profile_update
from medexchange.common.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/accounts/profile/"


def post(client: Any, **values: str) -> Any:
    data = {"training_level": "", "training_year": "", "home_country": ""} | values
    return client.post(URL, data)


def test_signed_out_is_sent_to_sign_in(client: Any) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_fill_in_and_change_own_profile(client: Any) -> None:
    user = factories.UserFactory()
    client.force_login(user)
    page = client.get(URL)
    assert page.status_code == 200
    assert b"You have not filled in your profile yet" in page.content

    response = post(
        client,
        training_level="resident",
        training_year="2",
        home_country="KE",
        language_0="en",
        level_0="C1",
        language_1="sw",
        level_1="B2",
    )
    assert response.status_code == 302
    profile = ApplicantProfile.objects.get(user=user)
    assert profile.training_level == "resident"
    assert profile.training_year == 2
    assert profile.home_country == factories.country("KE")
    assert profile.languages == [{"code": "en", "level": "C1"}, {"code": "sw", "level": "B2"}]
    entry = AuditEntry.objects.get(action="applicant_profile.created")
    assert entry.actor == user
    assert entry.data["home_country"] == [None, "KE"]

    page = client.get(URL)
    assert b'value="sw" selected' in page.content

    post(
        client,
        training_level="resident",
        training_year="3",
        home_country="KE",
        language_0="en",
        level_0="C1",
    )
    profile.refresh_from_db()
    assert profile.training_year == 3
    assert profile.languages == [{"code": "en", "level": "C1"}]
    updated = AuditEntry.objects.get(action="applicant_profile.updated")
    assert updated.data["training_year"] == [2, 3]


def test_each_person_only_sees_their_own(client: Any) -> None:
    other = factories.UserFactory()
    applicant_profile_update(
        user=other, actor=other, values={"training_level": "physician", "languages": []}
    )
    client.force_login(factories.UserFactory())
    page = client.get(URL)
    assert b'value="physician" selected' not in page.content
    with pytest.raises(PermissionDenied):
        applicant_profile_update(
            user=other, actor=factories.UserFactory(), values={"training_year": 1}
        )


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"language_0": "xx", "level_0": "B2"}, "language_0"),  # unknown language
        ({"language_0": "es", "level_0": "D1"}, "level_0"),  # not a CEFR level
        ({"language_0": "es"}, "level_0"),  # level missing
        ({"level_0": "B1"}, "language_0"),  # language missing
        ({"language_0": "es", "level_0": "B1", "language_1": "es", "level_1": "C1"}, "language_1"),
        ({"training_year": "-1"}, "training_year"),
        ({"training_year": "0"}, "training_year"),
        ({"training_year": "abc"}, "training_year"),
        ({"training_level": "wizard"}, "training_level"),
        ({"home_country": "XX"}, "home_country"),
    ],
)
def test_page_refuses_bad_values(client: Any, values: dict[str, str], field: str) -> None:
    client.force_login(factories.UserFactory())
    response = post(client, **values)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not ApplicantProfile.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"languages": [{"code": "xx", "level": "B2"}]}, "unknown_language"),
        ({"languages": [{"code": "es", "level": "native"}]}, "bad_level"),
        (
            {"languages": [{"code": "es", "level": "B2"}, {"code": "es", "level": "C1"}]},
            "duplicate",
        ),
        ({"languages": ["es"]}, "invalid"),
        ({"languages": {"es": "B2"}}, "invalid"),
        ({"training_year": -1}, None),
        ({"training_year": 11}, None),
        ({"training_level": "wizard"}, None),
        ({"colour": "blue"}, None),
    ],
)
def test_service_refuses_bad_values(values: dict[str, Any], code: str | None) -> None:
    user = factories.UserFactory()
    with pytest.raises(ValidationError) as raised:
        applicant_profile_update(user=user, actor=user, values=values)
    if code:
        assert code in {error.code for error in raised.value.error_dict["languages"]}
    assert not ApplicantProfile.objects.exists()
    assert not AuditEntry.objects.exists()


def test_no_change_writes_no_audit() -> None:
    user = factories.UserFactory()
    values = {"training_level": "student", "training_year": 4, "languages": []}
    applicant_profile_update(user=user, actor=user, values=values)
    applicant_profile_update(user=user, actor=user, values=values)
    assert AuditEntry.objects.filter(action__startswith="applicant_profile.").count() == 1


def test_preferences_link_to_the_profile(client: Any) -> None:
    client.force_login(factories.UserFactory())
    assert URL.encode() in client.get("/accounts/preferences/").content
