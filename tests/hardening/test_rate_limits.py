"""The database storage for `limits`: exact counts per window, a window that ends starts
again, expired rows are purged, and the till's throttle uses it by default."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from crosspromo import rate_limits
from crosspromo.offers import throttle
from crosspromo.rate_limits import DatabaseStorage, storage_uri


@pytest.fixture
def storage(database_url: str) -> Iterator[DatabaseStorage]:
    found = DatabaseStorage(storage_uri(database_url))
    yield found
    found.engine.dispose()


def test_counts_are_exact_under_concurrent_hits(storage: DatabaseStorage) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(lambda _: storage.incr("k", 60), range(40)))
    assert sorted(counts) == list(range(1, 41))  # each hit saw its own count: none lost
    assert storage.get("k") == 40 and storage.get("other") == 0


def test_a_window_ends_and_starts_again(
    storage: DatabaseStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1_000_000_000_000]
    monkeypatch.setattr(rate_limits, "_now_ms", lambda: now[0])
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get_expiry("k") == (now[0] + 60_000) / 1000
    now[0] += 60_000  # the window's last millisecond has passed
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1
    storage.incr("gone", 1)
    now[0] += 61_000
    assert storage.purge_expired() == 2
    storage.clear("k")
    assert storage.get("k") == 0 and storage.check()


def test_the_throttle_refuses_past_the_limit(database_url: str) -> None:
    uri = storage_uri(database_url)
    admitted = 0
    for _ in range(7):
        try:
            throttle.hit(uri, "5/hour", "caller-a")
            admitted += 1
        except throttle.RateLimited as refused:
            assert refused.status == 429 and refused.extensions["retry_after"] >= 1
    assert admitted == 5
    throttle.hit(uri, "5/hour", "caller-b")  # another caller has its own count
