"""Reciprocity per agreement: what each side delivered against what it owes.

Reciprocity. Exchanges (`per_month`) and indicators (`target`, read as per month) of the
agreed option say what each side owes per month. Since the start (the option's `starts_on`,
else the day of the agreement) until today (or `ends_on`), a side owes `per_month x months`,
months counted from the start day and fractional for the month under way. An exchange sent
through the platform's messages (`sent_as` "mention" or "mailing") also counts what the side
actually sent for the other (messaging.exchange.sent_for), on top of deliveries recorded by
hand, and shows it apart with the recipients reached. Each item counts
its deliveries up to what it owes, so overdoing one item does not hide another. A side is
judged once it owes at least one whole unit. The partnership is one-sided when a judged side
delivered under 50% of what it owes while the other delivered at least 80% of its own (a
side that owes nothing counts as having delivered all of it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo import clock, paging
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.errors import Conflict, Invalid
from crosspromo.messaging import exchange
from crosspromo.partnerships import service as partnerships
from crosspromo.partnerships.schemas import Option
from crosspromo.pipeline.models import Delivery
from crosspromo.pipeline.schemas import (
    DeliveryCreate,
)
from crosspromo.roles import Actor

ONE_SIDED_BELOW = 0.5
OTHER_AT_LEAST = 0.8
JUDGED_FROM = 1.0  # units owed before a side is judged, so day one flags nobody
ONE_SIDED_RULE = (
    "One-sided: a side delivered under 50% of what it owes by now while the other "
    "delivered at least 80% of its own."
)


@dataclass
class Item:
    what: str
    kind: str  # exchange or indicator
    per_month: int
    expected: float
    delivered: int  # recorded by hand plus `sent`
    sent_as: str | None = None  # mention or mailing: counted from messages
    sent: int = 0  # messages sent through the exchange
    reached: int = 0  # their recipients


@dataclass
class SideFigures:
    business_id: uuid.UUID
    name: str
    role: str  # proposer or partner
    items: list[Item]

    @property
    def expected(self) -> float:
        return sum(i.expected for i in self.items)

    @property
    def delivered(self) -> float:
        """Deliveries counted up to what each item owes."""
        return sum(min(float(i.delivered), i.expected) for i in self.items)

    @property
    def ratio(self) -> float | None:
        return self.delivered / self.expected if self.expected > 0 else None

    @property
    def judged(self) -> bool:
        return self.expected >= JUDGED_FROM

    def to_dict(self) -> dict[str, Any]:
        return {
            "business_id": str(self.business_id),
            "name": self.name,
            "role": self.role,
            "expected": round(self.expected, 2),
            "delivered": round(self.delivered, 2),
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "items": [
                {
                    "what": i.what,
                    "kind": i.kind,
                    "per_month": i.per_month,
                    "expected": round(i.expected, 2),
                    "delivered": i.delivered,
                    "sent_as": i.sent_as,
                    "sent": i.sent,
                    "reached": i.reached,
                }
                for i in self.items
            ],
        }


@dataclass
class Reciprocity:
    proposal_id: uuid.UUID
    title: str
    starts_on: date
    until: date
    months: float
    sides: list[SideFigures]
    one_sided_business_id: uuid.UUID | None

    @property
    def one_sided(self) -> bool:
        return self.one_sided_business_id is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "proposal_id": str(self.proposal_id),
            "title": self.title,
            "starts_on": self.starts_on.isoformat(),
            "until": self.until.isoformat(),
            "months": round(self.months, 3),
            "sides": [s.to_dict() for s in self.sides],
            "one_sided": self.one_sided,
            "one_sided_business_id": (
                str(self.one_sided_business_id) if self.one_sided_business_id else None
            ),
            "rule": ONE_SIDED_RULE,
        }


def _one_sided(sides: list[SideFigures]) -> uuid.UUID | None:
    """The side that under-delivers while the other keeps its word (see the module doc)."""
    for side, other in ((sides[0], sides[1]), (sides[1], sides[0])):
        ratio = side.ratio or 0.0
        other_ratio = 1.0 if other.ratio is None else other.ratio
        if side.judged and ratio < ONE_SIDED_BELOW and other_ratio >= OTHER_AT_LEAST:
            return side.business_id
    return None


def _agreed(
    session: Session, actor: Actor, proposal_id: uuid.UUID
) -> tuple[Any, Business, Option, date]:
    """The proposal, the actor's side, the agreed option and its start date."""
    proposal, mine = partnerships.get(session, actor, proposal_id)
    found = partnerships.agreement(session, proposal)
    if found is None:
        raise Conflict("There is no agreement on this proposal yet.", kind="not-agreed")
    terms, index, agreed_at = found
    option = Option.model_validate(terms.options[index])
    start = option.starts_on or agreed_at.astimezone(ZoneInfo(mine.timezone)).date()
    return proposal, mine, option, start


