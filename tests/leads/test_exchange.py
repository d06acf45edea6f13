"""The lead exchange end to end: the estate agent's form, routing, the deadline moving the lead
on, acceptance, a win, and the lead paid in the partners' statement."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from crosspromo.db import utcnow
from crosspromo.leads import service
from crosspromo.leads.models import Specialist
from crosspromo.notifications.models import Notification
from tests.leads.conftest import PRICE, request_body, specialist


def submit(client: TestClient, x: dict[str, Any], **extra: Any) -> Any:
    return client.post(
        f"/api/v1/lead-forms/{x['form']['id']}/requests", json=request_body(x, **extra)
    )


def only_lead(client: TestClient, x: dict[str, Any]) -> dict[str, Any]:
    listed = client.get(f"/api/v1/businesses/{x['agent'].id}/leads", headers=x["agent_manager"])
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert len(items) == 1, items
    full = client.get(f"/api/v1/leads/{items[0]['id']}", headers=x["agent_manager"])
    return dict(full.json())


def test_request_routed_moved_on_accepted_won_and_paid(
    client: TestClient, db: Session, exchange: dict[str, Any]
) -> None:
    x = exchange
    sent = submit(client, x)
    assert sent.status_code == 201, sent.text
    assert sent.json()["received"] is True
    lead = only_lead(client, x)
    assert lead["status"] == "offered" and lead["category"] == "craft=plasterer"
    first = lead["offers"][0]
    assert first["rank"] == 1 and set(first["why"]["factors"]) == {
        "specialisation",
        "distance",
        "acceptance",
        "response",
    }
    assert first["why"]["distance_km"] == 0.0  # the specialist's base is the district's centre
    # the plasterer's people hear of it
    assert db.query(Notification).filter(Notification.kind == "lead.offered").count() >= 1

    # nobody answers: after the deadline the worker's sweep moves it to the other specialist
    moved = service.sweep(db, now=utcnow() + timedelta(hours=3))
    db.commit()
    assert moved == 1
    lead = only_lead(client, x)
    assert lead["status"] == "offered"
    assert [o["outcome"] for o in lead["offers"]] == ["moved_on", "pending"]
    second = lead["offers"][1]["specialist_id"]
    assert second != first["specialist_id"]
    statuses = [e["status"] for e in lead["events"]]
    assert statuses == ["new", "offered", "moved_on", "offered"]

    url = f"/api/v1/leads/{lead['id']}"
    late = client.post(
        f"{url}/accept",
        headers=x["plasterer_cashier"],
        json={"specialist_id": first["specialist_id"]},
    )
    assert late.status_code == 409 and late.json()["type"] == "/problems/lead-moved-on"
    took = client.post(
        f"{url}/accept", headers=x["plasterer_cashier"], json={"specialist_id": second}
    )
    assert took.status_code == 200, took.text
    assert took.json()["status"] == "accepted"
    assert took.json()["charge_minor"] == PRICE
    again = client.post(
        f"{url}/accept", headers=x["plasterer_cashier"], json={"specialist_id": second}
    )
    assert again.status_code == 409 and again.json()["type"] == "/problems/lead-taken"

    contacted = client.post(
        f"{url}/status", headers=x["plasterer_cashier"], json={"status": "contacted"}
    )
    assert contacted.status_code == 200, contacted.text
    won = client.post(
        f"{url}/status",
        headers=x["plasterer_cashier"],
        json={"status": "won", "amount_minor": 4_500_000, "currency": "RUB"},
    )
    assert won.status_code == 200, won.text
    assert won.json()["status"] == "won" and won.json()["amount_minor"] == 4_500_000
    events = client.get(url, headers=x["agent_manager"]).json()["events"]
    assert [e["status"] for e in events][-4:] == ["accepted", "charged", "contacted", "won"]
    assert all(e["at"] for e in events)

    # the agent's statement with the plasterer: one paid lead, the plasterer owes the agent
    statement = client.get(
        f"/api/v1/businesses/{x['agent'].id}/statements",
        headers=x["agent_owner"],
        params={"partner": x["plasterer"].slug},
    )
    assert statement.status_code == 200, statement.text
    lines = statement.json()["lines"]
    assert [(line["kind"], line["amount_minor"]) for line in lines] == [("lead", PRICE)]
    mirror = client.get(
        f"/api/v1/businesses/{x['plasterer'].id}/statements",
        headers=x["plasterer_owner"],
        params={"partner": x["agent"].slug},
    ).json()
    assert mirror["lines"][0]["direction"] == "payable"

    # the figures: one offer moved on, one accepted and won
    stats = client.get(
        f"/api/v1/businesses/{x['agent'].id}/leads/stats", headers=x["agent_manager"]
    ).json()
    plasterers = next(f for f in stats if f["who"] == "business")
    assert plasterers["offered"] == 2 and plasterers["accepted"] == 1
    assert plasterers["acceptance_rate"] == 0.5 and plasterers["win_rate"] == 1.0
    assert plasterers["revenue"] == {"RUB": 4_500_000}


def test_reminder_before_the_deadline(
    client: TestClient, db: Session, exchange: dict[str, Any]
) -> None:
    x = exchange
    assert submit(client, x).status_code == 201
    assert service.sweep(db, now=utcnow() + timedelta(minutes=100)) == 1  # the reminder
    assert service.sweep(db, now=utcnow() + timedelta(minutes=101)) == 0  # once
    db.commit()
    assert db.query(Notification).filter(Notification.kind == "lead.reminder").count() >= 1
    assert only_lead(client, x)["status"] == "offered"


def test_bad_input_has_stable_problem_types(
    client: TestClient, db: Session, exchange: dict[str, Any]
) -> None:
    x = exchange

    def kind(response: Any) -> str:
        return str(response.json()["type"]).removeprefix("/problems/")

    assert kind(submit(client, x, phone="", email="")) == "no-contact"
    assert kind(submit(client, x, phone="12")) == "phone-invalid"
    assert kind(submit(client, x, phone="", email="not-an-address")) == "email-invalid"
    assert kind(submit(client, x, district="Far")) == "out-of-area"
    assert kind(submit(client, x, district="Atlantis")) == "unknown-district"
    assert kind(submit(client, x, consent=[])) == "consent-required"
    assert submit(client, x).status_code == 201
    dup = submit(client, x, phone="", email="x@example.org")
    assert dup.status_code == 201  # another customer
    again = submit(client, x, phone="8 912 345 67 89")  # the same phone, written otherwise
    assert again.status_code == 409 and kind(again) == "duplicate-lead"
    # the honeypot: a bot is told "received" and nothing is stored
    bot = submit(client, x, phone="+7 912 000-00-01", website="http://spam.example")
    assert bot.status_code == 201 and bot.json()["received"] is True
    listed = client.get(f"/api/v1/businesses/{x['agent'].id}/leads", headers=x["agent_manager"])
    assert len(listed.json()["items"]) == 2


def test_specialist_at_capacity_and_nobody_free(
    client: TestClient, db: Session, exchange: dict[str, Any]
) -> None:
    x = exchange
    db.execute(update(Specialist).values(active=False))
    db.commit()
    for phone in ("+7 912 000-00-21", "+7 912 000-00-22"):
        assert submit(client, x, phone=phone).status_code == 201
    listed = client.get(f"/api/v1/businesses/{x['agent'].id}/leads", headers=x["agent_manager"])
    waiting = [lead["id"] for lead in listed.json()["items"]]
    assert [lead["status"] for lead in listed.json()["items"]] == ["new", "new"]
    busy = specialist(client, x, "Busy", capacity_per_day=1)
    first = client.post(
        f"/api/v1/leads/{waiting[0]}/route",
        headers=x["agent_manager"],
        json={"specialist_id": busy["id"]},
    )
    assert first.status_code == 200, first.text
    full = client.post(
        f"/api/v1/leads/{waiting[1]}/route",
        headers=x["agent_manager"],
        json={"specialist_id": busy["id"]},
    )
    assert full.status_code == 409 and full.json()["type"] == "/problems/specialist-at-capacity"
    nobody = client.post(f"/api/v1/leads/{waiting[1]}/route", headers=x["agent_manager"], json={})
    assert nobody.status_code == 409 and nobody.json()["type"] == "/problems/no-specialist"
    # the specialist's business cannot route the agent's lead
    theirs = client.post(f"/api/v1/leads/{waiting[0]}/route", headers=x["plasterer_owner"], json={})
    assert theirs.status_code == 403


def test_rate_limit_per_address(client: TestClient, exchange: dict[str, Any], app: Any) -> None:
    x = exchange
    app.state.settings = app.state.settings.model_copy(
        update={"lead_form_rate_limit_per_address": "3 per hour"}
    )
    answers = [submit(client, x, phone=f"+7 912 000-00-{10 + i}").status_code for i in range(5)]
    assert answers[:3] == [201, 201, 201]
    assert answers[3:] == [429, 429]


def test_outsiders_see_no_lead(client: TestClient, exchange: dict[str, Any]) -> None:
    x = exchange
    assert submit(client, x).status_code == 201
    lead = only_lead(client, x)
    assert client.get(f"/api/v1/leads/{lead['id']}", headers=x["outsider_owner"]).status_code == 404
    assert (
        client.get(f"/api/v1/leads/{uuid.uuid4()}", headers=x["agent_manager"]).status_code == 404
    )
