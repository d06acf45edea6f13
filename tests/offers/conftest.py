"""A running campaign between a bakery (issuer) and a cafe (honouring) with an offer."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.campaigns.conftest import agreed, key  # noqa: F401  (fixtures for these tests)


def launch(client: TestClient, p: dict[str, Any]) -> str:
    """Plan the campaign under the agreement completely and start it; its id."""
    h = p["bakery_manager"]
    today = date.today()
    created = client.post(
        "/api/v1/campaigns",
        params={"business_id": str(p["bakery"].id)},
        headers=h,
        json={
            "proposal_id": p["proposal_id"],
            "title": "Coffee for bread",
            "starts_on": (today - timedelta(days=1)).isoformat(),
            "ends_on": (today + timedelta(days=30)).isoformat(),
        },
    ).json()
    url = f"/api/v1/campaigns/{created['id']}"
    client.patch(
        url,
        headers=h,
        json={"goal_metric": "receipts", "goal_kind": "increase_by", "goal_target": "10"},
    )
    client.post(
        f"{url}/budget",
        headers=h,
        json={
            "business_id": str(p["bakery"].id),
            "item": "materials",
            "amount_minor": 100,
            "currency": "RUB",
        },
    )
    client.post(
        f"{url}/tasks", headers=h, json={"business_id": str(p["bakery"].id), "title": "Print"}
    )
    client.post(f"{url}/stage", headers=h, json={"to": "agreed"})
    started = client.post(f"{url}/stage", headers=h, json={"to": "running"}).json()
    assert started["stage"] == "running", started
    return str(created["id"])


def make_offer(
    client: TestClient, p: dict[str, Any], campaign_id: str, **terms: Any
) -> dict[str, Any]:
    body = {
        "issuer_business_id": str(p["bakery"].id),
        "honouring_business_id": str(p["cafe"].id),
        "title": "10% off coffee for bakery customers",
        "benefit": "percent",
        "percent": "10",
        **terms,
    }
    response = client.post(
        f"/api/v1/campaigns/{campaign_id}/offers", headers=p["bakery_manager"], json=body
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def running(client: TestClient, agreed: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    agreed["campaign_id"] = launch(client, agreed)
    return agreed
