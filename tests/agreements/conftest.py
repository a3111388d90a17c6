"""Two member schools with an active agreement between them, and the people of each."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from medexchange.accounts.models import User
from medexchange.agreements.choices import AgreementStatus
from medexchange.agreements.models import Agreement, Quota
from medexchange.agreements.years import academic_year_of
from medexchange.applications import services as application_services
from medexchange.applications.models import Application
from medexchange.catalog.models import Session
from tests import factories
from tests.applications.conftest import applicant_with_profile, open_session


@dataclass
class Pair:
    host: Any
    home: Any
    other: Any
    network: Any
    host_coordinator: User
    home_coordinator: User
    other_coordinator: User
    staff: User
    applicant: User
    session: Session
    year: int
    agreement: Agreement


def active_agreement(host: Any, home: Any, *, amount: int = 2, **kwargs: Any) -> Agreement:
    """An active agreement with one quota home → host for every year."""
    year = academic_year_of(timezone.localdate())
    values: dict[str, Any] = {
        "title": f"{home.name} / {host.name}",
        "party_a": home,
        "party_b": host,
        "first_year": year - 1,
        "last_year": year + 2,
        "status": AgreementStatus.ACTIVE,
        "tuition_waiver": True,
    }
    values.update(kwargs)
    agreement = Agreement.objects.create(**values)
    Quota.objects.create(agreement=agreement, sender=home, host=host, amount=amount)
    return agreement


def submit(applicant: User, session: Session) -> Application:
    application = application_services.application_start(
        applicant=applicant, session=session, actor=applicant
    )
    application.statement = "Ready to learn."
    application.save()
    return application_services.application_submit(application=application, actor=applicant)


@pytest.fixture
def pair(network: Any) -> Pair:
    host = factories.InstitutionFactory(name="Fictional Lima Teaching Hospital", city="Lima")
    home = factories.InstitutionFactory(name="Fictional Accra Medical School", city="Accra")
    other = factories.InstitutionFactory(name="Fictional Hanoi Hospital", city="Hanoi")
    for institution in (host, home, other):
        factories.MembershipFactory(institution=institution, network=network)
    opportunity = factories.OpportunityFactory(host=host, title="Fictional Lima EM Elective")
    session = open_session(opportunity, capacity=5)
    return Pair(
        host=host,
        home=home,
        other=other,
        network=network,
        host_coordinator=factories.coordinator_of(host, full_name="Host Coordinator"),
        home_coordinator=factories.coordinator_of(home, full_name="Home Coordinator"),
        other_coordinator=factories.coordinator_of(other, full_name="Other Coordinator"),
        staff=factories.staff_of(network, full_name="Network Staff"),
        applicant=applicant_with_profile(home, full_name="Ama Applicant"),
        session=session,
        year=academic_year_of(session.start_date),
        agreement=active_agreement(host, home),
    )


def later_session(opportunity: Any, *, days: int = 28, **kwargs: Any) -> Session:
    start = timezone.localdate() + dt.timedelta(days=90)
    return open_session(
        opportunity, start_date=start, end_date=start + dt.timedelta(days=days - 1), **kwargs
    )
