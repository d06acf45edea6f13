"""Contacts with consent per channel, suppressions, broadcasts, deliveries, weekly caps."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crosspromo.db import Base, IdMixin, utcnow


class Channel(enum.StrEnum):
    email = "email"
    sms = "sms"
    telegram = "telegram"


def _enum(kind: type[enum.Enum]) -> Enum:
    return Enum(kind, native_enum=False, length=16)


class Contact(IdMixin, Base):
    """One person as one business knows them, across channels."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("business_id", "email_hash"),
        UniqueConstraint("business_id", "phone_hash"),
        UniqueConstraint("business_id", "telegram_chat_id"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(8), default="en")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    telegram_chat_id: Mapped[str | None] = mapped_column(String(32), default=None)
    # Keyed HMACs (identifiers.identifier_hash): the frequency cap across businesses
    # matches people through these, never through the clear values.
    email_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    phone_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    telegram_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    # The current state per channel; `consents` keeps each change as evidence.
    email_consent: Mapped[bool] = mapped_column(default=False)
    sms_consent: Mapped[bool] = mapped_column(default=False)
    telegram_consent: Mapped[bool] = mapped_column(default=False)
    # The person's own IANA zone (given, or from the phone's country when it has one zone);
    # None: the business's zone. Quiet hours are kept in this zone.
    timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    # The secret in the unsubscribe and preferences links.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Consent(IdMixin, Base):
    """One grant or withdrawal: when, where and the words the person agreed to."""

    __tablename__ = "consents"

    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    granted: Mapped[bool] = mapped_column()
    given_at: Mapped[datetime] = mapped_column()
    source: Mapped[str] = mapped_column(String(100))
    wording: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Reason(enum.StrEnum):
    bounce = "bounce"
    complaint = "complaint"
    manual = "manual"


class Suppression(IdMixin, Base):
    """An address that must not be written to again by this business (a bounce: by anyone)."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("business_id", "channel", "address_hash"),)

    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    address_hash: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[Reason] = mapped_column(_enum(Reason))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BroadcastStatus(enum.StrEnum):
    draft = "draft"
    queued = "queued"


class Broadcast(IdMixin, Base):
    """One message to a business's consenting contacts on one channel, in their languages."""

    __tablename__ = "broadcasts"

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    sender_name: Mapped[str] = mapped_column(String(200))
    # {"en": {"subject": ..., "text": ..., "html": ...}, "ru": {...}}: Jinja templates.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The targets of `{{ link("...") }}` in the templates, in order; each recipient's link
    # points at /m/<delivery token>/<index> on this install.
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Set when the message carries a partner's content (the 80/20 rule counts these).
    partner_business_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("businesses.id", ondelete="SET NULL"), default=None
    )
    # Only the contacts of this saved audience (evaluated when the message is sent); None: all.
    audience_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("message_audiences.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[BroadcastStatus] = mapped_column(
        _enum(BroadcastStatus), default=BroadcastStatus.draft
    )
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class DeliveryStatus(enum.StrEnum):
    queued = "queued"
    sent = "sent"
    skipped = "skipped"  # withdrawn consent, suppressed, over the weekly cap
    failed = "failed"  # the outbox gave up


class Outcome(enum.StrEnum):
    """What the provider reported after accepting the message (delivery status callbacks)."""

    delivered = "delivered"
    bounced = "bounced"
    complained = "complained"


class Delivery(IdMixin, Base):
    """One broadcast to one contact: created once, sent by whichever worker claims it."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "contact_id", "occasion"),
        Index("ix_deliveries_broadcast_status", "broadcast_id", "status"),
    )

    broadcast_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    # What a reminder is about ("code:<id>", "lot:<id>"): one delivery per contact and
    # occasion; "" for broadcasts and journeys (one per contact).
    occasion: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus), default=DeliveryStatus.queued
    )
    reason: Mapped[str] = mapped_column(String(200), default="")
    # The secret in this recipient's tracking links.
    token: Mapped[str] = mapped_column(String(32), unique=True)
    # The weekly cap was charged for this delivery: a retry does not charge it again.
    capped: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # The provider's latest report (a bounce or complaint is never overwritten by "delivered").
    outcome: Mapped[Outcome | None] = mapped_column(_enum(Outcome), default=None)
    outcome_at: Mapped[datetime | None] = mapped_column(default=None)


class WeeklyCount(Base):
    """Messages a person got in one ISO week, under one key (platform-wide or per business)."""

    __tablename__ = "message_caps"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class Preferences(Base):
    """A business's own messaging rules, stricter than the platform's."""

    __tablename__ = "messaging_preferences"

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), primary_key=True
    )
    weekly_cap: Mapped[int | None] = mapped_column(default=None)
    partner_share_bp: Mapped[int] = mapped_column(default=2000)
    # No sends between these local hours of each recipient (start > end wraps midnight;
    # equal: none); None: the platform's default.
    quiet_from: Mapped[int | None] = mapped_column(default=None)
    quiet_until: Mapped[int | None] = mapped_column(default=None)


class Click(IdMixin, Base):
    """A recipient followed a message's link (the visitor's address only as a keyed hash)."""

    __tablename__ = "message_clicks"

    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    link: Mapped[int] = mapped_column()
    visitor_hash: Mapped[str] = mapped_column(String(64), default="")
    clicked_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContentStatus(enum.StrEnum):
    submitted = "submitted"
    approved = "approved"
    rejected = "rejected"
    used = "used"  # carried by a message of the host


class PartnerContent(IdMixin, Base):
    """A partner's mention for the host's next newsletter, under their agreement."""

    __tablename__ = "partner_content"

    host_business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    partner_business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE")
    )
    # {"en": {"text": ..., "html": ...}, "ru": {...}}, checked like a message's parts.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[ContentStatus] = mapped_column(
        _enum(ContentStatus), default=ContentStatus.submitted
    )
    broadcast_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)


class Trigger(IdMixin, Base):
    """A journey step: `delay_days` after a customer's first purchase at this business, its
    message with a partner's offer follows, once per customer, with a holdout."""

    __tablename__ = "message_triggers"

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    partner_business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE")
    )
    # The message every firing delivers (one delivery per contact: fires once per customer).
    broadcast_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    delay_days: Mapped[int] = mapped_column()
    # Share of matched customers held out (recorded, never sent), in basis points.
    holdout_bp: Mapped[int] = mapped_column(default=1000)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Audience(IdMixin, Base):
    """A saved audience (segment): rules on recency, spend, consent and partner visits,
    evaluated in SQL each time a message is sent to it."""

    __tablename__ = "message_audiences"
    __table_args__ = (UniqueConstraint("business_id", "name"),)

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    # audiences.Rules as JSON (checked on the way in).
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderKind(enum.StrEnum):
    code = "code"  # an offer code handed to a known customer, before the offer ends
    points = "points"  # a lot of loyalty points the business issued, before it expires


class Reminder(IdMixin, Base):
    """A journey step: `days_before` a code or a lot of points expires, its message goes to the
    customer holding it, once per customer and code or lot, with a holdout."""

    __tablename__ = "message_reminders"

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ReminderKind] = mapped_column(_enum(ReminderKind))
    broadcast_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    days_before: Mapped[int] = mapped_column()
    holdout_bp: Mapped[int] = mapped_column(default=1000)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
