"""Every application, document and decision URL and API endpoint, as each role.

The roles of the issue: the applicant, another applicant, the applicant's home
coordinator, the host's reviewer, another institution's coordinator, and anonymous.
One accepted application (endorsed first) with an attached CV, a checklist and an
issued acceptance letter makes every URL meaningful. "Not yours" answers 404 like
"does not exist"; a person who may see a file but not take a decision gets 403.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from medexchange.applications import services
from medexchange.applications.letters import letter_issue
from medexchange.applications.models import Application
from tests.applications.conftest import Exchange
from tests.documents.factories import DocumentFactory, DocumentVersionFactory

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "applicant", "other_applicant", "home", "reviewer", "other_institution")
LOGIN = "login"


def _people(exchange: Exchange) -> dict[str, Any]:
    return {
        "anonymous": None,
        "applicant": exchange.applicant,
        "other_applicant": exchange.other_applicant,
        "home": exchange.home_coordinator,
        "reviewer": exchange.reviewer,
        "other_institution": exchange.other_coordinator,
    }


@pytest.fixture
def accepted(exchange: Exchange) -> dict[str, Any]:
    opportunity = exchange.session.opportunity
    opportunity.endorsement_required = True
    opportunity.required_documents = ["cv"]
    opportunity.save()
    cv = DocumentVersionFactory(document=DocumentFactory(owner=exchange.applicant, kind="cv"))
    application = services.application_start(
        applicant=exchange.applicant, session=exchange.session, actor=exchange.applicant
    )
    services.application_save_draft(
        application=application, actor=exchange.applicant, statement="Hello.", versions=[cv]
    )
    services.application_submit(application=application, actor=exchange.applicant)
    services.application_endorse(application=application, actor=exchange.home_coordinator)
    services.application_offer(application=application, actor=exchange.reviewer)
    services.application_accept(application=application, actor=exchange.applicant)
    letter_issue(application=application, kind="acceptance", actor=exchange.reviewer)
    return {"application": application, "cv": cv, "exchange": exchange}


def _pages(world: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """GET pages: URL, and what each role gets (default 404; anonymous: sign in)."""
    application: Application = world["application"]
    exchange: Exchange = world["exchange"]
    pk = application.pk
    item = application.checklist.first()
    assert item is not None
    detail = reverse("applications:detail", args=[pk])
    seen_by_all_three = {"applicant": 200, "home": 200, "reviewer": 200}
    return {
        "detail": (detail, seen_by_all_three),
        "edit": (reverse("applications:edit", args=[pk]), {"applicant": detail}),
        "withdraw": (reverse("applications:withdraw", args=[pk]), {"applicant": 200}),
        "decline-offer": (reverse("applications:decline-offer", args=[pk]), {"applicant": 200}),
        "review": (reverse("applications:review", args=[pk]), {"reviewer": 200}),
        "endorsement": (reverse("applications:endorsement", args=[pk]), {"home": 200}),
        "letter": (reverse("applications:letter", args=[pk, "acceptance"]), seen_by_all_three),
        "document": (reverse("documents:download", args=[world["cv"].pk]), seen_by_all_three),
        "queue": (reverse("applications:queue", args=[exchange.session.pk]), {"reviewer": 200}),
        "inbound": (reverse("applications:inbound", args=[exchange.host.slug]), {"reviewer": 200}),
        "outbound": (reverse("applications:outbound", args=[exchange.home.slug]), {"home": 200}),
        "api-detail": (reverse("api-v1:application-detail", args=[pk]), seen_by_all_three),
        "api-scores": (reverse("api-v1:application-scores", args=[pk]), {"reviewer": 200}),
        "api-comments": (reverse("api-v1:application-comments", args=[pk]), {"reviewer": 200}),
        "checklist-tick": (reverse("applications:checklist-tick", args=[item.pk]), {}),
    }


# POST-only and POST-only-for-this-role pages answer 405 to GET.
GET_NOT_ALLOWED = {"checklist-tick"}


@pytest.mark.parametrize("role", ROLES)
def test_every_page_as_every_role(client: Any, accepted: dict[str, Any], role: str) -> None:
    person = _people(accepted["exchange"])[role]
    if person is not None:
        client.force_login(person)
    for name, (url, allowed) in _pages(accepted).items():
        response = client.get(url)
        if role == "anonymous":
            if name.startswith("api-"):
                assert response.status_code == 403, name
            else:
                assert response.status_code == 302, name
                assert reverse("account_login") in response["Location"], name
            continue
        expected = 405 if name in GET_NOT_ALLOWED else allowed.get(role, 404)
        if isinstance(expected, str):
            assert response.status_code == 302, (name, role)
            assert response["Location"] == expected, (name, role)
        else:
            assert response.status_code == expected, (name, role, response.status_code)


@pytest.mark.parametrize("role", ["other_applicant", "other_institution", "applicant", "home"])
def test_decisions_refused_to_everyone_but_the_host(
    client: Any, exchange: Exchange, role: str
) -> None:
    application = services.application_start(
        applicant=exchange.applicant, session=exchange.session, actor=exchange.applicant
    )
    services.application_save_draft(
        application=application, actor=exchange.applicant, statement="Hello."
    )
    services.application_submit(application=application, actor=exchange.applicant)
    client.force_login(_people(exchange)[role])
    page = client.post(reverse("applications:review", args=[application.pk]), {"action": "offer"})
    assert page.status_code == 404
    api = client.post(
        reverse("api-v1:application-offer", args=[application.pk]),
        {},
        content_type="application/json",
    )
    # Those who may read the file are refused the decision (403); strangers see nothing.
    assert api.status_code == (403 if role in {"applicant", "home"} else 404)
    application.refresh_from_db()
    assert application.state == "submitted"


def test_the_hosts_reviewer_decides(client: Any, exchange: Exchange) -> None:
    application = services.application_start(
        applicant=exchange.applicant, session=exchange.session, actor=exchange.applicant
    )
    services.application_save_draft(
        application=application, actor=exchange.applicant, statement="Hello."
    )
    services.application_submit(application=application, actor=exchange.applicant)
    client.force_login(exchange.reviewer)
    api = client.post(
        reverse("api-v1:application-offer", args=[application.pk]),
        {},
        content_type="application/json",
    )
    assert api.status_code == 200
    application.refresh_from_db()
    assert application.state == "offered"
