"""What people type, read the way they mean it: dates, numbers, money and percents.

Dates: ISO 8601, `DD.MM.YYYY[ HH:MM[:SS]]`, `DD/MM/YYYY` (or `MM/DD/YYYY` when told), Excel
serial numbers. A date without a time is local midnight in the business's zone. Numbers as
Russians write them: `10,5`, `3 000,50` (a normal, no-break or narrow no-break space between
thousands), money with `₽`, `руб.`, `р.`, percents with `%`. Each parser raises InputError
with a message for the person who typed the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision

from crosspromo import clock


class InputError(ValueError):
    """The value cannot be read; the message says why, for the person who typed it."""


# --- dates

DATE_FORMATS = {
    "iso": "iso",
    "yyyy-mm-dd": "iso",
    "dmy": "dmy",
    "dd.mm.yyyy": "dmy",
    "dd/mm/yyyy": "dmy",
    "mdy": "mdy",
    "mm/dd/yyyy": "mdy",
}
EXCEL_EPOCH = datetime(1899, 12, 30)  # Excel's day 0 (it counts a 29 Feb 1900 that never was)
YEARS = (1900, 2100)
_DAY_FIRST = re.compile(
    r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?$"
)
_SERIAL = re.compile(r"^\d{5}(?:[.,]\d+)?$")


def date_format(name: str | None) -> str | None:
    """'DD/MM/YYYY', 'MM/DD/YYYY', 'DD.MM.YYYY', 'YYYY-MM-DD' (or dmy/mdy/iso) -> its kind."""
    if name is None or not name.strip():
        return None
    kind = DATE_FORMATS.get(name.strip().lower())
    if kind is None:
        raise InputError(f"unknown date format {name!r}; use DD/MM/YYYY, MM/DD/YYYY or YYYY-MM-DD")
    return kind


@dataclass(frozen=True)
class Moment:
    """A parsed date-time: `local` (naive wall time) or `aware` (it carried an offset)."""

    local: datetime | None
    aware: datetime | None
    date_only: bool
    # For D/M/Y with slashes: which orders the value fits ("dmy", "mdy"); empty otherwise.
    fits: frozenset[str] = frozenset()

    def instant(self, timezone: str) -> datetime:
        """The UTC instant; wall times (and date-only midnights) are read in `timezone`."""
        if self.aware is not None:
            return self.aware.astimezone(UTC)
        assert self.local is not None
        return self.local.replace(tzinfo=clock.zone(timezone)).astimezone(UTC)


def _check_year(year: int, text: str) -> None:
    if not YEARS[0] <= year <= YEARS[1]:
        raise InputError(f"{text!r}: the year is outside {YEARS[0]}..{YEARS[1]}")


def _dmy(match: re.Match[str], text: str, order: str) -> datetime:
    a, sep, b, year, hh, mm, ss, frac = match.groups()
    day, month = (int(a), int(b)) if order == "dmy" else (int(b), int(a))
    _check_year(int(year), text)
    try:
        moment = datetime(int(year), month, day)
        if hh is not None:
            micro = int((frac or "0").ljust(6, "0"))
            moment = datetime.combine(moment.date(), time(int(hh), int(mm), int(ss or 0), micro))
    except ValueError:
        raise InputError(f"{text!r} is not a real date or time") from None
    return moment


def parse_moment(text: str, *, order: str | None = None) -> Moment:
    """A date or date-time as typed; `order` ('dmy', 'mdy', 'iso') settles D/M vs M/D."""
    value = text.strip()
    if not value:
        raise InputError("is empty")
    match = _DAY_FIRST.match(value)
    if match is not None:
        a, sep, b = int(match.group(1)), match.group(2), int(match.group(3))
        date_only = match.group(5) is None
        if sep == "." or order == "dmy":
            return Moment(_dmy(match, value, "dmy"), None, date_only)
        if order == "mdy":
            return Moment(_dmy(match, value, "mdy"), None, date_only)
        fits = frozenset(
            o for o, (d, m) in (("dmy", (a, b)), ("mdy", (b, a))) if 1 <= d <= 31 and 1 <= m <= 12
        )
        if not fits:
            raise InputError(f"{value!r} is not a date")
        # Provisional reading; a whole file decides (see DateOrder) when both orders fit.
        first = "dmy" if "dmy" in fits else "mdy"
        return Moment(_dmy(match, value, first), None, date_only, fits)
    if _SERIAL.match(value):
        serial = Decimal(value.replace(",", "."))
        moment = EXCEL_EPOCH + timedelta(days=float(serial))
        moment = moment.replace(microsecond=0) + timedelta(
            seconds=round(moment.microsecond / 1_000_000)
        )
        _check_year(moment.year, value)
        return Moment(moment, None, serial == serial.to_integral_value())
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{value!r} is not a date (use 2026-11-20, 20.11.2026 or 20.11.2026 10:15)"
        ) from None
    _check_year(parsed.year, value)
    date_only = len(value) <= 10
    if parsed.tzinfo is not None:
        return Moment(None, parsed, False)
    return Moment(parsed, None, date_only)


def parse_date(text: str, *, order: str | None = None) -> date:
    """A calendar date as typed (no time); ambiguous D/M/Y is read day first unless told."""
    moment = parse_moment(text, order=order or "dmy")
    if not moment.date_only:
        raise InputError(f"{text.strip()!r} has a time; give only the date")
    assert moment.local is not None
    return moment.local.date()


@dataclass
class DateOrder:
    """Watches the D/M/Y values of one file: a file whose values fit both day-first and
    month-first is ambiguous unless told; one that only fits month-first needs saying so."""

    told: str | None = None
    ambiguous_line: int | None = None
    ambiguous_value: str = ""
    proves: dict[str, tuple[int, str]] = field(default_factory=dict)

    def see(self, line: int, text: str, moment: Moment) -> None:
        if self.told is not None or not moment.fits:
            return
        if len(moment.fits) == 1:
            self.proves.setdefault(next(iter(moment.fits)), (line, text))
        elif self.ambiguous_line is None:
            self.ambiguous_line, self.ambiguous_value = line, text

    def problem(self) -> tuple[int, str] | None:
        """(line, message) when the file's dates cannot be read as day first."""
        if self.told is not None:
            return None
        if "mdy" in self.proves:
            line, text = self.proves["mdy"]
            if "dmy" in self.proves:
                other = self.proves["dmy"]
                return line, (
                    f"{text!r} is month first but line {other[0]} ({other[1]!r}) is day first; "
                    "use one date format in the file"
                )
            return line, (
                f"{text!r} reads only as MM/DD/YYYY; choose the date format MM/DD/YYYY "
                "(--date-format) to import this file"
            )
        if self.ambiguous_line is not None and "dmy" not in self.proves:
            return self.ambiguous_line, (
                f"{self.ambiguous_value!r} could be day/month or month/day; choose the date "
                "format (--date-format DD/MM/YYYY or MM/DD/YYYY)"
            )
        return None


