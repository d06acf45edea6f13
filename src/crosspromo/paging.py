"""Keyset paging for every list: opaque cursors over (sort key..., id).

    stmt = paging.after(select(Campaign).where(...), (Campaign.created_at, Campaign.id), cursor)
    rows = list(session.scalars(stmt.limit(limit + 1)))
    items, next_cursor = paging.page(rows, limit, lambda c: (c.created_at, c.id))

The last column is a unique tie-break (the row's id), so rows that share a sort key (two
campaigns created in the same microsecond) are never skipped nor repeated across pages. The
cursor is the URL-safe base64 of the last row's key: clients pass it back untouched. A cursor
this module did not make is a 422 `validation` problem naming the `cursor` field, never a 500.
The `cursor` query parameter itself is `crosspromo.web.query.Cursor` (this module knows no HTTP).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import QueryableAttribute

from crosspromo.errors import Invalid

T = TypeVar("T")
Row = TypeVar("Row")
Statement = TypeVar("Statement", bound=Select[*tuple[Any, ...]])
Column = ColumnElement[Any] | QueryableAttribute[Any]
MAX_CURSOR = 400  # characters: a few keys and an id, base64-encoded

__all__ = ["MAX_CURSOR", "Page", "after", "decode", "encode", "page"]


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next (null: the end)."""

    items: list[T]
    next_cursor: str | None


def _tag(value: Any) -> list[str]:
    # datetime before date: a datetime is a date too.
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    if isinstance(value, uuid.UUID):
        return ["u", str(value)]
    if isinstance(value, bool):
        raise TypeError("booleans are no sort key")
    if isinstance(value, int):
        return ["i", str(value)]
    if isinstance(value, str):
        return ["s", value]
    raise TypeError(f"cannot page by {type(value).__name__}")


def _untag(item: Any) -> Any:
    kind, text = item
    if not isinstance(text, str):
        raise ValueError(text)
    match kind:
        case "t":
            return datetime.fromisoformat(text)
        case "d":
            return date.fromisoformat(text)
        case "u":
            return uuid.UUID(text)
        case "i":
            return int(text)
        case "s":
            return text
    raise ValueError(kind)


def encode(key: Sequence[Any]) -> str:
    """The opaque cursor for a row whose sort key (ending with its id) is `key`."""
    raw = json.dumps([_tag(v) for v in key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str, size: int) -> tuple[Any, ...]:
    """The key a cursor from `encode` carries; Invalid (422) for anything else."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        items = json.loads(raw.decode())
        if not isinstance(items, list) or len(items) != size:
            raise ValueError("wrong size")
        key = tuple(_untag(item) for item in items)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
        raise Invalid("This cursor was not given by this list.", field="cursor") from None
    for value in key:
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise Invalid("This cursor was not given by this list.", field="cursor")
    return key


def after(
    stmt: Statement,
    order: Sequence[Column],
    cursor: str | None,
    *,
    descending: bool = True,
) -> Statement:
    """`stmt` ordered by `order` (the last column unique) and started after `cursor`."""
    columns = list(order)
    if cursor:
        key = decode(cursor, len(columns))
        stmt = stmt.where(_beyond(columns, key, descending))
    return stmt.order_by(*(c.desc() if descending else c.asc() for c in columns))


def _beyond(columns: list[Column], key: tuple[Any, ...], descending: bool) -> Any:
    """(c1, c2, ...) strictly after key in the order: spelled out, so both engines compare
    each column with its own type (row values would bypass the UTC datetime type)."""
    head, value = columns[0], key[0]
    beyond = head < value if descending else head > value
    if len(columns) == 1:
        return beyond
    return or_(beyond, and_(head == value, _beyond(columns[1:], key[1:], descending)))


def page(
    rows: Sequence[Row], limit: int, key: Callable[[Row], Sequence[Any]]
) -> tuple[list[Row], str | None]:
    """A page from `limit + 1` rows read: the first `limit`, and the cursor after the last
    when there are more."""
    items = list(rows[:limit])
    if len(rows) <= limit or not items:
        return items, None
    return items, encode(key(items[-1]))
