"""Statements on both engines: commissions each way, reversals, currencies, files, tenancy."""

from __future__ import annotations

import csv
import io
import itertools
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crosspromo.accounts.models import Role
from crosspromo.accounts.service import Actor
from crosspromo.cli import app as cli
from crosspromo.offers import service, statements
from crosspromo.offers.money import percent_of
from crosspromo.offers.schemas import CodesCreate, Till
from crosspromo.settings import Settings
from tests.offers.conftest import make_offer
from tests.offers.partners import agree, launch_in, link_codes

PERCENT = {"payment_model": "per_sale_percent", "payment_percent": "5"}


def _codes(client: TestClient, p: dict[str, Any], offer: dict[str, Any], **body: Any) -> list[str]:
    return [c["code"] for c in link_codes(client, p, offer, **body)]


def _redeem(client: TestClient, p: dict[str, Any], code: str, order_minor: int) -> str:
    made = client.post(
        "/api/v1/redemptions",
        headers=p["cafe_cashier"],
        json={"business_id": str(p["cafe"].id), "code": code, "order_minor": order_minor},
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _reverse(client: TestClient, p: dict[str, Any], rid: str) -> None:
    back = client.post(
        f"/api/v1/redemptions/{rid}/reversal", headers=p["cafe_cashier"], json={"reason": "refund"}
    )
    assert back.status_code == 201, back.text


def _statement(client: TestClient, p: dict[str, Any], side: str = "bakery", **params: Any) -> Any:
    me, other = ("bakery", "cafe") if side == "bakery" else ("cafe", "bakery")
    headers = p["bakery_manager"] if side == "bakery" else p["cafe_owner"]
    return client.get(
        f"/api/v1/businesses/{p[me].id}/statements",
        headers=headers,
        params={"partner": p[other].slug} | params,
    )


def test_per_sale_percent_both_sides_reversal_csv_and_pdf(client: TestClient, db: Session) -> None:
    p = agree(client, db, **PERCENT)
    offer = make_offer(client, p, p["campaign_id"])
    a, b, c = _codes(client, p, offer, kind="unique", count=3)
    _redeem(client, p, a, 10000)  # 5 % = 500
    reversed_id = _redeem(client, p, b, 12345)  # 617.25 -> 617, then reversed
    _redeem(client, p, c, 999)  # 49.95 -> 50 (half up)
    _reverse(client, p, reversed_id)

    mine = _statement(client, p)
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert [(x["kind"], x["amount_minor"], x["order_minor"]) for x in body["lines"]] == [
        ("sale", 500, 10000),
        ("sale", 617, 12345),
        ("sale", 50, 999),
        ("sale", -617, -12345),
    ]
    assert {x["direction"] for x in body["lines"]} == {"receivable"}
    assert {x["offer"] for x in body["lines"]} == {offer["title"]}
    assert body["totals"] == [
        {"currency": "RUB", "receivable_minor": 550, "payable_minor": 0, "net_minor": 550}
    ]
    assert body["reciprocity"] is None  # not a barter agreement
    theirs = _statement(client, p, side="cafe").json()
    assert theirs["totals"] == [
        {"currency": "RUB", "receivable_minor": 0, "payable_minor": 550, "net_minor": -550}
    ]
    assert {x["direction"] for x in theirs["lines"]} == {"payable"}

    paged = _statement(client, p, limit=3).json()
    assert len(paged["lines"]) == 3 and paged["next_cursor"]
    rest = _statement(client, p, limit=3, cursor=paged["next_cursor"]).json()
    assert [x["amount_minor"] for x in rest["lines"]] == [-617] and rest["next_cursor"] is None

    as_csv = _statement(client, p, format="csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert rows[0] == [
        "date",
        "kind",
        "offer",
        "order_minor",
        "amount_minor",
        "currency",
        "direction",
    ]
    assert [r[4] for r in rows[1:5]] == ["500", "617", "50", "-617"]
    assert rows[-3:] == [
        ["", "total", "", "", "550", "RUB", "receivable"],
        ["", "total", "", "", "0", "RUB", "payable"],
        ["", "total", "", "", "550", "RUB", "net"],
    ]
    for lang in ("en", "ru"):
        pdf = _statement(client, p, format="pdf", lang=lang)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"

    # a period before the redemptions is empty; a period ending before it starts is refused
    old = _statement(client, p, start="2020-01-01", end="2020-01-31").json()
    assert old["lines"] == [] and old["totals"] == []
    wrong = _statement(client, p, start="2020-02-01", end="2020-01-01")
    assert wrong.status_code == 422


def test_per_sale_fixed_and_a_reversal_netting_to_zero(client: TestClient, db: Session) -> None:
    p = agree(client, db, payment_model="per_sale_fixed", payment_minor=20000, currency="RUB")
    offer = make_offer(client, p, p["campaign_id"])
    a, b = _codes(client, p, offer, kind="unique", count=2)
    rid = _redeem(client, p, a, 70000)
    _reverse(client, p, rid)
    zero = _statement(client, p).json()
    assert [x["amount_minor"] for x in zero["lines"]] == [20000, -20000]
    assert zero["totals"] == [
        {"currency": "RUB", "receivable_minor": 0, "payable_minor": 0, "net_minor": 0}
    ]
    _redeem(client, p, b, 100)  # fixed per sale, whatever the order
    assert _statement(client, p).json()["totals"][0]["net_minor"] == 20000


def test_staff_reward_goes_to_the_staff_members_codes_only(client: TestClient, db: Session) -> None:
    p = agree(client, db, payment_model="staff_reward", payment_minor=3000, currency="RUB")
    offer = make_offer(client, p, p["campaign_id"])
    staff = _codes(client, p, offer, kind="link", staff_user_id=str(p["user_a"].id), label="Anna")
    _redeem(client, p, staff[0], 40000)
    everyone = make_offer(client, p, p["campaign_id"], title="No staff")
    plain = _codes(client, p, everyone, kind="shared", text="BREADCOFFEE")
    _redeem(client, p, plain[0], 40000)
    lines = _statement(client, p).json()["lines"]
    assert [(x["kind"], x["amount_minor"], x["staff_user_id"]) for x in lines] == [
        ("staff_reward", 3000, str(p["user_a"].id))
    ]


def test_currencies_are_kept_apart(client: TestClient, db: Session) -> None:
    p = agree(client, db, **PERCENT)
    rub = make_offer(client, p, p["campaign_id"])
    eur_campaign = launch_in(client, p, "EUR")
    eur = make_offer(client, p, eur_campaign, title="10% off in euro")
    _redeem(client, p, _codes(client, p, rub, kind="unique", count=1)[0], 100000)
    _redeem(client, p, _codes(client, p, eur, kind="unique", count=1)[0], 2000)
    body = _statement(client, p).json()
    assert body["totals"] == [
        {"currency": "EUR", "receivable_minor": 100, "payable_minor": 0, "net_minor": 100},
        {"currency": "RUB", "receivable_minor": 5000, "payable_minor": 0, "net_minor": 5000},
    ]
    assert {(x["currency"], x["amount_minor"]) for x in body["lines"]} == {
        ("RUB", 5000),
        ("EUR", 100),
    }


def test_barter_shows_reciprocity_and_the_page_and_cli(
    client: TestClient, db: Session, settings: Settings, monkeypatch: Any
) -> None:
    p = agree(client, db)  # barter
    offer = make_offer(client, p, p["campaign_id"])
    a, b = _codes(client, p, offer, kind="unique", count=2)
    _redeem(client, p, a, 30000)
    _redeem(client, p, b, 20000)
    body = _statement(client, p).json()
    assert body["lines"] == [] and body["totals"] == []
    flows = body["reciprocity"]["redemptions"]
    assert flows == [
        {
            "issuer_business_id": str(p["bakery"].id),
            "honouring_business_id": str(p["cafe"].id),
            "currency": "RUB",
            "count": 2,
            "order_minor": 50000,
        }
    ]
    assert len(body["reciprocity"]["deliveries"]) == 1
    assert {s["role"] for s in body["reciprocity"]["deliveries"][0]["sides"]} == {
        "proposer",
        "partner",
    }
    assert _statement(client, p, format="pdf").content.startswith(b"%PDF")

    # the page, signed in as the bakery's owner
    from tests.conftest import sign_in

    sign_in(client, "a@example.com")
    shown = client.get(f"/b/{p['bakery'].id}/statements", params={"partner": p["cafe"].slug})
    assert shown.status_code == 200, shown.text
    assert "Reciprocity" in shown.text and "format=csv" in shown.text and "Cafe" in shown.text

    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", settings.resolved_database_url())
    from crosspromo.settings import get_settings

    get_settings.cache_clear()
    try:
        today = date.today()
        args = ["statements", "show", "--business", p["bakery"].slug]
        args += ["--partner", p["cafe"].slug, "--start", (today - timedelta(days=2)).isoformat()]
        args += ["--end", (today + timedelta(days=1)).isoformat()]
        shown_cli = CliRunner().invoke(cli, [*args, "--format", "csv"])
        assert shown_cli.exit_code == 0, shown_cli.output
        assert shown_cli.output.startswith("date,kind,offer")
        wrong = CliRunner().invoke(cli, [*args[:-2], "--end", "yesterday"])
        assert wrong.exit_code == 1
    finally:
        get_settings.cache_clear()


def test_only_the_two_parties_see_it(client: TestClient, db: Session) -> None:
    p = agree(client, db, **PERCENT)
    outsider_asks = client.get(
        f"/api/v1/businesses/{p['bakery'].id}/statements",
        headers=p["outsider_owner"],
        params={"partner": p["cafe"].slug},
    )
    assert outsider_asks.status_code == 404
    as_itself = client.get(
        f"/api/v1/businesses/{p['outsider'].id}/statements",
        headers=p["outsider_owner"],
        params={"partner": p["cafe"].slug},
    ).json()
    assert as_itself["lines"] == [] and as_itself["totals"] == []
    cashier = client.get(
        f"/api/v1/businesses/{p['cafe'].id}/statements",
        headers=p["cafe_cashier"],
        params={"partner": p["bakery"].slug},
    )
    assert cashier.status_code == 403
    nobody = _statement(client, p, partner="no-such-business")
    assert nobody.status_code == 404
    missing = client.get(
        f"/api/v1/businesses/{p['bakery'].id}/statements", headers=p["bakery_manager"]
    )
    assert missing.status_code == 422


# --- the property: the net is the sum of live redemptions' commissions -------------------


@pytest.fixture
def percent_deal(client: TestClient, db: Session) -> Iterator[dict[str, Any]]:
    p = agree(client, db, **PERCENT)
    offer = make_offer(client, p, p["campaign_id"])
    p["offer_id"] = offer["id"]
    bakery = Actor(key_business_id=p["bakery"].id, key_role=Role.owner)
    service.add_codes(db, bakery, uuid.UUID(offer["id"]), CodesCreate(kind="shared", text="DEAL5"))
    db.commit()
    p["days"] = itertools.count()
    yield p


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(st.tuples(st.integers(min_value=0, max_value=10**7), st.booleans()), max_size=8)
)
def test_net_is_the_sum_of_live_commissions(
    db: Session, percent_deal: dict[str, Any], ops: list[tuple[int, bool]]
) -> None:
    p = percent_deal
    cafe = Actor(key_business_id=p["cafe"].id, key_role=Role.owner)
    bakery = Actor(key_business_id=p["bakery"].id, key_role=Role.owner)
    day = date(2030, 1, 1) + timedelta(days=next(p["days"]))
    noon = datetime.combine(day, time(12), ZoneInfo(p["cafe"].timezone))
    live = 0
    for i, (order, undo) in enumerate(ops):
        at = noon + timedelta(minutes=i)
        till = Till(business_id=p["cafe"].id, code="DEAL5", order_minor=order)
        made = service.redeem(db, cafe, till, secret_key="test-secret", now=at)
        if undo:
            service.reverse(db, cafe, made.id, "refund", now=at + timedelta(seconds=30))
        else:
            live += percent_of(order, Decimal(5))
    db.commit()
    mine = statements.statement(db, bakery, p["bakery"].id, p["cafe"].id, day, day)
    theirs = statements.statement(db, cafe, p["cafe"].id, p["bakery"].id, day, day)
    net = sum(t.net for t in mine.totals)
    assert net == live
    assert sum(t.net for t in theirs.totals) == -live
    assert all(t.currency == "RUB" for t in mine.totals)
    assert len(mine.lines) == len(ops) + sum(1 for _, undo in ops if undo)


