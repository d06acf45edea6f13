"""The outbox: one row per message to deliver, claimed by a worker with a lease."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crosspromo.db import Base, IdMixin, utcnow


class Status(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    skipped = "skipped"  # nothing to send it with (no SMTP configured)
    dead = "dead"  # gave up after the last retry


class OutboxMessage(IdMixin, Base):
    __tablename__ = "outbox"

    kind: Mapped[str] = mapped_column(String(16))  # email | webhook
    # The same effect enqueued twice (a retried request, a re-run job) is stored once.
    key: Mapped[str] = mapped_column(String(300), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[Status] = mapped_column(
        Enum(Status, native_enum=False, length=16), default=Status.pending
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    leased_until: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # The HTTP status the receiver answered on the last attempt (webhooks); None before any
    # answer, or when the attempt never reached an answer (refused target, timeout).
    response_code: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
