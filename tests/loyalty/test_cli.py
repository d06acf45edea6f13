"""`crosspromo loyalty list | clearing | check | expire` against a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crosspromo.cli import app
from crosspromo.loyalty import service
from crosspromo.settings import Settings, get_settings
from tests.loyalty.conftest import T0, build


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", settings.resolved_database_url())
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_list_clearing_check(db: Session, runner: CliRunner) -> None:
    s = build(db)
    card = s["card"]
    service.earn(db, business=s["bakery"], card=card, order_minor=400_000, order_ref="B", now=T0)
    later = T0 + timedelta(minutes=1)
    service.earn(db, business=s["cafe"], card=card, order_minor=200_000, order_ref="C", now=later)
    service.spend(
        db,
        business=s["florist"],
        card=card,
        order_minor=300_000,
        order_ref="F",
        points=250,
        now=later,
    )
    db.commit()
    listed = runner.invoke(app, ["loyalty", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [{k: row[k] for k in ("id", "name", "members")} for row in rows] == [
        {
            "id": str(s["coalition"].id),
            "name": "Our street",
            "members": sorted([s["bakery"].slug, s["cafe"].slug, s["florist"].slug]),
        }
    ]
    day = T0.date().isoformat()
    cleared = runner.invoke(
        app, ["loyalty", "clearing", rows[0]["id"], "--from", day, "--to", day, "--json"]
    )
    assert cleared.exit_code == 0, cleared.output
    statement = json.loads(cleared.output)
    by_slug = {m["slug"]: m for m in statement["members"]}
    # FIFO: the bakery's 200 points (earned first) then 50 of the cafe's.
    assert by_slug[s["bakery"].slug]["issued_minor"] == 20_000
    assert by_slug[s["cafe"].slug]["issued_minor"] == 5_000
    assert by_slug[s["florist"].slug]["accepted_minor"] == 25_000
    assert sum(m["net_minor"] for m in statement["members"]) == 0
    checked = runner.invoke(app, ["loyalty", "check", "Our street"])
    assert checked.exit_code == 0, checked.output
    # A breach (a balance changed behind the ledger's back) makes the check fail.
    db.execute(text("UPDATE loyalty_accounts SET balance = balance + 1 WHERE kind = 'customer'"))
    db.commit()
    broken = runner.invoke(app, ["loyalty", "check", rows[0]["id"]])
    assert broken.exit_code == 1 and "breach" in broken.output


def test_expire_command(db: Session, runner: CliRunner) -> None:
    s = build(db)
    old = T0 - timedelta(days=800)
    service.earn(
        db, business=s["bakery"], card=s["card"], order_minor=100_000, order_ref="B", now=old
    )
    db.commit()
    done = runner.invoke(app, ["loyalty", "expire"])
    assert done.exit_code == 0 and "50 points expired" in done.output
    assert runner.invoke(app, ["loyalty", "check", "Our street"]).exit_code == 0
