"""The till page and the API share one redemption flow (offers/flows.py).

The page is throttled like the API, and two reversals of one redemption fired at the same
moment through the page give one success and one clear refusal, never a 500.
"""

from __future__ import annotations

import multiprocessing as mp
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo.offers.models import Attempt, Code, Offer, Redemption
from tests.conftest import sign_in
from tests.offers.conftest import make_offer

PROCESSES = 3
PER_PROCESS = 2


def _unique_code(client: TestClient, p: dict[str, Any]) -> str:
    offer = make_offer(client, p, p["campaign_id"])
    client.post(
        f"/api/v1/offers/{offer['id']}/codes",
        headers=p["bakery_manager"],
        json={"kind": "unique", "count": 1},
    )
    listed = client.get(f"/api/v1/offers/{offer['id']}/codes", headers=p["bakery_manager"])
    return str(listed.json()["items"][0]["code"])


def test_the_till_page_is_throttled_per_caller(
    app: Any, client: TestClient, db: Session, running: dict[str, Any]
) -> None:
    p = running
    app.state.settings = app.state.settings.model_copy(update={"till_rate_limit": "3/minute"})
    csrf = sign_in(client, "b@example.com")
    base = f"/b/{p['cafe'].id}/till"
    form = {"code": "NOPE", "amount": "5", "csrf_token": csrf}
    answers = [client.post(f"{base}/check", data=form) for _ in range(3)]
    assert [a.status_code for a in answers] == [422, 422, 422]
    limited = client.post(f"{base}/check", data=form)
    assert limited.status_code == 429 and 'data-kind="rate-limited"' in limited.text
    confirm = client.post(f"{base}/redeem", data=form | {"token": "t-1"})
    assert confirm.status_code == 429
    # the three refusals were audited, each in its own short transaction
    refused = db.scalar(
        select(func.count()).select_from(Attempt).where(Attempt.outcome == "unknown-code")
    )
    assert refused == 3


def test_the_api_is_throttled_per_address_too(
    app: Any, client: TestClient, running: dict[str, Any], engine_name: str
) -> None:
    p = running
    # a rule of its own per engine, in case the storage outlives one test (memory://)
    rule = {"sqlite": "2/minute", "postgresql": "2/hour"}[engine_name]
    app.state.settings = app.state.settings.model_copy(update={"till_rate_limit_per_address": rule})
    body = {"business_id": str(p["cafe"].id), "code": "NOPE", "order_minor": 100}
    # two callers from one address: the address's limit holds across them
    first = client.post("/api/v1/redemptions/validate", headers=p["cafe_cashier"], json=body)
    second = client.post("/api/v1/redemptions/validate", headers=p["cafe_owner"], json=body)
    third = client.post("/api/v1/redemptions/validate", headers=p["cafe_owner"], json=body)
    assert first.status_code != 429 and second.status_code != 429
    assert third.status_code == 429 and third.json()["type"].endswith("/problems/rate-limited")


def _reverse(url: str, calls: list[dict[str, Any]], barrier: Any, out: Any) -> None:
    from crosspromo.app import create_app
    from crosspromo.settings import Settings

    settings = Settings(
        database_url=url,
        secret_key="test-secret",
        till_rate_limit="100000/minute",
        till_rate_limit_per_address="100000/minute",
    )
    app = create_app(settings)
    results = []
    with TestClient(app, raise_server_exceptions=False) as client:
        for call in calls:
            client.cookies.update(call["cookies"])
        barrier.wait()
        for call in calls:
            response = client.post(call["path"], data=call["data"])
            kind = ""
            if 'data-kind="' in response.text:
                kind = response.text.split('data-kind="', 1)[1].split('"', 1)[0]
            results.append((response.status_code, kind, "Reversed" in response.text))
    app.state.engine.dispose()
    out.put(results)


@pytest.mark.slow
def test_simultaneous_reversals_through_the_page_one_wins(
    client: TestClient, db: Session, database_url: str, running: dict[str, Any]
) -> None:
    p = running
    code = _unique_code(client, p)
    sold = client.post(
        "/api/v1/redemptions",
        headers=p["cafe_cashier"],
        json={"business_id": str(p["cafe"].id), "code": code, "order_minor": 900},
    )
    assert sold.status_code == 201, sold.text
    csrf = sign_in(client, "b@example.com")
    call = {
        "path": f"/b/{p['cafe'].id}/till/reverse",
        "data": {"redemption_id": sold.json()["id"], "csrf_token": csrf},
        "cookies": dict(client.cookies.items()),
    }
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(PROCESSES), ctx.Queue()
    jobs = [
        ctx.Process(target=_reverse, args=(database_url, [call] * PER_PROCESS, barrier, out))
        for _ in range(PROCESSES)
    ]
    for job in jobs:
        job.start()
    results = [r for _ in jobs for r in out.get(timeout=300)]
    for job in jobs:
        job.join(timeout=60)
    assert len(results) == PROCESSES * PER_PROCESS
    assert not [r for r in results if r[0] >= 500], results
    won = [r for r in results if r[0] == 200]
    refused = [r for r in results if r[0] == 409]
    assert len(won) == 1 and won[0][2], results
    assert len(refused) == PROCESSES * PER_PROCESS - 1, results
    assert {kind for _, kind, _ in refused} == {"already-reversed"}
    db.expire_all()
    reversals = db.scalar(
        select(func.count()).select_from(Redemption).where(Redemption.reverses_id.is_not(None))
    )
    assert reversals == 1
    audited = dict(
        db.execute(
            select(Attempt.outcome, func.count())
            .where(Attempt.action == "reverse")
            .group_by(Attempt.outcome)
        ).all()
    )
    assert audited == {"ok": 1, "already-reversed": PROCESSES * PER_PROCESS - 1}


def test_a_refusal_after_partial_writes_leaves_none_and_is_audited(
    app: Any, client: TestClient, db: Session, running: dict[str, Any]
) -> None:
    """The customer's limit refuses after the code's and the offer's uses moved: all undone."""
    p = running
    offer = make_offer(client, p, p["campaign_id"], per_customer_limit=1)
    client.post(
        f"/api/v1/offers/{offer['id']}/codes",
        headers=p["bakery_manager"],
        json={"kind": "shared", "text": "CAKE"},
    )
    csrf = sign_in(client, "b@example.com")
    base = f"/b/{p['cafe'].id}/till"
    sale = {"code": "CAKE", "amount": "10", "customer": "ann@example.org", "csrf_token": csrf}
    first = client.post(f"{base}/redeem", data=sale | {"token": "sale-1"})
    assert first.status_code == 200 and "Redeemed" in first.text
    second = client.post(f"{base}/redeem", data=sale | {"token": "sale-2"})
    assert second.status_code == 409 and 'data-kind="customer-limit"' in second.text
    db.expire_all()
    assert db.scalar(select(Offer.uses).where(Offer.id == uuid.UUID(offer["id"]))) == 1
    assert db.scalar(select(Code.uses).where(Code.code == "CAKE")) == 1
    assert db.scalar(select(func.count()).select_from(Redemption)) == 1
    outcomes = db.scalars(select(Attempt.outcome).where(Attempt.action == "redeem")).all()
    assert sorted(outcomes) == ["customer-limit", "ok"]
    # the refused token keeps its answer: the same tap again is refused the same way
    again = client.post(f"{base}/redeem", data=sale | {"token": "sale-2"})
    assert again.status_code == 409 and 'data-kind="customer-limit"' in again.text
