"""Broadcasts: write, check, queue one delivery per consenting contact, count the results."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crosspromo import paging
from crosspromo.db import utcnow
from crosspromo.errors import Conflict, Invalid, NotFound
from crosspromo.messaging import audiences, exchange, quiet, render, tracking
from crosspromo.messaging.contacts import CONSENT_FIELD
from crosspromo.messaging.models import (
    Broadcast,
    BroadcastStatus,
    Channel,
    Click,
    Consent,
    Contact,
    ContentStatus,
    Delivery,
    DeliveryStatus,
    Outcome,
    Preferences,
)
from crosspromo.outbox import service as outbox
from crosspromo.settings import Settings

KIND = "message"  # the outbox kind the worker sends through `delivery.py`
BATCH = 1_000


def create(
    session: Session,
    *,
    business_id: uuid.UUID,
    sender_name: str,
    channel: Channel,
    content: dict[str, Any],
    partner_business_id: uuid.UUID | None = None,
    audience_id: uuid.UUID | None = None,
    extra_fields: frozenset[str] = frozenset(),
) -> Broadcast:
    """A draft whose templates are checked now, so the worker never meets a broken one."""
    if partner_business_id == business_id:
        raise Invalid("A partner is another business.", field="partner_business_id")
    if audience_id is not None:
        try:
            audiences.get(session, business_id=business_id, audience_id=audience_id)
        except NotFound:
            raise Invalid("No such audience.", field="audience_id") from None
    checked = render.check(channel, content, extra_fields)
    broadcast = Broadcast(
        business_id=business_id,
        sender_name=sender_name,
        channel=channel,
        content=checked,
        links=render.links(checked),
        partner_business_id=partner_business_id,
        audience_id=audience_id,
    )
    session.add(broadcast)
    session.flush()
    return broadcast


def create_live(session: Session, **message: Any) -> Broadcast:
    """A journey's or reminder's message: written like any (`create`), and live from now on,
    sent one customer at a time by its job rather than queued by hand."""
    made = create(session, **message)
    made.status, made.queued_at = BroadcastStatus.queued, utcnow()
    return made


def job_payload(settings: Settings) -> dict[str, Any]:
    """What each outbox message of a periodic job carries from the install's settings."""
    return {
        "public_url": settings.public_url,
        "mail_from": settings.mail_from,
        "weekly_cap": settings.messages_weekly_cap,
        "quiet": [settings.messages_quiet_from, settings.messages_quiet_until],
    }


def get(session: Session, *, business_id: uuid.UUID, broadcast_id: uuid.UUID) -> Broadcast:
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.business_id != business_id:
        raise NotFound("No such message.")
    return broadcast


def preferences(session: Session, business_id: uuid.UUID) -> Preferences:
    found = session.get(Preferences, business_id)
    return found or Preferences(
        business_id=business_id,
        weekly_cap=None,
        partner_share_bp=2000,
        quiet_from=None,
        quiet_until=None,
    )


def set_preferences(
    session: Session,
    *,
    business_id: uuid.UUID,
    weekly_cap: int | None,
    partner_share_bp: int,
    quiet_from: int | None = None,
    quiet_until: int | None = None,
) -> Preferences:
    """A business's own weekly cap (only ever stricter than the platform's), partner share
    and quiet hours (None: the platform's)."""
    if weekly_cap is not None and not 1 <= weekly_cap <= 100:
        raise Invalid("Between 1 and 100 messages a week.", field="weekly_cap")
    if not 0 <= partner_share_bp <= 5000:
        raise Invalid("Partner content may take 0 to 50% of messages.", field="partner_share_bp")
    quiet.check_hours(quiet_from, quiet_until)
    found = session.get(Preferences, business_id)
    if found is None:
        found = Preferences(business_id=business_id)
        session.add(found)
    found.weekly_cap, found.partner_share_bp = weekly_cap, partner_share_bp
    found.quiet_from, found.quiet_until = quiet_from, quiet_until
    session.flush()
    return found


