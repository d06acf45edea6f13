"""Quiet hours in each recipient's own zone, and the zone a phone number implies.

A message due in quiet hours is not dropped: it waits for the first minute after them in the
recipient's zone (the outbox tries it again then). Hours are whole local hours; a range whose
start is after its end wraps midnight (21 to 9), equal hours mean no quiet hours at all.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as phone_zones

from crosspromo import clock
from crosspromo.errors import Invalid

UNKNOWN_ZONE = "Etc/Unknown"


def is_quiet(start: int, end: int, hour: int) -> bool:
    """Whether the local `hour` falls between `start` and `end` (a range may wrap midnight)."""
    if start == end:
        return False
    return start <= hour < end if start < end else hour >= start or hour < end


def next_allowed(now: datetime, zone: str, start: int, end: int) -> datetime | None:
    """The UTC instant of the first minute after the quiet hours `now` falls in (None: it
    does not), counted in wall-clock time of `zone`, so a DST change keeps 09:00 at 09:00."""
    local = now.astimezone(ZoneInfo(zone))
    if not is_quiet(start, end, local.hour):
        return None
    after = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if after <= local:
        after += timedelta(days=1)  # aware arithmetic on a ZoneInfo datetime is wall-clock
    return after.astimezone(UTC)


def check_zone(name: str) -> str:
    """An IANA zone name as given; Invalid (on `timezone`) for an unknown one."""
    try:
        clock.zone(name)
    except ValueError:
        raise Invalid(
            f"{name!r} is not a time zone (e.g. Europe/Moscow).", field="timezone"
        ) from None
    return name


def zone_of_phone(e164: str) -> str | None:
    """The phone's zone when its number has exactly one (most of Russia's have several)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    zones = [z for z in phone_zones.time_zones_for_number(number) if z != UNKNOWN_ZONE]
    return zones[0] if len(zones) == 1 else None


def check_hours(start: int | None, end: int | None) -> None:
    """Both hours or neither, each 0 to 23."""
    if (start is None) != (end is None):
        raise Invalid("Give both the start and the end of quiet hours.", field="quiet_from")
    if start is not None and end is not None and not (0 <= start <= 23 and 0 <= end <= 23):
        raise Invalid("Hours from 0 to 23.", field="quiet_from")
