"""Lead exchange: request forms, specialists, leads, their offers to specialists and disputes.

A lead is one customer's request for one step of the deal cycle (one category). It is offered
to one specialist at a time (`LeadOffer`); an offer not accepted by its deadline moves on to
the next specialist. `Lead.offer_id` names the live offer: accepting is a conditional UPDATE
on it, so of two specialists answering at once exactly one gets the lead.
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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from crosspromo.db import Base, IdMixin, utcnow


class Scope(enum.StrEnum):
    business = "business"  # the business and its agreed partners
    partnership = "partnership"  # the two parties of one agreement
    coalition = "coalition"  # the active members of a loyalty coalition


class Status(enum.StrEnum):
    new = "new"  # received, not (yet) offered to anyone: no specialist was free
    awaiting_consent = "awaiting_consent"  # a hand-off waiting for the customer's yes
    offered = "offered"
    accepted = "accepted"
    contacted = "contacted"
    won = "won"
    lost = "lost"


class OfferOutcome(enum.StrEnum):
    pending = "pending"
    accepted = "accepted"
    moved_on = "moved_on"  # the deadline passed, or the lead went to someone else


class DisputeReason(enum.StrEnum):
    duplicate = "duplicate"
    spam = "spam"
    out_of_area = "out_of_area"


class DisputeStatus(enum.StrEnum):
    open = "open"
    upheld = "upheld"  # the charge is reversed
    rejected = "rejected"


def _enum(kind: type[enum.StrEnum], length: int = 20) -> Enum:
    return Enum(kind, native_enum=False, length=length)


class LeadForm(IdMixin, Base):
    """A public request form of a business, a partnership or a coalition."""

    __tablename__ = "lead_forms"
    __table_args__ = (
        CheckConstraint("response_minutes BETWEEN 1 AND 10080", name="response_minutes"),
        CheckConstraint("reminder_minutes BETWEEN 0 AND 10080", name="reminder_minutes"),
        CheckConstraint("dispute_days BETWEEN 0 AND 365", name="dispute_days"),
        CheckConstraint("duplicate_days BETWEEN 0 AND 365", name="duplicate_days"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[Scope] = mapped_column(_enum(Scope, 16), default=Scope.business)
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), default=None
    )
    coalition_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("loyalty_coalitions.id", ondelete="CASCADE"), default=None
    )
    title: Mapped[str] = mapped_column(String(200))
    intro: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [{"name": "Центральный", "lat": 58.01, "lon": 56.25}, ...]: the form's places.
    districts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    response_minutes: Mapped[int] = mapped_column(default=120)
    reminder_minutes: Mapped[int] = mapped_column(default=30)  # before the deadline
    accrue_on: Mapped[str] = mapped_column(String(16), default="accepted")  # accepted | won
    dispute_days: Mapped[int] = mapped_column(default=7)
    duplicate_days: Mapped[int] = mapped_column(default=30)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Specialist(IdMixin, Base):
    """A person of a member business who takes leads: categories, area, capacity, hours."""

    __tablename__ = "lead_specialists"
    __table_args__ = (
        CheckConstraint("capacity_per_day BETWEEN 1 AND 1000", name="capacity"),
        CheckConstraint("radius_km BETWEEN 0 AND 1000", name="radius"),
        CheckConstraint("hour_from BETWEEN 0 AND 23 AND hour_until BETWEEN 1 AND 24", name="hours"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    name: Mapped[str] = mapped_column(String(200))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    lat: Mapped[float | None] = mapped_column(default=None)
    lon: Mapped[float | None] = mapped_column(default=None)
    radius_km: Mapped[float] = mapped_column(default=15.0)
    capacity_per_day: Mapped[int] = mapped_column(default=5)
    days: Mapped[int] = mapped_column(default=0b0011111)  # bit 0 = Monday
    hour_from: Mapped[int] = mapped_column(default=9)
    hour_until: Mapped[int] = mapped_column(default=18)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SpecialistCategory(Base):
    """One category a specialist works in: routing finds a lead's candidates by index."""

    __tablename__ = "lead_specialist_categories"
    __table_args__ = (Index("ix_lead_specialist_categories_category", "category", "specialist_id"),)

    specialist_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lead_specialists.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(100), primary_key=True)


