"""A trigger sends the bakery's offer to the cafe's consenting customers some days after their
first visit: once per customer, never in quiet hours, with a holdout that is never sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.errors import Forbidden
from crosspromo.imports import service as imports
from crosspromo.messaging import journeys
from crosspromo.messaging.models import Channel, Contact, Delivery, DeliveryStatus
from crosspromo.settings import Settings
from tests.messaging.conftest import Mailbox, consenting
from tests.messaging.test_delivery import tick
from tests.offers.partners import agree

OFFER = {
    "en": {
        "subject": "A gift from {{ business }}'s neighbour",
        "text": 'Bring this to the bakery: {{ link("https://bakery.example/gift") }}',
    }
}
# Noon in Moscow on Monday 7 December 2026, six days after the first visits below.
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _visits(db: Session, tmp_path: Path, cafe: Any, people: int) -> None:
    """Customers guest0..guest{people-1} of the cafe; each first came on 1 December."""
    customers = ["customer,email"] + [f"C{i},guest{i}@example.com" for i in range(people)]
    receipts = ["id,customer,at,amount"] + [
        f"R{i},C{i},2026-12-01 12:00,300" for i in range(people)
    ]
    receipts.append(f"R{people},C0,2026-12-05 12:00,300")  # a second visit: not a first
    (tmp_path / "c.csv").write_text("\n".join(customers) + "\n")
    (tmp_path / "t.csv").write_text("\n".join(receipts) + "\n")
    for kind, name in (("customers", "c.csv"), ("transactions", "t.csv")):
        imports.run(
            db, kind=kind, path=tmp_path / name, secret_key="test-secret", business=cafe.slug
        )
    db.commit()


def test_first_visit_then_the_partner_offer(
    client: TestClient,
    db: Session,
    tmp_path: Path,
    channels_settings: Settings,
    mailbox: tuple[Mailbox, int],
) -> None:
    box, _ = mailbox
    p = agree(client, db)
    cafe, bakery = p["cafe"], p["bakery"]
    _visits(db, tmp_path, cafe, 40)
    consenting(db, cafe.id, 30)  # guests 30..39 bought but never consented
    with pytest.raises(Forbidden):
        journeys.create(
            db,
            business_id=cafe.id,
            sender_name=cafe.name,
            partner_business_id=p["outsider"].id,
            channel=Channel.email,
            content=OFFER,
            delay_days=5,
        )
    trigger = journeys.create(
        db,
        business_id=cafe.id,
        sender_name=cafe.name,
        partner_business_id=bakery.id,
        channel=Channel.email,
        content=OFFER,
        delay_days=5,
        holdout_bp=2000,
    )
    db.commit()
    settings = channels_settings.model_copy(update={"messages_weekly_cap": 10})
    too_early = NOW - timedelta(days=2)
    assert journeys.run(db, now=too_early, settings=settings) == 0
    queued = journeys.run(db, now=NOW, settings=settings)
    db.commit()
    deliveries = list(
        db.scalars(select(Delivery).where(Delivery.broadcast_id == trigger.broadcast_id))
    )
    held = [d for d in deliveries if d.reason == "holdout"]
    assert len(deliveries) == 30 and queued == 30 - len(held)
    assert 1 <= len(held) <= 15  # about 20% of 30
    assert all(d.status is DeliveryStatus.skipped for d in held)
    # Idempotent: the next runs find nobody new.
    assert journeys.run(db, now=NOW + timedelta(hours=1), settings=settings) == 0
    db.commit()

    tick(settings)
    guests = [m for m in box.messages if str(m["To"]).startswith("guest")]
    arrived = [str(m["To"]) for m in guests]
    assert len(arrived) == queued and len(set(arrived)) == queued
    kept = {db.get(Contact, d.contact_id).email for d in held}  # type: ignore[union-attr]
    assert not kept & set(arrived)
    text = guests[0].get_body(("plain",)).get_content()
    assert "https://promo.example/m/" in text and "Cafe" in str(guests[0]["Subject"])


def test_the_partner_must_come_after_in_the_deal_cycle(client: TestClient, db: Session) -> None:
    from crosspromo.errors import Invalid
    from crosspromo.matching.models import LearnedPair

    p = agree(client, db)
    dealer, insurer = p["bakery"], p["cafe"]
    dealer.category, insurer.category = "shop=car", "office=insurance"
    db.flush()

    def trigger(here: Any, partner: Any) -> Any:
        return journeys.create(
            db,
            business_id=here.id,
            sender_name=here.name,
            partner_business_id=partner.id,
            channel=Channel.email,
            content=OFFER,
            delay_days=5,
        )

    # curated: a car is bought before its insurance, so the insurer's offer follows a car...
    assert trigger(dealer, insurer).delay_days == 5
    # ... but the dealer's offer after a first insurance would come too late
    with pytest.raises(Invalid):
        trigger(insurer, dealer)
    # what shared customers did outweighs the curated order once enough of them are seen
    a, b = sorted((dealer.id, insurer.id))
    insured_first = 45
    a_first = insured_first if a == insurer.id else 50 - insured_first
    db.add(
        LearnedPair(business_a=a, business_b=b, shared=50, a_first=a_first, switched=0, lift=2.0)
    )
    db.flush()
    assert journeys.comes_after(db, insurer.id, dealer.id)
    assert not journeys.comes_after(db, dealer.id, insurer.id)
