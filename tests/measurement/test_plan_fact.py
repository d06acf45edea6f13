"""Plan vs fact for a campaign goal, from the KPIs of the goal business's own days."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts.models import Role
from crosspromo.accounts.service import Actor
from crosspromo.measurement.kpi import plan_vs_fact
from tests.campaigns.conftest import agreed, sales  # noqa: F401


def test_goal_plan_against_fact_so_far(
    client: TestClient,
    db: Session,
    agreed: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    p = agreed
    # baseline (Nov 21-30): 10 receipts of 100, one at local midnight; campaign: 150 each
    rows = [(f"2026-11-{21 + i}T12:00:00", "100.00") for i in range(9)] + [("2026-11-30", "100")]
    rows += [(f"2026-12-{1 + i:02d}T12:00:00", "150.00") for i in range(6)]
    sales(db, tmp_path, p["bakery"].slug, rows)
    created = client.post(
        "/api/v1/campaigns",
        params={"business_id": str(p["bakery"].id)},
        headers=p["bakery_manager"],
        json={"proposal_id": p["proposal_id"], "title": "Croissants"},
    ).json()
    url = f"/api/v1/campaigns/{created['id']}"
    h = p["bakery_manager"]
    assert client.get(url + "/goal", headers=h).json() is None  # no goal yet
    client.patch(url, headers=h, json={"starts_on": "2026-12-01", "ends_on": "2026-12-10"})
    client.patch(
        url,
        headers=h,
        json={
            "goal_business_id": str(p["bakery"].id),
            "goal_metric": "revenue",
            "goal_kind": "increase_percent",
            "goal_target": "25",
        },
    )
    goal = client.get(url + "/goal", headers=h)
    assert goal.status_code == 200, goal.text
    assert goal.json()["baseline"] == 100000 and goal.json()["plan"] == 125000
    actor = Actor(key_business_id=p["bakery"].id, key_role=Role.manager)
    campaign_id = uuid.UUID(created["id"])
    so_far = plan_vs_fact(db, actor, campaign_id=campaign_id, today=date(2026, 12, 6))
    assert so_far is not None
    found = so_far.as_json()
    assert found["baseline_start"] == "2026-11-21" and found["baseline_end"] == "2026-11-30"
    assert found["fact"] == 90000 and found["met"] is False and found["partial"]  # six days
    done = plan_vs_fact(db, actor, campaign_id=campaign_id, today=date(2027, 1, 1))
    assert done is not None and done.end == date(2026, 12, 10) and not done.partial
    assert client.get(url + "/goal", headers=p["outsider_owner"]).status_code == 404