class Lead(IdMixin, Base):
    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_business_phone", "business_id", "phone_hash", "created_at"),
        Index("ix_leads_business_email", "business_id", "email_hash", "created_at"),
        Index("ix_leads_status_deadline", "status", "deadline_at"),
        Index("ix_leads_business_created", "business_id", "created_at"),
    )

    form_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lead_forms.id", ondelete="CASCADE"))
    business_id: Mapped[uuid.UUID] = mapped_column(  # who received it: the form's owner
        ForeignKey("businesses.id", ondelete="CASCADE")
    )
    # A hand-off: the lead this one continues, and the business that passed the customer on.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("leads.id", ondelete="SET NULL"), default=None, index=True
    )
    to_business_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), default=None
    )
    category: Mapped[str] = mapped_column(String(100))
    later_steps: Mapped[list[str]] = mapped_column(JSON, default=list)  # the deal cycle's next
    need: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    district: Mapped[str] = mapped_column(String(100), default="")
    lat: Mapped[float | None] = mapped_column(default=None)
    lon: Mapped[float | None] = mapped_column(default=None)
    wanted: Mapped[str] = mapped_column(String(200), default="")  # when, in the customer's words
    name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    # Keyed hashes of the normalised phone and e-mail: duplicate detection without clear text.
    phone_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    email_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    consent_business_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    consent_at: Mapped[datetime | None] = mapped_column(default=None)
    consent_token_hash: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[Status] = mapped_column(_enum(Status), default=Status.new)
    offer_id: Mapped[uuid.UUID | None] = mapped_column(default=None)  # the live offer
    specialist_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("lead_specialists.id", ondelete="SET NULL"), default=None
    )
    deadline_at: Mapped[datetime | None] = mapped_column(default=None)
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    amount_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    lost_reason: Mapped[str] = mapped_column(String(500), default="")
    # Pay per lead: the agreement charged under, what, and when (once, by the conditional
    # UPDATE that sets charged_at).
    charge_proposal_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    charge_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    charge_currency: Mapped[str | None] = mapped_column(String(3), default=None)
    charged_at: Mapped[datetime | None] = mapped_column(default=None)
    logged: Mapped[int] = mapped_column(default=0)  # events so far: the next one's `seq`
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LeadOffer(IdMixin, Base):
    """The lead offered to one specialist, with why; never offered twice to the same one."""

    __tablename__ = "lead_offers"
    __table_args__ = (
        UniqueConstraint("lead_id", "specialist_id"),
        Index("ix_lead_offers_specialist_at", "specialist_id", "offered_at"),
        Index("ix_lead_offers_pending_remind", "outcome", "remind_at"),
    )

    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    specialist_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lead_specialists.id", ondelete="CASCADE")
    )
    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    rank: Mapped[int] = mapped_column(default=1)  # 1 = the first specialist offered
    why: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column()
    remind_at: Mapped[datetime | None] = mapped_column(default=None)
    reminded_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[OfferOutcome] = mapped_column(
        _enum(OfferOutcome, 16), default=OfferOutcome.pending
    )
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    response_seconds: Mapped[int | None] = mapped_column(default=None)  # offered -> accepted


class LeadEvent(IdMixin, Base):
    """A lead's status change: what, who (user, specialist, business) and when."""

    __tablename__ = "lead_events"
    __table_args__ = (UniqueConstraint("lead_id", "seq"),)

    lead_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int]  # 1, 2, ... per lead: the order, whatever the clock says
    status: Mapped[str] = mapped_column(String(24))
    business_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("businesses.id", ondelete="SET NULL"), default=None
    )
    specialist_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("lead_specialists.id", ondelete="SET NULL"), default=None
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class LeadDispute(IdMixin, Base):
    """A charged lead disputed by the paying partner, and the receiving business's answer."""

    __tablename__ = "lead_disputes"

    lead_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), unique=True
    )
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    reason: Mapped[DisputeReason] = mapped_column(_enum(DisputeReason, 16))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[DisputeStatus] = mapped_column(
        _enum(DisputeStatus, 16), default=DisputeStatus.open
    )
    answer: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
