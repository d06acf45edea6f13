"""`crosspromo loyalty list | clearing | check | expire` against a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crosspromo.accounts.models import Role
from crosspromo.cli import app
from crosspromo.loyalty import clearing, service
from crosspromo.loyalty.models import Card
from crosspromo.settings import Settings, get_settings
from tests.campaigns.conftest import key
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


def test_cards_print_blank_or_given(db: Session, runner: CliRunner, tmp_path: Path) -> None:
    s = build(db)
    out = tmp_path / "cards.pdf"
    args = ["loyalty", "cards", "print", "Our street", "--out", str(out)]
    made = runner.invoke(app, [*args, "--count", "12", "--business", s["cafe"].slug])
    assert made.exit_code == 0, made.output
    assert "12 cards, 4 A4 pages" in made.output
    assert len(PdfReader(out).pages) == 4
    db.expire_all()
    blank = list(db.scalars(select(Card).where(Card.activated_at.is_(None))))
    assert len(blank) == 12 and {c.enrolled_by for c in blank} == {s["cafe"].id}
    number = service.display_number(s["card"].number)
    given = runner.invoke(app, [*args, "--card", number, "--lang", "ru"])
    assert given.exit_code == 0 and "1 cards, 2 A4 pages" in given.output
    assert number in PdfReader(out).pages[0].extract_text()
    assert "Как работает карта" in PdfReader(out).pages[1].extract_text()
    assert runner.invoke(app, [*args]).exit_code == 1  # neither --count nor --card
    assert runner.invoke(app, ["loyalty", "check", "Our street"]).exit_code == 0


def test_clearing_days_are_local_days_of_the_coalitions_zone(
    db: Session, runner: CliRunner, client: TestClient
) -> None:
    """Berlin leaves summer time on 25 October 2026 (a 25-hour day): a spend at 23:30 local
    time that day is in the period ending on the 25th, one at 00:30 on the 26th (still the 25th
    in UTC) is not; 00:30 on 1 October (30 September in UTC) is in October."""
    s = build(db, timezone="Europe/Berlin")
    assert s["coalition"].timezone == "Europe/Berlin"
    card = s["card"]
    earned = datetime(2026, 9, 20, 12, 0, tzinfo=UTC)
    service.earn(
        db, business=s["bakery"], card=card, order_minor=400_000, order_ref="E", now=earned
    )
    spends = {
        "first": (s["cafe"], datetime(2026, 9, 30, 22, 30, tzinfo=UTC), 5),  # 1 Oct 00:30 CEST
        "last": (s["cafe"], datetime(2026, 10, 25, 22, 30, tzinfo=UTC), 10),  # 25 Oct 23:30 CET
        "after": (s["florist"], datetime(2026, 10, 25, 23, 30, tzinfo=UTC), 20),  # 26 Oct 00:30
    }
    for ref, (shop, at, points) in spends.items():
        service.spend(
            db, business=shop, card=card, order_minor=100_000, order_ref=ref, points=points, now=at
        )
    db.commit()
    cafe, florist = s["cafe"].slug, s["florist"].slug
    october = runner.invoke(
        app,
        ["loyalty", "clearing", str(s["coalition"].id), "--from", "2026-10-01", "--to",
         "2026-10-25", "--json"],
    )  # fmt: skip
    assert october.exit_code == 0, october.output
    found = json.loads(october.output)
    accepted = {m["slug"]: m["accepted_minor"] for m in found["members"]}
    assert (accepted[cafe], accepted[florist]) == (1_500, 0)
    assert (found["timezone"], found["first_day"], found["last_day"]) == (
        "Europe/Berlin",
        "2026-10-01",
        "2026-10-25",
    )
    assert found["from"] == "2026-09-30T22:00:00+00:00"  # local midnight, summer time
    assert found["to"] == "2026-10-25T23:00:00+00:00"  # local midnight, winter time
    # The API reads the same days the same way.
    manager = key(db, s["bakery"], Role.manager)
    after = client.get(
        f"/api/v1/loyalty/coalitions/{s['coalition'].id}/clearing",
        headers=manager,
        params={"business_id": str(s["bakery"].id), "from": "2026-10-26", "to": "2026-10-31"},
    ).json()
    accepted = {m["slug"]: m["accepted_minor"] for m in after["members"]}
    assert (accepted[cafe], accepted[florist]) == (0, 2_000)
    assert sum(m["net_minor"] for m in after["members"]) == 0
    # The dashboard's weeks are the same local days: Monday 00:30 opens ISO week 44.
    weeks = dict(clearing.weekly(db, s["coalition"], earned, datetime(2026, 11, 1, tzinfo=UTC)))
    assert (weeks["2026-W43"]["spent"], weeks["2026-W44"]["spent"]) == (10, 20)
