"""Parsing one cell: each function returns the clean value or raises CellError(reason)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_precision


class CellError(ValueError):
    pass


YES = {"yes", "y", "true", "1", "да", "д", "+", "согласен", "согласна"}
NO = {"no", "n", "false", "0", "нет", "н", "-", ""}
AMOUNT = re.compile(r"^(-?)(\d+)(?:[.,](\d+))?$")
MAX_MINOR = 10**11


def text(value: str, limit: int, column: str) -> str:
    if len(value) > limit:
        raise CellError(f"longer than {limit} characters")
    return value


def integer(value: str, low: int, high: int) -> int | None:
    cleaned = value.replace(" ", "").replace("\u00a0", "")
    if not cleaned:
        return None
    try:
        number = int(cleaned)
    except ValueError:
        raise CellError(f"{value!r} is not a whole number") from None
    if not low <= number <= high:
        raise CellError(f"{number} is outside {low}..{high}")
    return number


def decimal_number(value: str, low: float, high: float) -> float | None:
    cleaned = value.replace(",", ".").strip()
    if not cleaned:
        return None
    try:
        number = float(cleaned)
    except ValueError:
        raise CellError(f"{value!r} is not a number") from None
    if not low <= number <= high:
        raise CellError(f"{value} is outside {low}..{high}")
    return number


@cache
def precision(currency: str) -> int:
    return int(get_currency_precision(currency))


def money(value: str, currency: str, *, allow_negative: bool = False) -> int:
    """'1 350,50' -> 135050 (minor units), exact through Decimal."""
    cleaned = value.replace(" ", "").replace("\u00a0", "")
    match = AMOUNT.match(cleaned)
    if match is None:
        raise CellError(f"{value!r} is not an amount (use 1350.50 or 1350,50)")
    sign, whole, fraction = match.groups()
    digits = precision(currency)
    if len(fraction or "") <= digits and len(whole) <= 15:
        # Exact integer arithmetic for the common case; Decimal below for the rest.
        minor = int(whole) * 10**digits + int((fraction or "").ljust(digits, "0") or 0)
        minor = -minor if sign else minor
        if minor < 0 and not allow_negative:
            raise CellError("must not be negative")
        if abs(minor) > MAX_MINOR:
            raise CellError(f"{value} is implausibly large")
        return minor
    amount = Decimal(cleaned.replace(",", "."))
    try:
        scaled = amount.scaleb(precision(currency))
    except InvalidOperation:
        raise CellError(f"{value!r} is not an amount") from None
    if scaled != scaled.to_integral_value():
        raise CellError(f"{value!r} has more decimal places than {currency} allows")
    minor = int(scaled)
    if minor < 0 and not allow_negative:
        raise CellError("must not be negative")
    if abs(minor) > MAX_MINOR:
        raise CellError(f"{value} is implausibly large")
    return minor


def iso_date(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise CellError(f"{value!r} is not a date (use YYYY-MM-DD)") from None


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def moment(value: str, timezone: str) -> datetime:
    """ISO 8601; without an offset it is read in the business's time zone."""
    if not value:
        raise CellError("is empty")
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "T", 1) if "T" not in value else value)
    except ValueError:
        raise CellError(f"{value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(timezone))
    if not 1990 <= parsed.year <= 2100:
        raise CellError(f"{value!r} is outside 1990..2100")
    return parsed


def consent(value: str) -> tuple[bool, date | None]:
    """yes/no (in English or Russian), or the date consent was given."""
    lowered = value.strip().lower()
    if lowered in YES:
        return True, None
    if lowered in NO:
        return False, None
    try:
        return True, date.fromisoformat(lowered[:10])
    except ValueError:
        raise CellError(f"{value!r} is not yes, no or a date") from None
