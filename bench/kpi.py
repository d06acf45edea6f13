"""KPIs by week over 1M receipts of one business vs a hand-written SQL aggregate, same run.

    python bench/kpi.py --url postgresql://postgres@127.0.0.1:55435/postgres --sqlite
    python bench/kpi.py --sqlite [--receipts 1000000 --customers 100000 --runs 3]

Builds a fresh, migrated database (a new database on the PostgreSQL server, dropped after;
or a temporary SQLite file), one business in Europe/Moscow and `--receipts` receipts over two
years (COPY on PostgreSQL, executemany on SQLite, in the stored format). Then times
`measurement.kpi.kpis(by="week")` over the whole range (a) with its comparisons and (b) without,
against (c) a hand-written aggregate: one GROUP BY over the week of the local day computing
receipts, revenue and distinct customers (PostgreSQL: date_trunc of AT TIME ZONE; SQLite:
the fixed +3 hours of Moscow, exact for a zone without DST). Median of `--runs` after a warm-up;
ratio = kpis / hand-written. Goal: at most 2x.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from crosspromo import clock  # noqa: E402
from crosspromo.accounts import service as accounts  # noqa: E402
from crosspromo.businesses import service as businesses  # noqa: E402
from crosspromo.businesses.schemas import BusinessCreate  # noqa: E402
from crosspromo.db import make_engine, make_sessionmaker  # noqa: E402
from crosspromo.measurement.kpi import kpis  # noqa: E402
from crosspromo.migrate import upgrade  # noqa: E402

ZONE = "Europe/Moscow"
START = date(2024, 1, 1)
END = date(2025, 12, 31)


def fill(url: str, receipts: int, customers: int) -> uuid.UUID:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as db:
        workspace = accounts.new_workspace(db, name="Bench")
        business = businesses.create(
            db,
            workspace_id=workspace.id,
            data=BusinessCreate(name="Bench shop", category="shop=bakery", timezone=ZONE),
        )
        business_id = business.id
        db.commit()
    ids = [uuid.uuid4() for _ in range(customers)]
    now = datetime.now(UTC)
    with engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        rows_c = [(i, business_id, f"C{n}", f"h{n}") for n, i in enumerate(ids)]
        if postgres:
            raw = conn.connection.driver_connection
            with (
                raw.cursor() as cur,  # type: ignore[union-attr]
                cur.copy(
                    "COPY customers (id, business_id, external_id, name, email, phone, "
                    "marketing_consent, consent_source, created_at, updated_at, row_hash) "
                    "FROM STDIN"
                ) as copy,
            ):
                for i, b, ext, h in rows_c:
                    copy.write_row([i, b, ext, "", "", "", False, "", now, now, h])
        else:
            conn.exec_driver_sql(
                "INSERT INTO customers (id, business_id, external_id, name, email, phone, "
                "marketing_consent, consent_source, created_at, updated_at, row_hash) "
                "VALUES (?, ?, ?, '', '', '', 0, '', ?, ?, ?)",
                [
                    (i.hex, b.hex, ext, clock.stored(now), clock.stored(now), h)
                    for i, b, ext, h in rows_c
                ],
            )
        rng = random.Random(1)
        span = (datetime(2026, 1, 1, tzinfo=UTC) - datetime(2024, 1, 1, tzinfo=UTC)).total_seconds()
        base = clock.midnight(START, ZONE)
        batch: list[tuple[object, ...]] = []

        def flush() -> None:
            if not batch:
                return
            if postgres:
                raw = conn.connection.driver_connection
                with (
                    raw.cursor() as cur,  # type: ignore[union-attr]
                    cur.copy(
                        "COPY transactions (business_id, external_id, customer_id, at, "
                        "amount_minor, currency, items, row_hash) FROM STDIN"
                    ) as copy,
                ):
                    for row in batch:
                        copy.write_row(row)
            else:
                conn.exec_driver_sql(
                    "INSERT INTO transactions (business_id, external_id, customer_id, at, "
                    "amount_minor, currency, items, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (b.hex, e, c.hex if c else None, clock.stored(a), m, cur, i, h)  # type: ignore[union-attr,attr-defined]
                        for b, e, c, a, m, cur, i, h in batch
                    ],
                )
            batch.clear()

        for n in range(receipts):
            at = base + timedelta(seconds=rng.random() * span)
            customer = ids[int(rng.paretovariate(1.2)) % customers] if rng.random() < 0.85 else None
            batch.append(
                (business_id, f"R{n}", customer, at, rng.randint(100, 500_000), "RUB", "", "h")
            )
            if len(batch) >= 50_000:
                flush()
        flush()
        if postgres:
            conn.exec_driver_sql("ANALYZE transactions")
        else:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return business_id


def hand_written(dialect: str) -> str:
    if dialect == "postgresql":
        return (
            "SELECT date_trunc('week', at AT TIME ZONE 'Europe/Moscow') AS w, count(*), "
            "sum(amount_minor), count(DISTINCT customer_id) FROM transactions "
            "WHERE business_id = :b AND at >= :s AND at < :u GROUP BY 1 ORDER BY 1"
        )
    return (
        "SELECT date(at, '+180 minutes', 'weekday 0', '-6 days') AS w, count(*), "
        "sum(amount_minor), count(DISTINCT customer_id) FROM transactions "
        "WHERE business_id = :b AND at >= :s AND at < :u GROUP BY 1 ORDER BY 1"
    )


def timed(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up
    found = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        found.append(time.perf_counter() - t0)
    return statistics.median(found)


def measure(
    url: str, label: str, receipts: int, customers: int, runs: int
) -> list[tuple[str, ...]]:
    print(f"{label}: building {receipts:,} receipts...", file=sys.stderr)
    business_id = fill(url, receipts, customers)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    dialect = engine.dialect.name
    since, until = clock.midnight(START, ZONE), clock.midnight(END + timedelta(1), ZONE)
    with sessions() as db:
        bid = business_id if dialect == "postgresql" else business_id.hex
        s = since if dialect == "postgresql" else clock.stored(since)
        u = until if dialect == "postgresql" else clock.stored(until)
        sql = text(hand_written(dialect))
        baseline = timed(lambda: db.execute(sql, {"b": bid, "s": s, "u": u}).all(), runs)
        full = timed(
            lambda: kpis(db, business_id=business_id, start=START, end=END, by="week"), runs
        )
        bare = timed(
            lambda: kpis(
                db, business_id=business_id, start=START, end=END, by="week", compare=False
            ),
            runs,
        )
        weeks = kpis(db, business_id=business_id, start=START, end=END, by="week")
        assert sum(w.figures.receipts for w in weeks) == receipts
    engine.dispose()
    return [
        (
            label,
            "kpis(by=week), with comparisons",
            f"{full:.2f} s",
            f"{baseline:.2f} s",
            f"{full / baseline:.2f}",
        ),
        (
            label,
            "kpis(by=week), no comparisons",
            f"{bare:.2f} s",
            f"{baseline:.2f} s",
            f"{bare / baseline:.2f}",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a PostgreSQL server (a new database is made and dropped)")
    parser.add_argument("--sqlite", action="store_true", help="also (or only) SQLite")
    parser.add_argument("--receipts", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows: list[tuple[str, ...]] = []
    if args.url:
        name = f"bench_kpi_{uuid.uuid4().hex[:8]}"
        admin_url = make_url(args.url).set(drivername="postgresql+psycopg")
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin_url.set(database=name).render_as_string(hide_password=False)
        try:
            upgrade(url)
            rows += measure(url, "PostgreSQL", args.receipts, args.customers, args.runs)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    if args.sqlite:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/bench.db"
            upgrade(url)
            rows += measure(url, "SQLite", args.receipts, args.customers, args.runs)
    print("| engine | operation | figure | hand-written SQL | ratio |")
    print("|---|---|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
