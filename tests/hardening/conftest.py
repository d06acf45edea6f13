"""A seeded world for the hardening proofs: two partners with an agreement, a running
campaign, an offer with codes, a redemption, a pipeline entry; every id a route may need."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.offers.conftest import agreed, launch, make_offer, running  # noqa: F401


@pytest.fixture
def world(client: TestClient, running: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    p = running
    owner = p["bakery_owner"]
    offer = make_offer(client, p, p["campaign_id"])
    client.post(
        f"/api/v1/offers/{offer['id']}/codes",
        headers=p["bakery_manager"],
        json={"kind": "shared", "text": "BREAD"},
    )
    redemption = client.post(
        "/api/v1/redemptions",
        headers=p["cafe_cashier"],
        json={"business_id": str(p["cafe"].id), "code": "BREAD", "order_minor": 1000},
    ).json()
    bakery = str(p["bakery"].id)
    campaign = client.get(f"/api/v1/campaigns/{p['campaign_id']}", headers=owner).json()
    entry = client.post(
        f"/api/v1/businesses/{bakery}/pipeline/entries",
        headers=owner,
        json={"partner_name": "Florist"},
    ).json()
    keys = client.get(f"/api/v1/businesses/{bakery}/api-keys", headers=owner).json()
    key_items = keys["items"] if isinstance(keys, dict) else keys
    tasks = client.get(f"/api/v1/campaigns/{p['campaign_id']}/tasks", headers=owner).json()
    ids = {
        "business_id": bakery,
        "proposal_id": p["proposal_id"],
        "campaign_id": p["campaign_id"],
        "offer_id": offer["id"],
        "redemption_id": redemption.get("id", str(uuid.uuid4())),
        "entry_id": entry.get("id", str(uuid.uuid4())),
        "key_id": next(k["id"] for k in key_items if k["role"] != "owner"),
        "task_id": tasks["items"][0]["id"] if tasks.get("items") else str(uuid.uuid4()),
        "item_id": (campaign.get("budget") or [{"id": str(uuid.uuid4())}])[0]["id"],
        "kind": "customers",
    }
    return p | {"ids": ids, "headers": owner, "partner_slug": p["cafe"].slug}
