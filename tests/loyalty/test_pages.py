"""The till's loyalty panel, the coalition dashboard and the customer's card page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.loyalty import service
from tests.conftest import sign_in
from tests.loyalty.conftest import T0, assert_ledger_ok, build


def test_till_panel_earns_spends_and_reverses_once(client: TestClient, db: Session) -> None:
    s = build(db, pending_days=0)
    number = service.display_number(s["card"].number)
    csrf = sign_in(client, "bakery@example.com")
    base = f"/b/{s['bakery'].id}/loyalty"
    till = client.get(f"/b/{s['bakery'].id}/till")
    assert f'hx-get="{base}/panel"' in till.text
    assert "Show balance" in client.get(f"{base}/panel").text
    form = {
        "csrf_token": csrf,
        "card": number,
        "amount": "2 000,00",
        "receipt": "R1",
        "token": "t1",
    }
    earned = client.post(f"{base}/earn", data=form)
    assert earned.status_code == 200, earned.text
    assert "data-balance>100<" in earned.text
    again = client.post(f"{base}/earn", data=form)  # the same form sent twice: one effect
    assert "already confirmed" in again.text and "data-balance>100<" in again.text
    spent = client.post(
        f"{base}/spend",
        data={"csrf_token": csrf, "card": number, "amount": "500", "points": "", "token": "t2"},
    )
    assert "data-balance>0<" in spent.text  # the most allowed: half of 500 = 250 > 100 points
    refused = client.post(
        f"{base}/spend",
        data={"csrf_token": csrf, "card": number, "amount": "500", "points": "5", "token": "t3"},
    )
    assert refused.status_code == 409 and 'data-kind="over-balance"' in refused.text
    mistyped = client.get(base, params={"card": number[:-1] + ("2" if number[-1] != "2" else "3")})
    assert 'data-kind="card-mistyped"' in mistyped.text
    shown = client.get(base, params={"card": "+79123456789"})
    assert 'data-available="0"' in shown.text
    dashboard = client.get(f"{base}/coalitions/{s['coalition'].id}", params={"card": number})
    assert dashboard.status_code == 200, dashboard.text
    assert "Our street" in dashboard.text and "R1" in dashboard.text
    ru = client.get(f"{base}/coalitions/{s['coalition'].id}", headers={"Accept-Language": "ru"})
    assert ru.status_code == 200
    assert_ledger_ok(db, s["coalition"])


def test_card_page_by_secret_link(client: TestClient, db: Session) -> None:
    s = build(db, pending_days=0)
    service.earn(db, business=s["cafe"], card=s["card"], order_minor=100_000, order_ref="C1")
    db.commit()
    shown = client.get(f"/loyalty/c/{s['token']}")
    assert shown.status_code == 200
    assert service.display_number(s["card"].number) in shown.text
    assert "<svg" in shown.text and "data-available>50<" in shown.text
    assert client.get("/loyalty/c/not-a-real-token-at-all").status_code == 404


def test_public_sign_up_needs_consent_and_opens_the_card(client: TestClient, db: Session) -> None:
    s = build(db, pending_days=0)
    url = f"/loyalty/join/{s['coalition'].id}"
    form = client.get(url, headers={"Accept-Language": "ru"})
    assert form.status_code == 200 and "Получить карту" in form.text
    csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    refused = client.post(url, data={"csrf_token": csrf, "phone": "+7 912 111-22-33"})
    assert refused.status_code == 422 and 'data-kind="validation"' in refused.text
    made = client.post(
        url,
        data={
            "csrf_token": csrf,
            "phone": "+7 912 111-22-33",
            "consent": "on",
            "via": str(s["cafe"].id),
        },
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"].startswith("/loyalty/c/")
    card = service.find_card(db, "+79121112233")
    assert card.enrolled_by == s["cafe"].id and card.marketing_consent is False
    assert client.get(made.headers["location"]).status_code == 200


def test_the_worker_expires_lots(db: Session, settings: Any) -> None:
    from crosspromo.db import make_engine, make_sessionmaker
    from crosspromo.outbox import worker
    from crosspromo.outbox.cli import jobs

    s = build(db)
    old = T0 - timedelta(days=800)
    service.earn(
        db, business=s["bakery"], card=s["card"], order_minor=100_000, order_ref="B", now=old
    )
    db.commit()
    jobs()
    engine = make_engine(settings.resolved_database_url())
    worker.tick(make_sessionmaker(engine), settings)
    engine.dispose()
    db.expire_all()
    assert service.balance(db, s["card"]).available == 0
    assert_ledger_ok(db, s["coalition"])
