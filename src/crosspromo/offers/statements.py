"""A statement between two partners for a period: what each owes the other, and the net.

Lines are the accruals between the two businesses in either direction (sales, leads, clicks,
staff rewards and their reversals, which carry the opposite sign). From the viewer's side a
line is `receivable` (the partner owes us) or `payable` (we owe the partner); the net is
receivable minus payable, so a positive net means the partner owes us. Totals are summed by
the database in integer minor units and kept per currency: amounts in different currencies
are never added together.

The period is a range of days, both ends included, in the agreement's time zone: the
proposer's zone (the side that proposed the earliest agreement between the two), so both
sides' statements for the same dates cover the same instants and mirror each other. Without an
agreement the viewer's zone is used.

For barter agreements money does not move, so the statement adds a reciprocity balance: how
many of each side's offers were redeemed at the other and for what order sum (reversals
subtract), and what each side delivered against the exchanges of the terms (the pipeline's
record of deliveries, counted to the end of the period).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from crosspromo import clock, paging
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.errors import Invalid, NotFound
from crosspromo.offers.models import Accrual, Code, Offer, Redemption
from crosspromo.partnerships import service as partnerships
from crosspromo.pipeline import service as pipeline
from crosspromo.roles import Actor, Role

RECEIVABLE = "receivable"  # the partner owes the viewer
PAYABLE = "payable"  # the viewer owes the partner
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Line:
    on: date  # in the statement's time zone
    at: datetime
    kind: str  # sale, lead, click, staff_reward, fixed_fee
    offer_title: str
    order_minor: int | None  # the redemption's order (negative for a reversal)
    amount_minor: int  # signed: a reversal carries the negative
    currency: str
    direction: str  # receivable | payable
    staff_user_id: uuid.UUID | None


@dataclass
class Total:
    currency: str
    receivable: int = 0
    payable: int = 0

    @property
    def net(self) -> int:
        return self.receivable - self.payable


@dataclass(frozen=True)
class Flow:
    """Redemptions of one side's offers at the other side in the period, per currency."""

    issuer_id: uuid.UUID  # whose offers (who sent the customers)
    honouring_id: uuid.UUID  # where they were redeemed
    currency: str
    count: int  # redemptions minus reversals
    order_minor: int


@dataclass
class Reciprocity:
    flows: list[Flow]
    deliveries: list[dict[str, Any]]  # per barter agreement: pipeline.Reciprocity.to_dict()


@dataclass
class Statement:
    business: Business
    partner: Business
    start: date
    end: date
    lines: list[Line]
    totals: list[Total]
    reciprocity: Reciprocity | None
    next_cursor: str | None = None
    barter: bool = False
    timezone: str = ""  # the zone of the statement's days
    agreements: list[uuid.UUID] = field(default_factory=list)


def _window(timezone: str, start: date, end: date) -> tuple[datetime, datetime]:
    period = clock.span(start, end, timezone)
    return period.since, period.until


def agreement_zone(session: Session, actor: Actor, me: Business, partner: Business) -> str:
    """The zone a statement between the two is kept in (see the module's note)."""
    if me.timezone == partner.timezone:
        return me.timezone
    for proposal in partnerships.live_for(session, actor, business_id=me.id):
        if partner.id not in (proposal.from_business_id, proposal.to_business_id):
            continue
        if partnerships.agreement(session, proposal) is None:
            continue
        return me.timezone if proposal.from_business_id == me.id else partner.timezone
    return me.timezone


def _between(me: uuid.UUID, partner: uuid.UUID) -> Any:
    return or_(
        and_(Accrual.payer_business_id == partner, Accrual.payee_business_id == me),
        and_(Accrual.payer_business_id == me, Accrual.payee_business_id == partner),
    )


