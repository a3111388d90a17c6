"""`load_demo` also builds realistic, deterministic demo applications."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from io import StringIO
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db.models import Count, Q
from django.utils import timezone

from medexchange.accounts.models import ApplicantProfile, InstitutionRole, User
from medexchange.applications import demo as applications_demo
from medexchange.applications.choices import (
    ACTIVE_STATES,
    AWAITING_DECISION,
    SEAT_STATES,
    ApplicationState,
    ChecklistItemKind,
)
from medexchange.applications.models import (
    Application,
    ChecklistItem,
    Placement,
    ReviewComment,
    ReviewCriterion,
    ReviewScore,
)
from medexchange.catalog.models import Session
from medexchange.common.models import AuditEntry

S = ApplicationState
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def loaded(db: Any) -> str:
    return load("--seed", "1", "--reset")


def snapshot() -> list[tuple[str, int, str]]:
    return sorted(
        Application.objects.values_list("applicant__email", "session_id", "state").order_by()
    )


def test_prints_a_summary_with_the_queue_and_the_demo_applicant(loaded: str) -> None:
    assert "Demo applications loaded" in loaded
    assert "/institutions/" in loaded and "/inbound/" in loaded
    assert "/manage/sessions/" in loaded
    assert "Camila Rojas's applications (draft, submitted, offered, declined): /applications/" in (
        loaded
    )
    assert "applicant-001@" not in loaded  # generated applicants have no login


def test_applicants_have_complete_profiles_at_member_institutions(loaded: str) -> None:
    profiles = ApplicantProfile.objects.filter(
        user__email__startswith="applicant-", user__email__endswith="@demo.medexchange.test"
    ).select_related("home_country", "home_institution")
    assert 140 <= profiles.count() <= 160
    for profile in profiles:
        assert profile.is_complete_for_applying() == []
        assert profile.home_institution is not None
        assert profile.languages
        profile.full_clean()
    not_established = sum(1 for p in profiles if p.home_country.em_status != "established")
    assert not_established > 0.6 * profiles.count()
    assert not User.objects.filter(
        email__startswith="applicant-", password__startswith="md5$"
    ).exists()


def test_states_timestamps_and_audit_trails_are_consistent(loaded: str) -> None:
    applications = list(Application.objects.select_related("session"))
    assert 700 <= len(applications) <= 900
    states = Counter(application.state for application in applications)
    assert set(states) == set(S.values) - {S.IN_PROGRESS, S.COMPLETED}
    now = timezone.now()
    trails: dict[str, list[AuditEntry]] = defaultdict(list)
    for entry in AuditEntry.objects.filter(
        target_type=ContentType.objects.get_for_model(Application)
    ).order_by("pk"):
        trails[entry.target_id].append(entry)
    for application in applications:
        assert application.session.applications_open_at <= application.created_at
        stamps = [
            application.created_at,
            application.submitted_at,
            application.reached_host_at,
            application.decided_at,
            application.offered_at,
            application.responded_at,
        ]
        present = [stamp for stamp in stamps if stamp is not None]
        assert present == sorted(present), application.pk
        assert all(stamp <= now for stamp in present)
        if application.submitted_at:
            assert application.submitted_at <= application.session.applications_close_at
        if application.state != S.DRAFT and application.submitted_at is None:
            assert application.state == S.WITHDRAWN
        if application.endorsement_required and application.reached_host_at:
            assert application.endorsed_at == application.reached_host_at
        if application.state == S.OFFERED:
            assert application.offer_expires_at is not None
            assert application.offer_expires_at > now
        assert (application.closed_at is not None) == (application.state not in ACTIVE_STATES)
        entries = trails[str(application.pk)]
        chain = [entry for entry in entries if entry.to_state]
        assert (chain[0].action, chain[0].from_state, chain[0].to_state) == (
            "application.created",
            "",
            S.DRAFT,
        )
        for before, after in itertools.pairwise(chain):
            assert after.from_state == before.to_state
            assert before.created_at <= after.created_at
        assert chain[-1].to_state == application.state
        assert chain[0].created_at == application.created_at
        assert all(entry.created_at <= now for entry in entries)
        if application.applicant_id:
            assert chain[0].actor_id == application.applicant_id


def test_seats_never_exceed_capacity_and_follow_seat_states(loaded: str) -> None:
    held = Placement.objects.filter(released_at__isnull=True)
    per_session = held.values("session").annotate(n=Count("pk"))
    capacity = dict(Session.objects.values_list("pk", "capacity"))
    assert per_session
    for row in per_session:
        assert row["n"] <= capacity[row["session"]]
    seat_holders = set(
        Application.objects.filter(state__in=SEAT_STATES).values_list("pk", flat=True)
    )
    assert set(held.values_list("application_id", flat=True)) == seat_holders
    for placement in Placement.objects.select_related("application"):
        assert placement.session_id == placement.application.session_id
        assert placement.created_at == placement.application.responded_at
        if placement.released_at is not None:
            assert placement.application.state == S.WITHDRAWN
    with_seat = Application.objects.filter(placement__isnull=False)
    checklists = ChecklistItem.objects.filter(application__in=with_seat)
    assert checklists.count() == 5 * with_seat.count()
    assert set(checklists.values_list("kind", flat=True)) == set(ChecklistItemKind.values)
    assert checklists.filter(applicant_done_at__isnull=False).exists()
    assert checklists.filter(applicant_done_at__isnull=True).exists()
    for item in ChecklistItem.objects.filter(application__state=S.CONFIRMED):
        assert item.is_done


def test_the_role_institution_has_an_inbound_queue_with_reviews(loaded: str) -> None:
    coordinator = User.objects.get(email="coordinator@demo.medexchange.test")
    reviewer = User.objects.get(email="reviewer@demo.medexchange.test")
    kenya = InstitutionRole.objects.get(user=coordinator).institution
    inbound = Application.objects.reviewable_by(coordinator)
    assert inbound.count() >= 40
    assert not inbound.exclude(session__opportunity__host=kenya).exists()
    sessions = inbound.values("session").distinct().count()
    assert 3 <= sessions <= 6  # 3 to 5 chosen, and perhaps one more from the random ones
    assert inbound.filter(state__in=AWAITING_DECISION).count() >= 10
    assert inbound.filter(state=S.UNDER_REVIEW).exists()
    assert set(Application.objects.reviewable_by(reviewer)) == set(inbound)

    for opportunity_id in inbound.values_list("session__opportunity", flat=True).distinct():
        criteria = ReviewCriterion.objects.filter(opportunity_id=opportunity_id).count()
        assert criteria == 0 or 2 <= criteria <= 3
    scored = ReviewScore.objects.filter(application__state=S.UNDER_REVIEW)
    assert scored.exists()
    assert ReviewComment.objects.filter(application__in=inbound).exists()
    assert not ReviewScore.objects.exclude(application__in=inbound).exists()
    for score in ReviewScore.objects.select_related("criterion"):
        assert 0 <= score.score <= score.criterion.max_score
    # Her coordinator endorses the residents of the role institution.
    endorsed = Application.objects.filter(home_institution=kenya, endorsed_at__isnull=False)
    assert (
        AuditEntry.objects.filter(
            action="application.endorsed",
            actor=coordinator,
            target_id__in=[str(pk) for pk in endorsed.values_list("pk", flat=True)],
        ).count()
        == endorsed.count()
    )


def test_hosts_take_different_times_to_decide(loaded: str) -> None:
    decided = Application.objects.filter(decided_at__isnull=False, reached_host_at__isnull=False)
    days: dict[int, list[float]] = defaultdict(list)
    for host, reached, decision in decided.values_list(
        "session__opportunity__host", "reached_host_at", "decided_at"
    ):
        days[host].append((decision - reached).total_seconds() / 86400)
    medians = sorted(
        sorted(values)[len(values) // 2] for values in days.values() if len(values) >= 3
    )
    assert medians[0] < 8 and medians[-1] > 15


def test_the_demo_applicant_has_four_applications(loaded: str) -> None:
    camila = User.objects.get(email="applicant@demo.medexchange.test")
    applications = {a.state: a for a in Application.objects.filter(applicant=camila)}
    assert set(applications) == {S.DRAFT, S.SUBMITTED, S.OFFERED, S.DECLINED}
    offered = applications[S.OFFERED]
    assert offered.offer_expires_at is not None
    left = offered.offer_expires_at - timezone.now()
    assert dt.timedelta(days=4, hours=23) < left <= dt.timedelta(days=5)
    declined = applications[S.DECLINED]
    assert declined.decision_reason
    assert applications[S.SUBMITTED].reached_host_at is not None
    assert applications[S.DRAFT].submitted_at is None
    assert len({a.session.opportunity_id for a in applications.values()}) == 4


def test_same_seed_and_time_give_the_same_applications(loaded: str) -> None:
    now = timezone.now()
    applications_demo.delete_demo_applications()
    first = applications_demo.build_demo_applications(seed=1, now=now)
    rows = snapshot()
    audit = AuditEntry.objects.count()
    applications_demo.delete_demo_applications()
    assert not Application.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="application.").exists()
    assert not User.objects.filter(email__startswith="applicant-").exists()
    second = applications_demo.build_demo_applications(seed=1, now=now)
    assert snapshot() == rows
    assert second.states == first.states
    assert AuditEntry.objects.count() == audit
    applications_demo.delete_demo_applications()
    other = applications_demo.build_demo_applications(seed=2, now=now)
    assert snapshot() != rows
    assert other.applications > 700


def test_reset_twice_replaces_the_applications(loaded: str) -> None:
    count = Application.objects.count()
    users = User.objects.count()
    load("--seed", "1", "--reset")
    output = load("--seed", "1", "--reset")
    assert "Demo applications loaded" in output
    assert Application.objects.count() == count
    assert User.objects.count() == users
    assert not AuditEntry.objects.filter(
        ~Q(target_id__in=[str(pk) for pk in Application.objects.values_list("pk", flat=True)]),
        target_type=ContentType.objects.get_for_model(Application),
    ).exists()
