"""Import rows per second for transactions.csv vs the engine's raw bulk load of the same rows.

    python bench/import_transactions.py [--rows 200000] [--engines sqlite,postgresql]

The raw baseline inserts already-parsed rows (executemany on SQLite, COPY on PostgreSQL) into
the same table; the import parses, validates, stages and merges. Each import runs in its own
process so its peak memory (max RSS) is measured alone. Goal: import >= 1/3 of the raw rate.
PostgreSQL: uses CROSSPROMO_BENCH_PG_URL or starts a throwaway cluster (scripts/test-postgres.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUSINESSES = "id,name,category\nbench-bakery,Bench Bakery,shop=bakery\n"


def write_files(directory: Path, rows: int) -> Path:
    (directory / "businesses.csv").write_text(BUSINESSES)
    path = directory / "transactions.csv"
    start = datetime(2025, 1, 1, 8, 0)
    with path.open("w") as out:
        out.write("business,id,customer,at,amount,currency,items\n")
        for i in range(rows):
            at = (start + timedelta(seconds=37 * i)).isoformat()
            out.write(f"bench-bakery,R{i},,{at},{100 + i % 900}.{i % 100:02d},RUB,Багет;Кофе\n")
    return path


def child(url: str, mode: str, path: str) -> None:
    """Runs in a subprocess: one import or one raw load; prints seconds as JSON."""
    os.environ["CROSSPROMO_DATABASE_URL"] = url
    from sqlalchemy import text

    from crosspromo.db import make_engine, make_sessionmaker
    from crosspromo.imports import service

    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as db:
        service.run(
            db, kind="businesses", path=Path(path).with_name("businesses.csv"), secret_key="b"
        )
        db.commit()
        business_id = db.execute(text("SELECT id FROM businesses")).scalar_one()
    began = time.perf_counter()
    if mode == "import":
        with sessions() as db:
            summary = service.run(db, kind="transactions", path=Path(path), secret_key="b")
            db.commit()
        assert summary.inserted > 0
    else:
        raw_load(engine, business_id, Path(path))
    seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))


def raw_load(engine: object, business_id: object, path: Path) -> None:
    """The baseline: rows parsed by hand (no validation), bulk-loaded by the engine."""
    import csv

    from sqlalchemy import Engine

    assert isinstance(engine, Engine)
    postgres = engine.dialect.name == "postgresql"
    with path.open(newline="") as f, engine.begin() as conn:
        reader = csv.reader(f)
        next(reader)
        raw = conn.connection.driver_connection
        cursor = raw.cursor()  # type: ignore[union-attr]
        cols = "business_id, external_id, at, amount_minor, currency, items, row_hash"
        if postgres:
            with cursor.copy(f"COPY transactions ({cols}) FROM STDIN") as copy:
                for _b, rid, _c, at, amount, cur, items in reader:
                    moment = datetime.fromisoformat(at).replace(tzinfo=UTC)
                    copy.write_row(
                        (business_id, rid, moment, int(amount.replace(".", "")), cur, items, "")
                    )
        else:
            hex_id = (
                uuid.UUID(str(business_id)).hex
                if not isinstance(business_id, uuid.UUID)
                else business_id.hex
            )
            batch = []
            sql = f"INSERT INTO transactions ({cols}) VALUES (?, ?, ?, ?, ?, ?, ?)"
            for _b, rid, _c, at, amount, cur, items in reader:
                moment = datetime.fromisoformat(at).strftime("%Y-%m-%d %H:%M:%S.000000")
                batch.append((hex_id, rid, moment, int(amount.replace(".", "")), cur, items, ""))
                if len(batch) >= 5000:
                    cursor.executemany(sql, batch)
                    batch.clear()
            cursor.executemany(sql, batch)


def fresh_database(engine_name: str, pg_url: str, work: Path, tag: str) -> str:
    from crosspromo.migrate import upgrade

    if engine_name == "sqlite":
        url = f"sqlite:///{work / f'{tag}.db'}"
    else:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        name = f"bench_{tag}_{uuid.uuid4().hex[:6]}"
        admin = create_engine(
            make_url(pg_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


def measure(url: str, mode: str, path: Path) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, url, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return float(result["seconds"]), float(result["peak_mb"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "URL", "PATH"))
    args = parser.parse_args()
    if args.child:
        mode, url, path = args.child
        child(url, mode, path)
        return
    work = Path(tempfile.mkdtemp(prefix="crosspromo-bench-"))
    path = write_files(work, args.rows)
    pg_url = os.environ.get("CROSSPROMO_BENCH_PG_URL", "")
    started_pg = None
    engines = args.engines.split(",")
    if "postgresql" in engines and not pg_url:
        started_pg = work / "pg"
        pg_url = subprocess.run(
            [str(ROOT / "scripts/test-postgres.sh"), "start", str(started_pg), "55499"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    try:
        print(f"transactions.csv: {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB")
        header = ("engine", "import rows/s", "raw rows/s", "ratio", "import peak MB")
        print(f"{header[0]:<12}{header[1]:>15}{header[2]:>15}{header[3]:>9}{header[4]:>17}")
        for name in engines:
            raw_s, _ = measure(fresh_database(name, pg_url, work, "raw"), "raw", path)
            imp_s, peak = measure(fresh_database(name, pg_url, work, "imp"), "import", path)
            ratio = raw_s / imp_s
            imp_rate, raw_rate = args.rows / imp_s, args.rows / raw_s
            print(f"{name:<12}{imp_rate:>15,.0f}{raw_rate:>15,.0f}{ratio:>9.2f}{peak:>17.0f}")
    finally:
        if started_pg is not None:
            subprocess.run(
                [str(ROOT / "scripts/test-postgres.sh"), "stop", str(started_pg)], check=False
            )


if __name__ == "__main__":
    main()