def parties(
    session: Session, actor: Actor, business_id: uuid.UUID, partner_id: uuid.UUID
) -> tuple[Business, Business]:
    """The viewer's business (manager or owner) and the partner; NotFound for anyone else."""
    me = businesses.get(session, actor, business_id, need=Role.manager)
    partner = session.get(Business, partner_id)
    if partner is None or partner.id == me.id:
        raise NotFound("No such partner.")
    return me, partner


def _agreements(
    session: Session, actor: Actor, me: Business, partner: Business
) -> list[tuple[uuid.UUID, str]]:
    """(proposal id, payment model) of every agreement between the two."""
    found = []
    for proposal in partnerships.live_for(session, actor, business_id=me.id):
        if partner.id not in (proposal.from_business_id, proposal.to_business_id):
            continue
        agreed = partnerships.agreement(session, proposal)
        if agreed is None:
            continue
        terms, index, _ = agreed
        found.append((proposal.id, str(terms.options[index].get("payment_model") or "barter")))
    return found


def lines(
    session: Session,
    me: Business,
    partner: Business,
    start: date,
    end: date,
    *,
    limit: int | None = None,
    cursor: str | None = None,
    timezone: str | None = None,
) -> tuple[list[Line], str | None]:
    """The accruals between the two in the period, oldest first; a page when `limit` is given."""
    if limit == 0:
        return [], None
    timezone = timezone or me.timezone
    lo, hi = _window(timezone, start, end)
    query = (
        select(Accrual, Offer.title, Redemption.order_minor)
        .outerjoin(Code, Code.id == Accrual.code_id)
        .outerjoin(Offer, Offer.id == Code.offer_id)
        .outerjoin(Redemption, Redemption.id == Accrual.redemption_id)
        .where(_between(me.id, partner.id), Accrual.at >= lo, Accrual.at < hi)
    )
    query = paging.after(query, (Accrual.at, Accrual.id), cursor, descending=False)
    if limit is not None:
        query = query.limit(limit + 1)
    zone = clock.zone(timezone)
    found: list[Line] = []
    last: Accrual | None = None
    more = False
    for accrual, title, order_minor in session.execute(query):
        if limit is not None and len(found) == limit:
            more = True  # the one row past the page: something follows
            break
        last = accrual
        found.append(
            Line(
                on=accrual.at.astimezone(zone).date(),
                at=accrual.at,
                kind=accrual.kind,
                offer_title=title or "",
                order_minor=order_minor,
                amount_minor=accrual.amount_minor,
                currency=accrual.currency,
                direction=RECEIVABLE if accrual.payee_business_id == me.id else PAYABLE,
                staff_user_id=accrual.payee_user_id,
            )
        )
    return found, (paging.encode((last.at, last.id)) if more and last is not None else None)


def totals(
    session: Session,
    me: Business,
    partner: Business,
    start: date,
    end: date,
    timezone: str | None = None,
) -> list[Total]:
    """What is owed each way and the net, per currency, summed by the database."""
    lo, hi = _window(timezone or me.timezone, start, end)
    rows = session.execute(
        select(Accrual.currency, Accrual.payee_business_id, func.sum(Accrual.amount_minor))
        .where(_between(me.id, partner.id), Accrual.at >= lo, Accrual.at < hi)
        .group_by(Accrual.currency, Accrual.payee_business_id)
    ).all()
    found: dict[str, Total] = {}
    for currency, payee, amount in rows:
        total = found.setdefault(currency, Total(currency))
        if payee == me.id:
            total.receivable += int(amount or 0)
        else:
            total.payable += int(amount or 0)
    return [found[c] for c in sorted(found)]


@dataclass
class Owed:
    """What one partner and this business owe each other in a currency over a period."""

    partner_id: uuid.UUID
    total: Total


