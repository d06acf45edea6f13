"""Shared state in Redis (CROSSPROMO_REDIS_URL), against a real redis-server.

Rate limits hold across two app servers, a scheduled job runs in one worker at a time, and the
matching frame built by one process is loaded by the others instead of being rebuilt.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts.models import Role
from crosspromo.app import create_app
from crosspromo.db import make_engine, make_sessionmaker
from crosspromo.matching import service as matching
from crosspromo.outbox import worker
from crosspromo.settings import Settings, get_settings
from tests.campaigns.conftest import agreed, key  # noqa: F401  (fixtures)
from tests.cluster.failover import free_port
from tests.conftest import make_owner
from tests.offers.conftest import running  # noqa: F401  (fixtures)

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server comes with `make test`"
)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    port = free_port()
    where = tempfile.mkdtemp(prefix="crosspromo-redis-")
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            where,
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    yield url
    server.terminate()
    server.wait(10)
    shutil.rmtree(where, ignore_errors=True)


def test_rate_limits_hold_across_two_app_servers(
    db: Session,
    running: dict[str, Any],  # noqa: F811
    database_url: str,
    redis_url: str,
    tmp_path: Path,  # noqa: F811
) -> None:
    cashier = key(db, running["cafe"], Role.cashier)
    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        secret_key="test-secret",
        redis_url=redis_url,
        till_rate_limit="3/minute",
    )
    apps = [create_app(settings), create_app(settings)]
    body = {"business_id": str(running["cafe"].id), "code": "NOSUCH-CODE", "order_minor": 100}
    answers = []
    try:
        with TestClient(apps[0]) as a, TestClient(apps[1]) as b:
            for client in (a, b, a, b):
                answers.append(
                    client.post("/api/v1/redemptions/validate", headers=cashier, json=body)
                )
    finally:
        for app in apps:
            app.state.engine.dispose()
    assert apps[0].state.settings.rate_limit_storage == redis_url
    # An unknown code is an answer too (it counts: codes must not be guessed by trying).
    assert [r.json()["type"].rsplit("/", 1)[-1] for r in answers[:3]] == ["unknown-code"] * 3
    assert answers[3].status_code == 429
    assert answers[3].json()["type"].endswith("/rate-limited")


def test_a_scheduled_job_runs_in_one_worker_at_a_time(settings: Settings, redis_url: str) -> None:
    runs: list[float] = []

    def slow_job(session: Session) -> int:
        runs.append(time.monotonic())
        time.sleep(0.5)
        return 1

    engine = make_engine(settings.resolved_database_url())
    factory = make_sessionmaker(engine)
    shared = settings.model_copy(update={"redis_url": redis_url})
    barrier = threading.Barrier(4)

    def one_worker() -> None:
        barrier.wait()
        worker.run_job(factory, shared, slow_job)

    threads = [threading.Thread(target=one_worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert len(runs) == 1
    # Released afterwards: the next round runs it again.
    engine = make_engine(settings.resolved_database_url())
    worker.run_job(make_sessionmaker(engine), shared, slow_job)
    engine.dispose()
    assert len(runs) == 2


def test_the_matching_frame_is_built_once_and_loaded_by_other_processes(
    db: Session, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_owner(db, "a@example.com", "Bakery", city="Tver", price_tier=2)
    make_owner(db, "b@example.com", "Cafe", category="amenity=cafe", city="Tver")
    monkeypatch.setenv("CROSSPROMO_REDIS_URL", redis_url)
    get_settings.cache_clear()
    built: list[int] = []
    real = matching._frame

    def counted(session: Session) -> Any:
        built.append(1)
        return real(session)

    monkeypatch.setattr(matching, "_frame", counted)
    try:
        matching._CACHE.clear()
        first = matching.cached_frame(db)
        matching._CACHE.clear()  # another process: nothing in its memory
        second = matching.cached_frame(db)
    finally:
        matching._CACHE.clear()
        get_settings.cache_clear()
    assert built == [1]
    assert second.ids == first.ids and second.index == first.index
    assert second.category == first.category and second.codes == first.codes
    for name in ("cat_idx", "tier", "lat", "lon", "audience", "discovery", "customers"):
        assert np.array_equal(getattr(second, name), getattr(first, name), equal_nan=True), name
