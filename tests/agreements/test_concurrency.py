"""Quota is law: twelve submissions racing for the last three quota places, three attach."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from medexchange.applications import services
from medexchange.applications.models import Application
from tests import factories
from tests.agreements.conftest import active_agreement
from tests.applications.conftest import applicant_with_profile, open_session

# Threads need committed rows; the serialized rollback puts back the country profiles.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SUBMISSIONS = 12
QUOTA = 3


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (set DATABASE_URL)"
)
def test_simultaneous_submissions_attach_exactly_the_quota(network: Any) -> None:
    host = factories.InstitutionFactory()
    home = factories.InstitutionFactory()
    for institution in (host, home):
        factories.MembershipFactory(institution=institution, network=network)
    agreement = active_agreement(host, home, amount=QUOTA)
    # Each in a session of its own, so the session lock does not serialise them for us.
    drafts = []
    for _index in range(SUBMISSIONS):
        session = open_session(factories.OpportunityFactory(host=host), capacity=5)
        applicant = applicant_with_profile(home)
        drafts.append(
            Application.objects.create(applicant=applicant, session=session, statement="Ready.")
        )
    barrier = threading.Barrier(SUBMISSIONS)
    errors: list[str] = []
    lock = threading.Lock()

    def submit(application: Application) -> None:
        try:
            barrier.wait(timeout=30)
            services.application_submit(application=application, actor=application.applicant)
        except Exception as error:  # pragma: no cover - would be a bug
            with lock:
                errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(draft,)) for draft in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    submitted = Application.objects.filter(pk__in=[d.pk for d in drafts], state="submitted")
    assert submitted.count() == SUBMISSIONS
    assert submitted.filter(agreement=agreement).count() == QUOTA
