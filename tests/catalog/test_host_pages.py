"""Host pages: the owner's coordinator works; anyone else gets 404 (or the login page)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from medexchange.catalog.choices import OpportunityStatus
from medexchange.catalog.models import Opportunity, Session, Specialty
from medexchange.common.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def opportunity(member: Any) -> Any:
    return factories.OpportunityFactory(host=member, status=OpportunityStatus.DRAFT)


@pytest.fixture
def session(opportunity: Any) -> Any:
    return factories.SessionFactory(opportunity=opportunity)


@pytest.fixture
def owner(member: Any) -> Any:
    return factories.coordinator_of(member)


@pytest.fixture
def other_coordinator(network: Any) -> Any:
    other = factories.InstitutionFactory(name="Fictional Other School")
    factories.MembershipFactory(institution=other, network=network)
    return factories.coordinator_of(other)


def all_urls(member: Any, opportunity: Any, session: Any) -> list[str]:
    return [
        reverse("catalog:host-opportunities", args=[member.slug]),
        reverse("catalog:opportunity-add", args=[member.slug]),
        reverse("catalog:opportunity-import", args=[member.slug]),
        reverse("catalog:opportunity-export", args=[member.slug]),
        reverse("catalog:opportunity-edit", args=[opportunity.slug]),
        reverse("catalog:opportunity-duplicate", args=[opportunity.slug]),
        reverse("catalog:opportunity-status", args=[opportunity.slug]),
        reverse("catalog:session-add", args=[opportunity.slug]),
        reverse("catalog:session-generate", args=[opportunity.slug]),
        reverse("catalog:session-edit", args=[session.pk]),
        reverse("catalog:session-cancel", args=[session.pk]),
    ]


def opportunity_form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "exchange_program",
        "title": "One-month EM exchange",
        "summary": "Rotate through three hospitals.",
        "description": "",
        "level": "postgraduate",
        "specialty": str(Specialty.objects.get(code="emergency-medicine").pk),
        "duration_days": "30",
        "training_levels": ["resident"],
        "home_country_rule": "any",
        "required_documents": ["cv", "good_standing"],
        "required_immunisations": [],
        "currency": "USD",
        "application_fee": "0",
        "tuition_fee": "0",
        "international_surcharge": "0",
        "accommodation": "host_housing",
        "monthly_housing_cost": "300",
        "monthly_transport_cost": "40",
        "monthly_insurance_cost": "30",
        "language_1": "es",
        "language_level_1": "B2",
    }
    data.update(overrides)
    return data


def session_form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "start_date": "2027-03-01",
        "end_date": "2027-03-28",
        "capacity": "4",
        "opens_on": "2026-10-01",
        "opens_time": "00:00",
        "closes_on": "2027-01-15",
        "closes_time": "23:59",
        "decision_date": "2027-02-01",
    }
    data.update(overrides)
    return data


# --------------------------------------------------------------------------- authorization


def test_anonymous_is_sent_to_sign_in(client: Any, member: Any, opportunity: Any, session: Any):
    for url in all_urls(member, opportunity, session):
        response = client.get(url)
        assert response.status_code == 302, url
        assert reverse("account_login") in response["Location"]
        assert client.post(url).status_code == 302


def test_other_coordinator_gets_404_everywhere_and_changes_nothing(
    client: Any, member: Any, opportunity: Any, session: Any, other_coordinator: Any
) -> None:
    client.force_login(other_coordinator)
    for url in all_urls(member, opportunity, session):
        assert client.get(url).status_code == 404, url
    posts = {
        reverse("catalog:opportunity-add", args=[member.slug]): opportunity_form_data(),
        reverse("catalog:opportunity-edit", args=[opportunity.slug]): opportunity_form_data(
            title="Hijacked"
        ),
        reverse("catalog:opportunity-duplicate", args=[opportunity.slug]): {},
        reverse("catalog:opportunity-status", args=[opportunity.slug]): {"action": "publish"},
        reverse("catalog:session-add", args=[opportunity.slug]): session_form_data(),
        reverse("catalog:session-edit", args=[session.pk]): session_form_data(capacity="99"),
        reverse("catalog:session-cancel", args=[session.pk]): {},
        reverse("catalog:session-generate", args=[opportunity.slug]): {"action": "create"},
        reverse("catalog:opportunity-import", args=[member.slug]): {"action": "import"},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 404, url
    opportunity.refresh_from_db()
    session.refresh_from_db()
    assert opportunity.title.startswith("Fictional Emergency Elective")
    assert opportunity.status == OpportunityStatus.DRAFT
    assert session.capacity == 4
    assert session.cancelled_at is None
    assert Opportunity.objects.count() == 1
    assert Session.objects.count() == 1
    assert not AuditEntry.objects.filter(action__startswith="opportunity.").exists()
    assert not AuditEntry.objects.filter(action__startswith="session.").exists()


@pytest.mark.parametrize("who", ["applicant", "staff"])
def test_applicants_and_network_staff_get_404(
    client: Any, member: Any, opportunity: Any, session: Any, staff_user: Any, who: str
) -> None:
    client.force_login(factories.UserFactory() if who == "applicant" else staff_user)
    for url in all_urls(member, opportunity, session):
        assert client.get(url).status_code == 404, url


def test_superuser_gets_the_pages(client: Any, member: Any, opportunity: Any, session: Any) -> None:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    admin = factories.UserFactory(is_superuser=True, is_staff=True)
    TOTP.activate(admin, generate_totp_secret())
    client.force_login(admin)
    for url in all_urls(member, opportunity, session):
        assert client.get(url).status_code == 200, url


# --------------------------------------------------------------------------- owner pages


def test_list_shows_drafts_counts_and_next_session(
    client: Any, owner: Any, member: Any, opportunity: Any, session: Any
) -> None:
    factories.SessionFactory(
        opportunity=opportunity,
        start_date=dt.date(2027, 6, 1),
        end_date=dt.date(2027, 6, 28),
        applications_close_at=dt.datetime(2027, 4, 1, tzinfo=dt.UTC),
    )
    factories.OpportunityFactory()  # someone else's
    client.force_login(owner)
    response = client.get(reverse("catalog:host-opportunities", args=[member.slug]))
    assert response.status_code == 200
    page = response.content.decode()
    assert opportunity.title in page
    assert "Draft" in page
    assert response.context["opportunities"][0].session_count == 2
    assert response.context["opportunities"][0].next_start == dt.date(2027, 3, 1)
    assert len(response.context["opportunities"]) == 1


def test_list_empty_state(client: Any, owner: Any, member: Any) -> None:
    client.force_login(owner)
    response = client.get(reverse("catalog:host-opportunities", args=[member.slug]))
    assert "has no opportunities yet" in response.content.decode()


def test_list_query_count_is_fixed(
    client: Any, owner: Any, member: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        factories.SessionFactory(opportunity=factories.OpportunityFactory(host=member))
    client.force_login(owner)
    with django_assert_max_num_queries(12):
        client.get(reverse("catalog:host-opportunities", args=[member.slug]))


def test_add_opportunity(client: Any, owner: Any, member: Any) -> None:
    site = factories.SiteFactory(institution=member)
    client.force_login(owner)
    url = reverse("catalog:opportunity-add", args=[member.slug])
    page = client.get(url)
    assert page.status_code == 200
    assert site.name in page.content.decode()
    response = client.post(url, opportunity_form_data(sites=[site.pk]))
    assert response.status_code == 302, response.context["form"].errors
    created = Opportunity.objects.get(title="One-month EM exchange")
    assert created.host == member
    assert created.status == OpportunityStatus.DRAFT
    assert created.languages == [{"code": "es", "level": "B2"}]
    assert created.training_levels == ["resident"]
    assert list(created.sites.all()) == [site]
    assert AuditEntry.objects.filter(action="opportunity.created", actor=owner).exists()


def test_add_rejects_another_hosts_site_and_bad_language(client: Any, owner: Any, member: Any):
    foreign = factories.SiteFactory()
    client.force_login(owner)
    url = reverse("catalog:opportunity-add", args=[member.slug])
    response = client.post(url, opportunity_form_data(sites=[foreign.pk]))
    assert response.status_code == 200
    assert "sites" in response.context["form"].errors
    response = client.post(url, opportunity_form_data(language_level_1=""))
    assert "language_level_1" in response.context["form"].errors
    response = client.post(url, opportunity_form_data(home_country_rule="listed"))
    assert 'role="alert"' in response.content.decode()
    assert "eligible_countries" in response.context["form"].errors
    assert not Opportunity.objects.exists()


def test_edit_opportunity_shows_sessions_and_saves(
    client: Any, owner: Any, opportunity: Any, session: Any
) -> None:
    client.force_login(owner)
    url = reverse("catalog:opportunity-edit", args=[opportunity.slug])
    page = client.get(url)
    assert page.status_code == 200
    assert reverse("catalog:session-edit", args=[session.pk]) in page.content.decode()
    response = client.post(url, opportunity_form_data(title="Renamed"))
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.title == "Renamed"
    assert AuditEntry.objects.get(action="opportunity.updated").data["title"][1] == "Renamed"


def test_duplicate_confirm_then_copy(client: Any, owner: Any, opportunity: Any, session: Any):
    client.force_login(owner)
    url = reverse("catalog:opportunity-duplicate", args=[opportunity.slug])
    assert client.get(url).status_code == 200
    assert Opportunity.objects.count() == 1
    response = client.post(url)
    copy = Opportunity.objects.exclude(pk=opportunity.pk).get()
    assert response["Location"] == reverse("catalog:opportunity-edit", args=[copy.slug])
    assert copy.title.endswith("(copy)")
    assert copy.sessions.count() == 0
    assert AuditEntry.objects.filter(action="opportunity.duplicated").count() == 1


def test_publish_and_unpublish_pages(client: Any, owner: Any, opportunity: Any) -> None:
    client.force_login(owner)
    url = reverse("catalog:opportunity-status", args=[opportunity.slug])
    assert "Publish" in client.get(url).content.decode()
    assert client.post(url, {"action": "publish"}).status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.status == OpportunityStatus.PUBLISHED
    response = client.post(url, {"action": "publish"})
    assert response.status_code == 400
    assert "already published" in response.content.decode()
    assert client.post(url, {"action": "unpublish"}).status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.status == OpportunityStatus.UNPUBLISHED
    assert client.post(url, {"action": "explode"}).status_code == 400
    actions = list(
        AuditEntry.objects.filter(action__startswith="opportunity.").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["opportunity.published", "opportunity.unpublished"]


def test_session_add_in_host_time_zone(client: Any, owner: Any, member: Any) -> None:
    member.time_zone = "Pacific/Auckland"
    member.save()
    opportunity = factories.OpportunityFactory(host=member)
    client.force_login(owner)
    url = reverse("catalog:session-add", args=[opportunity.slug])
    page = client.get(url).content.decode()
    assert "Pacific/Auckland" in page
    # 00:30 on the start day in Auckland: after the session starts there.
    response = client.post(
        url,
        session_form_data(closes_on="2027-03-01", closes_time="00:30", decision_date=""),
    )
    assert response.status_code == 200
    assert "closes_on" in response.context["form"].errors
    assert not Session.objects.exists()
    response = client.post(url, session_form_data(closes_on="2027-01-15", closes_time="23:59"))
    assert response.status_code == 302
    session = Session.objects.get()
    assert session.applications_close_at == dt.datetime(2027, 1, 15, 10, 59, tzinfo=dt.UTC)


def test_session_edit_and_bad_input(client: Any, owner: Any, session: Any) -> None:
    client.force_login(owner)
    url = reverse("catalog:session-edit", args=[session.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'value="2027-03-01"' in page.content.decode()
    response = client.post(url, session_form_data(capacity="-3"))
    assert response.status_code == 200
    response = client.post(url, session_form_data(start_date="not a date"))
    assert "start_date" in response.context["form"].errors
    response = client.post(url, session_form_data(end_date="2027-02-01"))
    assert "end_date" in response.context["form"].errors
    session.refresh_from_db()
    assert session.capacity == 4
    assert client.post(url, session_form_data(capacity="7")).status_code == 302
    session.refresh_from_db()
    assert session.capacity == 7


def test_session_cancel_confirm_then_cancel(client: Any, owner: Any, session: Any) -> None:
    client.force_login(owner)
    url = reverse("catalog:session-cancel", args=[session.pk])
    assert client.get(url).status_code == 200
    session.refresh_from_db()
    assert session.cancelled_at is None
    assert client.post(url, {"reason": "Flooding"}).status_code == 302
    session.refresh_from_db()
    assert session.cancelled_at is not None
    assert AuditEntry.objects.get(action="session.cancelled").reason == "Flooding"
    response = client.post(url, {"reason": "Again"})
    assert response.status_code == 200
    assert "already cancelled" in response.content.decode()


def test_generate_previews_then_creates(client: Any, owner: Any, opportunity: Any) -> None:
    client.force_login(owner)
    url = reverse("catalog:session-generate", args=[opportunity.slug])
    assert client.get(url).status_code == 200
    data = {
        "first_start": "2026-12-01",
        "recurrence": "monthly",
        "count": "3",
        "capacity": "2",
        "open_days_before": "90",
        "close_days_before": "30",
        "decision_days_before": "10",
    }
    preview = client.post(url, {**data, "action": "preview"})
    assert preview.status_code == 200
    assert len(preview.context["planned"]) == 3
    assert "Create these sessions" in preview.content.decode()
    assert not Session.objects.exists()
    response = client.post(url, {**data, "action": "create"})
    assert response.status_code == 302
    assert [s.start_date.month for s in Session.objects.order_by("start_date")] == [12, 1, 2]
    assert AuditEntry.objects.filter(action="session.generated").count() == 3


def test_generate_shows_errors(client: Any, owner: Any, opportunity: Any) -> None:
    client.force_login(owner)
    url = reverse("catalog:session-generate", args=[opportunity.slug])
    response = client.post(
        url,
        {
            "first_start": "2026-12-01",
            "recurrence": "monthly",
            "count": "3",
            "capacity": "2",
            "open_days_before": "10",
            "close_days_before": "30",
            "action": "create",
        },
    )
    assert response.status_code == 200
    assert "open_days_before" in response.context["form"].errors
    assert not Session.objects.exists()
