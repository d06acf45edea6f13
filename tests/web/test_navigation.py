"""Navigation: every business page carries its sections; each role lands where its day starts."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from crosspromo.businesses import service as businesses
from crosspromo.businesses.schemas import BusinessCreate
from tests.conftest import PASSWORD, make_owner, sign_in


def test_owner_sees_every_section_on_every_business_page(client: TestClient, db: Session) -> None:
    _, bakery = make_owner(db, "owner@example.com", "Bakery")
    sign_in(client, "owner@example.com")
    for path in ("", "/campaigns", "/proposals", "/till"):
        html = client.get(f"/b/{bakery.id}{path}").text
        for section in ("/till", "/partners", "/proposals", "/campaigns", "/statements", "/team"):
            assert f'href="/b/{bakery.id}{section}"' in html, (path, section)
    current = client.get(f"/b/{bakery.id}/campaigns").text
    assert f'<a href="/b/{bakery.id}/campaigns" aria-current="page">' in current


def test_cashier_lands_on_the_till_and_sees_no_revenue(client: TestClient, db: Session) -> None:
    _, bakery = make_owner(db, "owner@example.com", "Bakery")
    cashier = accounts.create_user(db, email="till@example.com", password=PASSWORD)
    accounts.grant(db, user=cashier, workspace_id=bakery.workspace_id, role=Role.cashier)
    db.commit()
    sign_in(client, "till@example.com")
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"] == f"/b/{bakery.id}/till"
    dashboard = client.get(f"/b/{bakery.id}", follow_redirects=False)
    assert dashboard.status_code == 303 and dashboard.headers["location"].endswith("/till")
    till = client.get(f"/b/{bakery.id}/till").text
    assert f'href="/b/{bakery.id}/till"' in till
    assert f'href="/b/{bakery.id}/statements"' not in till
    assert f'href="/b/{bakery.id}/team"' not in till


def test_sign_in_returns_to_the_business_last_used(client: TestClient, db: Session) -> None:
    owner, first = make_owner(db, "owner@example.com", "Aardvark Bakery")
    second = businesses.create(
        db,
        workspace_id=first.workspace_id,
        data=BusinessCreate(name="Zebra Cafe", category="amenity=cafe"),
    )
    db.commit()
    sign_in(client, "owner@example.com")
    assert client.get("/", follow_redirects=False).headers["location"] == f"/b/{first.id}"
    client.get(f"/b/{second.id}")
    assert client.get("/", follow_redirects=False).headers["location"] == f"/b/{second.id}"


def test_switcher_works_without_javascript(client: TestClient, db: Session) -> None:
    _, bakery = make_owner(db, "owner@example.com", "Bakery")
    _, other = make_owner(db, "other@example.com", "Other")
    sign_in(client, "owner@example.com")
    page = client.get(f"/b/{bakery.id}").text
    assert 'action="/switch"' in page and "onchange" not in page
    go = client.get("/switch", params={"business": str(bakery.id)}, follow_redirects=False)
    assert go.headers["location"] == f"/b/{bakery.id}"
    # Another tenant's business is not offered and not opened.
    away = client.get("/switch", params={"business": str(other.id)}, follow_redirects=False)
    assert away.headers["location"] == "/"
