"""Joining a coalition under an agreement: a proposal with a coalition option, over HTTP."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts.models import Role
from crosspromo.loyalty import service
from tests.campaigns.conftest import key
from tests.conftest import make_owner, sign_in
from tests.loyalty.conftest import build


def membership(coalition_id: str, version: int = 1, **earn: Any) -> dict[str, Any]:
    return {
        "mechanic": "coalition",
        "title": "Join our street's points",
        "proposer": {"gives": "its customers' points", "gets": "our customers"},
        "partner": {"gives": "points at its till", "gets": "coalition customers"},
        "coalition": {"coalition_id": coalition_id, "rules_version": version} | earn,
    }


def street(client: TestClient, db: Session) -> dict[str, Any]:
    """The bakery's coalition; the cafe and the florist are not members yet."""
    s: dict[str, Any] = {}
    for name, category in (("Bakery", "shop=bakery"), ("Cafe", "amenity=cafe")) + (
        ("Florist", "shop=florist"),
    ):
        _, business = make_owner(db, f"{name.lower()}@example.com", name, category=category)
        s[name.lower()] = business
        s[f"{name.lower()}_owner"] = key(db, business, Role.owner)
    made = client.post(
        "/api/v1/loyalty/coalitions",
        headers=s["bakery_owner"],
        json={"business_id": str(s["bakery"].id), "name": "Our street", "pending_days": 0},
    )
    assert made.status_code == 201, made.text
    s["id"] = made.json()["id"]
    return s


def propose(client: TestClient, s: dict[str, Any], frm: str, to: str, option: Any) -> Any:
    return client.post(
        "/api/v1/partnerships",
        params={"business_id": str(s[frm].id)},
        headers=s[f"{frm}_owner"],
        json={"to_business": s[to].slug, "options": [option]},
    )


def accept(client: TestClient, s: dict[str, Any], who: str, proposal: str, version: int) -> Any:
    url = f"/api/v1/partnerships/{proposal}/accept"
    return client.post(url, headers=s[f"{who}_owner"], json={"version": version})


def coalition(client: TestClient, s: dict[str, Any], who: str) -> Any:
    return client.get(
        f"/api/v1/loyalty/coalitions/{s['id']}",
        headers=s[f"{who}_owner"],
        params={"business_id": str(s[who].id)},
    )


def test_an_agreed_coalition_option_makes_the_partner_a_member(
    client: TestClient, db: Session
) -> None:
    s = street(client, db)
    sent = propose(client, s, "bakery", "cafe", membership(s["id"], earn_milli=80))
    assert sent.status_code == 201, sent.text
    pid = sent.json()["id"]
    # Proposed, not agreed: the cafe sees no coalition yet.
    assert coalition(client, s, "cafe").status_code == 404
    assert accept(client, s, "cafe", pid, 1).json()["status"] == "agreed"
    shown = coalition(client, s, "cafe")
    assert shown.status_code == 200, shown.text
    cafe = next(m for m in shown.json()["members"] if m["business_id"] == str(s["cafe"].id))
    assert (cafe["status"], cafe["earn_milli"], cafe["accepted_version"]) == ("active", 80, 1)
    # The new member's staff work the till at once: enrol a card there.
    enrolled = client.post(
        "/api/v1/loyalty/cards",
        headers=key(db, s["cafe"], Role.cashier),
        json={"coalition_id": s["id"], "business_id": str(s["cafe"].id),
              "phone": "+7 912 345-67-00", "consent": True},
    )  # fmt: skip
    assert enrolled.status_code == 201, enrolled.text
    # A business asks to join too: the proposal may come from the side that is not a member.
    asked = propose(client, s, "florist", "bakery", membership(s["id"]))
    assert asked.status_code == 201, asked.text
    assert accept(client, s, "bakery", asked.json()["id"], 1).json()["status"] == "agreed"
    assert coalition(client, s, "florist").status_code == 200


