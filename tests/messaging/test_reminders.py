"""Reminders before expiry, at fixed instants: points a business issued and codes it handed
to its known customers; once per customer and lot or code, only with consent, never about
what another business issued, and with the expiry day and points in the message."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.accounts.models import Role
from crosspromo.customers.models import Customer
from crosspromo.imports import service as imports
from crosspromo.loyalty import service as loyalty
from crosspromo.messaging import contacts, reminders
from crosspromo.messaging.models import Channel, Delivery, DeliveryStatus
from crosspromo.offers.codes import normalize
from crosspromo.offers.models import Code
from crosspromo.settings import Settings
from tests.campaigns.conftest import key
from tests.loyalty.conftest import T0, build
from tests.messaging.conftest import WORDING, HttpInbox
from tests.messaging.test_delivery import tick
from tests.offers.conftest import make_offer
from tests.offers.partners import agree, link_codes

POINTS_TEXT = {
    "en": {"text": "{{ business }}: {{ points }} points expire on {{ expires_on }}."},
    "ru": {"text": "{{ business }}: {{ points }} баллов сгорят {{ expires_on }}."},
}


def test_points_reminder_once_per_lot(
    client: TestClient, db: Session, channels_settings: Settings, http_inbox: HttpInbox
) -> None:
    s = build(db)
    bakery, cafe, card = s["bakery"], s["cafe"], s["card"]
    # 50 points from the bakery at T0 (they expire 12 months later), and some from the cafe
    loyalty.earn(db, business=bakery, card=card, order_minor=100_000, order_ref="B1", now=T0)
    loyalty.earn(db, business=cafe, card=card, order_minor=100_000, order_ref="C1", now=T0)
    later = T0 + timedelta(days=20)
    loyalty.earn(db, business=bakery, card=card, order_minor=40_000, order_ref="B2", now=later)
    person = contacts.add_contact(
        db,
        business_id=bakery.id,
        secret_key="test-secret",
        region="RU",
        phone="+7 912 345-67-89",
        locale="en",
    )
    contacts.record_consent(
        db, person, channel=Channel.sms, granted=True, source="card form", wording=WORDING
    )
    db.commit()
    h = key(db, bakery, Role.owner)
    api = f"/api/v1/businesses/{bakery.id}/reminders"
    body = {
        "kind": "points",
        "channel": "sms",
        "content": POINTS_TEXT,
        "days_before": 7,
        "holdout_bp": 0,
    }
    typo = client.post(api, headers=h, json=body | {"content": {"en": {"text": "{{ pionts }}"}}})
    assert typo.status_code == 422 and typo.json()["errors"][0]["field"] == "content.en.text"
    assert client.post(api, headers=h, json=body | {"days_before": 0}).status_code == 422
    made = client.post(api, headers=h, json=body)
    assert made.status_code == 201, made.text
    assert [r["id"] for r in client.get(api, headers=h).json()] == [made.json()["id"]]

    expiry = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
    assert reminders.run(db, now=expiry - timedelta(days=8), settings=channels_settings) == 0
    assert reminders.run(db, now=expiry - timedelta(days=6), settings=channels_settings) == 1
    assert reminders.run(db, now=expiry - timedelta(days=5), settings=channels_settings) == 0
    # the second lot, 20 days later, is reminded of in its own time, once
    due = expiry + timedelta(days=20) - timedelta(days=3)
    assert reminders.run(db, now=due, settings=channels_settings) == 1
    assert reminders.run(db, now=due, settings=channels_settings) == 0
    db.commit()
    found = list(
        db.scalars(
            select(Delivery).where(Delivery.broadcast_id == uuid.UUID(made.json()["broadcast_id"]))
        )
    )
    assert len(found) == 2 and {d.contact_id for d in found} == {person.id}
    assert all(d.occasion.startswith("lot:") for d in found)

    tick(channels_settings)
    texts = sorted(b["message"] for b in http_inbox.bodies("/sms"))
    assert texts == [
        "Bakery: 20 points expire on January 25, 2027.",
        "Bakery: 50 points expire on January 5, 2027.",
    ]
    shown = client.get(
        f"/api/v1/businesses/{bakery.id}/messages/{made.json()['broadcast_id']}", headers=h
    ).json()
    assert shown["results"]["sent"] == 2
    # the cafe's points are the cafe's: the bakery never reminded of them (one lot each above)


def test_code_reminder_reaches_the_customer_holding_it(
    client: TestClient, db: Session, tmp_path: Path, channels_settings: Settings
) -> None:
    p = agree(client, db)
    bakery = p["bakery"]
    offer = make_offer(client, p, p["campaign_id"], valid_until="2026-12-20")
    codes = link_codes(client, p, offer, kind="unique", count=3)
    listed = tmp_path / "customers.csv"
    listed.write_text("customer,email\nH1,holder@example.com\nH2,nobody@example.com\n")
    imports.run(db, kind="customers", path=listed, secret_key="test-secret", business=bakery.slug)
    holder, stranger = (  # the stranger has no contact: not reachable
        db.scalar(select(Customer).where(Customer.external_id == ext)) for ext in ("H1", "H2")
    )
    assert holder is not None and stranger is not None
    # as offers.distribution marks a code it e-mailed to a customer
    handed = [db.scalar(select(Code).where(Code.code == normalize(c["code"]))) for c in codes[:2]]
    assert handed[0] is not None and handed[1] is not None
    handed[0].label = f"sent to customer {holder.id}"
    handed[1].label = f"sent to customer {stranger.id}"
    person = contacts.add_contact(
        db,
        business_id=bakery.id,
        secret_key="test-secret",
        region="RU",
        email="holder@example.com",
    )
    contacts.record_consent(
        db, person, channel=Channel.email, granted=True, source="form", wording=WORDING
    )
    db.commit()
    made = reminders.create(
        db,
        business_id=bakery.id,
        sender_name=bakery.name,
        kind=reminders.ReminderKind.code,
        channel=Channel.email,
        content={"en": {"subject": "Soon", "text": "Your code works until {{ expires_on }}."}},
        days_before=3,
        holdout_bp=0,
    )
    db.commit()
    assert date(2026, 12, 20) - timedelta(days=3) == date(2026, 12, 17)
    assert reminders.run(db, now=datetime(2026, 12, 15, 9, tzinfo=UTC)) == 0
    assert reminders.run(db, now=datetime(2026, 12, 18, 9, tzinfo=UTC)) == 1
    assert reminders.run(db, now=datetime(2026, 12, 19, 9, tzinfo=UTC)) == 0
    assert reminders.run(db, now=datetime(2026, 12, 21, 9, tzinfo=UTC)) == 0  # over
    db.commit()
    (only,) = db.scalars(select(Delivery).where(Delivery.broadcast_id == made.broadcast_id))
    assert only.contact_id == person.id and only.occasion == f"code:{handed[0].id}"
    assert only.status is DeliveryStatus.queued
    # a withdrawn consent is checked again when it is sent
    contacts.record_consent(db, person, channel=Channel.email, granted=False, source="reply")
    db.commit()
    tick(channels_settings)
    db.expire_all()
    assert db.get(Delivery, only.id).status is DeliveryStatus.skipped  # type: ignore[union-attr]
