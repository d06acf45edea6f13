"""Audiences (segments) through the API: recency, spend, consent and partner visits, counted
live, saved, used as a message's audience, and never past the business's own data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.imports import service as imports
from crosspromo.messaging import contacts
from crosspromo.messaging.models import Channel, Contact
from tests.messaging.conftest import CONTENT, WORDING, consenting
from tests.offers.conftest import make_offer
from tests.offers.partners import agree, link_codes


def _day(days_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%d 12:00")


def _sales(db: Session, tmp_path: Path, cafe: Any) -> None:
    """guest0: one small receipt 3 days ago; guest1: two receipts 60 days ago; guest2: a big
    one 3 days ago and one 500 days ago; guest3 never bought (guest4 comes from the bakery)."""
    customers = ["customer,email"] + [f"C{i},guest{i}@example.com" for i in range(3)]
    receipts = [
        "id,customer,at,amount",
        f"R1,C0,{_day(3)},100",
        f"R2,C1,{_day(60)},300",
        f"R3,C1,{_day(61)},500",
        f"R4,C2,{_day(3)},2000",
        f"R5,C2,{_day(500)},9000",
    ]
    (tmp_path / "c.csv").write_text("\n".join(customers) + "\n")
    (tmp_path / "t.csv").write_text("\n".join(receipts) + "\n")
    for kind, name in (("customers", "c.csv"), ("transactions", "t.csv")):
        imports.run(
            db, kind=kind, path=tmp_path / name, secret_key="test-secret", business=cafe.slug
        )
    db.commit()


def _redeem_bakery_code(client: TestClient, db: Session, p: dict[str, Any], email: str) -> None:
    """The guest brings the bakery's code to the cafe, and says their e-mail at the till."""
    from crosspromo.accounts.models import Role
    from tests.campaigns.conftest import key

    offer = make_offer(client, p, p["campaign_id"])
    code = link_codes(client, p, offer, kind="unique", count=1)[0]["code"]
    done = client.post(
        "/api/v1/redemptions",
        headers=key(db, p["cafe"], Role.cashier),
        json={
            "business_id": str(p["cafe"].id),
            "code": code,
            "order_minor": 50000,
            "customer": email,
        },
    )
    assert done.status_code == 201, done.text


def test_audiences_count_save_and_choose_recipients(
    client: TestClient, db: Session, tmp_path: Path
) -> None:
    p = agree(client, db)
    cafe, bakery = p["cafe"], p["bakery"]
    h = p["cafe_owner"]
    api = f"/api/v1/businesses/{cafe.id}"
    _sales(db, tmp_path, cafe)
    guests = consenting(db, cafe.id, 5)  # guest0..guest4, e-mail consent
    contacts.record_consent(
        db, guests[1], channel=Channel.sms, granted=True, source="counter", wording=WORDING
    )
    db.commit()
    _redeem_bakery_code(client, db, p, "Guest4@Example.com")

    def count(**rules: Any) -> dict[str, int]:
        answer = client.post(f"{api}/audiences/count", headers=h, json=rules)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    assert count() == {"contacts": 5, "email": 5, "sms": 1, "telegram": 0}
    assert count(visited_within_days=30)["contacts"] == 2  # guest0, guest2
    assert count(lapsed_days=30)["contacts"] == 1  # guest1; guest3 never bought: not lapsed
    # spend in the last year, in minor units: guest2's 500-day-old receipt is outside it
    spent = count(spend_total_min_minor=100_000)
    assert spent["contacts"] == 1  # guest2 (2,000.00)
    assert count(spend_total_min_minor=100_000, spend_days=3650)["contacts"] == 1
    # guest0 (100.00) and, having spent nothing, guest3 and guest4
    assert count(spend_total_max_minor=50_000)["contacts"] == 3
    assert count(spend_average_min_minor=30_000)["contacts"] == 2  # guest1 (400), guest2
    assert count(spend_average_max_minor=30_000)["contacts"] == 1  # guest0; no receipts: none
    assert count(consent=["sms"]) == {"contacts": 1, "email": 1, "sms": 1, "telegram": 0}
    partner = count(partner_business_id=str(bakery.id))
    assert partner["contacts"] == 1  # guest4 redeemed the bakery's code here
    # the bakery cannot count the cafe's contacts, nor see its redemptions the other way
    other = client.post(
        f"/api/v1/businesses/{bakery.id}/audiences/count",
        headers=p["bakery_manager"],
        json={"partner_business_id": str(cafe.id)},
    )
    assert other.json()["contacts"] == 0

    bad = client.post(f"{api}/audiences/count", headers=h, json={"spend_days": 0})
    assert bad.status_code == 422
    upside_down = client.post(
        f"{api}/audiences/count",
        headers=h,
        json={"spend_total_min_minor": 10, "spend_total_max_minor": 5},
    )
    assert upside_down.status_code == 422
    assert upside_down.json()["errors"][0]["field"] == "spend_total_min_minor"
    itself = client.post(
        f"{api}/audiences/count", headers=h, json={"partner_business_id": str(cafe.id)}
    )
    assert itself.status_code == 422

    saved = client.post(
        f"{api}/audiences",
        headers=h,
        json={"name": "Regulars", "rules": {"visited_within_days": 30}},
    )
    assert saved.status_code == 201, saved.text
    audience = saved.json()
    assert audience["sizes"]["email"] == 2
    twice = client.post(f"{api}/audiences", headers=h, json={"name": "Regulars", "rules": {}})
    assert twice.status_code == 409
    listed = client.get(f"{api}/audiences", headers=h).json()
    assert [a["name"] for a in listed["items"]] == ["Regulars"]
    # another business's audience is not found, and cannot be a message's audience
    assert (
        client.get(
            f"/api/v1/businesses/{bakery.id}/audiences/{audience['id']}",
            headers=p["bakery_manager"],
        ).status_code
        == 404
    )
    foreign = client.post(
        f"/api/v1/businesses/{bakery.id}/messages",
        headers=p["bakery_manager"],
        json={"channel": "email", "content": CONTENT[Channel.email], "audience_id": audience["id"]},
    )
    assert foreign.status_code == 422

    made = client.post(
        f"{api}/messages",
        headers=h,
        json={"channel": "email", "content": CONTENT[Channel.email], "audience_id": audience["id"]},
    ).json()
    # guest0 withdraws before the send: consent is required on top of any audience
    contacts.record_consent(db, guests[0], channel=Channel.email, granted=False, source="reply")
    db.commit()
    sent = client.post(f"{api}/messages/{made['id']}/send", headers=h)
    assert sent.json() == {"recipients": 1}
    shown = client.get(f"{api}/messages/{made['id']}", headers=h).json()
    assert shown["audience_id"] == audience["id"] and shown["recipients"] == 1

    renamed = client.put(
        f"{api}/audiences/{audience['id']}",
        headers=h,
        json={"name": "Lapsed", "rules": {"lapsed_days": 30}},
    )
    assert renamed.status_code == 200 and renamed.json()["sizes"]["contacts"] == 1
    assert client.delete(f"{api}/audiences/{audience['id']}", headers=h).status_code == 204
    assert client.get(f"{api}/audiences/{audience['id']}", headers=h).status_code == 404
    assert db.query(Contact).count() == 5
