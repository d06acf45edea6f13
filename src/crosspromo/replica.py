"""Reads on a streaming replica when one is configured; writes and fresh reads on the primary.

A request that only reads (GET/HEAD, and no write of this browser in the last seconds) gets a
session whose SELECTs go to the replica. The first statement that writes, locks (`FOR UPDATE`)
or is raw SQL pins the session to the primary for the rest of the unit of work, so a request
reads its own writes. A replica that lags more than the allowed seconds, or cannot be reached,
is skipped until it catches up: reads then go to the primary, slower but never stale.

The lag is measured from the primary's WAL position: zero when the replica has replayed
everything the primary wrote, else the age of the last transaction it replayed.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select, text
from sqlalchemy.orm import Session

log = logging.getLogger("crosspromo.replica")

# The measured lag is re-read at most this often per process.
RECHECK_SECONDS = 1.0
REPLICA_KEY = "replica_engine"
PINNED_KEY = "pinned_to_primary"


class RoutedSession(Session):
    """A session whose plain SELECTs go to the replica until it writes, then to the primary."""

    def get_bind(self, mapper: Any = None, clause: Any = None, **kw: Any) -> Any:
        replica: Engine | None = self.info.get(REPLICA_KEY)
        if replica is None or self.info.get(PINNED_KEY):
            return super().get_bind(mapper, clause=clause, **kw)
        if clause is None and not self._flushing:
            # Asked for "the" connection (dialect checks, raw work): the primary, unpinned.
            return super().get_bind(mapper, clause=clause, **kw)
        if isinstance(clause, Select) and clause._for_update_arg is None and not self._flushing:
            return replica
        self.info[PINNED_KEY] = True
        return super().get_bind(mapper, clause=clause, **kw)


@dataclass
class Lag:
    seconds: float | None  # None: the replica could not be reached
    checked_at: float


class Replica:
    """The replica engine and its lag, measured at most once a second per process."""

    def __init__(self, primary: Engine, replica: Engine, *, max_lag_seconds: float) -> None:
        self.primary = primary
        self.engine = replica
        self.max_lag_seconds = max_lag_seconds
        self._lag = Lag(seconds=None, checked_at=float("-inf"))
        self._lock = threading.Lock()

    def measure(self) -> float | None:
        """The replica's lag in seconds now, or None when either server cannot be asked."""
        try:
            with self.primary.connect() as conn:
                lsn = conn.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
            with self.engine.connect() as conn:
                row = conn.execute(
                    text(
                        "SELECT pg_wal_lsn_diff(CAST(:lsn AS pg_lsn), pg_last_wal_replay_lsn()),"
                        " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
                    ),
                    {"lsn": lsn},
                ).one()
        except Exception as exc:  # an unreachable replica is a state to report, not a crash
            log.warning("replica lag unknown: %s", type(exc).__name__)
            return None
        behind, age = row
        if behind is None:
            return None  # not a standby (pg_last_wal_replay_lsn() is NULL on a primary)
        if float(behind) <= 0:
            return 0.0
        return max(float(age or 0.0), 0.0)

    def lag(self) -> Lag:
        now = time.monotonic()
        if now - self._lag.checked_at >= RECHECK_SECONDS and self._lock.acquire(blocking=False):
            try:
                self._lag = Lag(seconds=self.measure(), checked_at=time.monotonic())
            finally:
                self._lock.release()
        return self._lag

    def usable(self) -> bool:
        seconds = self.lag().seconds
        return seconds is not None and seconds <= self.max_lag_seconds

    def dispose(self) -> None:
        self.engine.dispose()


def route_to_replica(session: Session, replica: Replica | None) -> bool:
    """Send this session's reads to the replica when it is usable; True when it will."""
    if replica is None or not isinstance(session, RoutedSession) or not replica.usable():
        return False
    session.info[REPLICA_KEY] = replica.engine
    return True
