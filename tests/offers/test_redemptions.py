"""The till through the API on both engines: validate, redeem once, reverse once, refusals."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo.accounts.models import Role
from crosspromo.offers.models import Accrual, Attempt
from crosspromo.outbox.models import OutboxMessage
from tests.campaigns.conftest import key
from tests.offers.conftest import make_offer


def _codes(client: TestClient, p: dict[str, Any], offer: dict[str, Any], **body: Any) -> list[str]:
    made = client.post(
        f"/api/v1/offers/{offer['id']}/codes", headers=p["bakery_manager"], json=body
    )
    assert made.status_code == 201, made.text
    listed = client.get(f"/api/v1/offers/{offer['id']}/codes", headers=p["bakery_manager"]).json()
    return [c["code"] for c in listed["items"]]


def test_unique_code_redeems_once_and_reverses_once(
    client: TestClient, db: Session, running: dict[str, Any]
) -> None:
    p = running
    cashier = key(db, p["cafe"], Role.cashier)
    offer = make_offer(client, p, p["campaign_id"], min_order_minor=30000)
    code = _codes(client, p, offer, kind="unique", count=3)[0]
    till = {
        "business_id": str(p["cafe"].id),
        "code": code.lower().replace("-", " "),
        "order_minor": 50000,
    }

    checked = client.post("/api/v1/redemptions/validate", headers=cashier, json=till).json()
    assert checked["ok"] is True and checked["discount_minor"] == 5000 and checked["uses_left"] == 1
    low = client.post(
        "/api/v1/redemptions/validate", headers=cashier, json=till | {"order_minor": 100}
    ).json()
    assert low["ok"] is False and low["reason"] == "below-threshold"

    first = client.post(
        "/api/v1/redemptions", headers=cashier | {"Idempotency-Key": "r-1"}, json=till
    )
    assert first.status_code == 201, first.text
    replay = client.post(
        "/api/v1/redemptions", headers=cashier | {"Idempotency-Key": "r-1"}, json=till
    )
    assert replay.status_code == 201 and replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    other_body = client.post(
        "/api/v1/redemptions",
        headers=cashier | {"Idempotency-Key": "r-1"},
        json=till | {"order_minor": 60000},
    )
    assert (
        other_body.status_code == 422
        and other_body.json()["type"] == "/problems/idempotency-key-reused"
    )
    again = client.post("/api/v1/redemptions", headers=cashier, json=till)
    assert again.status_code == 409 and again.json()["type"] == "/problems/code-used"

    rid = first.json()["id"]
    back = client.post(
        f"/api/v1/redemptions/{rid}/reversal", headers=cashier, json={"reason": "refund"}
    )
    assert back.status_code == 201 and back.json()["order_minor"] == -50000
    twice = client.post(
        f"/api/v1/redemptions/{rid}/reversal", headers=cashier, json={"reason": "refund"}
    )
    assert twice.status_code == 409 and twice.json()["type"] == "/problems/already-reversed"
    of_reversal = client.post(
        f"/api/v1/redemptions/{back.json()['id']}/reversal", headers=cashier, json={"reason": "x"}
    )
    assert of_reversal.json()["type"] == "/problems/reversal-of-reversal"
    # the use came back: the code redeems again
    assert client.post("/api/v1/redemptions", headers=cashier, json=till).status_code == 201
    attempts = db.scalar(select(func.count()).select_from(Attempt))
    assert attempts is not None and attempts >= 6


def test_unknown_and_foreign_codes_get_the_same_answer(
    client: TestClient, db: Session, running: dict[str, Any]
) -> None:
    p = running
    offer = make_offer(client, p, p["campaign_id"])
    code = _codes(client, p, offer, kind="unique", count=1)[0]
    # the bakery's own cashier: the code is honoured at the cafe, not here
    bakery_cashier = key(db, p["bakery"], Role.cashier)
    foreign = client.post(
        "/api/v1/redemptions/validate",
        headers=bakery_cashier,
        json={"business_id": str(p["bakery"].id), "code": code, "order_minor": 1000},
    )
    unknown = client.post(
        "/api/v1/redemptions/validate",
        headers=bakery_cashier,
        json={"business_id": str(p["bakery"].id), "code": "ZZZZ-ZZZZ-ZZZZ", "order_minor": 1000},
    )
    assert foreign.status_code == unknown.status_code == 422
    assert foreign.json()["type"] == "/problems/unknown-code"
    assert {k: v for k, v in foreign.json().items() if k != "instance"} == {
        k: v for k, v in unknown.json().items() if k != "instance"
    } or unknown.json()["type"] in ("/problems/unknown-code", "/problems/mistyped-code")
    cashier = key(db, p["cafe"], Role.cashier)
    typo = code[:-1] + ("2" if code[-1] != "2" else "3")
    mistyped = client.post(
        "/api/v1/redemptions/validate",
        headers=cashier,
        json={"business_id": str(p["cafe"].id), "code": typo, "order_minor": 1000},
    )
    assert mistyped.json()["type"] == "/problems/mistyped-code"
    absurd = client.post(
        "/api/v1/redemptions/validate",
        headers=cashier,
        json={"business_id": str(p["cafe"].id), "code": code, "order_minor": 10**12},
    )
    assert absurd.json()["type"] == "/problems/absurd-amount"
    # another tenant's business id is refused outright
    wrong = client.post(
        "/api/v1/redemptions/validate",
        headers=cashier,
        json={"business_id": str(p["bakery"].id), "code": code, "order_minor": 1000},
    )
    assert wrong.status_code == 404


def test_shared_code_total_and_per_customer_limits_and_commission(
    client: TestClient, db: Session, running: dict[str, Any]
) -> None:
    p = running
    offer = make_offer(
        client,
        p,
        p["campaign_id"],
        total_limit=2,
        per_customer_limit=1,
        benefit="fixed",
        percent=None,
        amount_minor=20000,
    )
    _codes(client, p, offer, kind="shared", text="coffee-bread")
    cashier = key(db, p["cafe"], Role.cashier)
    till = {"business_id": str(p["cafe"].id), "code": "COFFEEBREAD", "order_minor": 15000}
    no_customer = client.post("/api/v1/redemptions", headers=cashier, json=till)
    assert no_customer.json()["type"] == "/problems/needs-customer"
    one = client.post(
        "/api/v1/redemptions", headers=cashier, json=till | {"customer": "+7 912 000-00-01"}
    )
    assert one.status_code == 201 and one.json()["discount_minor"] == 15000  # never above the order
    same = client.post(
        "/api/v1/redemptions", headers=cashier, json=till | {"customer": "8 912 000 00 01"}
    )
    assert same.json()["type"] == "/problems/customer-limit"
    two = client.post(
        "/api/v1/redemptions", headers=cashier, json=till | {"customer": "b@example.org"}
    )
    assert two.status_code == 201
    three = client.post(
        "/api/v1/redemptions", headers=cashier, json=till | {"customer": "c@example.org"}
    )
    assert three.json()["type"] == "/problems/exhausted"
    # barter agreement: no money accrues
    assert db.scalar(select(func.count()).select_from(Accrual)) == 0


def test_webhook_is_queued_with_the_redemption(
    client: TestClient, db: Session, running: dict[str, Any]
) -> None:
    p = running
    owner = p["cafe_owner"]
    hook = client.post(
        f"/api/v1/businesses/{p['cafe'].id}/webhooks",
        headers=owner,
        json={"url": "https://93.184.215.14/hook"},  # a public address: no DNS involved
    ).json()
    assert hook["secret"].startswith("whsec_")
    offer = make_offer(client, p, p["campaign_id"])
    code = _codes(client, p, offer, kind="unique", count=1)[0]
    made = client.post(
        "/api/v1/redemptions",
        headers=owner,
        json={"business_id": str(p["cafe"].id), "code": code, "order_minor": 1000},
    )
    assert made.status_code == 201
    queued = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "webhook")).all()
    assert [m.payload["event"] for m in queued] == ["redemption.created"]
    assert [m.payload["endpoint_id"] for m in queued] == [hook["id"]]
    assert "secret" not in queued[0].payload and "url" not in queued[0].payload
