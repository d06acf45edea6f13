"""Control groups and uplift through the API and CLI, on both engines."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crosspromo.cli import app as cli
from crosspromo.cli_support import operator
from crosspromo.customers.models import Customer
from crosspromo.imports import service as imports
from crosspromo.measurement import audience as audiences
from crosspromo.measurement.audience_models import Arm
from crosspromo.outbox.models import OutboxMessage
from crosspromo.settings import Settings, get_settings
from tests.conftest import sign_in
from tests.offers.conftest import make_offer

N = 60


def _files(db: Session, tmp_path: Path, p: dict[str, Any]) -> None:
    """N consenting bakery customers; the same people are customers of the cafe."""
    path = tmp_path / "customers.csv"
    lines = ["business,customer,email,marketing_consent"]
    for i in range(N):
        lines.append(f"{p['bakery'].slug},B{i:03d},p{i}@example.com,yes")
        lines.append(f"{p['cafe'].slug},K{i:03d},P{i}@Example.com,no")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    imports.run(db, kind="customers", path=path, secret_key="test-secret")
    db.commit()


def _sales(db: Session, tmp_path: Path, p: dict[str, Any], buyers: list[tuple[str, int]]) -> None:
    """Receipts at the cafe yesterday (local noon) and a pre-period one for everyone."""
    zone = ZoneInfo(p["cafe"].timezone)
    yesterday = datetime.now(zone).date() - timedelta(days=1)
    noon = datetime.combine(yesterday, time(12), zone).isoformat()
    before = datetime.combine(yesterday - timedelta(days=20), time(12), zone).isoformat()
    lines = ["business,id,customer,at,amount,currency"]
    for n, (customer, amount) in enumerate(buyers):
        lines.append(f"{p['cafe'].slug},R{n},{customer},{noon},{amount},RUB")
    for i in range(N):
        lines.append(f"{p['cafe'].slug},P{i},K{i:03d},{before},100,RUB")
    path = tmp_path / "sales.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    imports.run(db, kind="transactions", path=path, secret_key="test-secret")
    db.commit()


def _arms(client: TestClient, p: dict[str, Any]) -> dict[str, str]:
    url = f"/api/v1/campaigns/{p['campaign_id']}/audience"
    found: dict[str, str] = {}
    cursor = None
    while True:
        params: dict[str, Any] = {"business_id": str(p["bakery"].id), "limit": 25}
        if cursor:
            params["cursor"] = cursor
        page = client.get(url, params=params, headers=p["bakery_manager"]).json()
        found |= {row["customer"]: row["arm"] for row in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def test_holdout_gets_no_code_and_uplift_is_measured(
    client: TestClient, db: Session, tmp_path: Path, running: dict[str, Any]
) -> None:
    p = running
    cid = p["campaign_id"]
    _files(db, tmp_path, p)
    setting = client.put(
        f"/api/v1/campaigns/{cid}/audience",
        headers=p["bakery_manager"],
        json={"business_id": str(p["bakery"].id), "holdout_bp": 3000},
    )
    assert setting.status_code == 200 and setting.json()["drawn"] is False
    power = client.get(
        f"/api/v1/campaigns/{cid}/power",
        params={"business_id": str(p["bakery"].id)},
        headers=p["bakery_manager"],
    ).json()
    assert power["treatment"] + power["holdout"] == N and power["holdout"] == 18
    assert 0 < power["detectable_pp"] < 100

    offer = make_offer(client, p, cid)
    made = client.post(
        f"/api/v1/offers/{offer['id']}/codes",
        headers=p["bakery_manager"],
        json={"kind": "unique", "count": N},
    )
    assert made.status_code == 201
    sent = client.post(f"/api/v1/offers/{offer['id']}/emails", headers=p["bakery_manager"]).json()
    arms = _arms(client, p)
    assert len(arms) == N and set(arms.values()) <= {"treatment", "holdout"}
    held = sorted(c for c, a in arms.items() if a == "holdout")
    assert sent["held_out"] == len(held) and sent["sent"] == N - len(held)
    # The split is the keyed hash of the campaign and customer: reproducible, never re-drawn.
    ids = dict(db.execute(select(Customer.external_id, Customer.id)).all())
    for customer, arm in arms.items():
        assert audiences.arm_of("test-secret", uuid.UUID(cid), ids[customer], 3000).value == arm
    mailed = {m.payload["to"] for m in db.scalars(select(OutboxMessage))}
    assert not {f"p{int(c[1:])}@example.com" for c in held} & mailed
    again = client.put(
        f"/api/v1/campaigns/{cid}/audience",
        headers=p["bakery_manager"],
        json={"business_id": str(p["bakery"].id), "holdout_bp": 0},
    )
    assert again.status_code == 409

    # Every treated customer buys at the cafe, a third of the holdout does.
    buyers = [(f"K{c[1:]}", 500) for c, a in arms.items() if a == "treatment"]
    buyers += [(f"K{c[1:]}", 300) for c in held[::3]]
    _sales(db, tmp_path, p, buyers)
    got = client.get(f"/api/v1/campaigns/{cid}/measure", headers=p["cafe_owner"])
    assert got.status_code == 200, got.text
    body = got.json()
    conv = body["conversion"]
    rate_h = len(held[::3]) / len(held)
    # The API answers shares to 6 decimals.
    assert conv["treatment"] == 1.0 and conv["holdout"] == pytest.approx(rate_h, abs=1e-6)
    assert conv["difference"] == pytest.approx(1 - rate_h, abs=1e-6)
    low, high = conv["ci95"]
    assert low < conv["difference"] < high and conv["method"] == "newcomb"
    assert conv["p_value"] < 0.001 and body["design"] == "holdout"
    revenue = body["revenue_per_customer"]
    assert revenue["treatment"] == pytest.approx(50_000)
    assert revenue["holdout"] == pytest.approx(30_000 * len(held[::3]) / len(held))
    assert revenue["sequential"]["ci95"][0] <= revenue["ci95"][0]  # wider: safe to peek
    assert revenue["cuped"] is None  # no spend in the (one-day) pre-period: no covariate
    assert body["srm"]["mismatch"] is False
    roi = body["roi"]
    expected = round(revenue["difference"] * (N - len(held)))
    assert abs(roi["incremental_revenue_minor"] - expected) <= 1
    # Money rounds half up (Decimal), not half to even as Python's round() does.
    profit = (Decimal(roi["incremental_revenue_minor"]) * Decimal("0.3")).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    assert roi["incremental_gross_profit_minor"] == int(profit)
    assert roi["costs_minor"]["materials"] == 100 and roi["margin_bp"] == 3000
    assert "partner_did_not_keep_deal" in roi["diagnoses"]  # codes sent, none redeemed

    for who in ("outsider_owner", "cafe_cashier"):
        assert client.get(f"/api/v1/campaigns/{cid}/measure", headers=p[who]).status_code == 404
    # Only the issuer lists its own customers.
    theirs = client.get(
        f"/api/v1/campaigns/{cid}/audience",
        params={"business_id": str(p["bakery"].id)},
        headers=p["cafe_owner"],
    )
    assert theirs.status_code == 404


def test_cli_audience_and_measure(
    client: TestClient,
    db: Session,
    tmp_path: Path,
    running: dict[str, Any],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = running
    _files(db, tmp_path, p)
    make_offer(client, p, p["campaign_id"])
    campaign = db.get(audiences.Campaign, uuid.UUID(p["campaign_id"]))
    assert campaign is not None
    # The audience: customers who bought at the bakery in the last 30 days, 500.00 or more.
    lines = ["business,id,customer,at,amount,currency"]
    recent = (datetime.now(ZoneInfo("UTC")) - timedelta(days=3)).isoformat()
    old = (datetime.now(ZoneInfo("UTC")) - timedelta(days=90)).isoformat()
    for i in range(20):
        lines.append(f"{p['bakery'].slug},S{i},B{i:03d},{recent},{600 if i < 10 else 100},RUB")
        lines.append(f"{p['bakery'].slug},T{i},B{i + 20:03d},{old},900,RUB")
    (tmp_path / "bakery.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    imports.run(db, kind="transactions", path=tmp_path / "bakery.csv", secret_key="test-secret")
    audiences.configure(
        db,
        operator(p["bakery"]),
        campaign.id,
        business_id=p["bakery"].id,
        holdout_bp=1000,
        recency_days=30,
        min_spend_minor=50_000,
    )
    audiences.draw(db, campaign, p["bakery"].id, secret_key="test-secret")
    db.commit()
    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CROSSPROMO_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        listed = runner.invoke(
            cli,
            ["campaigns", "audience", p["campaign_id"], "--business", p["bakery"].slug, "--json"],
        )
        assert listed.exit_code == 0, listed.output
        rows = json.loads(listed.output)
        assert sorted(r["customer"] for r in rows) == [f"B{i:03d}" for i in range(10)]
        assert {r["arm"] for r in rows} <= {"treatment", "holdout"}
        assert (
            sum(r["arm"] == "holdout" for r in rows)
            == audiences.sizes(db, campaign.id)[Arm.holdout]
        )
        measured = runner.invoke(cli, ["measure", p["campaign_id"], "--json"])
        assert measured.exit_code == 0, measured.output
        body = json.loads(measured.output)
        for metric in ("conversion", "revenue_per_customer"):
            assert set(body[metric]) >= {
                "treatment", "holdout", "difference", "ci95", "relative", "p_value", "method"
            }  # fmt: skip
        missing = runner.invoke(cli, ["measure", str(uuid.uuid4()), "--json"])
        assert missing.exit_code == 1
    finally:
        get_settings.cache_clear()


def test_without_holdout_the_evidence_is_labelled_weaker(
    client: TestClient, db: Session, tmp_path: Path, running: dict[str, Any]
) -> None:
    p = running
    _files(db, tmp_path, p)
    offer = make_offer(client, p, p["campaign_id"])
    _sales(db, tmp_path, p, [(f"K{i:03d}", 700) for i in range(0, N, 2)])
    body = client.get(
        f"/api/v1/campaigns/{p['campaign_id']}/measure", headers=p["bakery_manager"]
    ).json()
    assert body["design"] == "before_after" and body["evidence"] == "weaker"
    assert "weaker" in body["conversion"]["method"]
    assert body["conversion"]["treatment"] == pytest.approx(0.5)
    assert body["roi"]["evidence"] == "weaker"
    # The margin that turns extra revenue into profit is part of the partner's profile.
    url = f"/api/v1/businesses/{p['cafe'].id}"
    done = client.patch(url, headers=p["cafe_owner"], json={"margin_bp": 4500})
    assert done.status_code == 200, done.text
    assert client.patch(url, headers=p["cafe_owner"], json={"margin_bp": 10_001}).status_code == 422
    # The bakery's profile claims 1,000 subscribers; 60 customers agreed to hear from it; unique
    # codes exist but none was sent: overestimated, and not reached.
    bakery = f"/api/v1/businesses/{p['bakery'].id}"
    client.patch(bakery, headers=p["bakery_owner"], json={"newsletter_subscribers": 1000})
    client.post(
        f"/api/v1/offers/{offer['id']}/codes",
        headers=p["bakery_manager"],
        json={"kind": "unique", "count": 5},
    )
    again = client.get(f"/api/v1/campaigns/{p['campaign_id']}/measure", headers=p["cafe_owner"])
    roi = again.json()["roi"]
    assert roi["margin_bp"] == 4500 and roi["expected_vs_fact"]["audience_actual"] == N
    assert roi["diagnoses"] == ["partner_overestimated_audience", "audience_not_reached"]


def test_campaign_page_shows_uplift_and_roi_in_english_and_russian(
    client: TestClient, db: Session, tmp_path: Path, running: dict[str, Any]
) -> None:
    p = running
    cid = p["campaign_id"]
    _files(db, tmp_path, p)
    client.put(
        f"/api/v1/campaigns/{cid}/audience",
        headers=p["bakery_manager"],
        json={"business_id": str(p["bakery"].id), "holdout_bp": 5000},
    )
    make_offer(client, p, cid)
    campaign = db.get(audiences.Campaign, uuid.UUID(cid))
    assert campaign is not None
    audiences.draw(db, campaign, p["bakery"].id, secret_key="test-secret")
    db.commit()
    arms = _arms(client, p)
    _sales(db, tmp_path, p, [(f"K{c[1:]}", 500) for c, a in arms.items() if a == "treatment"])
    sign_in(client, "a@example.com")
    shell = client.get(f"/b/{p['bakery'].id}/campaigns/{cid}")
    assert 'hx-get="/b/' in shell.text and "/measurement" in shell.text
    url = f"/b/{p['bakery'].id}/campaigns/{cid}/measurement/section"
    english = client.get(url)
    assert english.status_code == 200, english.text
    text = " ".join(english.text.split())
    assert "Customers who got the offer bought 100.0 pp more often (95%: " in text
    assert "Return on the campaign" in text and "Control group: 50" in text
    client.cookies.set("locale", "ru")
    russian = " ".join(client.get(url).text.split())
    assert "Клиенты, получившие предложение, покупали на 100,0 п. п. чаще" in russian
    assert "Окупаемость акции" in russian
    client.cookies.delete("locale")
    assert (
        client.get(f"/b/{p['outsider'].id}/campaigns/{cid}/measurement/section").status_code == 404
    )
