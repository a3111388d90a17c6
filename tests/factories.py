"""factory_boy factories shared by the test suite."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory
from allauth.account.models import EmailAddress

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.accounts.models import InstitutionRole, NetworkStaffRole, User
from medexchange.catalog.choices import Level, OpportunityKind, OpportunityStatus
from medexchange.catalog.models import Opportunity, Session, Specialty
from medexchange.network.choices import InstitutionKind, MembershipStatus, NetworkScope, Region
from medexchange.network.models import (
    CountryProfile,
    Institution,
    JoinRequest,
    Membership,
    Network,
    Site,
)

PASSWORD = "correct horse battery staple 42"
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Sequence(lambda n: f"Person {n}")

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


def country(code: str) -> CountryProfile:
    """Country profiles exist for every ISO code (created by a data migration)."""
    return CountryProfile.objects.get(code=code)


class NetworkFactory(factory.django.DjangoModelFactory[Network]):
    class Meta:
        model = Network
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Network {n}")
    slug = factory.Sequence(lambda n: f"network-{n}")
    scope = NetworkScope.GLOBAL
    region = ""
    values_statement = "Access regardless of location or ability to pay."


class RegionalNetworkFactory(NetworkFactory):
    scope = NetworkScope.REGIONAL
    region = Region.AFRICA


class InstitutionFactory(factory.django.DjangoModelFactory[Institution]):
    class Meta:
        model = Institution

    name = factory.Sequence(lambda n: f"Fictional Institute {n}")
    slug = factory.Sequence(lambda n: f"fictional-institute-{n}")
    kind = InstitutionKind.MEDICAL_SCHOOL
    country = factory.LazyFunction(lambda: country("KE"))
    city = "Nairobi"
    latitude = Decimal("-1.28330")
    longitude = Decimal("36.81670")
    languages = factory.LazyFunction(lambda: ["en", "sw"])


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    institution = factory.SubFactory(InstitutionFactory)
    network = factory.SubFactory(NetworkFactory)
    status = MembershipStatus.ACTIVE
    applied_on = dt.date(2025, 1, 10)
    joined_on = dt.date(2025, 2, 1)


class SiteFactory(factory.django.DjangoModelFactory[Site]):
    class Meta:
        model = Site

    institution = factory.SubFactory(InstitutionFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    kind = "hospital"
    city = "Nairobi"


class JoinRequestFactory(factory.django.DjangoModelFactory[JoinRequest]):
    class Meta:
        model = JoinRequest

    network = factory.SubFactory(NetworkFactory)
    institution_name = factory.Sequence(lambda n: f"Applicant College {n}")
    kind = InstitutionKind.MEDICAL_SCHOOL
    country = factory.LazyFunction(lambda: country("GH"))
    city = "Accra"
    latitude = Decimal("5.55602")
    longitude = Decimal("-0.19690")
    description = "A fictional medical school."
    contact_name = "Ama Mensah"
    contact_email = factory.Sequence(lambda n: f"contact{n}@college.example")
    can_offer = factory.LazyFunction(lambda: ["clinical_elective"])
    places_per_year = 6
    agrees_to_values = True


def coordinator_of(institution: Institution, **kwargs: Any) -> User:
    user = UserFactory(**kwargs)
    InstitutionRole.objects.create(
        user=user, institution=institution, role=InstitutionRoleKind.COORDINATOR
    )
    return user


def staff_of(network: Network, **kwargs: Any) -> User:
    """Network staff with TOTP set up, as the platform requires of them."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = UserFactory(**kwargs)
    NetworkStaffRole.objects.create(user=user, network=network)
    TOTP.activate(user, generate_totp_secret())
    return user


class OpportunityFactory(factory.django.DjangoModelFactory[Opportunity]):
    class Meta:
        model = Opportunity

    host = factory.SubFactory(InstitutionFactory)
    kind = OpportunityKind.CLINICAL_ELECTIVE
    title = factory.Sequence(lambda n: f"Fictional Emergency Elective {n}")
    slug = factory.Sequence(lambda n: f"fictional-emergency-elective-{n}")
    summary = "Four weeks in a busy emergency department."
    level = Level.UNDERGRADUATE
    specialty = factory.LazyFunction(lambda: Specialty.objects.get(code="emergency-medicine"))
    languages = factory.LazyFunction(lambda: [{"code": "en", "level": "B2"}])
    duration_days = 28
    status = OpportunityStatus.PUBLISHED


class SessionFactory(factory.django.DjangoModelFactory[Session]):
    class Meta:
        model = Session

    opportunity = factory.SubFactory(OpportunityFactory)
    start_date = dt.date(2027, 3, 1)
    end_date = dt.date(2027, 3, 28)
    capacity = 4
    applications_open_at = NOW - dt.timedelta(days=10)
    applications_close_at = dt.datetime(2027, 1, 15, 12, 0, tzinfo=dt.UTC)
    decision_date = dt.date(2027, 2, 1)
