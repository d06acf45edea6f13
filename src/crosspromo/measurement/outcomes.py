"""What an issuer's customers did at the honouring partner: receipts and revenue per customer.

The issuer's customer and the partner's customer are the same person when their keyed e-mail
or phone hashes match (the install secret makes the hashes comparable across businesses and
nothing more). Receipts come from imported sales; a redemption whose customer is known counts as
a purchase too, and carries the order's amount when the partner's sales are not imported.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from crosspromo.customers.models import Customer
from crosspromo.offers.models import Code, Offer, Redemption
from crosspromo.sales.models import Transaction

SENT_LABEL = "sent to customer "  # offers.distribution marks an e-mailed code this way


@dataclass(frozen=True)
class Window:
    """A campaign window and the equally long period right before it, as UTC instants."""

    pre_start: datetime
    start: datetime
    end: datetime  # exclusive

    @classmethod
    def of_days(cls, first: date, last: date, zone: str, *, pre_days: int | None = None) -> Window:
        """Local days `first`..`last` (both included) in `zone`, each day with its own offset."""
        tz = ZoneInfo(zone)
        days = (last - first).days + 1
        pre = pre_days if pre_days is not None else days

        def at(day: date) -> datetime:
            return datetime.combine(day, time(0), tz).astimezone(ZoneInfo("UTC"))

        return cls(
            pre_start=at(first - timedelta(days=pre)),
            start=at(first),
            end=at(last + timedelta(days=1)),
        )


@dataclass
class Outcomes:
    """Per customer of the audience, in one order: arm, window and pre-period figures."""

    customer_ids: list[uuid.UUID]
    treated: NDArray[np.bool_]
    receipts: NDArray[np.int64]  # purchases in the window
    revenue: NDArray[np.int64]  # minor units spent in the window
    pre_receipts: NDArray[np.int64]
    pre_revenue: NDArray[np.int64]
    redeemed: int = 0  # purchases known only from redemptions
    sources: set[str] = field(default_factory=set)

    @property
    def converted(self) -> NDArray[np.bool_]:
        return self.receipts > 0


def _hashes_match(issuer: type[Customer], partner: type[Customer]) -> ColumnElement[bool]:
    return or_(
        partner.email_hash == issuer.email_hash,
        partner.phone_hash == issuer.phone_hash,
    )


def collect(
    session: Session,
    *,
    audience: Select[uuid.UUID, bool],
    honouring_id: uuid.UUID,
    window: Window,
    offer_ids: list[uuid.UUID] | None = None,
) -> Outcomes:
    """Figures for the customers `audience` selects as (issuer customer id, treated)."""
    rows: list[Any] = list(session.execute(audience))
    ids: list[uuid.UUID] = [r[0] for r in rows]
    index = {cid: i for i, cid in enumerate(ids)}
    n = len(ids)
    out = Outcomes(
        customer_ids=ids,
        treated=np.array([bool(r[1]) for r in rows], dtype=np.bool_),
        receipts=np.zeros(n, dtype=np.int64),
        revenue=np.zeros(n, dtype=np.int64),
        pre_receipts=np.zeros(n, dtype=np.int64),
        pre_revenue=np.zeros(n, dtype=np.int64),
    )
    if not n:
        return out
    who = audience.with_only_columns(audience.selected_columns[0]).subquery()
    issuer, partner = aliased(Customer), aliased(Customer)
    in_window = Transaction.at >= window.start
    query = (
        select(
            issuer.id,
            in_window,
            func.count(Transaction.id),
            func.coalesce(func.sum(Transaction.amount_minor), 0),
        )
        .select_from(issuer)
        .join(
            partner,
            and_(partner.business_id == honouring_id, _hashes_match(issuer, partner)),
        )
        .join(Transaction, Transaction.customer_id == partner.id)
        .where(
            issuer.id.in_(select(who.c[0])),
            Transaction.business_id == honouring_id,
            Transaction.at >= window.pre_start,
            Transaction.at < window.end,
        )
        .group_by(issuer.id, in_window)
    )
    for customer_id, during, count, amount in session.execute(query):
        i = index[customer_id]
        if during:
            out.receipts[i] += int(count)
            out.revenue[i] += int(amount)
        else:
            out.pre_receipts[i] += int(count)
            out.pre_revenue[i] += int(amount)
    if out.receipts.any() or out.pre_receipts.any():
        out.sources.add("sales")
    if offer_ids:
        _add_redemptions(session, out, who, honouring_id, window, offer_ids)
    return out


def _add_redemptions(
    session: Session,
    out: Outcomes,
    who: object,
    honouring_id: uuid.UUID,
    window: Window,
    offer_ids: list[uuid.UUID],
) -> None:
    """Redemptions in the window of the audience's known customers (by hash or e-mailed code)."""
    index = {cid: i for i, cid in enumerate(out.customer_ids)}
    by_hash: dict[str, int] = {}
    hashes = select(Customer.id, Customer.email_hash, Customer.phone_hash).where(
        Customer.id.in_(select(who.c[0]))  # type: ignore[attr-defined]
    )
    for cid, email_hash, phone_hash in session.execute(hashes):
        for h in (email_hash, phone_hash):
            if h:
                by_hash[h] = index[cid]
    reversed_ids = select(Redemption.reverses_id).where(Redemption.reverses_id.is_not(None))
    query = (
        select(Redemption.customer_hash, Code.label, Redemption.order_minor)
        .join(Code, Code.id == Redemption.code_id)
        .where(
            Redemption.offer_id.in_(offer_ids),
            Redemption.business_id == honouring_id,
            Redemption.reverses_id.is_(None),
            Redemption.id.not_in(reversed_ids),
            Redemption.at >= window.start,
            Redemption.at < window.end,
        )
    )
    from_sales = "sales" in out.sources
    extra: dict[int, list[int]] = defaultdict(list)
    for customer_hash, label, order_minor in session.execute(query):
        i: int | None = by_hash.get(customer_hash or "")
        if i is None and label.startswith(SENT_LABEL):
            try:
                i = index.get(uuid.UUID(label[len(SENT_LABEL) :]))
            except ValueError:
                i = None
        if i is not None:
            extra[i].append(int(order_minor))
    for i, orders in extra.items():
        if out.receipts[i] == 0:  # a purchase the imported sales do not show (yet)
            out.receipts[i] += len(orders)
            out.redeemed += len(orders)
            if not from_sales:
                out.revenue[i] += sum(orders)
    if extra:
        out.sources.add("redemptions")