def test_an_amended_agreement_sets_the_rate_of_later_redemptions(
    client: TestClient, db: Session
) -> None:
    from sqlalchemy import select

    from crosspromo.offers.models import Accrual
    from tests.campaigns.conftest import OPTION

    p = agree(client, db, payment_model="per_sale_percent", payment_percent="5")
    offer = make_offer(client, p, p["campaign_id"])
    a, b = _codes(client, p, offer, kind="unique", count=2)
    _redeem(client, p, a, 10000)
    url = f"/api/v1/partnerships/{p['proposal_id']}"
    amended = OPTION | {"payment_model": "per_sale_percent", "payment_percent": "10"}
    client.post(
        f"{url}/versions", headers=p["cafe_owner"], json={"based_on": 1, "options": [amended]}
    )
    _redeem(client, p, b, 10000)  # the amendment is not agreed yet: still 5 %
    client.post(f"{url}/accept", headers=p["bakery_owner"], json={"version": 2})
    client.post(f"{url}/accept", headers=p["cafe_owner"], json={"version": 2})
    fresh = [x for x in _codes(client, p, offer, kind="unique", count=1) if x not in (a, b)]
    _redeem(client, p, fresh[0], 10000)
    amounts = sorted(db.scalars(select(Accrual.amount_minor)).all())
    assert amounts == [500, 500, 1000]


def test_partners_in_different_zones_see_mirrored_statements(
    client: TestClient, db: Session
) -> None:
    p = agree(client, db, **PERCENT)
    cafe = db.get(type(p["cafe"]), p["cafe"].id)
    assert cafe is not None
    cafe.timezone = "America/Los_Angeles"  # eleven hours behind the proposer's Moscow
    db.commit()
    offer = make_offer(client, p, p["campaign_id"])
    for code in _codes(client, p, offer, kind="unique", count=2):
        _redeem(client, p, code, 10000)
    day = datetime.now(ZoneInfo(p["bakery"].timezone)).date()
    mine = _statement(client, p, start=day.isoformat(), end=day.isoformat()).json()
    theirs = _statement(client, p, side="cafe", start=day.isoformat(), end=day.isoformat()).json()
    assert mine["timezone"] == theirs["timezone"] == p["bakery"].timezone  # the proposer's
    assert len(mine["lines"]) == len(theirs["lines"]) == 2
    assert [x["date"] for x in mine["lines"]] == [x["date"] for x in theirs["lines"]]
    assert mine["totals"][0]["net_minor"] == -theirs["totals"][0]["net_minor"] != 0
