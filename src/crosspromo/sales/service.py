"""Sales figures of one business: by week, top products, totals."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from crosspromo import clock
from crosspromo.sales.models import Transaction


@dataclass(frozen=True)
class Week:
    """An ISO week (Monday start) of local days; `partial` when the data covers only part."""

    start: date
    receipts: int
    revenue_minor: int
    partial: bool = False
    end: date | None = None


@dataclass(frozen=True)
class Totals:
    receipts: int
    revenue_minor: int
    first: datetime | None
    last: datetime | None

    @property
    def average_minor(self) -> int:
        return self.revenue_minor // self.receipts if self.receipts else 0


def totals(session: Session, *, business_id: uuid.UUID) -> Totals:
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Transaction.amount_minor), 0),
            func.min(Transaction.at),
            func.max(Transaction.at),
        ).where(Transaction.business_id == business_id)
    ).one()
    first, last = row[2], row[3]
    return Totals(int(row[0]), int(row[1]), first, last)


def weekly(
    session: Session,
    *,
    business_id: uuid.UUID,
    timezone: str,
    weeks: int = 26,
    until: datetime | None = None,
) -> list[Week]:
    """Receipts and revenue per ISO week of local days (DST-correct) for the last `weeks`
    weeks of data; the first and last weeks are flagged when the data covers only part."""
    totals_ = totals(session, business_id=business_id)
    end = until or totals_.last
    if end is None or totals_.first is None:
        return []
    first_day = clock.local_date(totals_.first, timezone)
    last_day = clock.local_date(end, timezone)
    if last_day < first_day:
        return []
    first_week = clock.period_start(last_day, "week") - timedelta(weeks=weeks - 1)
    found = clock.periods(
        max(first_week, clock.period_start(first_day, "week")),
        clock.period_start(last_day, "week") + timedelta(days=6),
        "week",
        timezone,
        data_first=first_day,
        data_last=last_day,
    )
    edges, owner = clock.edges_of(found)
    base = (
        select(clock.bucket(Transaction.at, edges).label("b"), Transaction.amount_minor.label("m"))
        .where(
            Transaction.business_id == business_id,
            Transaction.at >= clock.instant(edges[0]),
            Transaction.at < clock.instant(min(edges[-1], end + timedelta(microseconds=1))),
        )
        .subquery()
    )
    rows = session.execute(
        select(base.c.b, func.count(), func.sum(base.c.m)).group_by(base.c.b)
    ).all()
    sums = {int(b): (int(n), int(m or 0)) for b, n, m in rows}
    result = []
    for index, p in enumerate(found):
        interval = edges.index(p.since)
        receipts, revenue = sums.get(interval, (0, 0))
        assert owner[interval] == index
        result.append(Week(p.start, receipts, revenue, p.partial, p.end))
    return result


def top_products(
    session: Session, *, business_id: uuid.UUID, days: int = 90, limit: int = 10
) -> list[tuple[str, int]]:
    """The most sold items in the last `days` days of data (by number of receipts)."""
    end = session.scalar(
        select(func.max(Transaction.at)).where(Transaction.business_id == business_id)
    )
    if end is None:
        return []
    counter: Counter[str] = Counter()
    query = (
        select(Transaction.items)
        .where(
            Transaction.business_id == business_id,
            Transaction.at > end - timedelta(days=days),
            Transaction.items != "",
        )
        .execution_options(yield_per=5000)
    )
    for items in session.scalars(query):
        counter.update(i for i in items.split(";") if not i.startswith("PROMO:"))
    return counter.most_common(limit)


@dataclass(frozen=True)
class Figures:
    """A business's figures over a period of local calendar days (both ends included)."""

    start: date
    end: date
    receipts: int
    revenue_minor: int
    customers: int

    @property
    def average_check_minor(self) -> int:
        return self.revenue_minor // self.receipts if self.receipts else 0

    def as_dict(self) -> dict[str, int]:
        return {
            "revenue": self.revenue_minor,
            "receipts": self.receipts,
            "average_check": self.average_check_minor,
            "customers": self.customers,
        }


def figures(
    session: Session, *, business_id: uuid.UUID, timezone: str, start: date, end: date
) -> Figures:
    """Receipts, revenue and distinct customers between two local days, from imported sales."""
    period = clock.span(start, end, timezone)
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Transaction.amount_minor), 0),
            func.count(func.distinct(Transaction.customer_id)),
        ).where(
            Transaction.business_id == business_id,
            Transaction.at >= clock.instant(period.since),
            Transaction.at < clock.instant(period.until),
        )
    ).one()
    return Figures(start, end, int(row[0]), int(row[1]), int(row[2]))


def _midnights(session: Session, business_id: uuid.UUID, timezone: str) -> list[datetime]:
    """The local midnights (as UTC instants) of every day that has receipts' data around it."""
    found = totals(session, business_id=business_id)
    if found.first is None or found.last is None:
        return []
    day = clock.local_date(found.first, timezone)
    last = clock.local_date(found.last, timezone)
    result = []
    while day <= last:
        result.append(clock.midnight(day, timezone))
        day += timedelta(days=1)
    return result


def date_only_receipts(session: Session, *, business_id: uuid.UUID, timezone: str) -> int:
    """Receipts at exactly a local midnight of the zone: what date-only exports import as."""
    midnights = _midnights(session, business_id, timezone)
    total = 0
    for i in range(0, len(midnights), 500):
        chunk = [clock.instant(m) for m in midnights[i : i + 500]]
        total += int(
            session.scalar(
                select(func.count()).where(
                    Transaction.business_id == business_id, Transaction.at.in_(chunk)
                )
            )
            or 0
        )
    return total


def move_date_only_receipts(
    session: Session, *, business_id: uuid.UUID, old_zone: str, new_zone: str
) -> int:
    """Re-read date-only receipts in a new zone: local midnight of `old_zone` becomes local
    midnight of `new_zone` on the same date. Returns how many receipts moved."""
    moved = 0
    pairs = [
        (m, clock.midnight(clock.local_date(m, old_zone), new_zone))
        for m in _midnights(session, business_id, old_zone)
    ]
    for i in range(0, len(pairs), 200):
        chunk = pairs[i : i + 200]
        # One statement per chunk reads every row's old value, so no row moves twice.
        mapping = case(
            *[(Transaction.at == clock.instant(old), clock.instant(new)) for old, new in chunk],
            else_=Transaction.at,
        )
        result = session.execute(
            update(Transaction)
            .where(
                Transaction.business_id == business_id,
                Transaction.at.in_([clock.instant(old) for old, _ in chunk]),
            )
            .values(at=mapping)
            .execution_options(synchronize_session=False)
        )
        moved += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return moved


def first_purchases(
    session: Session, *, business_id: uuid.UUID, since: datetime, until: datetime
) -> list[tuple[uuid.UUID, datetime]]:
    """Customers whose first receipt at the business falls in [since, until], with its time."""
    first = func.min(Transaction.at)
    rows = session.execute(
        select(Transaction.customer_id, first)
        .where(Transaction.business_id == business_id, Transaction.customer_id.is_not(None))
        .group_by(Transaction.customer_id)
        .having(first >= since, first <= until)
    ).all()
    return [(customer_id, at) for customer_id, at in rows if customer_id is not None]
