"""Capacity is law: fifty applicants accepting five seats at once get exactly five places."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from medexchange.applications import services
from medexchange.applications.choices import ApplicationState
from medexchange.applications.models import Application, Placement
from tests import factories
from tests.applications.conftest import applicant_with_profile, open_session

# Threads need committed rows; the serialized rollback puts back the country profiles
# (made by a data migration) that the flush after a transactional test removes.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

APPLICANTS = 50
SEATS = 5


def _offered(session: Any, count: int) -> list[Application]:
    """``count`` applications holding offers (written directly: the race is what is tested)."""
    now = timezone.now()
    applications = []
    for _index in range(count):
        applicant = applicant_with_profile()
        applications.append(
            Application.objects.create(
                applicant=applicant,
                session=session,
                state=ApplicationState.OFFERED,
                statement="Ready.",
                submitted_at=now,
                reached_host_at=now,
                decided_at=now,
                offered_at=now,
                offer_expires_at=now + timezone.timedelta(days=7),
            )
        )
    return applications


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (set DATABASE_URL)"
)
def test_fifty_simultaneous_acceptances_fill_exactly_five_seats(network: Any) -> None:
    host = factories.InstitutionFactory()
    session = open_session(factories.OpportunityFactory(host=host), capacity=SEATS)
    applications = _offered(session, APPLICANTS)
    barrier = threading.Barrier(APPLICANTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def accept(application: Application) -> None:
        try:
            barrier.wait(timeout=30)
            services.application_accept(application=application, actor=application.applicant)
            result = "accepted"
        except services.SessionFull as error:
            result = "full: " + error.messages[0]
        except ValidationError as error:  # pragma: no cover - would be a bug
            result = "error: " + error.messages[0]
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=accept, args=(app,)) for app in applications]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(outcomes) == APPLICANTS
    assert outcomes.count("accepted") == SEATS
    refused = [outcome for outcome in outcomes if outcome != "accepted"]
    assert len(refused) == APPLICANTS - SEATS
    assert all(outcome.startswith("full: ") and "full" in outcome[6:] for outcome in refused)
    assert Placement.objects.filter(session=session, released_at__isnull=True).count() == SEATS
    states = list(Application.objects.filter(session=session).values_list("state", flat=True))
    assert states.count(ApplicationState.ACCEPTED) == SEATS
    assert states.count(ApplicationState.OFFERED) == APPLICANTS - SEATS
