"""Relations learned from shared customers, refreshed by `crosspromo partners learn`."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crosspromo.db import Base, IdMixin, utcnow


class LearnedPair(IdMixin, Base):
    """What the platform saw between two businesses (a < b by id): never who, only how many."""

    __tablename__ = "learned_pairs"
    __table_args__ = (UniqueConstraint("business_a", "business_b"),)

    business_a: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    business_b: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    shared: Mapped[int]  # people who bought at both
    a_first: Mapped[int]  # of them, how many bought at a before their first purchase at b
    switched: Mapped[int]  # bought at one, then only at the other: a sign of substitution
    close: Mapped[int] = mapped_column(default=0)  # first purchases within CLOSE_DAYS
    lift: Mapped[float]  # shared / (n_a * n_b / people on the platform)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
