"""The demo builds agreements in every status, consistent with their quotas."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from medexchange.agreements import selectors
from medexchange.agreements.choices import AgreementStatus
from medexchange.agreements.models import Agreement
from medexchange.applications.models import Application

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_demo_agreements_cover_every_status_and_respect_quotas(client: Any) -> None:
    out = StringIO()
    call_command("load_demo", "--seed", "1", "--reset", stdout=out)
    assert "Agreements:" in out.getvalue()
    statuses = set(Agreement.objects.values_list("status", flat=True))
    assert statuses == set(AgreementStatus)
    assert Agreement.objects.filter(network__isnull=False, status="active").exists()
    attached = Application.objects.filter(agreement__isnull=False)
    assert attached.exists()
    for agreement in Agreement.objects.filter(applications__isnull=False).distinct():
        for line in selectors.quota_lines(agreement):
            assert line.used <= line.quota.amount
    coordinator = Agreement.objects.filter(status="active", network__isnull=True).first()
    assert coordinator is not None
    from medexchange.accounts.models import User

    user = User.objects.get(email="coordinator@demo.medexchange.test")
    client.force_login(user)
    page = client.get(coordinator.get_absolute_url())
    assert page.status_code == 200
    assert "Reciprocity ledger" in page.content.decode()
    # A reset replaces them.
    call_command("load_demo", "--seed", "1", "--reset", stdout=StringIO())
    assert Agreement.objects.filter(status="active").count() == 3
