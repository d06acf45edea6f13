"""A redemption's round trips to the database, counted (not timed) on both engines.

The offer's row is the one every till of an offer shares: its conditional UPDATE must be the
transaction's last statement before the commit, and the number of statements per redemption
must not grow unnoticed (bench/redemption_service.py and bench/redemption_http.py measure
what each one costs).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from crosspromo.accounts.models import Role
from crosspromo.businesses import service as businesses
from crosspromo.offers import service
from crosspromo.offers.schemas import CodesCreate, Till
from crosspromo.roles import Actor
from tests.offers.conftest import make_offer
from tests.offers.partners import agree

PERCENT = {"payment_model": "per_sale_percent", "payment_percent": "5"}
# Code with offer and stage, terms, webhook endpoints; UPDATE code, INSERT redemption,
# INSERT accrual, UPDATE offer (the business was checked by the caller, once per request).
SERVICE_STATEMENTS = 7
# The API key, then the service's statements, the audit row, and the rate-limit counters (both
# windows in one statement, in the request's transaction); BEGIN/COMMIT are not counted.
HTTP_STATEMENTS = 11


@contextmanager
def recorded(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_c: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _deal(client: TestClient, db: Session) -> tuple[dict[str, Any], list[str]]:
    p = agree(client, db, **PERCENT)
    offer = make_offer(client, p, p["campaign_id"])
    bakery = Actor(key_business_id=p["bakery"].id, key_role=Role.owner)
    service.add_codes(db, bakery, uuid.UUID(offer["id"]), CodesCreate(kind="unique", count=3))
    db.commit()
    listed = client.get(f"/api/v1/offers/{offer['id']}/codes", headers=p["bakery_manager"])
    return p, [c["code"] for c in listed.json()["items"]]


def _writes(statements: list[str]) -> list[str]:
    return [s for s in statements if s.split()[0] in ("INSERT", "UPDATE", "DELETE")]


def test_the_service_locks_the_offer_last_in_few_statements(
    client: TestClient, db: Session
) -> None:
    p, codes = _deal(client, db)
    cafe = Actor(key_business_id=p["cafe"].id, key_role=Role.cashier)
    till = Till(business_id=p["cafe"].id, code=codes[0], order_minor=50000)
    db.expunge_all()
    business = businesses.get(db, cafe, p["cafe"].id)
    with recorded(db.get_bind()) as statements:  # type: ignore[arg-type]
        service.redeem(db, cafe, till, secret_key="test-secret")
        # Asked again in the same request, the tenancy check costs no round trip.
        assert businesses.get(db, cafe, p["cafe"].id) is business
    db.commit()
    assert len(statements) == SERVICE_STATEMENTS, statements
    writes = _writes(statements)
    assert writes[0].startswith("UPDATE offer_codes")
    assert statements[-1].startswith("UPDATE offers ")
    assert all(w.split()[0] != "SELECT" for w in statements[statements.index(writes[0]) :])


def test_over_http_the_offer_is_locked_after_the_audit_row(
    client: TestClient, db: Session, app: Any
) -> None:
    p, codes = _deal(client, db)
    till = {"business_id": str(p["cafe"].id), "code": codes[1], "order_minor": 50000}
    client.post(  # a first request warms the app's caches (e.g. the key's last use)
        "/api/v1/redemptions", headers=p["cafe_cashier"], json=till | {"code": codes[0]}
    )
    with recorded(app.state.engine) as statements:
        done = client.post(
            "/api/v1/redemptions",
            headers=p["cafe_cashier"] | {"Idempotency-Key": "k-1"},
            json=till,
        )
    assert done.status_code == 201, done.text
    writes = _writes(statements)
    # The offer's row, then the counters' rows: every till flow takes the counters last.
    assert writes[-2].startswith("UPDATE offers "), writes
    assert writes[-1].startswith("INSERT INTO rate_limits"), writes
    assert any(w.startswith("INSERT INTO redemption_attempts") for w in writes), writes
    # The Idempotency-Key adds its claim and its stored answer.
    assert len(statements) == HTTP_STATEMENTS + 2, statements
