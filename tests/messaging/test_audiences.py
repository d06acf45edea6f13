"""Audiences (segments) through the API: recency, spend, consent and partner visits, counted
live, saved, used as a message's audience, and never past the business's own data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.imports import service as imports
from crosspromo.messaging import contacts
from crosspromo.messaging.models import Channel, Contact
from tests.messaging.conftest import CONTENT, WORDING, consenting
from tests.offers.conftest import make_offer
from tests.offers.partners import agree, link_codes


def _day(days_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%d 12:00")


def _sales(db: Session, tmp_path: Path, cafe: Any) -> None:
    """guest0: one small receipt 3 days ago; guest1: two receipts 60 days ago; guest2: a big
    one 3 days ago and one 500 days ago; guest3 never bought (guest4 comes from the bakery)."""
    customers = ["customer,email"] + [f"C{i},guest{i}@example.com" for i in range(3)]
    receipts = [
        "id,customer,at,amount",
        f"R1,C0,{_day(3)},100",
        f"R2,C1,{_day(60)},300",
        f"R3,C1,{_day(61)},500",
        f"R4,C2,{_day(3)},2000",
        f"R5,C2,{_day(500)},9000",
    ]
    (tmp_path / "c.csv").write_text("\n".join(customers) + "\n")
    (tmp_path / "t.csv").write_text("\n".join(receipts) + "\n")
    for kind, name in (("customers", "c.csv"), ("transactions", "t.csv")):
        imports.run(
            db, kind=kind, path=tmp_path / name, secret_key="test-secret", business=cafe.slug
        )
    db.commit()


def _redeem_bakery_code(client: TestClient, db: Session, p: dict[str, Any], email: str) -> None:
    """The guest brings the bakery's code to the cafe, and says their e-mail at the till."""
    from crosspromo.accounts.models import Role
    from tests.campaigns.conftest import key

    offer = make_offer(client, p, p["campaign_id"])
    code = link_codes(client, p, offer, kind="unique", count=1)[0]["code"]
    done = client.post(
        "/api/v1/redemptions",
        headers=key(db, p["cafe"], Role.cashier),
        json={
            "business_id": str(p["cafe"].id),
            "code": code,
            "order_minor": 50000,
            "customer": email,
        },
    )
    assert done.status_code == 201, done.text


def test_audiences_count_save_and_choose_recipients(
    client: TestClient, db: Session, tmp_path: Path
) -> None:
    p = agree(client, db)
    cafe, bakery = p["cafe"], p["bakery"]
    h = p["cafe_owner"]
    api = f"/api/v1/businesses/{cafe.id}"
    _sales(db, tmp_path, cafe)
    guests = consenting(db, cafe.id, 5)  # guest0..guest4, e-mail consent
    contacts.record_consent(
        db, guests[1], channel=Channel.sms, granted=True, source="counter", wording=WORDING
    )
    db.commit()
    _redeem_bakery_code(client, db, p, "Guest4@Example.com")

    def count(**rules: Any) -> dict[str, int]:
        answer = client.post(f"{api}/audiences/count", headers=h, json=rules)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    assert count() == {"contacts": 5, "email": 5, "sms": 1, "telegram": 0}
    assert count(visited_within_days=30)["contacts"] == 2  # guest0, guest2
    assert count(lapsed_days=30)["contacts"] == 1  # guest1; guest3 never bought: not lapsed
    # spend in the last year, in minor units: guest2's 500-day-old receipt is outside it
    spent = count(spend_total_min_minor=100_000)
    assert spent["contacts"] == 1  # guest2 (2,000.00)
    assert count(spend_total_min_minor=100_000, spend_days=3650)["contacts"] == 1
    # guest0 (100.00) and, having spent nothing, guest3 and guest4
    assert count(spend_total_max_minor=50_000)["contacts"] == 3
    assert count(spend_average_min_minor=30_000)["contacts"] == 2  # guest1 (400), guest2
    assert count(spend_average_max_minor=30_000)["contacts"] == 1  # guest0; no receipts: none
    assert count(consent=["sms"]) == {"contacts": 1, "email": 1, "sms": 1, "telegram": 0}
    partner = count(partner_business_id=str(bakery.id))
    assert partner["contacts"] == 1  # guest4 redeemed the bakery's code here
    # the bakery cannot count the cafe's contacts, nor see its redemptions the other way
    other = client.post(
        f"/api/v1/businesses/{bakery.id}/audiences/count",
        headers=p["bakery_manager"],
        json={"partner_business_id": str(cafe.id)},
    )
    assert other.json()["contacts"] == 0

    bad = client.post(f"{api}/audiences/count", headers=h, json={"spend_days": 0})
    assert bad.status_code == 422
    upside_down = client.post(
        f"{api}/audiences/count",
        headers=h,
        json={"spend_total_min_minor": 10, "spend_total_max_minor": 5},
    )
    assert upside_down.status_code == 422
    assert upside_down.json()["errors"][0]["field"] == "spend_total_min_minor"
    itself = client.post(
        f"{api}/audiences/count", headers=h, json={"partner_business_id": str(cafe.id)}
    )
    assert itself.status_code == 422

    saved = client.post(
        f"{api}/audiences",
        headers=h,
        json={"name": "Regulars", "rules": {"visited_within_days": 30}},
    )
    assert saved.status_code == 201, saved.text
    audience = saved.json()
    assert audience["sizes"]["email"] == 2
    twice = client.post(f"{api}/audiences", headers=h, json={"name": "Regulars", "rules": {}})
    assert twice.status_code == 409
    listed = client.get(f"{api}/audiences", headers=h).json()
    assert [a["name"] for a in listed["items"]] == ["Regulars"]
    # another business's audience is not found, and cannot be a message's audience
    assert (
        client.get(
            f"/api/v1/businesses/{bakery.id}/audiences/{audience['id']}",
            headers=p["bakery_manager"],
        ).status_code
        == 404
    )
    foreign = client.post(
        f"/api/v1/businesses/{bakery.id}/messages",
        headers=p["bakery_manager"],
        json={"channel": "email", "content": CONTENT[Channel.email], "audience_id": audience["id"]},
    )
    assert foreign.status_code == 422

    made = client.post(
        f"{api}/messages",
        headers=h,
        json={"channel": "email", "content": CONTENT[Channel.email], "audience_id": audience["id"]},
    ).json()
    # guest0 withdraws before the send: consent is required on top of any audience
    contacts.record_consent(db, guests[0], channel=Channel.email, granted=False, source="reply")
    db.commit()
    sent = client.post(f"{api}/messages/{made['id']}/send", headers=h)
    assert sent.json() == {"recipients": 1}
    shown = client.get(f"{api}/messages/{made['id']}", headers=h).json()
    assert shown["audience_id"] == audience["id"] and shown["recipients"] == 1

    renamed = client.put(
        f"{api}/audiences/{audience['id']}",
        headers=h,
        json={"name": "Lapsed", "rules": {"lapsed_days": 30}},
    )
    assert renamed.status_code == 200 and renamed.json()["sizes"]["contacts"] == 1
    assert client.delete(f"{api}/audiences/{audience['id']}", headers=h).status_code == 204
    assert client.get(f"{api}/audiences/{audience['id']}", headers=h).status_code == 404
    assert db.query(Contact).count() == 5


