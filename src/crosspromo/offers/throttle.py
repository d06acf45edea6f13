"""Rate limits on code checks and redemptions, so codes cannot be enumerated (`limits`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse, storage, strategies
from sqlalchemy.orm import Session

from crosspromo import rate_limits
from crosspromo.errors import DomainError


class RateLimited(DomainError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many attempts; try again in {retry_after} seconds.",
            kind="rate-limited",
            status=429,
            title="Too many requests",
            extensions={"retry_after": retry_after},
        )


@lru_cache(maxsize=8)
def _limiter(uri: str) -> strategies.RateLimiter:
    """A moving window where the storage keeps one (memory, Redis); else fixed windows (the
    database's counters, exact per window and shared by every worker process)."""
    import crosspromo.rate_limits  # noqa: F401  (registers the database storage scheme)

    found = storage.storage_from_string(uri)
    if isinstance(found, storage.MovingWindowSupport):
        return strategies.MovingWindowRateLimiter(found)
    return strategies.FixedWindowRateLimiter(found)


def hit(uri: str, rule: str, *identity: str) -> None:
    """Count one attempt for this identity under `rule` ("120/minute"), or refuse with 429."""
    limiter = _limiter(uri)
    item = parse(rule)
    if not limiter.hit(item, "till", *identity):
        reset, _ = limiter.get_window_stats(item, "till", *identity)
        raise RateLimited(max(1, int(reset - time.time())))


def refuse_if_spent(uri: str, rule: str, *identity: str) -> None:
    """Refuse with 429 when `rule` is used up for this identity, without counting an attempt.

    For limits that count failures only (sign-in): test first, `hit` after a failure.
    """
    limiter = _limiter(uri)
    item = parse(rule)
    if not limiter.test(item, "till", *identity):
        reset, _ = limiter.get_window_stats(item, "till", *identity)
        raise RateLimited(max(1, int(reset - time.time())))


@lru_cache(maxsize=64)
def _item(rule: str) -> RateLimitItem:
    return parse(rule)


@dataclass(frozen=True)
class Limit:
    """One rule ("120/minute") for one identity (a caller; "addr" and an address)."""

    rule: str
    identity: tuple[str, ...]

    def key(self) -> str:
        # The key `limits` gives the same rule and identity: one counter whichever path counts.
        return _item(self.rule).key_for("till", *self.identity)


class SpentWindows:
    """The windows this process has seen used up: key -> the window's end (epoch seconds).

    A fixed window's count only grows until the window ends, so a refusal remembered here is
    the one the shared counter would give every process: exact, without a round trip.
    """

    KEEP = 10_000

    def __init__(self) -> None:
        self._ends: dict[str, float] = {}
        self._lock = threading.Lock()

    def refuse_if_spent(self, limits: Sequence[Limit]) -> None:
        """429 when this process already knows one of the limits is used up for now."""
        now = time.time()
        for limit in limits:
            end = self._ends.get(limit.key())
            if end is not None and end > now:
                raise RateLimited(max(1, int(end - now)))

    def remember(self, key: str, end: float) -> None:
        with self._lock:
            if len(self._ends) >= self.KEEP:
                now = time.time()
                self._ends = {k: e for k, e in self._ends.items() if e > now}
            self._ends[key] = end


def count(session: Session, windows: SpentWindows, limits: Sequence[Limit]) -> None:
    """Count one attempt under each limit in the session's transaction (the database's
    counters), or refuse with 429 past any of them; the refusal is remembered in `windows`."""
    keys = {limit.key(): limit for limit in limits}
    found = rate_limits.count(session, {k: _item(v.rule).get_expiry() for k, v in keys.items()})
    over = []
    for key, (hits, ends) in found.items():
        if hits > _item(keys[key].rule).amount:
            windows.remember(key, ends / 1000)
            over.append(ends / 1000)
    if over:
        raise RateLimited(max(1, int(max(over) - time.time())))
