"""``load_demo`` builds the demo funds and a scholarship call, and ``--reset`` replaces
them: the fund pages and the reports open on the demo data."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from medexchange.accounts.models import User
from medexchange.funding.models import Donation, Fund, LedgerEntry
from medexchange.funding.selectors import fund_totals_many
from medexchange.scholarships.models import ScholarshipCall

pytestmark = pytest.mark.django_db


def test_the_demo_has_funds_with_gifts_and_a_scholarship_call(client: Any) -> None:
    out = StringIO()
    call_command("load_demo", "--seed", "1", "--institutions", "120", stdout=out)
    assert "Funds of " in out.getvalue()
    assert "/funding/global/" in out.getvalue()
    funds = list(Fund.objects.filter(network__slug="global"))
    assert {"general", "em-residents", "faculty-travel"} <= {fund.slug for fund in funds}
    totals = fund_totals_many(funds)
    assert all(totals[fund.pk].held >= totals[fund.pk].committed >= 0 for fund in funds)
    assert ScholarshipCall.objects.filter(network__slug="global").count() == 1

    page = client.get(reverse("funding:fund", kwargs={"network": "global", "fund": "general"}))
    assert page.status_code == 200
    assert "<svg" in page.content.decode()  # the demo gifts draw the chart
    client.force_login(User.objects.get(email="staff@demo.medexchange.test"))
    assert client.get(reverse("funding:reports", kwargs={"network": "global"})).status_code == 200

    gifts = Donation.objects.count()
    call_command("load_demo", "--seed", "1", "--institutions", "120", "--reset", stdout=StringIO())
    assert Donation.objects.count() == gifts  # replaced, not added
    assert ScholarshipCall.objects.count() == 1
    assert LedgerEntry.objects.filter(fund__network__slug="global").exists()
