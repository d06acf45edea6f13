"""The till page through real forms: check, confirm once (a double tap too), reverse."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from crosspromo.offers.models import Redemption
from crosspromo.web import i18n
from tests.conftest import PASSWORD, sign_in
from tests.offers.conftest import make_offer


def test_cashier_checks_confirms_and_reverses(
    app: Any, client: TestClient, db: Session, running: dict[str, Any]
) -> None:
    p = running
    offer = make_offer(client, p, p["campaign_id"], min_order_minor=30000)
    client.post(
        f"/api/v1/offers/{offer['id']}/codes",
        headers=p["bakery_manager"],
        json={"kind": "unique", "count": 1},
    )
    code = client.get(f"/api/v1/offers/{offer['id']}/codes", headers=p["bakery_manager"]).json()[
        "items"
    ][0]["code"]
    accounts.add_member(
        db,
        workspace_id=p["cafe"].workspace_id,
        email="till@example.com",
        role=Role.cashier,
        password=PASSWORD,
    )
    db.commit()
    with TestClient(app) as till:
        csrf = sign_in(till, "till@example.com")
        base = f"/b/{p['cafe'].id}/till"
        assert till.get(base).status_code == 200
        # a cashier sees no campaigns
        assert till.get(f"/b/{p['cafe'].id}/campaigns").status_code in (403, 404)
        low = till.post(f"{base}/check", data={"code": code, "amount": "100", "csrf_token": csrf})
        assert "below the offer" in low.text and 'data-ok="no"' in low.text
        checked = till.post(
            f"{base}/check", data={"code": code.lower(), "amount": "500,00", "csrf_token": csrf}
        )
        assert 'data-ok="yes"' in checked.text and "50.00" in checked.text
        token = checked.text.split('name="token" value="', 1)[1].split('"', 1)[0]
        form = {"code": code.lower(), "amount": "500,00", "token": token, "csrf_token": csrf}
        first = till.post(f"{base}/redeem", data=form)
        second = till.post(f"{base}/redeem", data=form)  # a double tap
        assert "Redeemed" in first.text and "already confirmed" in second.text
        assert db.scalar(select(func.count()).select_from(Redemption)) == 1
        rid = first.text.split('name="redemption_id" value="', 1)[1].split('"', 1)[0]
        again = till.post(f"{base}/check", data={"code": code, "amount": "500", "csrf_token": csrf})
        assert "already used" in again.text
        used = db.scalars(select(Redemption)).one()  # when and where, in the cafe's zone
        when = i18n.moment(used.at, p["cafe"].timezone)
        assert f"Used {when} at Cafe." in again.text
        back = till.post(f"{base}/reverse", data={"redemption_id": rid, "csrf_token": csrf})
        assert "Reversed" in back.text
        unknown = till.post(
            f"{base}/check", data={"code": "NOPE", "amount": "5", "csrf_token": csrf}
        )
        assert unknown.status_code == 422 and 'data-kind="unknown-code"' in unknown.text


def test_campaign_page_lists_offers_and_adds_codes(
    client: TestClient, db: Session, running: dict[str, Any]
) -> None:
    p = running
    csrf = sign_in(client, "a@example.com")
    url = f"/b/{p['bakery'].id}/campaigns/{p['campaign_id']}"
    made = client.post(
        f"{url}/offer",
        data={
            "csrf_token": csrf,
            "issuer_business_id": str(p["bakery"].id),
            "honouring_business_id": str(p["cafe"].id),
            "title": "Free croissant with a coffee",
            "benefit": "free_item",
            "item": "a croissant",
            "min_order": "200",
        },
    )
    assert made.status_code == 200 and "Free croissant with a coffee" in made.text
    offer_id = made.text.split('name="offer_id" value="', 1)[1].split('"', 1)[0]
    coded = client.post(
        f"{url}/codes",
        data={"csrf_token": csrf, "offer_id": offer_id, "kind": "unique", "count": "5"},
    )
    assert "5 codes, 0 used" in coded.text
    bad = client.post(
        f"{url}/offer",
        data={
            "csrf_token": csrf,
            "issuer_business_id": str(p["bakery"].id),
            "honouring_business_id": str(p["bakery"].id),
            "title": "x",
            "benefit": "gift",
            "item": "y",
        },
    )
    assert bad.status_code == 422 and "must differ" in bad.text


def test_a_cashier_sees_no_pipeline_link(
    app: Any, client: TestClient, db: Session, running: dict[str, Any]
) -> None:
    p = running
    accounts.add_member(
        db,
        workspace_id=p["cafe"].workspace_id,
        email="till2@example.com",
        role=Role.cashier,
        password=PASSWORD,
    )
    db.commit()
    sign_in(client, "till2@example.com")
    till = client.get(f"/b/{p['cafe'].id}/till")
    assert till.status_code == 200 and "/pipeline" not in till.text
