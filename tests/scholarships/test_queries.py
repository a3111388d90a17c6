"""The committee's lists take a fixed number of queries, however many requests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from medexchange.scholarships import services
from medexchange.scholarships.models import ScholarshipRequest
from tests.applications.conftest import applicant_with_profile
from tests.scholarships.conftest import Scene, submitted


def queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_requests_and_allocation_pages_do_not_grow_with_the_requests(
    client: Any, scene: Scene
) -> None:
    def add(count: int) -> None:
        for _index in range(count):
            application = submitted(applicant_with_profile(scene.home), scene.session)
            request = ScholarshipRequest.objects.create(
                call=scene.call,
                application=application,
                need_statement="Need.",
                amount=Decimal("300.00"),
                covers=["travel"],
                status="under_review",
            )
            services.request_review_save(request=request, actor=scene.staff, score=6)

    services.call_move(call=scene.call, to="reviewing", actor=scene.staff)
    add(2)
    services.allocation_propose(call=scene.call, actor=scene.staff)
    client.force_login(scene.staff)
    pages = [
        reverse("scholarships:requests", args=[scene.call.pk]),
        reverse("scholarships:allocation", args=[scene.call.pk]),
        reverse("scholarships:calls"),
    ]
    few = [queries(client, url) for url in pages]
    add(6)
    services.allocation_propose(call=scene.call, actor=scene.staff)
    many = [queries(client, url) for url in pages]
    assert many == few
    assert max(many) <= 30
