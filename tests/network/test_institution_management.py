"""Coordinators look after their own institution; network staff after their networks'."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from medexchange.accounts.models import Invitation
from medexchange.common.models import AuditEntry
from medexchange.network.models import CountryProfile, Site
from tests import factories

pytestmark = pytest.mark.django_db


def institution_data(institution: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "name": institution.name,
        "kind": institution.kind,
        "country": institution.country.code.code,
        "city": institution.city,
        "address": "",
        "latitude": str(institution.latitude),
        "longitude": str(institution.longitude),
        "languages": ["en"],
        "website": "",
        "description": "",
        "time_zone": "Africa/Nairobi",
    }
    data.update(overrides)
    return data


def test_coordinator_edits_own_institution_and_it_is_audited(client: Any, member: Any) -> None:
    coordinator = factories.coordinator_of(member)
    client.force_login(coordinator)

    response = client.post(
        reverse("network:institution-edit", args=[member.slug]),
        institution_data(member, description="Now with a simulation centre."),
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.description == "Now with a simulation centre."
    entry = AuditEntry.objects.get(action="institution.updated")
    assert entry.actor == coordinator
    assert entry.data["description"] == ["", "Now with a simulation centre."]


def test_another_institutions_coordinator_gets_404_and_changes_nothing(
    client: Any, network: Any, member: Any
) -> None:
    other = factories.InstitutionFactory(name="Fictional Other School")
    factories.MembershipFactory(institution=other, network=network)
    client.force_login(factories.coordinator_of(other))

    for url in (
        reverse("network:institution-edit", args=[member.slug]),
        reverse("network:institution-people", args=[member.slug]),
        reverse("network:site-add", args=[member.slug]),
    ):
        assert client.get(url).status_code == 404
    response = client.post(
        reverse("network:institution-edit", args=[member.slug]),
        institution_data(member, name="Hijacked"),
    )
    assert response.status_code == 404
    member.refresh_from_db()
    assert member.name == "Fictional Nairobi School of Medicine"


def test_applicant_cannot_edit(client: Any, member: Any) -> None:
    client.force_login(factories.UserFactory())
    assert client.get(reverse("network:institution-edit", args=[member.slug])).status_code == 404


def test_invalid_edit_shows_field_errors(client: Any, member: Any) -> None:
    client.force_login(factories.coordinator_of(member))
    response = client.post(
        reverse("network:institution-edit", args=[member.slug]),
        institution_data(member, latitude="95", website="not a url"),
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"latitude", "website"}


def test_coordinator_adds_and_edits_a_site(client: Any, member: Any) -> None:
    client.force_login(factories.coordinator_of(member))
    response = client.post(
        reverse("network:site-add", args=[member.slug]),
        {"name": "Fictional Emergency Unit", "kind": "emergency_department", "city": "Nairobi"},
    )
    assert response.status_code == 302
    site = Site.objects.get(institution=member)
    response = client.post(
        reverse("network:site-edit", args=[member.slug, site.pk]),
        {"name": "Fictional Emergency Centre", "kind": "emergency_department", "city": "Nairobi"},
    )
    assert response.status_code == 302
    site.refresh_from_db()
    assert site.name == "Fictional Emergency Centre"
    assert list(AuditEntry.objects.values_list("action", flat=True).order_by("id")) == [
        "site.created",
        "site.updated",
    ]


def test_site_of_another_institution_is_404(client: Any, network: Any, member: Any) -> None:
    other_site = factories.SiteFactory()
    client.force_login(factories.coordinator_of(member))
    url = reverse("network:site-edit", args=[member.slug, other_site.pk])
    assert client.get(url).status_code == 404


def test_coordinator_invites_a_reviewer(
    client: Any, member: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(factories.coordinator_of(member))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("network:institution-people", args=[member.slug]),
            {"email": "Reviewer@Example.org", "role": "reviewer"},
        )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role) == ("reviewer@example.org", "reviewer")
    assert mail.outbox[0].to == ["reviewer@example.org"]
    assert invitation.get_absolute_url() in mail.outbox[0].body


def test_invitation_for_someone_else_is_refused(client: Any, member: Any) -> None:
    coordinator = factories.coordinator_of(member)
    client.force_login(coordinator)
    client.post(
        reverse("network:institution-people", args=[member.slug]),
        {"email": "invitee@example.org", "role": "supervisor"},
    )
    invitation = Invitation.objects.get()
    client.force_login(factories.UserFactory(email="intruder@example.org"))
    response = client.post(invitation.get_absolute_url(), follow=True)
    assert "invitee@example.org" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_invitation_link_asks_anonymous_visitors_to_sign_in(client: Any, member: Any) -> None:
    invitation = Invitation.objects.create(
        email="new@example.org", institution=member, role="reviewer"
    )
    response = client.get(invitation.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_unknown_invitation_token_is_404(client: Any) -> None:
    client.force_login(factories.UserFactory())
    assert client.get(reverse("accounts:invitation", args=["nope"])).status_code == 404


def test_staff_edit_country_profile_and_validation(client: Any, staff_user: Any) -> None:
    client.force_login(staff_user)
    url = reverse("network:country-edit", args=["KE"])
    response = client.post(
        url,
        {
            "region": "africa",
            "subregion": "Eastern Africa",
            "income_group": "lower_middle",
            "em_status": "emerging",
        },
    )
    assert response.status_code == 200
    assert "em_recognised_year" in response.context["form"].errors

    response = client.post(
        url,
        {
            "region": "africa",
            "subregion": "Eastern Africa",
            "income_group": "lower_middle",
            "em_status": "emerging",
            "em_recognised_year": "2016",
        },
    )
    assert response.status_code == 302
    profile = CountryProfile.objects.get(code="KE")
    assert (profile.em_status, profile.em_recognised_year) == ("emerging", 2016)
    assert AuditEntry.objects.filter(action="country_profile.updated").exists()


def test_country_profiles_are_staff_only(client: Any, member: Any) -> None:
    client.force_login(factories.coordinator_of(member))
    assert client.get(reverse("network:countries")).status_code == 403
    assert client.get(reverse("network:country-edit", args=["KE"])).status_code == 404


def test_every_iso_country_has_a_profile_with_region() -> None:
    assert CountryProfile.objects.count() >= 249
    assert not CountryProfile.objects.filter(region="").exists()
    assert CountryProfile.objects.get(code="VN").subregion == "South-eastern Asia"


def test_network_staff_edit_their_members_but_not_former_ones(
    client: Any, network: Any, africa_network: Any, member: Any
) -> None:
    former = factories.InstitutionFactory(name="Fictional Former Member")
    factories.MembershipFactory(institution=former, network=network, status="left")
    factories.MembershipFactory(institution=former, network=africa_network)
    client.force_login(factories.staff_of(network))

    assert client.get(reverse("network:institution-edit", args=[member.slug])).status_code == 200
    assert client.get(reverse("network:institution-edit", args=[former.slug])).status_code == 404
