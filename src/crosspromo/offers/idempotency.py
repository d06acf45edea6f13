"""Idempotency-Key for writes a client may retry: same key and body, the stored answer.

The first request with a key inserts a placeholder row inside its own transaction. A second
request with the same key waits on that row's unique index (PostgreSQL) or the write lock
(SQLite) until the first commits, then finds the finished answer and returns it unchanged.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crosspromo.db import utcnow
from crosspromo.errors import DomainError, Invalid
from crosspromo.offers.models import IdempotentRequest


def body_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _insert(session: Session, values: dict[str, Any]) -> bool:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(IdempotentRequest)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["scope", "key"])
        .returning(IdempotentRequest.key)
    )
    return session.execute(statement).scalar() is not None


def begin(session: Session, scope: str, key: str, digest: str) -> tuple[int, dict[str, Any]] | None:
    """Claim the key for this request, or return the stored (status, body) of the first one."""
    if not 1 <= len(key) <= 200:
        raise Invalid("The Idempotency-Key takes 1 to 200 characters.", field="Idempotency-Key")
    values = {
        "scope": scope,
        "key": key,
        "request_hash": digest,
        "status_code": 0,
        "response": {},
        "created_at": utcnow(),
    }
    if _insert(session, values):
        return None
    stored = session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.scope == scope, IdempotentRequest.key == key
        )
    )
    assert stored is not None
    if stored.request_hash != digest:
        raise DomainError(
            "This Idempotency-Key was used with a different request body.",
            field="Idempotency-Key",
            kind="idempotency-key-reused",
            status=422,
            title="Invalid input",
        )
    return stored.status_code, stored.response


def finish(session: Session, scope: str, key: str, status: int, body: dict[str, Any]) -> None:
    """Store the answer on the claimed row, in the same transaction as the effect."""
    session.execute(
        update(IdempotentRequest)
        .where(IdempotentRequest.scope == scope, IdempotentRequest.key == key)
        .values(status_code=status, response=body)
    )


def remember_refusal(
    session: Session, scope: str, key: str, digest: str, status: int, body: dict[str, Any]
) -> None:
    """After a refusal rolled everything back, keep the refusal as the key's answer."""
    _insert(
        session,
        {
            "scope": scope,
            "key": key,
            "request_hash": digest,
            "status_code": status,
            "response": body,
            "created_at": utcnow(),
        },
    )
