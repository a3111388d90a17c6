"""The eligibility rules of a call: the pure function, and its adapter on real rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from medexchange.scholarships.eligibility import (
    ApplicantFacts,
    CallRules,
    ineligibility_reasons,
    reasons_for,
)
from medexchange.scholarships.models import ScholarshipCall
from tests.scholarships.conftest import Scene, ask, set_country

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
OPEN = CallRules(
    status="open",
    opens_at=NOW - dt.timedelta(days=1),
    closes_at=NOW + dt.timedelta(days=1),
)
GOOD = ApplicantFacts(
    application_state="submitted",
    em_status="emerging",
    income_group="low",
    training_level="resident",
    opportunity_kind="exchange_program",
    in_network=True,
)


def codes(rules: CallRules, facts: ApplicantFacts, now: dt.datetime = NOW) -> list[str]:
    return [reason.code for reason in ineligibility_reasons(rules, facts, now=now)]


def restricted(**rules: Any) -> CallRules:
    return CallRules(status="open", opens_at=OPEN.opens_at, closes_at=OPEN.closes_at, **rules)


def test_an_unrestricted_open_call_takes_any_submitted_application() -> None:
    assert codes(OPEN, GOOD) == []


@pytest.mark.parametrize(
    ("rules", "code"),
    [
        (restricted(em_statuses=("not_recognised",)), "em_status"),
        (restricted(income_groups=("lower_middle",)), "income_group"),
        (restricted(training_levels=("physician",)), "training_level"),
        (restricted(opportunity_kinds=("clinical_elective",)), "opportunity_kind"),
    ],
)
def test_each_restriction_refuses_who_it_leaves_out(rules: CallRules, code: str) -> None:
    assert codes(rules, GOOD) == [code]


def test_restrictions_that_list_the_fact_let_it_in() -> None:
    rules = restricted(
        em_statuses=("not_recognised", "emerging"),
        income_groups=("low", "lower_middle"),
        training_levels=("resident",),
        opportunity_kinds=("exchange_program", "observership"),
    )
    assert codes(rules, GOOD) == []


def test_an_unrecorded_country_fact_never_meets_a_restriction() -> None:
    facts = ApplicantFacts(
        application_state="submitted", training_level="resident", in_network=True
    )
    rules = restricted(em_statuses=("emerging",), income_groups=("low",))
    assert codes(rules, facts) == ["em_status", "income_group"]
    assert codes(OPEN, facts) == []  # unrestricted: anyone


@pytest.mark.parametrize(
    ("status", "now", "code"),
    [
        ("draft", NOW, "call_not_open"),
        ("reviewing", NOW, "call_not_open"),
        ("open", NOW - dt.timedelta(days=2), "call_not_yet_open"),
        ("open", NOW + dt.timedelta(days=1), "call_closed"),
    ],
)
def test_requests_only_while_the_call_is_open(status: str, now: dt.datetime, code: str) -> None:
    rules = CallRules(status=status, opens_at=OPEN.opens_at, closes_at=OPEN.closes_at)
    assert codes(rules, GOOD, now) == [code]


@pytest.mark.parametrize(
    "state", ["draft", "withdrawn", "declined", "not_endorsed", "offer_expired", "completed"]
)
def test_only_a_going_submitted_application_may_ask(state: str) -> None:
    facts = ApplicantFacts(application_state=state, in_network=True)
    assert codes(OPEN, facts) == ["application_state"]


@pytest.mark.parametrize("state", ["submitted", "under_review", "offered", "accepted", "confirmed"])
def test_submitted_and_later_applications_may_ask(state: str) -> None:
    assert codes(OPEN, ApplicantFacts(application_state=state, in_network=True)) == []


def test_outside_the_network_and_a_second_request_are_refused() -> None:
    facts = ApplicantFacts(application_state="submitted", already_requested=True)
    assert codes(OPEN, facts) == ["not_in_network", "already_requested"]


def test_reasons_are_sentences_that_name_the_allowed_values() -> None:
    (reason,) = ineligibility_reasons(restricted(em_statuses=("not_recognised",)), GOOD, now=NOW)
    assert "Not recognised" in reason.message
    assert str(reason) == reason.message


def test_the_adapter_reads_the_application_and_its_country(scene: Scene) -> None:
    application = scene.application()
    now = scene.call.opens_at + dt.timedelta(hours=1)
    assert reasons_for(scene.call, application, now=now) == []
    ScholarshipCall.objects.filter(pk=scene.call.pk).update(eligible_em_statuses=["not_recognised"])
    scene.call.refresh_from_db()
    assert [r.code for r in reasons_for(scene.call, application, now=now)] == ["em_status"]
    set_country("GH", em_status="not_recognised")
    application.home_country.refresh_from_db()
    assert reasons_for(scene.call, application, now=now) == []
    ask(scene.call, application)
    assert [r.code for r in reasons_for(scene.call, application, now=now)] == ["already_requested"]
