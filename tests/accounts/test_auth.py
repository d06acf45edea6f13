"""Sign-up, sign-in, sign-out, password change, CSRF and API keys through HTTP."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from tests.conftest import PASSWORD, make_owner, sign_in


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_signup_creates_user_workspace_business_and_signs_in(client: TestClient) -> None:
    token = _csrf(client.get("/signup").text)
    response = client.post(
        "/signup",
        data={
            "csrf_token": token,
            "email": "Owner@Example.com",
            "password": "longenough1",
            "name": "Anna",
            "business_name": "Хлеб да соль",
            "category": "shop=bakery",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("/profile")
    profile = client.get(response.headers["location"])
    assert profile.status_code == 200
    assert "Хлеб да соль" in profile.text
    me = client.get("/api/v1/me").json()
    assert me["email"] == "owner@example.com"
    assert list(me["roles"].values()) == ["owner"]


def test_signup_rejects_bad_input_and_saves_nothing(client: TestClient, db: Session) -> None:
    token = _csrf(client.get("/signup").text)
    response = client.post(
        "/signup",
        data={
            "csrf_token": token,
            "email": "not-an-email",
            "password": "short",
            "business_name": "",
            "category": "shop=unicorns",
        },
    )
    assert response.status_code == 422
    assert "unknown category" in response.text
    assert "not a valid e-mail" in response.text
    from sqlalchemy import func, select

    from crosspromo.accounts.models import User

    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_signin_wrong_password_and_signout(client: TestClient, db: Session) -> None:
    make_owner(db, "owner@example.com", "Bakery")
    token = _csrf(client.get("/signin").text)
    bad = client.post(
        "/signin",
        data={
            "csrf_token": token,
            "email": "owner@example.com",
            "password": "wrong-password",
            "next": "/",
        },
    )
    assert bad.status_code == 401
    assert "Wrong e-mail or password" in bad.text
    csrf = sign_in(client, "owner@example.com")
    assert client.get("/api/v1/me").status_code == 200
    out = client.post("/signout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/", follow_redirects=False).headers["location"] == "/signin"


def test_form_without_csrf_is_refused(client: TestClient, db: Session) -> None:
    make_owner(db, "owner@example.com", "Bakery")
    client.get("/signin")
    response = client.post("/signin", data={"email": "owner@example.com", "password": PASSWORD})
    assert response.status_code == 403
    assert "form expired" in response.text


def test_open_redirect_after_signin_is_blocked(client: TestClient, db: Session) -> None:
    make_owner(db, "owner@example.com", "Bakery")
    token = _csrf(client.get("/signin").text)
    response = client.post(
        "/signin",
        data={
            "csrf_token": token,
            "email": "owner@example.com",
            "password": PASSWORD,
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_password_change_requires_current_and_signs_out_other_sessions(
    app: Any, client: TestClient, db: Session
) -> None:
    make_owner(db, "owner@example.com", "Bakery")
    other = TestClient(app)
    sign_in(other, "owner@example.com")
    csrf = sign_in(client, "owner@example.com")
    wrong = client.post(
        "/account/password",
        data={"csrf_token": csrf, "current_password": "nope", "new_password": "another-secret"},
    )
    assert wrong.status_code == 422
    assert "current password is wrong" in wrong.text
    ok = client.post(
        "/account/password",
        data={"csrf_token": csrf, "current_password": PASSWORD, "new_password": "another-secret"},
    )
    assert ok.status_code == 200
    assert client.get("/api/v1/me").status_code == 200  # this browser got a new session
    assert other.get("/api/v1/me").status_code == 401
    db.expire_all()
    user = accounts.authenticate(db, email="owner@example.com", password="another-secret")
    assert user.email == "owner@example.com"


def test_api_key_is_shown_once_stored_hashed_and_scoped(client: TestClient, db: Session) -> None:
    _, business = make_owner(db, "owner@example.com", "Bakery")
    token, key = accounts.create_api_key(db, business_id=business.id, role=Role.cashier)
    db.commit()
    assert token not in key.secret_hash
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/businesses/{business.id}", headers=headers).status_code == 200
    # a cashier cannot edit the profile
    response = client.patch(
        f"/api/v1/businesses/{business.id}", headers=headers, json={"name": "New"}
    )
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/forbidden"
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer cpk_nope_nope"})
    assert bad.status_code == 401
    assert bad.headers["content-type"].startswith("application/problem+json")


def test_owner_creates_and_revokes_api_keys_over_api(client: TestClient, db: Session) -> None:
    _, business = make_owner(db, "owner@example.com", "Bakery")
    csrf = sign_in(client, "owner@example.com")
    created = client.post(
        f"/api/v1/businesses/{business.id}/api-keys",
        json={"role": "manager", "name": "till 1"},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    listed = client.get(f"/api/v1/businesses/{business.id}/api-keys").json()
    assert "key" not in listed[0]
    with TestClient(client.app) as script:
        auth = {"Authorization": f"Bearer {key}"}
        ok = script.patch(f"/api/v1/businesses/{business.id}", headers=auth, json={"price_tier": 3})
        assert ok.status_code == 200
        revoked = client.delete(
            f"/api/v1/businesses/{business.id}/api-keys/{created.json()['id']}",
            headers={"X-CSRF-Token": csrf},
        )
        assert revoked.status_code == 200
        assert script.get("/api/v1/me", headers=auth).status_code == 401


def test_cookie_api_write_needs_csrf_header(client: TestClient, db: Session) -> None:
    _, business = make_owner(db, "owner@example.com", "Bakery")
    sign_in(client, "owner@example.com")
    response = client.patch(f"/api/v1/businesses/{business.id}", json={"price_tier": 3})
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/csrf"
