"""Two partners with an agreement, their API keys, and sales before and during a campaign."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from crosspromo.imports import service as imports
from tests.conftest import make_owner

OPTION: dict[str, Any] = {
    "mechanic": "joint_promotion",
    "title": "A free croissant with every coffee",
    "proposer": {"gives": "croissants", "gets": "cafe customers"},
    "partner": {"gives": "a flyer at the till", "gets": "bakery customers"},
}


def key(db: Session, business: Any, role: Role) -> dict[str, str]:
    token, _ = accounts.create_api_key(db, business_id=business.id, role=role)
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def sales(db: Session, tmp_path: Path, slug: str, rows: list[tuple[str, str]]) -> None:
    """Receipts through the real importer: (local date-time, amount)."""
    path = tmp_path / f"{slug}.csv"
    lines = ["business,id,at,amount,currency"]
    lines += [f"{slug},R{i},{at},{amount},RUB" for i, (at, amount) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    imports.run(db, kind="transactions", path=path, secret_key="test-secret")
    db.commit()


@pytest.fixture
def agreed(client: TestClient, db: Session) -> dict[str, Any]:
    user_a, bakery = make_owner(db, "a@example.com", "Bakery")
    user_b, cafe = make_owner(db, "b@example.com", "Cafe", category="amenity=cafe")
    _, outsider = make_owner(db, "c@example.com", "Outsider", category="shop=florist")
    p = {
        "bakery": bakery,
        "cafe": cafe,
        "outsider": outsider,
        "user_a": user_a,
        "user_b": user_b,
        "user_c": _,
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
        json={"to_business": cafe.slug, "options": [OPTION]},
    ).json()
    url = f"/api/v1/partnerships/{sent['id']}"
    client.post(f"{url}/accept", headers=p["bakery_owner"], json={"version": 1})
    done = client.post(f"{url}/accept", headers=p["cafe_owner"], json={"version": 1}).json()
    assert done["status"] == "agreed"
    p["proposal_id"] = sent["id"]
    return p