def test_the_audience_builder_page_counts_as_you_type(
    client: TestClient, db: Session, tmp_path: Path, cafe: Any
) -> None:
    from tests.conftest import sign_in

    _sales(db, tmp_path, cafe)
    consenting(db, cafe.id, 4)
    csrf = sign_in(client, "cafe@example.com")
    base = f"/b/{cafe.id}/audiences"
    assert client.get(base).status_code == 200
    htmx = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    counted = client.post(
        f"{base}/count",
        data={"visited_within_days": "30", "spend_total_min_minor": "1 000,00"},
        headers=htmx,
    )
    assert counted.status_code == 200 and "Matches 1 contacts now" in counted.text
    typo = client.post(f"{base}/count", data={"lapsed_days": "soon"}, headers=htmx)
    assert "lapsed_days" in typo.text
    saved = client.post(
        base,
        data={"name": "Big spenders", "spend_total_min_minor": "1000", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    shown = client.get(base)
    assert "Big spenders" in shown.text and "Audience saved." in shown.text
    editor = client.get(f"/b/{cafe.id}/messages/new")
    assert "Big spenders" in editor.text
    nameless = client.post(base, data={"name": " ", "csrf_token": csrf})
    assert nameless.status_code == 422
    ru = client.get(base, headers={"Accept-Language": "ru"})
    assert "Аудитории" in ru.text


def test_audiences_from_the_command_line(
    db: Session, tmp_path: Path, cafe: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from crosspromo.cli import app as cli
    from crosspromo.settings import get_settings

    _sales(db, tmp_path, cafe)
    consenting(db, cafe.id, 3)
    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("CROSSPROMO_SECRET_KEY", "test-secret")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        group = ["messages", "audiences"]
        counted = runner.invoke(
            cli, [*group, "count", "--business", cafe.slug, "--rules", '{"lapsed_days": 30}']
        )
        assert counted.exit_code == 0, counted.output
        assert "(rules)" in counted.output and "│ 1 " in counted.output
        made = runner.invoke(
            cli,
            [*group, "create", "--business", cafe.slug, "--name", "Recent"]
            + ["--rules", '{"visited_within_days": 30}'],
        )
        assert made.exit_code == 0, made.output
        audience_id = made.output.split()[1]
        listed = runner.invoke(cli, [*group, "list", "--business", cafe.slug])
        assert "Recent" in listed.output
        wrong = runner.invoke(
            cli, [*group, "count", "--business", cafe.slug, "--rules", '{"spend_days": -1}']
        )
        assert wrong.exit_code == 1 and "spend_days" in wrong.output
        content = tmp_path / "m.json"
        content.write_text(json.dumps(CONTENT[Channel.email]))
        sent = runner.invoke(
            cli,
            ["messages", "send", "--business", cafe.slug, "--content", str(content)]
            + ["--audience", audience_id],
        )
        assert sent.exit_code == 0, sent.output
        assert "queued to 2 contacts" in sent.output  # guest0 and guest2 visited lately
        gone = runner.invoke(cli, [*group, "delete", audience_id, "--business", cafe.slug])
        assert gone.exit_code == 0 and "deleted" in gone.output
    finally:
        get_settings.cache_clear()
