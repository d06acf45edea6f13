"""Sales: receipts and orders imported from cash registers, 1C, CRMs."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crosspromo.db import Base


class Transaction(Base):
    __tablename__ = "transactions"
    __table_args__ = (
        UniqueConstraint("business_id", "external_id"),
        Index("ix_transactions_business_at", "business_id", "at"),
        # (customer_id, at): learning reads first and last purchase per customer from it alone
        Index("ix_transactions_customer", "customer_id", "at"),
    )

    # Internal only (never in a URL); an integer key keeps 10^6-row tables compact.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(100))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), default=None
    )
    at: Mapped[datetime]
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    items: Mapped[str] = mapped_column(Text, default="")
    row_hash: Mapped[str] = mapped_column(String(32))
