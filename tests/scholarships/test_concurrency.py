"""A commit racing the withdrawals of the applications it funds: whatever the order,
no money stays reserved for a withdrawn application, and nothing deadlocks."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections

from medexchange.applications import services as application_services
from medexchange.scholarships import services
from medexchange.scholarships.models import Award
from tests.scholarships.conftest import Scene, ask, available

# Threads need committed rows; the serialized rollback puts back the country profiles.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (set DATABASE_URL)"
)
def test_commit_and_withdrawals_at_the_same_moment_leave_no_money_reserved(scene: Scene) -> None:
    applications = [scene.application(index) for index in range(4)]
    requests = [ask(scene.call, application, "500.00") for application in applications]
    services.call_move(call=scene.call, to="reviewing", actor=scene.staff)
    for request in requests:
        services.request_review_save(request=request, actor=scene.staff, score=7)
    services.allocation_propose(call=scene.call, actor=scene.staff)
    assert Award.objects.filter(status="proposed").count() == 4
    withdrawn = applications[:2]
    barrier = threading.Barrier(1 + len(withdrawn))
    errors: list[str] = []
    lock = threading.Lock()

    def run(work: Any) -> None:
        try:
            barrier.wait(timeout=30)
            work()
        except Exception as error:  # pragma: no cover - would be a bug
            with lock:
                errors.append(repr(error))
        finally:
            connections.close_all()

    works = [lambda: services.awards_commit(call=scene.call, actor=scene.staff)] + [
        (lambda a=a: application_services.application_withdraw(application=a, actor=a.applicant))
        for a in withdrawn
    ]
    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    for application in withdrawn:
        award = Award.objects.get(request__application=application)
        assert award.status in {"released", "cancelled"}
    kept = Award.objects.filter(request__application__in=applications[2:])
    assert sorted(kept.values_list("status", flat=True)) == ["committed", "committed"]
    assert available(scene.fund) == Decimal("2000.00")


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (set DATABASE_URL)"
)
def test_twenty_awards_committed_at_once_take_only_what_the_fund_holds(scene: Scene) -> None:
    from medexchange.funding.services import InsufficientFunds
    from tests.applications.conftest import applicant_with_profile
    from tests.scholarships.conftest import proposed, submitted

    people = [applicant_with_profile(scene.home, full_name=f"Racer {index}") for index in range(20)]
    requests = [ask(scene.call, submitted(person, scene.session), "400.00") for person in people]
    services.call_move(call=scene.call, to="reviewing", actor=scene.staff)
    awards = [proposed(request, (scene.fund, "400.00")) for request in requests]
    assert available(scene.fund) == Decimal("3000.00")  # room for 7 of the 20
    barrier = threading.Barrier(len(awards))
    committed: list[int] = []
    refused: list[str] = []
    unexpected: list[str] = []
    lock = threading.Lock()

    def run(award: Award) -> None:
        try:
            barrier.wait(timeout=30)
            services.award_commit(award=award, actor=scene.staff)
            with lock:
                committed.append(award.pk)
        except InsufficientFunds as error:
            with lock:
                refused.append(" ".join(error.messages))
        except Exception as error:  # pragma: no cover - would be a bug
            with lock:
                unexpected.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(award,)) for award in awards]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert unexpected == []
    assert len(committed) == 7 and len(refused) == 13
    assert all("Travel Fund" in message for message in refused)
    assert Award.objects.filter(status="committed").count() == 7
    assert Award.objects.filter(status="proposed").count() == 13
    assert available(scene.fund) == Decimal("200.00")
