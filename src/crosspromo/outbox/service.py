"""Enqueue, claim and settle outbox messages; the worker loop lives in `worker.py`.

Delivery is at-least-once towards the outside world and at-most-once per lease inside it:
a worker claims a message by a conditional UPDATE that sets a lease, so two workers never
send the same message at the same time; a message is marked sent in the same breath as the
send returns. Only a crash between the send and that mark can repeat it, after the lease
expires; e-mails carry a Message-ID and webhooks an id derived from the outbox row so the
receiver can drop such a repeat.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crosspromo import paging
from crosspromo.db import utcnow
from crosspromo.errors import Conflict
from crosspromo.outbox.models import OutboxMessage, Status

LEASE = timedelta(minutes=5)
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)


def enqueue(session: Session, *, kind: str, key: str, payload: dict[str, Any]) -> None:
    """Add a message unless one with the same key exists; part of the caller's transaction."""
    enqueue_many(session, kind=kind, messages=[(key, payload)])


def backoff(attempts: int) -> timedelta:
    """Exponential delay with full jitter: 30 s, 1 min, 2 min ... capped at 6 h."""
    ceiling = min(MAX_DELAY, BASE_DELAY * (2 ** max(attempts - 1, 0)))
    return timedelta(seconds=random.uniform(ceiling.total_seconds() / 2, ceiling.total_seconds()))


def claim(
    session: Session,
    *,
    limit: int = 20,
    now: datetime | None = None,
    lease: timedelta = LEASE,
    kinds: Collection[str] | None = None,
    exclude: Collection[str] = (),
) -> list[uuid.UUID]:
    """Lease up to `limit` due messages to this worker in one statement; commit before sending.

    A worker that dies holding a lease leaves its messages to the others once it expires: the
    one it was sending may go twice (at least once), the rest exactly once. `kinds` and
    `exclude` pick which kinds of message this claim takes.
    """
    now = now or utcnow()
    free = or_(OutboxMessage.leased_until.is_(None), OutboxMessage.leased_until < now)
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == Status.pending, OutboxMessage.next_attempt_at <= now, free)
        .order_by(OutboxMessage.next_attempt_at)
        .limit(limit)
    )
    if kinds is not None:
        due = due.where(OutboxMessage.kind.in_(list(kinds)))
    if exclude:
        due = due.where(OutboxMessage.kind.not_in(list(exclude)))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # One UPDATE ... RETURNING for the whole batch. The due rows come from a materialised CTE:
    # as an `IN (subquery)` PostgreSQL may run the LIMIT ... SKIP LOCKED more than once and
    # lease more than `limit`. The conditions again, because on SQLite the CTE is not a lock
    # (there the write itself makes claims take turns).
    chosen = due.cte("due").prefix_with("MATERIALIZED")
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == chosen.c.id, OutboxMessage.status == Status.pending, free)
        .values(leased_until=now + lease, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())


def load(session: Session, ids: Sequence[uuid.UUID]) -> list[OutboxMessage]:
    if not ids:
        return []
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))))


def settle(
    session: Session,
    message: OutboxMessage,
    *,
    error: str | None = None,
    status: Status = Status.sent,
    max_attempts: int = 8,
    response_code: int | None = None,
) -> None:
    """Record the outcome of one attempt: sent, skipped, retried later, or given up."""
    now = utcnow()
    message.leased_until = None
    message.response_code = response_code
    if error is None:
        message.status = status
        message.sent_at = now
        return
    message.last_error = error[:2000]
    if message.attempts >= max_attempts:
        message.status = Status.dead
    else:
        message.next_attempt_at = now + backoff(message.attempts)


def settle_done(session: Session, ids: Sequence[uuid.UUID], *, status: Status) -> None:
    """Record many attempts that succeeded (sent) or had nothing to do (skipped), in one UPDATE."""
    if ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(list(ids)))
            .values(status=status, sent_at=utcnow(), leased_until=None)
            .execution_options(synchronize_session=False)
        )


def enqueue_many(
    session: Session, *, kind: str, messages: Sequence[tuple[str, dict[str, Any]]]
) -> None:
    """`enqueue` for many (key, payload) at once: one INSERT, keys already there kept once."""
    if not messages:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "kind": kind,
            "key": key[:300],
            "payload": payload,
            "status": Status.pending,
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": "",
            "created_at": now,
        }
        for key, payload in messages
    ]
    statement = dialect.insert(OutboxMessage).values(rows)
    session.execute(statement.on_conflict_do_nothing(index_elements=["key"]))


def defer(session: Session, message: OutboxMessage, until: datetime) -> None:
    """Try the message again at `until`; the attempt just claimed is not counted."""
    message.leased_until = None
    message.next_attempt_at = until
    message.attempts = max(message.attempts - 1, 0)


def purge_sent(session: Session, *, keep: timedelta, now: datetime | None = None) -> int:
    """Delete sent and skipped messages settled longer than `keep` ago; how many went."""
    cutoff = (now or utcnow()) - keep
    result = session.execute(
        delete(OutboxMessage)
        .where(
            OutboxMessage.status.in_([Status.sent, Status.skipped]),
            OutboxMessage.sent_at < cutoff,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def counts(session: Session) -> dict[str, int]:
    """Messages per status, for `crosspromo worker --status` and the health page."""
    from sqlalchemy import func

    rows = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    return {str(status.value if hasattr(status, "value") else status): n for status, n in rows}


def _keyed(kind: str, prefix: str) -> Any:
    return (OutboxMessage.kind == kind) & OutboxMessage.key.startswith(prefix, autoescape=True)


def keyed(
    session: Session, kind: str, prefix: str, *, limit: int = 50, cursor: str | None = None
) -> list[OutboxMessage]:
    """Messages of `kind` whose key starts with `prefix` (one endpoint's deliveries)."""
    query = select(OutboxMessage).where(_keyed(kind, prefix))
    order = (OutboxMessage.created_at, OutboxMessage.id)
    return list(session.scalars(paging.after(query, order, cursor).limit(limit)))


def page_key(message: OutboxMessage) -> tuple[Any, ...]:
    return (message.created_at, message.id)


def requeue(
    session: Session, kind: str, prefix: str, message_id: uuid.UUID
) -> OutboxMessage | None:
    """Send a message again soon with the same id; None if there is no such message.

    One waiting for its next try is tried now; a sent or given-up one is queued again with
    its retries counted from zero. One being sent right now is refused (Conflict).
    """
    message = session.scalar(
        select(OutboxMessage).where(OutboxMessage.id == message_id, _keyed(kind, prefix))
    )
    if message is None:
        return None
    if message.leased_until is not None and message.leased_until > utcnow():
        raise Conflict("This delivery is being sent right now.", kind="delivery-in-flight")
    message.status = Status.pending
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.leased_until = None
    session.flush()
    return message
