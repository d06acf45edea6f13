"""What a rate-limit check costs with counters in the database, against `memory://`.

    python bench/rate_limits.py [--url postgresql://postgres@127.0.0.1:55432/postgres] [--hits 2000]

Without --url (or CROSSPROMO_BENCH_PG_URL) it uses a temporary SQLite file. Times
`throttle.hit` (one fixed-window count: `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` in its
own transaction) over `--hits` calls spread over 50 callers, against the same calls on the
per-process `memory://` moving window (the baseline). Prints microseconds per hit and the ratio.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from crosspromo.migrate import upgrade
from crosspromo.offers import throttle
from crosspromo.rate_limits import DatabaseStorage, storage_uri


def per_hit(uri: str, hits: int) -> float:
    throttle.hit(uri, "1000000/hour", "warm-up")
    start = time.perf_counter()
    for i in range(hits):
        throttle.hit(uri, "1000000/hour", f"caller-{i % 50}")
    return (time.perf_counter() - start) / hits * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("CROSSPROMO_BENCH_PG_URL", ""))
    parser.add_argument("--hits", type=int, default=2000)
    args = parser.parse_args()
    name = f"cp_bench_rl_{uuid.uuid4().hex[:8]}"
    admin = None
    if args.url:  # a fresh database on that server, dropped afterwards
        server = make_url(args.url).set(drivername="postgresql+psycopg")
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    with tempfile.TemporaryDirectory() as tmp:
        url = (
            server.set(database=name).render_as_string(hide_password=False)
            if admin is not None
            else f"sqlite:///{Path(tmp) / 'bench.db'}"
        )
        try:
            upgrade(url)
            uri = storage_uri(url)
            storage = DatabaseStorage(uri)
            database = per_hit(uri, args.hits)
            memory = per_hit("memory://", args.hits)
            throttle._limiter.cache_clear()
            storage.engine.dispose()
        finally:
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine = url.split(":", 1)[0]
    print(f"| operation | {engine} database, us/hit | memory://, us/hit | ratio |")
    print("|---|---|---|---|")
    print(
        f"| throttle.hit x {args.hits} | {database:.0f} | {memory:.0f} | {database / memory:.1f} |"
    )


if __name__ == "__main__":
    main()
