"""Measurement: indicators that are not in sales, entered or imported per business and day."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crosspromo.db import Base, IdMixin, utcnow


class IndicatorValue(IdMixin, Base):
    """One reading of an indicator (subscribers, reviews, complaints...) on a local day."""

    __tablename__ = "indicator_values"
    __table_args__ = (UniqueConstraint("business_id", "indicator", "day"),)

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    indicator: Mapped[str] = mapped_column(String(32))
    day: Mapped[date]
    value: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    source: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
