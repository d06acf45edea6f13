"""Keyset paging: rows with equal sort keys are never skipped nor repeated; bad cursors: 422."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from sqlalchemy.orm import Session

from crosspromo import paging
from crosspromo.errors import Invalid
from crosspromo.notifications import service as notifications
from crosspromo.notifications.models import Notification
from tests.conftest import make_owner, sign_in

keys = st.tuples(
    st.one_of(
        st.datetimes(timezones=st.just(UTC)),
        st.dates(),
        st.text(max_size=40),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
    ),
    st.uuids(),
)


@settings(max_examples=60, deadline=None)
@given(keys)
def test_a_cursor_carries_its_key_back(key: tuple[Any, uuid.UUID]) -> None:
    assert paging.decode(paging.encode(key), 2) == key


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "!!!!",
        _b64(b"\xff\xfe"),
        _b64(b"[1, 2]"),
        _b64(b'[["t", "yesterday"], ["u", "x"]]'),
        _b64(
            b'[["i", "99999999999999999999999"], ["u", "' + str(uuid.UUID(int=1)).encode() + b'"]]'
        ),
        _b64(b'[["q", "x"], ["u", "x"]]'),
        _b64(b'[["s", 5], ["u", "x"]]'),
        _b64(b'{"a": 1}'),
        paging.encode((date(2026, 1, 1),)),  # one key where two are expected
        "A" * 1000,
    ],
)
def test_a_cursor_not_made_here_is_invalid_not_an_error(cursor: str) -> None:
    with pytest.raises(Invalid) as refused:
        paging.decode(cursor, 2)
    assert refused.value.field == "cursor" and refused.value.status == 422


def _same_moment(db: Session, count: int) -> tuple[Any, set[uuid.UUID]]:
    user, business = make_owner(db, "a@example.com", "Bakery")
    for n in range(count):
        notifications.notify(
            db, business_id=business.id, kind="proposal.received", params={}, key=f"k{n}"
        )
    moment = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    db.execute(update(Notification).values(created_at=moment))
    db.commit()
    ids = {n.id for n in notifications.for_user(db, user.id, limit=100)}
    assert len(ids) == count
    return user, ids


def test_rows_with_equal_timestamps_are_never_skipped(db: Session) -> None:
    user, ids = _same_moment(db, 7)
    seen: list[uuid.UUID] = []
    cursor = None
    for _ in range(10):
        rows = notifications.for_user(db, user.id, limit=3, cursor=cursor)
        found, cursor = paging.page(rows, 2, lambda n: (n.created_at, n.id))
        seen += [n.id for n in found]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7 and set(seen) == ids


def test_the_api_pages_equal_timestamps_and_refuses_bad_cursors(
    client: TestClient, db: Session
) -> None:
    _, ids = _same_moment(db, 5)
    sign_in(client, "a@example.com")
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        body = client.get("/api/v1/notifications", params=params).json()
        seen += [n["id"] for n in body["items"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert sorted(seen) == sorted(str(i) for i in ids)
    bad = client.get("/api/v1/notifications", params={"cursor": "2026-11-01T12:00:00"})
    assert bad.status_code == 422, bad.text
    assert bad.json()["type"].endswith("/problems/validation")