def owed(session: Session, me: Business, start: date, end: date) -> list[Owed]:
    """Every partner's balance with this business for its days `start`..`end`, by the
    database (one grouped query), largest first."""
    lo, hi = _window(me.timezone, start, end)
    rows = session.execute(
        select(
            Accrual.payer_business_id,
            Accrual.payee_business_id,
            Accrual.currency,
            func.sum(Accrual.amount_minor),
        )
        .where(
            or_(Accrual.payer_business_id == me.id, Accrual.payee_business_id == me.id),
            Accrual.payer_business_id != Accrual.payee_business_id,
            Accrual.at >= lo,
            Accrual.at < hi,
        )
        .group_by(Accrual.payer_business_id, Accrual.payee_business_id, Accrual.currency)
    ).all()
    found: dict[tuple[uuid.UUID, str], Owed] = {}
    for payer, payee, currency, amount in rows:
        partner = payer if payee == me.id else payee
        entry = found.setdefault((partner, currency), Owed(partner, Total(currency)))
        if payee == me.id:
            entry.total.receivable += int(amount or 0)
        else:
            entry.total.payable += int(amount or 0)
    return sorted(
        (o for o in found.values() if o.total.receivable or o.total.payable),
        key=lambda o: (-abs(o.total.net), str(o.partner_id), o.total.currency),
    )


def flows(
    session: Session,
    me: Business,
    partner: Business,
    start: date,
    end: date,
    timezone: str | None = None,
) -> list[Flow]:
    """Redemptions of each side's offers at the other, net of reversals, per currency."""
    lo, hi = _window(timezone or me.timezone, start, end)
    found = []
    for issuer, honouring in ((me.id, partner.id), (partner.id, me.id)):
        rows = session.execute(
            select(
                Redemption.currency,
                func.sum(case((Redemption.reverses_id.is_(None), 1), else_=-1)),
                func.sum(Redemption.order_minor),
            )
            .where(
                Redemption.referrer_business_id == issuer,
                Redemption.business_id == honouring,
                Redemption.at >= lo,
                Redemption.at < hi,
            )
            .group_by(Redemption.currency)
            .order_by(Redemption.currency)
        ).all()
        found += [
            Flow(issuer, honouring, currency, int(count or 0), int(order or 0))
            for currency, count, order in rows
        ]
    return found


def statement(
    session: Session,
    actor: Actor,
    business_id: uuid.UUID,
    partner_id: uuid.UUID,
    start: date,
    end: date,
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> Statement:
    """The statement between the actor's business and a partner for a period of days.

    `limit` pages the lines (0: none, for callers that read them with `every_line`)."""
    me, partner = parties(session, actor, business_id, partner_id)
    if end < start:
        raise Invalid("The period ends before it starts.", field="end")
    if (end - start).days > MAX_DAYS:
        raise Invalid(f"Ask for at most {MAX_DAYS} days at a time.", field="end")
    zone = agreement_zone(session, actor, me, partner)
    found, next_cursor = lines(
        session, me, partner, start, end, limit=limit, cursor=cursor, timezone=zone
    )
    agreements = _agreements(session, actor, me, partner)
    barter = [pid for pid, model in agreements if model == "barter"]
    reciprocity = None
    if barter:
        until = min(end, clock.local_today(me))
        reciprocity = Reciprocity(
            flows=flows(session, me, partner, start, end, zone),
            deliveries=[
                pipeline.reciprocity(session, actor, proposal_id=pid, today=until).to_dict()
                for pid in barter
            ],
        )
    return Statement(
        business=me,
        partner=partner,
        start=start,
        end=end,
        lines=found,
        totals=totals(session, me, partner, start, end, zone),
        reciprocity=reciprocity,
        next_cursor=next_cursor,
        barter=bool(barter),
        agreements=[pid for pid, _ in agreements],
        timezone=zone,
    )


def every_line(session: Session, found: Statement, page: int = 1000) -> Iterator[Line]:
    """All lines of the statement's period, read a page at a time (for CSV and PDF)."""
    cursor: str | None = None
    while True:
        chunk, cursor = lines(
            session,
            found.business,
            found.partner,
            found.start,
            found.end,
            limit=page,
            cursor=cursor,
            timezone=found.timezone or None,
        )
        yield from chunk
        if cursor is None:
            return
