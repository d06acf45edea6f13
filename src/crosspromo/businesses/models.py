"""Business profiles."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crosspromo.db import Base, IdMixin, utcnow


class Business(IdMixin, Base):
    __tablename__ = "businesses"
    __table_args__ = (
        CheckConstraint("price_tier BETWEEN 1 AND 4", name="price_tier"),
        CheckConstraint("avg_check_minor IS NULL OR avg_check_minor >= 0", name="avg_check"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100), index=True)
    price_tier: Mapped[int] = mapped_column(default=2)
    avg_check_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    currency: Mapped[str] = mapped_column(String(3))
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    lat: Mapped[float | None] = mapped_column(default=None)
    lon: Mapped[float | None] = mapped_column(default=None)
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    customers_per_month: Mapped[int | None] = mapped_column(default=None)
    newsletter_subscribers: Mapped[int | None] = mapped_column(default=None)
    social_followers: Mapped[int | None] = mapped_column(default=None)
    site_visitors_per_month: Mapped[int | None] = mapped_column(default=None)
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    online_only: Mapped[bool] = mapped_column(default=False)
    open_to_partnerships: Mapped[bool] = mapped_column(default=True)
    allow_overlap_discovery: Mapped[bool] = mapped_column(default=False)
    # Gross margin on sales in basis points (3000 = 30 %): turns incremental revenue into profit.
    margin_bp: Mapped[int] = mapped_column(default=3000, server_default="3000")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
