"""A person's data: the export ZIP, account deletion, and the retention of documents."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from medexchange.accounts.models import ApplicantProfile, User
from medexchange.applications import letters, services
from medexchange.applications.choices import ApplicationState
from medexchange.applications.models import Application, ApplicationDocument, Letter
from medexchange.applications.tasks import purge_finished_documents
from medexchange.catalog.choices import DocumentKind
from medexchange.common.models import AuditEntry, Notification
from medexchange.documents.models import Document, DocumentVersion, private_storage
from tests.applications import conftest as application_fixtures
from tests.applications.conftest import Exchange, applicant_with_profile
from tests.documents.factories import (
    PDF_BYTES,
    DocumentFactory,
    DocumentVersionFactory,
    RefereeRequestFactory,
    stored_files,
)
from tests.factories import PASSWORD

# The applications' small exchange (a host, a home school, people), shared with this module.
exchange = application_fixtures.exchange

S = ApplicationState
pytestmark = pytest.mark.django_db
REFEREE_SECRET = b"%PDF-1.4\n% CONFIDENTIAL-REFEREE-WORDS\n%%EOF\n"


@pytest.fixture(autouse=True)
def private_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def with_vault(user: User) -> dict[str, Any]:
    """A CV of two versions and a referee's confidential letter in ``user``'s vault."""
    cv = DocumentFactory(owner=user, kind=DocumentKind.CV, title="My CV")
    old = DocumentVersionFactory(document=cv, number=1, original_name="cv old.pdf")
    new = DocumentVersionFactory(document=cv, number=2, original_name="cv.pdf")
    letter = DocumentFactory(
        owner=user,
        kind=DocumentKind.RECOMMENDATION,
        title="Recommendation letter from Dr Amina Okafor",
        is_confidential=True,
    )
    secret = DocumentVersion.objects.create(
        document=letter,
        number=1,
        storage_name=private_storage().save("referee-letter", ContentFile(REFEREE_SECRET)),
        original_name="letter.pdf",
        content_type="application/pdf",
        size=len(REFEREE_SECRET),
        sha256="0" * 64,
    )
    referee = RefereeRequestFactory(applicant=user, used_at=timezone.now(), document=letter)
    return {
        "cv": cv,
        "old": old,
        "new": new,
        "letter": letter,
        "secret": secret,
        "referee": referee,
    }


def apply(exchange: Exchange, user: User, versions: Sequence[Any] = ()) -> Application:
    application = services.application_start(applicant=user, session=exchange.session, actor=user)
    services.application_save_draft(
        application=application,
        actor=user,
        statement=f"Statement of {user.full_name}.",
        versions=list(versions),
    )
    return services.application_submit(application=application, actor=user)


def accepted(exchange: Exchange, user: User, versions: Sequence[Any] = ()) -> Application:
    application = apply(exchange, user, versions)
    services.application_offer(application=application, actor=exchange.host_coordinator)
    return services.application_accept(application=application, actor=user)


# --------------------------------------------------------------------------- export


def test_the_export_holds_the_data_and_files_but_never_the_confidential_letter(
    exchange: Exchange, client: Any
) -> None:
    user = exchange.applicant
    vault = with_vault(user)
    application = accepted(exchange, user, [vault["new"], vault["secret"]])
    letters.letter_issue(application=application, kind="acceptance", actor=exchange.reviewer)
    client.force_login(user)
    url = reverse("accounts:data-export")
    assert client.get(url).status_code == 200

    response = client.post(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    data = json.loads(archive.read("data.json"))

    assert data["account"]["email"] == user.email
    assert data["profile"]["phone"] == "+233201234567"
    [row] = data["applications"]
    assert row["state"] == S.ACCEPTED
    assert row["statement"] == "Statement of Ama Applicant."
    assert [entry["to"] for entry in row["timeline"] if entry["to"]] == [
        S.DRAFT,
        S.SUBMITTED,
        S.OFFERED,
        S.ACCEPTED,
    ]
    assert row["letters"][0]["kind"] == "acceptance"
    assert {document["title"] for document in data["documents"]} == {
        "My CV",
        "Recommendation letter from Dr Amina Okafor",
    }
    assert data["referee_requests"][0]["referee_name"] == "Dr Amina Okafor"
    assert data["notifications"]
    assert data["saved_searches"] == []

    files = [name for name in names if name.startswith("documents/")]
    assert len(files) == 2  # both versions of the CV
    assert all(archive.read(name) == PDF_BYTES for name in files)
    assert any(name.endswith("cv_old.pdf") for name in files)
    confidential = next(d for d in data["documents"] if d["is_confidential"])
    assert confidential["versions"][0]["file"] is None
    assert b"CONFIDENTIAL-REFEREE-WORDS" not in response.content
    for name in names:
        assert b"CONFIDENTIAL-REFEREE-WORDS" not in archive.read(name)
    assert AuditEntry.objects.filter(action="account.data_exported").count() == 1


def test_the_export_is_only_ones_own(exchange: Exchange, client: Any) -> None:
    with_vault(exchange.other_applicant)
    apply(exchange, exchange.other_applicant)
    client.force_login(exchange.applicant)
    archive = zipfile.ZipFile(io.BytesIO(client.post(reverse("accounts:data-export")).content))
    data = json.loads(archive.read("data.json"))
    assert data["applications"] == []
    assert data["documents"] == []
    assert archive.namelist() == ["data.json"]
    anonymous = client.__class__()
    assert anonymous.post(reverse("accounts:data-export")).status_code == 302


# --------------------------------------------------------------------------- deletion


def test_deletion_erases_the_person_and_keeps_anonymous_statistics(
    exchange: Exchange, client: Any, private_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    exchange.session.capacity = 1
    exchange.session.save()
    user = exchange.applicant
    vault = with_vault(user)
    mine = accepted(exchange, user, [vault["new"], vault["secret"]])
    letter = letters.letter_issue(application=mine, kind="visa_support", actor=exchange.reviewer)
    waiting = apply(exchange, exchange.other_applicant)
    services.application_waitlist(application=waiting, actor=exchange.host_coordinator)
    other_files = with_vault(exchange.other_applicant)
    before_files = set(stored_files(private_root))
    by_country = dict(
        Application.objects.values_list("home_country")
        .annotate(n=Count("pk"))
        .values_list("home_country", "n")
    )
    total = Application.objects.count()
    user_pk, email, name = user.pk, user.email, user.full_name

    client.force_login(user)
    assert client.get(reverse("accounts:delete")).status_code == 200
    refused = client.post(reverse("accounts:delete"), {"password": "wrong", "confirm": "on"})
    assert refused.status_code == 200
    assert "That is not your password." in refused.content.decode()
    assert User.objects.filter(pk=user_pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:delete"), {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 200
    assert "Your account is deleted" in response.content.decode()

    # The person is gone and cannot sign in.
    assert not User.objects.filter(pk=user_pk).exists()
    assert not client.login(email=email, password=PASSWORD)
    assert client.get(reverse("accounts:preferences")).status_code == 302
    assert not ApplicantProfile.objects.filter(user_id=user_pk).exists()
    assert not Document.objects.filter(owner_id=user_pk).exists()
    assert not Notification.objects.filter(user_id=user_pk).exists()
    # Their files are gone from the storage; the other applicant's stay.
    remaining = set(stored_files(private_root))
    gone = {vault[key].storage_name for key in ("old", "new", "secret")}
    assert gone <= before_files
    assert not gone & remaining
    assert {other_files["new"].storage_name, other_files["secret"].storage_name} <= remaining

    # The application stays for statistics, without the person.
    assert Application.objects.count() == total
    mine.refresh_from_db()
    assert mine.applicant is None
    assert mine.statement == ""
    assert mine.state == S.WITHDRAWN
    assert mine.home_country is not None
    assert not ApplicationDocument.objects.filter(application=mine).exists()
    assert (
        dict(
            Application.objects.values_list("home_country")
            .annotate(n=Count("pk"))
            .values_list("home_country", "n")
        )
        == by_country
    )
    # The seat went to the waitlist.
    waiting.refresh_from_db()
    assert waiting.state == S.OFFERED
    # Letters are revoked and no longer carry the name.
    letter.refresh_from_db()
    assert letter.revoked_at is not None
    assert letter.holder_name == ""
    # The audit log keeps what happened, without the name or the address.
    assert AuditEntry.objects.filter(action="application.withdrawn").exists()
    for entry in AuditEntry.objects.all():
        text = f"{entry.target_repr} {entry.reason} {json.dumps(entry.data)}"
        assert email not in text, entry.action
        assert name not in text, entry.action
    deleted = AuditEntry.objects.get(action="account.deleted")
    assert deleted.target_repr == f"user #{user_pk}"
    assert deleted.data["applications_anonymised"] == 1
    # Other people's notifications no longer name the person.
    assert not Notification.objects.filter(message__contains=name).exists()


def test_deletion_waits_while_a_stay_is_in_progress(exchange: Exchange) -> None:
    from django.core.exceptions import ValidationError

    from medexchange.accounts.privacy import account_delete

    user = exchange.applicant
    application = accepted(exchange, user)
    services.application_confirm(application=application, actor=exchange.host_coordinator)
    services.application_begin(application=application, actor=exchange.host_coordinator)
    with pytest.raises(ValidationError) as error:
        account_delete(user=user, actor=user, password_confirmation=PASSWORD)
    assert error.value.code == "in_progress"
    assert User.objects.filter(pk=user.pk).exists()


# --------------------------------------------------------------------------- retention


def _closed(exchange: Exchange, user: User, versions: Sequence[Any], days_ago: int) -> Application:
    application = apply(exchange, user, versions)
    services.application_withdraw(application=application, actor=user)
    Application.objects.filter(pk=application.pk).update(
        closed_at=timezone.now() - dt.timedelta(days=days_ago)
    )
    application.refresh_from_db()
    return application


def test_retention_purges_only_old_finished_applications(
    exchange: Exchange, settings: Any, private_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    settings.DOCUMENT_RETENTION_DAYS = 30
    user = exchange.applicant
    vault = with_vault(user)
    old = _closed(exchange, user, [vault["old"], vault["secret"]], days_ago=40)
    recent_user = exchange.other_applicant
    recent_vault = with_vault(recent_user)
    recent = _closed(exchange, recent_user, [recent_vault["old"]], days_ago=10)
    # A current version attached to an old application stays: it is in the vault.
    other = applicant_with_profile(exchange.home, full_name="Third Applicant")
    other_vault = with_vault(other)
    current = _closed(exchange, other, [other_vault["new"]], days_ago=400)
    open_application = apply(exchange, exchange.applicant, [vault["new"]])

    with django_capture_on_commit_callbacks(execute=True):
        result = purge_finished_documents.delay().get()
    assert result == {"applications": 2, "versions": 1}

    old.refresh_from_db()
    recent.refresh_from_db()
    current.refresh_from_db()
    assert old.documents_purged_at is not None
    assert current.documents_purged_at is not None
    assert recent.documents_purged_at is None
    assert not old.attachments.exists()
    assert recent.attachments.count() == 1
    assert open_application.attachments.count() == 1
    # The superseded version went, with its file; the vault's current ones stayed.
    assert not DocumentVersion.objects.filter(pk=vault["old"].pk).exists()
    files = stored_files(private_root)
    assert vault["old"].storage_name not in files
    for kept in (vault["new"], vault["secret"], recent_vault["old"], other_vault["new"]):
        assert DocumentVersion.objects.filter(pk=kept.pk).exists()
        assert kept.storage_name in files
    entry = AuditEntry.objects.get(action="application.documents_purged", target_id=str(old.pk))
    assert entry.data["versions_deleted"] == 1

    # Running again does nothing more; the command is the same work.
    out = io.StringIO()
    call_command("purge_documents", stdout=out)
    assert "0 application(s) purged" in out.getvalue()


def test_scheduled_commands_are_thin_wrappers(exchange: Exchange) -> None:
    out = io.StringIO()
    call_command("expire_offers", stdout=out)
    call_command("advance_placements", stdout=out)
    call_command("agreements_advance", stdout=out)
    call_command("close_due_rankings", stdout=out)
    assert "0 offer(s) expired." in out.getvalue()
    assert "0 started, 0 completed." in out.getvalue()
    assert "0 activated, 0 expired, 0 reminded." in out.getvalue()
    assert "0 cycle(s) closed for ranking." in out.getvalue()
    from django.conf import settings

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks == {
        "medexchange.applications.tasks.expire_offers",
        "medexchange.applications.tasks.advance_placements",
        "medexchange.applications.tasks.purge_finished_documents",
        "medexchange.agreements.tasks.agreements_advance",
        "medexchange.matching.tasks.close_due_rankings",
    }
    assert Letter.objects.count() == 0


def test_deletion_removes_invitations_to_every_address_of_the_person(exchange: Exchange) -> None:
    from allauth.account.models import EmailAddress

    from medexchange.accounts.models import Invitation
    from medexchange.accounts.privacy import account_delete

    user = exchange.applicant
    EmailAddress.objects.create(user=user, email="ama.second@example.org", verified=True)
    for address in (user.email.upper(), "Ama.Second@example.org"):
        Invitation.objects.create(email=address, institution=exchange.host, role="reviewer")
    kept = Invitation.objects.create(
        email="someone.else@example.org", institution=exchange.host, role="reviewer"
    )

    account_delete(user=user, actor=user, password_confirmation=PASSWORD)

    assert list(Invitation.objects.all()) == [kept]