def check_partner_share(
    session: Session, broadcast: Broadcast, *, window_days: int
) -> tuple[int, int]:
    """The 80/20 rule: one partner's messages stay within the share of all sent in the window.

    Counts this message as sent; returns (this partner's, all) on success.
    """
    if broadcast.partner_business_id is None:
        return 0, 0
    since = utcnow() - timedelta(days=window_days)
    sent = select(func.count()).where(
        Broadcast.business_id == broadcast.business_id,
        Broadcast.status == BroadcastStatus.queued,
        Broadcast.queued_at >= since,
    )
    total = int(session.scalar(sent) or 0) + 1
    theirs = (
        int(
            session.scalar(
                sent.where(Broadcast.partner_business_id == broadcast.partner_business_id)
            )
            or 0
        )
        + 1
    )
    share = preferences(session, broadcast.business_id).partner_share_bp
    if theirs * 10_000 > share * total:
        raise Conflict(
            f"Partner content would be {theirs} of {total} messages in {window_days} days, "
            f"more than {share / 100:g}%: send more of your own first.",
            kind="partner-share",
            partner_messages=theirs,
            messages=total,
        )
    return theirs, total


def _carry_mention(session: Session, broadcast: Broadcast, *, window_days: int) -> None:
    """An own e-mail carries the oldest approved partner mention, if the 80/20 rule allows."""
    if broadcast.partner_business_id is not None or broadcast.channel is not Channel.email:
        return
    mention = exchange.next_approved(session, broadcast.business_id)
    if mention is None:
        return
    broadcast.partner_business_id = mention.partner_business_id
    try:
        check_partner_share(session, broadcast, window_days=window_days)
    except Conflict:
        broadcast.partner_business_id = None  # it waits for a later message
        return
    broadcast.content = exchange.merged(broadcast.content, mention.content)
    broadcast.links = render.links(broadcast.content)
    mention.status, mention.broadcast_id = ContentStatus.used, broadcast.id


def enqueue(
    session: Session,
    broadcast: Broadcast,
    contact_ids: list[uuid.UUID],
    *,
    payload: dict[str, Any],
    held_out: bool = False,
    occasion: str = "",
) -> None:
    """A delivery per contact (kept once per occasion) and, unless held out, its outbox
    message."""
    if not contact_ids:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    rows = [
        {
            "id": uuid.uuid4(),
            "broadcast_id": broadcast.id,
            "contact_id": contact_id,
            "status": DeliveryStatus.skipped if held_out else DeliveryStatus.queued,
            "reason": "holdout" if held_out else "",
            "capped": False,
            "token": secrets.token_urlsafe(16),
            "occasion": occasion,
        }
        for contact_id in contact_ids
    ]
    session.execute(
        dialect.insert(Delivery)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["broadcast_id", "contact_id", "occasion"])
    )
    if held_out:
        return
    for contact_id in contact_ids:
        outbox.enqueue(
            session,
            kind=KIND,
            key=f"message:{broadcast.id}:{contact_id}" + (f":{occasion}" if occasion else ""),
            payload={
                "broadcast_id": str(broadcast.id),
                "contact_id": str(contact_id),
                **({"occasion": occasion} if occasion else {}),
                **payload,
            },
        )


def queue(
    session: Session,
    *,
    business_id: uuid.UUID,
    broadcast_id: uuid.UUID,
    public_url: str,
    mail_from: str,
    weekly_cap: int,
    window_days: int,
    quiet_hours: tuple[int, int] = (0, 0),
) -> int:
    """One delivery and one outbox message per consenting contact (of the message's audience,
    as it is now, if it has one); a second call adds none. `quiet_hours` are the platform's,
    applied at send time where the business has none of its own."""
    # The row lock (PostgreSQL) or the write (SQLite) makes two clicks on "send" take turns.
    session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.business_id == business_id)
        .values(recipients=Broadcast.recipients)
        .execution_options(synchronize_session=False)
    )
    broadcast = get(session, business_id=business_id, broadcast_id=broadcast_id)
    session.refresh(broadcast)
    if broadcast.status is BroadcastStatus.queued:
        return 0
    check_partner_share(session, broadcast, window_days=window_days)
    _carry_mention(session, broadcast, window_days=window_days)
    consent = getattr(Contact, CONSENT_FIELD[broadcast.channel])
    query = (
        select(Contact.id)
        .where(Contact.business_id == business_id, consent.is_(True))
        .order_by(Contact.id)
    )
    if broadcast.audience_id is not None:
        query = query.where(
            *audiences.members(
                session, business_id=business_id, audience_id=broadcast.audience_id, now=utcnow()
            )
        )
    payload = {
        "public_url": public_url,
        "mail_from": mail_from,
        "weekly_cap": weekly_cap,
        "quiet": list(quiet_hours),
    }
    count = 0
    after: uuid.UUID | None = None
    while True:
        page = query if after is None else query.where(Contact.id > after)
        ids = list(session.scalars(page.limit(BATCH)))
        if not ids:
            break
        enqueue(session, broadcast, ids, payload=payload)
        count += len(ids)
        after = ids[-1]
    broadcast.status = BroadcastStatus.queued
    broadcast.queued_at = utcnow()
    broadcast.recipients = count
    session.flush()
    return count


