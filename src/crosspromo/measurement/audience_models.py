"""Control groups: a campaign's audience at an issuing member, split into treatment and holdout."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crosspromo.db import Base, IdMixin, utcnow


class Arm(enum.StrEnum):
    treatment = "treatment"  # gets the code or the message
    holdout = "holdout"  # gets nothing: the comparison that makes uplift measurable


class Audience(IdMixin, Base):
    """The control-group setting of one campaign at one issuing member, and its draw."""

    __tablename__ = "campaign_audiences"
    __table_args__ = (UniqueConstraint("campaign_id", "business_id"),)

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    holdout_bp: Mapped[int] = mapped_column(default=1000)  # 1000 = 10 % held out
    # Optional filters: bought within this many days; spent at least this much (minor units).
    recency_days: Mapped[int | None] = mapped_column(default=None)
    min_spend_minor: Mapped[int | None] = mapped_column(default=None)
    drawn_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AudienceMember(Base):
    """One customer's arm; written once when the codes are issued and never re-drawn."""

    __tablename__ = "campaign_audience_members"
    __table_args__ = (Index("ix_campaign_audience_members_arm", "campaign_id", "arm"),)

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    arm: Mapped[Arm] = mapped_column(Enum(Arm, native_enum=False, length=9))
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)
