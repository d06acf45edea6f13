"""A business's customers: clear contact details for the owner, keyed hashes for matching."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crosspromo.db import Base, IdMixin, utcnow


class Customer(IdMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("business_id", "external_id"),
        Index("ix_customers_email_hash", "email_hash"),
        Index("ix_customers_phone_hash", "phone_hash"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    # HMAC-SHA256 with the install secret; lets the platform count shared customers
    # across businesses without anyone being able to rebuild them from a phone book.
    email_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    phone_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    marketing_consent: Mapped[bool] = mapped_column(default=False)
    consent_at: Mapped[date | None] = mapped_column(default=None)
    consent_source: Mapped[str] = mapped_column(String(100), default="")
    first_seen: Mapped[date | None] = mapped_column(default=None)
    row_hash: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
