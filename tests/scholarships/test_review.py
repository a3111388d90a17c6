"""Reviewers (the network's staff and the call's named reviewers) score requests 0-10."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from medexchange.common.models import AuditEntry
from medexchange.scholarships.models import RequestReview
from tests import factories
from tests.scholarships.conftest import Scene, ask


def review(client: Any, request: Any, score: Any, comment: str = "") -> Any:
    return client.post(
        reverse("scholarships:review", args=[request.pk]), {"score": score, "comment": comment}
    )


def test_staff_and_named_reviewers_score_and_see_the_mean(client: Any, scene: Scene) -> None:
    request = ask(scene.call, scene.application())
    client.force_login(scene.staff)
    assert review(client, request, 8, "Strong case.").status_code == 302
    client.force_login(scene.reviewer)
    queue = client.get(reverse("scholarships:requests", args=[scene.call.pk]))
    assert queue.status_code == 200
    assert request.get_absolute_url() in queue.content.decode()
    assert review(client, request, 5).status_code == 302
    request.refresh_from_db()
    assert request.status == "under_review"
    page = client.get(request.get_absolute_url()).content.decode()
    assert "Mean score 6.50 from 2 reviewers." in page
    assert "Strong case." in page
    assert AuditEntry.objects.filter(action="scholarship_request.scored").count() == 2


def test_scoring_again_changes_the_one_score(client: Any, scene: Scene) -> None:
    request = ask(scene.call, scene.application())
    client.force_login(scene.reviewer)
    review(client, request, 3)
    review(client, request, 9, "Read it again.")
    (only,) = RequestReview.objects.filter(request=request)
    assert (only.score, only.comment) == (9, "Read it again.")


@pytest.mark.parametrize("score", ["11", "-1", "seven", ""])
def test_a_score_outside_0_to_10_is_refused(client: Any, scene: Scene, score: str) -> None:
    request = ask(scene.call, scene.application())
    client.force_login(scene.reviewer)
    response = review(client, request, score)
    assert response.status_code == 400
    assert "score" in response.context["review_form"].errors
    assert not RequestReview.objects.exists()


def test_applicants_coordinators_and_strangers_cannot_score(client: Any, scene: Scene) -> None:
    request = ask(scene.call, scene.application())
    host_coordinator = factories.coordinator_of(scene.host)  # not named on the call
    for person in (
        scene.applicants[0],
        scene.applicants[1],
        scene.other_coordinator,
        host_coordinator,
    ):
        client.force_login(person)
        assert review(client, request, 10).status_code == 404
    assert not RequestReview.objects.exists()


def test_a_reviewer_never_scores_their_own_request(scene: Scene) -> None:
    """Staff who apply themselves are the applicant of their own request, not its judge."""
    from django.core.exceptions import PermissionDenied

    from medexchange.accounts.models import NetworkStaffRole
    from medexchange.scholarships import services

    NetworkStaffRole.objects.create(user=scene.applicants[0], network=scene.network)
    request = ask(scene.call, scene.application())
    with pytest.raises(PermissionDenied):
        services.request_review_save(request=request, actor=scene.applicants[0], score=10)
    assert not RequestReview.objects.exists()
