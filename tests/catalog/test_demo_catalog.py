"""`load_demo` builds a realistic, deterministic catalog on the demo network."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from medexchange.catalog import demo as catalog_demo
from medexchange.catalog.choices import HomeCountryRule, OpportunityKind, OpportunityStatus
from medexchange.catalog.models import Opportunity, Session
from medexchange.network.choices import MembershipStatus
from medexchange.network.models import Institution, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def loaded(db: Any) -> str:
    return load("--seed", "1", "--reset")


def catalog_snapshot() -> list[tuple[str, str]]:
    return list(Opportunity.objects.order_by("slug").values_list("slug", "title"))


def highlight(output: str, label: str) -> Opportunity:
    line = next(line for line in output.splitlines() if line.strip().startswith(f"{label}:"))
    slug = line.rstrip("/").rsplit("/", 1)[-1]
    return Opportunity.objects.get(slug=slug)


def test_catalog_is_large_and_has_every_kind(loaded: str) -> None:
    assert Opportunity.objects.count() >= 1500
    assert Session.objects.count() >= 6000
    assert set(Opportunity.objects.values_list("kind", flat=True)) == set(OpportunityKind.values)
    statuses = Opportunity.objects.values_list("status", flat=True)
    assert set(statuses) == set(OpportunityStatus.values)
    assert Opportunity.objects.published().count() >= 0.85 * Opportunity.objects.count()
    assert "Demo catalog loaded" in loaded
    start = catalog_demo.first_day_of_next_month(timezone.localdate())
    assert f"from {start:%Y-%m-%d}" in loaded


def test_only_active_members_host_and_each_has_its_city_time_zone(loaded: str) -> None:
    active = Membership.objects.filter(status=MembershipStatus.ACTIVE).values("institution")
    assert not Opportunity.objects.exclude(host__in=active).exists()
    hosts = Institution.objects.filter(pk__in=Opportunity.objects.values("host"))
    zones = set(hosts.values_list("time_zone", flat=True))
    assert "Africa/Nairobi" in zones and "UTC" not in zones
    assert len(zones) > 20


def test_sessions_run_over_two_years_with_windows_in_the_hosts_time_zone(loaded: str) -> None:
    start = catalog_demo.first_day_of_next_month(timezone.localdate())
    dates = Session.objects.values_list("start_date", flat=True)
    assert min(dates) >= start
    assert max(dates) < catalog_demo.add_months(start, 24)
    for session in Session.objects.select_related("opportunity__host").order_by("pk")[::97]:
        session.full_clean()
        zone = ZoneInfo(session.opportunity.host.time_zone)
        opens = session.applications_open_at.astimezone(zone)
        closes = session.applications_close_at.astimezone(zone)
        assert (opens.hour, opens.minute, closes.hour, closes.minute) == (0, 0, 23, 59)
        assert 110 <= (session.start_date - opens.date()).days <= 130
        assert (session.start_date - closes.date()).days == 42
        assert session.capacity >= 1


def test_opportunities_are_valid_and_complete(loaded: str) -> None:
    for opportunity in Opportunity.objects.select_related("host").order_by("pk")[::23]:
        opportunity.full_clean()
        assert opportunity.summary and "## What you will do" in opportunity.description
        assert opportunity.languages
        assert {row["code"] for row in opportunity.languages} <= set(opportunity.host.languages)
        assert all(row["level"] in {"A2", "B1", "B2"} for row in opportunity.languages)
        assert len(opportunity.currency) == 3
        assert opportunity.cost_estimate()["total"] > 0
    assert Opportunity.objects.values("currency").distinct().count() > 10


def test_the_promised_opportunities_are_there(loaded: str) -> None:
    exchange = highlight(loaded, "exchange program")
    assert exchange.kind == OpportunityKind.EXCHANGE_PROGRAM
    assert exchange.duration_days == 28
    assert exchange.specialty.code == "emergency-medicine"
    sites = list(exchange.sites.all())
    assert len(sites) >= 3
    assert {site.institution_id for site in sites} == {exchange.host_id}
    assert {site.city for site in sites} == {exchange.host.city}
    assert exchange.sessions.count() >= 4

    residency = highlight(loaded, "residency track")
    assert residency.kind == OpportunityKind.RESIDENCY_TRACK
    assert residency.home_country_rule == HomeCountryRule.LISTED
    assert [str(c.code) for c in residency.eligible_countries.all()] == ["HT"]
    sessions = list(residency.sessions.all())
    assert len(sessions) == 2
    assert {session.capacity for session in sessions} == {2}
    assert {session.start_date.month for session in sessions} == {7}

    fellowship = highlight(loaded, "fellowship")
    assert fellowship.kind == OpportunityKind.FELLOWSHIP
    assert fellowship.duration_days == 365
    assert fellowship.specialty.code == "emergency-medicine"
    assert "International" in fellowship.title

    for label, word in (
        ("ultrasound course", "ultrasound"),
        ("toxicology course", "toxicology"),
        ("ecg course", "ECG"),
    ):
        course = highlight(loaded, label)
        assert course.kind == OpportunityKind.COURSE
        assert word in course.title
        assert course.status == OpportunityStatus.PUBLISHED
        assert course.sessions.exists()


def test_same_seed_same_catalog_and_reset_works_twice(db: Any) -> None:
    load("--seed", "5", "--reset")
    first = catalog_snapshot()
    first_sessions = Session.objects.count()
    load("--seed", "5", "--reset")
    assert catalog_snapshot() == first
    assert Session.objects.count() == first_sessions
    load("--seed", "6", "--reset")
    assert catalog_snapshot() != first


def test_build_does_not_depend_on_today(db: Any) -> None:
    load("--seed", "3", "--reset")
    catalog_demo.delete_demo_catalog()
    assert not Opportunity.objects.exists()
    summary = catalog_demo.build_demo_catalog(seed=3, start=dt.date(2030, 1, 1))
    assert summary.start == dt.date(2030, 1, 1)
    assert min(Session.objects.values_list("start_date", flat=True)) >= dt.date(2030, 1, 1)
    assert summary.opportunities == Opportunity.objects.count()
    assert summary.sessions == Session.objects.count()
    assert set(summary.highlights) == {
        "exchange_program",
        "residency_track",
        "fellowship",
        "ultrasound_course",
        "toxicology_course",
        "ecg_course",
    }
