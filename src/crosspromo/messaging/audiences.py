"""Audiences (segments): saved rules a message's recipients are chosen by, evaluated in SQL.

A contact is matched to the business's own customers through the keyed e-mail and phone
hashes (never the clear values); their receipts at this business give the recency and spend
rules. A partner visit is what the business itself may see: a redemption here of a code the
partner issued (the customer came from the partner), matched the same way; the partner's own
receipts and customers stay the partner's. Rules are evaluated each time, so a message sent
next week reaches who is in the audience next week. Consent on the message's channel is
required on top of any audience, always.

- `visited_within_days`: the last receipt here is at most N days old;
- `lapsed_days`: the last receipt is more than N days old (someone who never bought is not
  lapsed);
- `spend_*_minor`: the sum or the average of receipts in the last `spend_days` days, in minor
  units of the business's currency (a contact with no receipts spent 0 in all, and has no
  average);
- `consent`: consent on each of these channels as well;
- `partner_business_id`: redeemed here a code the partner issued.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import ConfigDict, Field, ValidationError
from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from crosspromo import clock, paging
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.customers.models import Customer
from crosspromo.db import utcnow
from crosspromo.errors import Conflict, Invalid, NotFound
from crosspromo.fields import Input, Int, Minor
from crosspromo.messaging.contacts import CONSENT_FIELD
from crosspromo.messaging.models import Audience, Channel, Contact
from crosspromo.offers.models import Redemption
from crosspromo.sales.models import Transaction

Days = Annotated[Int, Field(ge=1, le=3650)]


class Rules(Input):
    """What an audience's contacts have in common (every rule given must hold)."""

    model_config = ConfigDict(extra="forbid")
    visited_within_days: Days | None = None
    lapsed_days: Days | None = None
    spend_days: Days = 365
    spend_total_min_minor: Minor | None = None
    spend_total_max_minor: Minor | None = None
    spend_average_min_minor: Minor | None = None
    spend_average_max_minor: Minor | None = None
    consent: list[Channel] = Field(default_factory=list, max_length=3)
    partner_business_id: uuid.UUID | None = None


def check(business_id: uuid.UUID, rules: Rules | dict[str, Any]) -> Rules:
    """The rules, validated and consistent (a minimum not above its maximum)."""
    if not isinstance(rules, Rules):
        try:
            rules = Rules.model_validate(rules)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "rules"
            raise Invalid(first["msg"], field=field) from None
    pairs = (
        ("spend_total_min_minor", "spend_total_max_minor"),
        ("spend_average_min_minor", "spend_average_max_minor"),
    )
    for low, high in pairs:
        a, b = getattr(rules, low), getattr(rules, high)
        if a is not None and b is not None and a > b:
            raise Invalid("The minimum is above the maximum.", field=low)
    if (
        rules.visited_within_days is not None
        and rules.lapsed_days is not None
        and rules.lapsed_days >= rules.visited_within_days
    ):
        raise Invalid(
            "Nobody visited within the days given and also longer ago than that.",
            field="lapsed_days",
        )
    if rules.partner_business_id == business_id:
        raise Invalid("A partner is another business.", field="partner_business_id")
    return rules


def _receipts(business: Business, *columns: Any) -> Any:
    """A select of `columns` over this business's receipts from the customers who are the
    contact in hand (the keyed hashes), correlated to `Contact`."""
    same_person = or_(
        and_(Contact.email_hash.is_not(None), Customer.email_hash == Contact.email_hash),
        and_(Contact.phone_hash.is_not(None), Customer.phone_hash == Contact.phone_hash),
    )
    return (
        select(*columns)
        .select_from(Transaction)
        .join(Customer, Customer.id == Transaction.customer_id)
        .where(
            Transaction.business_id == business.id,
            Customer.business_id == business.id,
            Transaction.currency == business.currency,
            same_person,
        )
        .correlate(Contact)
    )


def conditions(business: Business, rules: Rules, now: datetime) -> list[ColumnElement[bool]]:
    """The rules as conditions on `Contact` (the business's own contacts only)."""
    found: list[ColumnElement[bool]] = [Contact.business_id == business.id]
    if rules.visited_within_days is not None or rules.lapsed_days is not None:
        last = _receipts(business, func.max(Transaction.at)).scalar_subquery()
        if rules.visited_within_days is not None:
            since = now - timedelta(days=rules.visited_within_days)
            found.append(last >= clock.instant(since))
        if rules.lapsed_days is not None:
            found.append(last < clock.instant(now - timedelta(days=rules.lapsed_days)))
    spend_since = clock.instant(now - timedelta(days=rules.spend_days))
    if rules.spend_total_min_minor is not None or rules.spend_total_max_minor is not None:
        total = func.coalesce(
            _receipts(business, func.sum(Transaction.amount_minor))
            .where(Transaction.at >= spend_since)
            .scalar_subquery(),
            0,
        )
        if rules.spend_total_min_minor is not None:
            found.append(total >= rules.spend_total_min_minor)
        if rules.spend_total_max_minor is not None:
            found.append(total <= rules.spend_total_max_minor)
    if rules.spend_average_min_minor is not None or rules.spend_average_max_minor is not None:
        average = (
            _receipts(business, func.avg(Transaction.amount_minor))
            .where(Transaction.at >= spend_since)
            .scalar_subquery()
        )
        if rules.spend_average_min_minor is not None:
            found.append(average >= rules.spend_average_min_minor)
        if rules.spend_average_max_minor is not None:
            found.append(average <= rules.spend_average_max_minor)
    for channel in rules.consent:
        found.append(getattr(Contact, CONSENT_FIELD[channel]).is_(True))
    if rules.partner_business_id is not None:
        reversal = aliased(Redemption)
        found.append(
            exists().where(
                Redemption.business_id == business.id,
                Redemption.referrer_business_id == rules.partner_business_id,
                Redemption.reverses_id.is_(None),
                ~exists().where(reversal.reverses_id == Redemption.id),
                Redemption.customer_hash.is_not(None),
                or_(
                    Redemption.customer_hash == Contact.email_hash,
                    Redemption.customer_hash == Contact.phone_hash,
                ),
            )
        )
    return found