# --- numbers, money, percent

_SPACES = dict.fromkeys(map(ord, " \u00a0\u202f\u2009\u2007'"), None)
_NUMBER = re.compile(r"^[+-]?(\d+(?:[.,]\d+)?|[.,]\d+)$")
CURRENCY_MARKS = {
    "RUB": ("₽", "руб.", "руб", "р.", "р", "rub"),
    "USD": ("$", "usd"),
    "EUR": ("€", "eur"),
}
_ALL_MARKS = sorted({m for ms in CURRENCY_MARKS.values() for m in ms}, key=len, reverse=True)


def _strip_minus(value: str) -> str:
    return value.replace("\u2212", "-").replace("\u2013", "-")


def parse_number(text: str) -> Decimal:
    """'10,5' -> 10.5; '3 000,50' -> 3000.50; '1,234.5' -> 1234.5 (both marks: the last one
    is the decimal point)."""
    value = _strip_minus(text.strip()).translate(_SPACES)
    if not value:
        raise InputError("is empty")
    if "," in value and "." in value:
        decimal_mark = "," if value.rfind(",") > value.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        whole, _, fraction = value.rpartition(decimal_mark)
        groups = whole.lstrip("+-").split(thousands)
        if any(len(g) != 3 for g in groups[1:]) or not groups[0]:
            raise InputError(f"{text.strip()!r} is not a number")
        value = whole.replace(thousands, "") + "." + fraction
    elif value.count(",") > 1 or value.count(".") > 1:
        # '1,953,125' or '1.953.125': only thousands marks repeat. One comma alone is the
        # Russian decimal comma ('10,5').
        mark = "," if value.count(",") > 1 else "."
        groups = value.lstrip("+-").split(mark)
        if any(len(g) != 3 for g in groups[1:]) or not groups[0] or len(groups[0]) > 3:
            raise InputError(f"{text.strip()!r} is not a number")
        value = value.replace(mark, "")
    if not _NUMBER.match(value):
        raise InputError(f"{text.strip()!r} is not a number (use 10,5 or 3 000,50)")
    try:
        return Decimal(value.replace(",", "."))
    except InvalidOperation:
        raise InputError(f"{text.strip()!r} is not a number") from None


def parse_money(text: str, currency: str, *, allow_negative: bool = False) -> int:
    """'3 000,50 ₽' -> 300050 minor units of `currency`; a mark of another currency is refused."""
    value = text.strip().lower()
    for mark in _ALL_MARKS:
        if value.endswith(mark) or value.startswith(mark):
            owner = next(c for c, ms in CURRENCY_MARKS.items() if mark in ms)
            if owner != currency.upper():
                raise InputError(f"{text.strip()!r} is in {owner}, not {currency}")
            value = value.removesuffix(mark) if value.endswith(mark) else value.removeprefix(mark)
            break
    amount = parse_number(value)
    digits = int(get_currency_precision(currency.upper()))
    scaled = amount.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise InputError(f"{text.strip()!r} has more decimal places than {currency} allows")
    minor = int(scaled)
    if minor < 0 and not allow_negative:
        raise InputError(f"{text.strip()!r} must not be negative")
    return minor


def parse_percent(text: str) -> Decimal:
    """'15 %', '15,5%' or '15,5' -> percent points (15.5)."""
    value = text.strip().removesuffix("%").strip()
    return parse_number(value)


def percent_bp(text: str) -> int:
    """Percent as basis points ('12,5 %' -> 1250), refusing finer values."""
    scaled = parse_percent(text) * 100
    if scaled != scaled.to_integral_value():
        raise InputError(f"{text.strip()!r} is finer than 0.01 %")
    return int(scaled)


def parse_amount(text: str) -> Decimal:
    """A plain number, a percent ('10,5 %') or money in any known currency mark ('600 000 ₽')."""
    value = text.strip().removesuffix("%").strip()
    lowered = value.lower()
    for mark in _ALL_MARKS:
        if lowered.endswith(mark):
            value = value[: -len(mark)]
            break
        if lowered.startswith(mark):
            value = value[len(mark) :]
            break
    return parse_number(value)
