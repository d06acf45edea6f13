"""The pipeline pages render and act through their forms; the CLI prints its tables."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crosspromo.cli import app as cli
from crosspromo.pipeline import service
from crosspromo.pipeline.schemas import DeliveryCreate
from crosspromo.settings import Settings
from tests.conftest import sign_in
from tests.pipeline.factories import agree, parties, propose


def test_board_entry_due_targets_and_reciprocity_pages(client: TestClient, db: Session) -> None:
    p = parties(db)
    proposal = propose(db, p)
    agree(db, p, proposal)
    csrf = sign_in(client, "a@example.com")
    home = f"/b/{p['bakery'].id}"
    assert f'href="{home}/pipeline"' in client.get(home).text  # the nav link
    board = client.get(f"{home}/pipeline")
    assert board.status_code == 200
    assert 'data-stage="active"' in board.text and "Cafe" in board.text  # synced from the proposal
    bad = client.post(f"{home}/pipeline/entries", data={"csrf_token": csrf, "partner_name": ""})
    assert bad.status_code == 422 and "Name the partner" in bad.text
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    added = client.post(
        f"{home}/pipeline/entries",
        data={"csrf_token": csrf, "partner_name": "Florist", "next_follow_up_on": yesterday},
        follow_redirects=False,
    )
    assert added.status_code == 303
    entry_url = added.headers["location"]
    page = client.get(entry_url)
    assert page.status_code == 200 and "Florist" in page.text
    moved = client.post(f"{entry_url}/stage", data={"csrf_token": csrf, "stage": "active"})
    assert moved.status_code == 409 and "agreed proposal" in moved.text
    client.post(f"{entry_url}/stage", data={"csrf_token": csrf, "stage": "meeting"})
    client.post(
        f"{entry_url}/activity",
        data={"csrf_token": csrf, "kind": "order", "amount": "12.50", "text": "croissants"},
    )
    page = client.get(entry_url).text
    assert "croissants" in page and "12.50" in page.replace(",", ".")
    due = client.get(f"{home}/pipeline/due")
    assert "Florist" in due.text and "overdue" in due.text
    targets = client.get(f"{home}/pipeline/targets", params={"month": "2026-03"})
    assert targets.status_code == 200 and "m@example.com" in targets.text
    saved = client.post(
        f"{home}/pipeline/targets",
        data={
            "csrf_token": csrf,
            "month": "2026-03",
            "user_id": str(p["manager"].id),
            "calls_per_day": "15",
            "partners": "2",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    wrong = client.post(
        f"{home}/pipeline/targets",
        data={"csrf_token": csrf, "month": "2026-03", "user_id": str(p["owner_b"].id)},
    )
    assert wrong.status_code == 422
    service.record_delivery(
        db,
        p["b"],
        proposal_id=proposal.id,
        data=DeliveryCreate(what="Instagram story", quantity=40, on=date(2026, 1, 5)),
    )
    service.record_delivery(
        db,
        p["b"],
        proposal_id=proposal.id,
        data=DeliveryCreate(what="Leads", quantity=400, on=date(2026, 1, 5)),
    )
    db.commit()
    r = client.get(f"{home}/pipeline/reciprocity/{proposal.id}")
    assert (
        r.status_code == 200 and "one-sided" in r.text and "Bakery delivered under half" in r.text
    )
    recorded = client.post(
        f"{home}/pipeline/reciprocity/{proposal.id}/deliveries",
        data={
            "csrf_token": csrf,
            "item": f"{p['bakery'].id}|Newsletter mention",
            "quantity": "-1",
            "on": "2026-01-05",
        },
    )
    assert recorded.status_code == 422 and "quantity" in recorded.text


def test_cashier_is_refused(client: TestClient, db: Session) -> None:
    p = parties(db)
    sign_in(client, "c@example.com")
    assert client.get(f"/b/{p['bakery'].id}/pipeline").status_code == 403


def test_cli_list_and_due(db: Session, settings: Settings, monkeypatch: Any) -> None:
    p = parties(db)
    propose(db, p)
    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", settings.resolved_database_url())
    from crosspromo.settings import get_settings

    get_settings.cache_clear()
    try:
        runner = CliRunner()
        listed = runner.invoke(cli, ["pipeline", "list", "--business", p["bakery"].slug])
        assert listed.exit_code == 0, listed.output
        assert "Cafe" in listed.output and "proposal 1" in listed.output
        due = runner.invoke(
            cli, ["pipeline", "due", "--business", p["bakery"].slug, "--today", "2026-01-01"]
        )
        assert due.exit_code == 0 and "Nothing is due" in due.output
        missing = runner.invoke(cli, ["pipeline", "due", "--business", "nope"])
        assert missing.exit_code == 1
    finally:
        get_settings.cache_clear()


def test_the_board_checks_the_business_once_per_view(
    client: TestClient, db: Session, app: Any
) -> None:
    from tests.offers.test_round_trips import recorded

    p = parties(db)
    agree(db, p, propose(db, p))
    sign_in(client, "a@example.com")
    board = f"/b/{p['bakery'].id}/pipeline"
    client.get(board)
    with recorded(app.state.engine) as statements:
        assert client.get(board).status_code == 200
    business_reads = [s for s in statements if s.startswith("SELECT businesses.")]
    assert len(business_reads) <= 2, business_reads  # the page's switcher may list them too
