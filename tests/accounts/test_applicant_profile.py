"""The applicant profile: its page (own profile only), validation and audit."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils import translation

from medexchange.accounts.models import ApplicantProfile, User, normalize_phone
from medexchange.accounts.services import applicant_profile_update
from medexchange.catalog.models import Specialty
from medexchange.common.models import AuditEntry
from medexchange.network.models import Institution
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/accounts/profile/"


def post(client: Any, **values: Any) -> Any:
    data = {"training_level": "", "training_year": "", "home_country": "", "time_zone": "UTC"}
    return client.post(URL, data | values)


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


# Home institution, specialties, nationality, contacts, time zone ---------------------------


def member(name: str = "Fictional Institute", code: str = "KE") -> Institution:
    """An institution with an active membership: one the profile may choose."""
    institution = factories.InstitutionFactory(name=name, country=factories.country(code))
    factories.MembershipFactory(institution=institution)
    return institution


COMPLETE = {
    "training_level": "student",
    "training_year": "5",
    "home_country": "KE",
    "nationality": "UG",
    "phone": "+254 (712) 345-678",
    "emergency_contact_name": "Joyce Akello",
    "emergency_contact_relationship": "mother",
    "emergency_contact_phone": "00256 772 123 456",
    "time_zone": "Africa/Nairobi",
    "language_0": "en",
    "level_0": "C1",
}


def test_every_field_is_saved_through_the_page(client: Any) -> None:
    user = factories.UserFactory()
    school = member("Nairobi School of Medicine")
    client.force_login(user)
    response = post(
        client,
        **COMPLETE,
        home_institution=str(school.pk),
        specialty_interests=["emergency-medicine", "paediatrics"],
    )
    assert response.status_code == 302
    profile = ApplicantProfile.objects.get(user=user)
    assert profile.home_institution == school
    assert profile.home_institution_name == ""
    assert profile.nationality == factories.country("UG")
    assert sorted(profile.specialty_interests.values_list("code", flat=True)) == [
        "emergency-medicine",
        "paediatrics",
    ]
    assert profile.phone == "+254712345678"  # stored in E.164 form
    assert profile.emergency_contact_name == "Joyce Akello"
    assert profile.emergency_contact_relationship == "mother"
    assert profile.emergency_contact_phone == "+256772123456"
    user.refresh_from_db()
    assert user.time_zone == "Africa/Nairobi"
    assert profile.is_complete_for_applying() == []

    created = AuditEntry.objects.get(action="applicant_profile.created")
    assert created.actor == user
    assert created.data["home_institution"] == [None, school.slug]
    assert created.data["nationality"] == [None, "UG"]
    assert created.data["specialty_interests"] == [[], ["emergency-medicine", "paediatrics"]]
    assert created.data["phone"] == ["", "+254712345678"]
    time_zone = AuditEntry.objects.get(action="user.preferences_updated")
    assert time_zone.data == {"time_zone": ["UTC", "Africa/Nairobi"]}

    page = client.get(URL)
    content = page.content.decode()
    assert f'value="{school.pk}" selected' in content
    assert 'value="UG" selected' in content
    assert 'value="paediatrics" id="id_specialty_interests_' in content
    assert "checked" in content
    assert 'value="+254712345678"' in content
    assert 'value="Africa/Nairobi" selected' in content
    assert "Before you apply" not in content

    # Changing only the free-text institution: nothing else is touched or audited.
    post(
        client,
        **COMPLETE,
        home_institution="",
        home_institution_name="Gulu University",
        specialty_interests=["emergency-medicine", "paediatrics"],
    )
    profile.refresh_from_db()
    assert profile.home_institution is None
    assert profile.home_institution_name == "Gulu University"
    updated = AuditEntry.objects.get(action="applicant_profile.updated")
    assert updated.data == {
        "home_institution": [school.slug, None],
        "home_institution_name": ["", "Gulu University"],
    }
    assert AuditEntry.objects.filter(action="user.preferences_updated").count() == 1


def test_institutions_offered_are_members_by_country_then_name(client: Any) -> None:
    member("Zeta College", "KE")
    member("Alpha Hospital", "KE")
    member("Korle Bu Teaching Hospital", "GH")
    factories.InstitutionFactory(name="Not A Member School")
    client.force_login(factories.UserFactory())
    content = client.get(URL).content.decode()
    assert "Not A Member School" not in content
    positions = [
        content.index(text)
        for text in (
            '<optgroup label="Ghana">',
            "Korle Bu Teaching Hospital",
            '<optgroup label="Kenya">',
            "Alpha Hospital",
            "Zeta College",
        )
    ]
    assert positions == sorted(positions)


def test_saved_institution_that_left_the_network_is_kept(client: Any) -> None:
    user = factories.UserFactory()
    school = member("Leaving College")
    applicant_profile_update(user=user, actor=user, values={"home_institution": school})
    school.memberships.update(status="withdrawn")
    client.force_login(user)
    assert f'value="{school.pk}" selected' in client.get(URL).content.decode()
    assert post(client, home_institution=str(school.pk)).status_code == 302
    assert ApplicantProfile.objects.get(user=user).home_institution == school


BAD_PAGE_VALUES = [
    ({"phone": "12345"}, "phone"),
    ({"phone": "+0712345678"}, "phone"),  # country codes do not start with 0
    ({"phone": "call me"}, "phone"),
    ({"phone": "+1234567890123456"}, "phone"),  # more than 15 digits
    ({"emergency_contact_phone": "0712 345 678"}, "emergency_contact_phone"),  # no country code
    ({"home_institution": "999999"}, "home_institution"),  # unknown institution
    ({"home_institution": "abc"}, "home_institution"),
    ({"nationality": "XX"}, "nationality"),
    ({"specialty_interests": ["astrology"]}, "specialty_interests"),
    ({"language_0": "es", "level_0": "native"}, "level_0"),
    ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
    (
        {"phone": "+254712345678", "emergency_contact_phone": "+254 712 345 678"},
        "emergency_contact_phone",
    ),  # the service's rule, shown at the field
]


@pytest.mark.parametrize(("values", "field"), BAD_PAGE_VALUES)
def test_page_refuses_bad_contacts_and_choices(
    client: Any, values: dict[str, Any], field: str
) -> None:
    user = factories.UserFactory()
    client.force_login(user)
    response = post(client, **(COMPLETE | values))
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    assert b"Nothing was saved" in response.content
    # What was typed is shown again, and nothing at all is saved (the time zone neither).
    assert form["emergency_contact_name"].value() == "Joyce Akello"
    assert not ApplicantProfile.objects.exists()
    assert not AuditEntry.objects.exists()
    user.refresh_from_db()
    assert user.time_zone == "UTC"


def test_non_member_institution_is_refused(client: Any) -> None:
    outsider = factories.InstitutionFactory(name="Not A Member School")
    user = factories.UserFactory()
    client.force_login(user)
    response = post(client, **COMPLETE, home_institution=str(outsider.pk))
    assert "home_institution" in response.context["form"].errors
    with pytest.raises(ValidationError) as raised:
        applicant_profile_update(user=user, actor=user, values={"home_institution": outsider})
    assert raised.value.error_dict["home_institution"][0].code == "not_member"
    assert not ApplicantProfile.objects.exists()
    assert not AuditEntry.objects.exists()


def test_institution_from_the_list_or_typed_not_both(client: Any) -> None:
    school = member()
    client.force_login(factories.UserFactory())
    response = post(
        client, **COMPLETE, home_institution=str(school.pk), home_institution_name="Other"
    )
    assert "home_institution_name" in response.context["form"].errors
    assert not ApplicantProfile.objects.exists()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+254712345678", "+254712345678"),
        (" +254 712 345 678 ", "+254712345678"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("0039 06.1234.5678", "+390612345678"),
        ("0712 345 678", "0712 345 678"),  # refused later by the validator, as typed
    ],
)
def test_phone_numbers_are_normalised(typed: str, stored: str) -> None:
    assert normalize_phone(typed) == stored


def test_service_refuses_bad_phone_and_keeps_the_old_profile() -> None:
    user = factories.UserFactory()
    applicant_profile_update(user=user, actor=user, values={"phone": "+254 712 345 678"})
    with pytest.raises(ValidationError) as raised:
        applicant_profile_update(
            user=user, actor=user, values={"phone": "not a phone", "time_zone": "Africa/Lagos"}
        )
    assert raised.value.error_dict["phone"][0].code == "invalid_phone"
    assert ApplicantProfile.objects.get(user=user).phone == "+254712345678"
    user.refresh_from_db()
    assert user.time_zone == "UTC"
    assert AuditEntry.objects.count() == 1


def test_service_sets_and_audits_specialties() -> None:
    user = factories.UserFactory()
    surgery = Specialty.objects.get(code="general-surgery")
    emergency = Specialty.objects.get(code="emergency-medicine")
    applicant_profile_update(user=user, actor=user, values={"specialty_interests": [surgery]})
    applicant_profile_update(
        user=user, actor=user, values={"specialty_interests": [emergency, surgery]}
    )
    applicant_profile_update(  # same set, other order: no change
        user=user, actor=user, values={"specialty_interests": [surgery, emergency]}
    )
    profile = ApplicantProfile.objects.get(user=user)
    assert set(profile.specialty_interests.all()) == {surgery, emergency}
    entries = AuditEntry.objects.filter(action__startswith="applicant_profile.").order_by("pk")
    assert [entry.data["specialty_interests"] for entry in entries] == [
        [[], ["general-surgery"]],
        [["general-surgery"], ["emergency-medicine", "general-surgery"]],
    ]
    with pytest.raises(ValidationError):
        applicant_profile_update(user=user, actor=user, values={"specialty_interests": ["x"]})


# Completeness --------------------------------------------------------------------------


def test_completeness_lists_what_is_missing() -> None:
    user = factories.UserFactory()
    assert ApplicantProfile(user=user).is_complete_for_applying() == [
        "Training level",
        "Home country",
        "Nationality",
        "Contact phone",
        "Emergency contact (name and phone)",
    ]
    profile = ApplicantProfile(
        user=user,
        training_level="resident",
        home_country=factories.country("KE"),
        nationality=factories.country("KE"),
        phone="+254712345678",
        emergency_contact_name="Joyce Akello",
    )
    assert profile.is_complete_for_applying() == [
        "Year of training",  # residents give their postgraduate year
        "Emergency contact (name and phone)",
    ]
    profile.training_year = 2
    profile.emergency_contact_phone = "+256772123456"
    assert profile.is_complete_for_applying() == []
    profile.training_level, profile.training_year = "physician", None
    assert profile.is_complete_for_applying() == []
    with translation.override("es"):
        assert ApplicantProfile(user=user).is_complete_for_applying()[:2] == [
            "Nivel de formación",
            "País de origen",
        ]


def test_page_shows_what_is_missing(client: Any) -> None:
    client.force_login(factories.UserFactory())
    post(client, **(COMPLETE | {"nationality": "", "emergency_contact_phone": ""}))
    page = client.get(URL)
    assert page.context["missing"] == ["Nationality", "Emergency contact (name and phone)"]
    assert b"Before you apply" in page.content


def test_profile_page_query_count(client: Any, django_assert_max_num_queries: Any) -> None:
    for index in range(5):
        member(f"School {index}")
    client.force_login(factories.UserFactory())
    post(client, **COMPLETE, specialty_interests=["paediatrics"])
    with django_assert_max_num_queries(8):
        assert client.get(URL).status_code == 200


# Who sees whose profile ------------------------------------------------------------------

SELECTORS = "medexchange.applications.selectors"


def filled_profile(**values: Any) -> ApplicantProfile:
    user = factories.UserFactory()
    return applicant_profile_update(
        user=user,
        actor=user,
        values={"training_level": "student", "phone": "+254712345678"} | values,
    )


def selectors_module(rule: Any = None) -> types.ModuleType:
    module = types.ModuleType(SELECTORS)
    if rule is not None:
        module.applicant_ids_visible_to = rule  # type: ignore[attr-defined]
    return module


def test_another_user_cannot_see_or_edit_a_profile(client: Any) -> None:
    profile = filled_profile(emergency_contact_name="Joyce Akello")
    other = factories.UserFactory()
    assert not ApplicantProfile.objects.visible_to(other).exists()
    assert not ApplicantProfile.objects.editable_by(other).exists()
    client.force_login(other)
    page = client.get(URL)
    assert b"Joyce Akello" not in page.content
    assert b"+254712345678" not in page.content
    # Posting the page edits the sender's own profile, never someone else's.
    post(client, **COMPLETE)
    profile.refresh_from_db()
    assert profile.emergency_contact_name == "Joyce Akello"
    assert ApplicantProfile.objects.get(user=other).emergency_contact_name == "Joyce Akello"
    assert profile.pk != ApplicantProfile.objects.get(user=other).pk
    with pytest.raises(PermissionDenied):
        applicant_profile_update(user=profile.user, actor=other, values={"phone": ""})


@pytest.mark.parametrize("module", [None, selectors_module()])
def test_visible_to_is_owner_only_until_applications_says_more(
    monkeypatch: pytest.MonkeyPatch, module: types.ModuleType | None
) -> None:
    """No selectors module (``None`` blocks the import) or no function: only the owner."""
    monkeypatch.setitem(sys.modules, SELECTORS, module)  # type: ignore[arg-type]
    profile = filled_profile()
    assert list(ApplicantProfile.objects.visible_to(profile.user)) == [profile]
    assert not ApplicantProfile.objects.visible_to(factories.UserFactory()).exists()


def test_reviewers_see_applicants_through_the_applications_selector(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    applicant = filled_profile(emergency_contact_name="Joyce Akello")
    bystander = filled_profile()
    reviewer = factories.UserFactory()

    def applicant_ids_visible_to(user: User) -> QuerySet[User]:
        ids = [applicant.user_id] if user == reviewer else []
        return User.objects.filter(pk__in=ids).values("pk")

    monkeypatch.setitem(sys.modules, SELECTORS, selectors_module(applicant_ids_visible_to))
    assert list(ApplicantProfile.objects.visible_to(reviewer)) == [applicant]
    assert list(ApplicantProfile.objects.visible_to(bystander.user)) == [bystander]
    # Seeing is not editing, and the reviewer's own page is the reviewer's own.
    assert not ApplicantProfile.objects.editable_by(reviewer).exists()
    client.force_login(reviewer)
    assert b"Joyce Akello" not in client.get(URL).content
    with pytest.raises(PermissionDenied):
        applicant_profile_update(user=applicant.user, actor=reviewer, values={"phone": ""})


def test_demo_applicant_has_a_complete_profile(client: Any, settings: Any) -> None:
    from medexchange.network import demo

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    demo.build_demo_network(seed=7, institutions=demo.MIN_INSTITUTIONS)
    applicant = User.objects.get(email=f"applicant@{demo.DEMO_USER_DOMAIN}")
    profile = ApplicantProfile.objects.get(user=applicant)
    assert profile.is_complete_for_applying() == []
    assert profile.home_institution or profile.home_institution_name
    assert profile.specialty_interests.exists()
    client.force_login(applicant)
    assert b"Before you apply" not in client.get(URL).content
