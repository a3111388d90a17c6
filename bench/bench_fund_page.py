"""Benchmark: the public page of a fund holding 100,000 donations.

Run: ``.venv/bin/python bench/bench_fund_page.py [--donations 100000] [--requests 200]``
(SQLite, a throw-away file) or with ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db>``
(PostgreSQL, a throw-away test database ``bench_fund_page``).

It builds a fund of a network and seeds, with ``bulk_create``, ``--donations`` received
gifts spread over the last three years (a tenth of them anonymous, a few in another
currency, some partly refunded) with their matching ledger entries, plus 300 scholarship
commitments with paid, returned and released money — the ledger has every kind of
entry. Then it requests the fund page (``funding:fund``) as an anonymous visitor through
Django's test client and prints the median and 95th percentile of the server time —
as served (the ledger's figures cached under the ledger's state, ``reports.fund_figures``)
and cold (the cache emptied before each request: what the first visitor after a new
ledger entry waits) — the number of SQL queries per request (it must not depend on the
number of donations: it is compared with the page of a fund with ten donations), the
page weight, and the slowest query of a cold request (with the database's query plan).
Goal (issue 7): the fund page renders in under 100 ms server time with a fixed number
of queries.
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
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medexchange.settings")
SQLITE_FILE = Path("/tmp/bench_fund_page.sqlite3")  # noqa: S108 - a throw-away bench database
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{SQLITE_FILE}"

import django

django.setup()

from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.utils import timezone

SEED = 7
TEST_DATABASE = "bench_fund_page"
GOAL_MS = 100.0
GIVEN = ["Ama", "Kofi", "Wanjiru", "Thi", "Minh", "Sofia", "Mateo", "Aisha", "Omar", "Lucia"]
FAMILY = ["Mensah", "Kamau", "Nguyen", "Garcia", "Haddad", "Okafor", "Silva", "Rossi", "Tran"]
DAYS = 3 * 365
BATCH = 5_000


def seed_fund(rng: random.Random, fund: Any, count: int, *, commitments: int = 300) -> None:
    """``count`` received donations to ``fund`` with their ledger entries (bulk), some
    refunds, and ``commitments`` scholarship commitments with payments, returns and
    releases: every kind of ledger entry, balanced (held ≥ committed ≥ 0)."""
    from medexchange.funding.choices import (
        DisbursementStatus,
        DonationMethod,
        DonationStatus,
        LedgerKind,
    )
    from medexchange.funding.models import Commitment, Disbursement, Donation, LedgerEntry

    now = timezone.now()
    today = timezone.localdate()
    donations = []
    for index in range(count):
        day = today - dt.timedelta(days=rng.randrange(DAYS))
        amount = Decimal(rng.choice([10, 20, 25, 50, 50, 100, 100, 250, 500, 1000]))
        foreign = rng.random() < 0.05
        donations.append(
            Donation(
                fund=fund,
                donor_name=f"{rng.choice(GIVEN)} {rng.choice(FAMILY)} {index:06}",
                donor_email=f"donor{index:06}@bench.example",
                is_anonymous=rng.random() < 0.1,
                amount=amount,
                currency="USD" if foreign else fund.currency,
                fund_amount=(amount * Decimal("0.92")).quantize(Decimal("0.01"))
                if foreign
                else amount,
                rate=Decimal("0.92") if foreign else None,
                method=rng.choice([DonationMethod.ONLINE] * 4 + [DonationMethod.CHEQUE]),
                status=DonationStatus.SUCCEEDED,
                provider="stripe",
                provider_reference=f"pi_bench_{fund.slug}_{index:06}",
                received_on=day,
                created_at=now,
            )
        )
    created = Donation.objects.bulk_create(donations, batch_size=BATCH)
    entries = [
        LedgerEntry(
            fund=fund,
            kind=LedgerKind.DONATION,
            held_delta=donation.fund_amount,
            donation=donation,
            source_amount=donation.amount,
            memo="",
            created_at=timezone.make_aware(
                dt.datetime.combine(donation.received_on, dt.time(12))  # type: ignore[arg-type]
            ),
        )
        for donation in created
    ]
    refunded = rng.sample(created, max(1, count // 200))
    for donation in refunded:
        entries.append(
            LedgerEntry(
                fund=fund,
                kind=LedgerKind.REFUND,
                held_delta=-(donation.fund_amount / 2).quantize(Decimal("0.01")),
                donation=donation,
                source_amount=(donation.amount / 2).quantize(Decimal("0.01")),
                memo="Partial refund",
                created_at=now - dt.timedelta(days=rng.randrange(30)),
            )
        )
    LedgerEntry.objects.bulk_create(entries, batch_size=BATCH)
    Donation.objects.filter(pk__in=[d.pk for d in refunded]).update(
        status=DonationStatus.PARTIALLY_REFUNDED
    )
    made = Commitment.objects.bulk_create(
        Commitment(fund=fund, amount=Decimal(1500), purpose=f"Scholarship {index}")
        for index in range(commitments)
    )
    payments = Disbursement.objects.bulk_create(
        Disbursement(
            commitment=commitment,
            amount=Decimal(1000),
            status=DisbursementStatus.RETURNED if index % 25 == 0 else DisbursementStatus.PAID,
            paid_on=today - dt.timedelta(days=rng.randrange(DAYS)),
        )
        for index, commitment in enumerate(made)
    )
    money_out = []
    for index, (commitment, payment) in enumerate(zip(made, payments, strict=True)):
        booked = now - dt.timedelta(days=rng.randrange(DAYS))
        money_out.append(
            LedgerEntry(
                fund=fund,
                kind=LedgerKind.COMMITMENT,
                committed_delta=commitment.amount,
                commitment=commitment,
                memo=commitment.purpose,
                created_at=booked,
            )
        )
        money_out.append(
            LedgerEntry(
                fund=fund,
                kind=LedgerKind.DISBURSEMENT,
                held_delta=-payment.amount,
                committed_delta=-payment.amount,
                commitment=commitment,
                disbursement=payment,
                created_at=booked,
            )
        )
        if index % 25 == 0:
            money_out.append(
                LedgerEntry(
                    fund=fund,
                    kind=LedgerKind.RETURN,
                    held_delta=payment.amount,
                    commitment=commitment,
                    disbursement=payment,
                    created_at=booked,
                )
            )
        if index % 3 == 0:
            money_out.append(
                LedgerEntry(
                    fund=fund,
                    kind=LedgerKind.RELEASE,
                    committed_delta=-Decimal(500),
                    commitment=commitment,
                    created_at=booked,
                )
            )
    LedgerEntry.objects.bulk_create(money_out, batch_size=BATCH)


def add_gift(fund: Any, index: int) -> None:
    """One more received gift, as a donation service would write it (bulk, for speed)."""
    from medexchange.funding.choices import DonationMethod, DonationStatus, LedgerKind
    from medexchange.funding.models import Donation, LedgerEntry

    donation = Donation.objects.create(
        fund=fund,
        donor_name=f"Late donor {index}",
        amount=Decimal(50),
        currency=fund.currency,
        fund_amount=Decimal(50),
        method=DonationMethod.ONLINE,
        status=DonationStatus.SUCCEEDED,
        provider="stripe",
        provider_reference=f"pi_bench_late_{index}",
        received_on=timezone.localdate(),
    )
    LedgerEntry.objects.create(
        fund=fund,
        kind=LedgerKind.DONATION,
        held_delta=Decimal(50),
        donation=donation,
        source_amount=Decimal(50),
    )


def make_fund(network: Any, slug: str) -> Any:
    from medexchange.funding.models import Fund

    return Fund.objects.create(
        network=network,
        slug=slug,
        name=f"Bench fund {slug}",
        description="Flights and a month's housing for residents whose hospital cannot pay.",
        restriction="Residents from countries where Emergency Medicine is young.",
        currency="EUR",
        target=Decimal("20000000"),
    )


def percentile95(samples: list[float]) -> float:
    return sorted(samples)[int(0.95 * (len(samples) - 1))]


def explain(sql: str) -> str:
    prefix = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        return "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--donations", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--cold-requests", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="cProfile ten requests")
    args = parser.parse_args()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))

    from django.urls import reverse

    from medexchange.network.models import Network

    setup_test_environment()
    if connection.vendor == "postgresql":
        connection.settings_dict["TEST"]["NAME"] = TEST_DATABASE
    else:
        connection.settings_dict["TEST"]["NAME"] = str(SQLITE_FILE)
        SQLITE_FILE.unlink(missing_ok=True)
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        rng = random.Random(SEED)
        network = Network.objects.create(name="Bench network", slug="bench", scope="global")
        big, small = make_fund(network, "big"), make_fund(network, "small")
        started = time.perf_counter()
        seed_fund(rng, big, args.donations)
        seed_fund(rng, small, 10, commitments=2)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(
            f"database: {connection.vendor} {connection.get_database_version()}, "
            f"{args.donations} donations seeded in {time.perf_counter() - started:.0f} s"
        )
        client = Client()
        url = reverse("funding:fund", kwargs={"network": network.slug, "fund": big.slug})
        small_url = reverse("funding:fund", kwargs={"network": network.slug, "fund": small.slug})
        for _ in range(5):  # warm caches, connections and templates
            assert client.get(url).status_code == 200

        samples: list[float] = []
        body = b""
        for _ in range(args.requests):
            start = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
            body = response.content

        cold: list[float] = []
        for _ in range(args.cold_requests):
            cache.clear()
            start = time.perf_counter()
            response = client.get(url)
            cold.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200

        after_gift: list[float] = []
        for index in range(args.cold_requests):
            add_gift(big, index)
            start = time.perf_counter()
            response = client.get(url)
            after_gift.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200

        client.get(small_url)  # as served: both pages' figures in the cache
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        with CaptureQueriesContext(connection) as small_captured:
            client.get(small_url)
        cache.clear()
        with CaptureQueriesContext(connection) as cold_captured:
            client.get(url)
        cache.clear()
        with CaptureQueriesContext(connection) as small_cold_captured:
            client.get(small_url)
        median, p95 = statistics.median(samples), percentile95(samples)
        print(f"requests: {len(samples)} fund pages as served, anonymous visitor")
        print(
            f"server time as served: median {median:.1f} ms, p95 {p95:.1f} ms "
            f"(goal < {GOAL_MS:.0f}), max {max(samples):.1f} ms"
        )
        print(
            f"server time cold ({len(cold)} requests, cache emptied before each): "
            f"median {statistics.median(cold):.1f} ms, p95 {percentile95(cold):.1f} ms"
        )
        print(
            f"server time right after a new gift ({len(after_gift)} requests, each after "
            f"one more donation): median {statistics.median(after_gift):.1f} ms, "
            f"p95 {percentile95(after_gift):.1f} ms"
        )
        print(
            f"SQL queries per page as served: {len(captured)} with {args.donations} "
            f"donations, {len(small_captured)} with 10; cold: {len(cold_captured)} and "
            f"{len(small_cold_captured)}"
        )
        print("queries of a cold request:")
        for query in cold_captured.captured_queries:
            print(f"  {float(query['time']) * 1000:7.1f} ms  {query['sql'][:110]}")
        print(
            f"page weight: {len(body) / 1024:.0f} KB raw, "
            f"{len(gzip.compress(body)) / 1024:.1f} KB gzipped"
        )
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(10):
                client.get(url)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        slowest = max(cold_captured.captured_queries, key=lambda query: float(query["time"]))
        print(f"\nslowest query ({float(slowest['time']) * 1000:.1f} ms):\n{slowest['sql'][:1500]}")
        print(explain(slowest["sql"]))
        met = (
            p95 < GOAL_MS
            and len(captured) == len(small_captured)
            and len(cold_captured) == len(small_cold_captured)
        )
        print("\ngoals met" if met else "\ngoals NOT met")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        SQLITE_FILE.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