def stats(session: Session, broadcast: Broadcast) -> dict[str, int]:
    """Deliveries per status, with zeros."""
    counts = {status.value: 0 for status in DeliveryStatus}
    rows = session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.broadcast_id == broadcast.id)
        .group_by(Delivery.status)
    ).all()
    for status, n in rows:
        counts[DeliveryStatus(status).value] = int(n)
    counts["clicked"] = int(
        session.scalar(
            select(func.count(func.distinct(Click.delivery_id)))
            .join(Delivery, Delivery.id == Click.delivery_id)
            .where(Delivery.broadcast_id == broadcast.id)
        )
        or 0
    )
    counts.update({outcome.value: 0 for outcome in Outcome})
    reported = session.execute(
        select(Delivery.outcome, func.count())
        .where(Delivery.broadcast_id == broadcast.id, Delivery.outcome.is_not(None))
        .group_by(Delivery.outcome)
    ).all()
    for outcome, n in reported:
        counts[str(outcome)] = int(n)
    counts["redeemed"] = tracking.redeemed(session, broadcast)
    # Recipients who withdrew consent on this channel after it was sent to them.
    counts["unsubscribed"] = int(
        session.scalar(
            select(func.count(func.distinct(Delivery.id)))
            .join(Consent, Consent.contact_id == Delivery.contact_id)
            .where(
                Delivery.broadcast_id == broadcast.id,
                Delivery.sent_at.is_not(None),
                Consent.channel == broadcast.channel,
                Consent.granted.is_(False),
                Consent.recorded_at >= Delivery.sent_at,
            )
        )
        or 0
    )
    return counts


def click(session: Session, *, token: str, link: int, visitor_hash: str) -> str:
    """Log a recipient's click on a message link; the address to send them on to."""
    found = session.execute(
        select(Delivery.id, Broadcast.links)
        .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
        .where(Delivery.token == token[:32])
    ).first()
    if found is None or not 0 <= link < len(found.links):
        raise NotFound("This link is not known.")
    session.add(Click(delivery_id=found.id, link=link, visitor_hash=visitor_hash))
    session.flush()
    return str(found.links[link])


def page(
    session: Session, *, business_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[Broadcast], str | None]:
    """The business's messages, newest first, one keyset page."""
    query = select(Broadcast).where(Broadcast.business_id == business_id)
    query = paging.after(query, (Broadcast.created_at, Broadcast.id), cursor)
    rows = list(session.scalars(query.limit(limit + 1)))
    return paging.page(rows, limit, lambda b: (b.created_at, b.id))


def contacts_page(
    session: Session, *, business_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[Contact], str | None]:
    """The business's contacts, newest first, one keyset page."""
    query = select(Contact).where(Contact.business_id == business_id)
    query = paging.after(query, (Contact.created_at, Contact.id), cursor)
    rows = list(session.scalars(query.limit(limit + 1)))
    return paging.page(rows, limit, lambda c: (c.created_at, c.id))


def audience(session: Session, *, business_id: uuid.UUID) -> dict[str, int]:
    """Contacts in all, and those consenting on each channel."""
    total, email, sms, telegram = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((Contact.email_consent.is_(True), 1), else_=0)), 0),
            func.coalesce(func.sum(case((Contact.sms_consent.is_(True), 1), else_=0)), 0),
            func.coalesce(func.sum(case((Contact.telegram_consent.is_(True), 1), else_=0)), 0),
        ).where(Contact.business_id == business_id)
    ).one()
    return {"total": int(total), "email": int(email), "sms": int(sms), "telegram": int(telegram)}
