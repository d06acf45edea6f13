"""Rate limits on code checks and redemptions, so codes cannot be enumerated (`limits`)."""

from __future__ import annotations

import time
from functools import lru_cache

from limits import parse, storage, strategies

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
