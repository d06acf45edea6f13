"""Proposals between two businesses, their versioned terms, acceptances and messages.

A version is never edited: a counter-offer is a new version. An agreement exists only when
both sides accepted the same version (`agreed_version`).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crosspromo.db import Base, IdMixin, utcnow


class Status(enum.StrEnum):
    open = "open"
    agreed = "agreed"
    declined = "declined"


class Proposal(IdMixin, Base):
    __tablename__ = "proposals"

    from_business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    to_business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[Status] = mapped_column(
        Enum(Status, native_enum=False, length=16), default=Status.open
    )
    current_version: Mapped[int] = mapped_column(default=1)
    agreed_version: Mapped[int | None] = mapped_column(default=None)
    decline_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TermsVersion(IdMixin, Base):
    __tablename__ = "terms_versions"
    __table_args__ = (UniqueConstraint("proposal_id", "number"),)

    proposal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    number: Mapped[int]
    author_business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id"))
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Acceptance(IdMixin, Base):
    __tablename__ = "acceptances"
    __table_args__ = (UniqueConstraint("proposal_id", "version", "business_id"),)

    proposal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    version: Mapped[int]
    option: Mapped[int]  # which of the version's options was accepted (0-based)
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ProposalMessage(IdMixin, Base):
    __tablename__ = "proposal_messages"

    proposal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Invitation(IdMixin, Base):
    """A proposal to a business not yet on the platform, sent by e-mail with a one-time link.

    Only the token's hash is stored. When the invited owner signs up and answers, the proposal
    is created from the stored terms as version 1, and the invitation records which business
    took it.
    """

    __tablename__ = "invitations"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    from_business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    message: Mapped[str] = mapped_column(Text, default="")
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("proposals.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
