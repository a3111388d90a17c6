"""`load_demo` also builds a cycle in its ranking window and a released one."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from medexchange.applications.models import Application, Placement
from medexchange.matching.choices import CycleStatus, RankSide, RunStatus
from medexchange.matching.demo import RANKING_NAME, RELEASED_NAME
from medexchange.matching.models import MatchCycle

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_demo_builds_a_ranking_cycle_with_camila_and_a_released_one() -> None:
    out = StringIO()
    call_command("load_demo", "--seed", "3", "--institutions", "120", stdout=out)
    assert "Match cycles: ranking open /match-cycles/" in out.getvalue()
    ranking = MatchCycle.objects.get(name=RANKING_NAME)
    assert ranking.status == CycleStatus.RANKING
    camila = Application.objects.filter(applicant__email="applicant@demo.medexchange.test")
    assert ranking.applications().filter(pk__in=camila).exists()
    assert ranking.rankings.filter(side=RankSide.APPLICANT).exists()
    assert ranking.rankings.filter(side=RankSide.HOST, position__isnull=False).exists()
    coordinator_host = ranking.sessions.first().opportunity.host  # type: ignore[union-attr]
    assert coordinator_host.roles.filter(user__email="coordinator@demo.medexchange.test").exists()

    released = MatchCycle.objects.get(name=RELEASED_NAME)
    assert released.status == CycleStatus.POST_MATCH
    assert released.released_run is not None
    assert released.released_run.status == RunStatus.DONE
    for session in released.sessions.all():
        held = Placement.objects.filter(session=session, released_at__isnull=True).count()
        assert held <= session.capacity
    # A second load with --reset replaces them.
    call_command("load_demo", "--seed", "3", "--institutions", "120", "--reset", stdout=StringIO())
    assert MatchCycle.objects.filter(name__in=[RANKING_NAME, RELEASED_NAME]).count() == 2
