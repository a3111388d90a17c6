"""`manage.py load_demo`: a realistic, deterministic demo network."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.core.management import call_command
from django.core.management.base import CommandError

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.accounts.models import InstitutionRole, NetworkStaffRole, User
from medexchange.network import demo
from medexchange.network.choices import (
    EmStatus,
    IncomeGroup,
    JoinRequestStatus,
    MembershipStatus,
    NetworkScope,
    Region,
)
from medexchange.network.geodata import demo_cities
from medexchange.network.models import (
    CountryProfile,
    Institution,
    JoinRequest,
    Membership,
    Network,
    Site,
)

pytestmark = pytest.mark.django_db

DEMO_EMAILS = {
    f"{local}@demo.medexchange.test"
    for local in (
        "staff",
        "africa-staff",
        "coordinator",
        "reviewer",
        "supervisor",
        "applicant",
        "donor",
    )
}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Argon2 is slow by design; these tests sign in seven users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def loaded(db: Any) -> str:
    """The demo loaded once, as `make demo` does; returns what the command printed."""
    return load("--seed", "1", "--reset")


def snapshot() -> list[tuple[str, str, Decimal, Decimal]]:
    return list(
        Institution.objects.order_by("slug").values_list("name", "slug", "latitude", "longitude")
    )


def test_builds_a_network_of_at_least_200_institutions_in_50_countries(loaded: str) -> None:
    institutions = Institution.objects.all()
    assert institutions.count() == demo.DEFAULT_INSTITUTIONS
    assert institutions.values("country").distinct().count() >= 50
    assert set(institutions.values_list("kind", flat=True)) == {
        "medical_school",
        "teaching_hospital",
        "health_organisation",
        "training_institution",
    }
    for institution in institutions.prefetch_related("sites"):
        assert 1 <= len(institution.sites.all()) <= 4
        assert institution.website == f"https://{institution.slug}.example.org"
        assert institution.languages
        assert all(len(code) == 2 for code in institution.languages)
        assert institution.description
    # Mostly active members of the global network, and a few in other states.
    statuses = set(
        Membership.objects.filter(network__slug="global").values_list("status", flat=True)
    )
    assert statuses == {s.value for s in MembershipStatus}
    assert Institution.objects.members().count() >= 0.8 * institutions.count()


def test_country_profiles_get_income_group_and_em_status(loaded: str) -> None:
    kenya = CountryProfile.objects.get(code="KE")
    assert kenya.income_group == IncomeGroup.LOWER_MIDDLE
    assert kenya.em_status == EmStatus.EMERGING
    assert kenya.em_recognised_year
    assert CountryProfile.objects.get(code="US").em_status == EmStatus.ESTABLISHED
    used = CountryProfile.objects.filter(
        pk__in=Institution.objects.values("country")
    ).select_related()
    for profile in used:
        assert profile.income_group
        assert profile.em_status
        profile.full_clean()


def test_global_and_regional_networks_have_members(loaded: str) -> None:
    global_network = Network.objects.get(slug="global")
    africa = Network.objects.get(slug="africa")
    asia = Network.objects.get(slug="south-east-asia")
    assert global_network.name == "Global Emergency Medicine Exchange Network"
    assert global_network.scope == NetworkScope.GLOBAL
    assert (africa.name, africa.scope, africa.region) == (
        "Africa Regional Network",
        NetworkScope.REGIONAL,
        Region.AFRICA,
    )
    assert (asia.name, asia.scope, asia.region) == (
        "South-East Asia Regional Network",
        NetworkScope.REGIONAL,
        Region.ASIA,
    )
    for network in (global_network, africa, asia):
        assert network.description
        assert "pay" in network.values_statement
        assert network.memberships.filter(status=MembershipStatus.ACTIVE).count() >= 10
    assert not africa.memberships.exclude(institution__country__region=Region.AFRICA).exists()
    assert not asia.memberships.exclude(
        institution__country__subregion="South-eastern Asia"
    ).exists()
    # Some institutions are members of their regional network only.
    for network in (africa, asia):
        only_regional = Institution.objects.filter(memberships__network=network).exclude(
            memberships__network=global_network
        )
        assert only_regional.exists()


def test_institutions_and_sites_sit_on_demo_cities(loaded: str) -> None:
    cities = {(row["country"], row["name"]): row for row in demo_cities()}
    tolerance = Decimal("0.1")
    places = [
        *Institution.objects.values_list("country__code", "city", "latitude", "longitude"),
        *Site.objects.values_list("institution__country__code", "city", "latitude", "longitude"),
    ]
    for country, city, latitude, longitude in places:
        row = cities[(country, city)]
        assert latitude is not None and longitude is not None  # sites have coordinates too
        assert abs(latitude - Decimal(str(row["latitude"]))) <= tolerance
        assert abs(longitude - Decimal(str(row["longitude"]))) <= tolerance
    # Jittered: institutions in one city do not stack on one point.
    points = Institution.objects.values_list("latitude", "longitude")
    assert len(set(points)) == len(points)


def test_same_seed_gives_the_same_network_and_another_seed_differs(db: Any) -> None:
    load("--seed", "7", "--reset")
    first = snapshot()
    load("--seed", "7", "--reset")
    assert snapshot() == first
    load("--seed", "8", "--reset")
    assert snapshot() != first
    assert Network.objects.count() == 3
    assert User.objects.filter(email__in=DEMO_EMAILS).count() == len(DEMO_EMAILS)


def test_demo_users_have_their_roles_and_can_sign_in(loaded: str, client: Any) -> None:
    for email in sorted(DEMO_EMAILS):
        assert client.login(email=email, password="demo-password-2026"), email
        client.logout()
        assert EmailAddress.objects.filter(
            user__email=email, email=email, verified=True, primary=True
        ).exists()

    staff = User.objects.get(email="staff@demo.medexchange.test")
    assert staff.is_superuser and staff.is_staff
    assert NetworkStaffRole.objects.filter(user=staff, network__slug="global").exists()
    africa_staff = User.objects.get(email="africa-staff@demo.medexchange.test")
    assert not africa_staff.is_superuser
    assert list(africa_staff.network_staff_roles.values_list("network__slug", flat=True)) == [
        "africa"
    ]
    for user in (staff, africa_staff):
        totp = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
        assert decrypt(totp.data["secret"]) == demo.DEMO_TOTP_SECRET

    kenyan = Institution.objects.filter(country__code="KE").order_by("pk").first()
    assert kenyan is not None
    for local, role in (
        ("coordinator", InstitutionRoleKind.COORDINATOR),
        ("reviewer", InstitutionRoleKind.REVIEWER),
        ("supervisor", InstitutionRoleKind.SUPERVISOR),
    ):
        user = User.objects.get(email=f"{local}@demo.medexchange.test")
        roles = list(user.institution_roles.values_list("institution", "role").order_by("pk"))
        assert roles[0] == (kenyan.pk, role)
        # The supervisor also supervises a site of the demo rotation plan (scheduling.demo).
        assert all(other == role for _institution, other in roles[1:])
        if local != "supervisor":
            assert len(roles) == 1
    assert (
        kenyan.memberships.filter(
            network__slug__in=["global", "africa"], status=MembershipStatus.ACTIVE
        ).count()
        == 2
    )
    for local in ("applicant", "donor"):
        user = User.objects.get(email=f"{local}@demo.medexchange.test")
        assert not user.is_network_staff
        assert not InstitutionRole.objects.filter(user=user).exists()


def test_join_requests_await_review(loaded: str) -> None:
    pending = JoinRequest.objects.filter(status=JoinRequestStatus.SUBMITTED)
    assert 6 <= pending.count() <= 10
    used_cities = set(Institution.objects.values_list("country__code", "city"))
    for join_request in pending:
        assert (str(join_request.country.code), join_request.city) not in used_cities
        assert join_request.contact_name
        assert join_request.contact_email.endswith("@example.org")
        assert join_request.agrees_to_values
    declined = JoinRequest.objects.filter(status=JoinRequestStatus.DECLINED)
    assert declined.exists()
    assert all(r.decision_reason and r.decided_at for r in declined)
    approved = JoinRequest.objects.filter(status=JoinRequestStatus.APPROVED)
    assert approved.exists()
    assert all(r.institution_id and r.decision_reason for r in approved)


def test_running_again_without_reset_is_refused(loaded: str) -> None:
    before = Institution.objects.count()
    with pytest.raises(CommandError, match="--reset"):
        load("--seed", "1")
    assert Institution.objects.count() == before


def test_out_of_range_institution_count_is_refused(db: Any) -> None:
    with pytest.raises(CommandError, match="--institutions"):
        load("--seed", "1", "--institutions", "3")


def test_prints_logins_and_a_working_totp_recipe(loaded: str) -> None:
    assert "240 institutions" in loaded
    for email in DEMO_EMAILS:
        assert email in loaded
    assert "demo-password-2026" in loaded
    assert demo.DEMO_TOTP_SECRET in loaded
    match = re.search(r'python -c "(?P<code>[^"]+)"', loaded)
    assert match is not None
    result = subprocess.run(
        [sys.executable, "-c", match["code"]], capture_output=True, text=True, check=True
    )
    counter = int(time.time()) // 30
    expected = {
        format_hotp_value(hotp_value(demo.DEMO_TOTP_SECRET, counter + step)) for step in (-1, 0, 1)
    }
    assert result.stdout.strip() in expected
