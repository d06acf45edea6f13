"""Exactly once across processes, and a ledger that survives SIGKILL, on both engines.

The crash test then runs `crosspromo loyalty check` in its own process, as an operator would.

Each process runs the real HTTP application (its own engine) against the same database and
all start together at a barrier. Tests count outcomes, never time them.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo.accounts.models import Role
from crosspromo.loyalty import clearing, service
from crosspromo.loyalty.models import Transaction, TxnKind
from tests.campaigns.conftest import key
from tests.loyalty.conftest import build

PROCESSES = 4


def _fire(url: str, requests: list[dict[str, Any]], barrier: Any, out: Any) -> None:
    from fastapi.testclient import TestClient

    from crosspromo.app import create_app
    from crosspromo.settings import Settings

    app = create_app(Settings(database_url=url, secret_key="test-secret"))
    results = []
    with TestClient(app, raise_server_exceptions=False) as client:
        barrier.wait()
        for r in requests:
            response = client.post(r["path"], headers=r["headers"], json=r["json"])
            body = response.json()
            results.append(
                (
                    r["scenario"],
                    response.status_code,
                    body.get("type", ""),
                    body.get("transaction_id"),
                )
            )
    app.state.engine.dispose()
    out.put(results)


def _run(url: str, per_process: list[list[dict[str, Any]]]) -> list[tuple[str, int, str, Any]]:
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(len(per_process)), ctx.Queue()
    jobs = [ctx.Process(target=_fire, args=(url, reqs, barrier, out)) for reqs in per_process]
    for job in jobs:
        job.start()
    results = []
    for _ in jobs:
        results += out.get(timeout=120)
    for job in jobs:
        job.join(timeout=60)
    return results


@pytest.mark.slow
def test_last_points_spent_once_and_one_key_one_effect(db: Session, database_url: str) -> None:
    s = build(db, pending_days=0)
    card = s["card"]
    service.earn(db, business=s["bakery"], card=card, order_minor=100_000, order_ref="B0")
    db.commit()  # 50 points: enough for exactly one of the tills below
    number = service.display_number(card.number)
    tills = [key(db, b, Role.cashier) for b in (s["bakery"], s["cafe"], s["florist"], s["cafe"])]
    bakery = key(db, s["bakery"], Role.cashier)
    per_process = []
    for i, (till, business) in enumerate(
        zip(tills, (s["bakery"], s["cafe"], s["florist"], s["cafe"]), strict=True)
    ):
        per_process.append(
            [
                {
                    "scenario": "last-points",
                    "path": "/api/v1/loyalty/spend",
                    "headers": till,
                    "json": {
                        "business_id": str(business.id),
                        "card": number,
                        "order_minor": 100_000,
                        "order_ref": f"T{i}",
                        "points": 50,
                    },
                },
                {
                    "scenario": "same-key",
                    "path": "/api/v1/loyalty/earn",
                    "headers": bakery | {"Idempotency-Key": "retry-1"},
                    "json": {
                        "business_id": str(s["bakery"].id),
                        "card": number,
                        "order_minor": 20_000,
                        "order_ref": "B-retry",
                    },
                },
            ]
        )
    results = _run(database_url, per_process)
    spends = [r for r in results if r[0] == "last-points"]
    assert sorted(r[1] for r in spends) == [201, 409, 409, 409], spends
    assert {r[2] for r in spends if r[1] == 409} == {"/problems/over-balance"}
    retried = [r for r in results if r[0] == "same-key"]
    assert {r[1] for r in retried} == {201} and len({r[3] for r in retried}) == 1, retried
    db.expire_all()
    earns = db.scalar(
        select(func.count()).where(
            Transaction.order_ref == "B-retry", Transaction.kind == TxnKind.earn
        )
    )
    assert earns == 1
    assert service.balance(db, card).available == 10  # 50 - 50 + 10
    report = clearing.check(db, s["coalition"])
    assert report.ok, report.breaches


BURST = """
import sys
from crosspromo.db import make_engine, make_sessionmaker, unit_of_work
from crosspromo.errors import DomainError
from crosspromo.loyalty import service
from crosspromo.businesses.models import Business
from crosspromo.loyalty.models import Card

url, card_id, ids = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
factory = make_sessionmaker(make_engine(url))
i = 0
while True:
    i += 1
    try:
        with unit_of_work(factory) as db:
            card = db.get(Card, __import__("uuid").UUID(card_id))
            business = db.get(Business, __import__("uuid").UUID(ids[i % len(ids)]))
            if i % 3:
                txn = service.earn(db, business=business, card=card, order_minor=10_000 + i,
                                   order_ref=f"K{i}")
            else:
                txn = service.spend(db, business=business, card=card, order_minor=10_000,
                                    order_ref=f"K{i}", points=3)
            tid = str(txn.id)
    except DomainError:
        continue
    print(tid, flush=True)  # acknowledged: committed
"""


@pytest.mark.slow
def test_sigkill_mid_burst_leaves_a_checked_ledger(
    db: Session, database_url: str, tmp_path: Path
) -> None:
    s = build(db, pending_days=0)
    db.commit()
    ids = ",".join(str(s[name].id) for name in ("bakery", "cafe", "florist"))
    script = tmp_path / "burst.py"
    script.write_text(BURST)
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), database_url, str(s["card"].id), ids],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    acknowledged: list[str] = []
    for worker in workers:
        assert worker.stdout is not None
        for _ in range(15):
            line = worker.stdout.readline()
            assert line, "the burst stopped early"
            acknowledged.append(line.strip())
    for worker in workers:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    db.expire_all()
    found = set(
        str(t)
        for t in db.scalars(
            select(Transaction.id).where(Transaction.id.in_([uuid.UUID(a) for a in acknowledged]))
        )
    )
    assert found == set(acknowledged)  # nothing acknowledged was lost
    report = clearing.check(db, s["coalition"])
    assert report.ok, report.breaches
    # The operator's check, as run after a crash: its own process, exit 0 on a sound ledger.
    checked = subprocess.run(
        [sys.executable, "-m", "crosspromo", "loyalty", "check", str(s["coalition"].id), "--json"],
        env=env | {"CROSSPROMO_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["ok"] is True
