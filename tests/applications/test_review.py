"""The host's review queue, review page and review criteria, as the people who use them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from medexchange.applications import services
from medexchange.applications.choices import ApplicationState
from medexchange.applications.models import Application, ReviewComment, ReviewCriterion, ReviewScore
from medexchange.common.models import AuditEntry
from tests.applications.conftest import Exchange, applicant_with_profile
from tests.applications.review_helpers import (
    attach_cv,
    criteria,
    many_in_queue,
    submit,
    use_private_root,
)

S = ApplicationState
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_files(settings: Any, tmp_path: Path) -> None:
    use_private_root(settings, tmp_path)


def review_url(application: Application, **query: Any) -> str:
    url = reverse("applications:review", kwargs={"pk": application.pk})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def queue_url(exchange: Exchange) -> str:
    return reverse("applications:queue", kwargs={"pk": exchange.session.pk})


# --------------------------------------------------------------------------- who may open what


def host_urls(exchange: Exchange, application: Application) -> list[str]:
    criterion = ReviewCriterion.objects.create(
        opportunity=exchange.session.opportunity, name="Motivation"
    )
    slug = exchange.session.opportunity.slug
    return [
        reverse("applications:inbound", kwargs={"slug": exchange.host.slug}),
        queue_url(exchange),
        review_url(application),
        reverse("applications:criteria", kwargs={"slug": slug}),
        reverse("applications:criterion-edit", kwargs={"slug": slug, "pk": criterion.pk}),
        reverse("applications:criterion-delete", kwargs={"slug": slug, "pk": criterion.pk}),
    ]


def test_strangers_get_404_on_every_host_page(client: Any, exchange: Exchange) -> None:
    application = submit(exchange)
    urls = host_urls(exchange, application)
    for user in (exchange.other_coordinator, exchange.other_applicant, exchange.applicant):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
            assert client.post(url, {"action": "comment", "body": "x"}).status_code in {404, 405}
    # The home coordinator endorses; the host's pages are not theirs.
    client.force_login(exchange.home_coordinator)
    for url in urls:
        assert client.get(url).status_code == 404, url


def test_anonymous_visitors_are_sent_to_sign_in(client: Any, exchange: Exchange) -> None:
    application = submit(exchange)
    for url in host_urls(exchange, application):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_reviewers_open_the_queue_and_review_but_not_the_criteria(
    client: Any, exchange: Exchange
) -> None:
    application = submit(exchange)
    urls = host_urls(exchange, application)
    client.force_login(exchange.reviewer)
    for url in urls[:3]:
        assert client.get(url).status_code == 200, url
    for url in urls[3:]:
        assert client.get(url).status_code == 404, url
    client.force_login(exchange.host_coordinator)
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_an_application_waiting_for_endorsement_is_not_in_the_hosts_hands(
    client: Any, exchange: Exchange
) -> None:
    application = submit(exchange, endorsement=True)
    client.force_login(exchange.reviewer)
    assert client.get(review_url(application)).status_code == 404
    response = client.get(queue_url(exchange))
    assert "Ama Applicant" not in response.content.decode()


# --------------------------------------------------------------------------- the review page


def test_the_review_page_shows_the_file_beside_the_document_and_changes_nothing(
    client: Any, exchange: Exchange
) -> None:
    application = submit(exchange)
    cv = attach_cv(application)
    second = attach_cv(application, expires_on=exchange.session.start_date)
    client.force_login(exchange.reviewer)

    page = client.get(review_url(application)).content.decode()

    assert "I want to learn emergency care in Lima." in page
    assert "Fictional Accra Medical School" in page
    assert "Ghana" in page
    assert "year 5" in page
    assert f'src="{cv.get_inline_url()}"' in page  # the first document is shown
    assert f'href="?document={second.pk}#viewer"' in page
    assert "before the session ends" in page  # the second one's flag
    assert "2 places left of 2" in page
    application.refresh_from_db()
    assert application.state == S.SUBMITTED  # GET is safe

    page = client.get(review_url(application, document=second.pk)).content.decode()
    assert f'src="{second.get_inline_url()}"' in page
    assert f'src="{cv.get_inline_url()}"' not in page


def test_the_document_viewer_may_frame_the_inline_file(client: Any, exchange: Exchange) -> None:
    application = submit(exchange)
    cv = attach_cv(application)
    client.force_login(exchange.reviewer)

    response = client.get(cv.get_inline_url())

    assert response.status_code == 200
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors" not in response["Content-Security-Policy"]
    assert client.get(cv.get_download_url())["X-Frame-Options"] == "DENY"


def test_a_document_of_another_application_is_not_shown(client: Any, exchange: Exchange) -> None:
    application = submit(exchange)
    other = submit(exchange, exchange.other_applicant)
    foreign = attach_cv(other)
    client.force_login(exchange.reviewer)

    page = client.get(review_url(application, document=foreign.pk)).content.decode()

    assert foreign.get_inline_url() not in page


def test_scoring_moves_the_file_under_review_and_shows_the_weighted_average(
    client: Any, exchange: Exchange
) -> None:
    motivation, fit = criteria(exchange)
    application = submit(exchange)
    services.application_score(
        application=application,
        actor=exchange.host_coordinator,
        scores={motivation.pk: 5, fit.pk: 10},
    )
    client.force_login(exchange.reviewer)

    response = client.post(
        review_url(application),
        {"action": "score", f"criterion_{motivation.pk}": "3", f"criterion_{fit.pk}": "4"},
    )

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == S.UNDER_REVIEW
    mine = ReviewScore.objects.filter(application=application, reviewer=exchange.reviewer)
    assert {row.criterion_id: row.score for row in mine} == {motivation.pk: 3, fit.pk: 4}
    page = client.get(review_url(application)).content.decode()
    # (5*2 + 10*1 + 3*2 + 4*1) / (2 * (5*2 + 10*1)) = 30 / 40
    assert "Weighted average: <strong>75 %</strong> from 2 reviewers." in page
    assert "Host Coordinator" in page  # the other reviewer's scores are shown
    assert f'name="criterion_{motivation.pk}" value="3"' in page


@pytest.mark.parametrize("value", ["6", "-1", "many"])
def test_a_score_out_of_range_is_a_field_error(client: Any, exchange: Exchange, value: str) -> None:
    motivation, _fit = criteria(exchange)
    application = submit(exchange)
    client.force_login(exchange.reviewer)

    response = client.post(
        review_url(application), {"action": "score", f"criterion_{motivation.pk}": value}
    )

    assert response.status_code == 400
    assert response.context["score_form"].errors[f"criterion_{motivation.pk}"]
    assert not ReviewScore.objects.exists()
    application.refresh_from_db()
    assert application.state == S.SUBMITTED


def test_without_criteria_the_reviewer_scores_overall(client: Any, exchange: Exchange) -> None:
    application = submit(exchange)
    client.force_login(exchange.reviewer)
    page = client.get(review_url(application)).content.decode()
    assert "no review criteria yet" in page
    assert not ReviewCriterion.objects.exists()  # nothing made on GET

    client.post(review_url(application), {"action": "score", "criterion_default": "4"})

    criterion = ReviewCriterion.objects.get()
    assert criterion.name == "Overall"
    assert ReviewScore.objects.get().score == 4
    assert AuditEntry.objects.filter(action="review_criterion.created").exists()


def test_private_comments_are_never_shown_to_the_applicant(client: Any, exchange: Exchange) -> None:
    application = submit(exchange)
    client.force_login(exchange.reviewer)

    client.post(review_url(application), {"action": "comment", "body": "Weak reference letter."})
    empty = client.post(review_url(application), {"action": "comment", "body": "  "})

    assert empty.status_code == 400
    assert empty.context["comment_form"].errors["body"]
    assert ReviewComment.objects.get().body == "Weak reference letter."
    assert "Weak reference letter." in client.get(review_url(application)).content.decode()
    client.force_login(exchange.applicant)
    page = client.get(application.get_absolute_url()).content.decode()
    assert "Weak reference letter." not in page
    assert client.get(review_url(application)).status_code == 404


def test_declining_needs_a_reason_the_applicant_reads(client: Any, exchange: Exchange) -> None:
    application = submit(exchange)
    client.force_login(exchange.reviewer)

    response = client.post(review_url(application), {"action": "decline", "decline-reason": " "})

    assert response.status_code == 400
    assert response.context["decline_form"].errors["reason"]
    application.refresh_from_db()
    assert application.state == S.SUBMITTED
    assert not AuditEntry.objects.filter(action="application.declined").exists()

    client.post(
        review_url(application), {"action": "decline", "decline-reason": "All places went."}
    )
    application.refresh_from_db()
    assert application.state == S.DECLINED
    client.force_login(exchange.applicant)
    assert "All places went." in client.get(application.get_absolute_url()).content.decode()


def test_an_offer_deadline_in_the_past_is_a_field_error(client: Any, exchange: Exchange) -> None:
    application = submit(exchange)
    client.force_login(exchange.reviewer)
    yesterday = timezone.now() - dt.timedelta(days=1)

    response = client.post(
        review_url(application),
        {"action": "offer", "offer-respond_by": yesterday.strftime("%Y-%m-%dT%H:%M")},
    )

    assert response.status_code == 400
    assert response.context["offer_form"].errors["respond_by"]
    application.refresh_from_db()
    assert application.state == S.SUBMITTED


def test_the_offer_deadline_is_read_in_the_hosts_time_zone(client: Any, exchange: Exchange) -> None:
    exchange.host.time_zone = "America/Lima"
    exchange.host.save()
    application = submit(exchange)
    client.force_login(exchange.reviewer)
    page = client.get(review_url(application)).content.decode()
    default = services.default_response_deadline(exchange.session, timezone.now())
    shown = timezone.localtime(default, ZoneInfo("America/Lima")).strftime("%Y-%m-%dT%H")
    assert f'value="{shown}' in page  # the default deadline, in host time

    day = (timezone.now() + dt.timedelta(days=5)).date()
    response = client.post(
        review_url(application),
        {"action": "offer", "offer-respond_by": f"{day.isoformat()}T17:00", "offer-reason": ""},
    )

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == S.OFFERED
    assert application.offer_expires_at == dt.datetime.combine(
        day, dt.time(17), ZoneInfo("America/Lima")
    )


def test_waitlist_then_confirm_after_acceptance(client: Any, exchange: Exchange) -> None:
    application = submit(exchange)
    client.force_login(exchange.reviewer)
    client.post(review_url(application), {"action": "waitlist", "waitlist-reason": ""})
    application.refresh_from_db()
    assert application.state == S.WAITLISTED

    services.application_offer(application=application, actor=exchange.reviewer)
    services.application_accept(application=application, actor=exchange.applicant)
    page = client.get(review_url(application)).content.decode()
    assert "Confirm the placement" in page
    assert "1 place left of 2" in page
    client.post(review_url(application), {"action": "confirm"})
    application.refresh_from_db()
    assert application.state == S.CONFIRMED


def test_an_unknown_action_changes_nothing(client: Any, exchange: Exchange) -> None:
    application = submit(exchange)
    client.force_login(exchange.reviewer)
    assert client.post(review_url(application), {"action": "delete"}).status_code == 302
    application.refresh_from_db()
    assert application.state == S.SUBMITTED


# --------------------------------------------------------------------------- the queue


def test_the_queue_lists_scores_documents_and_flags(client: Any, exchange: Exchange) -> None:
    many_in_queue(exchange, 3)
    client.force_login(exchange.reviewer)

    response = client.get(queue_url(exchange))

    page = response.content.decode()
    assert "3 applications" in page
    assert "Queue Applicant 000" in page
    assert "Ghana" in page
    assert "document expires before the session ends" in page  # applicant 000's CV expires soon
    assert [a.reviewer_count for a in response.context["applications"]] == [1, 1, 1]
    assert "scored by you" in page


def test_the_queue_filters_and_sorts_in_a_shareable_url(client: Any, exchange: Exchange) -> None:
    made = many_in_queue(exchange, 4)
    services.application_decline(
        application=made[1], actor=exchange.host_coordinator, reason="No places."
    )
    extra = applicant_with_profile(exchange.home, full_name="Unscored Person")
    unscored = submit(exchange, extra)
    client.force_login(exchange.reviewer)

    def names(**query: str) -> list[str]:
        response = client.get(queue_url(exchange), query)
        assert response.status_code == 200
        return [str(a.applicant) for a in response.context["applications"]]

    assert names(state="declined") == ["Queue Applicant 001"]
    assert "Queue Applicant 001" not in names(state="awaiting")
    assert names(scored="unscored") == ["Unscored Person"]
    assert "Unscored Person" not in names(scored="mine")
    assert names(q="person") == ["Unscored Person"]
    assert names(country="GH", q="002") == ["Queue Applicant 002"]
    # Scores: applicant n scored n on both criteria; the unscored one sorts last.
    assert names(sort="-score")[:2] == ["Queue Applicant 003", "Queue Applicant 002"]
    assert names(sort="-score")[-1] == "Unscored Person"
    # Received: applicant n reached the host n minutes ago, the unscored one just now.
    assert names(sort="date")[0] == "Queue Applicant 003"
    assert names(sort="-date")[0] == str(unscored.applicant)
    # Nonsense values are dropped, not a 500.
    assert len(names(state="nope", sort="nope", country="ZZ")) == 5
    page = client.get(queue_url(exchange), {"state": "awaiting", "page": "1"}).content.decode()
    assert 'value="awaiting" selected' in page


def test_the_queue_paginates_by_50(client: Any, exchange: Exchange) -> None:
    many_in_queue(exchange, 51, scored=False)
    client.force_login(exchange.reviewer)
    first = client.get(queue_url(exchange), {"sort": "name"})
    assert len(first.context["applications"]) == 50
    assert "sort=name&amp;page=2" in first.content.decode()
    second = client.get(queue_url(exchange), {"sort": "name", "page": "2"})
    assert [str(a.applicant) for a in second.context["applications"]] == ["Queue Applicant 050"]


def test_the_queue_answers_htmx_with_the_results_only(client: Any, exchange: Exchange) -> None:
    many_in_queue(exchange, 1)
    client.force_login(exchange.reviewer)
    response = client.get(queue_url(exchange), headers={"HX-Request": "true"})
    page = response.content.decode()
    assert "Queue Applicant 000" in page
    assert "<html" not in page


@pytest.mark.parametrize("count", [3, 30])
def test_the_queue_takes_a_fixed_number_of_queries(
    client: Any, exchange: Exchange, django_assert_max_num_queries: Any, count: int
) -> None:
    many_in_queue(exchange, count)
    client.force_login(exchange.reviewer)
    client.get(queue_url(exchange))  # warm the session and the content types

    with django_assert_max_num_queries(9):
        response = client.get(queue_url(exchange), {"sort": "-score"})

    assert len(response.context["applications"]) == count


# --------------------------------------------------------------------------- review criteria


def criteria_url(exchange: Exchange) -> str:
    return reverse("applications:criteria", kwargs={"slug": exchange.session.opportunity.slug})


def test_coordinators_add_edit_and_delete_criteria(client: Any, exchange: Exchange) -> None:
    client.force_login(exchange.host_coordinator)
    response = client.post(
        criteria_url(exchange),
        {"name": "Motivation", "description": "", "weight": "2", "max_score": "5", "position": "1"},
    )
    assert response.status_code == 302
    criterion = ReviewCriterion.objects.get()
    assert criterion.weight == 2

    bad = client.post(
        criteria_url(exchange),
        {"name": "Fit", "weight": "0", "max_score": "50", "position": "2"},
    )
    assert bad.status_code == 400
    assert set(bad.context["form"].errors) == {"weight", "max_score"}

    edit = reverse(
        "applications:criterion-edit",
        kwargs={"slug": exchange.session.opportunity.slug, "pk": criterion.pk},
    )
    client.post(edit, {"name": "Motivation", "weight": "3", "max_score": "5", "position": "1"})
    criterion.refresh_from_db()
    assert criterion.weight == 3

    delete = reverse(
        "applications:criterion-delete",
        kwargs={"slug": exchange.session.opportunity.slug, "pk": criterion.pk},
    )
    assert client.post(delete).status_code == 302
    assert not ReviewCriterion.objects.exists()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"review_criterion.created", "review_criterion.updated"} <= actions
    assert "review_criterion.deleted" in actions


def test_deleting_a_criterion_with_scores_needs_a_confirmation(
    client: Any, exchange: Exchange
) -> None:
    motivation, _fit = criteria(exchange)
    application = submit(exchange)
    services.application_score(
        application=application, actor=exchange.reviewer, scores={motivation.pk: 4}
    )
    client.force_login(exchange.host_coordinator)
    delete = reverse(
        "applications:criterion-delete",
        kwargs={"slug": exchange.session.opportunity.slug, "pk": motivation.pk},
    )

    page = client.get(delete).content.decode()
    assert "1 score given by 1 reviewer(s) will be deleted" in page
    refused = client.post(delete)
    assert refused.status_code == 400
    assert ReviewCriterion.objects.filter(pk=motivation.pk).exists()

    assert client.post(delete, {"confirm": "on"}).status_code == 302
    assert not ReviewCriterion.objects.filter(pk=motivation.pk).exists()
    assert not ReviewScore.objects.exists()
    assert exchange.reviewer.notifications.filter(message__contains="Motivation").exists()
