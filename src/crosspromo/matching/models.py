"""Relations learned from shared customers, refreshed by `crosspromo partners learn`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
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


class CategoryRelation(IdMixin, Base):
    """What everyone's shared customers say about two categories (a < b), in a city or all ('').

    Only counts over many business pairs: a row describes categories, never one business.
    """

    __tablename__ = "category_relations"
    __table_args__ = (UniqueConstraint("category_a", "category_b", "city"),)

    category_a: Mapped[str] = mapped_column(String(100))
    category_b: Mapped[str] = mapped_column(String(100))
    city: Mapped[str] = mapped_column(String(100), default="")  # casefolded; '' = every city
    candidate_pairs: Mapped[int]  # business pairs that could share customers (same city)
    business_pairs: Mapped[int]  # of them, pairs that do share someone
    shared: Mapped[int]  # people who bought at both, summed over the pairs
    expected: Mapped[float]  # what chance alone would have shared (independence)
    a_first: Mapped[int]  # of the shared, bought at the category_a business first
    switched: Mapped[int]
    close: Mapped[int]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class LearningState(Base):
    """One row: when relations were last learned and up to which import (incremental runs)."""

    __tablename__ = "learning_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    learned_at: Mapped[datetime | None] = mapped_column(default=None)
    full_at: Mapped[datetime | None] = mapped_column(default=None)  # last run over everyone
    # Receipts have increasing integer ids: those above this mark arrived after the last run.
    last_transaction: Mapped[int] = mapped_column(BigInteger, default=0)
    people: Mapped[int] = mapped_column(default=0)
    pairs: Mapped[int] = mapped_column(default=0)
    # What results taught (matching.feedback): fitted criteria weights, outcomes by category pair.
    feedback: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class FrameVersion(Base):
    """One row: a new stamp whenever businesses or their customer counts change.

    Suggestions keep every business's columns in memory (`service.cached_frame`); this row
    tells each process, in one primary-key read, that its copy is out of date. A random stamp
    rather than a counter: a bump that is rolled back can never be mistaken for a later one.
    """

    __tablename__ = "frame_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    stamp: Mapped[uuid.UUID] = mapped_column(default=uuid.uuid4)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
