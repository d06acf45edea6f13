"""Reminders before expiry: `days_before` an offer code or a lot of points runs out, the
customer holding it gets the business's message.

- codes: those the business handed to its own known customers (offers.distribution marks each
  with the customer) and still usable, whose offer ends within the days;
- points: lots the business itself issued, not spent, expiring within the days; the card's
  phone and e-mail find the contact through the keyed hashes.

Each (contact, code or lot) gets one delivery, whatever the number of runs: the delivery's
occasion ("code:<id>", "lot:<id>") is part of its unique key. Only contacts consenting on the
message's channel are matched; consent, suppressions, caps and quiet hours in the contact's
zone are checked again when it is sent, like any message. A stable share of contacts is held
out (a skipped delivery, reason "holdout") so the reminder's effect can be measured.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crosspromo import clock
from crosspromo.businesses import service as businesses
from crosspromo.customers import service as customers
from crosspromo.db import utcnow
from crosspromo.errors import Invalid
from crosspromo.loyalty import service as loyalty
from crosspromo.messaging import journeys, render, service
from crosspromo.messaging.contacts import CONSENT_FIELD, address_hash
from crosspromo.messaging.models import (
    Broadcast,
    Channel,
    Contact,
    Delivery,
    Reminder,
    ReminderKind,
)
from crosspromo.offers import distribution
from crosspromo.settings import Settings, get_settings

MAX_DAYS_BEFORE = 90


def create(
    session: Session,
    *,
    business_id: uuid.UUID,
    sender_name: str,
    kind: ReminderKind,
    channel: Channel,
    content: dict[str, Any],
    days_before: int,
    holdout_bp: int = 1000,
) -> Reminder:
    """A reminder sending its message `days_before` each held code or lot of points expires."""
    if not 1 <= days_before <= MAX_DAYS_BEFORE:
        raise Invalid(f"Between 1 and {MAX_DAYS_BEFORE} days.", field="days_before")
    if not 0 <= holdout_bp <= 5000:
        raise Invalid("Hold out 0 to 50% of customers.", field="holdout_bp")
    message = service.create_live(
        session,
        business_id=business_id,
        sender_name=sender_name,
        channel=channel,
        content=content,
        extra_fields=render.REMINDER_FIELDS,
    )
    reminder = Reminder(
        business_id=business_id,
        kind=kind,
        broadcast_id=message.id,
        days_before=days_before,
        holdout_bp=holdout_bp,
    )
    session.add(reminder)
    session.flush()
    return reminder


def listed(session: Session, *, business_id: uuid.UUID) -> list[Reminder]:
    """The business's reminders, newest first (at most 200)."""
    return list(
        session.scalars(
            select(Reminder)
            .where(Reminder.business_id == business_id)
            .order_by(Reminder.created_at.desc(), Reminder.id.desc())
            .limit(200)
        )
    )


# (occasion, e-mail hash, phone hash, the message's own fields)
Due = tuple[str, str | None, str | None, dict[str, Any]]


def _codes(session: Session, reminder: Reminder, zone: str, now: datetime) -> list[Due]:
    today = clock.local_date(now, zone)
    held = distribution.held_codes(
        session,
        issuer_business_id=reminder.business_id,
        ending_from=today,
        ending_until=today + timedelta(days=reminder.days_before),
    )
    known = customers.hashes(session, sorted({customer for _, customer, _ in held}))
    found: list[Due] = []
    for code_id, customer_id, last_day in held:
        email, phone = known.get(customer_id, (None, None))
        values = {"expires_on": last_day.isoformat()}
        found.append((f"code:{code_id}", email, phone, values))
    return found


def _lots(
    session: Session, reminder: Reminder, zone: str, now: datetime, settings: Settings
) -> list[Due]:
    lots = loyalty.expiring_lots(
        session,
        issuer_business_id=reminder.business_id,
        after=now,
        until=now + timedelta(days=reminder.days_before),
    )
    if not lots:
        return []
    key = settings.resolved_secret_key()
    found: list[Due] = []
    for lot_id, points, expires_at, phone, email in lots:
        values = {"expires_on": clock.local_date(expires_at, zone).isoformat(), "points": points}
        found.append(
            (
                f"lot:{lot_id}",
                address_hash(Channel.email, email, key) if email else None,
                address_hash(Channel.sms, phone, key) if phone else None,
                values,
            )
        )
    return found


def _contacts(
    session: Session, business_id: uuid.UUID, channel: Channel, hashes: Iterable[str]
) -> dict[str, uuid.UUID]:
    """The business's contacts consenting on `channel`, by each of their keyed hashes."""
    wanted = sorted(set(hashes))
    consent = getattr(Contact, CONSENT_FIELD[channel])
    found: dict[str, uuid.UUID] = {}
    for start in range(0, len(wanted), 1000):
        part = wanted[start : start + 1000]
        for contact_id, email, phone in session.execute(
            select(Contact.id, Contact.email_hash, Contact.phone_hash).where(
                Contact.business_id == business_id,
                consent.is_(True),
                or_(Contact.email_hash.in_(part), Contact.phone_hash.in_(part)),
            )
        ):
            for digest in (email, phone):
                if digest:
                    found[digest] = contact_id
    return found


def run(session: Session, *, now: datetime | None = None, settings: Settings | None = None) -> int:
    """Queue every reminder now due (the worker's periodic job); how many were queued."""
    now = now or utcnow()
    settings = settings or get_settings()
    payload = service.job_payload(settings)
    reminders = list(session.scalars(select(Reminder).where(Reminder.active.is_(True))))
    zones = {
        b.id: b.timezone for b in businesses.by_ids(session, {r.business_id for r in reminders})
    }
    queued = 0
    for reminder in reminders:
        zone = zones.get(reminder.business_id) or "UTC"
        due = (
            _codes(session, reminder, zone, now)
            if reminder.kind is ReminderKind.code
            else _lots(session, reminder, zone, now, settings)
        )
        if not due:
            continue
        message = session.get(Broadcast, reminder.broadcast_id)
        assert message is not None  # cascaded with the reminder
        people = _contacts(
            session,
            reminder.business_id,
            message.channel,
            (h for _, email, phone, _ in due for h in (email, phone) if h),
        )
        done = set(
            session.execute(
                select(Delivery.contact_id, Delivery.occasion).where(
                    Delivery.broadcast_id == message.id
                )
            ).tuples()
        )
        for occasion, email, phone, values in due:
            contact_id = people.get(email or "") or people.get(phone or "")
            if contact_id is None or (contact_id, occasion) in done:
                continue
            kept = journeys.draw(reminder.id, contact_id, reminder.holdout_bp)
            service.enqueue(
                session,
                message,
                [contact_id],
                payload=payload | {"values": values},
                held_out=kept,
                occasion=occasion,
            )
            done.add((contact_id, occasion))
            message.recipients += 1
            queued += 0 if kept else 1
    return queued


def job(session: Session) -> int:
    """The worker's periodic job."""
    return run(session)
