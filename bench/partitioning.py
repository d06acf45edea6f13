"""Receipts partitioned by month on PostgreSQL vs one table: a simulation at 20M receipts.

    python bench/partitioning.py --url postgresql://postgres@127.0.0.1:5432/postgres \
        [--receipts 20000000 --businesses 2000 --customers 1000000 --runs 5]

In a scratch database (created and dropped), two copies of the receipts table with the
columns and indexes of `transactions`: `plain` (one table) and `part` (declarative range
partitioning by month of `at`, 24 monthly partitions; its unique key must include `at`).
Both are filled by `generate_series` in SQL (no Python loop), identically. Then, on each:
- the KPI query of one business (receipts, revenue and distinct customers per local week of
  Europe/Moscow) over its last month and over a whole year, median of `--runs`;
- retention of the oldest month: `DELETE` on the plain table vs `DROP TABLE` of a partition;
- the learning query (shared customers per pair of businesses), once.
Prints times and the ratio part/plain. Figures and their reading are in docs/scaling.md.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time
import uuid
from collections.abc import Callable

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

MONTHS = 24
START = "2024-01-01"

COLUMNS = """
    id bigint NOT NULL,
    business_id uuid NOT NULL,
    external_id varchar(100) NOT NULL,
    customer_id uuid,
    at timestamptz NOT NULL,
    amount_minor bigint NOT NULL,
    currency varchar(3) NOT NULL,
    items text NOT NULL DEFAULT '',
    row_hash varchar(32) NOT NULL
"""


def schema(conn: object) -> None:
    run = conn.exec_driver_sql  # type: ignore[attr-defined]
    run(f"CREATE TABLE plain ({COLUMNS}, PRIMARY KEY (id), UNIQUE (business_id, external_id))")
    run(
        f"CREATE TABLE part ({COLUMNS}, PRIMARY KEY (id, at),"
        " UNIQUE (business_id, external_id, at)) PARTITION BY RANGE (at)"
    )
    for m in range(MONTHS):
        run(
            f"CREATE TABLE part_{m:02d} PARTITION OF part FOR VALUES FROM"
            f" (timestamptz '{START}' + interval '{m} month')"
            f" TO (timestamptz '{START}' + interval '{m + 1} month')"
        )


def fill(conn: object, table: str, receipts: int, businesses: int, customers: int) -> None:
    conn.exec_driver_sql(  # type: ignore[attr-defined]
        f"""
        INSERT INTO {table} (id, business_id, external_id, customer_id, at, amount_minor,
                             currency, row_hash)
        SELECT i,
               md5('b' || mod(i, {businesses}))::uuid,
               'R' || i,
               CASE WHEN mod(i, 5) = 0 THEN NULL
                    ELSE md5('c' || mod(i * 7919, {customers}))::uuid END,
               timestamptz '{START}' + ((i - 1)::float8 / {receipts}) * interval '{MONTHS} month',
               100 + mod(i * 37, 500000),
               'RUB',
               left(md5(i::text), 32)
        FROM generate_series(1::bigint, {receipts}::bigint) AS i
        """
    )
    conn.exec_driver_sql(f"CREATE INDEX ON {table} (business_id, at)")  # type: ignore[attr-defined]
    conn.exec_driver_sql(f"CREATE INDEX ON {table} (customer_id)")  # type: ignore[attr-defined]
    conn.exec_driver_sql(f"ANALYZE {table}")  # type: ignore[attr-defined]


KPI = """
SELECT date_trunc('week', at AT TIME ZONE 'Europe/Moscow') AS week,
       count(*), sum(amount_minor), count(DISTINCT customer_id)
FROM {table}
WHERE business_id = :b AND at >= :since AND at < :until
GROUP BY 1 ORDER BY 1
"""

LEARN = """
WITH pairs AS (SELECT DISTINCT business_id, customer_id FROM {table}
               WHERE customer_id IS NOT NULL)
SELECT a.business_id, b.business_id, count(*)
FROM pairs a JOIN pairs b ON a.customer_id = b.customer_id AND a.business_id < b.business_id
GROUP BY 1, 2
"""


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_of(runs: int, action: Callable[[], object]) -> float:
    action()  # warm-up
    return statistics.median(timed(action) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="a PostgreSQL server (a scratch db is made)")
    parser.add_argument("--receipts", type=int, default=20_000_000)
    parser.add_argument("--businesses", type=int, default=2_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-learning", action="store_true")
    args = parser.parse_args()

    server = make_url(args.url).set(drivername="postgresql+psycopg")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"cp_partition_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine: Engine = create_engine(server.set(database=name))
    try:
        with engine.begin() as conn:
            schema(conn)
        fills = {}
        for table in ("plain", "part"):
            with engine.begin() as conn:
                fills[table] = timed(
                    lambda t=table, c=conn: fill(
                        c, t, args.receipts, args.businesses, args.customers
                    )
                )
        business = uuid.UUID(hashlib.md5(b"b7").hexdigest())
        rows = []
        for label, since, until in (
            ("KPI, last month", "2025-12-01", "2026-01-01"),
            ("KPI, one year", "2025-01-01", "2026-01-01"),
        ):
            times = {}
            for table in ("plain", "part"):
                with engine.connect() as conn:
                    sql = text(KPI.format(table=table))
                    params = {"b": business, "since": since, "until": until}
                    times[table] = median_of(
                        args.runs, lambda c=conn, s=sql, p=params: c.execute(s, p).all()
                    )
            rows.append((label, times["plain"], times["part"]))
        if not args.skip_learning:
            times = {}
            for table in ("plain", "part"):
                with engine.connect() as conn:
                    times[table] = timed(
                        lambda c=conn, t=table: c.execute(text(LEARN.format(table=t))).all()
                    )
            rows.append(("learning (shared customers per pair)", times["plain"], times["part"]))
        with engine.begin() as conn:
            drop_plain = timed(
                lambda: conn.exec_driver_sql(
                    f"DELETE FROM plain WHERE at < timestamptz '{START}' + interval '1 month'"
                )
            )
        with engine.begin() as conn:
            drop_part = timed(lambda: conn.exec_driver_sql("DROP TABLE part_00"))
        rows.append(("retention: the oldest month", drop_plain, drop_part))
        print(
            f"receipts {args.receipts:,}, businesses {args.businesses:,}, customers "
            f"{args.customers:,}; fill plain {fills['plain']:.1f} s, part {fills['part']:.1f} s"
        )
        print(f"{'query':42} {'plain s':>10} {'part s':>10} {'part/plain':>11}")
        for label, plain, part in rows:
            print(f"{label:42} {plain:10.4f} {part:10.4f} {part / plain:11.3f}")
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
