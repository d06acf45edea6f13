"""An estate agent and a plasterer with a per-lead agreement, the agent's form, specialists."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts.models import Role
from tests.campaigns.conftest import key
from tests.conftest import make_owner

CENTRE = {"name": "Centre", "lat": 58.0105, "lon": 56.2502}
FAR = {"name": "Far", "lat": 59.9, "lon": 60.6}
PRICE = 50_000  # 500 RUB per lead
PLACE = {"country": "RU", "timezone": "Asia/Yekaterinburg", "currency": "RUB", "city": "Perm"}
ALWAYS = {"days": [0, 1, 2, 3, 4, 5, 6], "hour_from": 0, "hour_until": 24}

PER_LEAD = {
    "mechanic": "staff_recommendations",
    "title": "Clients passed on after a flat purchase",
    "proposer": {"gives": "buyers of flats", "gets": "a fee per lead"},
    "partner": {"gives": "500 RUB per accepted lead", "gets": "renovation clients"},
    "payment_model": "per_lead",
    "payment_minor": PRICE,
    "currency": "RUB",
}


def request_body(x: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "categories": ["craft=plasterer"],
        "need": "Plaster two rooms",
        "district": "Centre",
        "name": "Anna",
        "phone": "+7 912 345-67-89",
        "consent": [str(x["plasterer"].id)],
        **extra,
    }


def specialist(client: TestClient, x: dict[str, Any], name: str, **extra: Any) -> dict[str, Any]:
    body = {
        "name": name,
        "categories": ["craft=plasterer"],
        "lat": CENTRE["lat"],
        "lon": CENTRE["lon"],
        "radius_km": 25,
        "capacity_per_day": 5,
        **ALWAYS,
        **extra,
    }
    made = client.post(
        f"/api/v1/businesses/{x['plasterer'].id}/specialists",
        headers=x["plasterer_owner"],
        json=body,
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


@pytest.fixture
def exchange(client: TestClient, db: Session) -> dict[str, Any]:
    _, agent = make_owner(db, "agent@example.com", "Estate Agent", "office=estate_agent", **PLACE)
    _, plasterer = make_owner(
        db, "plaster@example.com", "Plasterers", "craft=plasterer", lat=58.0, lon=56.24, **PLACE
    )
    _, outsider = make_owner(db, "out@example.com", "Outsider", "shop=florist", **PLACE)
    x: dict[str, Any] = {
        "agent": agent,
        "plasterer": plasterer,
        "outsider": outsider,
        "agent_owner": key(db, agent, Role.owner),
        "agent_manager": key(db, agent, Role.manager),
        "plasterer_owner": key(db, plasterer, Role.owner),
        "plasterer_cashier": key(db, plasterer, Role.cashier),
        "outsider_owner": key(db, outsider, Role.owner),
    }
    sent = client.post(
        "/api/v1/partnerships",
        params={"business_id": str(agent.id)},
        headers=x["agent_manager"],
        json={"to_business": plasterer.slug, "options": [PER_LEAD]},
    )
    assert sent.status_code == 201, sent.text
    url = f"/api/v1/partnerships/{sent.json()['id']}"
    client.post(f"{url}/accept", headers=x["agent_owner"], json={"version": 1})
    done = client.post(f"{url}/accept", headers=x["plasterer_owner"], json={"version": 1}).json()
    assert done["status"] == "agreed", done
    x["proposal_id"] = sent.json()["id"]
    form = client.post(
        f"/api/v1/businesses/{agent.id}/lead-forms",
        headers=x["agent_manager"],
        json={
            "title": "Renovation after your purchase",
            "categories": ["craft=plasterer", "craft=window_construction"],
            "districts": [CENTRE, FAR],
            "response_minutes": 120,
            "reminder_minutes": 30,
        },
    )
    assert form.status_code == 201, form.text
    x["form"] = form.json()
    x["ivan"] = specialist(client, x, "Ivan")
    x["oleg"] = specialist(client, x, "Oleg")
    return x
