"""Benchmark: a reviewer's queue of one session holding 2,000 submitted applications.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/test
.venv/bin/python bench/bench_review_queue.py [--applications 2000] [--requests 50]``

PostgreSQL only (the production database). It builds a throw-away test database
(``bench_review``), fills one host's session with submitted applications from 60 home
institutions in a dozen countries — each with two to four attached documents (some
expiring before the session ends) and scored by zero to three reviewers against three
criteria — runs ``ANALYZE``, then requests the reviewer's queue page (``applications:queue``)
through Django's test client with the filters and sorts reviewers use: the default
order, highest score first, awaiting a decision, one home country, not scored by me, a
name search, later pages. It prints the median and 95th percentile of the server time,
the number of SQL queries per page (min/max: it must not depend on the number of rows),
the page weight raw and gzipped, and the slowest query with ``EXPLAIN ANALYZE``.
Goals (issue "review"): p95 < 150 ms, fixed query count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medexchange.settings")

import django

django.setup()

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.utils import timezone

SEED = 2_000
TEST_DATABASE = "bench_review"
HOME_INSTITUTIONS = 60
GOAL_P95_MS = 150.0
UNUSABLE = "!"  # an unusable password hash: nobody signs in with these accounts
GIVEN = ["Ama", "Kofi", "Wanjiru", "Thi", "Minh", "Sofia", "Mateo", "Aisha", "Omar", "Lucia"]
FAMILY = ["Mensah", "Kamau", "Nguyen", "Garcia", "Haddad", "Okafor", "Silva", "Rossi", "Tran"]


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        sys.exit(
            "bench_review_queue measures PostgreSQL: set DATABASE_URL, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/test "
            f"(the database now is {connection.vendor})."
        )


def populate(rng: random.Random, count: int) -> tuple[Any, Any, list[str]]:
    """One host, its session, reviewers and ``count`` applications; returns (session,
    reviewer, home country codes)."""
    from medexchange.accounts.choices import InstitutionRoleKind
    from medexchange.accounts.models import InstitutionRole, User
    from medexchange.applications.models import (
        Application,
        ApplicationDocument,
        ReviewCriterion,
        ReviewScore,
    )
    from medexchange.catalog.choices import DocumentKind, Level, OpportunityKind
    from medexchange.catalog.choices import OpportunityStatus as Status
    from medexchange.catalog.models import Opportunity, Session, Specialty
    from medexchange.documents.models import Document, DocumentVersion
    from medexchange.network.models import CountryProfile, Institution

    countries = list(CountryProfile.objects.order_by("code")[:12])
    host = Institution.objects.create(
        name="Bench Lima Teaching Hospital",
        slug="bench-host",
        country=countries[0],
        city="Lima",
        latitude="-12.04",
        longitude="-77.04",
        time_zone="America/Lima",
    )
    homes = Institution.objects.bulk_create(
        Institution(
            name=f"Bench Home School {index:02}",
            slug=f"bench-home-{index:02}",
            country=countries[index % len(countries)],
            city=f"City {index:02}",
            latitude="0",
            longitude="0",
        )
        for index in range(HOME_INSTITUTIONS)
    )
    opportunity = Opportunity.objects.create(
        host=host,
        kind=OpportunityKind.CLINICAL_ELECTIVE,
        title="Bench Emergency Elective",
        slug="bench-emergency-elective",
        summary="Four weeks in a busy emergency department.",
        level=Level.UNDERGRADUATE,
        specialty=Specialty.objects.get(code="emergency-medicine"),
        languages=[{"code": "en", "level": "B2"}],
        duration_days=28,
        status=Status.PUBLISHED,
    )
    now = timezone.now()
    start = (now + dt.timedelta(days=90)).date()
    session = Session.objects.create(
        opportunity=opportunity,
        start_date=start,
        end_date=start + dt.timedelta(days=27),
        capacity=20,
        applications_open_at=now - dt.timedelta(days=60),
        applications_close_at=now + dt.timedelta(days=20),
        decision_date=start - dt.timedelta(days=30),
    )
    staff = User.objects.bulk_create(
        User(
            email=f"reviewer{index}@bench.example",
            full_name=f"Reviewer {index}",
            password=UNUSABLE,
        )
        for index in range(3)
    )
    InstitutionRole.objects.bulk_create(
        InstitutionRole(user=user, institution=host, role=InstitutionRoleKind.REVIEWER)
        for user in staff
    )
    criteria = [
        ReviewCriterion.objects.create(
            opportunity=opportunity, name=name, weight=weight, max_score=top, position=index
        )
        for index, (name, weight, top) in enumerate(
            [("Motivation", 2, 5), ("Academic record", 1, 10), ("Fit", 1, 5)]
        )
    ]

    applicants = User.objects.bulk_create(
        (
            User(
                email=f"applicant{index:05}@bench.example",
                full_name=f"{rng.choice(GIVEN)} {rng.choice(FAMILY)} {index:05}",
                password=UNUSABLE,
            )
            for index in range(count)
        ),
        batch_size=1000,
    )
    applications = []
    for index, applicant in enumerate(applicants):
        home = homes[index % len(homes)]
        reached = now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 50))
        state = rng.choices(
            ["submitted", "endorsed", "under_review", "waitlisted", "offered", "declined"],
            weights=[50, 10, 25, 5, 5, 5],
        )[0]
        applications.append(
            Application(
                applicant=applicant,
                session=session,
                state=state,
                statement="Why this elective, and what I will take home. " * 20,
                submitted_at=reached,
                reached_host_at=reached,
                endorsed_at=reached if state == "endorsed" else None,
                home_institution=home,
                home_country=home.country,
            )
        )
    applications = Application.objects.bulk_create(applications, batch_size=1000)

    kinds = [DocumentKind.CV, *[k for k, _label in DocumentKind.choices if k != DocumentKind.CV]]
    documents = []
    for application in applications:
        for number in range(rng.randint(2, 4)):
            expiring = rng.random() < 0.05
            documents.append(
                Document(
                    owner_id=application.applicant_id or 0,
                    kind=kinds[number % len(kinds)],
                    title=f"Document {number}",
                    issued_on=dt.date(2025, 1, 1),
                    expires_on=start + dt.timedelta(days=10) if expiring else None,
                )
            )
    documents = Document.objects.bulk_create(documents, batch_size=2000)
    versions = DocumentVersion.objects.bulk_create(
        (
            DocumentVersion(
                document=document,
                number=1,
                storage_name=f"bench-{document.pk}",
                original_name="file.pdf",
                content_type="application/pdf",
                size=1000,
                sha256="0" * 64,
            )
            for document in documents
        ),
        batch_size=2000,
    )
    by_owner: dict[int, list[Any]] = {}
    for document, version in zip(documents, versions, strict=True):
        by_owner.setdefault(document.owner_id, []).append(version)
    ApplicationDocument.objects.bulk_create(
        (
            ApplicationDocument(application=application, version=version)
            for application in applications
            for version in by_owner[application.applicant_id]  # type: ignore[index]
        ),
        batch_size=2000,
    )
    scores = []
    for application in applications:
        for reviewer in rng.sample(staff, rng.choice([0, 1, 1, 2, 3])):
            for criterion in criteria:
                scores.append(
                    ReviewScore(
                        application=application,
                        reviewer=reviewer,
                        criterion=criterion,
                        score=rng.randint(0, criterion.max_score),
                    )
                )
    ReviewScore.objects.bulk_create(scores, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"data: {count} applications, {len(documents)} attached documents, {len(scores)} "
        f"scores by {len(staff)} reviewers, {HOME_INSTITUTIONS} home institutions"
    )
    return session, staff[0], sorted({str(c.code) for c in countries})


def queue_urls(rng: random.Random, base: str, countries: list[str], count: int) -> list[str]:
    """The filters and sorts a reviewer uses, in turn."""
    variants: list[dict[str, str]] = [
        {},
        {"sort": "-score"},
        {"state": "awaiting"},
        {"state": "awaiting", "sort": "-score"},
        {"scored": "unscored"},
        {"scored": "mine", "sort": "score"},
        {"sort": "name"},
        {"sort": "-date", "page": "7"},
        {"page": "20"},
        {"q": "kamau"},
    ]
    urls = []
    for index in range(count):
        query = dict(variants[index % len(variants)])
        if index % 4 == 3:
            query["country"] = rng.choice(countries)
        urls.append(base + ("?" + urlencode(query) if query else ""))
    return urls


def percentile95(samples: list[float]) -> float:
    return sorted(samples)[int(0.95 * (len(samples) - 1))]


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--applications", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="cProfile ten requests")
    args = parser.parse_args()
    require_postgresql()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))

    from django.urls import reverse

    setup_test_environment()
    connection.settings_dict["TEST"]["NAME"] = TEST_DATABASE
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        rng = random.Random(SEED)
        started = time.perf_counter()
        session, reviewer, countries = populate(rng, args.applications)
        print(
            f"database: {connection.vendor} {connection.get_database_version()}, "
            f"filled in {time.perf_counter() - started:.0f} s"
        )
        client = Client()
        client.force_login(reviewer)
        base = reverse("applications:queue", kwargs={"pk": session.pk})
        urls = queue_urls(rng, base, countries, args.requests)
        for url in urls[:10]:  # warm caches, connections and templates
            assert client.get(url).status_code == 200, url

        samples: list[float] = []
        bodies: list[bytes] = []
        for url in urls:
            start = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            bodies.append(response.content)

        counts: list[int] = []
        slowest: list[tuple[float, str, str]] = []
        rows: list[int] = []
        for url in urls:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            counts.append(len(captured))
            rows.append(len(response.context["applications"]))
            for query in captured.captured_queries:
                slowest.append((float(query["time"]) * 1000, url, query["sql"]))

        zipped = [len(gzip.compress(body)) / 1024 for body in bodies]
        median, p95 = statistics.median(samples), percentile95(samples)
        print(f"requests: {len(urls)} queue pages; rows per page: min {min(rows)}, max {max(rows)}")
        print(
            f"server time: median {median:.1f} ms, p95 {p95:.1f} ms (goal < {GOAL_P95_MS:.0f}), "
            f"max {max(samples):.1f} ms"
        )
        print(f"SQL queries per page: min {min(counts)}, max {max(counts)}")
        print(
            f"page weight: median {statistics.median(len(b) for b in bodies) / 1024:.0f} KB raw, "
            f"gzipped median {statistics.median(zipped):.1f} KB, max {max(zipped):.1f} KB"
        )
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            for url in urls[:10]:
                client.get(url)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        slowest.sort(reverse=True)
        ms, url, sql = slowest[0]
        print(f"\nslowest query ({ms:.1f} ms) of {url}:\n{sql[:1500]}")
        print(explain(sql))
        met = p95 < GOAL_P95_MS and min(counts) == max(counts)
        print("\ngoals met" if met else "\ngoals NOT met")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
