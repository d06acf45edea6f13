"""The loyalty API as a cash register uses it, on both engines."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from crosspromo.loyalty import service
from crosspromo.offers import audit, webhooks
from crosspromo.outbox.models import OutboxMessage
from tests.campaigns.conftest import key
from tests.loyalty.conftest import assert_ledger_ok, build


def setup(db: Session) -> dict[str, Any]:
    s = build(db, pending_days=0)
    s["bakery_key"] = key(db, s["bakery"], Role.cashier)
    s["cafe_key"] = key(db, s["cafe"], Role.cashier)
    s["number"] = service.display_number(s["card"].number)
    return s


def test_earn_spend_reverse_balance_through_the_api(client: TestClient, db: Session) -> None:
    s = setup(db)
    cafe_owner = accounts.actor_for_user(db, s["cafe_user"].id)
    webhooks.add_endpoint(
        db, cafe_owner, s["cafe"].id, "https://93.184.215.14/hook"
    )  # public: no DNS
    db.commit()
    earned = client.post(
        "/api/v1/loyalty/earn",
        headers=s["bakery_key"] | {"Idempotency-Key": "e1"},
        json={
            "business_id": str(s["bakery"].id),
            "card": s["number"],
            "order_minor": 300_000,
            "order_ref": "R-1",
        },
    )
    assert earned.status_code == 201, earned.text
    body = earned.json()
    assert body["points"] == 150 and body["balance"] == 150
    replay = client.post(
        "/api/v1/loyalty/earn",
        headers=s["bakery_key"] | {"Idempotency-Key": "e1"},
        json={
            "business_id": str(s["bakery"].id),
            "card": s["number"],
            "order_minor": 300_000,
            "order_ref": "R-1",
        },
    )
    assert replay.json() == body and replay.headers["Idempotent-Replayed"] == "true"
    spent = client.post(
        "/api/v1/loyalty/spend",
        headers=s["cafe_key"] | {"Idempotency-Key": "s1"},
        json={
            "business_id": str(s["cafe"].id),
            "card": s["card"].phone,
            "order_minor": 100_000,
            "order_ref": "C-1",
            "points": 100,
        },
    )
    assert spent.status_code == 201, spent.text
    assert spent.json()["balance"] == 50 and spent.json()["value_minor"] == 10_000
    balance = client.get(
        f"/api/v1/loyalty/cards/{s['number']}/balance",
        params={"business_id": str(s["cafe"].id)},
        headers=s["cafe_key"],
    ).json()
    assert balance["available"] == 50
    assert balance["lots"][0]["issuer"] == s["bakery"].slug
    assert balance["lots"][0]["expires_at"]
    back = client.post(
        f"/api/v1/loyalty/transactions/{spent.json()['transaction_id']}/reversal",
        headers=s["cafe_key"],
        json={},
    )
    assert back.status_code == 201 and back.json()["balance"] == 150
    again = client.post(
        f"/api/v1/loyalty/transactions/{back.json()['transaction_id']}/reversal",
        headers=s["cafe_key"],
    )
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/reversal-of-reversal"
    assert again.headers["content-type"].startswith("application/problem+json")
    events = db.scalar(select(func.count()).select_from(OutboxMessage))
    assert events == 2  # the cafe's spend and its reversal
    assert_ledger_ok(db, s["coalition"])


def test_bad_input_gives_stable_problem_types(client: TestClient, db: Session) -> None:
    s = setup(db)
    url = "/api/v1/loyalty/spend"
    base = {"business_id": str(s["cafe"].id), "order_minor": 1000, "order_ref": "X"}
    wrong = s["number"][:-1] + ("2" if s["number"][-1] != "2" else "3")
    cases = {
        wrong: "card-mistyped",
        "ZZZZ-ZZZZ-ZZZ": "card-malformed",
        "+7 999 000 00 00": "card-unknown",
        s["number"]: "over-balance",
    }
    for card, kind in cases.items():
        answer = client.post(url, headers=s["cafe_key"], json=base | {"card": card})
        assert answer.json()["type"] == f"/problems/{kind}", (card, answer.text)
    over = client.post(url, headers=s["cafe_key"], json=base | {"card": s["number"], "points": 9})
    assert over.json()["type"] == "/problems/over-share" and over.json()["max_points"] == 5
    for bad in ({"order_minor": -1}, {"order_minor": 10**13}, {"order_ref": "a\x00b"}):
        answer = client.post(url, headers=s["cafe_key"], json=base | {"card": s["number"]} | bad)
        assert answer.status_code == 422, bad
    # The same key with another body is refused; a remembered refusal replays.
    first = client.post(
        url, headers=s["cafe_key"] | {"Idempotency-Key": "k"}, json=base | {"card": wrong}
    )
    replay = client.post(
        url, headers=s["cafe_key"] | {"Idempotency-Key": "k"}, json=base | {"card": wrong}
    )
    assert first.json()["type"] == replay.json()["type"] == "/problems/card-mistyped"
    assert replay.headers.get("Idempotent-Replayed") == "true"
    other = client.post(
        url, headers=s["cafe_key"] | {"Idempotency-Key": "k"}, json=base | {"card": s["number"]}
    )
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    # Every refusal is in the till's audit log with its reason.
    outcomes = {a.outcome for a in audit.recent(db, s["cafe"].id) if a.action == "loyalty_spend"}
    assert {"card-mistyped", "card-malformed", "over-share", "over-balance"} <= outcomes


def test_enrol_with_consent_and_card_page(client: TestClient, db: Session) -> None:
    s = setup(db)
    body = {
        "coalition_id": str(s["coalition"].id),
        "business_id": str(s["cafe"].id),
        "email": "Anna@Example.com",
        "consent": False,
    }
    refused = client.post("/api/v1/loyalty/cards", headers=s["cafe_key"], json=body)
    assert refused.status_code == 422
    made = client.post(
        "/api/v1/loyalty/cards", headers=s["cafe_key"], json=body | {"consent": True}
    )
    assert made.status_code == 201, made.text
    number = made.json()["card"]
    assert service.find_card(db, number).email == "anna@example.com"
    twice = client.post(
        "/api/v1/loyalty/cards", headers=s["cafe_key"], json=body | {"consent": True}
    )
    assert twice.json()["type"] == "/problems/card-exists"


def test_coalition_lifecycle_through_the_api(client: TestClient, db: Session) -> None:
    from tests.conftest import make_owner

    _, bakery = make_owner(db, "b@example.com", "Bakery")
    _, cafe = make_owner(db, "c@example.com", "Cafe", category="amenity=cafe")
    b_owner, c_owner = key(db, bakery, Role.owner), key(db, cafe, Role.owner)
    c_cashier = key(db, cafe, Role.cashier)
    made = client.post(
        "/api/v1/loyalty/coalitions",
        headers=b_owner,
        json={"business_id": str(bakery.id), "name": "Street", "pending_days": 0},
    )
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    url = f"/api/v1/loyalty/coalitions/{cid}"
    # The cafe sees nothing before it is invited; a cashier may not invite.
    assert client.get(url, headers=c_owner, params={"business_id": str(cafe.id)}).status_code == 404
    invited = client.post(
        f"{url}/invitations",
        headers=b_owner,
        json={"business_id": str(bakery.id), "invitee_business_id": str(cafe.id)},
    )
    assert invited.json()["status"] == "invited"
    joined = client.post(
        f"{url}/join", headers=c_owner, json={"business_id": str(cafe.id), "earn_milli": 100}
    )
    assert {m["status"] for m in joined.json()["members"]} == {"active"}
    assert (
        client.post(
            f"{url}/join", headers=c_cashier, json={"business_id": str(cafe.id)}
        ).status_code
        == 403
    )
    rules = client.post(
        f"{url}/rules",
        headers=b_owner,
        json={
            "business_id": str(bakery.id),
            "point_value_minor": 50,
            "max_share_bp": 5000,
            "pending_days": 0,
            "expiry_months": 6,
        },
    ).json()
    assert rules == {"version": 2, "in_force": False}
    accepted = client.post(
        f"{url}/rules/2/acceptance", headers=c_owner, json={"business_id": str(cafe.id)}
    )
    assert accepted.json()["in_force"] is True
    card = client.post(
        "/api/v1/loyalty/cards",
        headers=c_cashier,
        json={
            "coalition_id": cid,
            "business_id": str(cafe.id),
            "phone": "+79120001122",
            "consent": True,
        },
    ).json()["card"]
    client.post(
        "/api/v1/loyalty/earn",
        headers=key(db, bakery, Role.cashier),
        json={
            "business_id": str(bakery.id),
            "card": card,
            "order_minor": 400_000,
            "order_ref": "1",
        },
    )
    client.post(
        "/api/v1/loyalty/spend",
        headers=c_cashier,
        json={
            "business_id": str(cafe.id),
            "card": card,
            "order_minor": 100_000,
            "order_ref": "2",
            "points": 100,
        },
    )
    reserve = client.post(
        f"{url}/reserve",
        headers=b_owner,
        json={"business_id": str(bakery.id), "reserve_minor": 5000},
    )
    assert reserve.status_code == 200
    positions = client.get(
        f"{url}/positions", headers=b_owner, params={"business_id": str(bakery.id)}
    ).json()["members"]
    mine = next(p for p in positions if p["business_id"] == str(bakery.id))
    assert (mine["liability_points"], mine["liability_minor"], mine["coverage"]) == (100, 5000, 1.0)
    today = date.today()  # the days around it: a run across midnight still covers the writes
    params = {
        "business_id": str(bakery.id),
        "from": (today - timedelta(days=1)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat(),
    }
    statement = client.get(f"{url}/clearing", headers=b_owner, params=params).json()
    nets = {m["slug"]: m["net_minor"] for m in statement["members"]}
    assert nets == {bakery.slug: -5000, cafe.slug: 5000}
    as_csv = client.get(f"{url}/clearing", headers=b_owner, params=params | {"format": "csv"})
    assert as_csv.text.splitlines()[0] == "slug,name,issued_minor,accepted_minor,net_minor"
    as_pdf = client.get(
        f"{url}/clearing", headers=b_owner, params=params | {"format": "pdf", "lang": "ru"}
    )
    assert as_pdf.content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(as_pdf.content)).pages)
    assert "Клиринговая ведомость" in text and "Bakery платит Cafe" in text
    left = client.post(f"{url}/leave", headers=c_owner, json={"business_id": str(cafe.id)})
    assert left.status_code == 200
    refused = client.post(
        "/api/v1/loyalty/spend",
        headers=c_cashier,
        json={"business_id": str(cafe.id), "card": card, "order_minor": 100_000, "order_ref": "3"},
    )
    assert refused.json()["type"] == "/problems/member-left"


def test_enrolment_naming_unknown_ids_is_a_clean_refusal(client: TestClient, db: Session) -> None:
    """The fuzzer's case: an unknown coalition and business are refused and audited, no 500."""
    import uuid

    s = setup(db)
    answer = client.post(
        "/api/v1/loyalty/cards",
        headers=s["bakery_key"],
        json={"coalition_id": str(uuid.uuid4()), "business_id": str(uuid.uuid4()), "consent": True,
              "phone": "+7 916 123-45-67"},
    )  # fmt: skip
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_member_routes_act_only_as_the_callers_own_member(client: TestClient, db: Session) -> None:
    """Typed permissions: a member's staff reach the coalition, but act only as their own
    business; another coalition's card and another member's receipt are not found."""
    s = setup(db)
    url = f"/api/v1/loyalty/coalitions/{s['coalition'].id}"
    cafe_owner = key(db, s["cafe"], Role.owner)
    as_bakery = {"business_id": str(s["bakery"].id), "reserve_minor": 100}
    assert client.post(f"{url}/reserve", headers=cafe_owner, json=as_bakery).status_code == 404
    assert client.post(f"{url}/reserve", headers=s["cafe_key"], json=as_bakery).status_code == 403
    own = as_bakery | {"business_id": str(s["cafe"].id)}
    assert client.post(f"{url}/reserve", headers=cafe_owner, json=own).status_code == 200
    earned = client.post(
        "/api/v1/loyalty/earn",
        headers=s["bakery_key"],
        json={"business_id": str(s["bakery"].id), "card": s["number"], "order_minor": 1000,
              "order_ref": "R9"},
    )  # fmt: skip
    reversal = f"/api/v1/loyalty/transactions/{earned.json()['transaction_id']}/reversal"
    assert client.post(reversal, headers=s["cafe_key"]).status_code == 404
    assert client.post(reversal, headers=s["bakery_key"]).status_code == 201
    other = build_other(db)
    balance = client.get(
        f"/api/v1/loyalty/cards/{s['number']}/balance",
        headers=key(db, other, Role.cashier),
        params={"business_id": str(other.id)},
    )
    assert balance.status_code == 404
    assert balance.json()["type"] == "/problems/card-other-coalition"


def build_other(db: Session) -> Any:
    """A business founding a coalition of its own."""
    from tests.conftest import make_owner

    _, grocer = make_owner(db, "grocer@example.com", "Grocer", category="shop=greengrocer")
    service.create_coalition(db, founder=grocer, name="Other street")
    db.commit()
    return grocer
