"""Exchange of audiences: a partner's mention goes into the host's next newsletter.

The partner submits content under an agreement between the two; the host approves or rejects
it; the host's next e-mail message carries the oldest approved mention, when the 80/20 rule
lets it (otherwise it waits for a later message). Links in it are tracked per recipient like
the host's own.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo.db import utcnow
from crosspromo.errors import Conflict, Forbidden, Invalid, NotFound
from crosspromo.messaging import render
from crosspromo.messaging.models import (
    Broadcast,
    BroadcastStatus,
    Channel,
    ContentStatus,
    Delivery,
    DeliveryStatus,
    PartnerContent,
    Trigger,
)
from crosspromo.partnerships import service as partnerships


def _check(content: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Parts text (required) and html, checked like a message's (fields, links, size)."""
    framed = {
        locale: {"subject": "-", "text": parts.get("text", ""), "html": parts.get("html", "")}
        for locale, parts in content.items()
        if isinstance(parts, dict)
    }
    if isinstance(content, dict) and len(framed) != len(content):
        raise Invalid("Each language holds the mention's parts.", field="content")
    checked = render.check(Channel.email, framed)
    render.links(checked)
    return {k: {"text": v["text"], "html": v["html"]} for k, v in checked.items()}


def submit(
    session: Session,
    *,
    partner_business_id: uuid.UUID,
    host_business_id: uuid.UUID,
    content: dict[str, Any],
) -> PartnerContent:
    """The partner offers a mention for the host's newsletter; only under an agreement."""
    if partner_business_id == host_business_id:
        raise Invalid("The host is another business.", field="host_business_id")
    if not partnerships.agreed_between(session, partner_business_id, {host_business_id}):
        raise Forbidden("Mentions are exchanged under an agreement between the two businesses.")
    entry = PartnerContent(
        host_business_id=host_business_id,
        partner_business_id=partner_business_id,
        content=_check(content),
    )
    session.add(entry)
    session.flush()
    return entry


def received(session: Session, *, host_business_id: uuid.UUID) -> list[PartnerContent]:
    """Mentions offered to this business, newest first (at most 200)."""
    return list(
        session.scalars(
            select(PartnerContent)
            .where(PartnerContent.host_business_id == host_business_id)
            .order_by(PartnerContent.created_at.desc(), PartnerContent.id.desc())
            .limit(200)
        )
    )


def decide(
    session: Session, *, host_business_id: uuid.UUID, content_id: uuid.UUID, approve: bool
) -> PartnerContent:
    """The host approves or rejects a submitted mention."""
    entry = session.get(PartnerContent, content_id, with_for_update=True)
    if entry is None or entry.host_business_id != host_business_id:
        raise NotFound("No such mention.")
    if entry.status is not ContentStatus.submitted:
        raise Conflict(f"This mention is already {entry.status.value}.")
    entry.status = ContentStatus.approved if approve else ContentStatus.rejected
    entry.decided_at = utcnow()
    session.flush()
    return entry


def next_approved(session: Session, host_business_id: uuid.UUID) -> PartnerContent | None:
    return session.scalar(
        select(PartnerContent)
        .where(
            PartnerContent.host_business_id == host_business_id,
            PartnerContent.status == ContentStatus.approved,
        )
        .order_by(PartnerContent.decided_at, PartnerContent.id)
        .limit(1)
        .with_for_update()
    )


def merged(
    content: dict[str, dict[str, str]], mention: dict[str, dict[str, str]]
) -> dict[str, dict[str, str]]:
    """The host's parts with the mention after them, language by language."""
    done = {}
    for locale, parts in content.items():
        extra = render.pick(mention, locale)
        done[locale] = {
            **parts,
            "text": f"{parts['text']}\n\n---\n{extra['text']}",
            "html": f"{parts.get('html', '')}<hr>{extra['html']}" if parts.get("html") else "",
        }
    return done


def sent_for(
    session: Session,
    *,
    host_business_id: uuid.UUID,
    partner_business_id: uuid.UUID,
    since: datetime,
    until: datetime,
) -> dict[str, tuple[int, int]]:
    """What the host sent for the partner in [since, until): {"mention": (messages, recipients),
    "mailing": (...)}. A mention is partner content carried by the host's newsletter; a
    mailing is a message of the host written for the partner (journey messages are neither:
    they go out one customer at a time, not as an exchange)."""
    carried = select(PartnerContent.broadcast_id).where(
        PartnerContent.host_business_id == host_business_id,
        PartnerContent.broadcast_id.is_not(None),
    )
    journeys = select(Trigger.broadcast_id).where(Trigger.business_id == host_business_id)
    reached = (
        select(func.count())
        .where(Delivery.broadcast_id == Broadcast.id, Delivery.status == DeliveryStatus.sent)
        .correlate(Broadcast)
        .scalar_subquery()
    )
    base = select(func.count(), func.coalesce(func.sum(reached), 0)).where(
        Broadcast.business_id == host_business_id,
        Broadcast.partner_business_id == partner_business_id,
        Broadcast.status == BroadcastStatus.queued,
        Broadcast.queued_at >= since,
        Broadcast.queued_at < until,
        Broadcast.id.not_in(journeys),
    )
    found = {}
    for kind, query in (
        ("mention", base.where(Broadcast.id.in_(carried))),
        ("mailing", base.where(Broadcast.id.not_in(carried))),
    ):
        messages, recipients = session.execute(query).one()
        found[kind] = (int(messages), int(recipients))
    return found
