"""Measurement fixtures: a running campaign between a bakery (issuer) and a cafe (honouring),
the CLI pointed at the test's database, and a campaign with touches of every channel."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.customers.models import Customer
from crosspromo.identifiers import identifier_hash
from crosspromo.offers.models import Click, Code, Redemption
from crosspromo.outbox.models import OutboxMessage, Status
from crosspromo.sales.models import Transaction
from crosspromo.settings import Settings, get_settings
from tests.campaigns.conftest import agreed, key  # noqa: F401  (fixtures for these tests)
from tests.offers.conftest import make_offer, running  # noqa: F401
from tests.offers.partners import agree


@pytest.fixture
def settings_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """CLI commands in this test read the test's database and secret."""
    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("CROSSPROMO_SECRET_KEY", settings.secret_key)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def _customer(db: Session, business_id: uuid.UUID, n: int, email: str) -> Customer:
    customer = Customer(
        business_id=business_id,
        external_id=f"c{n}",
        email=email,
        email_hash=identifier_hash("email", email, "test-secret"),
        marketing_consent=True,
        row_hash=f"h{n}",
    )
    db.add(customer)
    db.flush()
    return customer


def _sale(db: Session, business_id: uuid.UUID, customer: Customer, at: datetime, n: int) -> None:
    db.add(
        Transaction(
            business_id=business_id,
            external_id=f"t{n}",
            customer_id=customer.id,
            at=at,
            amount_minor=50_000,
            currency="RUB",
            row_hash=f"t{n}",
        )
    )


@pytest.fixture
def touched(client: TestClient, db: Session) -> dict[str, Any]:
    """Three bakery customers with e-mailed codes, what each did next, and an anonymous click."""
    p = agree(client, db)
    offer = make_offer(client, p, p["campaign_id"])
    made = client.post(
        f"/api/v1/offers/{offer['id']}/codes",
        headers=p["bakery_manager"],
        json={"kind": "unique", "count": 3},
    )
    assert made.status_code == 201, made.text
    link = client.post(
        f"/api/v1/offers/{offer['id']}/codes",
        headers=p["bakery_manager"],
        json={"kind": "link", "label": "flyer"},
    )
    assert link.status_code == 201, link.text
    bakery, cafe = p["bakery"].id, p["cafe"].id
    offer_id = uuid.UUID(offer["id"])
    codes = list(
        db.scalars(
            select(Code).where(Code.offer_id == offer_id, Code.kind == "unique").order_by(Code.code)
        )
    )
    flyer = db.scalar(select(Code).where(Code.offer_id == offer_id, Code.kind == "link"))
    assert flyer is not None
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=10)
    people = [_customer(db, bakery, i, f"p{i}@example.com") for i in range(3)]
    for i, (code, person) in enumerate(zip(codes, people, strict=True)):
        code.label = f"sent to customer {person.id}"
        code.created_at = base
        db.add(
            OutboxMessage(
                kind="email",
                key=f"offer-email:{offer_id}:{person.id}",
                payload={"to": person.email},
                status=Status.sent,
                created_at=base + timedelta(minutes=1),
                sent_at=base + timedelta(minutes=2 + i),
            )
        )
    # p0 clicks the e-mailed link, then redeems the code at the cafe
    db.add(
        Click(
            offer_id=offer_id, code_id=codes[0].id, address_hash="x0", at=base + timedelta(hours=1)
        )
    )
    redemption = dict(
        offer_id=offer_id,
        business_id=cafe,
        referrer_business_id=bakery,
        order_minor=50_000,
        discount_minor=5_000,
        currency="RUB",
    )
    db.add(
        Redemption(
            code_id=codes[0].id,
            at=base + timedelta(hours=2),
            customer_hash=people[0].email_hash,
            **redemption,
        )
    )
    # ... and comes back to the cafe a day later: the funnel's last step
    twin0 = _customer(db, cafe, 11, "p0@example.com")
    _sale(db, cafe, twin0, base + timedelta(hours=27), 3)
    # p1 buys bread at the bakery, then coffee at the cafe (matched by the e-mail hash)
    _sale(db, bakery, people[1], base + timedelta(hours=3), 1)
    twin = _customer(db, cafe, 10, "p1@example.com")
    _sale(db, cafe, twin, base + timedelta(hours=4), 2)
    # p2 redeems, but the redemption is reversed: no conversion
    first = Redemption(code_id=codes[2].id, at=base + timedelta(hours=5), **redemption)
    db.add(first)
    db.flush()
    db.add(
        Redemption(
            code_id=codes[2].id, at=base + timedelta(hours=6), reverses_id=first.id, **redemption
        )
    )
    # somebody clicks the flyer's link and is never seen again
    db.add(Click(offer_id=offer_id, code_id=flyer.id, address_hash="anon", at=base))
    db.commit()
    return p | {"base": base, "people": people}
