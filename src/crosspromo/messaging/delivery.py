"""How the worker sends one delivery: re-check at send time, charge the caps, render, send.

Exactly once per recipient: `service.queue` writes one delivery and one outbox message per
contact under a unique key; a worker leases the message before sending (outbox/service.py), so
two workers never hold it together. A worker killed after the send and before recording it
leaves the lease to expire and the message is sent again: the one documented at-least-once
edge, where the stable Message-ID (and the gateway's Idempotency-Key) let receivers drop it.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any

from babel.dates import format_date
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from crosspromo.businesses import service as businesses
from crosspromo.db import unit_of_work, utcnow
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
from crosspromo.outbox import service as outbox
from crosspromo.outbox import worker
from crosspromo.outbox.models import Status
from crosspromo.outbox.senders import Deferred, NotConfigured, Refused
from crosspromo.settings import Settings

# Messages a worker claims and prepares together: at the default e-mail rate (20/s) a batch
# takes 10 s, well inside the 5-minute lease. Outcomes are recorded every SETTLE_EVERY sends,
# so a worker killed mid-batch repeats at most two such chunks (same Message-IDs), not the
# batch.
BATCH = 200
SETTLE_EVERY = 20


def unsubscribe_url(public_url: str, contact: Contact, channel: Channel) -> str:
    return f"{public_url.rstrip('/')}/u/{contact.token}/unsubscribe?channel={channel.value}"


def preferences_url(public_url: str, contact: Contact) -> str:
    return f"{public_url.rstrip('/')}/u/{contact.token}"


def _skip(delivery: Delivery, reason: str) -> dict[str, Any]:
    delivery.status, delivery.reason = DeliveryStatus.skipped, reason
    return {"skip": reason, "delivery_id": str(delivery.id)}


def _limits(broadcast: Broadcast, contact: Contact, cap: int, own: int | None) -> dict[str, int]:
    """Every key the message counts under: the person platform-wide, and at this business."""
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
    session: Session,
    broadcast: Broadcast,
    contact: Contact,
    payload: dict[str, Any],
    now: datetime,
    business_zone: str | None = None,
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
    zone = contact.timezone or business_zone
    if not zone:
        found = businesses.by_ids(session, {broadcast.business_id})
        zone = found[0].timezone if found else "UTC"
    return quiet.next_allowed(now, zone, int(start), int(end))


def _by_id(session: Session, model: Any, ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}


def prepare_batch(
    session: Session, payloads: list[dict[str, Any]], *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """For each claimed payload, the message to send now or why not (consent withdrawn,
    suppressed, over a cap) or when (`defer`: the recipient's quiet hours), with one read per
    table and one cap charge for the batch."""
    now = now or utcnow()
    pairs = [(uuid.UUID(p["broadcast_id"]), uuid.UUID(p["contact_id"])) for p in payloads]
    occasions = [str(p.get("occasion", "")) for p in payloads]
    wanted: dict[uuid.UUID, set[uuid.UUID]] = {}
    for broadcast_id, contact_id in pairs:
        wanted.setdefault(broadcast_id, set()).add(contact_id)
    found: dict[tuple[uuid.UUID, uuid.UUID, str], Delivery] = {}
    for broadcast_id, contact_ids in wanted.items():
        rows = session.scalars(
            select(Delivery)
            .where(
                Delivery.broadcast_id == broadcast_id,
                Delivery.contact_id.in_(contact_ids),
                Delivery.occasion.in_(set(occasions)),
            )
            .order_by(Delivery.id)
            .with_for_update()
        )
        found.update({(row.broadcast_id, row.contact_id, row.occasion): row for row in rows})
    keyed = [(b, c, o) for (b, c), o in zip(pairs, occasions, strict=True)]
    broadcasts = _by_id(session, Broadcast, set(wanted))
    people = _by_id(session, Contact, {contact_id for _, contact_id in pairs})
    messages: list[dict[str, Any]] = [{} for _ in payloads]
    going: list[int] = []
    for i, pair in enumerate(pairs):
        delivery = found.get(keyed[i])
        if delivery is None:
            messages[i] = {"skip": "the message was deleted"}
        elif delivery.status is not DeliveryStatus.queued:
            messages[i] = {
                "skip": f"already {delivery.status.value}",
                "delivery_id": str(delivery.id),
            }
        else:
            channel = broadcasts[pair[0]].channel
            contact = people[pair[1]]
            if contacts.address(contact, channel) and getattr(
                contact, contacts.CONSENT_FIELD[channel]
            ):
                going.append(i)
            else:
                messages[i] = _skip(delivery, "no consent")
    stopped = _suppressed(session, [(broadcasts[pairs[i][0]], people[pairs[i][1]]) for i in going])
    for i, stop in zip(going, stopped, strict=True):
        if stop:
            messages[i] = _skip(found[keyed[i]], "suppressed")
    going = [i for i, stop in zip(going, stopped, strict=True) if not stop]
    zones = {
        b.id: b.timezone
        for b in businesses.by_ids(session, {x.business_id for x in broadcasts.values()})
    }
    waiting = []
    for i in going:
        broadcast = broadcasts[pairs[i][0]]
        wait = quiet_until(
            session,
            broadcast,
            people[pairs[i][1]],
            payloads[i],
            now,
            zones.get(broadcast.business_id),
        )
        if wait is not None:
            messages[i] = {"defer": wait}
            waiting.append(i)
    going = [i for i in going if i not in set(waiting)]
    charge = [i for i in going if not found[keyed[i]].capped]
    own = {
        b.id: service.preferences(session, b.business_id).weekly_cap for b in broadcasts.values()
    }
    fits = caps.charge_many(
        session,
        [
            _limits(
                broadcasts[pairs[i][0]],
                people[pairs[i][1]],
                int(payloads[i]["weekly_cap"]),
                own[pairs[i][0]],
            )
            for i in charge
        ],
        now=now,
    )
    refused = set()
    for i, ok in zip(charge, fits, strict=True):
        if ok:
            found[keyed[i]].capped = True
        else:
            messages[i] = _skip(found[keyed[i]], "weekly cap")
            refused.add(i)
    for i in going:
        if i not in refused:
            messages[i] = _message(
                broadcasts[pairs[i][0]], people[pairs[i][1]], found[keyed[i]], payloads[i]
            )
    return messages


def _suppressed(session: Session, targets: list[tuple[Broadcast, Contact]]) -> list[bool]:
    """`contacts.suppressed` for many at once: one read of the suppression list."""
    digests = {contacts.digest_for(contact, b.channel) for b, contact in targets} - {""}
    rows = (
        session.execute(
            select(
                Suppression.channel,
                Suppression.address_hash,
                Suppression.business_id,
                Suppression.reason,
            ).where(Suppression.address_hash.in_(digests))
        ).all()
        if digests
        else []
    )
    return [
        any(
            row.channel == b.channel
            and row.address_hash == contacts.digest_for(contact, b.channel)
            and (row.business_id == b.business_id or row.reason == Reason.bounce)
            for row in rows
        )
        for b, contact in targets
    ]


def _message(
    broadcast: Broadcast, contact: Contact, delivery: Delivery, payload: dict[str, Any]
) -> dict[str, Any]:
    """The recipient's copy in their language (templates compiled once per process)."""
    channel = broadcast.channel
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
        "to": contacts.address(contact, channel),
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


def prepare(
    session: Session, payload: dict[str, Any], *, now: datetime | None = None
) -> dict[str, Any]:
    """The message to send now, or why not: `prepare_batch` of one; a recipient's quiet hours
    defer it (Deferred) to their end."""
    message = prepare_batch(session, [payload], now=now)[0]
    if "defer" in message:
        raise Deferred(message["defer"])
    return message


def send(settings: Settings, message_id: str, message: dict[str, Any]) -> None:
    """Hand the prepared message to its channel, unless preparing said to skip it."""
    if "skip" in message:
        raise NotConfigured(message["skip"])
    channels.send(settings, message_id, message)


def send_batch(factory: sessionmaker[Session], settings: Settings, ids: list[uuid.UUID]) -> int:
    """The worker's batch: prepare all in one transaction (skips settled there), then send
    over one connection per provider, recording the outcomes every `SETTLE_EVERY` messages."""
    with unit_of_work(factory) as session:
        claimed = outbox.load(session, ids)
        prepared = prepare_batch(session, [dict(m.payload) for m in claimed])
        order = {m.id: n for n, m in enumerate(claimed)}
        pairs = list(zip([m.id for m in claimed], prepared, strict=True))
        skipped = [message_id for message_id, message in pairs if "skip" in message]
        outbox.settle_done(session, skipped, status=Status.skipped)
        for message in claimed:
            if "defer" in prepared[order[message.id]]:
                outbox.defer(session, message, prepared[order[message.id]]["defer"])
    going = [(i, m) for i, m in pairs if "skip" not in m and "defer" not in m]
    chunks = [going[start : start + SETTLE_EVERY] for start in range(0, len(going), SETTLE_EVERY)]
    # One chunk is sent (waiting on the provider) while the one before is recorded (waiting on
    # the database); never more than one ahead, so a death leaves at most two unrecorded.
    with ThreadPoolExecutor(max_workers=1) as sender:
        ahead = sender.submit(_send, settings, chunks[0]) if chunks else None
        for i, chunk in enumerate(chunks):
            assert ahead is not None
            failures = ahead.result()
            if i + 1 < len(chunks):
                ahead = sender.submit(_send, settings, chunks[i + 1])
            with unit_of_work(factory) as session:
                _record(session, settings, chunk, failures)
    return len(pairs)


def _send(
    settings: Settings, chunk: list[tuple[uuid.UUID, dict[str, Any]]]
) -> list[Exception | None]:
    return channels.send_many(settings, [(str(i), m) for i, m in chunk])


def _record(
    session: Session,
    settings: Settings,
    chunk: list[tuple[uuid.UUID, dict[str, Any]]],
    failures: list[Exception | None],
) -> None:
    """The sent ones marked in two UPDATEs; each failure settled on its own (retry, refusal)."""
    sent = [(i, m) for (i, m), failure in zip(chunk, failures, strict=True) if failure is None]
    outbox.settle_done(session, [i for i, _ in sent], status=Status.sent)
    if sent:
        session.execute(
            update(Delivery)
            .where(
                Delivery.id.in_([uuid.UUID(m["delivery_id"]) for _, m in sent]),
                Delivery.status == DeliveryStatus.queued,
            )
            .values(status=DeliveryStatus.sent, sent_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    for (message_id, message), failure in zip(chunk, failures, strict=True):
        if failure is not None:
            worker.record(session, settings, message_id, service.KIND, message, failure)


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
    """Teach the outbox worker to send messages in batches (called by `crosspromo worker`)."""
    from crosspromo.messaging import journeys, reminders

    for job in (journeys.job, reminders.job):
        if job not in worker.JOBS:
            worker.JOBS.append(job)
    worker.BATCHES[service.KIND] = (BATCH, send_batch)
    worker.SETTLED[service.KIND] = settled
