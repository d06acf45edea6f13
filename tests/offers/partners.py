"""An agreement between a bakery (issuer) and a cafe (honouring) on terms the test chooses."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts.models import Role
from tests.campaigns.conftest import OPTION, key
from tests.conftest import make_owner
from tests.offers.conftest import launch


def agree(client: TestClient, db: Session, **terms: Any) -> dict[str, Any]:
    """Bakery, cafe and an outsider; an agreement on OPTION with `terms`; a running campaign."""
    user_a, bakery = make_owner(db, "a@example.com", "Bakery", address="Lenina 1", city="Perm")
    user_b, cafe = make_owner(
        db,
        "b@example.com",
        "Cafe",
        category="amenity=cafe",
        address="Mira 5",
        city="Perm",
        phone="+7 912 000-00-09",
    )
    user_c, outsider = make_owner(db, "c@example.com", "Outsider", category="shop=florist")
    p: dict[str, Any] = {
        "bakery": bakery,
        "cafe": cafe,
        "outsider": outsider,
        "user_a": user_a,
        "user_b": user_b,
        "user_c": user_c,
        "bakery_manager": key(db, bakery, Role.manager),
        "bakery_owner": key(db, bakery, Role.owner),
        "cafe_owner": key(db, cafe, Role.owner),
        "cafe_cashier": key(db, cafe, Role.cashier),
        "outsider_owner": key(db, outsider, Role.owner),
    }
    sent = client.post(
        "/api/v1/partnerships",
        params={"business_id": str(bakery.id)},
        headers=p["bakery_manager"],
        json={"to_business": cafe.slug, "options": [OPTION | terms]},
    )
    assert sent.status_code == 201, sent.text
    url = f"/api/v1/partnerships/{sent.json()['id']}"
    client.post(f"{url}/accept", headers=p["bakery_owner"], json={"version": 1})
    done = client.post(f"{url}/accept", headers=p["cafe_owner"], json={"version": 1}).json()
    assert done["status"] == "agreed", done
    p["proposal_id"] = sent.json()["id"]
    p["campaign_id"] = launch(client, p)
    return p


def link_codes(
    client: TestClient, p: dict[str, Any], offer: dict[str, Any], **body: Any
) -> list[dict[str, Any]]:
    """Add codes to the offer; all its codes as the API lists them."""
    made = client.post(
        f"/api/v1/offers/{offer['id']}/codes", headers=p["bakery_manager"], json=body
    )
    assert made.status_code == 201, made.text
    listed = client.get(f"/api/v1/offers/{offer['id']}/codes", headers=p["bakery_manager"])
    return list(listed.json()["items"])


def launch_in(client: TestClient, p: dict[str, Any], currency: str) -> str:
    """Another running campaign under the same agreement, in `currency`; its id."""
    h = p["bakery_manager"]
    created = client.post(
        "/api/v1/campaigns",
        params={"business_id": str(p["bakery"].id)},
        headers=h,
        json={
            "proposal_id": p["proposal_id"],
            "title": f"In {currency}",
            "currency": currency,
            "starts_on": (date.today() - timedelta(days=1)).isoformat(),
            "ends_on": (date.today() + timedelta(days=30)).isoformat(),
        },
    )
    assert created.status_code == 201, created.text
    url = f"/api/v1/campaigns/{created.json()['id']}"
    client.patch(
        url,
        headers=h,
        json={"goal_metric": "receipts", "goal_kind": "increase_by", "goal_target": "5"},
    )
    client.post(
        f"{url}/budget",
        headers=h,
        json={
            "business_id": str(p["bakery"].id),
            "item": "materials",
            "amount_minor": 100,
            "currency": currency,
        },
    )
    client.post(f"{url}/tasks", headers=h, json={"business_id": str(p["bakery"].id), "title": "T"})
    agreed = client.post(f"{url}/stage", headers=h, json={"to": "agreed"})
    assert agreed.status_code == 200, agreed.text
    started = client.post(f"{url}/stage", headers=h, json={"to": "running"}).json()
    assert started["stage"] == "running", started
    return str(created.json()["id"])
