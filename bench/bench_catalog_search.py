"""Benchmark: the catalog search page with 20,000 opportunities and 100,000 sessions.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/test
.venv/bin/python bench/bench_catalog_search.py [--opportunities 20000]
[--sessions 100000] [--requests 200]``

PostgreSQL only (full-text search and trigrams are what is measured). It builds a
throw-away test database (``bench_catalog``), fills it with published opportunities of
about 1,000 hosts and their upcoming sessions, runs ``ANALYZE``, then requests the
search page with a free-text query and three facets (kind, level, specialty) 200
times — varied words and facet values, some misspelt host names — through Django's
test client. It prints the median and 95th percentile of the server time, the number
of SQL queries per page (min/max: it must not depend on the result count), the page
weight raw and gzipped, and a profile of the queries (which take the time), with
``EXPLAIN ANALYZE`` of the slowest.
Goals (issue 3): median < 50 ms, p95 < 150 ms, fixed query count, < 60 KB gzipped.
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
from collections import defaultdict
from decimal import Decimal
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

SEED = 20_000
INSTITUTIONS = 1_000
TEST_DATABASE = "bench_catalog"

GOAL_MEDIAN_MS = 50.0
GOAL_P95_MS = 150.0
GOAL_GZIP_KB = 60.0

HOST_NAMES = [
    "{city} School of Medicine",
    "{city} University Hospital",
    "{city} Teaching Hospital",
    "{city} General Hospital",
    "{city} Children's Hospital",
    "{city} Health Sciences Institute",
    "{city} Medical College",
    "Saint Mary's Hospital {city}",
]
KIND_WORDS = {
    "clinical_elective": ["Clinical Elective", "Elective"],
    "research_elective": ["Research Elective", "Research Placement"],
    "observership": ["Observership", "Clinical Observership"],
    "exchange_program": ["Exchange Program", "Multi-site Exchange"],
    "residency_track": ["Residency Track", "Residency Places"],
    "fellowship": ["Fellowship", "International Fellowship"],
    "course": ["Course", "Intensive Course", "Workshop Course"],
    "teaching_visit": ["Teaching Visit", "Visiting Faculty"],
}
TOPICS = [
    "ultrasound",
    "toxicology",
    "ECG",
    "trauma",
    "resuscitation",
    "triage",
    "airway",
    "sepsis",
    "paediatric",
    "disaster",
    "simulation",
    "obstetric",
    "cardiac",
    "stroke",
    "burns",
    "malaria",
    "tuberculosis",
    "HIV",
    "point-of-care",
    "wilderness",
]
FILLER = [
    "students",
    "residents",
    "physicians",
    "join",
    "the",
    "team",
    "on",
    "ward",
    "rounds",
    "night",
    "shifts",
    "handover",
    "teaching",
    "bedside",
    "supervised",
    "hands-on",
    "rural",
    "urban",
    "district",
    "referral",
    "hospital",
    "department",
    "emergency",
    "unit",
    "clinic",
    "community",
    "outreach",
    "research",
    "project",
    "audit",
    "quality",
    "improvement",
    "journal",
    "club",
    "case",
    "conference",
    "skills",
    "lab",
    "mentor",
    "supervisor",
    "logbook",
    "assessment",
    "certificate",
    "housing",
    "meals",
    "transport",
    "visa",
    "insurance",
]
LANGUAGES = ["en", "fr", "es", "pt", "ar", "sw"]
CEFR = ["B1", "B2", "C1"]


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        sys.exit(
            "bench_catalog_search measures PostgreSQL full-text search: set DATABASE_URL, "
            "e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test "
            f"(the database now is {connection.vendor})."
        )


def populate(rng: random.Random, opportunities: int, sessions: int) -> list[dict[str, Any]]:
    """Hosts, networks, opportunities and sessions; returns a sample for building queries."""
    from medexchange.catalog.choices import (
        AccommodationKind,
        Level,
        OpportunityKind,
        OpportunityStatus,
    )
    from medexchange.catalog.models import Opportunity, Session, Specialty
    from medexchange.network.choices import InstitutionKind, MembershipStatus, NetworkScope
    from medexchange.network.geodata import demo_cities
    from medexchange.network.models import CountryProfile, Institution, Membership, Network

    profiles = {p.code.code: p for p in CountryProfile.objects.all()}
    cities = [city for city in demo_cities() if city["country"] in profiles]
    institution_kinds = [k for k, _label in InstitutionKind.choices]
    hosts = []
    for index in range(INSTITUTIONS):
        city = cities[index % len(cities)]
        template = HOST_NAMES[(index // len(cities)) % len(HOST_NAMES)]
        name = template.format(city=city["name"])
        hosts.append(
            Institution(
                name=name,
                slug=f"bench-host-{index:05}",
                kind=institution_kinds[index % len(institution_kinds)],
                country=profiles[city["country"]],
                city=city["name"],
                latitude=Decimal(str(round(city["latitude"] + rng.uniform(-0.1, 0.1), 5))),
                longitude=Decimal(str(round(city["longitude"] + rng.uniform(-0.1, 0.1), 5))),
                time_zone=city.get("timezone") or "UTC",
            )
        )
    Institution.objects.bulk_create(hosts, batch_size=1000)
    hosts = list(Institution.objects.select_related("country").order_by("pk"))

    world = Network.objects.create(name="Bench Global", slug="global", scope=NetworkScope.GLOBAL)
    africa = Network.objects.create(
        name="Bench Africa", slug="africa", scope=NetworkScope.REGIONAL, region="africa"
    )
    memberships = [
        Membership(
            institution=host,
            network=network,
            status=MembershipStatus.ACTIVE,
            applied_on="2024-01-01",
            joined_on="2024-02-01",
        )
        for host in hosts
        for network in ([world, africa] if host.country.region == "africa" else [world])
    ]
    Membership.objects.bulk_create(memberships, batch_size=2000)

    specialties = list(Specialty.objects.all())
    kinds = [k for k, _label in OpportunityKind.choices]
    levels = [k for k, _label in Level.choices]
    accommodation = [k for k, _label in AccommodationKind.choices]
    now = timezone.now()
    rows = []
    sample: list[dict[str, Any]] = []
    for index in range(opportunities):
        host = rng.choice(hosts)
        kind = rng.choice(kinds)
        specialty = rng.choice(specialties)
        topic = rng.choice(TOPICS)
        kind_words = rng.choice(KIND_WORDS[kind])
        title = rng.choice(
            [
                f"{specialty.name} {kind_words} in {host.city}",
                f"{topic.capitalize()} {kind_words} — {specialty.name}",
                f"{host.city} {specialty.name} {kind_words}",
            ]
        )
        summary = (
            f"{kind_words} in {specialty.name.lower()} at {host.name}, with {topic} "
            f"{' '.join(rng.sample(FILLER, 6))}."
        )[:300]
        description = " ".join(
            [
                f"Our {specialty.name.lower()} team in {host.city} welcomes you.",
                *(
                    " ".join(rng.sample(FILLER, 10)).capitalize() + "."
                    for _ in range(rng.randint(3, 8))
                ),
                f"Focus on {topic} and {rng.choice(TOPICS)}.",
            ]
        )
        languages = [{"code": "en", "level": rng.choice(CEFR)}]
        if rng.random() < 0.4:
            languages.append({"code": rng.choice(LANGUAGES[1:]), "level": rng.choice(CEFR)})
        fee_free = rng.random() < 0.25
        rows.append(
            Opportunity(
                host=host,
                kind=kind,
                title=title[:200],
                slug=f"bench-opportunity-{index:06}",
                summary=summary,
                description=description,
                level=rng.choice(levels),
                specialty=specialty,
                languages=languages,
                duration_days=rng.choice([5, 14, 28, 30, 56, 90, 365]),
                currency="USD",
                application_fee=Decimal(0 if fee_free else rng.choice([25, 50, 100])),
                tuition_fee=Decimal(0 if fee_free else rng.choice([0, 200, 500, 1500])),
                waiver_under_agreement=rng.random() < 0.2,
                waiver_for_lower_income=rng.random() < 0.2,
                scholarship_eligible=rng.random() < 0.3,
                accommodation=rng.choice(accommodation),
                monthly_housing_cost=Decimal(rng.choice([0, 150, 300, 600])),
                status=OpportunityStatus.PUBLISHED,
                published_at=now,
            )
        )
        if index % 50 == 0:
            sample.append(
                {
                    "kind": kind,
                    "level": rows[-1].level,
                    "specialty": specialty.code,
                    "words": [topic, host.city, specialty.name.split()[0]],
                    "host": host.name,
                }
            )
    for row in rows:  # bulk_create skips save(), which fills the search column
        row.search_text = row.compose_search_text()
    Opportunity.objects.bulk_create(rows, batch_size=2000)

    opportunity_ids = list(Opportunity.objects.order_by("pk").values_list("pk", flat=True))
    today = timezone.localdate()
    session_rows = []
    for index in range(sessions):
        # Every opportunity gets at least one session, the rest spread at random.
        opportunity_id = (
            opportunity_ids[index] if index < len(opportunity_ids) else rng.choice(opportunity_ids)
        )
        start = today + dt.timedelta(days=rng.randint(7, 730))
        opens = dt.datetime.combine(start, dt.time(9), dt.UTC) - dt.timedelta(days=120)
        closes = dt.datetime.combine(start, dt.time(9), dt.UTC) - dt.timedelta(days=42)
        session_rows.append(
            Session(
                opportunity_id=opportunity_id,
                start_date=start,
                end_date=start + dt.timedelta(days=rng.randint(4, 60)),
                capacity=rng.randint(1, 10),
                applications_open_at=opens,
                applications_close_at=closes,
                decision_date=start - dt.timedelta(days=21),
            )
        )
    Session.objects.bulk_create(session_rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return sample


def misspell(rng: random.Random, name: str) -> str:
    """Drop, double or swap a letter in each long word: "Nairbi Shool of Medecine"."""
    words = []
    for word in name.split():
        if len(word) > 4:
            position = rng.randrange(1, len(word) - 1)
            change = rng.choice(["drop", "swap", "double"])
            if change == "drop":
                word = word[:position] + word[position + 1 :]
            elif change == "swap":
                word = (
                    word[: position - 1]
                    + word[position]
                    + word[position - 1]
                    + word[position + 1 :]
                )
            else:
                word = word[:position] + word[position] + word[position:]
        words.append(word)
    return " ".join(words)


def search_urls(rng: random.Random, sample: list[dict[str, Any]], count: int) -> list[str]:
    """Free text plus kind, level and specialty: mostly plausible, some empty, some misspelt."""
    from medexchange.catalog.choices import SPECIALTIES, Level, OpportunityKind

    kinds = [k for k, _label in OpportunityKind.choices]
    levels = [k for k, _label in Level.choices]
    specialties = [code for code, _label in SPECIALTIES]
    urls = []
    for index in range(count):
        seed = rng.choice(sample)
        roll = index % 10
        if roll < 6:
            # Words and facets of a real opportunity: a page with results.
            words = rng.sample(seed["words"], rng.choice([1, 1, 2]))
            params = {"kind": seed["kind"], "level": seed["level"], "specialty": seed["specialty"]}
        elif roll < 8:
            # Popular words with random facets: often a few results or none.
            words = rng.sample([*TOPICS, "emergency", "fellowship", "course", "elective"], 1)
            params = {
                "kind": rng.choice(kinds),
                "level": rng.choice(levels),
                "specialty": rng.choice(specialties),
            }
        else:
            # A misspelt host name (trigram fallback), facets of one of its opportunities.
            words = [misspell(rng, seed["host"])]
            params = {"kind": seed["kind"], "level": seed["level"], "specialty": seed["specialty"]}
        query = {"q": " ".join(words).lower() if roll < 8 else words[0], **params}
        urls.append("/opportunities/?" + urlencode(query))
    return urls


def percentile95(samples: list[float]) -> float:
    return sorted(samples)[int(0.95 * (len(samples) - 1))]


def result_count(body: bytes) -> int:
    """The number in "<p class="result-count">N opportunities"."""
    marker = b'class="result-count">'
    start = body.find(marker)
    if start < 0:
        return -1
    digits = body[start + len(marker) : start + len(marker) + 20].split()[0]
    return int(digits.replace(b",", b"").decode() or -1)


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opportunities", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--explain", type=int, default=3, help="EXPLAIN ANALYZE this many slowest queries"
    )
    args = parser.parse_args()
    require_postgresql()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))

    setup_test_environment()
    connection.settings_dict["TEST"]["NAME"] = TEST_DATABASE
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        rng = random.Random(SEED)
        started = time.perf_counter()
        sample = populate(rng, args.opportunities, max(args.sessions, args.opportunities))
        print(
            f"database: {connection.vendor} {connection.get_database_version()}, "
            f"{INSTITUTIONS} hosts, "
            f"{args.opportunities} opportunities, {max(args.sessions, args.opportunities)} "
            f"sessions, filled in {time.perf_counter() - started:.0f} s"
        )
        urls = search_urls(rng, sample, args.requests)
        client = Client()
        for url in urls[:10]:  # warm caches, connections and templates
            client.get(url)

        samples: list[float] = []
        bodies: list[bytes] = []
        for url in urls:
            start = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            bodies.append(response.content)

        # A second pass to count and time the queries (the debug cursor costs a little).
        counts: list[int] = []
        by_position: dict[int, list[float]] = defaultdict(list)
        slowest: list[tuple[float, int, str, str]] = []
        for url in urls:
            with CaptureQueriesContext(connection) as captured:
                client.get(url)
            counts.append(len(captured))
            for position, query in enumerate(captured.captured_queries):
                seconds = float(query["time"])
                by_position[position].append(seconds * 1000)
                slowest.append((seconds * 1000, position, url, query["sql"]))

        results = [result_count(body) for body in bodies]
        zipped = [len(gzip.compress(body)) / 1024 for body in bodies]
        empty_url = "/opportunities/"
        everything = client.get(empty_url).content

        median, p95 = statistics.median(samples), percentile95(samples)
        print(f"requests: {len(urls)} search pages (free text + kind, level, specialty)")
        print(
            f"  results per page: min {min(results)}, median {statistics.median(results):.0f}, "
            f"max {max(results)}; {sum(1 for r in results if r == 0)} with none"
        )
        print(
            f"server time: median {median:.1f} ms (goal < {GOAL_MEDIAN_MS:.0f}), "
            f"p95 {p95:.1f} ms (goal < {GOAL_P95_MS:.0f}), max {max(samples):.1f} ms"
        )
        misspelt = [ms for index, ms in enumerate(samples) if index % 10 >= 8]
        exact = [ms for index, ms in enumerate(samples) if index % 10 < 8]
        print(
            f"  exact words: median {statistics.median(exact):.1f} ms, "
            f"p95 {percentile95(exact):.1f} ms; misspelt host names (trigram): "
            f"median {statistics.median(misspelt):.1f} ms, p95 {percentile95(misspelt):.1f} ms"
        )
        print(f"SQL queries per page: min {min(counts)}, max {max(counts)}")
        if min(counts) != max(counts):
            kinds_of_page: dict[int, set[str]] = defaultdict(set)
            for index, (number, found) in enumerate(zip(counts, results, strict=True)):
                text = "misspelt" if index % 10 >= 8 else "exact"
                kinds_of_page[number].add(f"{text}, {'no results' if not found else 'results'}")
            for number in sorted(kinds_of_page):
                print(
                    f"  {number} queries on pages with: {'; '.join(sorted(kinds_of_page[number]))}"
                )
        print(
            f"page weight: median {statistics.median(len(b) for b in bodies) / 1024:.0f} KB raw, "
            f"gzipped median {statistics.median(zipped):.1f} KB, max {max(zipped):.1f} KB "
            f"(goal < {GOAL_GZIP_KB:.0f} KB); unfiltered page "
            f"{len(everything) / 1024:.0f} KB raw, {len(gzip.compress(everything)) / 1024:.1f} KB "
            "gzipped"
        )
        print("query profile (position in the page: median / p95 / max ms, first SQL words):")
        first_sql: dict[int, str] = {}
        for _ms, position, _url, sql in slowest:
            first_sql.setdefault(position, sql)
        for position in sorted(by_position):
            times = by_position[position]
            print(
                f"  #{position:2}: {statistics.median(times):7.2f} / {percentile95(times):7.2f} / "
                f"{max(times):7.2f}  {first_sql[position][:110]}"
            )
        slowest.sort(reverse=True)
        for ms, position, url, sql in slowest[: args.explain]:
            print(f"\nslow query #{position} ({ms:.1f} ms) of {url}:\n{sql[:2000]}")
            print(explain(sql))
        met = (
            median < GOAL_MEDIAN_MS
            and p95 < GOAL_P95_MS
            and min(counts) == max(counts)
            and max(zipped) < GOAL_GZIP_KB
        )
        print("\ngoals met" if met else "\ngoals NOT met")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
