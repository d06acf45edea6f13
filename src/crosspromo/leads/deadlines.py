"""Response deadlines counted in working hours, in the specialist's business's time zone.

A lead offered on Friday at 17:30 with two working hours to answer, in a business working
9:00-18:00 Monday to Friday, is due on Monday at 10:30 local time. Each working window's
edges are local wall times turned into instants, so a DST change inside a window counts the
real minutes that pass.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from crosspromo import clock

MAX_DAYS = 800  # no working day for this long: the hours are wrong, not the arithmetic


def _edges(day: date, timezone: str, hour_from: int, hour_until: int) -> tuple[datetime, datetime]:
    zone = clock.zone(timezone)
    opens = datetime.combine(day, time(hour_from), zone).astimezone(UTC)
    if hour_until >= 24:
        closes = clock.midnight(day + timedelta(days=1), timezone).astimezone(UTC)
    else:
        closes = datetime.combine(day, time(hour_until), zone).astimezone(UTC)
    return opens, closes


def add_working_minutes(
    start: datetime,
    minutes: int,
    *,
    timezone: str,
    days: int = 0b0011111,
    hour_from: int = 9,
    hour_until: int = 18,
) -> datetime:
    """The instant `minutes` of working time after `start` (days: bit 0 = Monday)."""
    if days & 0b1111111 == 0 or hour_until <= hour_from:
        raise ValueError("no working time")
    left = timedelta(minutes=minutes)
    at = start.astimezone(UTC)
    day = clock.local_date(at, timezone)
    for _ in range(MAX_DAYS):
        if days & (1 << day.weekday()):
            opens, closes = _edges(day, timezone, hour_from, hour_until)
            if at < closes:
                begin = max(at, opens)
                if begin + left <= closes:
                    return begin + left
                left -= closes - begin
        day += timedelta(days=1)
    raise ValueError("no working time")
