"""How the worker sends one delivery: re-check at send time, charge the caps, render, send.

Exactly once per recipient: `service.queue` writes one delivery and one outbox message per
contact under a unique key; a worker leases the message before sending (outbox/service.py), so
two workers never hold it together. A worker killed after the send and before recording it
leaves the lease to expire and the message is sent again: the one documented at-least-once
edge, where the stable Message-ID (and the gateway's Idempotency-Key) let receivers drop it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.businesses import service as businesses
from crosspromo.db import utcnow
from crosspromo.messaging import caps, channels, contacts, quiet, render, service
from crosspromo.messaging.models import (
    Broadcast,
    Channel,
    Contact,
    Delivery,
    DeliveryStatus,
    Reason,
    Suppression,
)
from crosspromo.outbox.models import Status
from crosspromo.outbox.senders import Deferred, NotConfigured, Refused
from crosspromo.settings import Settings


def unsubscribe_url(public_url: str, contact: Contact, channel: Channel) -> str:
    return f"{public_url.rstrip('/')}/u/{contact.token}/unsubscribe?channel={channel.value}"


def preferences_url(public_url: str, contact: Contact) -> str:
    return f"{public_url.rstrip('/')}/u/{contact.token}"


def _skip(delivery: Delivery, reason: str) -> dict[str, Any]:
    delivery.status, delivery.reason = DeliveryStatus.skipped, reason
    return {"skip": reason, "delivery_id": str(delivery.id)}


def _limits(session: Session, broadcast: Broadcast, contact: Contact, cap: int) -> dict[str, int]:
    """Every key the message counts under: the person platform-wide, and at this business."""
    own = service.preferences(session, broadcast.business_id).weekly_cap
    limits = {f"p:{key}": cap for key in contacts.person_keys(contact)}
    if own is not None:
        limits.update(
            {f"b:{broadcast.business_id}:{key}": own for key in contacts.person_keys(contact)}
        )
    return limits


def _occasion_values(values: dict[str, Any], locale: str) -> dict[str, Any]:
    """A reminder's own fields for the recipient: the expiry day in their language."""
    shown: dict[str, Any] = {}
    if "expires_on" in values:
        day = date.fromisoformat(str(values["expires_on"]))
        shown["expires_on"] = format_date(day, format="long", locale=locale)
    if "points" in values:
        shown["points"] = int(values["points"])
    return shown


def quiet_until(
    session: Session, broadcast: Broadcast, contact: Contact, payload: dict[str, Any], now: datetime
) -> datetime | None:
    """When the recipient's quiet hours end, if `now` falls in them: the business's hours (else
    the platform's, carried in the payload) in the contact's zone (else the business's)."""
    own = service.preferences(session, broadcast.business_id)
    if own.quiet_from is not None and own.quiet_until is not None:
        start, end = own.quiet_from, own.quiet_until
    else:
        start, end = payload.get("quiet") or (0, 0)
    if start == end:
        return None
    zone = contact.timezone
    if not zone:
        found = businesses.by_ids(session, {broadcast.business_id})
        zone = found[0].timezone if found else "UTC"
    return quiet.next_allowed(now, zone, int(start), int(end))


