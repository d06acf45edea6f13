"""Saturation answers 503 with Retry-After, never 500: a pool with no free connection, a
database that says it is busy, and requests queued past their wait at admission."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from crosspromo.app import create_app
from crosspromo.settings import Settings
from crosspromo.web.admission import Admission
from crosspromo.web.problems import transient


def test_an_exhausted_pool_answers_503_with_retry_after(
    settings: Settings, world: dict[str, Any]
) -> None:
    tight = settings.model_copy(
        update={"db_pool_size": 1, "db_max_overflow": 0, "db_pool_timeout": 0.2}
    )
    app = create_app(tight)
    held = app.state.engine.connect()  # the only connection, taken by someone else
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            answer = client.get("/api/v1/me", headers=world["headers"])
    finally:
        held.close()
        app.state.engine.dispose()
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == str(tight.retry_after_seconds)
    assert answer.json()["type"] == "/problems/unavailable"


class _Orig(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("orig", "busy"),
    [
        (_Orig("sorry, too many clients already", "53300"), True),
        (_Orig("canceling statement due to lock timeout", "55P03"), True),
        (_Orig("deadlock detected", "40P01"), True),
        (_Orig("database is locked"), True),
        (_Orig('relation "nope" does not exist', "42P01"), False),
        (_Orig("no such table: nope"), False),
    ],
)
def test_busy_database_errors_are_told_from_bugs(orig: _Orig, busy: bool) -> None:
    assert transient(OperationalError("SELECT 1", {}, orig)) is busy


def test_requests_queued_past_their_wait_get_503() -> None:
    release = asyncio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app = Admission(slow, slots=2, wait_seconds=0.2, retry_after=7)

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            first = [asyncio.create_task(client.get("/api/x")) for _ in range(2)]
            await asyncio.sleep(0.05)
            late = await client.get("/api/x")  # both slots taken: waits, then 503
            release.set()
            return [late, *await asyncio.gather(*first)]

    late, *served = asyncio.run(run())
    assert late.status_code == 503 and late.headers["retry-after"] == "7"
    assert late.json()["type"] == "/problems/unavailable"
    assert [r.status_code for r in served] == [200, 200]
