"""The campaign page's forms take numbers, money and dates as people type them, and after a
refusal show a translated message next to the field with what was typed still in place."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.campaigns import service
from crosspromo.campaigns.models import Campaign
from crosspromo.offers import service as offers
from tests.conftest import sign_in


def _campaign(client: TestClient, p: dict[str, Any]) -> tuple[str, str]:
    made = client.post(
        "/api/v1/campaigns",
        params={"business_id": str(p["bakery"].id)},
        headers=p["bakery_manager"],
        json={"proposal_id": p["proposal_id"], "title": "Croissant week"},
    )
    assert made.status_code == 201, made.text
    csrf = sign_in(client, "a@example.com")
    return f"/b/{p['bakery'].id}/campaigns/{made.json()['id']}", csrf


def _selected(html: str, name: str) -> str:
    select = html.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    return select.split(" selected", 1)[0].rsplit('value="', 1)[1].split('"', 1)[0]


def _goal(p: dict[str, Any], target: str, kind: str = "increase_percent") -> dict[str, str]:
    return {
        "goal_business_id": str(p["bakery"].id),
        "goal_metric": "revenue",
        "goal_kind": kind,
        "goal_target": target,
        "starts_on": "01.12.2026",
        "ends_on": "20.12.2026",
    }


def test_goal_form_keeps_kind_and_typed_target_after_an_error(
    client: TestClient, db: Session, agreed: dict[str, Any]
) -> None:
    p = agreed
    url, csrf = _campaign(client, p)
    client.cookies.set("locale", "ru")
    bad = client.post(f"{url}/details", data={"csrf_token": csrf, **_goal(p, "десять")})
    assert bad.status_code == 422
    assert "Целевое значение: введите число, например 10,5" in bad.text
    assert 'class="field-error"' in bad.text
    assert _selected(bad.text, "goal_kind") == "increase_percent"  # not reset to the first
    assert 'value="десять"' in bad.text and 'value="01.12.2026"' in bad.text
    backwards = client.post(
        f"{url}/details",
        data={"csrf_token": csrf, **_goal(p, "10"), "ends_on": "30.11.2026"},
    )
    assert "Окончание: раньше даты начала" in backwards.text
    assert ": ends_on" not in backwards.text and "is before" not in backwards.text
    saved = client.post(f"{url}/details", data={"csrf_token": csrf, **_goal(p, "10,5")})
    assert saved.status_code == 200, saved.text
    campaign = db.get(Campaign, uuid.UUID(url.rsplit("/", 1)[1]))
    assert campaign is not None
    db.refresh(campaign)
    assert campaign.goal_target == 1050  # basis points: 10.5 %
    assert str(campaign.starts_on) == "2026-12-01" and str(campaign.ends_on) == "2026-12-20"


def test_money_goal_budget_and_offer_take_russian_numbers(
    client: TestClient, db: Session, agreed: dict[str, Any]
) -> None:
    p = agreed
    url, csrf = _campaign(client, p)
    goal = client.post(
        f"{url}/details", data={"csrf_token": csrf, **_goal(p, "600\u00a0000 ₽", "increase_by")}
    )
    assert goal.status_code == 200, goal.text
    budget = client.post(
        f"{url}/budget",
        data={
            "csrf_token": csrf,
            "business_id": str(p["bakery"].id),
            "item": "materials",
            "description": "Flyers",
            "amount": "3\u00a0000,50 ₽",
            "currency": "RUB",
        },
    )
    assert budget.status_code == 200, budget.text
    offer = client.post(
        f"{url}/offer",
        data={
            "csrf_token": csrf,
            "issuer_business_id": str(p["bakery"].id),
            "honouring_business_id": str(p["cafe"].id),
            "title": "Coffee for bakery customers",
            "benefit": "percent",
            "percent": "12,5 %",
            "min_order": "1 000,00 ₽",
            "valid_from": "01.12.2026",
            "valid_until": "31.12.2026",
        },
    )
    assert offer.status_code == 200, offer.text
    campaign = db.get(Campaign, uuid.UUID(url.rsplit("/", 1)[1]))
    assert campaign is not None
    db.refresh(campaign)
    assert campaign.goal_target == 60_000_000  # minor units
    assert [b.amount_minor for b in service.budget(db, campaign.id)] == [300050]
    (made,) = offers.offers_of(db, campaign.id)
    assert made.percent_bp == 1250 and made.min_order_minor == 100000
    assert str(made.valid_from) == "2026-12-01"


def test_offer_form_error_stays_next_to_the_field_in_english(
    client: TestClient, agreed: dict[str, Any]
) -> None:
    p = agreed
    url, csrf = _campaign(client, p)
    bad = client.post(
        f"{url}/offer",
        data={
            "csrf_token": csrf,
            "issuer_business_id": str(p["bakery"].id),
            "honouring_business_id": str(p["cafe"].id),
            "title": "Coffee",
            "benefit": "fixed",
            "amount": "abc",
        },
    )
    assert bad.status_code == 422
    assert "Amount: abc is not a number; type it as 10,5 or 3 000,50" in bad.text
    assert _selected(bad.text, "benefit") == "fixed" and 'value="Coffee"' in bad.text
