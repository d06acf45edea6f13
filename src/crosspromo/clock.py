"""Time truth: periods in a business's IANA zone, with the offset of each instant.

A period is a run of local calendar days. Its edges are local midnights turned into UTC
instants with zoneinfo, so a day is 23 or 25 hours long on a DST change day and a receipt at
exactly local midnight belongs to the day that starts there. SQL filters and buckets rows by
those instants (never by shifting with the zone's offset of today), which is exact on both
engines: PostgreSQL compares timestamptz values, SQLite compares the one stored text format
below, which sorts as the instants do.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, Date, Integer, String, case, cast, func, literal
from sqlalchemy.orm import QueryableAttribute

from crosspromo.db import UTCDateTime

By = Literal["day", "week", "month", "quarter"]
BY: tuple[str, ...] = get_args(By)
# How SQLite stores every timestamp, whatever wrote it (SQLAlchemy's own DATETIME format):
# naive UTC with microseconds, fixed width, so text order is time order.
SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
MAX_PERIODS = 5000
_Column = ColumnElement[Any] | QueryableAttribute[Any]


@cache
def zone(name: str) -> ZoneInfo:
    """The IANA zone; ValueError for an unknown name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def midnight(day: date, timezone: str) -> datetime:
    """The UTC instant at which `day` starts in the zone (the first instant, if ambiguous)."""
    return datetime.combine(day, time(0), zone(timezone)).astimezone(UTC)


def local_date(instant: datetime, timezone: str) -> date:
    """The calendar day of an aware instant in the zone, with that instant's own offset."""
    return instant.astimezone(zone(timezone)).date()


def stored(instant: datetime) -> str:
    """The one text form of an instant on SQLite (what every writing path must store)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime")
    return instant.astimezone(UTC).strftime(SQLITE_FORMAT)


def period_start(day: date, by: str) -> date:
    """The first day of the day/ISO week/month/quarter holding `day`."""
    if by == "day":
        return day
    if by == "week":
        return day - timedelta(days=day.weekday())
    if by == "month":
        return day.replace(day=1)
    if by == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    raise ValueError(f"unknown period {by!r}; use one of {', '.join(BY)}")


def next_start(start: date, by: str) -> date:
    """The first day of the period after the one starting on `start`."""
    if by == "day":
        return start + timedelta(days=1)
    if by == "week":
        return start + timedelta(days=7)
    months = 1 if by == "month" else 3
    if by not in ("month", "quarter"):
        raise ValueError(f"unknown period {by!r}; use one of {', '.join(BY)}")
    total = start.year * 12 + start.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def shift_months(day: date, months: int) -> date:
    """The same day `months` months away, clamped to the month's last day."""
    total = day.year * 12 + day.month - 1 + months
    year, month = total // 12, total % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


@dataclass(frozen=True)
class Period:
    """Local days `start`..`end` (both included) and the UTC instants [since, until)."""

    start: date
    end: date
    since: datetime
    until: datetime
    partial: bool = False

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "partial": self.partial,
        }


def span(start: date, end: date, timezone: str, *, partial: bool = False) -> Period:
    """A custom range of local days as one period."""
    if end < start:
        raise ValueError("the period ends before it starts")
    return Period(
        start, end, midnight(start, timezone), midnight(end + timedelta(1), timezone), partial
    )


def periods(
    start: date,
    end: date,
    by: str,
    timezone: str,
    *,
    data_first: date | None = None,
    data_last: date | None = None,
) -> list[Period]:
    """The periods covering local days start..end, cut to that range.

    A period is partial when the asked range or the data (first..last local day with data)
    does not cover all of its days.
    """
    if end < start:
        raise ValueError("the period ends before it starts")
    found: list[Period] = []
    natural = period_start(start, by)
    while natural <= end:
        following = next_start(natural, by)
        first, last = max(natural, start), min(following - timedelta(days=1), end)
        cut = first != natural or last != following - timedelta(days=1)
        thin = (data_first is not None and data_first > natural) or (
            data_last is not None and data_last < following - timedelta(days=1)
        )
        found.append(span(first, last, timezone, partial=cut or thin))
        if len(found) > MAX_PERIODS:
            raise ValueError(f"more than {MAX_PERIODS} periods; choose a longer period")
        natural = following
    return found


def previous(period: Period, by: str, timezone: str) -> Period:
    """The same stretch of days one period earlier (a cut month compares with the same days)."""
    if by == "day":
        start, end = period.start - timedelta(days=1), period.end - timedelta(days=1)
    elif by == "week":
        start, end = period.start - timedelta(days=7), period.end - timedelta(days=7)
    else:
        months = 1 if by == "month" else 3
        start, end = shift_months(period.start, -months), shift_months(period.end, -months)
        if period.end == next_start(period_start(period.end, by), by) - timedelta(days=1):
            end = next_start(period_start(start, by), by) - timedelta(days=1)
    return span(start, end, timezone)


