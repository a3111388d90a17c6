"""Applications count against the quota of the agreement that covers them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from medexchange.agreements.choices import AgreementStatus, QuotaUnit
from medexchange.agreements.models import Agreement, Quota
from medexchange.agreements.selectors import match_quota_caps
from medexchange.applications import services as application_services
from medexchange.applications.choices import ApplicationState
from medexchange.applications.models import Application
from medexchange.catalog.choices import Level
from medexchange.catalog.models import Specialty
from medexchange.common.models import Notification
from tests import factories
from tests.agreements.conftest import later_session, submit
from tests.applications.conftest import applicant_with_profile

pytestmark = pytest.mark.django_db
A = ApplicationState


def _applicants(home: Any, count: int) -> list[Any]:
    return [applicant_with_profile(home) for _ in range(count)]


def test_applications_take_the_quota_until_it_is_used_up(pair: Any, client: Any) -> None:
    first, second, third = (submit(a, pair.session) for a in _applicants(pair.home, 3))
    assert first.agreement == pair.agreement
    assert second.agreement == pair.agreement
    assert third.agreement is None
    assert Application.objects.get(pk=third.pk).agreement is None

    client.force_login(third.applicant)
    page = client.get(third.get_absolute_url()).content.decode()
    assert "Not under an agreement: the quota for" in page
    assert "is used up" in page
    assert Notification.objects.filter(
        user=pair.host_coordinator, message__contains="quota for"
    ).exists()
    client.force_login(first.applicant)
    page = client.get(first.get_absolute_url()).content.decode()
    assert f"Under the agreement “{pair.agreement.title}”: tuition waived." in page


def test_a_withdrawn_application_gives_its_place_back(pair: Any) -> None:
    first, _second = (submit(a, pair.session) for a in _applicants(pair.home, 2))
    application_services.application_withdraw(application=first, actor=first.applicant)
    third = submit(applicant_with_profile(pair.home), pair.session)
    assert third.agreement == pair.agreement


def test_person_month_quotas_count_the_length_of_the_stay(pair: Any) -> None:
    pair.agreement.unit = QuotaUnit.PERSON_MONTHS
    pair.agreement.save()
    pair.agreement.quotas.update(amount=2)
    session = later_session(pair.session.opportunity, days=45)  # 1.5 person-months
    first, second = (submit(a, session) for a in _applicants(pair.home, 2))
    assert first.agreement == pair.agreement
    assert second.agreement is None  # 1.5 + 1.5 > 2
    short = later_session(pair.session.opportunity, days=15)  # 0.5 person-months
    third = submit(applicant_with_profile(pair.home), short)
    assert third.agreement == pair.agreement  # 1.5 + 0.5 = 2


def test_year_level_and_specialty_must_match(pair: Any) -> None:
    quota = pair.agreement.quotas.get()
    quota.level = Level.POSTGRADUATE
    quota.save()
    assert submit(applicant_with_profile(pair.home), pair.session).agreement is None

    quota.level = ""
    quota.specialty = Specialty.objects.exclude(code="emergency-medicine").first()
    quota.save()
    assert submit(applicant_with_profile(pair.home), pair.session).agreement is None

    quota.specialty = pair.session.opportunity.specialty
    quota.academic_year = pair.year + 1
    quota.save()
    assert submit(applicant_with_profile(pair.home), pair.session).agreement is None

    quota.academic_year = pair.year
    quota.save()
    assert submit(applicant_with_profile(pair.home), pair.session).agreement == pair.agreement


def test_only_active_agreements_in_the_right_direction_count(pair: Any) -> None:
    # The quota goes home → host; an applicant of the host going home is not covered.
    opportunity = factories.OpportunityFactory(host=pair.home)
    reverse = later_session(opportunity)
    assert submit(applicant_with_profile(pair.host), reverse).agreement is None
    Agreement.objects.filter(pk=pair.agreement.pk).update(status=AgreementStatus.TERMINATED)
    assert submit(applicant_with_profile(pair.home), pair.session).agreement is None


def test_network_wide_quota_holds_for_each_pair_of_members(pair: Any) -> None:
    year = pair.year
    network_wide = Agreement.objects.create(
        title="Network terms",
        network=pair.network,
        first_year=year,
        last_year=year,
        status=AgreementStatus.ACTIVE,
    )
    Quota.objects.create(agreement=network_wide, amount=1)
    first, second = (submit(a, pair.session) for a in _applicants(pair.other, 2))
    assert first.agreement == network_wide
    assert second.agreement is None
    # Home → host uses the bilateral agreement first, even with network-wide room.
    assert submit(applicant_with_profile(pair.home), pair.session).agreement == pair.agreement


def test_an_offer_accepted_after_the_quota_was_used_up_loses_the_agreement(pair: Any) -> None:
    pair.agreement.quotas.update(amount=1)
    waiting = submit(applicant_with_profile(pair.home), pair.session)
    assert waiting.agreement == pair.agreement
    application_services.application_waitlist(application=waiting, actor=pair.host_coordinator)
    newcomer = submit(applicant_with_profile(pair.home), pair.session)
    assert newcomer.agreement == pair.agreement  # the waitlisted one holds no claim
    application_services.application_offer(application=newcomer, actor=pair.host_coordinator)
    application_services.application_offer(application=waiting, actor=pair.host_coordinator)
    application_services.application_accept(application=newcomer, actor=newcomer.applicant)
    application_services.application_accept(application=waiting, actor=waiting.applicant)
    waiting.refresh_from_db()
    newcomer.refresh_from_db()
    assert waiting.state == A.ACCEPTED
    assert waiting.agreement is None
    assert newcomer.agreement == pair.agreement
    assert Notification.objects.filter(
        user=waiting.applicant, message__contains="no longer under the agreement"
    ).exists()


def test_match_quota_caps_on_a_hand_made_case(pair: Any) -> None:
    other_session = later_session(pair.session.opportunity)
    outside = later_session(factories.OpportunityFactory(host=pair.other))
    now = timezone.now()

    def attached(state: str, session: Any = None) -> Application:
        return Application.objects.create(
            applicant=applicant_with_profile(pair.home),
            session=session or pair.session,
            state=state,
            home_institution=pair.home,
            submitted_at=now,
            reached_host_at=now,
            agreement=pair.agreement,
        )

    pair.agreement.quotas.update(amount=3)
    already = attached(A.OFFERED)  # holds one place, not in this cycle
    in_cycle = [attached(A.SUBMITTED), attached(A.UNDER_REVIEW, other_session)]
    loose = Application.objects.create(
        applicant=applicant_with_profile(pair.home),
        session=pair.session,
        state=A.SUBMITTED,
        home_institution=pair.home,
    )
    caps = match_quota_caps(
        sessions=[outside, other_session, pair.session], applications=[*reversed(in_cycle), loose]
    )
    quota = pair.agreement.quotas.get()
    assert caps == [
        type(caps[0])(
            id=f"agreement-{pair.agreement.pk}-quota-{quota.pk}-{pair.year}",
            capacity=2,
            session_ids=tuple(sorted([pair.session.pk, other_session.pk])),
            application_ids=(in_cycle[0].pk, in_cycle[1].pk),
        )
    ]
    assert already.pk not in caps[0].application_ids
    Agreement.objects.filter(pk=pair.agreement.pk).update(status=AgreementStatus.EXPIRED)
    assert match_quota_caps(sessions=[pair.session], applications=in_cycle) == []


def test_academic_year_follows_the_setting(settings: Any) -> None:
    from medexchange.agreements.years import academic_year_of

    assert academic_year_of(dt.date(2026, 8, 31)) == 2025
    assert academic_year_of(dt.date(2026, 9, 1)) == 2026
    settings.ACADEMIC_YEAR_START_MONTH = 1
    assert academic_year_of(dt.date(2026, 8, 31)) == 2026
