"""Learning partner relations over many receipts: our SQL vs a DuckDB self-join.

    python bench/learning.py [--receipts 1000000] [--people 100000] [--businesses 2000]
                             [--pg postgresql://...] [--no-sqlite] [--reuse]

Synthetic receipts, generated inside each database (`generate_series` on PostgreSQL, a
recursive CTE on SQLite; no Python loop per row): each person has customer records at
1..2m-1 businesses (m = receipts / people / 3), each a random number of receipts over 540
days; one person in ten is known by phone only. Ours is `crosspromo.matching.learned.
pair_counts` (first and last purchase per person and business, self-joined per person,
counted per business pair). The baseline is DuckDB (in memory) computing the same counts
with the plain query shape from the same rows, exported from that database (loading
excluded), in the same run. Each runs in a fresh process: peak memory is its max RSS growth;
for PostgreSQL also the peak RSS of the server processes serving the query (its backend and
any parallel workers, sampled every 50 ms) and `work_mem`. Goal: ours at most 2x DuckDB.

`--pg` replaces the database it names; `--reuse` keeps rows already generated there (and in
the SQLite file under --dir) so that a second run only times the queries.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import resource
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, text


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- generation, inside the db


def _template(url: str) -> Engine:
    """A migrated database with one template business, customer and receipt (ORM defaults)."""
    from crosspromo.accounts import service as accounts
    from crosspromo.businesses.models import Business
    from crosspromo.customers.models import Customer
    from crosspromo.db import make_engine, make_sessionmaker
    from crosspromo.migrate import upgrade
    from crosspromo.sales.models import Transaction

    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        workspace = accounts.new_workspace(db, name="bench")
        business = Business(
            workspace_id=workspace.id,
            slug="template",
            name="Template",
            category="shop=bakery",
            currency="RUB",
            country="RU",
            timezone="Europe/Moscow",
        )
        db.add(business)
        db.flush()
        customer = Customer(business_id=business.id, external_id="template", row_hash="")
        db.add(customer)
        db.flush()
        db.add(
            Transaction(
                business_id=business.id,
                external_id="template",
                customer_id=customer.id,
                at=datetime(2025, 1, 1, tzinfo=UTC),
                amount_minor=100,
                currency="RUB",
                row_hash="",
            )
        )
        db.commit()
    return engine


def _copy_of(table: Table, alias: str, overrides: dict[str, str]) -> tuple[str, str]:
    """Column list and select list: overrides, else the template row's value."""
    names = [c.name for c in table.columns if c.name in overrides or c.name != "id"]
    return ", ".join(names), ", ".join(overrides.get(n, f"{alias}.{n}") for n in names)