def _owed(option: Option) -> list[tuple[str, str, int, str]]:
    """(what, kind, per month, by) for every exchange and indicator of the terms."""
    owed: list[tuple[str, str, int, str]] = [
        (e.what, "exchange", e.per_month, e.by) for e in option.exchanges
    ]
    return owed + [(i.name, "indicator", i.target, i.by) for i in option.indicators]


def reciprocity(
    session: Session, actor: Actor, *, proposal_id: uuid.UUID, today: date | None = None
) -> Reciprocity:
    """What each side of an agreement delivered against what it owes by now."""
    proposal, mine, option, start = _agreed(session, actor, proposal_id)
    today = today or clock.local_today(mine)
    until = min(today, option.ends_on) if option.ends_on else today
    months = clock.months_elapsed(start, until)
    delivered: dict[tuple[uuid.UUID, str], int] = {}
    for business_id, what, total in session.execute(
        select(Delivery.business_id, Delivery.what, func.sum(Delivery.quantity))
        .where(Delivery.proposal_id == proposal.id, Delivery.on >= start, Delivery.on <= until)
        .group_by(Delivery.business_id, Delivery.what)
    ).all():
        delivered[(business_id, what.casefold())] = int(total or 0)
    names = {
        b.id: b.name
        for b in businesses.by_ids(session, {proposal.from_business_id, proposal.to_business_id})
    }
    sent_as = {e.what.casefold(): e.sent_as for e in option.exchanges if e.sent_as}
    since = clock.midnight(start, mine.timezone)
    before = clock.midnight(until + timedelta(days=1), mine.timezone)
    sides = []
    for role, business_id, other_id in (
        ("proposer", proposal.from_business_id, proposal.to_business_id),
        ("partner", proposal.to_business_id, proposal.from_business_id),
    ):
        sent = (
            exchange.sent_for(
                session,
                host_business_id=business_id,
                partner_business_id=other_id,
                since=since,
                until=before,
            )
            if sent_as
            else {}
        )
        items = []
        for what, kind, per_month, by in _owed(option):
            if by != role:
                continue
            how = sent_as.get(what.casefold()) if kind == "exchange" else None
            messages, recipients = sent.get(how, (0, 0)) if how else (0, 0)
            items.append(
                Item(
                    what=what,
                    kind=kind,
                    per_month=per_month,
                    expected=per_month * months,
                    delivered=delivered.get((business_id, what.casefold()), 0) + messages,
                    sent_as=how,
                    sent=messages,
                    reached=recipients,
                )
            )
        sides.append(SideFigures(business_id, names.get(business_id, ""), role, items))
    return Reciprocity(
        proposal_id=proposal.id,
        title=option.title,
        starts_on=start,
        until=until,
        months=months,
        sides=sides,
        one_sided_business_id=_one_sided(sides),
    )


def record_delivery(
    session: Session,
    actor: Actor,
    *,
    proposal_id: uuid.UUID,
    data: DeliveryCreate,
    user_id: uuid.UUID | None = None,
    today: date | None = None,
) -> Delivery:
    """Record what one side delivered against an exchange or indicator of the terms."""
    proposal, mine, option, start = _agreed(session, actor, proposal_id)
    side = data.business_id or mine.id
    if side not in (proposal.from_business_id, proposal.to_business_id):
        raise Invalid("Only the two parties deliver.", field="business_id")
    role = "proposer" if side == proposal.from_business_id else "partner"
    owed = {what.casefold(): (what, by) for what, _, _, by in _owed(option)}
    match = owed.get(data.what.strip().casefold())
    if match is None:
        names = ", ".join(sorted(w for w, _ in owed.values())) or "nothing"
        raise Invalid(f"Not in the terms; they name: {names}.", field="what")
    if match[1] != role:
        raise Invalid(f"{match[0]!r} is owed by the other side.", field="what")
    today = today or clock.local_today(mine)
    if data.on > today:
        raise Invalid(f"{data.on} is in the future.", field="on")
    if data.on < start:
        raise Invalid(f"{data.on} is before the agreement starts ({start}).", field="on")
    if option.ends_on and data.on > option.ends_on:
        raise Invalid(f"{data.on} is after the agreement ends ({option.ends_on}).", field="on")
    delivery = Delivery(
        proposal_id=proposal.id,
        business_id=side,
        what=match[0],
        quantity=data.quantity,
        on=data.on,
        note=data.note.strip(),
        user_id=user_id,
    )
    session.add(delivery)
    session.flush()
    return delivery


def deliveries(
    session: Session,
    actor: Actor,
    *,
    proposal_id: uuid.UUID,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Delivery], str | None]:
    """Deliveries of an agreement, newest first."""
    proposal, _ = partnerships.get(session, actor, proposal_id)
    query = select(Delivery).where(Delivery.proposal_id == proposal.id)
    query = paging.after(query, (Delivery.on, Delivery.id), cursor)
    rows = list(session.scalars(query.limit(limit + 1)))
    return paging.page(rows, limit, lambda d: (d.on, d.id))
