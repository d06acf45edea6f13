"""A seeded world for the hardening proofs: two partners with an agreement, a running
campaign, an offer with codes, a redemption, a pipeline entry; every id a route may need."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.offers.conftest import agreed, launch, make_offer, running  # noqa: F401


def leads_and_messages(
    client: TestClient, business_id: str, headers: dict[str, str]
) -> dict[str, str]:
    """A lead form with one lead, a contact and a draft message of `business_id`: their ids."""
    form = client.post(
        f"/api/v1/businesses/{business_id}/lead-forms",
        headers=headers,
        json={"title": "Orders", "categories": ["shop=bakery"]},
    )
    assert form.status_code == 201, form.text
    form_id = form.json()["id"]
    asked = client.post(
        f"/api/v1/lead-forms/{form_id}/requests",
        json={
            "categories": ["shop=bakery"],
            "name": "Anna",
            "phone": "+79161234567",
            "consent": [business_id],
        },
    )
    assert asked.status_code == 201, asked.text
    leads = client.get(f"/api/v1/businesses/{business_id}/leads", headers=headers).json()
    contact = client.post(
        f"/api/v1/businesses/{business_id}/contacts",
        headers=headers,
        json={"name": "Anna", "email": "anna@example.org"},
    )
    assert contact.status_code == 201, contact.text
    message = client.post(
        f"/api/v1/businesses/{business_id}/messages",
        headers=headers,
        json={"channel": "email", "content": {"en": {"subject": "News", "text": "Hello"}}},
    )
    assert message.status_code == 201, message.text
    return {
        "form_id": form_id,
        "lead_id": leads["items"][0]["id"],
        "contact_id": contact.json()["id"],
        "message_id": message.json()["id"],
    }


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
        **leads_and_messages(client, bakery, owner),
    }
    return p | {"ids": ids, "headers": owner, "partner_slug": p["cafe"].slug}
