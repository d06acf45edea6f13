"""The pipeline API on both engines: problem+json for bad input, tenancy, roles, paging."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from tests.conftest import make_owner
from tests.pipeline.factories import agree, parties, propose


def _key(db: Session, business: Any, role: Role) -> dict[str, str]:
    token, _ = accounts.create_api_key(db, business_id=business.id, role=role)
    db.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def p(db: Session) -> dict[str, Any]:
    found = parties(db)
    found["manager_key"] = _key(db, found["bakery"], Role.manager)
    found["owner_key"] = _key(db, found["bakery"], Role.owner)
    found["cashier_key"] = _key(db, found["bakery"], Role.cashier)
    found["cafe_key"] = _key(db, found["cafe"], Role.owner)
    return found


def _problem(response: Any, status: int, field: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]], response.json()


def test_entries_activities_reminders_through_the_api(
    client: TestClient, p: dict[str, Any]
) -> None:
    base = f"/api/v1/businesses/{p['bakery'].id}/pipeline"
    made = client.post(
        f"{base}/entries",
        headers=p["manager_key"],
        json={"partner_name": "Florist", "contact": "Anna", "next_follow_up_on": "2026-03-01"},
    )
    assert made.status_code == 201, made.text
    entry = made.json()
    assert entry["stage"] == "prospect"
    url = f"{base}/entries/{entry['id']}"
    moved = client.post(f"{url}/stage", headers=p["manager_key"], json={"stage": "meeting"})
    assert moved.json()["stage"] == "meeting"
    refused = client.post(f"{url}/stage", headers=p["manager_key"], json={"stage": "active"})
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/needs-agreement"
    _problem(
        client.post(f"{url}/stage", headers=p["manager_key"], json={"stage": "won"}), 422, "stage"
    )
    logged = client.post(
        f"{url}/activities",
        headers=p["manager_key"],
        json={"kind": "order", "amount_minor": 1500, "text": "first order"},
    )
    assert logged.status_code == 201 and logged.json()["currency"] == p["bakery"].currency
    _problem(
        client.post(
            f"{url}/activities",
            headers=p["manager_key"],
            json={"kind": "call", "at": "2026-03-10T10:00:00Z", "follow_up_on": "2026-03-01"},
        ),
        422,
        "follow_up_on",
    )
    log = client.get(f"{url}/activities", headers=p["manager_key"], params={"limit": 2}).json()
    assert [a["kind"] for a in log["items"]] == ["order", "note"] and log["next_cursor"]
    rest = client.get(
        f"{url}/activities", headers=p["manager_key"], params={"cursor": log["next_cursor"]}
    ).json()
    assert [a["to_stage"] for a in rest["items"]] == ["prospect"] and rest["next_cursor"] is None
    due = client.get(f"{base}/reminders", headers=p["manager_key"], params={"today": "2026-03-02"})
    assert [e["id"] for e in due.json()["items"]] == [entry["id"]]
    client.put(f"{url}/follow-up", headers=p["manager_key"], json={"on": "2026-04-01"})
    due = client.get(f"{base}/reminders", headers=p["manager_key"], params={"today": "2026-03-02"})
    assert due.json()["items"] == []
    listed = client.get(f"{base}/entries", headers=p["manager_key"]).json()
    assert [e["partner_name"] for e in listed["items"]] == ["Florist"]
    counts = client.get(f"{base}/stages", headers=p["manager_key"]).json()
    assert counts["meeting"] == 1 and counts["active"] == 0 and len(counts) == 8
    _problem(
        client.get(f"{base}/entries", headers=p["manager_key"], params={"cursor": "zz"}),
        422,
        "cursor",
    )


def test_targets_need_an_owner_and_a_member(client: TestClient, p: dict[str, Any]) -> None:
    url = f"/api/v1/businesses/{p['bakery'].id}/pipeline/targets"
    body = {"user_id": str(p["manager"].id), "month": "2026-03", "calls_per_day": 15}
    assert client.put(url, headers=p["manager_key"], json=body).status_code == 403
    _problem(
        client.put(url, headers=p["owner_key"], json={**body, "user_id": str(p["owner_b"].id)}),
        422,
        "user_id",
    )
    _problem(
        client.put(url, headers=p["owner_key"], json={**body, "month": "2026-03-05"}), 422, "month"
    )
    _problem(
        client.put(url, headers=p["owner_key"], json={**body, "meetings": -1}), 422, "meetings"
    )
    saved = client.put(url, headers=p["owner_key"], json=body)
    assert saved.status_code == 200, saved.text
    people = {x["user_id"]: x for x in saved.json()["people"]}
    assert people[str(p["manager"].id)]["target"]["calls_per_day"] == 15
    read = client.get(url, headers=p["manager_key"], params={"month": "2026-03-17"}).json()
    assert read["month"] == "2026-03-01"


def test_reciprocity_and_deliveries(client: TestClient, db: Session, p: dict[str, Any]) -> None:
    proposal = propose(db, p)
    url = f"/api/v1/partnerships/{proposal.id}"
    assert client.get(f"{url}/reciprocity", headers=p["owner_key"]).status_code == 409
    agree(db, p, proposal)
    sent = client.post(
        f"{url}/deliveries",
        headers=p["cafe_key"],
        json={"what": "instagram story", "quantity": 3, "on": "2026-01-10"},
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["what"] == "Instagram story"
    assert sent.json()["business_id"] == str(p["cafe"].id)
    _problem(
        client.post(
            f"{url}/deliveries",
            headers=p["cafe_key"],
            json={"what": "Instagram story", "quantity": -2, "on": "2026-01-10"},
        ),
        422,
        "quantity",
    )
    _problem(
        client.post(
            f"{url}/deliveries",
            headers=p["cafe_key"],
            json={"what": "Instagram story", "quantity": 2, "on": "2025-01-10"},
        ),
        422,
        "on",
    )
    figures = client.get(
        f"{url}/reciprocity", headers=p["owner_key"], params={"today": "2026-02-28"}
    ).json()
    assert figures["months"] == 2 and "50%" in figures["rule"]
    assert [s["role"] for s in figures["sides"]] == ["proposer", "partner"]
    assert figures["one_sided"] is False  # the bakery delivered nothing either
    listed = client.get(f"{url}/deliveries", headers=p["manager_key"]).json()
    assert [d["quantity"] for d in listed["items"]] == [3]
    assert client.get(f"{url}/reciprocity", headers=p["cashier_key"]).status_code == 403
    outsider = client.post(
        f"{url}/deliveries",
        headers=p["cashier_key"],
        json={"what": "x"},
    )
    assert outsider.status_code == 403


def test_cashier_403_other_tenant_404(client: TestClient, db: Session, p: dict[str, Any]) -> None:
    base = f"/api/v1/businesses/{p['bakery'].id}/pipeline"
    made = client.post(f"{base}/entries", headers=p["manager_key"], json={"partner_name": "X"})
    entry_id = made.json()["id"]
    for method, path in (
        ("GET", "/entries"),
        ("GET", f"/entries/{entry_id}"),
        ("GET", "/reminders"),
        ("GET", "/targets"),
    ):
        assert client.request(method, base + path, headers=p["cashier_key"]).status_code == 403
        assert client.request(method, base + path, headers=p["cafe_key"]).status_code == 404
    cafe_base = f"/api/v1/businesses/{p['cafe'].id}/pipeline"
    assert client.get(f"{cafe_base}/entries/{entry_id}", headers=p["cafe_key"]).status_code == 404
    hijack = client.post(
        f"{cafe_base}/entries/{entry_id}/stage", headers=p["cafe_key"], json={"stage": "ended"}
    )
    assert hijack.status_code == 404
    proposal = propose(db, p)
    agree(db, p, proposal)
    _, florist = make_owner(db, "f@example.com", "Florist", category="shop=florist")
    stranger = _key(db, florist, Role.owner)
    url = f"/api/v1/partnerships/{proposal.id}"
    assert client.get(f"{url}/reciprocity", headers=stranger).status_code == 404
    body = {"what": "Leads", "quantity": 1, "on": "2026-01-05"}
    assert client.post(f"{url}/deliveries", headers=stranger, json=body).status_code == 404
