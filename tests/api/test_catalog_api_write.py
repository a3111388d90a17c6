"""The catalog API's writes: coordinators of the host, through the catalog services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.middleware.csrf import get_token
from django.test import RequestFactory
from rest_framework.test import APIClient

from medexchange.catalog.choices import (
    HomeCountryRule,
    Level,
    OpportunityKind,
    OpportunityStatus,
)
from medexchange.catalog.models import Opportunity, Session
from medexchange.common.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def world(network: Any) -> dict[str, Any]:
    """Host A (Nairobi time) with a site, a draft and a session; host B with its own site."""
    host = factories.InstitutionFactory(slug="host-a", time_zone="Africa/Nairobi")
    other_host = factories.InstitutionFactory(slug="host-b")
    draft = factories.OpportunityFactory(
        host=host, slug="draft", status=OpportunityStatus.DRAFT, fee_notes="Cash only."
    )
    return {
        "host": host,
        "other_host": other_host,
        "site": factories.SiteFactory(institution=host),
        "other_site": factories.SiteFactory(institution=other_host),
        "draft": draft,
        "session": factories.SessionFactory(opportunity=draft),
        "coordinator": factories.coordinator_of(host),
        "other_coordinator": factories.coordinator_of(other_host),
        "applicant": factories.UserFactory(),
    }


def client_for(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def opportunity_body(world: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "host": world["host"].slug,
        "kind": OpportunityKind.CLINICAL_ELECTIVE.value,
        "title": "Emergency elective by API",
        "summary": "Four weeks in the emergency department.",
        "level": Level.UNDERGRADUATE.value,
        "specialty": "emergency-medicine",
        "duration_days": 28,
        "languages": [{"code": "en", "minimum_level": "B2"}],
        "sites": [world["site"].pk],
        "currency": "KES",
        "application_fee": "50.00",
    }
    body.update(changes)
    return body


def session_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "opportunity": "draft",
        "start_date": "2027-06-01",
        "end_date": "2027-06-28",
        "capacity": 3,
        # No offset: read in the host's time zone (Nairobi, UTC+3).
        "applications_open_at": "2027-01-01T00:00:00",
        "applications_close_at": "2027-04-30T23:59:00",
        "decision_date": "2027-05-10",
    }
    body.update(changes)
    return body


def audits(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action))


def errors(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, (response.status_code, response.content)
    body: dict[str, Any] = response.json()
    return body


# --- opportunities: create -----------------------------------------------------------


def test_a_coordinator_creates_a_draft_of_their_host(world: dict[str, Any]) -> None:
    response = client_for(world["coordinator"]).post(
        f"{API}/opportunities/", opportunity_body(world), format="json"
    )

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == OpportunityStatus.DRAFT
    assert data["host"]["slug"] == "host-a"
    assert data["slug"] == "emergency-elective-by-api"
    assert data["fees"]["application_fee"] == "50.00"
    assert data["languages"] == [{"code": "en", "minimum_level": "B2"}]
    assert [site["id"] for site in data["sites"]] == [world["site"].pk]
    created = Opportunity.objects.get(slug="emergency-elective-by-api")
    assert created.host == world["host"]
    assert created.languages == [{"code": "en", "level": "B2"}]
    [entry] = audits("opportunity.created")
    assert entry.actor == world["coordinator"]
    assert entry.target_id == str(created.pk)


def test_a_superuser_creates_for_any_host(world: dict[str, Any]) -> None:
    root = factories.UserFactory(is_staff=True, is_superuser=True)
    body = opportunity_body(world, host="host-b", sites=[world["other_site"].pk])

    response = client_for(root).post(f"{API}/opportunities/", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["host"]["slug"] == "host-b"


@pytest.mark.parametrize("role", ["other_coordinator", "applicant"])
@pytest.mark.parametrize("host", ["host-a", "no-such-host"])
def test_creating_for_a_host_one_does_not_coordinate_is_404(
    world: dict[str, Any], role: str, host: str
) -> None:
    before = Opportunity.objects.count()

    response = client_for(world[role]).post(
        f"{API}/opportunities/", opportunity_body(world, host=host), format="json"
    )

    # Another institution's host and a host that does not exist answer alike.
    assert response.status_code == 404
    assert Opportunity.objects.count() == before
    assert not audits("opportunity.created")


def test_the_host_is_checked_before_the_fields(world: dict[str, Any]) -> None:
    """Another coordinator learns nothing from field errors about a host not theirs."""
    response = client_for(world["other_coordinator"]).post(
        f"{API}/opportunities/", opportunity_body(world, kind="nonsense"), format="json"
    )

    assert response.status_code == 404


def test_network_staff_do_not_manage_catalogs(
    world: dict[str, Any], network: Any, staff_user: Any
) -> None:
    factories.MembershipFactory(institution=world["host"], network=network)

    response = client_for(staff_user).post(
        f"{API}/opportunities/", opportunity_body(world), format="json"
    )

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sites": "other_site"}, "sites"),
        ({"application_fee": "-5.00"}, "application_fee"),
        ({"monthly_housing_cost": "-1"}, "monthly_housing_cost"),
        ({"home_country_rule": HomeCountryRule.LISTED.value}, "eligible_countries"),
        ({"min_year_of_study": 5, "max_year_of_study": 3}, "max_year_of_study"),
        ({"currency": "usd"}, "currency"),
        ({"languages": [{"code": "xx", "minimum_level": "B2"}]}, "languages"),
        ({"languages": [{"code": "en", "minimum_level": "D9"}]}, "languages"),
        ({"kind": "holiday"}, "kind"),
        ({"specialty": "astrology"}, "specialty"),
        ({"duration_days": 0}, "duration_days"),
        ({"sites": [999999]}, "sites"),
        ({"eligible_countries": ["XX"]}, "eligible_countries"),
        ({"training_levels": "resident"}, "training_levels"),
        ({"host": ""}, "host"),
        ({"title": ""}, "title"),
    ],
)
def test_invalid_opportunities_are_400_naming_the_field(
    world: dict[str, Any], changes: dict[str, Any], field: str
) -> None:
    if changes.get("sites") == "other_site":
        changes["sites"] = [world["other_site"].pk]

    response = client_for(world["coordinator"]).post(
        f"{API}/opportunities/", opportunity_body(world, **changes), format="json"
    )

    assert field in errors(response)
    assert not audits("opportunity.created")


def test_a_missing_host_is_400(world: dict[str, Any]) -> None:
    body = opportunity_body(world)
    del body["host"]

    response = client_for(world["coordinator"]).post(f"{API}/opportunities/", body, format="json")

    assert "host" in errors(response)


def test_listed_countries_are_saved_and_shown(world: dict[str, Any]) -> None:
    body = opportunity_body(
        world, home_country_rule=HomeCountryRule.LISTED.value, eligible_countries=["GH", "PE"]
    )

    response = client_for(world["coordinator"]).post(f"{API}/opportunities/", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["eligibility"]["eligible_countries"] == ["GH", "PE"]


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        ('{"host": "host-a", ', "application/json", 400),
        ("not json at all", "application/json", 400),
        ('["a", "list"]', "application/json", 400),
        ("null", "application/json", 400),
        ("host=host-a&title=x", "application/x-www-form-urlencoded", 415),
    ],
)
def test_malformed_bodies_are_refused_never_500(
    world: dict[str, Any], content: str, content_type: str, status: int
) -> None:
    client = client_for(world["coordinator"])
    for url, method in (
        (f"{API}/opportunities/", "post"),
        (f"{API}/opportunities/draft/", "patch"),
        (f"{API}/opportunities/draft/unpublish/", "post"),
        (f"{API}/sessions/", "post"),
        (f"{API}/sessions/{world['session'].pk}/", "patch"),
        (f"{API}/sessions/{world['session'].pk}/cancel/", "post"),
    ):
        response = getattr(client, method)(url, content, content_type=content_type)
        assert response.status_code == status, (method, url, response.content)
    assert not AuditEntry.objects.exists()


# --- opportunities: edit, publish, unpublish, duplicate -------------------------------


def test_a_coordinator_edits_some_fields(world: dict[str, Any]) -> None:
    client = client_for(world["coordinator"])

    response = client.patch(
        f"{API}/opportunities/draft/",
        {"title": "A new title", "tuition_fee": "300.00", "sites": [world["site"].pk]},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["title"] == "A new title"
    draft = Opportunity.objects.get(pk=world["draft"].pk)
    assert (draft.title, draft.tuition_fee, draft.fee_notes) == (
        "A new title",
        Decimal("300.00"),
        "Cash only.",
    )
    assert draft.slug == "draft"
    [entry] = audits("opportunity.updated")
    assert entry.actor == world["coordinator"]
    assert set(entry.data) == {"title", "tuition_fee", "sites"}
    # Nothing changed: nothing audited.
    assert client.patch(f"{API}/opportunities/draft/", {}, format="json").status_code == 200
    assert len(audits("opportunity.updated")) == 1


def test_put_replaces_every_field(world: dict[str, Any]) -> None:
    draft = world["draft"]
    draft.sites.set([world["site"]])
    body = opportunity_body(world)
    del body["host"], body["sites"]

    response = client_for(world["coordinator"]).put(
        f"{API}/opportunities/draft/", body, format="json"
    )

    assert response.status_code == 200, response.content
    draft.refresh_from_db()
    # What was left out takes its default: no notes, no sites.
    assert draft.fee_notes == ""
    assert list(draft.sites.all()) == []
    assert draft.currency == "KES"
    body.pop("title")
    response = client_for(world["coordinator"]).put(
        f"{API}/opportunities/draft/", body, format="json"
    )
    assert "title" in errors(response)


def test_editing_rejects_a_site_of_another_host(world: dict[str, Any]) -> None:
    response = client_for(world["coordinator"]).patch(
        f"{API}/opportunities/draft/", {"sites": [world["other_site"].pk]}, format="json"
    )

    assert errors(response) == {"sites": ["Sites must belong to the host institution."]}
    assert list(world["draft"].sites.all()) == []


def test_the_host_cannot_be_changed(world: dict[str, Any]) -> None:
    response = client_for(world["coordinator"]).patch(
        f"{API}/opportunities/draft/", {"host": "host-b", "status": "published"}, format="json"
    )

    assert response.status_code == 200
    draft = Opportunity.objects.get(pk=world["draft"].pk)
    assert (draft.host, draft.status) == (world["host"], OpportunityStatus.DRAFT)


def test_publish_and_unpublish(world: dict[str, Any]) -> None:
    client = client_for(world["coordinator"])

    response = client.post(f"{API}/opportunities/draft/publish/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == OpportunityStatus.PUBLISHED
    [published] = audits("opportunity.published")
    assert (published.actor, published.from_state, published.to_state) == (
        world["coordinator"],
        OpportunityStatus.DRAFT,
        OpportunityStatus.PUBLISHED,
    )
    # Anyone now reads it.
    assert client_for().get(f"{API}/opportunities/draft/").status_code == 200
    assert errors(client.post(f"{API}/opportunities/draft/publish/")) == {
        "non_field_errors": ["This opportunity is already published."]
    }

    response = client.post(
        f"{API}/opportunities/draft/unpublish/", {"reason": "Ward closed"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == OpportunityStatus.UNPUBLISHED
    [unpublished] = audits("opportunity.unpublished")
    assert unpublished.reason == "Ward closed"
    assert client_for().get(f"{API}/opportunities/draft/").status_code == 404
    assert "non_field_errors" in errors(client.post(f"{API}/opportunities/draft/unpublish/"))


def test_publishing_an_invalid_opportunity_is_400(world: dict[str, Any]) -> None:
    Opportunity.objects.filter(pk=world["draft"].pk).update(home_country_rule="listed")

    response = client_for(world["coordinator"]).post(f"{API}/opportunities/draft/publish/")

    assert "eligible_countries" in errors(response)
    assert Opportunity.objects.get(pk=world["draft"].pk).status == OpportunityStatus.DRAFT


def test_duplicate(world: dict[str, Any]) -> None:
    response = client_for(world["coordinator"]).post(f"{API}/opportunities/draft/duplicate/")

    assert response.status_code == 201, response.content
    copy = response.json()
    assert copy["slug"] == "draft-copy"
    assert copy["status"] == OpportunityStatus.DRAFT
    assert copy["upcoming_sessions"] == []
    assert len(audits("opportunity.duplicated")) == 1


@pytest.mark.parametrize("role", ["other_coordinator", "applicant"])
def test_another_institutions_opportunity_is_404_on_every_write(
    world: dict[str, Any], role: str
) -> None:
    published = factories.OpportunityFactory(host=world["host"], slug="live")
    client = client_for(world[role])

    for slug in ("draft", "live", "no-such-opportunity"):
        url = f"{API}/opportunities/{slug}/"
        assert client.patch(url, {"title": "Mine"}, format="json").status_code == 404
        assert client.put(url, opportunity_body(world), format="json").status_code == 404
        for verb in ("publish", "unpublish", "duplicate"):
            assert client.post(f"{url}{verb}/").status_code == 404, (slug, verb)

    assert Opportunity.objects.count() == 2
    assert Opportunity.objects.get(pk=published.pk).status == OpportunityStatus.PUBLISHED
    assert Opportunity.objects.get(pk=world["draft"].pk).title == world["draft"].title
    assert not AuditEntry.objects.exists()


def test_nothing_is_deleted(world: dict[str, Any]) -> None:
    client = client_for(world["coordinator"])

    assert client.delete(f"{API}/opportunities/draft/").status_code == 405
    assert client.delete(f"{API}/sessions/{world['session'].pk}/").status_code == 405
    assert Opportunity.objects.filter(pk=world["draft"].pk).exists()
    assert Session.objects.filter(pk=world["session"].pk).exists()


# --- sessions ------------------------------------------------------------------------


def test_a_coordinator_adds_a_session_in_host_time(world: dict[str, Any]) -> None:
    response = client_for(world["coordinator"]).post(
        f"{API}/sessions/", session_body(), format="json"
    )

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["opportunity"] == "draft"
    assert data["applications_close_at"] == "2027-04-30T23:59:00+03:00"
    assert data["cancelled_at"] is None
    session = Session.objects.get(pk=data["id"])
    assert session.applications_close_at == dt.datetime(2027, 4, 30, 20, 59, tzinfo=dt.UTC)
    [entry] = audits("session.created")
    assert entry.actor == world["coordinator"]


def test_a_datetime_with_an_offset_keeps_it(world: dict[str, Any]) -> None:
    body = session_body(applications_close_at="2027-04-30T12:00:00Z", decision_date=None)

    response = client_for(world["coordinator"]).post(f"{API}/sessions/", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["applications_close_at"] == "2027-04-30T15:00:00+03:00"
    assert response.json()["decision_date"] is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end_date": "2027-05-31"}, "end_date"),
        ({"applications_close_at": "2026-12-31T00:00:00"}, "applications_close_at"),
        # Closing at 23:59 Nairobi time on the eve is fine; 00:01 on the first day is not.
        ({"applications_close_at": "2027-06-01T00:01:00"}, "applications_close_at"),
        ({"decision_date": "2027-06-01"}, "decision_date"),
        ({"decision_date": "2027-04-29"}, "decision_date"),
        ({"capacity": -1}, "capacity"),
        ({"capacity": "many"}, "capacity"),
        ({"start_date": "2027-02-30"}, "start_date"),
        ({"applications_open_at": "soon"}, "applications_open_at"),
        ({"opportunity": ""}, "opportunity"),
    ],
)
def test_invalid_sessions_are_400_naming_the_field(
    world: dict[str, Any], changes: dict[str, Any], field: str
) -> None:
    before = Session.objects.count()

    response = client_for(world["coordinator"]).post(
        f"{API}/sessions/", session_body(**changes), format="json"
    )

    assert field in errors(response)
    assert Session.objects.count() == before


@pytest.mark.parametrize("role", ["other_coordinator", "applicant"])
def test_another_institutions_sessions_are_404_on_every_write(
    world: dict[str, Any], role: str
) -> None:
    client = client_for(world[role])
    session = world["session"]

    for body in (session_body(), session_body(opportunity="no-such-opportunity")):
        assert client.post(f"{API}/sessions/", body, format="json").status_code == 404
    url = f"{API}/sessions/{session.pk}/"
    assert client.patch(url, {"capacity": 99}, format="json").status_code == 404
    assert client.put(url, session_body(), format="json").status_code == 404
    assert client.post(f"{url}cancel/").status_code == 404
    assert client.patch(f"{API}/sessions/999999/", {}, format="json").status_code == 404

    session.refresh_from_db()
    assert (session.capacity, session.cancelled_at) == (4, None)
    assert Session.objects.count() == 1
    assert not AuditEntry.objects.exists()


def test_a_coordinator_edits_a_session(world: dict[str, Any]) -> None:
    url = f"{API}/sessions/{world['session'].pk}/"
    client = client_for(world["coordinator"])

    response = client.patch(url, {"capacity": 8}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["capacity"] == 8
    [entry] = audits("session.updated")
    assert entry.data == {"capacity": ["4", "8"]}
    assert "end_date" in errors(client.patch(url, {"end_date": "2027-02-01"}, format="json"))
    assert Session.objects.get(pk=world["session"].pk).end_date == dt.date(2027, 3, 28)
    assert client.get("/api/v1/sessions/abc/").status_code == 404
    assert client.patch("/api/v1/sessions/abc/", {}, format="json").status_code == 404


def test_put_on_a_session_needs_every_field(world: dict[str, Any]) -> None:
    url = f"{API}/sessions/{world['session'].pk}/"
    client = client_for(world["coordinator"])
    body = session_body()
    del body["opportunity"], body["decision_date"]

    response = client.put(url, body, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["decision_date"] is None
    del body["capacity"]
    assert "capacity" in errors(client.put(url, body, format="json"))


def test_a_coordinator_cancels_a_session(world: dict[str, Any]) -> None:
    session = world["session"]
    client = client_for(world["coordinator"])

    response = client.post(
        f"{API}/sessions/{session.pk}/cancel/", {"reason": "No tutors"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["cancelled_at"] is not None
    [entry] = audits("session.cancelled")
    assert (entry.actor, entry.reason, entry.to_state) == (
        world["coordinator"],
        "No tutors",
        "cancelled",
    )
    # Gone from the public list; its host can no longer change it, and says why.
    assert client_for().get(f"{API}/sessions/{session.pk}/").status_code == 404
    assert "non_field_errors" in errors(client.post(f"{API}/sessions/{session.pk}/cancel/"))
    assert "non_field_errors" in errors(
        client.patch(f"{API}/sessions/{session.pk}/", {"capacity": 1}, format="json")
    )
    assert len(audits("session.cancelled")) == 1


# --- authentication ------------------------------------------------------------------


def test_anonymous_writes_are_403(world: dict[str, Any]) -> None:
    client = client_for()
    session_url = f"{API}/sessions/{world['session'].pk}/"
    for method, url, body in (
        ("post", f"{API}/opportunities/", opportunity_body(world)),
        ("patch", f"{API}/opportunities/draft/", {"title": "x"}),
        ("put", f"{API}/opportunities/draft/", opportunity_body(world)),
        ("delete", f"{API}/opportunities/draft/", None),
        ("post", f"{API}/opportunities/draft/publish/", None),
        ("post", f"{API}/opportunities/draft/unpublish/", None),
        ("post", f"{API}/opportunities/draft/duplicate/", None),
        ("post", f"{API}/sessions/", session_body()),
        ("patch", session_url, {"capacity": 1}),
        ("post", f"{session_url}cancel/", None),
    ):
        response = getattr(client, method)(url, body, format="json")
        # Session authentication only: DRF answers 403 (there is no WWW-Authenticate).
        assert response.status_code == 403, (method, url)
    assert not AuditEntry.objects.exists()


def test_session_writes_need_the_csrf_token(world: dict[str, Any]) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world["coordinator"])
    url = f"{API}/opportunities/draft/publish/"

    refused = client.post(url)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]

    request = RequestFactory().get("/")
    token = get_token(request)
    client.cookies["csrftoken"] = request.META["CSRF_COOKIE"]
    assert client.post(url, HTTP_X_CSRFTOKEN=token).status_code == 200


def test_reads_stay_public(world: dict[str, Any]) -> None:
    factories.OpportunityFactory(host=world["host"], slug="live")
    client = client_for()

    assert client.get(f"{API}/opportunities/live/").status_code == 200
    assert client.get(f"{API}/opportunities/draft/").status_code == 404
    assert client_for(world["coordinator"]).get(f"{API}/opportunities/draft/").status_code == 200
    assert client.get(f"{API}/opportunities/draft/publish/").status_code == 403
    assert (
        client_for(world["coordinator"]).get(f"{API}/opportunities/draft/publish/").status_code
        == 405
    )


def test_the_schema_documents_the_writes(client: Any) -> None:
    schema = client.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]

    assert {"get", "post"} <= set(paths["/api/v1/opportunities/"])
    assert {"get", "put", "patch"} <= set(paths["/api/v1/opportunities/{slug}/"])
    assert "delete" not in paths["/api/v1/opportunities/{slug}/"]
    for verb in ("publish", "unpublish", "duplicate"):
        assert set(paths[f"/api/v1/opportunities/{{slug}}/{verb}/"]) == {"post"}
    assert {"get", "post"} <= set(paths["/api/v1/sessions/"])
    assert {"get", "put", "patch"} <= set(paths["/api/v1/sessions/{id}/"])
    assert set(paths["/api/v1/sessions/{id}/cancel/"]) == {"post"}
