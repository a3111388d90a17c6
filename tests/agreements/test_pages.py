"""The agreement pages, the API and who may open them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from medexchange.agreements.choices import AgreementStatus
from medexchange.agreements.models import Agreement, Quota
from medexchange.applications.choices import ApplicationState
from medexchange.applications.models import Application, Placement
from medexchange.common.models import AuditEntry
from tests import factories
from tests.agreements.conftest import later_session
from tests.applications.conftest import applicant_with_profile

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _draft(pair: Any) -> Agreement:
    agreement = Agreement.objects.create(
        title="Draft terms", party_a=pair.home, party_b=pair.host, first_year=2026, last_year=2026
    )
    Quota.objects.create(agreement=agreement, sender=pair.home, host=pair.host, amount=2)
    return agreement


def _form(pair: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "title": "Accra and Lima",
        "party_a": pair.home.pk,
        "party_b": pair.host.pk,
        "first_year": "2026",
        "last_year": "2027",
        "unit": "participants",
        "tolerance": "1",
        "quotas-TOTAL_FORMS": "2",
        "quotas-INITIAL_FORMS": "0",
        "quotas-MIN_NUM_FORMS": "0",
        "quotas-MAX_NUM_FORMS": "50",
        "quotas-0-sender": pair.home.pk,
        "quotas-0-host": pair.host.pk,
        "quotas-0-amount": "3",
    }
    data.update(overrides)
    return data


def test_a_coordinator_drafts_with_quotas_and_proposes(pair: Any, client: Any) -> None:
    client.force_login(pair.home_coordinator)
    response = client.post(reverse("agreements:create"), _form(pair))
    agreement = Agreement.objects.get(title="Accra and Lima")
    assert response.status_code == 302
    assert response["Location"] == agreement.get_absolute_url()
    assert [(q.sender, q.host, q.amount) for q in agreement.quotas.all()] == [
        (pair.home, pair.host, 3)
    ]
    response = client.post(reverse("agreements:status", args=[agreement.pk]), {"action": "propose"})
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.PROPOSED

    client.force_login(pair.host_coordinator)
    page = client.get(agreement.get_absolute_url()).content.decode()
    assert "Accept the agreement" in page
    response = client.post(
        reverse("agreements:status", args=[agreement.pk]), {"action": "decline", "reason": ""}
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    client.post(reverse("agreements:status", args=[agreement.pk]), {"action": "accept"})
    agreement.refresh_from_db()
    assert agreement.status in {AgreementStatus.ACCEPTED, AgreementStatus.ACTIVE}
    page = client.get(agreement.get_absolute_url()).content.decode()
    assert "agreement.accepted" in page  # the approvals timeline


def test_bad_input_gives_field_errors(pair: Any, client: Any) -> None:
    client.force_login(pair.home_coordinator)
    response = client.post(
        reverse("agreements:create"),
        _form(pair, last_year="2025", **{"quotas-0-host": pair.other.pk, "quotas-0-amount": "0"}),
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "last_year" in form.errors
    quota_errors = response.context["formset"].forms[0].errors
    assert "amount" in quota_errors
    response = client.post(
        reverse("agreements:create"), _form(pair, **{"quotas-0-host": pair.other.pk})
    )
    assert response.status_code == 400
    assert "from one party to the other" in response.content.decode()
    assert not Agreement.objects.filter(title="Accra and Lima").exists()


def test_editing_a_proposed_agreement_is_refused(pair: Any, client: Any) -> None:
    agreement = _draft(pair)
    Agreement.objects.filter(pk=agreement.pk).update(status=AgreementStatus.PROPOSED)
    client.force_login(pair.home_coordinator)
    response = client.post(reverse("agreements:edit", args=[agreement.pk]), _form(pair))
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.title == "Draft terms"


def test_upload_and_download_the_signed_document(pair: Any, client: Any) -> None:
    agreement = pair.agreement
    client.force_login(pair.host_coordinator)
    url = reverse("agreements:document-upload", args=[agreement.pk])
    fake = SimpleUploadedFile("signed.pdf", b"<html>not a pdf</html>")
    response = client.post(url, {"document": fake})
    assert response.status_code == 400
    assert "not a PDF" in response.content.decode()
    response = client.post(url, {"document": SimpleUploadedFile("signed.pdf", PDF)})
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="agreement.document_uploaded").exists()

    client.force_login(pair.home_coordinator)
    response = client.get(reverse("agreements:document", args=[agreement.pk]))
    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Disposition"].startswith("attachment")


def test_strangers_get_404_and_anonymous_visitors_sign_in(pair: Any, client: Any) -> None:
    agreement = _draft(pair)
    Agreement.objects.filter(pk=pair.agreement.pk).update(
        document_storage_name="x", document_name="x.pdf"
    )
    urls = [
        reverse("agreements:detail", args=[agreement.pk]),
        reverse("agreements:edit", args=[agreement.pk]),
        reverse("agreements:document-upload", args=[agreement.pk]),
        reverse("agreements:document", args=[pair.agreement.pk]),
        reverse("api-v1:agreement-detail", args=[agreement.pk]),
    ]
    for stranger in (pair.other_coordinator, pair.applicant):
        client.force_login(stranger)
        for url in urls:
            assert client.get(url).status_code == 404, (stranger, url)
        assert client.get(reverse("api-v1:agreement-list")).json()["results"] == []
        page = client.get(reverse("agreements:list")).content.decode()
        assert "There is no exchange agreement" in page
    client.logout()
    for url in urls[:4]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_network_staff_read_but_do_not_edit_bilateral_agreements(pair: Any, client: Any) -> None:
    agreement = _draft(pair)
    client.force_login(pair.staff)
    assert client.get(agreement.get_absolute_url()).status_code == 200
    assert client.get(reverse("agreements:edit", args=[agreement.pk])).status_code == 404


def test_api_lists_and_details_with_the_ledger(pair: Any, client: Any) -> None:
    client.force_login(pair.home_coordinator)
    listed = client.get(reverse("api-v1:agreement-list")).json()["results"]
    assert [row["id"] for row in listed] == [pair.agreement.pk]
    detail = client.get(reverse("api-v1:agreement-detail", args=[pair.agreement.pk])).json()
    assert detail["quotas"][0]["sender"] == pair.home.slug
    assert {side["institution"] for side in detail["ledger"]["sides"]} == {
        pair.home.slug,
        pair.host.slug,
    }
    schema = client.get(reverse("schema")).content.decode()
    assert "/api/v1/agreements/" in schema


def _placed(home: Any, session: Any, agreement: Any = None) -> Application:
    now = timezone.now()
    application = Application.objects.create(
        applicant=applicant_with_profile(home),
        session=session,
        state=ApplicationState.ACCEPTED,
        home_institution=home,
        submitted_at=now,
        reached_host_at=now,
        agreement=agreement,
    )
    Placement.objects.create(application=application, session=session)
    return application


def test_ledger_numbers_and_the_tolerance_warning(pair: Any, client: Any) -> None:
    from medexchange.agreements.selectors import agreement_ledger

    agreement = pair.agreement
    agreement.tolerance = 1
    agreement.save()
    start = pair.session.start_date
    long_stay = later_session(pair.session.opportunity, days=60)
    long_stay.start_date = start
    long_stay.end_date = start + dt.timedelta(days=59)
    long_stay.save()
    for session in (pair.session, pair.session, long_stay):
        _placed(pair.home, session, agreement)
    _placed(pair.home, pair.session)  # not under the agreement: not in its ledger
    released = _placed(pair.home, pair.session, agreement)
    Placement.objects.filter(application=released).update(released_at=timezone.now())

    ledger = agreement_ledger(agreement, pair.year)
    home, host = ledger.sides
    assert (home.institution, home.sent, home.hosted) == (pair.home, 3, 0)
    assert home.sent_months == pair_months(pair.session) * 2 + 2
    assert (host.hosted, host.balance) == (3, 3)
    assert home.balance == -3
    assert ledger.warnings == [home]
    client.force_login(pair.host_coordinator)
    page = client.get(agreement.get_absolute_url()).content.decode()
    assert "beyond the agreed tolerance of 1" in page


def pair_months(session: Any) -> Any:
    from medexchange.agreements.selectors import person_months

    return person_months(session.start_date, session.end_date)


def test_network_page_numbers_and_bounded_queries(
    pair: Any, client: Any, django_assert_max_num_queries: Any
) -> None:
    back = later_session(factories.OpportunityFactory(host=pair.home))
    back.start_date = pair.session.start_date
    back.end_date = pair.session.end_date
    back.save()
    for _ in range(3):
        _placed(pair.home, pair.session, pair.agreement)
    _placed(pair.host, back)
    _placed(pair.other, pair.session)
    outsider = factories.InstitutionFactory(name="Not a member")
    _placed(outsider, pair.session)
    url = reverse("agreements:reciprocity", args=[pair.network.slug])
    client.force_login(pair.staff)
    query = {"year": pair.year, "sort": "balance"}
    with django_assert_max_num_queries(14):
        response = client.get(url, query)
    assert response.status_code == 200
    pairs = response.context["report"].pairs
    rows = [(p.first, p.second, p.first_to_second, p.second_to_first, p.balance) for p in pairs]
    assert rows == [
        (pair.home, pair.host, 3, 1, -2),
        (pair.other, pair.host, 1, 0, -1),  # Hanoi sorts before Lima
    ]
    page = response.content.decode()
    assert "<svg" in page and "Who sends to whom" in page
    for _ in range(5):
        _placed(pair.other, pair.session)
    with django_assert_max_num_queries(14):
        client.get(url, query)
    client.force_login(pair.applicant)
    assert client.get(url).status_code == 404
    client.force_login(pair.other_coordinator)
    assert client.get(url).status_code == 200


def test_a_draft_without_the_first_party_is_a_field_error_not_a_crash(
    pair: Any, client: Any
) -> None:
    client.force_login(pair.home_coordinator)
    response = client.post(reverse("agreements:create"), _form(pair, party_a=""))
    assert response.status_code == 400
    assert "party_a" in response.context["form"].errors or "Choose the first party" in (
        response.content.decode()
    )
    assert not Agreement.objects.filter(title="Accra and Lima").exists()
