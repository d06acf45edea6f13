"""Working-hour deadlines (checked against pandas' business hours), disputes, hand-offs, the
deal cycle's next step and the CLI."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crosspromo.cli import app as cli
from crosspromo.db import utcnow
from crosspromo.leads import service
from crosspromo.leads.deadlines import add_working_minutes
from crosspromo.leads.models import Lead, LeadDispute
from crosspromo.offers.models import Accrual
from crosspromo.settings import Settings
from tests.leads.conftest import request_body, specialist

ZONE = "Asia/Yekaterinburg"  # no DST: local business hours map one to one onto instants


@pytest.mark.parametrize(
    ("local", "minutes"),
    [
        ("2026-11-27 17:30", 120),  # Friday evening: Monday 10:30
        ("2026-11-28 12:00", 60),  # Saturday: Monday 10:00
        ("2026-11-30 08:00", 30),  # before opening: 9:30
        ("2026-11-30 10:15", 9 * 60 * 3 + 5),  # three working days and 5 minutes
        ("2026-12-04 18:00", 1),  # Friday at closing: Monday 9:01
    ],
)
def test_deadline_matches_pandas_business_hours(local: str, minutes: int) -> None:
    start = pd.Timestamp(local)
    hours, rest = divmod(minutes, 60)
    bh = pd.offsets.BusinessHour(start="09:00", end="18:00")
    # pandas counts whole business hours from the start rolled into the hours; the minutes
    # left over are added after, carried to the next working day past closing time
    expected = bh.rollforward(start) + pd.offsets.BusinessHour(n=hours, start="09:00", end="18:00")
    expected = expected + pd.Timedelta(minutes=rest)
    if expected.time() > pd.Timestamp("18:00").time():
        overflow = expected - expected.normalize() - pd.Timedelta(hours=18)
        expected = bh.rollforward(expected.normalize() + pd.Timedelta(days=1)) + overflow
    ours = add_working_minutes(
        start.tz_localize(ZONE).to_pydatetime(), minutes, timezone=ZONE
    ).astimezone(pd.Timestamp(local).tz_localize(ZONE).tzinfo)
    assert ours.replace(tzinfo=None) == expected.to_pydatetime()


def test_deadline_across_a_dst_change_counts_real_minutes() -> None:
    # Berlin, Sunday 29 March 2026 the clocks jump 02:00 -> 03:00; a 24-hour business
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC).astimezone(UTC)
    due = add_working_minutes(
        start, 180, timezone="Europe/Berlin", days=127, hour_until=24, hour_from=0
    )
    assert due - start == timedelta(minutes=180)


def _accepted(client: TestClient, db: Session, x: dict[str, Any], **extra: Any) -> str:
    body = request_body(x, **extra)
    sent = client.post(f"/api/v1/lead-forms/{x['form']['id']}/requests", json=body)
    assert sent.status_code == 201, sent.text
    lead = db.scalar(select(Lead).order_by(Lead.created_at.desc()).limit(1))
    assert lead is not None and lead.specialist_id is not None
    took = client.post(
        f"/api/v1/leads/{lead.id}/accept",
        headers=x["plasterer_cashier"],
        json={"specialist_id": str(lead.specialist_id)},
    )
    assert took.status_code == 200, took.text
    return str(lead.id)


def test_dispute_upheld_reverses_the_charge_and_the_window_closes(
    client: TestClient, db: Session, exchange: dict[str, Any]
) -> None:
    x = exchange
    lead_id = _accepted(client, db, x)
    url = f"/api/v1/leads/{lead_id}"
    # only the paying partner disputes
    assert (
        client.post(f"{url}/dispute", headers=x["agent_manager"], json={"reason": "spam"}).json()[
            "type"
        ]
        == "/problems/not-charged"
    )
    made = client.post(
        f"{url}/dispute", headers=x["plasterer_owner"], json={"reason": "duplicate", "note": "x"}
    )
    assert made.status_code == 201, made.text
    again = client.post(f"{url}/dispute", headers=x["plasterer_owner"], json={"reason": "spam"})
    assert again.json()["type"] == "/problems/dispute-exists"
    answered = client.post(
        f"{url}/dispute/answer", headers=x["agent_manager"], json={"uphold": True, "answer": "ok"}
    )
    assert answered.status_code == 200 and answered.json()["status"] == "upheld"
    total = db.scalar(select(func.sum(Accrual.amount_minor)).where(Accrual.kind == "lead"))
    assert total == 0  # charged, then reversed

    late_id = _accepted(client, db, x, phone="+7 912 345-00-01")
    db.execute(
        update(Lead)
        .where(Lead.id == uuid.UUID(late_id))
        .values(charged_at=utcnow() - timedelta(days=8))
    )
    db.commit()
    late = client.post(
        f"/api/v1/leads/{late_id}/dispute", headers=x["plasterer_owner"], json={"reason": "spam"}
    )
    assert late.status_code == 409 and late.json()["type"] == "/problems/dispute-window-closed"
    assert db.scalar(select(func.count()).select_from(LeadDispute)) == 1


def test_hand_off_waits_for_consent_then_routes_and_reports_back(
    client: TestClient, db: Session, exchange: dict[str, Any]
) -> None:
    x = exchange
    # the plasterer passes its customer on to the agent (who also has a specialist)
    agent_person = client.post(
        f"/api/v1/businesses/{x['agent'].id}/specialists",
        headers=x["agent_manager"],
        json={
            "name": "Maria",
            "categories": ["office=estate_agent"],
            "days": [0, 1, 2, 3, 4, 5, 6],
            "hour_from": 0,
            "hour_until": 24,
        },
    ).json()
    lead_id = _accepted(client, db, x)
    handed = client.post(
        f"/api/v1/leads/{lead_id}/handoff",
        headers=x["plasterer_owner"],
        json={"to_business_id": str(x["agent"].id), "category": "office=estate_agent"},
    )
    assert handed.status_code == 201, handed.text
    child = handed.json()
    assert child["status"] == "awaiting_consent" and child["consent_link"]
    token = child["consent_link"].rsplit("/", 1)[1]
    lead, partner = service.confirm_consent(db, token)
    db.commit()
    assert partner.id == x["agent"].id and lead.status.value == "offered"
    assert lead.specialist_id is not None and str(lead.specialist_id) == agent_person["id"]
    took = client.post(
        f"/api/v1/leads/{lead.id}/accept",
        headers=x["agent_manager"],
        json={"specialist_id": agent_person["id"]},
    )
    assert took.status_code == 200, took.text
    # the plasterer sees its hand-off's acceptance
    seen = client.get(f"/api/v1/leads/{lead.id}", headers=x["plasterer_owner"])
    assert seen.status_code == 200 and seen.json()["status"] == "accepted"


def test_won_step_offers_the_next_step_of_the_deal_cycle(
    client: TestClient, db: Session, exchange: dict[str, Any]
) -> None:
    x = exchange
    specialist(client, x, "Window fitter", categories=["craft=window_construction"])
    body = {"categories": ["craft=window_construction", "craft=plasterer"]}
    lead_id = _accepted(client, db, x, **body)
    first = db.get(Lead, uuid.UUID(lead_id))
    assert first is not None and first.later_steps
    won = client.post(
        f"/api/v1/leads/{lead_id}/status",
        headers=x["plasterer_cashier"],
        json={"status": "won", "amount_minor": 100},
    )
    assert won.status_code == 200, won.text
    follow = db.scalar(select(Lead).where(Lead.parent_id == first.id))
    assert follow is not None and follow.category == first.later_steps[0]
    assert follow.status.value == "offered"


def test_cli_list_route_stats(
    client: TestClient, db: Session, exchange: dict[str, Any], settings: Settings, monkeypatch: Any
) -> None:
    x = exchange
    lead_id = _accepted(client, db, x)
    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", settings.resolved_database_url())
    from crosspromo.settings import get_settings

    get_settings.cache_clear()
    try:
        runner = CliRunner()
        listed = runner.invoke(cli, ["leads", "list", "--business", x["agent"].slug])
        assert listed.exit_code == 0, listed.output
        assert "accepted" in listed.output
        routed = runner.invoke(cli, ["leads", "route", lead_id, "--business", x["agent"].slug])
        assert routed.exit_code == 1 and "only a new one" in routed.output
        stats = runner.invoke(cli, ["leads", "stats", "--business", x["agent"].slug])
        assert stats.exit_code == 0 and "100%" in stats.output, stats.output
    finally:
        get_settings.cache_clear()