# Row sources per engine: {people} is a series of person numbers, {rand} a uniform [0, 1).
_SERIES = {
    "postgresql": "generate_series(1, {n}) AS {a}(k)",
    "sqlite": "(WITH RECURSIVE s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < {n}) "
    "SELECT k FROM s) AS {a}",
}
_RAND = {"postgresql": "random()", "sqlite": "(random() / 18446744073709551616.0 + 0.5)"}
_HEX = {"postgresql": "lpad(to_hex({n}), {w}, '0')", "sqlite": "printf('%0{w}x', {n})"}
# (person, j, business): person p has customer records at 1 + rand * spread businesses
_RECORDS = {
    "postgresql": """
SELECT p.k AS person, j.k AS j, 1 + floor({rand} * {businesses})::int AS business
FROM {people} CROSS JOIN LATERAL generate_series(1, 1 + floor({rand} * {spread} + 0 * p.k)::int)
  AS j(k)""",
    "sqlite": """
WITH RECURSIVE n(person, left) AS (
  SELECT k, 1 + CAST({rand} * {spread} AS INTEGER) FROM {people}
), v(person, j, left) AS (
  SELECT person, 1, left FROM n UNION ALL SELECT person, j + 1, left FROM v WHERE j < left
)
SELECT person, j, 1 + CAST({rand} * {businesses} AS INTEGER) AS business FROM v""",
}
# (customer, business, ext, at): each customer record has 1 + rand * spread receipts
_RECEIPTS = {
    "postgresql": """
SELECT c.id AS customer, c.business_id AS business, c.external_id || '-' || r.k AS ext,
       timestamptz '2025-01-01 00:00:00+00' + floor({rand} * 540)::int * interval '1 day'
       + floor({rand} * 600)::int * interval '1 minute' AS at
FROM customers c CROSS JOIN LATERAL
  generate_series(1, 1 + floor({rand} * {spread} + 0 * length(c.external_id))::int) AS r(k)
WHERE c.external_id <> 'template' LIMIT {receipts}""",
    "sqlite": """
WITH RECURSIVE n(id, business, ext, left) AS (
  SELECT id, business_id, external_id, 1 + CAST({rand} * {spread} AS INTEGER) FROM customers
  WHERE external_id <> 'template'
), r(id, business, ext, k, left) AS (
  SELECT id, business, ext, 1, left FROM n
  UNION ALL SELECT id, business, ext, k + 1, left FROM r WHERE k < left
)
SELECT id AS customer, business, ext || '-' || k AS ext,
       strftime('%Y-%m-%d %H:%M:%S', '2025-01-01',
                '+' || CAST({rand} * 540 AS INTEGER) || ' days',
                '+' || CAST({rand} * 600 AS INTEGER) || ' minutes') || '.000000' AS at
FROM r LIMIT {receipts}""",
}


def generate(url: str, args: argparse.Namespace) -> None:
    from crosspromo.businesses.models import Business
    from crosspromo.customers.models import Customer
    from crosspromo.sales.models import Transaction

    engine = _template(url)
    kind = engine.dialect.name
    per = max(1.0, args.receipts / args.people / 3)  # businesses per person, on average
    rand = _RAND[kind]
    series = _SERIES[kind]
    hexid = _HEX[kind].replace("{w}", "32") + ("::uuid" if kind == "postgresql" else "")
    key = _HEX[kind].replace("{w}", "64")
    with engine.begin() as con:
        if kind == "postgresql":
            con.execute(text("SELECT setseed(0.7)"))
            # consistent by construction: no foreign-key trigger per generated row
            con.execute(text("SET LOCAL session_replication_role = replica"))
        overrides = {"id": hexid.format(n="s.k"), "slug": "'b' || s.k", "name": "'B' || s.k"}
        cols, values = _copy_of(Business.__table__, "t", overrides)
        numbers = series.format(n=args.businesses, a="s")
        con.execute(
            text(
                f"INSERT INTO businesses ({cols}) SELECT {values} FROM {numbers}, businesses t "
                "WHERE t.slug = 'template'"
            )
        )
        records = _RECORDS[kind].format(
            rand=rand,
            people=series.format(n=args.people, a="p"),
            spread=2 * per - 1,
            businesses=args.businesses,
        )
        person = key.format(n="v.person")
        overrides = {
            "id": hexid.format(n=f"(v.person * 64 + v.j + {2**40})"),
            "business_id": hexid.format(n="v.business"),
            "external_id": "'c' || v.person || '-' || v.j",
            "email_hash": f"CASE WHEN v.person % 10 = 0 THEN NULL ELSE {person} END",
            "phone_hash": f"CASE WHEN v.person % 10 = 0 THEN {person} ELSE NULL END",
        }
        cols, values = _copy_of(Customer.__table__, "t", overrides)
        con.execute(
            text(
                f"INSERT INTO customers ({cols}) SELECT {values} FROM ({records}) AS v, "
                "customers t WHERE t.external_id = 'template'"
            )
        )
        made = con.scalar(text("SELECT COUNT(*) FROM customers")) or 1
        receipts = _RECEIPTS[kind].format(
            rand=rand, spread=max(1.0, 2 * args.receipts / made - 1), receipts=args.receipts
        )
        overrides = {
            "business_id": "v.business",
            "external_id": "v.ext",
            "customer_id": "v.customer",
            "at": "v.at",
        }
        cols, values = _copy_of(Transaction.__table__, "t", overrides)
        con.execute(
            text(
                f"INSERT INTO transactions ({cols}) SELECT {values} FROM ({receipts}) AS v, "
                "transactions t WHERE t.external_id = 'template'"
            )
        )
        # the templates go: the data is only the generated rows
        con.execute(text("DELETE FROM transactions WHERE external_id = 'template'"))
        con.execute(text("DELETE FROM customers WHERE external_id = 'template'"))
        con.execute(text("DELETE FROM businesses WHERE slug = 'template'"))
    # as autovacuum leaves a loaded table: statistics and the visibility map
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as con:
        con.execute(text("VACUUM ANALYZE" if kind == "postgresql" else "ANALYZE"))
    engine.dispose()


