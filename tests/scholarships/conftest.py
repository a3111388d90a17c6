"""A small network with a scholarship fund, an open call, a host with a session, and
applicants from a country where Emergency Medicine is emerging."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from medexchange.accounts.models import User
from medexchange.applications import services as application_services
from medexchange.applications.models import Application
from medexchange.catalog.models import Session
from medexchange.funding.models import Fund
from medexchange.network.choices import EmStatus, IncomeGroup
from medexchange.scholarships import services
from medexchange.scholarships.models import ScholarshipCall, ScholarshipRequest
from tests import factories
from tests.applications.conftest import applicant_with_profile, open_session, reviewer_of
from tests.funding.conftest import give, make_fund


def set_country(code: str, *, em_status: str, income_group: str = IncomeGroup.LOWER_MIDDLE) -> Any:
    country = factories.country(code)
    country.em_status = em_status
    country.income_group = income_group
    if em_status == EmStatus.EMERGING:
        country.em_recognised_year = 2015
    country.save()
    return country


def submitted(applicant: User, session: Session) -> Application:
    application = application_services.application_start(
        applicant=applicant, session=session, actor=applicant
    )
    application.statement = "Ready to learn."
    application.save()
    return application_services.application_submit(application=application, actor=applicant)


def call_values(**overrides: Any) -> dict[str, Any]:
    now = timezone.now()
    values: dict[str, Any] = {
        "title": "Resident travel scholarships 2027",
        "description": "Travel and housing for residents from countries where EM is young.",
        "currency": "USD",
        "eligible_em_statuses": [],
        "eligible_income_groups": [],
        "eligible_training_levels": [],
        "eligible_opportunity_kinds": [],
        "amount_min": "100.00",
        "amount_max": "1500.00",
        "covers": ["travel", "housing"],
        "opens_at": now - dt.timedelta(days=1),
        "closes_at": now + dt.timedelta(days=20),
    }
    values.update(overrides)
    return values


def open_call(network: Any, staff: User, funds: list[Fund], **overrides: Any) -> ScholarshipCall:
    reviewers = overrides.pop("reviewers", [])
    call = services.call_create(
        network=network,
        actor=staff,
        values=call_values(**overrides),
        funds=funds,
        reviewers=reviewers,
    )
    return services.call_move(call=call, to="open", actor=staff)


def ask(
    call: ScholarshipCall, application: Application, amount: str = "1000.00", **extra: Any
) -> ScholarshipRequest:
    return services.scholarship_request_create(
        call=call,
        application=application,
        actor=application.applicant,
        need_statement=extra.pop("need_statement", "My hospital cannot pay the flight."),
        amount=amount,
        covers=extra.pop("covers", ["travel"]),
        **extra,
    )


@dataclass
class Scene:
    network: Any
    host: Any
    home: Any
    other: Any
    staff: User  # network staff: manages the call, finance staff
    reviewer: User  # a host reviewer named on the call (not network staff)
    other_coordinator: User
    applicants: list[User]
    session: Session
    fund: Fund
    call: ScholarshipCall

    def application(self, index: int = 0) -> Application:
        return submitted(self.applicants[index], self.session)


@pytest.fixture
def scene(network: Any) -> Scene:
    set_country("GH", em_status=EmStatus.EMERGING)
    host = factories.InstitutionFactory(name="Fictional Lima Teaching Hospital", city="Lima")
    home = factories.InstitutionFactory(name="Fictional Accra Medical School", city="Accra")
    other = factories.InstitutionFactory(name="Fictional Hanoi Hospital", city="Hanoi")
    for institution in (host, home, other):
        factories.MembershipFactory(institution=institution, network=network)
    staff = factories.staff_of(network, full_name="Network Staff")
    reviewer = reviewer_of(host, full_name="Named Reviewer")
    fund = make_fund(network, currency="USD", slug="travel", name="Travel Fund")
    give(fund, staff, "3000.00")
    opportunity = factories.OpportunityFactory(host=host, title="Fictional Lima EM Elective")
    session = open_session(opportunity, capacity=10)
    call = open_call(network, staff, [fund], reviewers=[reviewer])
    return Scene(
        network=network,
        host=host,
        home=home,
        other=other,
        staff=staff,
        reviewer=reviewer,
        other_coordinator=factories.coordinator_of(other, full_name="Other Coordinator"),
        applicants=[
            applicant_with_profile(home, full_name=f"Applicant {index}") for index in range(4)
        ],
        session=session,
        fund=fund,
        call=call,
    )


def available(fund: Fund) -> Decimal:
    from medexchange.funding.selectors import fund_totals

    return fund_totals(fund).available


def proposed(request: ScholarshipRequest, *shares: tuple[Fund, str]) -> Any:
    """A proposal as an allocation run writes it (the allocation tests run the engine)."""
    from medexchange.scholarships.models import Award

    total = sum((Decimal(amount) for _fund, amount in shares), Decimal(0))
    return Award.objects.create(
        request=request,
        amount=total,
        currency=request.call.currency,
        shares=[{"fund": fund.pk, "amount": amount} for fund, amount in shares],
    )


def committed(request: ScholarshipRequest, actor: User, *shares: tuple[Fund, str]) -> Any:
    award = proposed(request, *shares)
    return services.award_commit(award=award, actor=actor)
