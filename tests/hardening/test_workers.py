"""Real processes: `crosspromo serve --workers 4` on both engines. It starts (no worker killed
while importing), takes a burst of 200 concurrent redemptions without a single 5xx, and a
rate limit holds across the 4 workers: N+k attempts give exactly N admissions.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts.models import Role
from tests.campaigns.conftest import key
from tests.offers.conftest import make_offer

WORKERS = 4
BURST = 200
KEYS = 10  # the burst's cashiers, each well under the per-caller limit
LIMIT = 40  # per caller and hour
EXTRA = 25


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = os.environ | {
        "CROSSPROMO_DATABASE_URL": database_url,
        "CROSSPROMO_SECRET_KEY": "test-secret",
        "CROSSPROMO_VAR_DIR": str(tmp_path / "var"),
        "CROSSPROMO_TILL_RATE_LIMIT": f"{LIMIT}/hour",
        "CROSSPROMO_TILL_RATE_LIMIT_PER_ADDRESS": "100000/hour",
        "CROSSPROMO_RATE_LIMIT_STORAGE": "database",
    }
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "crosspromo", "serve", "--port", str(port)]
        + ["--workers", str(WORKERS)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
    started = (tmp_path / "serve.log").read_text()
    # No worker was killed by the supervisor's health check and replaced.
    assert "died" not in started and "not ready" not in started, started[-3000:]


def _fire(url: str, requests: list[tuple[str, dict[str, str], dict[str, Any]]]) -> list[int]:
    def one(request: tuple[str, dict[str, str], dict[str, Any]]) -> int:
        path, headers, body = request
        # A connection per request, so the kernel spreads them over the workers.
        with httpx.Client(base_url=url, timeout=120) as client:
            return client.post(path, headers=headers, json=body).status_code

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(one, requests))


@pytest.mark.slow
def test_burst_and_shared_rate_limit_across_workers(
    client: TestClient, db: Session, running: dict[str, Any], server: str
) -> None:
    p = running
    cafe = str(p["cafe"].id)
    offer = make_offer(client, p, p["campaign_id"])
    client.post(
        f"/api/v1/offers/{offer['id']}/codes",
        headers=p["bakery_manager"],
        json={"kind": "shared", "text": "BREAD"},
    )
    cashiers = [key(db, p["cafe"], Role.cashier) for _ in range(KEYS + 1)]
    burst = [
        (
            "/api/v1/redemptions",
            cashiers[i % KEYS],
            {"business_id": cafe, "code": "BREAD", "order_minor": 1000 + i},
        )
        for i in range(BURST)
    ]
    statuses = Counter(_fire(server, burst))
    assert not {s for s in statuses if s >= 500}, statuses
    assert statuses[201] == BURST, statuses

    checks = [
        (
            "/api/v1/redemptions/validate",
            cashiers[KEYS],
            {"business_id": cafe, "code": "BREAD", "order_minor": 500},
        )
        for _ in range(LIMIT + EXTRA)
    ]
    statuses = Counter(_fire(server, checks))
    assert not {s for s in statuses if s >= 500}, statuses
    assert statuses[429] == EXTRA, statuses
    assert sum(n for s, n in statuses.items() if s != 429) == LIMIT, statuses
