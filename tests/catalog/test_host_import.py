"""Bulk import (dry run first, all or nothing) and export in the same format."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from medexchange.catalog.importing import COLUMNS
from medexchange.catalog.models import Opportunity, Session
from medexchange.common.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(member: Any) -> Any:
    return factories.coordinator_of(member)


def row(**overrides: str) -> dict[str, str]:
    data = dict.fromkeys(COLUMNS, "")
    data.update(
        {
            "slug": "em-exchange",
            "title": "One-month EM exchange",
            "kind": "exchange_program",
            "level": "postgraduate",
            "specialty": "emergency-medicine",
            "summary": "Rotate through the city's hospitals.",
            "description": "- three hospitals\n- one month",
            "languages": "es:B2; en:B1",
            "duration_days": "30",
            "training_levels": "resident; physician",
            "home_country_rule": "any",
            "required_documents": "cv; good_standing",
            "currency": "USD",
            "application_fee": "25",
            "waiver_for_lower_income": "yes",
            "accommodation": "host_housing",
            "monthly_housing_cost": "300.50",
            "session_start": "2027-03-01",
            "session_end": "2027-03-30",
            "capacity": "6",
            "applications_open": "2026-10-01 00:00",
            "applications_close": "2027-01-15 23:59",
            "decision_date": "2027-02-01",
        }
    )
    data.update(overrides)
    return data


def csv_file(rows: list[dict[str, str]], name: str = "catalog.csv") -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(), content_type="text/csv")


def xlsx_file(rows: list[dict[str, str]]) -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS))
    for item in rows:
        sheet.append([item[column] for column in COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("catalog.xlsx", buffer.getvalue())


def upload(client: Any, member: Any, file: Any) -> Any:
    return client.post(
        reverse("catalog:opportunity-import", args=[member.slug]), {"file": file, "action": "check"}
    )


def confirm(client: Any, member: Any) -> Any:
    return client.post(
        reverse("catalog:opportunity-import", args=[member.slug]), {"action": "import"}
    )


def test_clean_file_dry_run_writes_nothing_then_import_writes_all_once(
    client: Any, owner: Any, member: Any
) -> None:
    factories.SiteFactory(institution=member, name="Hospital Central")
    rows = [
        row(sites="Hospital Central"),
        row(
            sites="Hospital Central",
            session_start="2027-06-01",
            session_end="2027-06-30",
            applications_close="2027-04-15 23:59",
            decision_date="2027-05-01",
        ),
        row(
            slug="ecg-course",
            title="ECG course",
            kind="course",
            duration_days="3",
            session_start="",
            session_end="",
            capacity="",
            applications_open="",
            applications_close="",
            decision_date="",
        ),
    ]
    client.force_login(owner)
    preview = upload(client, member, csv_file(rows))
    assert preview.status_code == 200
    result = preview.context["result"]
    assert result.is_clean
    assert [r.line for r in result.rows] == [2, 4, 6]  # descriptions span two lines
    assert not Opportunity.objects.exists()
    assert not AuditEntry.objects.exists()
    assert "Nothing has been written yet" in preview.content.decode()

    response = confirm(client, member)
    assert response.status_code == 302
    assert Opportunity.objects.count() == 2
    exchange = Opportunity.objects.get(slug="em-exchange")
    assert exchange.host == member
    assert exchange.status == "draft"
    assert exchange.languages == [{"code": "es", "level": "B2"}, {"code": "en", "level": "B1"}]
    assert exchange.waiver_for_lower_income is True
    assert exchange.description == "- three hospitals\n- one month"
    assert [s.name for s in exchange.sites.all()] == ["Hospital Central"]
    assert exchange.sessions.count() == 2
    assert Session.objects.count() == 2
    # A second "import" has nothing left to import.
    assert confirm(client, member).status_code == 400
    assert Session.objects.count() == 2


def test_errors_are_listed_per_line_and_nothing_is_written(
    client: Any, owner: Any, member: Any
) -> None:
    rows = [
        row(),
        row(session_start="2027-13-01"),
        row(
            slug="bad-numbers",
            capacity="four",
            duration_days="thirty",
            application_fee="ten dollars",
        ),
        row(slug="bad-window", applications_close="2027-03-02 10:00"),
        row(
            slug="bad-codes",
            kind="holiday",
            languages="xx:B2",
            training_levels="wizard",
            specialty="astrology",
            sites="Nowhere",
            eligible_countries="ZZ",
        ),
        row(title="Different title"),
    ]
    client.force_login(owner)
    response = upload(client, member, csv_file(rows))
    assert response.status_code == 400
    errors = {r.line: " ".join(r.errors) for r in response.context["result"].rows}
    assert errors[2] == ""
    assert "session_start" in errors[4]
    assert "capacity" in errors[6] and "duration_days" in errors[6]
    assert "application_fee" in errors[6]
    assert "applications_close" in errors[8]
    assert "specialty" in errors[10] and "sites" in errors[10]
    assert "eligible_countries" in errors[10]
    assert "differ from line 2" in errors[12]
    page = response.content.decode()
    assert "Nothing was written" in page
    assert not Opportunity.objects.exists()
    assert not Session.objects.exists()
    assert not AuditEntry.objects.exists()
    # Nothing to confirm either.
    assert confirm(client, member).status_code == 400
    assert not Opportunity.objects.exists()


def test_slug_of_another_institution_is_refused(client: Any, owner: Any, member: Any) -> None:
    theirs = factories.OpportunityFactory(slug="em-exchange", title="Theirs")
    client.force_login(owner)
    response = upload(client, member, csv_file([row()]))
    assert "another institution" in " ".join(response.context["result"].rows[0].errors)
    theirs.refresh_from_db()
    assert theirs.title == "Theirs"
    assert not Session.objects.exists()


def test_xlsx_import(client: Any, owner: Any, member: Any) -> None:
    client.force_login(owner)
    assert upload(client, member, xlsx_file([row()])).context["result"].is_clean
    assert confirm(client, member).status_code == 302
    assert Session.objects.get().capacity == 6


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (SimpleUploadedFile("notes.pdf", b"%PDF-1.4 hello"), "Upload a CSV file"),
        (SimpleUploadedFile("broken.xlsx", b"PK\x03\x04not really a zip"), "Excel workbook"),
        (SimpleUploadedFile("image.csv", b"\x89PNG\x00\x00"), "not a CSV"),
        (SimpleUploadedFile("blank.csv", b"\n\n  \n"), "no rows"),
        (SimpleUploadedFile("header.csv", (",".join(COLUMNS) + "\n").encode()), "no rows"),
        (SimpleUploadedFile("wrong.csv", b"name,date\nA,2027-01-01\n"), "missing columns"),
    ],
)
def test_malformed_uploads_get_clear_messages(
    client: Any, owner: Any, member: Any, file: Any, message: str
) -> None:
    client.force_login(owner)
    response = upload(client, member, file)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Opportunity.objects.exists()


def test_empty_upload_and_missing_file(client: Any, owner: Any, member: Any) -> None:
    client.force_login(owner)
    response = upload(client, member, SimpleUploadedFile("empty.csv", b""))
    assert response.status_code == 200
    assert "file" in response.context["form"].errors
    response = client.post(
        reverse("catalog:opportunity-import", args=[member.slug]), {"action": "check"}
    )
    assert "file" in response.context["form"].errors


def make_catalog(member: Any) -> None:
    site = factories.SiteFactory(institution=member, name="Hospital, North Wing")
    first = factories.OpportunityFactory(
        host=member,
        slug="alpha",
        description="=SUM(A1:A2) is not a formula here",
        training_levels=["student"],
        required_documents=["cv", "transcript"],
        home_country_rule="listed",
    )
    first.sites.set([site])
    first.eligible_countries.set([factories.country("HT"), factories.country("JM")])
    factories.SessionFactory(opportunity=first)
    factories.SessionFactory(
        opportunity=first,
        start_date=dt.date(2027, 9, 1),
        end_date=dt.date(2027, 9, 28),
        applications_close_at=dt.datetime(2027, 7, 1, 9, 30, tzinfo=dt.UTC),
        decision_date=None,
    )
    factories.SessionFactory(
        opportunity=first,
        cancelled_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        start_date=dt.date(2027, 10, 1),
        end_date=dt.date(2027, 10, 2),
    )
    factories.OpportunityFactory(host=member, slug="beta", min_year_of_study=3)


def snapshot(member: Any) -> list[Any]:
    result = []
    for opportunity in Opportunity.objects.filter(host=member).order_by("slug"):
        fields = {
            f.name: getattr(opportunity, f.name)
            for f in Opportunity._meta.concrete_fields
            if f.name not in {"id", "created_at", "updated_at", "status", "published_at"}
        }
        fields["sites"] = sorted(s.pk for s in opportunity.sites.all())
        fields["countries"] = sorted(str(c.code) for c in opportunity.eligible_countries.all())
        fields["sessions"] = [
            (
                s.start_date,
                s.end_date,
                s.capacity,
                s.applications_open_at,
                s.applications_close_at,
                s.decision_date,
            )
            for s in opportunity.sessions.scheduled().order_by("start_date")
        ]
        result.append(fields)
    return result


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_then_reimport_round_trip(
    client: Any, owner: Any, member: Any, file_format: str
) -> None:
    member.time_zone = "America/Mexico_City"
    member.save()
    make_catalog(member)
    before = snapshot(member)
    client.force_login(owner)
    url = reverse("catalog:opportunity-export", args=[member.slug])
    response = client.get(url + ("?format=xlsx" if file_format == "xlsx" else ""))
    assert response.status_code == 200
    assert f".{file_format}" in response["Content-Disposition"]
    content = response.content
    if file_format == "xlsx":
        sheet = load_workbook(io.BytesIO(content)).active
        assert [c.value for c in sheet[1]] == list(COLUMNS)
        assert sheet.max_row == 4  # header, alpha with 2 sessions, beta without sessions
    else:
        text = content.decode("utf-8-sig")
        assert text.splitlines()[0] == ",".join(COLUMNS)
        assert "'=SUM" in text  # formulas neutralised

    # Re-importing unchanged changes nothing.
    audits = AuditEntry.objects.count()
    upload(client, member, SimpleUploadedFile(f"export.{file_format}", content))
    assert confirm(client, member).status_code == 302
    assert AuditEntry.objects.count() == audits
    assert snapshot(member) == before

    # Into an empty catalog: the same opportunities and sessions come back.
    Session.objects.all().delete()
    Opportunity.objects.all().delete()
    preview = upload(client, member, SimpleUploadedFile(f"export.{file_format}", content))
    assert preview.context["result"].is_clean, [r.errors for r in preview.context["result"].rows]
    assert confirm(client, member).status_code == 302
    assert snapshot(member) == before


def test_export_has_only_this_hosts_rows(client: Any, owner: Any, member: Any) -> None:
    factories.OpportunityFactory(host=member, slug="ours")
    factories.OpportunityFactory(slug="theirs")
    client.force_login(owner)
    text = client.get(reverse("catalog:opportunity-export", args=[member.slug])).content.decode(
        "utf-8-sig"
    )
    assert "ours" in text
    assert "theirs" not in text
