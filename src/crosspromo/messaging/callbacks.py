"""Delivery status callbacks: an SMS gateway's or an e-mail provider's webhook reports that a
message was delivered, bounced or drew a complaint.

One endpoint per provider kind, `POST /hooks/messages/{sms|email}/{token}`; the token is a
keyed hash of the install's secret and the kind (`crosspromo messages callbacks` prints the
addresses), compared in constant time. The body is one JSON event or a list of them (at most
`MAX_EVENTS`): the message's id (`id` or `message_id`, the outbox id we sent as the gateway's
`id` and in the e-mail's `Message-ID`) and its state (`status` or `event`). A bounce or a
complaint suppresses the address (a bounce for every business, as a refusal at send time).
Unknown ids are counted and ignored, so a provider does not retry them forever.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.db import utcnow
from crosspromo.errors import Invalid, NotFound
from crosspromo.identifiers import identifier_hash
from crosspromo.messaging import delivery as deliveries
from crosspromo.messaging import service
from crosspromo.messaging.models import (
    Broadcast,
    Channel,
    Contact,
    Delivery,
    Outcome,
    Reason,
)
from crosspromo.outbox.models import OutboxMessage
from crosspromo.web.deps import Db

KINDS = {"sms": Channel.sms, "email": Channel.email}
MAX_EVENTS = 1_000
STATES = {
    "delivered": Outcome.delivered,
    "delivery": Outcome.delivered,
    "bounce": Outcome.bounced,
    "bounced": Outcome.bounced,
    "failed": Outcome.bounced,
    "undelivered": Outcome.bounced,
    "rejected": Outcome.bounced,
    "complaint": Outcome.complained,
    "complained": Outcome.complained,
    "spam": Outcome.complained,
    "spamreport": Outcome.complained,
}

router = APIRouter(include_in_schema=False)


def token(kind: str, secret_key: str) -> str:
    """The secret in a provider kind's callback address."""
    return identifier_hash("message-callback", kind, secret_key)[:40]


def _outbox_id(text: str) -> uuid.UUID | None:
    """`<id@domain>`, `id@domain` or `id` -> the outbox id, else None."""
    bare = text.strip().strip("<>").split("@", 1)[0]
    try:
        return uuid.UUID(bare)
    except ValueError:
        return None


def parse(body: Any) -> list[tuple[str, Outcome]]:
    """The (id, outcome) pairs of a callback body; Invalid for anything else."""
    events = body if isinstance(body, list) else [body]
    if not 1 <= len(events) <= MAX_EVENTS:
        raise Invalid(f"Between 1 and {MAX_EVENTS} events.", field="body")
    found = []
    for event in events:
        if not isinstance(event, dict):
            raise Invalid("Each event is a JSON object.", field="body")
        ident = event.get("id", event.get("message_id"))
        state = event.get("status", event.get("event"))
        if not isinstance(ident, str) or not 1 <= len(ident) <= 300:
            raise Invalid("Each event needs the message's id.", field="id")
        if not isinstance(state, str) or state.strip().lower() not in STATES:
            raise Invalid(f"Known states: {', '.join(sorted(STATES))}.", field="status")
        found.append((ident, STATES[state.strip().lower()]))
    return found


def record(session: Session, channel: Channel, ident: str, outcome: Outcome) -> bool:
    """Record one report on its delivery; False when the id is not one of ours."""
    outbox_id = _outbox_id(ident)
    sent = session.get(OutboxMessage, outbox_id) if outbox_id else None
    if sent is None or sent.kind != service.KIND:
        return False
    _, broadcast_id, contact_id = sent.key.split(":", 2)
    found = session.execute(
        select(Delivery, Broadcast, Contact)
        .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
        .join(Contact, Contact.id == Delivery.contact_id)
        .where(
            Delivery.broadcast_id == uuid.UUID(broadcast_id),
            Delivery.contact_id == uuid.UUID(contact_id),
        )
    ).first()
    if found is None or found.Broadcast.channel is not channel:
        return False
    delivery, broadcast, contact = found
    if delivery.outcome in (Outcome.bounced, Outcome.complained) and outcome is Outcome.delivered:
        return True  # a late "delivered" never hides a bounce or complaint
    delivery.outcome, delivery.outcome_at = outcome, utcnow()
    if outcome is Outcome.bounced:
        deliveries.stop(session, broadcast, contact, Reason.bounce)
    elif outcome is Outcome.complained:
        deliveries.stop(session, broadcast, contact, Reason.complaint)
    session.flush()
    return True


@router.post("/hooks/messages/{kind}/{secret}")
def callback(
    request: Request, kind: str, secret: str, body: Annotated[Any, Body()], db: Db
) -> dict[str, int]:
    """A provider's delivery reports: how many were recorded and how many ids were unknown."""
    channel = KINDS.get(kind)
    expected = token(kind, request.app.state.secret_key) if channel else ""
    if channel is None or not hmac.compare_digest(secret.encode(), expected.encode()):
        raise NotFound("No such callback.")
    events = parse(body)
    recorded = sum(record(db, channel, ident, outcome) for ident, outcome in events)
    return {"recorded": recorded, "unknown": len(events) - recorded}
