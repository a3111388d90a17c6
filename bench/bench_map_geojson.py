"""Benchmark: the partner map's GeoJSON and the directory page with 5,000 institutions.

Run: ``.venv/bin/python bench/bench_map_geojson.py [--institutions 5000] [--repeat 20]``
(add DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to measure PostgreSQL).
It builds a throw-away test database, fills it, and prints server-side timings
(median and 95th percentile of the whole request through Django's test client),
the GeoJSON size raw and gzipped, and the directory page's query count.
Goals: GeoJSON under 100 ms and under 300 KB gzipped; directory ≤ 10 queries.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medexchange.settings")

import django

django.setup()

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment


def populate(count: int) -> None:
    from medexchange.network.choices import InstitutionKind, MembershipStatus, NetworkScope
    from medexchange.network.geodata import demo_cities
    from medexchange.network.models import CountryProfile, Institution, Membership, Network

    rng = random.Random(5000)
    world = Network.objects.create(name="Bench Global", slug="global", scope=NetworkScope.GLOBAL)
    africa = Network.objects.create(
        name="Bench Africa", slug="africa", scope=NetworkScope.REGIONAL, region="africa"
    )
    profiles = {p.code.code: p for p in CountryProfile.objects.all()}
    cities = demo_cities()
    kinds = [k for k, _label in InstitutionKind.choices]
    institutions = []
    for index in range(count):
        city = cities[index % len(cities)]
        institutions.append(
            Institution(
                name=f"Bench Institution {index:05}",
                slug=f"bench-institution-{index:05}",
                kind=kinds[index % len(kinds)],
                country=profiles[city["country"]],
                city=city["name"],
                latitude=Decimal(str(round(city["latitude"] + rng.uniform(-0.2, 0.2), 5))),
                longitude=Decimal(str(round(city["longitude"] + rng.uniform(-0.2, 0.2), 5))),
            )
        )
    Institution.objects.bulk_create(institutions, batch_size=500)
    memberships = []
    for institution in Institution.objects.select_related("country"):
        memberships.append(
            Membership(
                institution=institution,
                network=world,
                status=MembershipStatus.ACTIVE,
                applied_on="2024-01-01",
                joined_on="2024-02-01",
            )
        )
        if institution.country.region == "africa":
            memberships.append(
                Membership(
                    institution=institution,
                    network=africa,
                    status=MembershipStatus.ACTIVE,
                    applied_on="2024-01-01",
                )
            )
    Membership.objects.bulk_create(memberships, batch_size=500)


def timed(
    client: Client, url: str, repeat: int, headers: dict[str, str] | None = None
) -> tuple[list[float], bytes]:
    body = b""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        body = response.content
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return samples, body


def percentile95(samples: list[float]) -> float:
    return sorted(samples)[int(0.95 * (len(samples) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--institutions", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        populate(args.institutions)
        client = Client()
        client.get("/map/institutions.geojson")  # warm caches and connections
        samples, body = timed(client, "/map/institutions.geojson", args.repeat)
        zipped_samples, zipped = timed(
            client, "/map/institutions.geojson", args.repeat, {"Accept-Encoding": "gzip"}
        )
        assert gzip.decompress(zipped) == body
        print(f"database: {connection.vendor}, institutions: {args.institutions}")
        print(
            f"geojson: median {statistics.median(samples):.1f} ms, "
            f"p95 {percentile95(samples):.1f} ms, {len(body) / 1024:.0f} KB"
        )
        print(
            f"geojson gzipped by the server: median {statistics.median(zipped_samples):.1f} ms, "
            f"p95 {percentile95(zipped_samples):.1f} ms, {len(zipped) / 1024:.0f} KB sent"
        )
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/directory/")
        print(f"directory: {len(queries)} queries, status {response.status_code}")
        samples, _ = timed(client, "/directory/?q=bench", max(3, args.repeat // 4))
        print(f"directory search: median {statistics.median(samples):.1f} ms")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
