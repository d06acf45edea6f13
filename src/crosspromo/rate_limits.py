"""A `limits` storage in the app's own database, so every worker process shares one count.

The default `memory://` storage counts per process: with 4 workers "120/minute" became
480/minute. Here each (key, window) is one row, counted by one atomic statement,
`INSERT ... ON CONFLICT (key) DO UPDATE ... RETURNING hits`, on SQLite and PostgreSQL alike;
a window starts at its first hit and expires `expiry` seconds later, like the Redis storage.
Through `limits` each count is its own short transaction on its own small pool, apart from the
request's unit of work. The till counts with `count` instead, inside a transaction it already
has (offers/flows.py): on SQLite every write transaction queues for the one write lock, and
two more per request were most of a redemption's time (bench/redemption_http.py).
Expired rows are deleted now and then by the process that counts.
"""

from __future__ import annotations

import random
import time
from functools import lru_cache
from typing import Any

from limits.storage import Storage
from sqlalchemy import BigInteger, Connection, Engine, String, bindparam, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from crosspromo.db import Base, make_engine

SCHEME = "crosspromo-database"
# About one count in this many also deletes the expired rows.
CLEAN_EVERY = 200


class RateLimitCounter(Base):
    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    hits: Mapped[int] = mapped_column(BigInteger)
    # Milliseconds since the epoch: compared in SQL with the caller's clock, never shown.
    expires_ms: Mapped[int] = mapped_column(BigInteger, index=True)


def storage_uri(database_url: str) -> str:
    """The `limits` storage string for counters in this database."""
    return f"{SCHEME}:{database_url}"


def _now_ms() -> int:
    return int(time.time() * 1000)


@lru_cache(maxsize=16)
def _counting(dialect: str, windows: int) -> Any:
    """The counting statement for `windows` keys, built once with bind parameters: building it
    anew took longer than running it (bench/redemption_http.py holds SQLite's write lock
    through it)."""
    table = RateLimitCounter.__table__
    rows: list[dict[str, Any]] = [
        {
            "key": bindparam(f"key_{i}"),
            "hits": bindparam("amount"),
            "expires_ms": bindparam(f"end_{i}"),
        }
        for i in range(windows)
    ]
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(table).values(rows)
    expired = table.c.expires_ms <= bindparam("now")
    return insert.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "hits": case((expired, insert.excluded.hits), else_=table.c.hits + bindparam("amount")),
            "expires_ms": case((expired, insert.excluded.expires_ms), else_=table.c.expires_ms),
        },
    ).returning(table.c.key, table.c.hits, table.c.expires_ms)


def count(
    connection: Connection | Session, windows: dict[str, int], amount: int = 1
) -> dict[str, tuple[int, int]]:
    """Count `amount` hits on each key (its window's length in seconds) in the caller's
    transaction, in one statement: key -> (hits in the window, the window's end in ms).

    Rows are written in key order, so two transactions counting the same keys lock them in the
    same order; callers count last in their transaction, after every other row they lock.
    """
    now = _now_ms()
    # The session's own connection, in its transaction: a Core statement needs no ORM layer.
    conn = connection.connection() if isinstance(connection, Session) else connection
    params: dict[str, Any] = {"now": now, "amount": amount}
    for i, key in enumerate(sorted(windows)):
        params[f"key_{i}"] = key
        params[f"end_{i}"] = now + windows[key] * 1000
    statement = _counting(conn.dialect.name, len(windows))
    found = {key: (int(hits), int(ends)) for key, hits, ends in conn.execute(statement, params)}
    if random.randrange(CLEAN_EVERY) == 0:
        stale = delete(RateLimitCounter).where(RateLimitCounter.expires_ms <= now)
        conn.execute(stale)
    return found


class DatabaseStorage(Storage):
    """Fixed-window counters in the `rate_limits` table (`limits` Storage interface)."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        if not uri or not uri.startswith(SCHEME + ":"):
            raise ValueError(f"expected {SCHEME}:<database url>, got {uri!r}")
        self.engine: Engine = make_engine(
            uri.removeprefix(SCHEME + ":"), pool_size=2, max_overflow=8, pool_timeout=5
        )

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count `amount` hits on `key`; a window past its expiry starts again from zero."""
        with self.engine.begin() as conn:
            hits, _ = count(conn, {key: expiry}, amount)[key]
        return hits

    def get(self, key: str) -> int:
        with self.engine.connect() as conn:
            hits = conn.execute(
                select(RateLimitCounter.hits).where(
                    RateLimitCounter.key == key, RateLimitCounter.expires_ms > _now_ms()
                )
            ).scalar_one_or_none()
        return int(hits or 0)

    def get_expiry(self, key: str) -> float:
        with self.engine.connect() as conn:
            expires = conn.execute(
                select(RateLimitCounter.expires_ms).where(RateLimitCounter.key == key)
            ).scalar_one_or_none()
        return max(expires or 0, _now_ms()) / 1000

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            return conn.execute(delete(RateLimitCounter)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))

    def purge_expired(self) -> int:
        """Delete the counters of windows that have ended; how many."""
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(RateLimitCounter).where(RateLimitCounter.expires_ms <= _now_ms())
            )
            return result.rowcount
