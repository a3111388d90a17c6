"""`load_demo` also builds a solved rotation plan for an exchange-program session."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from medexchange.accounts.models import User
from medexchange.scheduling import selectors
from medexchange.scheduling.choices import PlanStatus
from medexchange.scheduling.models import RotationPlan
from tests.scheduling.conftest import assert_keeps_hard_rules

pytestmark = pytest.mark.django_db


def test_demo_builds_a_solved_plan_and_reset_replaces_it() -> None:
    out = StringIO()
    call_command("load_demo", "--seed", "1", "--institutions", "120", stdout=out)
    assert "Rotation plan (solved" in out.getvalue()
    plan = RotationPlan.objects.get()
    assert plan.session.opportunity.kind == "exchange_program"
    assert plan.status == PlanStatus.SOLVED
    assert plan.participants.exists() and plan.cells.exists()
    assert_keeps_hard_rules(plan)
    # Published: participants read their rotation and the demo supervisor the roster.
    assert plan.published_at is not None and plan.publications.count() == 1
    assert plan.published_assignment
    supervisor = User.objects.get(email="supervisor@demo.medexchange.test")
    assert selectors.supervised_sites(plan, supervisor)
    # Owned by the demo coordinator's institution when it runs such a program.
    host = plan.session.opportunity.host
    assert host.roles.filter(user__email="coordinator@demo.medexchange.test").exists()
    call_command("load_demo", "--seed", "1", "--institutions", "120", "--reset", stdout=StringIO())
    assert RotationPlan.objects.count() == 1
