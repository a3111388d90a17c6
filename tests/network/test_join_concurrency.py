"""Two staff approving the same request at the same moment create one institution."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from medexchange.network import services
from medexchange.network.models import Institution, Membership
from tests import factories

# serialized_rollback: another transactional test's flush must not take the country
# profiles (from a data migration) this one needs.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (set DATABASE_URL)"
)
def test_concurrent_approvals_create_one_member() -> None:
    network = factories.NetworkFactory(slug="global")
    join_request = factories.JoinRequestFactory(network=network)
    first, second = factories.staff_of(network), factories.staff_of(network)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(actor: Any) -> None:
        try:
            barrier.wait(timeout=10)
            services.join_request_approve(join_request=join_request, actor=actor)
            outcomes.append("approved")
        except ValidationError as error:
            outcomes.append(error.messages[0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(actor,)) for actor in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["This request was already approved.", "approved"]
    assert Institution.objects.count() == 1
    assert Membership.objects.count() == 1
