"""Exactly once under concurrency: 4 processes fire hundreds of till requests at once.

Each process runs the real HTTP application (its own engine and connection pool) against the
same database, SQLite or PostgreSQL, and all start together at a barrier. We then count:
a shared code with a total limit, unique codes, a per-customer limit, one Idempotency-Key
retried by every process, and one redemption reversed by every process.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo.accounts.models import Role
from crosspromo.offers.models import Code, Offer, Redemption
from tests.campaigns.conftest import key
from tests.offers.conftest import make_offer

PROCESSES = 4
TOTAL_LIMIT = 37
SHARED_PER_PROCESS = 75


def _fire(url: str, requests: list[dict[str, Any]], seed: int, barrier: Any, out: Any) -> None:
    from crosspromo.app import create_app
    from crosspromo.settings import Settings

    settings = Settings(
        database_url=url,
        secret_key="test-secret",
        till_rate_limit="100000/minute",
        till_rate_limit_per_address="100000/minute",
    )
    app = create_app(settings)
    random.Random(seed).shuffle(requests)
    results = []
    with TestClient(app, raise_server_exceptions=False) as client:
        barrier.wait()
        for r in requests:
            response = client.post(r["path"], headers=r["headers"], json=r["json"])
            body = response.json()
            results.append(
                (r["scenario"], response.status_code, body.get("type", ""), body.get("id"))
            )
    app.state.engine.dispose()
    out.put(results)


@pytest.mark.slow
def test_limits_hold_under_concurrent_redemptions(
    client: TestClient, db: Session, database_url: str, running: dict[str, Any]
) -> None:
    p = running
    cafe = str(p["cafe"].id)
    cashier = key(db, p["cafe"], Role.cashier)
    manager = p["bakery_manager"]
    shared = make_offer(client, p, p["campaign_id"], total_limit=TOTAL_LIMIT)
    client.post(
        f"/api/v1/offers/{shared['id']}/codes",
        headers=manager,
        json={"kind": "shared", "text": "BREAD"},
    )
    unique = make_offer(client, p, p["campaign_id"])
    client.post(
        f"/api/v1/offers/{unique['id']}/codes",
        headers=manager,
        json={"kind": "unique", "count": 20},
    )
    unique_codes = [
        c["code"]
        for c in client.get(f"/api/v1/offers/{unique['id']}/codes", headers=manager).json()["items"]
    ]
    per_customer = make_offer(client, p, p["campaign_id"], per_customer_limit=2)
    client.post(
        f"/api/v1/offers/{per_customer['id']}/codes",
        headers=manager,
        json={"kind": "shared", "text": "CAKE"},
    )
    to_reverse = client.post(
        "/api/v1/redemptions",
        headers=cashier,
        json={"business_id": cafe, "code": unique_codes[0], "order_minor": 900},
    ).json()

    def till(code: str, **extra: Any) -> dict[str, Any]:
        return {"business_id": cafe, "code": code, "order_minor": 1000, **extra}

    plan: list[list[dict[str, Any]]] = []
    for worker in range(PROCESSES):
        requests = [
            {
                "scenario": "shared",
                "path": "/api/v1/redemptions",
                "headers": cashier,
                "json": till("BREAD", customer=f"shared-{worker}-{i}@example.org"),
            }
            for i in range(SHARED_PER_PROCESS)
        ]
        requests += [
            {
                "scenario": "unique",
                "path": "/api/v1/redemptions",
                "headers": cashier,
                "json": till(code),
            }
            for code in unique_codes[1:]
        ]
        requests += [
            {
                "scenario": "customer",
                "path": "/api/v1/redemptions",
                "headers": cashier,
                "json": till("CAKE", customer=f"c{c}@example.org"),
            }
            for c in range(3)
            for _ in range(3)
        ]
        requests += [
            {
                "scenario": "retry",
                "path": "/api/v1/redemptions",
                "headers": cashier | {"Idempotency-Key": "same-sale"},
                "json": till("BREAD", customer="retry@example.org"),
            }
            for _ in range(5)
        ]
        requests += [
            {
                "scenario": "reverse",
                "path": f"/api/v1/redemptions/{to_reverse['id']}/reversal",
                "headers": cashier,
                "json": {"reason": "refund"},
            }
            for _ in range(3)
        ]
        plan.append(requests)

    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(PROCESSES), ctx.Queue()
    jobs = [
        ctx.Process(target=_fire, args=(database_url, plan[i], i, barrier, out))
        for i in range(PROCESSES)
    ]
    for job in jobs:
        job.start()
    results = [r for _ in jobs for r in out.get(timeout=300)]
    for job in jobs:
        job.join(timeout=60)
    assert len(results) == sum(len(r) for r in plan) > 400

    def count(scenario: str, status: int) -> int:
        return sum(1 for s, code, _, _ in results if s == scenario and code == status)

    errors = [r for r in results if r[1] >= 500]
    assert not errors, errors[:5]
    # the shared code: 300 attempts + the retried sale, exactly TOTAL_LIMIT uses in all
    retry_ids = {rid for s, code, _, rid in results if s == "retry" and code == 201}
    assert count("retry", 201) == 5 * PROCESSES and len(retry_ids) == 1  # one effect, one answer
    assert count("shared", 201) == TOTAL_LIMIT - 1
    assert count("shared", 409) == SHARED_PER_PROCESS * PROCESSES - (TOTAL_LIMIT - 1)
    assert {t for s, _, t, _ in results if s == "shared" and t} <= {"/problems/exhausted"}
    # unique codes: 19 codes tried by every process, each used exactly once
    assert count("unique", 201) == len(unique_codes) - 1
    assert count("unique", 409) == (len(unique_codes) - 1) * (PROCESSES - 1)
    # per customer: 3 customers x limit 2
    assert count("customer", 201) == 6
    # one reversal wins
    assert count("reverse", 201) == 1 and count("reverse", 409) == 3 * PROCESSES - 1

    db.expire_all()
    offer_uses = db.scalar(
        select(Offer.uses).where(Offer.title == shared["title"], Offer.total_limit == TOTAL_LIMIT)
    )
    assert offer_uses == TOTAL_LIMIT
    used = db.scalar(select(func.sum(Code.uses)).where(Code.offer_id == uuid.UUID(unique["id"])))
    assert used == len(unique_codes) - 1  # the reversed one gave its use back
    reversals = db.scalar(
        select(func.count()).select_from(Redemption).where(Redemption.reverses_id.is_not(None))
    )
    assert reversals == 1
