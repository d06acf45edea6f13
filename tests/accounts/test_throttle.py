"""Defect 6: sign-in and sign-up are throttled; sign-up does not reveal a taken e-mail."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo.accounts.models import User
from crosspromo.outbox.models import OutboxMessage
from tests.conftest import PASSWORD, make_owner


def _client(app: Any) -> TestClient:
    """A client from an address of its own: the limiter's memory outlives one test."""
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    return TestClient(
        app, raise_server_exceptions=False, client=(f"{address}-{uuid.uuid4().hex[:6]}", 50000)
    )


def _csrf(client: TestClient, path: str) -> str:
    return client.get(path).text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _signin(client: TestClient, email: str, password: str) -> Any:
    return client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": _csrf(client, "/signin")},
        follow_redirects=False,
    )


def test_failed_sign_ins_are_limited_per_account(app: Any, db: Session) -> None:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    make_owner(db, email, "Bakery")
    app.state.settings.signin_failures_per_account = "3 per 15 minutes"
    with _client(app) as client:
        for _ in range(3):
            assert _signin(client, email, "wrong password").status_code == 401
        refused = _signin(client, email, PASSWORD)  # even the right password now waits
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert "Too many attempts" in refused.text
    with _client(app) as other:  # another address: the account is still protected
        assert _signin(other, email, PASSWORD).status_code == 429


def test_failed_sign_ins_are_limited_per_address(app: Any, db: Session) -> None:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    make_owner(db, email, "Bakery")
    app.state.settings.signin_failures_per_address = "4 per 15 minutes"
    with _client(app) as client:
        for n in range(4):
            assert _signin(client, f"nobody{n}@example.com", "x").status_code == 401
        assert _signin(client, email, PASSWORD).status_code == 429
    with _client(app) as other:
        assert _signin(other, email, PASSWORD).status_code == 303


def _signup(client: TestClient, email: str, **extra: str) -> Any:
    return client.post(
        "/signup",
        data={
            "csrf_token": _csrf(client, "/signup"),
            "email": email,
            "password": "a long password 1",
            "business_name": "New Cafe",
            "category": "amenity=cafe",
        }
        | extra,
        follow_redirects=False,
    )


def test_sign_up_does_not_reveal_a_taken_address(app: Any, db: Session) -> None:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    make_owner(db, email, "Bakery")
    with _client(app) as client:
        taken = _signup(client, email)
        assert taken.status_code == 303 and taken.headers["location"] == "/signup/sent"
        page = client.get("/signup/sent")
        assert page.status_code == 200 and "already exists" not in page.text
        assert "session" not in taken.cookies
        weak = _signup(client, email, password="short")  # other errors: no word of the e-mail
        assert weak.status_code == 422 and "already exists" not in weak.text
    assert db.scalar(select(func.count()).select_from(User).where(User.email == email)) == 1
    notices = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email")).all()
    assert [m.payload["to"] for m in notices] == [email]


def test_sign_ups_are_limited_per_address(app: Any, db: Session) -> None:
    app.state.settings.signup_rate_limit_per_address = "2 per hour"
    with _client(app) as client:
        for n in range(2):
            assert _signup(client, f"{uuid.uuid4().hex[:8]}{n}@example.com").status_code == 303
            client.cookies.clear()
        refused = _signup(client, f"{uuid.uuid4().hex[:8]}@example.com")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
