"""Exactly one acceptance under concurrency: 4 processes accept every lead at once, each as the
specialist it is offered to now and as the one it moved on from.

Each process runs the real HTTP application (its own engine and pool) on the same database,
SQLite or PostgreSQL, and all start together at a barrier. We count answers and rows.
"""

from __future__ import annotations

import multiprocessing as mp
import random
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crosspromo.db import utcnow
from crosspromo.leads import service
from crosspromo.leads.models import Lead, LeadEvent, LeadOffer, OfferOutcome, Specialist, Status
from crosspromo.offers.models import Accrual
from tests.leads.conftest import PRICE, request_body

PROCESSES = 4
LEADS = 10


def _fire(url: str, requests: list[dict[str, Any]], seed: int, barrier: Any, out: Any) -> None:
    from crosspromo.app import create_app
    from crosspromo.settings import Settings

    app = create_app(Settings(database_url=url, secret_key="test-secret"))
    random.Random(seed).shuffle(requests)
    results = []
    with TestClient(app, raise_server_exceptions=False) as client:
        barrier.wait()
        for r in requests:
            response = client.post(r["path"], headers=r["headers"], json=r["json"])
            body = response.json()
            results.append((r["lead"], r["who"], response.status_code, body.get("type", "")))
    app.state.engine.dispose()
    out.put(results)


@pytest.mark.slow
def test_exactly_one_specialist_gets_each_lead(
    client: TestClient, db: Session, database_url: str, exchange: dict[str, Any]
) -> None:
    x = exchange
    db.execute(update(Specialist).values(capacity_per_day=100))
    db.commit()
    for i in range(LEADS):
        body = request_body(x, phone=f"+7 912 100-00-{10 + i}")
        sent = client.post(f"/api/v1/lead-forms/{x['form']['id']}/requests", json=body)
        assert sent.status_code == 201, sent.text
    service.sweep(db, now=utcnow() + timedelta(hours=3))  # every lead moves on once
    db.commit()
    offers = db.execute(select(LeadOffer.lead_id, LeadOffer.specialist_id, LeadOffer.outcome)).all()
    assert len(offers) == 2 * LEADS
    plan: list[list[dict[str, Any]]] = [[] for _ in range(PROCESSES)]
    for lead_id, specialist_id, outcome in offers:
        who = "current" if outcome is OfferOutcome.pending else "moved_on"
        for requests in plan:
            requests += [
                {
                    "lead": str(lead_id),
                    "who": who,
                    "path": f"/api/v1/leads/{lead_id}/accept",
                    "headers": x["plasterer_cashier"],
                    "json": {"specialist_id": str(specialist_id)},
                }
            ] * 2
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
    assert len(results) == PROCESSES * 2 * 2 * LEADS

    assert not [r for r in results if r[2] >= 500], results[:5]
    for lead_id in {r[0] for r in results}:
        mine = [r for r in results if r[0] == lead_id]
        assert [r[1] for r in mine if r[2] == 200] == ["current"]  # exactly one, the live offer
        refusals = {(who, kind) for _, who, code, kind in mine if code == 409}
        assert refusals <= {
            ("current", "/problems/lead-taken"),
            ("moved_on", "/problems/lead-moved-on"),
        }
        assert len([r for r in mine if r[2] == 409]) == PROCESSES * 4 - 1

    db.expire_all()
    accepted = db.scalar(
        select(func.count()).select_from(Lead).where(Lead.status == Status.accepted)
    )
    assert accepted == LEADS
    events = db.scalar(
        select(func.count()).select_from(LeadEvent).where(LeadEvent.status == "accepted")
    )
    assert events == LEADS
    charges = db.execute(
        select(func.count(), func.sum(Accrual.amount_minor)).where(Accrual.kind == "lead")
    ).one()
    assert tuple(charges) == (LEADS, LEADS * PRICE)  # each lead paid once
