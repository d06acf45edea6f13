"""Sales figures of one business: by week, top products, totals."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, cast, func, literal_column, select
from sqlalchemy.orm import Session

from crosspromo.sales.models import Transaction


@dataclass(frozen=True)
class Week:
    start: date
    receipts: int
    revenue_minor: int


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


def _local_day(session: Session, timezone: str) -> ColumnElement[date]:
    """The receipt's calendar day in the business's time zone, computed by the database."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(timezone, Transaction.at), Date)
    # SQLite has no time zones: shift by the zone's current offset (exact for zones without DST).
    offset = ZoneInfo(timezone).utcoffset(datetime.now(UTC).replace(tzinfo=None)) or timedelta()
    minutes = int(offset.total_seconds() // 60)
    return func.date(Transaction.at, literal_column(f"'{minutes:+d} minutes'"))


def weekly(
    session: Session,
    *,
    business_id: uuid.UUID,
    timezone: str,
    weeks: int = 26,
    until: datetime | None = None,
) -> list[Week]:
    """Receipts and revenue per ISO week (Monday start) for the last `weeks` weeks of data."""
    end = until or session.scalar(
        select(func.max(Transaction.at)).where(Transaction.business_id == business_id)
    )
    if end is None:
        return []
    since = end - timedelta(weeks=weeks)
    day = _local_day(session, timezone).label("day")
    rows = session.execute(
        select(day, func.count(), func.sum(Transaction.amount_minor))
        .where(
            Transaction.business_id == business_id, Transaction.at > since, Transaction.at <= end
        )
        .group_by(day)
    ).all()
    buckets: dict[date, list[int]] = {}
    for raw_day, receipts, revenue in rows:
        d = raw_day if isinstance(raw_day, date) else date.fromisoformat(str(raw_day))
        start = d - timedelta(days=d.weekday())
        bucket = buckets.setdefault(start, [0, 0])
        bucket[0] += int(receipts)
        bucket[1] += int(revenue or 0)
    return [Week(start, r, m) for start, (r, m) in sorted(buckets.items())]


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
    zone = ZoneInfo(timezone)
    since = datetime.combine(start, datetime.min.time(), zone).astimezone(UTC)
    until = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Transaction.amount_minor), 0),
            func.count(func.distinct(Transaction.customer_id)),
        ).where(
            Transaction.business_id == business_id,
            Transaction.at >= since,
            Transaction.at < until,
        )
    ).one()
    return Figures(start, end, int(row[0]), int(row[1]), int(row[2]))
