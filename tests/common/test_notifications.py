"""In-app notifications, written in each recipient's language."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from medexchange.common.models import Notification
from tests import factories
from tests.network.test_join_workflow import join_form_data

pytestmark = pytest.mark.django_db


def test_network_staff_hear_of_a_new_join_request_in_their_language(
    client: Any, network: Any, africa_network: Any, django_capture_on_commit_callbacks: Any
) -> None:
    english = factories.staff_of(network, email="en-staff@example.org")
    spanish = factories.staff_of(network, email="es-staff@example.org", preferred_language="es")
    other_network = factories.staff_of(africa_network, email="africa@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("network:join"), join_form_data(network))

    english_note = Notification.objects.get(user=english)
    assert english_note.message == (
        "Fictional Lakeside College of Medicine applied to join Global Exchange Network."
    )
    assert english_note.url.startswith("/staff/join-requests/")
    spanish_note = Notification.objects.get(user=spanish)
    assert spanish_note.message != english_note.message
    assert "Fictional Lakeside College of Medicine" in spanish_note.message
    assert not Notification.objects.filter(user=other_network).exists()
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == [
        "en-staff@example.org",
        "es-staff@example.org",
        "grace@lakeside.example.org",
    ]


def test_superusers_are_told_when_a_network_has_no_staff(
    client: Any, network: Any, django_capture_on_commit_callbacks: Any
) -> None:
    root = factories.UserFactory(is_superuser=True, is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("network:join"), join_form_data(network))
    assert Notification.objects.filter(user=root).count() == 1


def test_inviter_hears_when_the_invitation_is_accepted(client: Any, member: Any) -> None:
    coordinator = factories.coordinator_of(member)
    client.force_login(coordinator)
    client.post(
        reverse("network:institution-people", args=[member.slug]),
        {"email": "colleague@example.org", "role": "reviewer"},
    )
    invitation = member.invitations.get()
    colleague = factories.UserFactory(email="colleague@example.org", full_name="Dr Colleague")
    client.force_login(colleague)
    client.post(invitation.get_absolute_url())

    note = Notification.objects.get(user=coordinator)
    assert note.message == (
        "Dr Colleague accepted your invitation to Fictional Nairobi School of Medicine."
    )


def test_notification_page_shows_only_mine_and_marks_read(client: Any) -> None:
    me, someone_else = factories.UserFactory(), factories.UserFactory()
    Notification.objects.create(user=me, message="Your message", url="/directory/")
    Notification.objects.create(user=someone_else, message="Not for you")
    client.force_login(me)

    page = client.get(reverse("home")).content.decode()
    assert '<span class="badge">1' in page
    body = client.get(reverse("notifications")).content.decode()
    assert "Your message" in body
    assert "Not for you" not in body

    client.post(reverse("notifications"))
    assert not Notification.objects.filter(user=me, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=someone_else, read_at__isnull=True).exists()
    assert '<span class="badge">' not in client.get(reverse("home")).content.decode()


def test_empty_notification_page_says_so(client: Any) -> None:
    client.force_login(factories.UserFactory())
    assert "Nothing new" in client.get(reverse("notifications")).content.decode()
