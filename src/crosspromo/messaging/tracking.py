"""What a message's links led to: the offer codes they carry, the touches they make for
attribution, and the redemptions of those codes by the recipients.

A message link `{{ link("https://<install>/r/<code>") }}` points at an offer's referral (or
QR) page; the recipient's click on it is a `message` touch of the sender in the campaign's
customer paths, and a redemption of that code by the recipient after the message was sent
(matched through the keyed e-mail or phone hash, never in clear) counts as "redeemed" for the
message.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from crosspromo.campaigns.models import Member
from crosspromo.customers.models import Customer
from crosspromo.messaging.models import Broadcast, Click, Contact, Delivery
from crosspromo.offers import codes as offer_codes
from crosspromo.offers.models import Code, Offer, Redemption

PREFIX = "/r/"


def tokens(links: Iterable[str]) -> list[str]:
    """The normalised codes of the links that open an offer's page (`/r/<code>`), in order."""
    found: list[str] = []
    for link in links:
        path = urlsplit(str(link)).path
        if not path.startswith(PREFIX):
            continue
        token = offer_codes.normalize(path[len(PREFIX) :].strip("/"))
        if 3 <= len(token) <= 64 and token not in found:
            found.append(token)
    return found


def code_ids(session: Session, links: Iterable[str]) -> list[uuid.UUID]:
    """The offer codes a message's links carry."""
    wanted = tokens(links)
    if not wanted:
        return []
    return list(session.scalars(select(Code.id).where(Code.code.in_(wanted))))


def redeemed(session: Session, broadcast: Broadcast) -> int:
    """Recipients who redeemed a code the message carried, after it was sent to them."""
    ids = code_ids(session, broadcast.links or [])
    if not ids:
        return 0
    reversal = aliased(Redemption)
    query = (
        select(func.count(func.distinct(Delivery.id)))
        .join(Contact, Contact.id == Delivery.contact_id)
        .where(
            Delivery.broadcast_id == broadcast.id,
            Delivery.sent_at.is_not(None),
            exists().where(
                Redemption.code_id.in_(ids),
                Redemption.reverses_id.is_(None),
                ~exists().where(reversal.reverses_id == Redemption.id),
                Redemption.at >= Delivery.sent_at,
                Redemption.customer_hash.is_not(None),
                or_(
                    Redemption.customer_hash == Contact.email_hash,
                    Redemption.customer_hash == Contact.phone_hash,
                ),
            ),
        )
    )
    return int(session.scalar(query) or 0)


def touch_rows(session: Session, campaign_id: uuid.UUID, person_of: Any) -> Any:
    """Message clicks whose link carried one of the campaign's codes, as attribution rows
    (person, at, kind, partner, target); `person_of(column)` spells a customer's id."""
    by_code = {
        code: offer
        for code, offer in session.execute(
            select(Code.code, Offer.id)
            .join(Offer, Offer.id == Code.offer_id)
            .where(Offer.campaign_id == campaign_id)
        )
    }
    pairs: list[Any] = []
    if by_code:
        members = select(Member.business_id).where(Member.campaign_id == campaign_id)
        carrying = select(Broadcast.id, Broadcast.links).where(
            Broadcast.business_id.in_(members), Broadcast.queued_at.is_not(None)
        )
        for broadcast_id, links in session.execute(carrying):
            offers = [by_code[t] for t in tokens(links or []) if t in by_code]
            if offers:
                pairs.append(and_(Broadcast.id == broadcast_id, Offer.id == offers[0]))
    known = aliased(Customer)
    customer = (
        select(person_of(known.id))
        .where(
            known.business_id == Offer.issuer_business_id,
            or_(
                and_(Contact.email_hash.is_not(None), known.email_hash == Contact.email_hash),
                and_(Contact.phone_hash.is_not(None), known.phone_hash == Contact.phone_hash),
            ),
        )
        .order_by(known.id)
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            func.coalesce(
                customer,
                literal("h:") + func.coalesce(Contact.email_hash, Contact.phone_hash),
                literal("c:") + person_of(Contact.id),
            ).label("person"),
            Click.clicked_at.label("at"),
            literal("message").label("kind"),
            Broadcast.business_id.label("partner"),
            Offer.honouring_business_id.label("target"),
        )
        .select_from(Click)
        .join(Delivery, Delivery.id == Click.delivery_id)
        .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
        .join(Contact, Contact.id == Delivery.contact_id)
        .join(Offer, or_(*pairs) if pairs else literal(False))
    )
