"""A campaign, its members, budget lines, tasks and metric snapshots."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crosspromo.db import Base, IdMixin, utcnow


class Stage(enum.StrEnum):
    preparation = "preparation"
    agreed = "agreed"
    running = "running"
    results = "results"
    closed = "closed"


class Metric(enum.StrEnum):
    revenue = "revenue"
    receipts = "receipts"
    average_check = "average_check"
    customers = "customers"


class GoalKind(enum.StrEnum):
    increase_by = "increase_by"  # +600,000 in sales over the baseline
    increase_percent = "increase_percent"  # +25 %
    reach = "reach"  # an average check of 1,350


class Campaign(IdMixin, Base):
    __tablename__ = "campaigns"

    proposal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    created_by_business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id"))
    title: Mapped[str] = mapped_column(String(200))
    stage: Mapped[Stage] = mapped_column(
        Enum(Stage, native_enum=False, length=16), default=Stage.preparation
    )
    currency: Mapped[str] = mapped_column(String(3))
    starts_on: Mapped[date | None] = mapped_column(default=None)
    ends_on: Mapped[date | None] = mapped_column(default=None)
    # The goal: whose figures, which metric, what change, by when.
    goal_business_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("businesses.id"), default=None
    )
    goal_metric: Mapped[Metric | None] = mapped_column(
        Enum(Metric, native_enum=False, length=16), default=None
    )
    goal_kind: Mapped[GoalKind | None] = mapped_column(
        Enum(GoalKind, native_enum=False, length=20), default=None
    )
    # Minor units for money metrics, a count for counts, basis points for percent goals.
    goal_target: Mapped[int | None] = mapped_column(default=None)
    goal_deadline: Mapped[date | None] = mapped_column(default=None)
    # The closing analysis (DOMAIN.md step 10).
    goal_met: Mapped[bool | None] = mapped_column(default=None)
    why: Mapped[str] = mapped_column(Text, default="")
    keep: Mapped[str] = mapped_column(Text, default="")
    cut: Mapped[str] = mapped_column(Text, default="")
    next_action: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Member(IdMixin, Base):
    __tablename__ = "campaign_members"
    __table_args__ = (UniqueConstraint("campaign_id", "business_id"),)

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )


class BudgetItem(IdMixin, Base):
    __tablename__ = "campaign_budget"

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id"))
    item: Mapped[str] = mapped_column(String(20))  # materials, discounts, bonus_products...
    description: Mapped[str] = mapped_column(String(300), default="")
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    hours: Mapped[int | None] = mapped_column(default=None)  # staff hours x hourly cost
    hourly_cost_minor: Mapped[int | None] = mapped_column(default=None)


class TaskStatus(enum.StrEnum):
    todo = "todo"
    doing = "doing"
    done = "done"


class Task(IdMixin, Base):
    __tablename__ = "campaign_tasks"
    __table_args__ = (
        Index("ix_campaign_tasks_campaign_due", "campaign_id", "due_on"),
        # The plan's order (service.tasks): the first page comes from the index, not a sort.
        Index("ix_campaign_tasks_plan", "campaign_id", "rehearsal", "due_on", "title", "id"),
    )

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id"))
    title: Mapped[str] = mapped_column(String(300))
    rehearsal: Mapped[bool] = mapped_column(default=False)  # the staff rehearsal checklist
    assignee_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    due_on: Mapped[date | None] = mapped_column(default=None, index=True)
    status: Mapped[TaskStatus] = mapped_column(
        Enum(TaskStatus, native_enum=False, length=8), default=TaskStatus.todo
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Snapshot(IdMixin, Base):
    __tablename__ = "campaign_snapshots"
    __table_args__ = (UniqueConstraint("campaign_id", "business_id", "moment"),)

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id"))
    moment: Mapped[str] = mapped_column(String(8))  # baseline | final
    period_start: Mapped[date]
    period_end: Mapped[date]
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