def campaign_offers(session: Session, campaign_id: uuid.UUID) -> list[Offer]:
    return list(
        session.scalars(
            select(Offer).where(Offer.campaign_id == campaign_id).order_by(Offer.created_at)
        )
    )


def partner_customers_outside(
    session: Session,
    *,
    audience_ids: Select[uuid.UUID],
    issuer_id: uuid.UUID,
    honouring_id: uuid.UUID,
    window: Window,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """The partner's other customers (not in the audience): window and pre-period figures.

    The comparison group of a difference-in-differences when a campaign has no holdout.
    """
    issuer, partner = aliased(Customer), aliased(Customer)
    matched = (
        select(partner.id)
        .join(issuer, and_(issuer.business_id == issuer_id, _hashes_match(issuer, partner)))
        .where(partner.business_id == honouring_id, issuer.id.in_(audience_ids))
    )
    in_window = case((Transaction.at >= window.start, 1), else_=0)
    query = (
        select(
            Transaction.customer_id,
            func.sum(in_window),
            func.sum(1 - in_window),
            func.sum(Transaction.amount_minor * in_window),
            func.sum(Transaction.amount_minor * (1 - in_window)),
        )
        .where(
            Transaction.business_id == honouring_id,
            Transaction.customer_id.is_not(None),
            Transaction.customer_id.not_in(matched),
            Transaction.at >= window.pre_start,
            Transaction.at < window.end,
        )
        .group_by(Transaction.customer_id)
    )
    rows = np.array([[int(v) for v in r[1:]] for r in session.execute(query)], dtype=np.int64)
    if not len(rows):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    return rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