def export(url: str, folder: Path) -> None:
    """The two tables DuckDB reads: customers (id, business, person), receipts (customer, at)."""
    from crosspromo.db import make_engine

    engine = make_engine(url)
    people = (
        "SELECT id, business_id, COALESCE(email_hash, phone_hash) FROM customers "
        "WHERE COALESCE(email_hash, phone_hash) IS NOT NULL"
    )
    receipts = "SELECT customer_id, at FROM transactions WHERE customer_id IS NOT NULL"
    if engine.dialect.name == "postgresql":  # the UTC wall time, as SQLite stores it
        receipts = receipts.replace(", at", ", at AT TIME ZONE 'UTC'")
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        cur = raw.cursor()
        cur.execute("SET TIME ZONE 'UTC'")
        for name, query, head in (
            ("customers", people, "id,business,person"),
            ("receipts", receipts, "customer_id,at"),
        ):
            with (folder / f"{name}.csv").open("wb") as f:
                f.write(head.encode() + b"\n")
                with cur.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)") as copy:
                    for chunk in copy:
                        f.write(chunk)
        raw.close()
    else:
        with engine.connect() as con:
            for name, query, head in (
                ("customers", people, ["id", "business", "person"]),
                ("receipts", receipts, ["customer_id", "at"]),
            ):
                cursor = con.exec_driver_sql(query).cursor
                with (folder / f"{name}.csv").open("w", newline="") as f:
                    w = csv.writer(f)
                    w.writerow(head)
                    w.writerows(cursor)
    engine.dispose()


# ---------------------------------------------------------------- the timed runs


class ServerPeak:
    """Peak RSS (MB) of the PostgreSQL processes serving one connection: its backend and the
    parallel workers of the same server, sampled in a thread."""

    def __init__(self, backend: int) -> None:
        import psutil

        self.backend = psutil.Process(backend)
        self.server = self.backend.parent()
        self.peak = 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self.stop.is_set():
            total = 0
            try:
                for child in self.server.children():
                    try:
                        if child.pid == self.backend.pid or "parallel worker" in " ".join(
                            child.cmdline()
                        ):
                            total += child.memory_info().rss
                    except psutil.Error:
                        continue
            except psutil.Error:
                pass
            self.peak = max(self.peak, total / 2**20)
            self.stop.wait(0.05)

    def __enter__(self) -> ServerPeak:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()


def ours(url: str, out: Any) -> None:
    from crosspromo.db import make_engine, make_sessionmaker
    from crosspromo.matching import learned

    before = _peak_mb()
    server, work_mem = 0.0, ""
    with make_sessionmaker(make_engine(url))() as db:
        pg = db.get_bind().dialect.name == "postgresql"
        if pg:
            work_mem = f"{db.scalar(text('SHOW work_mem'))}, learning sets {learned.WORK_MEM}"
            peak = ServerPeak(int(db.scalar(text("SELECT pg_backend_pid()")) or 0))
            peak.__enter__()
        began = time.perf_counter()
        pairs = learned.pair_counts(db)
        elapsed = time.perf_counter() - began
        if pg:
            peak.__exit__()
            server = peak.peak
        db.rollback()
    found = (len(pairs), sum(p[2] for p in pairs), sum(p[3] + p[4] + p[5] for p in pairs))
    out.put((elapsed, _peak_mb() - before, server, work_mem, found))


