"""Defect 9 (PSI): an over-size body is refused before it is read; the work is off the loop."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from tests.conftest import make_owner


def _key(db: Session) -> tuple[str, str]:
    _, business = make_owner(db, "a@example.com", "Bakery")
    token, _ = accounts.create_api_key(db, business_id=business.id, role=Role.manager)
    db.commit()
    return token, str(business.id)


def test_psi_route_runs_off_the_event_loop() -> None:
    from crosspromo.overlap.api import psi_respond

    assert not inspect.iscoroutinefunction(psi_respond)  # FastAPI runs it in its thread pool


def test_declared_over_size_body_is_refused_unread(
    app: Any, client: TestClient, db: Session
) -> None:
    token, business_id = _key(db)
    app.state.settings.psi_max_request_bytes = 4096
    read: list[int] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        read.append(1)
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/overlap/psi",
        "raw_path": b"/api/v1/overlap/psi",
        "query_string": f"business_id={business_id}".encode(),
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/octet-stream"),
            (b"content-length", str(10**9).encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert start["status"] == 413
    assert (b"content-type", b"application/problem+json") in start["headers"]
    assert json.loads(body)["type"] == "/problems/too-large"
    assert read == []  # not one chunk of the gigabyte was read


def test_streamed_over_size_body_is_cut_at_the_limit(
    app: Any, client: TestClient, db: Session
) -> None:
    token, business_id = _key(db)
    app.state.settings.psi_max_request_bytes = 4096
    pulled: list[int] = []

    def chunks() -> Iterator[bytes]:
        for n in range(1000):  # 1000 x 1 KiB with no Content-Length
            pulled.append(n)
            yield b"x" * 1024

    answer = client.post(
        "/api/v1/overlap/psi",
        params={"business_id": business_id},
        content=chunks(),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 413, answer.text
    assert answer.json()["type"] == "/problems/too-large"
