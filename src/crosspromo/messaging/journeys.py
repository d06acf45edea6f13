"""Journeys: after a customer's first purchase at a business, a partner's offer follows.

Only where the partner comes after the business in the customer's deal cycle, or with it:
what shared customers did (learned pairs) or else the curated order of the two categories
(`matching.relations.direction`); a partner customers reach before this business is refused.

A trigger owns one message; each matched contact gets one delivery of it (the unique
(message, contact) pair makes a trigger fire at most once per customer, however often the job
runs). Matching goes from the business's imported customers to its own contacts through the
keyed e-mail and phone hashes; consent, suppressions and the weekly caps are checked when the
message is sent, like any other. A share of matched contacts is held out (recorded as a
skipped delivery with the reason "holdout", never sent) so the effect can be measured against
them. Quiet hours are kept when each message is sent, in the recipient's own zone (delivery.py):
one due at night waits for the morning.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crosspromo.businesses.models import Business
from crosspromo.customers import service as customers
from crosspromo.db import utcnow
from crosspromo.errors import Forbidden, Invalid
from crosspromo.matching import relations
from crosspromo.matching.models import LearnedPair
from crosspromo.messaging import service
from crosspromo.messaging.contacts import CONSENT_FIELD
from crosspromo.messaging.models import (
    Channel,
    Contact,
    Delivery,
    Trigger,
)
from crosspromo.partnerships import service as partnerships
from crosspromo.sales import service as sales
from crosspromo.settings import Settings, get_settings

# Shared customers needed before what they did outweighs the curated order of categories.
MIN_SHARED = 20
# A first purchase older than the delay plus this is history, not a journey to start now.
LOOKBACK = timedelta(days=30)


def create(
    session: Session,
    *,
    business_id: uuid.UUID,
    sender_name: str,
    partner_business_id: uuid.UUID,
    channel: Channel,
    content: dict[str, Any],
    delay_days: int,
    holdout_bp: int = 1000,
) -> Trigger:
    """A trigger sending the partner's offer `delay_days` after each first purchase here."""
    if not 0 <= delay_days <= 365:
        raise Invalid("Between 0 and 365 days.", field="delay_days")
    if not 0 <= holdout_bp <= 5000:
        raise Invalid("Hold out 0 to 50% of customers.", field="holdout_bp")
    if not partnerships.agreed_between(session, business_id, {partner_business_id}):
        raise Forbidden("A partner's offer follows only under an agreement with that partner.")
    if not comes_after(session, business_id, partner_business_id):
        raise Invalid(
            "Customers of this partner usually buy there before they buy from you: "
            "its offer after a first purchase here would come too late.",
            field="partner_business_id",
        )
    message = service.create_live(
        session,
        business_id=business_id,
        sender_name=sender_name,
        channel=channel,
        content=content,
        partner_business_id=partner_business_id,
    )
    trigger = Trigger(
        business_id=business_id,
        partner_business_id=partner_business_id,
        broadcast_id=message.id,
        delay_days=delay_days,
        holdout_bp=holdout_bp,
    )
    session.add(trigger)
    session.flush()
    return trigger


def comes_after(session: Session, business_id: uuid.UUID, partner_id: uuid.UUID) -> bool:
    """Whether the partner may follow a first purchase here: what shared customers did
    (learned, once `MIN_SHARED` people bought at both) or else the curated order of the two
    categories; refused only where the partner comes before ("together" and unknown pass)."""
    a_id, b_id = sorted((business_id, partner_id))
    learned = session.scalar(
        select(LearnedPair).where(LearnedPair.business_a == a_id, LearnedPair.business_b == b_id)
    )
    if learned is not None and learned.shared >= MIN_SHARED:
        here_first = learned.a_first if a_id == business_id else learned.shared - learned.a_first
        return here_first * 2 >= learned.shared
    here = session.get(Business, business_id)
    partner = session.get(Business, partner_id)
    if here is None or partner is None:
        return False
    return relations.direction(here.category, partner.category) != "before"


def draw(owner_id: uuid.UUID, contact_id: uuid.UUID, holdout_bp: int) -> bool:
    """Whether the contact is held out of a trigger or reminder: a stable draw per pair, the
    same answer on every run."""
    digest = hashlib.sha256(f"{owner_id}:{contact_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 10_000 < holdout_bp


def held_out(trigger: Trigger, contact_id: uuid.UUID) -> bool:
    return draw(trigger.id, contact_id, trigger.holdout_bp)


def _due_contacts(session: Session, trigger: Trigger, now: datetime) -> list[uuid.UUID]:
    """The business's consenting contacts whose first purchase is due and not yet handled."""
    until = now - timedelta(days=trigger.delay_days)
    firsts = sales.first_purchases(
        session, business_id=trigger.business_id, since=until - LOOKBACK, until=until
    )
    known = customers.hashes(session, [customer_id for customer_id, _ in firsts])
    emails = {e for e, _ in known.values() if e}
    phones = {p for _, p in known.values() if p}
    if not emails and not phones:
        return []
    message = service.get(
        session, business_id=trigger.business_id, broadcast_id=trigger.broadcast_id
    )
    consent = getattr(Contact, CONSENT_FIELD[message.channel])
    handled = select(Delivery.contact_id).where(Delivery.broadcast_id == trigger.broadcast_id)
    matched = []
    emails_list, phones_list = sorted(emails), sorted(phones)
    for start in range(0, max(len(emails_list), len(phones_list)), 1000):
        matched += list(
            session.scalars(
                select(Contact.id).where(
                    Contact.business_id == trigger.business_id,
                    consent.is_(True),
                    or_(
                        Contact.email_hash.in_(emails_list[start : start + 1000]),
                        Contact.phone_hash.in_(phones_list[start : start + 1000]),
                    ),
                    Contact.id.not_in(handled),
                )
            )
        )
    return sorted(set(matched))


def run(session: Session, *, now: datetime | None = None, settings: Settings | None = None) -> int:
    """Queue every due journey message (the worker's periodic job); how many were queued."""
    now = now or utcnow()
    settings = settings or get_settings()
    payload = service.job_payload(settings)
    triggers = list(session.scalars(select(Trigger).where(Trigger.active.is_(True))))
    queued = 0
    for trigger in triggers:
        due = _due_contacts(session, trigger, now)
        if not due:
            continue
        message = service.get(
            session, business_id=trigger.business_id, broadcast_id=trigger.broadcast_id
        )
        kept = [c for c in due if held_out(trigger, c)]
        sent = [c for c in due if not held_out(trigger, c)]
        service.enqueue(session, message, kept, payload=payload, held_out=True)
        service.enqueue(session, message, sent, payload=payload)
        message.recipients += len(due)
        queued += len(sent)
    return queued


def job(session: Session) -> int:
    """The worker's periodic job."""
    return run(session)