def _business(session: Session, business_id: uuid.UUID) -> Business:
    found = businesses.by_ids(session, {business_id})
    if not found:
        raise NotFound("No such business.")
    return found[0]


def sizes(
    session: Session,
    *,
    business_id: uuid.UUID,
    rules: Rules | dict[str, Any],
    now: datetime | None = None,
) -> dict[str, int]:
    """Contacts the rules match now, and of them those a message on each channel would reach
    (consent on that channel)."""
    business = _business(session, business_id)
    checked = check(business_id, rules)
    where = conditions(business, checked, now or utcnow())

    def consenting(channel: Channel) -> Any:
        flag = getattr(Contact, CONSENT_FIELD[channel])
        return func.coalesce(func.sum(case((flag.is_(True), 1), else_=0)), 0)

    total, email, sms, telegram = session.execute(
        select(func.count(), *(consenting(c) for c in Channel)).where(*where)
    ).one()
    return {"contacts": int(total), "email": int(email), "sms": int(sms), "telegram": int(telegram)}


def members(
    session: Session, *, business_id: uuid.UUID, audience_id: uuid.UUID, now: datetime
) -> list[ColumnElement[bool]]:
    """The saved audience's conditions on `Contact`, evaluated at `now` (a send)."""
    audience = get(session, business_id=business_id, audience_id=audience_id)
    business = _business(session, business_id)
    return conditions(business, check(business_id, audience.rules), now)


def create(
    session: Session, *, business_id: uuid.UUID, name: str, rules: Rules | dict[str, Any]
) -> Audience:
    """A saved audience under a name unique in the business."""
    checked = check(business_id, rules)
    new_id = uuid.uuid4()
    audience = Audience(
        id=new_id,
        business_id=business_id,
        name=_unique(session, business_id, name, new_id),
        rules=checked.model_dump(mode="json"),
    )
    session.add(audience)
    session.flush()
    return audience


def update(
    session: Session,
    *,
    business_id: uuid.UUID,
    audience_id: uuid.UUID,
    name: str,
    rules: Rules | dict[str, Any],
) -> Audience:
    """New name and rules; messages already queued keep their recipients."""
    audience = get(session, business_id=business_id, audience_id=audience_id)
    checked = check(business_id, rules)
    audience.name = _unique(session, business_id, name, audience.id)
    audience.rules = checked.model_dump(mode="json")
    audience.updated_at = utcnow()
    session.flush()
    return audience


def delete(session: Session, *, business_id: uuid.UUID, audience_id: uuid.UUID) -> None:
    """Forget the audience; drafts written for it go back to every consenting contact."""
    session.delete(get(session, business_id=business_id, audience_id=audience_id))
    session.flush()


def get(session: Session, *, business_id: uuid.UUID, audience_id: uuid.UUID) -> Audience:
    found = session.get(Audience, audience_id)
    if found is None or found.business_id != business_id:
        raise NotFound("No such audience.")
    return found


def page(
    session: Session, *, business_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[Audience], str | None]:
    """The business's audiences, newest first, one keyset page."""
    query = select(Audience).where(Audience.business_id == business_id)
    query = paging.after(query, (Audience.created_at, Audience.id), cursor)
    rows = list(session.scalars(query.limit(limit + 1)))
    return paging.page(rows, limit, lambda a: (a.created_at, a.id))


def _name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 200:
        raise Invalid("Name the audience (up to 200 characters).", field="name")
    return cleaned


def _unique(session: Session, business_id: uuid.UUID, name: str, audience_id: uuid.UUID) -> str:
    """The cleaned name, unless the business already uses it (the unique constraint settles
    a race)."""
    cleaned = _name(name)
    clash = session.scalar(
        select(Audience.id).where(
            Audience.business_id == business_id,
            Audience.name == cleaned,
            Audience.id != audience_id,
        )
    )
    if clash is not None:
        raise Conflict("This business already has an audience by this name.", field="name")
    return cleaned
