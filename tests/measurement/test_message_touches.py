"""A message link carrying an offer's code: the click is a `message` touch in the campaign's
paths, and the recipient's redemption of that code counts as "redeemed" for the message."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.measurement import attribution
from crosspromo.messaging import contacts, service, tracking
from crosspromo.messaging.models import Channel, Click, Contact, Delivery, DeliveryStatus
from crosspromo.offers.models import Code, Redemption


def test_tokens_are_the_codes_of_offer_pages() -> None:
    links = [
        "https://promo.example/r/ab-cd-ef",
        "https://promo.example/menu",
        "https://promo.example/r/ABCDEF",  # the same code in another spelling: once
        "https://promo.example/r/x",  # too short to be a code
    ]
    assert tracking.tokens(links) == ["ABCDEF"]


def _message_with_code(db: Session, touched: dict[str, Any], code: Code) -> Any:
    """The bakery's newsletter to p2 and a guest, carrying the flyer's link; both were sent."""
    bakery = touched["bakery"]
    for email in ("p2@example.com", "guest@example.com"):
        contact = contacts.add_contact(
            db, business_id=bakery.id, secret_key="test-secret", region="RU", email=email
        )
        contacts.record_consent(
            db, contact, channel=Channel.email, granted=True, source="counter", wording="Yes"
        )
    made = service.create(
        db,
        business_id=bakery.id,
        sender_name="Bakery",
        channel=Channel.email,
        content={
            "en": {
                "subject": "Coffee next door",
                "text": f'Take it: {{{{ link("https://promo.example/r/{code.code}") }}}}',
            }
        },
    )
    service.queue(
        db,
        business_id=bakery.id,
        broadcast_id=made.id,
        public_url="https://promo.example",
        mail_from="news@promo.example",
        weekly_cap=3,
        window_days=30,
    )
    sent = touched["base"] + timedelta(hours=6)
    for delivery in db.scalars(select(Delivery).where(Delivery.broadcast_id == made.id)):
        delivery.status, delivery.sent_at = DeliveryStatus.sent, sent
    db.commit()
    return made


def test_a_message_click_is_a_touch_and_its_redemption_counts(
    client: TestClient, db: Session, touched: dict[str, Any]
) -> None:
    bakery, cafe = touched["bakery"].id, touched["cafe"].id
    campaign_id = uuid.UUID(touched["campaign_id"])
    flyer = db.scalar(select(Code).where(Code.kind == "link", Code.label == "flyer"))
    assert flyer is not None
    made = _message_with_code(db, touched, flyer)
    assert service.stats(db, made)["redeemed"] == 0

    p2 = touched["people"][2]
    p2_delivery = db.scalar(
        select(Delivery)
        .join(Contact, Contact.id == Delivery.contact_id)
        .where(Delivery.broadcast_id == made.id, Contact.email == "p2@example.com")
    )
    assert p2_delivery is not None
    followed = client.get(f"/m/{p2_delivery.token}/0", follow_redirects=False)
    assert followed.status_code == 302
    assert followed.headers["location"] == f"https://promo.example/r/{flyer.code}"
    base = touched["base"]
    db.expire_all()
    click = db.scalar(select(Click).where(Click.delivery_id == p2_delivery.id))
    assert click is not None
    click.clicked_at = base + timedelta(hours=6, minutes=5)
    # p2 takes the flyer's code to the cafe: matched to the recipient by the keyed e-mail hash
    db.add(
        Redemption(
            offer_id=flyer.offer_id,
            code_id=flyer.id,
            business_id=cafe,
            referrer_business_id=bakery,
            order_minor=50_000,
            discount_minor=5_000,
            currency="RUB",
            customer_hash=p2.email_hash,
            at=base + timedelta(hours=7),
        )
    )
    db.commit()

    results = service.stats(db, made)
    assert (results["sent"], results["clicked"], results["redeemed"]) == (2, 1, 1)
    found = list(attribution.paths(db, campaign_id=campaign_id))
    theirs = [p for p in found if any(t.channel == "message" for t in p.touches)]
    assert len(theirs) == 1
    assert [(t.partner, t.channel) for t in theirs[0].touches] == [
        (bakery, "issued"),
        (bakery, "email"),
        (bakery, "message"),
        (bakery, "redemption"),
    ]
    assert theirs[0].converted_at == base + timedelta(hours=7)
    credit = attribution.attribute(db, campaign_id=campaign_id, model="linear")
    assert "message" in dict(credit.by_channel())
    shown = client.get(
        f"/api/v1/businesses/{bakery}/messages/{made.id}", headers=touched["bakery_manager"]
    )
    assert shown.status_code == 200, shown.text
    assert shown.json()["results"]["redeemed"] == 1