def test_coalition_terms_are_checked_when_sent_and_when_agreed(
    client: TestClient, db: Session
) -> None:
    s = street(client, db)
    refusals = {
        "rules_version": membership(s["id"], version=2),
        "coalition_id": membership("6d1f0c56-0000-4000-8000-000000000000"),
    }
    for field, option in refusals.items():
        answer = propose(client, s, "bakery", "cafe", option)
        assert answer.status_code == 422, (field, answer.text)
        assert field in answer.text
    # Neither side a member: the cafe cannot offer the florist the bakery's coalition.
    outsiders = propose(client, s, "cafe", "florist", membership(s["id"]))
    assert outsiders.status_code == 422, outsiders.text
    # A coalition option without the coalition's terms, and terms under another mechanic.
    plain = membership(s["id"])
    del plain["coalition"]
    assert propose(client, s, "bakery", "cafe", plain).status_code == 422
    other = membership(s["id"]) | {"mechanic": "joint_promotion"}
    assert propose(client, s, "bakery", "cafe", other).status_code == 422
    # The rules change between the offer and the acceptance: the acceptance is refused and
    # nothing changes, until new terms name the rules in force.
    sent = propose(client, s, "bakery", "florist", membership(s["id"]))
    assert sent.status_code == 201, sent.text
    pid = sent.json()["id"]
    rules = client.post(
        f"/api/v1/loyalty/coalitions/{s['id']}/rules",
        headers=s["bakery_owner"],
        json={"business_id": str(s["bakery"].id), "point_value_minor": 50, "max_share_bp": 5000,
              "pending_days": 0, "expiry_months": 6},
    )  # fmt: skip
    assert rules.json() == {"version": 2, "in_force": True}
    late = accept(client, s, "florist", pid, 1)
    assert late.status_code == 409
    assert late.json()["type"] == "/problems/coalition-rules-changed"
    assert coalition(client, s, "florist").status_code == 404
    countered = client.post(
        f"/api/v1/partnerships/{pid}/versions",
        headers=s["bakery_owner"],
        json={"based_on": 1, "options": [membership(s["id"], version=2)]},
    )
    assert countered.status_code == 201, countered.text
    assert accept(client, s, "florist", pid, 2).json()["status"] == "agreed"
    florist = coalition(client, s, "florist").json()["members"]
    assert {m["business_id"]: m["accepted_version"] for m in florist}[str(s["florist"].id)] == 2


def test_the_coalition_page_proposes_membership_through_a_proposal(
    client: TestClient, db: Session
) -> None:
    s = build(db)
    _, grocer = make_owner(db, "grocer@example.com", "Grocer", category="shop=greengrocer")
    csrf = sign_in(client, "bakery@example.com")
    dashboard = client.get(f"/b/{s['bakery'].id}/loyalty/coalitions/{s['coalition'].id}")
    assert 'id="propose-membership"' in dashboard.text
    form = {
        k: v
        for k, v in (
            (m.group(1), m.group(2))
            for m in re.finditer(r'name="([\w.]+)" value="([^"]*)"', dashboard.text)
        )
        if k.startswith("o0.") or k == "csrf_token"
    }
    assert form["o0.mechanic"] == "coalition" and form["o0.rules_version"] == "1"
    sent = client.post(
        f"/b/{s['bakery'].id}/proposals/new",
        data=form | {"to": "Grocer", "o0.earn_milli": "70", "o0.welcome_points": "15"},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    shown = client.get(sent.headers["location"], headers={"Accept-Language": "ru"})
    assert f'data-coalition="{s["coalition"].id}"' in shown.text
    assert "Членство в коалиции" in shown.text
    # The grocer's owner accepts on the proposal page: the grocer is a member.
    client.cookies.clear()
    csrf = sign_in(client, "grocer@example.com")
    pid = sent.headers["location"].rsplit("/", 1)[1]
    accepted = client.post(
        f"/b/{grocer.id}/proposals/{pid}/accept",
        data={"csrf_token": csrf, "version": "1", "option": "0"},
        follow_redirects=False,
    )
    assert accepted.status_code == 303, accepted.text
    db.expire_all()
    member = service.find_member(db, s["coalition"].id, grocer.id)
    assert member is not None
    assert (member.status.value, member.earn_milli, member.welcome_points) == ("active", 70, 15)
