"""Joining the network: public form → staff queue → approve or decline, each step e-mailed."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from medexchange.accounts.models import InstitutionRole, Invitation
from medexchange.common.models import AuditEntry
from medexchange.network.choices import JoinRequestStatus, MembershipStatus
from medexchange.network.models import Institution, JoinRequest, Membership
from tests import factories

pytestmark = pytest.mark.django_db


def join_form_data(network: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "network": network.pk,
        "institution_name": "Fictional Lakeside College of Medicine",
        "kind": "medical_school",
        "country": "UG",
        "city": "Kampala",
        "address": "1 Hill Road",
        "latitude": "0.31628",
        "longitude": "32.58219",
        "website": "https://lakeside.example.org",
        "languages": ["en", "sw"],
        "description": "A fictional school training 120 students a year.",
        "contact_name": "Grace Atim",
        "contact_position": "Dean",
        "contact_email": "grace@lakeside.example.org",
        "contact_phone": "+256 700 000000",
        "can_offer": ["clinical_elective", "observership"],
        "places_per_year": "8",
        "offer_details": "Emergency department electives, four weeks.",
        "agrees_to_values": "on",
    }
    data.update(overrides)
    return data


def test_public_form_records_request_and_emails_contact(
    client: Any, network: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("network:join"), join_form_data(network))

    assert response.status_code == 302
    assert response["Location"] == reverse("network:join-thanks")
    join_request = JoinRequest.objects.get()
    assert join_request.status == JoinRequestStatus.SUBMITTED
    assert join_request.can_offer == ["clinical_elective", "observership"]
    assert [m.to for m in mail.outbox] == [["grace@lakeside.example.org"]]
    assert "Fictional Lakeside College of Medicine" in mail.outbox[0].subject
    assert AuditEntry.objects.filter(action="join_request.submitted").count() == 1


def test_contact_is_emailed_in_the_language_they_applied_in(
    client: Any, network: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client.cookies["django_language"] = "es"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("network:join"), join_form_data(network))

    assert JoinRequest.objects.get().language == "es"
    with translation.override("es"):
        expected = gettext("We received the application of %(institution_name)s") % {
            "institution_name": "Fictional Lakeside College of Medicine"
        }
    assert expected != "We received the application of Fictional Lakeside College of Medicine"
    assert mail.outbox[0].subject == expected


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("latitude", "123", "less than or equal to 90"),
        ("longitude", "east", "Enter a number"),
        ("country", "ZZ", "Select a valid choice"),
        ("contact_email", "not-an-email", "valid email"),
        ("kind", "spaceship", "Select a valid choice"),
        ("places_per_year", "-3", "greater than or equal to 0"),
        ("agrees_to_values", "", "agree to the network"),
        ("institution_name", "", "This field is required"),
    ],
)
def test_join_form_rejects_malformed_values_at_the_field(
    client: Any, network: Any, field: str, value: str, message: str
) -> None:
    data = join_form_data(network, **{field: value})
    if value == "":
        data.pop(field)
    response = client.post(reverse("network:join"), data)

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert 'aria-invalid="true"' in response.content.decode()
    assert not JoinRequest.objects.exists()
    assert not mail.outbox


def test_only_network_staff_see_the_queue(client: Any, network: Any, member: Any) -> None:
    factories.JoinRequestFactory(network=network, institution_name="Pending Fictional Clinic")
    queue = reverse("network:join-queue")

    assert client.get(queue).status_code == 302  # to the login page
    client.force_login(factories.coordinator_of(member))
    assert client.get(queue).status_code == 403
    client.force_login(factories.staff_of(network))
    response = client.get(queue)
    assert response.status_code == 200
    assert "Pending Fictional Clinic" in response.content.decode()


def test_staff_of_another_network_cannot_see_or_decide(
    client: Any, network: Any, africa_network: Any
) -> None:
    join_request = factories.JoinRequestFactory(network=network)
    client.force_login(factories.staff_of(africa_network))

    assert client.get(reverse("network:join-queue")).status_code == 200
    detail = reverse("network:join-detail", args=[join_request.pk])
    assert client.get(detail).status_code == 404
    assert client.post(detail, {"decision": "approve"}).status_code == 404
    join_request.refresh_from_db()
    assert join_request.status == JoinRequestStatus.SUBMITTED


def test_approval_creates_member_institution_and_invites_its_coordinator(
    client: Any, network: Any, staff_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    join_request = factories.JoinRequestFactory(
        network=network, contact_email="ama@college.example"
    )
    client.force_login(staff_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("network:join-detail", args=[join_request.pk]),
            {"decision": "approve", "reason": "Welcome aboard."},
        )

    assert response.status_code == 302
    join_request.refresh_from_db()
    assert join_request.status == JoinRequestStatus.APPROVED
    assert join_request.decided_by == staff_user
    institution = Institution.objects.get(pk=join_request.institution_id)
    assert institution.name == join_request.institution_name
    membership = Membership.objects.get(institution=institution)
    assert (membership.network, membership.status) == (network, MembershipStatus.ACTIVE)
    invitation = Invitation.objects.get(institution=institution)
    assert invitation.email == "ama@college.example"
    assert invitation.role == "coordinator"
    assert len(mail.outbox) == 1
    assert invitation.get_absolute_url() in mail.outbox[0].body
    assert "Welcome aboard." in mail.outbox[0].body
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "join_request.approved",
        "institution.created",
        "membership.activated",
        "invitation.sent",
    } <= actions
    # The new institution is public now.
    assert client.get(institution.get_absolute_url()).status_code == 200


def test_invited_contact_becomes_coordinator_and_can_edit(
    client: Any, network: Any, staff_user: Any
) -> None:
    join_request = factories.JoinRequestFactory(
        network=network, contact_email="ama@college.example"
    )
    client.force_login(staff_user)
    client.post(reverse("network:join-detail", args=[join_request.pk]), {"decision": "approve"})
    invitation = Invitation.objects.get()

    contact = factories.UserFactory(email="ama@college.example")
    client.force_login(contact)
    response = client.post(invitation.get_absolute_url())

    assert response.status_code == 302
    institution = invitation.institution
    assert InstitutionRole.objects.filter(
        user=contact, institution=institution, role="coordinator"
    ).exists()
    edit = reverse("network:institution-edit", args=[institution.slug])
    assert client.get(edit).status_code == 200
    # A link works once.
    assert client.post(invitation.get_absolute_url()).status_code == 200
    assert InstitutionRole.objects.filter(user=contact).count() == 1


def test_decline_needs_a_reason_and_emails_it(
    client: Any, network: Any, staff_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    join_request = factories.JoinRequestFactory(network=network)
    client.force_login(staff_user)
    url = reverse("network:join-detail", args=[join_request.pk])

    response = client.post(url, {"decision": "decline", "reason": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    join_request.refresh_from_db()
    assert join_request.status == JoinRequestStatus.SUBMITTED

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"decision": "decline", "reason": "Not a teaching institution."}
        )
    assert response.status_code == 302
    join_request.refresh_from_db()
    assert join_request.status == JoinRequestStatus.DECLINED
    assert "Not a teaching institution." in mail.outbox[-1].body
    assert not Institution.objects.exists()
    entry = AuditEntry.objects.get(action="join_request.declined")
    assert (entry.from_state, entry.to_state, entry.actor) == ("submitted", "declined", staff_user)


def test_a_request_cannot_be_decided_twice(client: Any, network: Any, staff_user: Any) -> None:
    join_request = factories.JoinRequestFactory(network=network)
    client.force_login(staff_user)
    url = reverse("network:join-detail", args=[join_request.pk])
    client.post(url, {"decision": "approve"})

    response = client.post(url, {"decision": "decline", "reason": "Changed my mind"})

    assert response.status_code == 200
    assert "already approved" in response.content.decode()
    assert Institution.objects.count() == 1
    join_request.refresh_from_db()
    assert join_request.status == JoinRequestStatus.APPROVED


def test_unknown_join_request_is_404(client: Any, staff_user: Any) -> None:
    client.force_login(staff_user)
    assert client.get(reverse("network:join-detail", args=[999999])).status_code == 404


def test_join_form_is_rate_limited_per_address(client: Any, network: Any) -> None:
    for index in range(10):
        response = client.post(
            reverse("network:join"),
            join_form_data(network, institution_name=f"Fictional School {index}"),
        )
        assert response.status_code == 302
    response = client.post(reverse("network:join"), join_form_data(network))
    assert response.status_code == 429
    assert "Too many applications" in response.content.decode()
    assert JoinRequest.objects.count() == 10


def test_corrections_do_not_count_towards_the_limit(client: Any, network: Any) -> None:
    for _attempt in range(12):
        response = client.post(reverse("network:join"), join_form_data(network, latitude="99"))
        assert response.status_code == 200
    response = client.post(reverse("network:join"), join_form_data(network))
    assert response.status_code == 302


def test_queue_runs_a_fixed_number_of_queries(
    client: Any, network: Any, staff_user: Any, django_assert_max_num_queries: Any
) -> None:
    for _index in range(30):
        factories.JoinRequestFactory(network=network)
    client.force_login(staff_user)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("network:join-queue"))
    assert response.context["page"].paginator.count == 30


def test_queue_shows_decided_requests_on_demand(client: Any, network: Any, staff_user: Any) -> None:
    factories.JoinRequestFactory(network=network, institution_name="Waiting Fictional School")
    factories.JoinRequestFactory(
        network=network, institution_name="Declined Fictional School", status="declined"
    )
    client.force_login(staff_user)
    default = client.get(reverse("network:join-queue")).content.decode()
    assert "Waiting Fictional School" in default
    assert "Declined Fictional School" not in default
    everything = client.get(reverse("network:join-queue"), {"status": ""}).content.decode()
    assert "Declined Fictional School" in everything