def year_earlier(period: Period, by: str, timezone: str) -> Period:
    """The same period a year earlier: 52 weeks for days and weeks (same weekdays), else dates."""
    if by in ("day", "week"):
        start, end = period.start - timedelta(weeks=52), period.end - timedelta(weeks=52)
    else:
        start, end = shift_months(period.start, -12), shift_months(period.end, -12)
        if period.end == next_start(period_start(period.end, by), by) - timedelta(days=1):
            end = next_start(period_start(start, by), by) - timedelta(days=1)
    return span(start, end, timezone)


# --- SQL


def instant(value: datetime) -> ColumnElement[datetime]:
    """A bound instant compared as the column is stored."""
    return literal(value, UTCDateTime())


def bucket(column: _Column, edges: Sequence[datetime]) -> ColumnElement[int]:
    """The index i of the interval [edges[i], edges[i+1]) holding each row's instant.

    A balanced tree of CASE comparisons against the edge instants: about log2(n) comparisons
    a row on both engines. Rows outside [edges[0], edges[-1]) get the first or the last
    index, so callers filter to that range.
    """

    def tree(low: int, high: int) -> ColumnElement[int]:
        # Rows known to lie in [edges[low], edges[high]).
        if high - low == 1:
            return literal(low, Integer)
        middle = (low + high) // 2
        return case((column < instant(edges[middle]), tree(low, middle)), else_=tree(middle, high))

    if len(edges) < 2:
        raise ValueError("a bucket needs at least two edges")
    return tree(0, len(edges) - 1)


def transitions(
    timezone: str, since: datetime, until: datetime
) -> list[tuple[datetime, timedelta]]:
    """The zone's UTC offsets over [since, until): (from this instant, this offset), in order."""
    tz = zone(timezone)

    def offset(at: datetime) -> timedelta:
        return at.astimezone(tz).utcoffset() or timedelta()

    found = [(since, offset(since))]
    step = timedelta(hours=12)  # no zone changes its offset twice within 12 hours
    at = since
    while at < until:
        later = min(at + step, until)
        if offset(later) != found[-1][1]:
            low, high = at, later  # the change happens in (low, high]
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if offset(middle) == found[-1][1]:
                    low = middle
                else:
                    high = middle
            found.append((high.replace(microsecond=0), offset(high)))
        at = later
    return found


def local_day(
    column: _Column, timezone: str, since: datetime, until: datetime, dialect: str
) -> ColumnElement[Any]:
    """Each row's local calendar day (valid for rows in [since, until)), DST-correct.

    Shifts each instant by the offset in force at that instant (the zone's transitions inside
    the range come from zoneinfo); a text 'YYYY-MM-DD' on SQLite, a date on PostgreSQL.
    """
    changes = transitions(timezone, since, until)

    def minutes(delta: timedelta) -> int:
        return int(delta.total_seconds() // 60)

    if dialect == "postgresql":

        def shifted(delta: timedelta) -> ColumnElement[Any]:
            return func.timezone("UTC", column) + func.make_interval(
                0, 0, 0, 0, 0, literal(minutes(delta), Integer)
            )

        if len(changes) == 1:
            return cast(shifted(changes[0][1]), Date)
        whens = [(column < instant(at), shifted(prev)) for (_, prev), (at, _) in pairwise(changes)]
        return cast(case(*whens, else_=shifted(changes[-1][1])), Date)

    def modifier(delta: timedelta) -> ColumnElement[str]:
        return literal(f"{minutes(delta):+d} minutes", String)

    # SQLite's date functions keep milliseconds and round, so 23:59:59.999999 would become the
    # next day: drop the fraction first (offsets are whole minutes, seconds are enough).
    seconds = func.substr(column, 1, 19)
    if len(changes) == 1:
        return func.date(seconds, modifier(changes[0][1]))
    whens = [(column < instant(at), modifier(prev)) for (_, prev), (at, _) in pairwise(changes)]
    return func.date(seconds, case(*whens, else_=modifier(changes[-1][1])))


def as_date(value: Any) -> date:
    """A date from what either engine returns for a date expression."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def edges_of(found: Sequence[Period]) -> tuple[list[datetime], list[int | None]]:
    """Sorted distinct edges of non-overlapping periods and, per interval, the period's index."""
    points = sorted({p.since for p in found} | {p.until for p in found})
    owner: list[int | None] = [None] * (len(points) - 1)
    for index, p in enumerate(found):
        owner[bisect.bisect_left(points, p.since)] = index
    return points, owner


__all__ = [
    "BY",
    "By",
    "Period",
    "as_date",
    "bucket",
    "edges_of",
    "local_date",
    "local_day",
    "midnight",
    "next_start",
    "period_start",
    "periods",
    "previous",
    "shift_months",
    "span",
    "stored",
    "transitions",
    "year_earlier",
]
