"""Campaigns through the API on both engines: plan, checks, stages, figures, refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from crosspromo.notifications.models import Notification
from crosspromo.outbox.models import OutboxMessage
from tests.campaigns.conftest import sales


def _create(client: TestClient, p: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/campaigns",
        params={"business_id": str(p["bakery"].id)},
        headers=p["bakery_manager"],
        json={"proposal_id": p["proposal_id"], "title": "Croissant week", **extra},
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_campaign_needs_an_agreement(client: TestClient, agreed: dict[str, Any]) -> None:
    p = agreed
    sent = client.post(
        "/api/v1/partnerships",
        params={"business_id": str(p["bakery"].id)},
        headers=p["bakery_manager"],
        json={
            "to_business": p["outsider"].slug,
            "options": [
                {
                    "mechanic": "event",
                    "title": "x",
                    "proposer": {"gives": "a", "gets": "b"},
                    "partner": {"gives": "c", "gets": "d"},
                }
            ],
        },
    ).json()
    refused = client.post(
        "/api/v1/campaigns",
        params={"business_id": str(p["bakery"].id)},
        headers=p["bakery_manager"],
        json={"proposal_id": sent["id"], "title": "Too early"},
    )
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/no-agreement"


def test_plan_launch_and_close_with_baseline_and_result(
    client: TestClient, db: Session, agreed: dict[str, Any], tmp_path: Path
) -> None:
    p = agreed
    # baseline period (Nov 21-30) 10 receipts of 100; campaign (Dec 1-10) 10 receipts of 150
    sales(
        db,
        tmp_path,
        p["bakery"].slug,
        [(f"2026-11-{21 + i}T12:00:00", "100.00") for i in range(10)]
        + [(f"2026-12-{1 + i:02d}T12:00:00", "150.00") for i in range(10)],
    )
    c = _create(client, p)
    url = f"/api/v1/campaigns/{c['id']}"
    h = p["bakery_manager"]
    assert sorted(c["missing"]) == ["budget", "dates", "goal", "plan"]
    early = client.post(f"{url}/stage", headers=h, json={"to": "agreed"})
    body = early.json()
    assert early.status_code == 409 and body["type"] == "/problems/campaign-not-ready"
    assert sorted(body["missing"]) == ["budget", "dates", "goal", "plan"]

    backwards = client.patch(
        url, headers=h, json={"starts_on": "2026-12-10", "ends_on": "2026-12-01"}
    )
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "ends_on"
    assert (
        client.patch(
            url, headers=h, json={"starts_on": "2026-12-01", "ends_on": "2026-12-10"}
        ).status_code
        == 200
    )
    goal = client.patch(
        url,
        headers=h,
        json={"goal_metric": "revenue", "goal_kind": "increase_percent", "goal_target": "25"},
    ).json()
    assert goal["goal"]["target"] == 2500  # basis points, exact

    wrong = client.post(
        f"{url}/budget",
        headers=h,
        json={
            "business_id": str(p["bakery"].id),
            "item": "materials",
            "amount_minor": 5000,
            "currency": "EUR",
        },
    )
    assert wrong.status_code == 422 and "RUB" in wrong.json()["detail"]
    staff = client.post(
        f"{url}/budget",
        headers=h,
        json={
            "business_id": str(p["cafe"].id),
            "item": "staff_hours",
            "hours": 6,
            "hourly_cost_minor": 30000,
            "currency": "RUB",
        },
    ).json()
    assert staff["budget_by_side"] == {str(p["cafe"].id): 180000}

    # a task for a person of a third business is refused; the cafe's own person is fine
    third = client.post(
        f"{url}/tasks",
        headers=h,
        json={
            "business_id": str(p["cafe"].id),
            "title": "Flyers",
            "assignee_user_id": str(p["user_c"].id),
        },
    )
    assert third.status_code == 422 and third.json()["errors"][0]["field"] == "assignee_user_id"
    task = client.post(
        f"{url}/tasks",
        headers=h,
        json={
            "business_id": str(p["cafe"].id),
            "title": "Flyers at the till",
            "assignee_user_id": str(p["user_b"].id),
            "due_on": "2026-11-30",
        },
    )
    assert task.status_code == 201
    # the cafe edits the plan too
    done = client.patch(
        f"{url}/tasks/{task.json()['id']}", headers=p["cafe_owner"], json={"status": "done"}
    )
    assert done.json()["status"] == "done"
    assigned = db.scalars(
        select(Notification).where(
            Notification.user_id == p["user_b"].id, Notification.kind == "task.assigned"
        )
    ).all()
    assert len(assigned) == 1
    assert (
        db.scalar(select(OutboxMessage).where(OutboxMessage.key.like("email:task.assigned:%")))
        is not None
    )

    assert client.post(f"{url}/stage", headers=h, json={"to": "agreed"}).json()["stage"] == "agreed"
    running = client.post(
        f"{url}/stage", headers=h, json={"to": "running", "expected": "agreed"}
    ).json()
    assert running["stage"] == "running"
    baseline = {s["business_id"]: s for s in running["snapshots"] if s["moment"] == "baseline"}
    assert baseline[str(p["bakery"].id)]["figures"]["revenue"] == 100000
    assert baseline[str(p["bakery"].id)]["period_start"] == "2026-11-21"
    frozen = client.patch(url, headers=p["cafe_owner"], json={"ends_on": "2026-12-31"})
    assert frozen.status_code == 409 and frozen.json()["type"] == "/problems/campaign-frozen"
    stale = client.post(f"{url}/stage", headers=h, json={"to": "running", "expected": "agreed"})
    assert stale.status_code == 409

    results = client.post(f"{url}/stage", headers=h, json={"to": "results"}).json()
    assert results["outcome"]["baseline"] == 100000 and results["outcome"]["final"] == 150000
    assert results["outcome"]["change_bp"] == 5000 and results["goal"]["met"] is True
    closing = client.post(f"{url}/stage", headers=h, json={"to": "closed"})
    assert closing.status_code == 409  # the analysis comes first
    client.put(
        f"{url}/analysis",
        headers=h,
        json={"why": "Flyers worked", "keep": "flyers", "next_action": "repeat in spring"},
    )
    assert client.post(f"{url}/stage", headers=h, json={"to": "closed"}).json()["stage"] == "closed"

    ics = client.get(f"{url}/calendar.ics", headers=p["cafe_owner"])
    assert ics.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(ics.content).walk("VEVENT")
    summaries = {str(e["SUMMARY"]) for e in events}
    assert "Croissant week" in summaries and "Flyers at the till (Cafe)" in summaries


def test_only_members_see_a_campaign(
    client: TestClient, db: Session, agreed: dict[str, Any]
) -> None:
    p = agreed
    c = _create(client, p)
    url = f"/api/v1/campaigns/{c['id']}"
    assert client.get(url, headers=p["cafe_owner"]).status_code == 200
    for who in ("outsider_owner", "cafe_cashier"):
        assert client.get(url, headers=p[who]).status_code == 404
        assert (
            client.post(
                f"{url}/tasks",
                headers=p[who],
                json={"business_id": str(p["cafe"].id), "title": "x"},
            ).status_code
            == 404
        )
        assert client.get(f"{url}/calendar.ics", headers=p[who]).status_code == 404
    listing = client.get(
        "/api/v1/campaigns", params={"business_id": str(p["cafe"].id)}, headers=p["outsider_owner"]
    )
    assert listing.status_code == 404
    # a task for a business that is not a member is refused
    foreign = client.post(
        f"{url}/tasks",
        headers=p["bakery_manager"],
        json={"business_id": str(p["outsider"].id), "title": "x"},
    )
    assert foreign.status_code == 422
    # a third partner joins only with an agreement with a member
    refused = client.post(
        f"{url}/members", headers=p["bakery_manager"], json={"business": p["outsider"].slug}
    )
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/no-agreement"


def test_due_tasks_remind_once(client: TestClient, db: Session, agreed: dict[str, Any]) -> None:
    from datetime import date

    from crosspromo.campaigns import service

    p = agreed
    c = _create(client, p)
    client.post(
        f"/api/v1/campaigns/{c['id']}/tasks",
        headers=p["bakery_manager"],
        json={"business_id": str(p["bakery"].id), "title": "Print coupons", "due_on": "2026-12-02"},
    )
    assert service.remind_due(db, today=date(2026, 11, 20)) == 0
    first = service.remind_due(db, today=date(2026, 12, 1))
    db.commit()
    assert first == 1  # the bakery's owner (managers and owners; no assignee)
    assert service.remind_due(db, today=date(2026, 12, 2)) == 0
    member = accounts.add_member(
        db,
        workspace_id=p["bakery"].workspace_id,
        email="m@example.com",
        role=Role.manager,
        password="long-password-1",
    )
    db.commit()
    assert member is not None


def test_a_stage_notification_names_the_stage_as_the_page_does() -> None:
    from crosspromo.notifications.service import text

    said = text("campaign.stage", {"title": "Coffee week", "stage": "running"}, "en")
    assert said == "Campaign Coffee week moved to Running"
    assert "Согласовано" in text("campaign.stage", {"title": "x", "stage": "agreed"}, "ru")
