"""The opportunity page: everything an applicant needs, and who may see it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from medexchange.catalog.choices import OpportunityStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def opportunity(member: Any) -> Any:
    member.time_zone = "Africa/Nairobi"
    member.save()
    opportunity = factories.OpportunityFactory(
        host=member,
        slug="em-elective",
        title="Emergency elective",
        description="Line one <script>alert(1)</script>\n\nSecond paragraph",
        duration_days=28,
        application_fee=Decimal("50.00"),
        tuition_fee=Decimal("200.00"),
        international_surcharge=Decimal("100.00"),
        monthly_housing_cost=Decimal("300.00"),
        monthly_transport_cost=Decimal("40.00"),
        monthly_insurance_cost=Decimal("20.00"),
        waiver_for_lower_income=True,
        scholarship_eligible=True,
        languages=[{"code": "sw", "level": "B1"}],
        required_documents=["cv", "good_standing"],
        required_immunisations=["hepatitis_b"],
        contact_name="Wanjiru Kamau",
        contact_email="electives@nairobi.example",
    )
    factories.SessionFactory(
        opportunity=opportunity,
        capacity=6,
        applications_close_at=dt.datetime(2027, 1, 15, 12, 0, tzinfo=dt.UTC),
    )
    return opportunity


def test_everything_an_applicant_needs(client: Any, opportunity: Any) -> None:
    response = client.get("/opportunities/em-elective/")
    body = response.content.decode()
    assert response.status_code == 200
    # 28 days = 1.0 month: 50 + 200 fees, 300 housing, 40 transport, 20 insurance.
    assert "610.00 USD" in body
    assert "International applicants pay 100.00 USD more" in body
    assert "710.00 USD in all" in body
    assert "6 places left" in body
    assert "Swahili (at least B1)" in body
    assert "Letter of good standing" in body
    assert "Hepatitis B" in body
    assert "low and lower-middle income" in body
    assert "Eligible for scholarships." in body
    assert "electives@nairobi.example" in body
    session = opportunity.sessions.get()
    assert f'href="/sessions/{session.pk}/apply/"' in body
    assert "has not decided enough applications" in body
    assert 'id="opportunity-map"' in body
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<p>Second paragraph</p>" in body


def test_deadlines_in_the_host_and_the_viewer_time_zone(client: Any, opportunity: Any) -> None:
    client.force_login(factories.UserFactory(time_zone="America/Lima"))
    body = client.get("/opportunities/em-elective/").content.decode()
    # 12:00 UTC is 15:00 in Nairobi and 07:00 in Lima.
    assert "Africa/Nairobi" in body
    assert "America/Lima" in body
    assert "Jan. 15, 2027, 3 p.m." in body
    assert "Jan. 15, 2027, 7 a.m." in body


def test_back_link_keeps_the_filters_and_only_on_this_site(client: Any, opportunity: Any) -> None:
    body = client.get(
        "/opportunities/em-elective/?back=/opportunities/%3Fkind%3Dcourse"
    ).content.decode()
    assert 'href="/opportunities/?kind=course"' in body
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = client.get("/opportunities/em-elective/", {"back": evil})
        assert "Back to the search results" not in response.content.decode()


def test_drafts_404_for_the_public_and_other_coordinators(client: Any, opportunity: Any) -> None:
    opportunity.status = OpportunityStatus.DRAFT
    opportunity.save()
    assert client.get("/opportunities/em-elective/").status_code == 404
    client.force_login(factories.coordinator_of(factories.InstitutionFactory()))
    assert client.get("/opportunities/em-elective/").status_code == 404


def test_drafts_visible_to_the_hosts_coordinators(client: Any, opportunity: Any) -> None:
    opportunity.status = OpportunityStatus.DRAFT
    opportunity.save()
    client.force_login(factories.coordinator_of(opportunity.host))
    response = client.get("/opportunities/em-elective/")
    assert response.status_code == 200
    assert "Only the host's coordinators see this page." in response.content.decode()


def test_unknown_slug_is_404(client: Any, db: Any) -> None:
    assert client.get("/opportunities/nothing-here/").status_code == 404


def test_no_inline_script(client: Any, opportunity: Any) -> None:
    body = client.get("/opportunities/em-elective/").content.decode()
    assert "<script>" not in body
    assert "onclick" not in body


def test_places_left_and_time_to_decision_come_from_applications(
    client: Any, opportunity: Any
) -> None:
    from django.utils import timezone

    from medexchange.applications.models import Application, Placement

    session = opportunity.sessions.get()
    now = timezone.now()
    for days, state in ((2, "accepted"), (4, "declined"), (9, "waitlisted")):
        application = Application.objects.create(
            applicant=factories.UserFactory(),
            session=session,
            state=state,
            submitted_at=now - dt.timedelta(days=20),
            reached_host_at=now - dt.timedelta(days=20),
            decided_at=now - dt.timedelta(days=20 - days),
        )
        if state == "accepted":
            Placement.objects.create(application=application, session=session)
    body = client.get("/opportunities/em-elective/").content.decode()
    assert "5 places left" in body
    assert "usually decides within 4 days" in body
