"""A signed-in person's language and time zone hold for their request only."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from tests import factories

pytestmark = pytest.mark.django_db


def test_a_request_in_arabic_leaves_nothing_active_behind_it(client: Any) -> None:
    person = factories.UserFactory(preferred_language="ar", time_zone="Asia/Karachi")
    client.force_login(person)
    response = client.get(reverse("notifications"))  # a page never cached
    assert response.status_code == 200
    assert response["Content-Language"] == "ar"
    assert 'lang="ar"' in response.content.decode()
    # The next request, or a test after this one, is not in Arabic nor in Karachi's time.
    assert translation.get_language() != "ar"
    assert timezone.get_current_timezone_name() != "Asia/Karachi"
