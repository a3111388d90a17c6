"""Every rule of the catalog's host-side services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from medexchange.catalog import services
from medexchange.catalog.choices import HomeCountryRule, OpportunityStatus, Recurrence
from medexchange.catalog.models import Opportunity, Session, Specialty
from medexchange.common.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def values(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "clinical_elective",
        "title": "Emergency Medicine Elective",
        "summary": "Four weeks in the emergency department.",
        "level": "undergraduate",
        "specialty": Specialty.objects.get(code="emergency-medicine"),
        "languages": [{"code": "en", "level": "B2"}],
        "duration_days": 28,
        "training_levels": ["student"],
        "required_documents": ["cv"],
        "required_immunisations": ["hepatitis_b"],
        "currency": "USD",
        "application_fee": Decimal("50.00"),
    }
    data.update(overrides)
    return data


def session_values(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "start_date": dt.date(2027, 3, 1),
        "end_date": dt.date(2027, 3, 28),
        "capacity": 4,
        "applications_open_at": dt.datetime(2026, 10, 1, tzinfo=UTC),
        "applications_close_at": dt.datetime(2027, 1, 15, 12, tzinfo=UTC),
        "decision_date": dt.date(2027, 2, 1),
    }
    data.update(overrides)
    return data


@pytest.fixture
def host(member: Any) -> Any:
    return member


@pytest.fixture
def actor(host: Any) -> Any:
    return factories.coordinator_of(host)


def error_fields(excinfo: Any) -> set[str]:
    return set(excinfo.value.message_dict)


# --------------------------------------------------------------------------- create / update


def test_create_makes_a_draft_with_a_slug_and_audits(host: Any, actor: Any) -> None:
    site = factories.SiteFactory(institution=host)
    kenya = factories.country("KE")
    opportunity = services.opportunity_create(
        host=host, actor=actor, values=values(), sites=[site], eligible_countries=[kenya]
    )
    assert opportunity.status == OpportunityStatus.DRAFT
    assert opportunity.slug == "emergency-medicine-elective"
    assert list(opportunity.sites.all()) == [site]
    assert list(opportunity.eligible_countries.all()) == [kenya]
    entry = AuditEntry.objects.get(action="opportunity.created")
    assert entry.actor == actor
    assert entry.to_state == "draft"


def test_second_opportunity_with_same_title_gets_a_unique_slug(host: Any, actor: Any) -> None:
    first = services.opportunity_create(host=host, actor=actor, values=values())
    second = services.opportunity_create(host=host, actor=actor, values=values())
    assert first.slug != second.slug


def test_explicit_slug_already_used_is_rejected(host: Any, actor: Any) -> None:
    factories.OpportunityFactory(slug="taken")
    with pytest.raises(ValidationError) as excinfo:
        services.opportunity_create(host=host, actor=actor, values=values(slug="taken"))
    assert "slug" in error_fields(excinfo)


def test_sites_must_belong_to_the_host(host: Any, actor: Any) -> None:
    foreign = factories.SiteFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.opportunity_create(host=host, actor=actor, values=values(), sites=[foreign])
    assert "sites" in error_fields(excinfo)
    assert not Opportunity.objects.exists()


@pytest.mark.parametrize(
    "languages",
    [
        [{"code": "xx", "level": "B2"}],
        [{"code": "en", "level": "D1"}],
        [{"code": "en"}],
        ["en"],
        [{"code": "en", "level": "B2"}, {"code": "en", "level": "C1"}],
        "en",
    ],
)
def test_languages_need_known_codes_and_cefr_levels(host: Any, actor: Any, languages: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.opportunity_create(host=host, actor=actor, values=values(languages=languages))
    assert "languages" in error_fields(excinfo)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("training_levels", ["surgeon"]),
        ("training_levels", "student"),
        ("required_documents", ["tax_return"]),
        ("required_immunisations", ["smallpox"]),
    ],
)
def test_lists_must_come_from_their_choices(host: Any, actor: Any, field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.opportunity_create(host=host, actor=actor, values=values(**{field: value}))
    assert field in error_fields(excinfo)


def test_listed_countries_rule_needs_a_country(host: Any, actor: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.opportunity_create(
            host=host, actor=actor, values=values(home_country_rule=HomeCountryRule.LISTED)
        )
    assert "eligible_countries" in error_fields(excinfo)
    opportunity = services.opportunity_create(
        host=host,
        actor=actor,
        values=values(home_country_rule=HomeCountryRule.LISTED),
        eligible_countries=[factories.country("HT")],
    )
    assert opportunity.pk


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"min_year_of_study": 5, "max_year_of_study": 3}, "max_year_of_study"),
        ({"application_fee": Decimal("-1")}, "application_fee"),
        ({"duration_days": 0}, "duration_days"),
        ({"currency": "dollars"}, "currency"),
        ({"kind": "holiday"}, "kind"),
        ({"title": ""}, "title"),
    ],
)
def test_model_rules_are_enforced(host: Any, actor: Any, overrides: Any, field: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.opportunity_create(host=host, actor=actor, values=values(**overrides))
    assert field in error_fields(excinfo)


def test_unknown_field_is_a_programming_error(host: Any, actor: Any) -> None:
    with pytest.raises(ValueError, match="status"):
        services.opportunity_create(host=host, actor=actor, values=values(status="published"))


def test_update_audits_only_real_changes(host: Any, actor: Any) -> None:
    opportunity = services.opportunity_create(host=host, actor=actor, values=values())
    services.opportunity_update(opportunity=opportunity, actor=actor, values=values())
    assert not AuditEntry.objects.filter(action="opportunity.updated").exists()
    site = factories.SiteFactory(institution=host)
    services.opportunity_update(
        opportunity=opportunity, actor=actor, values={"title": "New title"}, sites=[site]
    )
    entry = AuditEntry.objects.get(action="opportunity.updated")
    assert entry.data["title"] == ["Emergency Medicine Elective", "New title"]
    assert "sites" in entry.data
    opportunity.refresh_from_db()
    assert opportunity.title == "New title"


def test_update_rejected_leaves_the_row_unchanged(host: Any, actor: Any) -> None:
    opportunity = services.opportunity_create(host=host, actor=actor, values=values())
    with pytest.raises(ValidationError):
        services.opportunity_update(
            opportunity=opportunity, actor=actor, values={"training_levels": ["nope"]}
        )
    opportunity.refresh_from_db()
    assert opportunity.training_levels == ["student"]


# --------------------------------------------------------------------------- duplicate, publish


def test_duplicate_copies_as_draft_without_sessions(host: Any, actor: Any) -> None:
    site = factories.SiteFactory(institution=host)
    original = services.opportunity_create(
        host=host,
        actor=actor,
        values=values(home_country_rule=HomeCountryRule.LISTED),
        sites=[site],
        eligible_countries=[factories.country("HT")],
    )
    services.opportunity_publish(opportunity=original, actor=actor)
    factories.SessionFactory(opportunity=original)

    copy = services.opportunity_duplicate(opportunity=original, actor=actor)

    assert copy.pk != original.pk
    assert copy.slug != original.slug
    assert copy.title == "Emergency Medicine Elective (copy)"
    assert copy.status == OpportunityStatus.DRAFT
    assert copy.published_at is None
    assert list(copy.sites.all()) == [site]
    assert [str(c.code) for c in copy.eligible_countries.all()] == ["HT"]
    assert copy.sessions.count() == 0
    assert copy.application_fee == Decimal("50.00")
    entry = AuditEntry.objects.get(action="opportunity.duplicated")
    assert entry.data["source"] == original.slug
    second = services.opportunity_duplicate(opportunity=original, actor=actor)
    assert second.slug not in {original.slug, copy.slug}


def test_publish_and_unpublish_are_audited_with_states(host: Any, actor: Any) -> None:
    opportunity = services.opportunity_create(host=host, actor=actor, values=values())
    published = services.opportunity_publish(opportunity=opportunity, actor=actor)
    assert published.status == OpportunityStatus.PUBLISHED
    assert published.published_at is not None
    entry = AuditEntry.objects.get(action="opportunity.published")
    assert (entry.from_state, entry.to_state) == ("draft", "published")

    with pytest.raises(ValidationError):
        services.opportunity_publish(opportunity=published, actor=actor)

    unpublished = services.opportunity_unpublish(opportunity=published, actor=actor)
    assert unpublished.status == OpportunityStatus.UNPUBLISHED
    assert unpublished.published_at is None
    entry = AuditEntry.objects.get(action="opportunity.unpublished")
    assert (entry.from_state, entry.to_state) == ("published", "unpublished")

    with pytest.raises(ValidationError):
        services.opportunity_unpublish(opportunity=unpublished, actor=actor)
    services.opportunity_publish(opportunity=unpublished, actor=actor)
    assert AuditEntry.objects.filter(action="opportunity.published").count() == 2


# --------------------------------------------------------------------------- sessions


@pytest.fixture
def opportunity(host: Any) -> Opportunity:
    return factories.OpportunityFactory(host=host)


def test_session_create_and_audit(opportunity: Any, actor: Any) -> None:
    session = services.session_create(opportunity=opportunity, actor=actor, values=session_values())
    assert session.pk
    assert AuditEntry.objects.get(action="session.created").target_id == str(session.pk)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"end_date": dt.date(2027, 2, 27)}, "end_date"),
        ({"capacity": -1}, "capacity"),
        ({"capacity": "four"}, "capacity"),
        (
            {"applications_close_at": dt.datetime(2026, 9, 1, tzinfo=UTC)},
            "applications_close_at",
        ),
        (
            {"applications_close_at": dt.datetime(2027, 3, 2, tzinfo=UTC)},
            "applications_close_at",
        ),
        ({"decision_date": dt.date(2027, 3, 1)}, "decision_date"),
        ({"decision_date": dt.date(2027, 1, 10)}, "decision_date"),
    ],
)
def test_session_rules(opportunity: Any, actor: Any, overrides: Any, field: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.session_create(
            opportunity=opportunity, actor=actor, values=session_values(**overrides)
        )
    assert field in error_fields(excinfo)
    assert not Session.objects.exists()


def test_capacity_zero_is_allowed(opportunity: Any, actor: Any) -> None:
    session = services.session_create(
        opportunity=opportunity, actor=actor, values=session_values(capacity=0)
    )
    assert session.capacity == 0


def test_window_is_checked_in_the_hosts_time_zone(actor: Any) -> None:
    """Close at 12:00 UTC the day before the start: in Auckland that is 01:00 on the start day."""
    auckland = factories.InstitutionFactory(time_zone="Pacific/Auckland")
    utc_host = factories.InstitutionFactory(time_zone="UTC")
    late_close = dt.datetime(2027, 2, 28, 12, 0, tzinfo=UTC)  # 2027-03-01 01:00 NZDT
    with pytest.raises(ValidationError) as excinfo:
        services.session_create(
            opportunity=factories.OpportunityFactory(host=auckland),
            actor=actor,
            values=session_values(applications_close_at=late_close, decision_date=None),
        )
    assert "applications_close_at" in error_fields(excinfo)
    assert "Pacific/Auckland" in str(excinfo.value)
    # The same instant is fine for a host in UTC: 12:00 on the day before.
    assert services.session_create(
        opportunity=factories.OpportunityFactory(host=utc_host),
        actor=actor,
        values=session_values(applications_close_at=late_close, decision_date=None),
    ).pk
    # 23:00 on the day before in Auckland is fine there too.
    assert services.session_create(
        opportunity=factories.OpportunityFactory(host=auckland),
        actor=actor,
        values=session_values(
            applications_close_at=dt.datetime(2027, 2, 28, 10, 0, tzinfo=UTC), decision_date=None
        ),
    ).pk


def test_naive_times_are_read_in_the_hosts_time_zone(actor: Any) -> None:
    auckland = factories.InstitutionFactory(time_zone="Pacific/Auckland")
    session = services.session_create(
        opportunity=factories.OpportunityFactory(host=auckland),
        actor=actor,
        values=session_values(
            applications_close_at=dt.datetime(2027, 2, 28, 23, 30),  # noqa: DTZ001 -- naive on purpose
            decision_date=None,
        ),
    )
    assert session.applications_close_at == dt.datetime(2027, 2, 28, 10, 30, tzinfo=UTC)


def test_session_update_audits_changes(opportunity: Any, actor: Any) -> None:
    session = factories.SessionFactory(opportunity=opportunity)
    services.session_update(session=session, actor=actor, values={"capacity": 4})
    assert not AuditEntry.objects.filter(action="session.updated").exists()
    services.session_update(session=session, actor=actor, values={"capacity": 6})
    assert AuditEntry.objects.get(action="session.updated").data["capacity"] == ["4", "6"]
    with pytest.raises(ValidationError):
        services.session_update(session=session, actor=actor, values={"capacity": -2})


def test_cancel_is_audited_and_final(opportunity: Any, actor: Any) -> None:
    session = factories.SessionFactory(opportunity=opportunity)
    cancelled = services.session_cancel(session=session, actor=actor, reason="Strike")
    assert cancelled.cancelled_at is not None
    entry = AuditEntry.objects.get(action="session.cancelled")
    assert (entry.to_state, entry.reason) == ("cancelled", "Strike")
    with pytest.raises(ValidationError):
        services.session_cancel(session=cancelled, actor=actor)
    with pytest.raises(ValidationError):
        services.session_update(session=cancelled, actor=actor, values={"capacity": 9})


# --------------------------------------------------------------------------- recurrence


def generate(opportunity: Any, actor: Any, **overrides: Any) -> list[Session]:
    arguments: dict[str, Any] = {
        "first_start": dt.date(2026, 11, 30),
        "count": 4,
        "recurrence": Recurrence.MONTHLY,
        "capacity": 3,
        "open_days_before": 120,
        "close_days_before": 30,
        "decision_days_before": 14,
    }
    arguments.update(overrides)
    return services.sessions_generate(opportunity=opportunity, actor=actor, **arguments)


def test_monthly_over_a_year_end_clamps_to_month_ends(opportunity: Any, actor: Any) -> None:
    sessions = generate(opportunity, actor)
    assert [s.start_date for s in sessions] == [
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 30),
        dt.date(2027, 1, 30),
        dt.date(2027, 2, 28),
    ]
    first = sessions[0]
    assert first.end_date == dt.date(2026, 12, 27)  # 28 days
    assert first.applications_open_at == dt.datetime(2026, 8, 2, tzinfo=UTC)
    assert first.applications_close_at == dt.datetime(2026, 10, 31, 23, 59, tzinfo=UTC)
    assert first.decision_date == dt.date(2026, 11, 16)
    assert AuditEntry.objects.filter(action="session.generated").count() == 4


def test_quarterly_and_yearly(opportunity: Any, actor: Any) -> None:
    quarterly = generate(
        opportunity, actor, first_start=dt.date(2027, 1, 15), recurrence="quarterly", count=3
    )
    assert [s.start_date for s in quarterly] == [
        dt.date(2027, 1, 15),
        dt.date(2027, 4, 15),
        dt.date(2027, 7, 15),
    ]
    yearly = generate(
        opportunity, actor, first_start=dt.date(2028, 2, 29), recurrence="yearly", count=3
    )
    assert [s.start_date for s in yearly] == [
        dt.date(2028, 2, 29),
        dt.date(2029, 2, 28),
        dt.date(2030, 2, 28),
    ]


def test_generated_windows_use_the_hosts_time_zone(actor: Any) -> None:
    auckland = factories.InstitutionFactory(time_zone="Pacific/Auckland")
    opportunity = factories.OpportunityFactory(host=auckland)
    (session,) = generate(opportunity, actor, first_start=dt.date(2027, 3, 1), count=1)
    # 23:59 NZDT on 2027-01-30 is 10:59 UTC that day.
    assert session.applications_close_at == dt.datetime(2027, 1, 30, 10, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"count": 0}, "count"),
        ({"count": 61}, "count"),
        ({"recurrence": "weekly"}, "recurrence"),
        ({"capacity": -1}, "capacity"),
        ({"close_days_before": 0}, "close_days_before"),
        ({"open_days_before": 30}, "open_days_before"),
        ({"decision_days_before": 40}, "decision_days_before"),
        ({"decision_days_before": 0}, "decision_days_before"),
    ],
)
def test_generation_is_validated(opportunity: Any, actor: Any, overrides: Any, field: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        generate(opportunity, actor, **overrides)
    assert field in error_fields(excinfo)
    assert not Session.objects.exists()


def test_plan_writes_nothing(opportunity: Any) -> None:
    planned = services.sessions_plan(
        opportunity=opportunity,
        first_start=dt.date(2027, 1, 1),
        count=12,
        recurrence="monthly",
        capacity=2,
        open_days_before=90,
        close_days_before=30,
    )
    assert len(planned) == 12
    assert all(s.pk is None for s in planned)
    assert not Session.objects.exists()
