"""Plans from sessions, settings with their field errors, participants following seats."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from medexchange.applications import services as application_services
from medexchange.common.models import AuditEntry
from medexchange.engines import scheduling as engine
from medexchange.scheduling import selectors, services
from medexchange.scheduling.choices import PlanStatus
from medexchange.scheduling.models import RotationPlan
from tests import factories
from tests.applications.conftest import applicant_with_profile
from tests.scheduling.conftest import Program, seat

pytestmark = pytest.mark.django_db


def actions(plan: RotationPlan) -> list[str]:
    return list(
        AuditEntry.objects.filter(target_id=str(plan.pk), action__startswith="rotation_plan.")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_a_plan_takes_the_sessions_seats_sites_and_dates(
    program: Program, plan: RotationPlan
) -> None:
    assert plan.status == PlanStatus.DRAFT
    assert plan.start_date == program.session.start_date
    assert plan.period_count == 4  # 28 days in weeks
    assert [s.site for s in selectors.plan_sites(plan)] == sorted(
        program.sites, key=lambda s: s.name
    )
    people = selectors.plan_participants(plan)
    # The waiting applicant holds no seat: not a participant.
    assert [p.name for p in people] == ["Ana Alvarez", "Bo Baptiste", "Cy Chen"]
    assert all(p.arrival == program.session.start_date for p in people)
    assert all(p.departure == program.session.end_date for p in people)
    assert people[0].languages == ["en"]  # from the applicant profile
    assert selectors.plan_sites(plan)[0].languages == ["en", "sw"]  # the institution's
    data = selectors.plan_json(plan)
    assert data["horizon"] == {"start": program.session.start_date.isoformat(), "count": 4}
    assert data["participants"][0]["arrival"] == "W1"
    assert data["participants"][0]["departure"] == "W4"
    engine.parse_plan(data)
    assert actions(plan) == ["rotation_plan.created"]


def test_only_the_hosts_coordinators_open_a_plan_for_an_exchange_program(
    program: Program,
) -> None:
    with pytest.raises(PermissionDenied):
        services.rotation_plan_create(session=program.session, actor=program.other_coordinator)
    elective = factories.SessionFactory(opportunity=factories.OpportunityFactory(host=program.host))
    with pytest.raises(PermissionDenied):
        services.rotation_plan_create(session=elective, actor=program.coordinator)


def test_arrival_and_departure_dates_map_to_periods(program: Program, plan: RotationPlan) -> None:
    ana = selectors.plan_participants(plan)[0]
    start = program.session.start_date
    services.plan_participant_update(
        participant=ana,
        actor=program.coordinator,
        arrival=start + dt.timedelta(days=8),  # in week 2
        departure=start + dt.timedelta(days=20),  # in week 3
        languages=["en", "es"],
        preferences=[plan.sites.last().pk],  # type: ignore[union-attr]
        must_visit=[],
        must_not_visit=[],
    )
    row = selectors.plan_json(plan)["participants"][0]
    assert (row["arrival"], row["departure"]) == ("W2", "W3")
    assert row["languages"] == ["en", "es"]
    assert "rotation_plan.participant_changed" in actions(plan)


def _post(client: Any, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data)


def test_bad_site_settings_give_field_errors(
    client: Any, program: Program, plan: RotationPlan
) -> None:
    client.force_login(program.coordinator)
    site = selectors.plan_sites(plan)[0]
    url = reverse("scheduling:site", kwargs={"pk": plan.pk, "site_id": site.pk})
    good = {"short_name": "ER", "capacity": "2", "min_staff": "0", "closed": "", "languages": ""}

    response = _post(client, url, good | {"capacity": "2, -1, 2, 2"})
    assert response.status_code == 400
    assert response.context["form"].errors["capacity"] == ["Places cannot be negative."]

    response = _post(client, url, good | {"capacity": "2, 2, 1, 2", "min_staff": "2"})
    assert response.status_code == 400
    assert "above the places in week 3" in response.context["form"].errors["min_staff"][0]

    response = _post(client, url, good | {"capacity": "2, 2"})
    assert "one per period (4)" in response.context["form"].errors["capacity"][0]

    response = _post(client, url, good | {"closed": "W2, W1-W3"})
    assert response.context["form"].errors["closed"] == [
        "Each closed period once: these periods overlap."
    ]
    response = _post(client, url, good | {"closed": "W9"})
    assert "is not a period of this plan (W1 to W4)" in response.context["form"].errors["closed"][0]

    response = _post(client, url, good | {"languages": "xx"})
    assert "Unknown language code: xx" in response.context["form"].errors["languages"][0]
    site.refresh_from_db()
    assert site.capacity == 2  # unchanged: 4 seats over 3 sites, rounded up

    response = _post(client, url, good | {"capacity": "3, 3, 0, 3", "closed": "W3"})
    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.capacity_per_period, site.closed) == ([3, 3, 0, 3], [2])
    assert "rotation_plan.site_changed" in actions(plan)


def test_bad_rules_give_field_errors(client: Any, program: Program, plan: RotationPlan) -> None:
    client.force_login(program.coordinator)
    url = reverse("scheduling:settings", kwargs={"pk": plan.pk})
    good = {
        "unit": "week",
        "start_date": program.session.start_date.isoformat(),
        "min_sites": "2",
        "min_stay": "1",
        "max_stay": "",
        "balance": "on",
    }
    response = client.post(url, good | {"min_stay": "2", "max_stay": "1"})
    assert response.status_code == 400
    assert response.context["form"].errors["max_stay"] == [
        "The longest stay cannot be shorter than the shortest stay."
    ]
    late = program.session.end_date + dt.timedelta(days=1)
    response = client.post(url, good | {"start_date": late.isoformat()})
    assert "on or before the session's last day" in response.context["form"].errors["start_date"][0]
    # The engine's validator has the last word: 3 sites for 2 weeks each cannot fit
    # in four weeks. The error names the participant, in words.
    response = client.post(url, good | {"min_sites": "3", "min_stay": "2"})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "Ana Alvarez is there too briefly to visit the required number of sites for the "
        "shortest stay at each."
    ]
    response = client.post(url, good | {"unit": "day", "min_stay": "3", "max_stay": "7"})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.unit, plan.period_count, plan.max_stay) == ("day", 28, 7)


def test_bad_participant_dates_give_field_errors(
    client: Any, program: Program, plan: RotationPlan
) -> None:
    client.force_login(program.coordinator)
    ana = selectors.plan_participants(plan)[0]
    url = reverse("scheduling:participant", kwargs={"pk": plan.pk, "participant_id": ana.pk})
    start = program.session.start_date
    good = {"arrival": start.isoformat(), "departure": program.session.end_date.isoformat()}
    response = client.post(url, good | {"departure": (start - dt.timedelta(days=1)).isoformat()})
    assert response.status_code == 400
    assert "Leave between" in response.context["form"].errors["departure"][0]
    response = client.post(
        url,
        good
        | {
            "departure": (start + dt.timedelta(days=3)).isoformat(),
            "arrival": (start + dt.timedelta(days=5)).isoformat(),
        },
    )
    assert response.context["form"].errors["departure"] == [
        "The departure is on or after the arrival."
    ]
    sites = selectors.plan_sites(plan)
    response = client.post(
        url, good | {"must_visit": [sites[0].pk], "must_not_visit": [sites[0].pk]}
    )
    assert response.context["form"].errors["must_not_visit"] == [
        "A site cannot be both a must and a must-not."
    ]
    # Staying one week cannot cover the two sites every participant must visit.
    response = client.post(url, good | {"departure": (start + dt.timedelta(days=3)).isoformat()})
    assert response.status_code == 400
    assert "too briefly" in response.context["form"].non_field_errors()[0]


def test_participants_follow_the_sessions_seats(program: Program, plan: RotationPlan) -> None:
    ana_application = program.applications[0]
    application_services.application_withdraw(
        application=ana_application, actor=program.applicants[0], reason="Visa refused."
    )
    newcomer = applicant_with_profile(program.host, full_name="Eve Newcomer")
    seat(newcomer, program.session, program.coordinator)
    assert services.participants_out_of_date(plan)
    result = services.rotation_plan_refresh(plan=plan, actor=program.coordinator)
    assert len(result.added) == 1 and result.removed == [ana_application.placement.pk]
    assert [p.name for p in selectors.plan_participants(plan)] == [
        "Bo Baptiste",
        "Cy Chen",
        "Eve Newcomer",
    ]
    assert not services.participants_out_of_date(plan)
    assert "rotation_plan.participants_refreshed" in actions(plan)


def test_a_pair_needs_two_different_participants(program: Program, plan: RotationPlan) -> None:
    ana, bo, _cy = selectors.plan_participants(plan)
    with pytest.raises(ValidationError):
        services.plan_pair_add(
            plan=plan, actor=program.coordinator, kind="together", first=ana, second=ana
        )
    services.plan_pair_add(plan=plan, actor=program.coordinator, kind="apart", first=ana, second=bo)
    with pytest.raises(ValidationError):
        services.plan_pair_add(
            plan=plan, actor=program.coordinator, kind="together", first=bo, second=ana
        )
    plan.refresh_from_db()
    assert plan.apart == [sorted([ana.pk, bo.pk])]
    assert selectors.plan_json(plan)["rules"]["apart"] == [[f"p{ana.pk}", f"p{bo.pk}"]]
