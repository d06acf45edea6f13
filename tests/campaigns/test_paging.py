"""Campaign lists page by keyset: campaigns created in the same instant are all listed once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from crosspromo.campaigns.models import Campaign
from tests.campaigns.conftest import agreed  # noqa: F401  (fixture)


def test_campaigns_with_equal_created_at_are_never_skipped(
    client: TestClient,
    db: Session,
    agreed: dict[str, Any],  # noqa: F811
) -> None:
    p = agreed
    made = set()
    for n in range(5):
        created = client.post(
            "/api/v1/campaigns",
            params={"business_id": str(p["bakery"].id)},
            headers=p["bakery_manager"],
            json={"proposal_id": p["proposal_id"], "title": f"Campaign {n}"},
        )
        assert created.status_code == 201, created.text
        made.add(created.json()["id"])
    db.execute(update(Campaign).values(created_at=datetime(2026, 11, 1, 9, 0, tzinfo=UTC)))
    db.commit()
    seen: list[str] = []
    params: dict[str, Any] = {"business_id": str(p["bakery"].id), "limit": 2}
    while True:
        page = client.get("/api/v1/campaigns", params=params, headers=p["bakery_manager"])
        assert page.status_code == 200, page.text
        seen += [c["id"] for c in page.json()["items"]]
        if page.json()["next_cursor"] is None:
            break
        params["cursor"] = page.json()["next_cursor"]
    assert len(seen) == len(set(seen)) == 5 and set(seen) == made
    # the cursor of the old dialect (a bare created_at) is refused, not a 500
    old = client.get(
        "/api/v1/campaigns",
        params={"business_id": str(p["bakery"].id), "cursor": "2026-11-01T09:00:00+00:00"},
        headers=p["bakery_manager"],
    )
    assert old.status_code == 422 and old.json()["errors"][0]["field"] == "cursor"
