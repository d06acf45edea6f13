"""Learning partner relations over many receipts: our SQL vs a DuckDB self-join.

    python bench/learning.py [--receipts 1000000] [--people 100000] [--businesses 2000]
                             [--pg postgresql://...]

Synthetic receipts: each person buys at 1-4 businesses, 1-5 receipts at each. Ours is
`crosspromo.matching.learned.pair_counts` (one SQL query: first and last purchase per person
and business, self-joined per person, counted per business pair) on SQLite, and on
PostgreSQL when `--pg` is given. The baseline is DuckDB (in memory) computing the same counts
from the same two tables with the same query shape, in the same run. Each runs in a fresh
process so the peak memory (max RSS) is its own. Goal: ours at most 2x the baseline.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import random
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def generate(args: argparse.Namespace) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(customers, receipts) rows: customer (id, business, person hash), receipt (customer, at)."""
    rng = random.Random(7)
    businesses = [uuid.uuid4() for _ in range(args.businesses)]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    customers, receipts = [], []
    # about receipts / people / 3 businesses per person (3 receipts at each on average)
    per_person = max(1, round(args.receipts / args.people / 3))
    for person in range(args.people):
        key = f"{person:064x}"
        for business in rng.sample(businesses, rng.randint(1, 2 * per_person - 1)):
            cid = uuid.uuid4()
            customers.append((cid, business, key))
            for _ in range(rng.randint(1, 5)):
                at = start + timedelta(days=rng.randrange(540), minutes=rng.randrange(600))
                receipts.append((cid, business, at))
                if len(receipts) >= args.receipts:
                    return customers, receipts
    return customers, receipts


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ours(url: str, out: Any) -> None:
    from crosspromo.db import make_engine, make_sessionmaker
    from crosspromo.matching import learned

    before = _peak_mb()
    with make_sessionmaker(make_engine(url))() as db:
        began = time.perf_counter()
        pairs = learned.pair_counts(db)
        elapsed = time.perf_counter() - began
    out.put((elapsed, _peak_mb() - before, len(pairs), sum(p[2] for p in pairs)))


DUCK = """
WITH visits AS (
  SELECT c.person, c.business, MIN(t.at) AS first_at, MAX(t.at) AS last_at
  FROM customers c JOIN transactions t ON t.customer_id = c.id
  GROUP BY c.person, c.business
)
SELECT a.business, b.business, COUNT(*),
       SUM(CASE WHEN a.first_at < b.first_at THEN 1 ELSE 0 END),
       SUM(CASE WHEN a.last_at < b.first_at OR b.last_at < a.first_at THEN 1 ELSE 0 END),
       SUM(CASE WHEN abs(epoch(a.first_at) - epoch(b.first_at)) <= 14 * 86400 THEN 1 ELSE 0 END)
FROM visits a JOIN visits b ON a.person = b.person AND a.business < b.business
GROUP BY a.business, b.business
"""


def duck(path: str, out: Any) -> None:
    import duckdb

    before = _peak_mb()
    con = duckdb.connect()
    con.execute(f"CREATE TABLE customers AS SELECT * FROM read_csv('{path}/customers.csv')")
    con.execute(f"CREATE TABLE transactions AS SELECT * FROM read_csv('{path}/receipts.csv')")
    began = time.perf_counter()
    rows = con.execute(DUCK).fetchall()
    elapsed = time.perf_counter() - began
    out.put((elapsed, _peak_mb() - before, len(rows), sum(r[2] for r in rows)))


def load(url: str, customers: list[tuple[Any, ...]], receipts: list[tuple[Any, ...]]) -> None:
    """Fill a migrated database with businesses, customers and receipts (bulk)."""
    from sqlalchemy import insert

    from crosspromo.accounts import service as accounts
    from crosspromo.businesses.models import Business
    from crosspromo.customers.models import Customer
    from crosspromo.db import make_engine, make_sessionmaker
    from crosspromo.migrate import upgrade
    from crosspromo.sales.models import Transaction

    upgrade(url)
    with make_sessionmaker(make_engine(url))() as db:
        workspace = accounts.new_workspace(db, name="bench")
        ids = sorted({c[1] for c in customers}, key=str)
        db.execute(
            insert(Business),
            [
                {
                    "id": b,
                    "workspace_id": workspace.id,
                    "slug": f"b{k}",
                    "name": f"B{k}",
                    "category": "shop=bakery",
                    "currency": "RUB",
                    "country": "RU",
                    "timezone": "Europe/Moscow",
                }
                for k, b in enumerate(ids)
            ],
        )
        for s in range(0, len(customers), 50_000):
            db.execute(
                insert(Customer),
                [
                    {
                        "id": c,
                        "business_id": b,
                        "external_id": c.hex,
                        "email_hash": p,
                        "row_hash": "",
                    }
                    for c, b, p in customers[s : s + 50_000]
                ],
            )
        for s in range(0, len(receipts), 50_000):
            db.execute(
                insert(Transaction),
                [
                    {
                        "business_id": b,
                        "external_id": f"r{s + k}",
                        "customer_id": c,
                        "at": at,
                        "amount_minor": 100,
                        "currency": "RUB",
                        "row_hash": "",
                    }
                    for k, (c, b, at) in enumerate(receipts[s : s + 50_000])
                ],
            )
        db.commit()


def run(target: Any, *args: Any) -> tuple[float, float, int, int]:
    out: Any = multiprocessing.Queue()
    process = multiprocessing.Process(target=target, args=(*args, out))
    process.start()
    result = out.get()
    process.join()
    return result  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--receipts", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--businesses", type=int, default=2_000)
    parser.add_argument("--pg", default="", help="a PostgreSQL URL (its database is replaced)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crosspromo-learning-"))
    began = time.perf_counter()
    customers, receipts = generate(args)
    with (work / "customers.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "business", "person"])
        w.writerows((c[0].hex, c[1].hex, c[2]) for c in customers)
    with (work / "receipts.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["customer_id", "at"])
        w.writerows((r[0].hex, r[2].isoformat()) for r in receipts)
    urls = {"SQLite": f"sqlite:///{work / 'bench.db'}"}
    if args.pg:
        urls["PostgreSQL"] = args.pg
    for url in urls.values():
        load(url, customers, receipts)
    people = len({c[2] for c in customers})
    print(
        f"{len(receipts):,} receipts, {people:,} people, {len(customers):,} customer records, "
        f"{args.businesses:,} businesses (prepared in {time.perf_counter() - began:.0f} s)"
    )
    base = run(duck, str(work))
    header = ("ours s", "DuckDB s", "ratio", "ours MB", "DuckDB MB", "pairs")
    print(f"{'engine':<12}" + "".join(f"{h:>11}" for h in header))
    for name, url in urls.items():
        found = run(ours, url)
        assert found[2:] == base[2:], (found, base)  # the same pairs and the same counts
        print(
            f"{name:<12}{found[0]:>11.2f}{base[0]:>11.2f}{found[0] / base[0]:>11.2f}"
            f"{found[1]:>11.0f}{base[1]:>11.0f}{found[2]:>11,}"
        )


if __name__ == "__main__":
    main()
