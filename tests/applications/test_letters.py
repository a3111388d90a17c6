"""Acceptance and visa-support letters: issue, PDF, who downloads, public verification."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from pypdf import PdfReader

from medexchange.applications import letters, services
from medexchange.applications.choices import ApplicationState, LetterKind
from medexchange.applications.models import Application, Letter
from medexchange.common.models import AuditEntry, Notification
from tests.applications.conftest import Exchange

S = ApplicationState
pytestmark = pytest.mark.django_db


def submitted(exchange: Exchange) -> Application:
    application = services.application_start(
        applicant=exchange.applicant, session=exchange.session, actor=exchange.applicant
    )
    services.application_save_draft(
        application=application, actor=exchange.applicant, statement="I want to learn."
    )
    return services.application_submit(application=application, actor=exchange.applicant)


def accepted(exchange: Exchange) -> Application:
    application = submitted(exchange)
    services.application_offer(application=application, actor=exchange.host_coordinator)
    return services.application_accept(application=application, actor=exchange.applicant)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def letter_url(application: Application, kind: str = LetterKind.ACCEPTANCE) -> str:
    return reverse("applications:letter", args=[application.pk, kind])


def test_issuing_is_refused_before_the_applicant_accepted(exchange: Exchange, client: Any) -> None:
    application = submitted(exchange)
    with pytest.raises(ValidationError) as error:
        letters.letter_issue(
            application=application, kind=LetterKind.ACCEPTANCE, actor=exchange.reviewer
        )
    assert error.value.code == "not_accepted"
    client.force_login(exchange.reviewer)
    response = client.post(
        reverse("applications:letter-issue", args=[application.pk, "acceptance"]), follow=False
    )
    assert response.status_code == 302
    assert not Letter.objects.exists()
    messages = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("accepted a place" in message for message in messages)


def test_only_the_host_issues(exchange: Exchange, client: Any) -> None:
    application = accepted(exchange)
    for stranger in (exchange.applicant, exchange.home_coordinator, exchange.other_coordinator):
        with pytest.raises(PermissionDenied):
            letters.letter_issue(application=application, kind="acceptance", actor=stranger)
    client.force_login(exchange.other_coordinator)
    url = reverse("applications:letter-issue", args=[application.pk, "acceptance"])
    assert client.post(url).status_code == 404
    assert not Letter.objects.exists()


def test_the_host_issues_a_pdf_with_the_verification_code(exchange: Exchange, client: Any) -> None:
    application = accepted(exchange)
    client.force_login(exchange.reviewer)
    response = client.post(
        reverse("applications:letter-issue", args=[application.pk, "visa_support"])
    )
    assert response.status_code == 302
    letter = Letter.objects.get()
    assert letter.kind == LetterKind.VISA_SUPPORT
    assert letter.holder_name == "Ama Applicant"
    assert letter.host_name == "Fictional Lima Teaching Hospital"
    assert "Ama Applicant" in letter.body  # the default text, placeholders filled
    assert "{applicant}" not in letter.body
    assert AuditEntry.objects.filter(action="application.letter_issued").count() == 1
    assert Notification.objects.filter(user=exchange.applicant, message__contains="ready").exists()

    client.force_login(exchange.applicant)
    response = client.get(letter_url(application, "visa_support"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    content = response.content
    assert content.startswith(b"%PDF")
    text = pdf_text(content)
    assert letter.verification_code in text
    assert "Ama Applicant" in text
    assert "/verify/" in text


def test_the_hosts_template_is_filled_and_unknown_placeholders_refused(
    exchange: Exchange,
) -> None:
    with pytest.raises(ValidationError):
        letters.letter_template_save(
            institution=exchange.host,
            kind="acceptance",
            actor=exchange.host_coordinator,
            values={"body": "Dear {name}", "signatory_name": "Dr Rosa Quispe"},
        )
    with pytest.raises(PermissionDenied):  # reviewers review; coordinators word letters
        letters.letter_template_save(
            institution=exchange.host,
            kind="acceptance",
            actor=exchange.reviewer,
            values={"body": "Dear {applicant}", "signatory_name": "Dr Rosa Quispe"},
        )
    letters.letter_template_save(
        institution=exchange.host,
        kind="acceptance",
        actor=exchange.host_coordinator,
        values={
            "body": "{applicant} joins {opportunity} at {host} in {city}, {country}, "
            "from {start} to {end}. {unknown braces stay}",
            "signatory_name": "Dr Rosa Quispe",
            "signatory_title": "Director of Education",
        },
    )
    assert AuditEntry.objects.filter(action="letter_template.created").count() == 1
    application = accepted(exchange)
    letter = letters.letter_issue(
        application=application, kind="acceptance", actor=exchange.host_coordinator
    )
    assert letter.body.startswith(
        "Ama Applicant joins Fictional Lima EM Elective at Fictional Lima Teaching Hospital in Lima"
    )
    assert "{unknown braces stay}" in letter.body
    assert letter.signatory_name == "Dr Rosa Quispe"
    html = letters.render_letter_html(letter)
    assert "Director of Education" in html
    assert letter.verification_code in html


def test_reissuing_revokes_the_earlier_letter(exchange: Exchange) -> None:
    application = accepted(exchange)
    first = letters.letter_issue(
        application=application, kind="acceptance", actor=exchange.reviewer
    )
    second = letters.letter_issue(
        application=application, kind="acceptance", actor=exchange.reviewer
    )
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert second.revoked_at is None
    assert letters.latest_letter(application, "acceptance") == second


def test_only_the_applications_people_download(exchange: Exchange, client: Any) -> None:
    application = accepted(exchange)
    letters.letter_issue(application=application, kind="acceptance", actor=exchange.reviewer)
    url = letter_url(application)

    response = client.get(url)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]

    for person, status in (
        (exchange.applicant, 200),
        (exchange.reviewer, 200),
        (exchange.host_coordinator, 200),
        (exchange.home_coordinator, 200),
        (exchange.other_applicant, 404),
        (exchange.other_coordinator, 404),
    ):
        client.force_login(person)
        assert client.get(url).status_code == status, person
    client.force_login(exchange.applicant)
    # No visa-support letter was issued, and an unknown kind is no letter at all.
    assert client.get(letter_url(application, "visa_support")).status_code == 404
    assert client.get(letter_url(application, "diploma")).status_code == 404


def test_a_revoked_letter_is_no_longer_downloaded_and_verifies_as_revoked(
    exchange: Exchange, client: Any
) -> None:
    application = accepted(exchange)
    letter = letters.letter_issue(
        application=application, kind="acceptance", actor=exchange.reviewer
    )
    client.force_login(exchange.reviewer)
    response = client.post(reverse("applications:letter-revoke", args=[letter.pk]))
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.revoked_at is not None
    assert client.get(letter_url(application)).status_code == 404
    client.logout()
    page = client.get(reverse("applications:verify-letter", args=[letter.verification_code]))
    assert page.status_code == 200
    assert "Revoked" in page.content.decode()


def test_the_public_page_shows_what_the_letter_certifies_and_nothing_more(
    exchange: Exchange, client: Any
) -> None:
    application = accepted(exchange)
    letter = letters.letter_issue(
        application=application, kind="visa_support", actor=exchange.reviewer
    )
    response = client.get(reverse("applications:verify-letter", args=[letter.verification_code]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Valid" in page
    for fact in (
        "Ama Applicant",
        "Fictional Lima Teaching Hospital",
        "Fictional Lima EM Elective",
        "Visa-support letter",
    ):
        assert fact in page
    for private in (
        exchange.applicant.email,
        "I want to learn.",  # the statement
        "+233",  # phone numbers of the profile
        "Kofi Mensah",  # the emergency contact
        "Fictional Accra Medical School",  # the home institution
        letter.body[:40],
    ):
        assert private not in page


def test_codes_are_typed_in_any_case_and_unknown_ones_are_404(
    exchange: Exchange, client: Any
) -> None:
    application = accepted(exchange)
    letter = letters.letter_issue(
        application=application, kind="acceptance", actor=exchange.reviewer
    )
    assert client.get(reverse("applications:verify")).status_code == 200
    typed = " ".join([letter.verification_code[:8].lower(), letter.verification_code[8:]])
    response = client.get(reverse("applications:verify"), {"code": typed})
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "applications:verify-letter", args=[letter.verification_code]
    )
    unknown = client.get(reverse("applications:verify-letter", args=["NOSUCHCODE234567"]))
    assert unknown.status_code == 404
    assert "There is no letter with the code NOSUCHCODE234567" in unknown.content.decode()
    lower = client.get(reverse("applications:verify-letter", args=["nosuchcode234567"]))
    assert lower.status_code == 302


def test_lookups_are_rate_limited_per_address(
    exchange: Exchange, client: Any, settings: Any
) -> None:
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "letter_verify": "3/m/ip"}
    url = reverse("applications:verify-letter", args=["NOSUCHCODE234567"])
    assert [client.get(url).status_code for _ in range(4)] == [404, 404, 404, 429]


def test_arabic_letters_are_right_to_left_and_no_resource_is_fetched(
    exchange: Exchange,
) -> None:
    exchange.applicant.preferred_language = "ar"
    exchange.applicant.save()
    application = accepted(exchange)
    letter = letters.letter_issue(
        application=application, kind="acceptance", actor=exchange.reviewer
    )
    html = letters.render_letter_html(letter)
    assert 'lang="ar"' in html
    assert 'dir="rtl"' in html
    assert letters.render_letter_pdf(letter).startswith(b"%PDF")
    for url in ("https://example.org/logo.png", "file:///etc/passwd", "http://127.0.0.1/x"):
        with pytest.raises(ValueError, match="no external resource"):
            letters.refuse_remote_fetch(url)


def test_host_coordinators_word_the_letters_with_a_preview(exchange: Exchange, client: Any) -> None:
    url = reverse("applications:letter-templates", args=[exchange.host.slug])
    client.force_login(exchange.reviewer)
    assert client.get(url).status_code == 404
    client.force_login(exchange.host_coordinator)
    page = client.get(url)
    assert page.status_code == 200
    assert "Visa-support letter" in page.content.decode()
    values = {
        "kind": "acceptance",
        "acceptance-body": "Welcome {applicant} to {city}.",
        "acceptance-signatory_name": "Dr Rosa Quispe",
        "acceptance-signatory_title": "",
    }
    preview = client.post(url, {**values, "action": "preview"})
    assert preview.status_code == 200
    assert "Welcome Jane Participant to Lima." in preview.content.decode()
    assert not exchange.host.letter_templates.exists()
    saved = client.post(url, {**values, "action": "save"})
    assert saved.status_code == 302
    template = exchange.host.letter_templates.get()
    assert template.body == "Welcome {applicant} to {city}."


def test_the_application_page_offers_the_host_to_issue_letters(
    exchange: Exchange, client: Any
) -> None:
    application = submitted(exchange)
    client.force_login(exchange.reviewer)
    page = client.get(application.get_absolute_url()).content.decode()
    assert "Issue acceptance letter" not in page
    services.application_offer(application=application, actor=exchange.host_coordinator)
    services.application_accept(application=application, actor=exchange.applicant)
    page = client.get(application.get_absolute_url()).content.decode()
    assert "Issue acceptance letter" in page
    assert "Issue visa-support letter" in page
    client.force_login(exchange.applicant)
    page = client.get(application.get_absolute_url()).content.decode()
    assert "Issue acceptance letter" not in page