def duck(path: str, out: Any) -> None:
    import duckdb

    from crosspromo.matching.learned import CLOSE_DAYS, REFERENCE

    before = _peak_mb()
    con = duckdb.connect()
    con.execute(f"CREATE TABLE customers AS SELECT * FROM read_csv('{path}/customers.csv')")
    con.execute(
        f"CREATE TABLE transactions AS SELECT * FROM read_csv('{path}/receipts.csv', "
        "types={'at': 'TIMESTAMP'})"
    )
    loaded = _peak_mb()
    began = time.perf_counter()
    rows = con.execute(REFERENCE, {"days": CLOSE_DAYS}).fetchall()
    elapsed = time.perf_counter() - began
    found = (len(rows), sum(r[2] for r in rows), sum(r[3] + r[4] + r[5] for r in rows))
    out.put((elapsed, _peak_mb() - loaded, 0.0, f"loaded {loaded - before:.0f} MB", found))


def run(target: Any, *args: Any) -> tuple[float, float, float, str, tuple[int, int, int]]:
    out: Any = multiprocessing.Queue()
    process = multiprocessing.Process(target=target, args=(*args, out))
    process.start()
    result = out.get()
    process.join()
    return result  # type: ignore[no-any-return]


def _counts(url: str) -> tuple[int, int, int]:
    from crosspromo.db import make_engine

    engine = make_engine(url)
    with engine.connect() as con:
        found = tuple(
            int(con.scalar(text(f"SELECT COUNT(*) FROM {n}")) or 0)
            for n in ("transactions", "customers", "businesses")
        )
    engine.dispose()
    return found  # type: ignore[return-value]


def _fresh_pg(url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(
        target.set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as con:
        con.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        con.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--receipts", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--businesses", type=int, default=2_000)
    parser.add_argument("--pg", default="", help="a PostgreSQL URL (its database is replaced)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--dir", default="/tmp/crosspromo-learning", help="SQLite file, CSVs")
    parser.add_argument("--reuse", action="store_true", help="keep rows generated before")
    args = parser.parse_args()
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    urls = {} if args.no_sqlite else {"SQLite": f"sqlite:///{work / 'bench.db'}"}
    if args.pg:
        urls["PostgreSQL"] = args.pg
    header = ("ours s", "DuckDB s", "ratio", "ours MB", "server MB", "DuckDB MB", "pairs")
    lines = []
    for name, url in urls.items():
        folder = work / name.lower()
        folder.mkdir(exist_ok=True)
        began = time.perf_counter()
        if not (args.reuse and (folder / "receipts.csv").exists()):
            if name == "SQLite":
                (work / "bench.db").unlink(missing_ok=True)
            else:
                _fresh_pg(url)
            generate(url, args)
            made = time.perf_counter() - began
            export(url, folder)
            spent = time.perf_counter() - began - made
            print(f"{name}: generated in {made:.0f} s, exported in {spent:.0f} s", flush=True)
        else:  # rows generated by an earlier run: the schema as this checkout has it
            from crosspromo.migrate import upgrade

            upgrade(url)
        receipts, records, businesses = _counts(url)
        counts = f"{receipts:,} receipts, {records:,} customer records, {businesses:,} businesses"
        print(f"{name}: {counts}", flush=True)
        base = run(duck, str(folder))
        found = run(ours, url)
        assert found[4] == base[4], (found, base)  # the same pairs and the same counts
        lines.append(
            f"{name:<12}{found[0]:>11.2f}{base[0]:>11.2f}{found[0] / base[0]:>11.2f}"
            f"{found[1]:>11.0f}{found[2]:>11.0f}{base[1]:>11.0f}{found[4][0]:>11,}"
            + (f"   work_mem {found[3]}" if found[3] else "")
        )
        print(lines[-1], flush=True)
    print(f"{'engine':<12}" + "".join(f"{h:>11}" for h in header))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