def prepare(
    session: Session, payload: dict[str, Any], *, now: datetime | None = None
) -> dict[str, Any]:
    """The message to send now, or why not (consent withdrawn, suppressed, over a cap); a
    recipient's quiet hours defer it (Deferred) to their end."""
    now = now or utcnow()
    delivery = session.scalar(
        select(Delivery)
        .where(
            Delivery.broadcast_id == uuid.UUID(payload["broadcast_id"]),
            Delivery.contact_id == uuid.UUID(payload["contact_id"]),
            Delivery.occasion == payload.get("occasion", ""),
        )
        .with_for_update()
    )
    if delivery is None:
        return {"skip": "the message was deleted"}
    if delivery.status is not DeliveryStatus.queued:
        return {"skip": f"already {delivery.status.value}", "delivery_id": str(delivery.id)}
    broadcast = session.get(Broadcast, delivery.broadcast_id)
    contact = session.get(Contact, delivery.contact_id)
    assert broadcast is not None and contact is not None  # cascaded with the delivery
    channel = broadcast.channel
    to = contacts.address(contact, channel)
    if not to or not getattr(contact, contacts.CONSENT_FIELD[channel]):
        return _skip(delivery, "no consent")
    digest = contacts.digest_for(contact, channel)
    if contacts.suppressed(
        session, business_id=broadcast.business_id, channel=channel, digest=digest
    ):
        return _skip(delivery, "suppressed")
    wait = quiet_until(session, broadcast, contact, payload, now)
    if wait is not None:
        raise Deferred(wait)
    if not delivery.capped:
        limits = _limits(session, broadcast, contact, int(payload["weekly_cap"]))
        if not caps.charge(session, limits, now=now):
            return _skip(delivery, "weekly cap")
        delivery.capped = True
    public_url = payload["public_url"]
    values = {
        "name": contact.name,
        "business": broadcast.sender_name,
        "unsubscribe_url": unsubscribe_url(public_url, contact, channel),
        "preferences_url": preferences_url(public_url, contact),
        "link": render.tracker(public_url, delivery.token, broadcast.links),
        **_occasion_values(payload.get("values") or {}, contact.locale),
    }
    parts = render.fill(render.pick(broadcast.content, contact.locale), values)
    message: dict[str, Any] = {
        "delivery_id": str(delivery.id),
        "channel": channel.value,
        "to": to,
        "text": parts["text"],
    }
    if channel is Channel.email:
        message |= {
            "from": render.sender_address(broadcast.sender_name, payload["mail_from"]),
            "subject": parts["subject"],
            "html": parts.get("html", ""),
            # RFC 8058: the mailbox provider's own unsubscribe button POSTs to this URL.
            "headers": {
                "List-Unsubscribe": f"<{values['unsubscribe_url']}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        }
    return message


def send(settings: Settings, message_id: str, message: dict[str, Any]) -> None:
    """Hand the prepared message to its channel, unless preparing said to skip it."""
    if "skip" in message:
        raise NotConfigured(message["skip"])
    channels.send(settings, message_id, message)


def settled(
    session: Session, message: dict[str, Any], status: Status, failure: BaseException | None
) -> None:
    """Record the outcome on the delivery; a refused address goes on the suppression list."""
    if "skip" in message or "delivery_id" not in message:
        return
    delivery = session.get(Delivery, uuid.UUID(message["delivery_id"]))
    if delivery is None or delivery.status is not DeliveryStatus.queued:
        return
    if status is Status.sent:
        delivery.status, delivery.sent_at = DeliveryStatus.sent, utcnow()
    elif isinstance(failure, Refused):
        delivery.status, delivery.reason = DeliveryStatus.failed, str(failure)[:200]
        broadcast = session.get(Broadcast, delivery.broadcast_id)
        contact = session.get(Contact, delivery.contact_id)
        if broadcast is not None and contact is not None:
            stop(session, broadcast, contact, Reason.bounce)
    elif status in (Status.dead, Status.skipped):
        delivery.status = DeliveryStatus.failed
        delivery.reason = (str(failure) if failure else status.value)[:200]


def stop(session: Session, broadcast: Broadcast, contact: Contact, reason: Reason) -> None:
    """Suppress the contact's address on the message's channel (kept once per business)."""
    digest = contacts.digest_for(contact, broadcast.channel)
    exists = session.scalar(
        select(Suppression.id).where(
            Suppression.business_id == broadcast.business_id,
            Suppression.channel == broadcast.channel,
            Suppression.address_hash == digest,
        )
    )
    if exists is None:
        session.add(
            Suppression(
                business_id=broadcast.business_id,
                channel=broadcast.channel,
                address_hash=digest,
                reason=reason,
            )
        )


def register() -> None:
    """Teach the outbox worker to send messages (called by `crosspromo worker`)."""
    from crosspromo.messaging import journeys, reminders
    from crosspromo.outbox import worker

    for job in (journeys.job, reminders.job):
        if job not in worker.JOBS:
            worker.JOBS.append(job)
    worker.PREPARERS[service.KIND] = prepare
    worker.SENDERS[service.KIND] = send
    worker.SETTLED[service.KIND] = settled
