"""The partner pipeline of a business: entries by stage, their activity log, targets per
manager and month, and what each side of an agreement delivered (for the reciprocity view).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from crosspromo.db import Base, IdMixin, utcnow


class Stage(enum.StrEnum):
    prospect = "prospect"
    contacted = "contacted"
    meeting = "meeting"
    proposal = "proposal"
    negotiating = "negotiating"
    active = "active"
    paused = "paused"
    ended = "ended"


class Kind(enum.StrEnum):
    call = "call"
    meeting = "meeting"
    note = "note"
    email = "email"
    order = "order"


StageType = Enum(Stage, name="stage", native_enum=False, length=16)


class PipelineEntry(IdMixin, Base):
    """One partner (on the platform or not) in one business's pipeline."""

    __tablename__ = "pipeline_entries"
    # One entry per proposal and side, so the automatic sync cannot double an entry.
    __table_args__ = (
        UniqueConstraint("business_id", "proposal_id"),
        # the board reads each stage's column oldest first
        Index("ix_pipeline_entries_board", "business_id", "stage", "created_at", "id"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    partner_business_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("businesses.id", ondelete="SET NULL"), default=None
    )
    partner_name: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(300), default="")
    stage: Mapped[Stage] = mapped_column(StageType, default=Stage.prospect)
    manager_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    next_follow_up_on: Mapped[date | None] = mapped_column(Date, default=None, index=True)
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("proposals.id", ondelete="SET NULL"), default=None, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Activity(IdMixin, Base):
    """A call, meeting, note, e-mail or order; stage changes are notes with from/to stage."""

    __tablename__ = "pipeline_activities"
    __table_args__ = (CheckConstraint("amount_minor IS NULL OR amount_minor >= 0", name="amount"),)

    entry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("pipeline_entries.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[Kind] = mapped_column(Enum(Kind, name="kind", native_enum=False, length=16))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    text: Mapped[str] = mapped_column(Text, default="")
    amount_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    follow_up_on: Mapped[date | None] = mapped_column(Date, default=None)
    from_stage: Mapped[Stage | None] = mapped_column(StageType, default=None)
    to_stage: Mapped[Stage | None] = mapped_column(StageType, default=None)


class Target(IdMixin, Base):
    """What an owner expects of one manager in one month."""

    __tablename__ = "pipeline_targets"
    __table_args__ = (
        UniqueConstraint("business_id", "user_id", "month"),
        CheckConstraint(
            "partners >= 0 AND calls_per_day >= 0 AND meetings >= 0 AND order_sum_minor >= 0",
            name="non_negative",
        ),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    partners: Mapped[int] = mapped_column(default=0)
    calls_per_day: Mapped[int] = mapped_column(default=0)
    meetings: Mapped[int] = mapped_column(default=0)
    order_sum_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Delivery(IdMixin, Base):
    """Something one side of an agreement delivered against an exchange or indicator."""

    __tablename__ = "pipeline_deliveries"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity"),)

    proposal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    what: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
