"""Referral links on both engines: clicks counted and logged, the paid-click rule, the page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo.db import utcnow
from crosspromo.offers import referrals
from crosspromo.offers.models import Accrual, Click, Code
from tests.conftest import sign_in
from tests.offers.conftest import make_offer
from tests.offers.partners import agree, link_codes

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
PER_CLICK = {"payment_model": "per_click", "payment_minor": 500, "currency": "RUB"}


def _link(client: TestClient, p: dict[str, Any], **offer: Any) -> tuple[dict[str, Any], str]:
    made = make_offer(client, p, p["campaign_id"], **offer)
    found = link_codes(
        client, p, made, kind="link", staff_user_id=str(p["user_a"].id), label="Anna, bakery"
    )
    assert [c["kind"] for c in found] == ["link"]
    return made, found[0]["code"]


def _take(client: TestClient, token: str, headers: dict[str, str]) -> Any:
    landing = client.get(f"/r/{token}", headers=headers)
    csrf = landing.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return client.post(
        f"/r/{token}", headers=headers, data={"csrf_token": csrf}, follow_redirects=False
    )


def test_clicks_are_counted_logged_and_paid_once_per_address_and_day(
    client: TestClient, db: Session
) -> None:
    p = agree(client, db, **PER_CLICK)
    _, token = _link(client, p)
    first = client.get(f"/r/{token}", headers=BROWSER)
    assert first.status_code == 200, first.text
    assert "Get my code" in first.text
    again = client.get(f"/r/{token.lower().replace('-', '')}", headers=BROWSER)
    assert again.status_code == 200
    preview = client.get(f"/r/{token}", headers={"User-Agent": "TelegramBot (like TwitterBot)"})
    assert preview.status_code == 200
    # visits (and link previews) are logged, never paid
    assert db.scalar(select(func.count()).select_from(Accrual)) == 0

    taken = _take(client, token, BROWSER)  # the person acts: a visit and the paid click
    assert taken.status_code == 303 and taken.headers["location"].endswith("?code=1")
    shown = client.get(taken.headers["location"], headers=BROWSER)
    assert token in shown.text and "<svg" in shown.text
    assert _take(client, token, BROWSER).status_code == 303  # same address, same day: unpaid
    bot = _take(client, token, {"User-Agent": "TelegramBot (like TwitterBot)"})
    assert bot.status_code == 303

    db.expire_all()
    code = db.scalar(select(Code).where(Code.kind == "link"))
    assert code is not None and code.clicks == 6
    clicks = db.scalars(select(Click).order_by(Click.at)).all()
    assert len(clicks) == 7  # six visits and one paid take
    assert sum(c.paid_on is not None for c in clicks) == 1
    assert all(c.address_hash != "testclient" and len(c.address_hash) == 64 for c in clicks)
    assert clicks[2].user_agent.startswith("TelegramBot")
    paid = db.scalars(select(Accrual).where(Accrual.kind == "click")).all()
    assert [(a.amount_minor, a.currency) for a in paid] == [(500, "RUB")]
    assert paid[0].payer_business_id == p["cafe"].id
    assert paid[0].payee_business_id == p["bakery"].id
    assert paid[0].redemption_id is None and paid[0].code_id == code.id

    # a forged cross-site POST without the page's token is refused
    forged = client.post(f"/r/{token}", headers=BROWSER, follow_redirects=False)
    assert forged.status_code in (400, 403)

    # another address the same day, and the first address the next day: paid again
    secret = "test-secret"
    referrals.click(
        db,
        token,
        address="10.0.0.2",
        user_agent=BROWSER["User-Agent"],
        accept_language="",
        secret_key=secret,
        taken=True,
    )
    referrals.click(
        db,
        token,
        address="testclient",
        user_agent=BROWSER["User-Agent"],
        accept_language="",
        secret_key=secret,
        taken=True,
        now=utcnow() + timedelta(days=1),
    )
    db.commit()
    assert db.scalar(select(func.count()).select_from(Accrual).where(Accrual.kind == "click")) == 3
    db.expire_all()
    assert db.get(Code, code.id).clicks == 6  # type: ignore[union-attr]  (takes are not visits)


def test_clicks_under_barter_are_logged_not_paid(client: TestClient, db: Session) -> None:
    p = agree(client, db)
    _, token = _link(client, p)
    # the campaign page lists the link's full address, with a copy button
    sign_in(client, "a@example.com")
    page = client.get(f"/b/{p['bakery'].id}/campaigns/{p['campaign_id']}").text
    url = f"{client.app.state.settings.public_url.rstrip('/')}/r/{token}"
    assert f'value="{url}"' in page and f'data-copy="{url}"' in page and "Anna, bakery" in page
    assert client.get(f"/r/{token}", headers=BROWSER).status_code == 200
    assert db.scalar(select(func.count()).select_from(Click)) == 1
    assert db.scalar(select(func.count()).select_from(Accrual)) == 0


def test_landing_page_speaks_the_customers_language(client: TestClient, db: Session) -> None:
    p = agree(client, db)
    until = date(2031, 3, 15)
    _, token = _link(client, p, valid_until=until.isoformat(), days=[5, 6], min_order_minor=50000)
    ru = client.get(f"/r/{token}?code=1", headers=BROWSER | {"Accept-Language": "ru-RU,ru;q=0.9"})
    assert ru.status_code == 200
    assert '<html lang="ru">' in ru.text
    assert "15 марта 2031" in ru.text  # Babel's long date in Russian
    assert "суббота" in ru.text and "воскресенье" in ru.text
    assert "500,00" in ru.text and "₽" in ru.text
    en = client.get(f"/r/{token}?code=1", headers=BROWSER | {"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in en.text
    assert "March 15, 2031" in en.text and "Saturday, Sunday" in en.text
    for page in (ru.text, en.text):
        assert "10% off coffee for bakery customers" in page
        assert "Cafe" in page and "Mira 5, Perm" in page and "+79120000009" in page
        assert "Bakery" in page and "Anna, bakery" in page
        assert token in page
    assert "Recommended by Bakery" in en.text and "Show this code at the till" in en.text


def test_unknown_link_is_a_friendly_404(client: TestClient, db: Session) -> None:
    for token in ("ZZZZ-ZZZZ-ZZZZ", "x", "no such link at all"):
        missing = client.get(f"/r/{token}", headers={"Accept": "text/html"})
        assert missing.status_code == 404
        assert "text/html" in missing.headers["content-type"]
        assert "This link is not known" in missing.text
    assert db.scalar(select(func.count()).select_from(Click)) == 0


def test_landing_page_of_a_stopped_campaign_offers_no_code(client: TestClient, db: Session) -> None:
    p = agree(client, db)
    _, token = _link(client, p)
    moved = client.post(
        f"/api/v1/campaigns/{p['campaign_id']}/stage",
        headers=p["bakery_manager"],
        json={"to": "results"},
    )
    assert moved.status_code == 200, moved.text
    for shown in ("", "?code=1"):
        page = client.get(f"/r/{token}{shown}", headers=BROWSER).text
        assert "not running at the moment" in page
        assert "Show this code at the till" not in page and "Get my code" not in page
