"""Days and months in a business's own time zone, whatever the server's.

Periods come from here so that every capability cuts a day or a month at the same instant.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Zoned(Protocol):
    """Anything with an IANA time zone name, such as a business."""

    timezone: str


def local_today(business: Zoned) -> date:
    """Today in the business's time zone."""
    return datetime.now(ZoneInfo(business.timezone)).date()


def month_window(business: Zoned, month: date) -> tuple[datetime, datetime]:
    """The month as a UTC interval [start, end) in the business's time zone."""
    tz = ZoneInfo(business.timezone)
    first = month.replace(day=1)
    following = add_months(first, 1)
    return (
        datetime.combine(first, time(), tz).astimezone(UTC),
        datetime.combine(following, time(), tz).astimezone(UTC),
    )


def add_months(day: date, n: int) -> date:
    """The same day `n` months later (or earlier), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + n
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def months_elapsed(start: date, until: date) -> float:
    """Months from `start` through `until` (inclusive), counted from the start day."""
    end = until + timedelta(days=1)
    if end <= start:
        return 0.0
    whole = 0
    while add_months(start, whole + 1) <= end:
        whole += 1
    period_start, period_end = add_months(start, whole), add_months(start, whole + 1)
    return whole + (end - period_start).days / (period_end - period_start).days


def working_days(first: date, last: date) -> int:
    """Monday to Friday from `first` through `last`."""
    days, day = 0, first
    while day <= last:
        days += day.weekday() < 5
        day += timedelta(days=1)
    return days
