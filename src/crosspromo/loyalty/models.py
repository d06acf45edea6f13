"""Coalition loyalty: coalitions, members, cards, and a double-entry points ledger.

The ledger follows TigerBeetle and Formance: accounts hold balances that only transfers move;
a transaction is a set of entries summing to zero per unit ("PTS" for points, the coalition's
currency for settlement between members); entries, transactions and lot moves are append-only
(database triggers refuse UPDATE and DELETE), corrections are new transactions. Balances on
`accounts` and `lots.remaining` are derived totals kept in the same transaction as the entries,
with CHECK constraints in the role of TigerBeetle's `debits_must_not_exceed_credits`: a
customer's points and a lot's remainder never go below zero.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from crosspromo.db import Base, IdMixin, utcnow

POINTS = "PTS"


class MemberStatus(enum.StrEnum):
    invited = "invited"
    active = "active"
    left = "left"


class AccountKind(enum.StrEnum):
    customer = "customer"  # PTS: a card's points (its live lots)
    issued = "issued"  # PTS: minus the points a member issued that are not yet spent
    debt = "debt"  # PTS: minus the points a card owes after a refund of spent points
    claim = "claim"  # PTS: the points customers owe a member after such refunds
    payable = "payable"  # money: what a member owes another for its points spent there
    receivable = "receivable"  # money: what a member is owed by another


class TxnKind(enum.StrEnum):
    earn = "earn"
    spend = "spend"
    refund = "refund"  # reverses (part of) an earn
    spend_reversal = "spend_reversal"  # puts a spend's points back into their lots
    expiry = "expiry"
    recovery = "recovery"  # a debt settled from new points


class Coalition(IdMixin, Base):
    __tablename__ = "loyalty_coalitions"
    __table_args__ = (
        CheckConstraint("point_value_minor BETWEEN 1 AND 1000000", name="point_value"),
        CheckConstraint("max_share_bp BETWEEN 0 AND 10000", name="max_share"),
        CheckConstraint("pending_days BETWEEN 0 AND 365", name="pending_days"),
        CheckConstraint("expiry_months BETWEEN 1 AND 120", name="expiry_months"),
    )

    name: Mapped[str] = mapped_column(String(200))
    founder_business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id"))
    currency: Mapped[str] = mapped_column(String(3))
    point_value_minor: Mapped[int]  # minor units of `currency` per point
    max_share_bp: Mapped[int]  # the share of a receipt payable with points, 5000 = 50 %
    pending_days: Mapped[int]  # earned points become spendable after this many days
    expiry_months: Mapped[int]  # each lot expires this many months after it was earned
    rules_version: Mapped[int] = mapped_column(default=1)
    # The IANA zone whose local midnights bound clearing days (the founder's, by default).
    timezone: Mapped[str] = mapped_column(String(64), server_default="UTC")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Member(IdMixin, Base):
    """A business in a coalition, with its earn rules (part of the versioned rules)."""

    __tablename__ = "loyalty_members"
    __table_args__ = (
        UniqueConstraint("coalition_id", "business_id"),
        CheckConstraint("earn_milli BETWEEN 0 AND 1000000", name="earn"),
        CheckConstraint("welcome_points BETWEEN 0 AND 1000000", name="welcome"),
        CheckConstraint("reserve_minor >= 0", name="reserve"),
    )

    coalition_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_coalitions.id"))
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id"), index=True)
    status: Mapped[MemberStatus] = mapped_column(Enum(MemberStatus, native_enum=False, length=16))
    # Thousandths of a point per major currency unit: 50 = 5 points per 100 roubles.
    earn_milli: Mapped[int] = mapped_column(default=50)
    multipliers: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # category -> %
    welcome_points: Mapped[int] = mapped_column(default=0)
    reserve_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # prefunded reserve
    accepted_version: Mapped[int] = mapped_column(default=0)
    joined_at: Mapped[datetime | None] = mapped_column(default=None)
    left_at: Mapped[datetime | None] = mapped_column(default=None)


class RuleVersion(IdMixin, Base):
    """A proposed version of the rules; it takes effect when every active member accepted."""

    __tablename__ = "loyalty_rule_versions"
    __table_args__ = (UniqueConstraint("coalition_id", "version"),)

    coalition_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_coalitions.id"))
    version: Mapped[int]
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    proposed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    effective_at: Mapped[datetime | None] = mapped_column(default=None)


class Card(IdMixin, Base):
    __tablename__ = "loyalty_cards"
    __table_args__ = (
        UniqueConstraint("coalition_id", "phone"),
        UniqueConstraint("coalition_id", "email"),
    )

    coalition_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_coalitions.id"))
    number: Mapped[str] = mapped_column(String(20), unique=True)  # normalised, check char last
    phone: Mapped[str | None] = mapped_column(String(20), default=None)  # E.164
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    # A card printed blank (pre-numbered, handed out at a till) has no holder until it is
    # activated with the holder's consent; until then it earns and spends nothing.
    activated_at: Mapped[datetime | None] = mapped_column(default=None)
    consent_at: Mapped[datetime] = mapped_column(default=utcnow)  # of a blank card: printed
    marketing_consent: Mapped[bool] = mapped_column(default=False)
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the secret link
    enrolled_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("businesses.id"))
    # Bumped by every operation on the card: the UPDATE is the card's lock on both engines.
    ops: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Account(IdMixin, Base):
    __tablename__ = "loyalty_accounts"
    __table_args__ = (
        CheckConstraint("kind <> 'customer' OR balance >= 0", name="customer_not_negative"),
        CheckConstraint("kind <> 'debt' OR balance <= 0", name="debt_not_positive"),
        Index("ix_loyalty_accounts_coalition_kind", "coalition_id", "kind"),
    )

    key: Mapped[str] = mapped_column(String(120), unique=True)  # kind:coalition:owner[:other]
    coalition_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_coalitions.id"))
    kind: Mapped[AccountKind] = mapped_column(Enum(AccountKind, native_enum=False, length=16))
    unit: Mapped[str] = mapped_column(String(3))
    card_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("loyalty_cards.id"), index=True)
    business_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("businesses.id"))
    counterparty_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("businesses.id"))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)


class Transaction(IdMixin, Base):
    __tablename__ = "loyalty_transactions"
    __table_args__ = (
        # One earn and one spend per order at a business; each reversal numbered per original.
        UniqueConstraint("business_id", "kind", "order_ref"),
        UniqueConstraint("reverses_id", "reversal_no"),
        Index("ix_loyalty_transactions_coalition_at", "coalition_id", "at"),
    )

    coalition_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_coalitions.id"))
    kind: Mapped[TxnKind] = mapped_column(Enum(TxnKind, native_enum=False, length=16))
    card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_cards.id"), index=True)
    business_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("businesses.id"))
    order_ref: Mapped[str | None] = mapped_column(String(100), default=None)
    order_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    points: Mapped[int] = mapped_column(BigInteger)  # the points moved, always >= 0
    value_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("loyalty_transactions.id"))
    reversal_no: Mapped[int | None] = mapped_column(default=None)
    rules_version: Mapped[int] = mapped_column(default=1)
    caller: Mapped[str] = mapped_column(String(80), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Entry(IdMixin, Base):
    __tablename__ = "loyalty_entries"

    transaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("loyalty_transactions.id"), index=True
    )
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_accounts.id"), index=True)
    unit: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)  # signed; a transaction's sum is 0 per unit
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Lot(IdMixin, Base):
    """A batch of earned points: who issued it, when it becomes spendable, when it expires."""

    __tablename__ = "loyalty_lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining"),
        Index("ix_loyalty_lots_card_fifo", "card_id", "expires_at", "created_at"),
        Index("ix_loyalty_lots_expiry", "expires_at"),
    )

    coalition_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_coalitions.id"))
    card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_cards.id"))
    issuer_business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id"))
    transaction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_transactions.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    available_at: Mapped[datetime]  # pending until then
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LotMove(IdMixin, Base):
    """Every change of a lot's remainder, by transaction: the audit trail of each point."""

    __tablename__ = "loyalty_lot_moves"

    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_lots.id"), index=True)
    transaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("loyalty_transactions.id"), index=True
    )
    points: Mapped[int] = mapped_column(BigInteger)  # signed
    # The member that accepted spent points (spend, recovery); None otherwise.
    accepted_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("businesses.id"))


class Debt(IdMixin, Base):
    """Points a card owes a member after a refund of points it had already spent."""

    __tablename__ = "loyalty_debts"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining"),
        Index("ix_loyalty_debts_card", "card_id", "created_at"),
    )

    card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_cards.id"))
    creditor_business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id"))
    transaction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_transactions.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


APPEND_ONLY = ("loyalty_transactions", "loyalty_entries", "loyalty_lot_moves")
