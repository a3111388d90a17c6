"""The demo builder makes a call in review with requests, scores and a proposal."""

from __future__ import annotations

import random

from medexchange.funding.models import Fund
from medexchange.scholarships.demo import build_demo_scholarships, delete_demo_scholarships
from medexchange.scholarships.models import ScholarshipCall
from tests.scholarships.conftest import Scene


def test_the_demo_builds_a_call_with_a_proposal(scene: Scene) -> None:
    for index in range(4):
        scene.application(index)
    summary = build_demo_scholarships(scene.network, random.Random(3))  # noqa: S311
    call = ScholarshipCall.objects.get(pk=summary.call_id)
    assert call.status == "reviewing"
    assert summary.requests == 4
    assert summary.reviews == 4  # one staff member scores each
    assert summary.run_status == "optimal"
    assert summary.proposed_awards >= 1
    assert Fund.objects.filter(slug="demo-em-pioneers", network=scene.network).exists()
    assert delete_demo_scholarships(scene.network) == 1
    assert not ScholarshipCall.objects.filter(pk=call.pk).exists()
