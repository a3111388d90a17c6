"""A small exchange for application tests: a host with a session, a home school, people."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.accounts.models import ApplicantProfile, InstitutionRole, User
from medexchange.catalog.models import Session
from tests import factories


def reviewer_of(institution: Any, **kwargs: Any) -> User:
    user = factories.UserFactory(**kwargs)
    InstitutionRole.objects.create(
        user=user, institution=institution, role=InstitutionRoleKind.REVIEWER
    )
    return user


def applicant_with_profile(home: Any = None, **kwargs: Any) -> User:
    """An applicant whose profile is complete enough to apply."""
    user = factories.UserFactory(**kwargs)
    values: dict[str, Any] = {
        "training_level": "student",
        "training_year": 5,
        "home_country": factories.country("GH"),
        "languages": [{"code": "en", "level": "C1"}],
    }
    values |= {
        "home_institution": home,
        "nationality": factories.country("GH"),
        "phone": "+233201234567",
        "emergency_contact_name": "Kofi Mensah",
        "emergency_contact_phone": "+233207654321",
        "emergency_contact_relationship": "Brother",
    }
    ApplicantProfile.objects.create(user=user, **values)
    return user


def open_session(opportunity: Any = None, *, capacity: int = 2, **kwargs: Any) -> Session:
    """A session taking applications now, starting in three months."""
    now = timezone.now()
    start = (now + dt.timedelta(days=90)).date()
    values = {
        "start_date": start,
        "end_date": start + dt.timedelta(days=27),
        "capacity": capacity,
        "applications_open_at": now - dt.timedelta(days=5),
        "applications_close_at": now + dt.timedelta(days=30),
        "decision_date": start - dt.timedelta(days=20),
    }
    values.update(kwargs)
    if opportunity is not None:
        values["opportunity"] = opportunity
    return factories.SessionFactory(**values)


@dataclass
class Exchange:
    host: Any
    home: Any
    other: Any
    host_coordinator: User
    reviewer: User
    home_coordinator: User
    other_coordinator: User
    applicant: User
    other_applicant: User
    session: Session


@pytest.fixture
def exchange(network: Any) -> Exchange:
    host = factories.InstitutionFactory(name="Fictional Lima Teaching Hospital", city="Lima")
    home = factories.InstitutionFactory(name="Fictional Accra Medical School", city="Accra")
    other = factories.InstitutionFactory(name="Fictional Hanoi Hospital", city="Hanoi")
    for institution in (host, home, other):
        factories.MembershipFactory(institution=institution, network=network)
    opportunity = factories.OpportunityFactory(host=host, title="Fictional Lima EM Elective")
    return Exchange(
        host=host,
        home=home,
        other=other,
        host_coordinator=factories.coordinator_of(host, full_name="Host Coordinator"),
        reviewer=reviewer_of(host, full_name="Host Reviewer"),
        home_coordinator=factories.coordinator_of(home, full_name="Home Coordinator"),
        other_coordinator=factories.coordinator_of(other, full_name="Other Coordinator"),
        applicant=applicant_with_profile(home, full_name="Ama Applicant"),
        other_applicant=applicant_with_profile(home, full_name="Other Applicant"),
        session=open_session(opportunity),
    )
