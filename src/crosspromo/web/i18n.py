"""Locale choice, Babel catalogues and locale-aware formatting for templates."""

from __future__ import annotations

import re
from contextvars import ContextVar
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal, get_currency_precision
from babel.support import NullTranslations, Translations
from starlette.requests import Request

LOCALES = ("en", "ru")
LOCALE_COOKIE = "locale"
current_locale: ContextVar[str] = ContextVar("current_locale", default="en")


@cache
def translations(locale: str) -> NullTranslations:
    directory = str(files("crosspromo") / "locale")
    return Translations.load(directory, [locale], domain="messages")


def gettext(message: str, **variables: Any) -> str:
    text = translations(current_locale.get()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(current_locale.get()).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


def pick_locale(request: Request, user_locale: str | None = None) -> str:
    """Cookie first (the language switch), then the user's choice, then Accept-Language."""
    cookie = request.cookies.get(LOCALE_COOKIE)
    if cookie in LOCALES:
        return cookie
    if user_locale in LOCALES:
        return str(user_locale)
    header = request.headers.get("accept-language", "")
    weighted: list[tuple[float, str]] = []
    for part in header.split(","):
        piece = part.strip()
        if not piece:
            continue
        lang, _, q = piece.partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        weighted.append((weight, lang.split("-")[0].strip().lower()))
    for _weight, lang in sorted(weighted, key=lambda x: -x[0]):
        if lang in LOCALES:
            return lang
    return "en"


def money(minor: int | None, currency: str) -> str:
    """Format integer minor units as money in the current locale."""
    if minor is None:
        return ""
    digits = get_currency_precision(currency)
    amount = Decimal(minor).scaleb(-digits)
    return format_currency(amount, currency, locale=Locale.parse(current_locale.get()))


# ISO 4217 "no currency": amounts typed before a currency is chosen get its precision.
NO_CURRENCY = "XXX"


def major(minor: int | None, currency: str | None) -> str:
    """Integer minor units as a plain decimal string for form fields (no float on the way)."""
    if minor is None:
        return ""
    return str(Decimal(minor).scaleb(-get_currency_precision(currency or NO_CURRENCY)))


def number(value: int | float | None) -> str:
    if value is None:
        return ""
    return format_decimal(value, locale=Locale.parse(current_locale.get()))


def day(value: date | str | None) -> str:
    """A date as people read it in the page's language: "30 Nov 2026", "30 нояб. 2026 г."
    (also an ISO date kept as text, as in a proposal's terms)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            return value
    else:
        parsed = value
    return format_date(parsed, format="medium", locale=Locale.parse(current_locale.get()))


def moment(value: datetime | None, zone: str | None = None) -> str:
    """An instant in the business's time zone (UTC when none is given), in the page's
    language: "30 нояб. 2026 г., 14:05"; the database keeps it in UTC."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        local = aware.astimezone(ZoneInfo(zone)) if zone else aware.astimezone(UTC)
    except (ZoneInfoNotFoundError, ValueError):
        local = aware.astimezone(UTC)
    locale = Locale.parse(current_locale.get())
    shown = f"{format_date(local, format='medium', locale=locale)}, "
    shown += format_time(local, format="short", locale=locale)
    return shown if zone else f"{shown} UTC"


def N_(text: str) -> str:
    """Marks a message for the catalogue without translating it here."""
    return text


# Validation messages come from pydantic and our validators in English, with values inside.
# Each pattern names a catalogue message whose %(x)s slots take the captured values.
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Input should be less than or equal to (?P<n>\S+)"), N_("must be at most %(n)s")),
    (
        re.compile(r"Input should be greater than or equal to (?P<n>\S+)"),
        N_("must be at least %(n)s"),
    ),
    (
        re.compile(r"String should have at most (?P<n>\d+) characters?"),
        N_("at most %(n)s characters"),
    ),
    (
        re.compile(r"String should have at least (?P<n>\d+) characters?"),
        N_("at least %(n)s characters"),
    ),
    (
        re.compile(r"unknown category (?P<v>.+); use a code such as shop=bakery"),
        N_("unknown category %(v)s; pick one from the list"),
    ),
    (re.compile(r"not a valid e-mail address: (?P<v>.+)"), N_("not a valid e-mail address: %(v)s")),
    (
        re.compile(r"not a (?:valid )?phone number: (?P<v>.+)"),
        N_("not a valid phone number: %(v)s"),
    ),
    (re.compile(r"unknown ISO 4217 currency (?P<v>.+)"), N_("unknown currency code %(v)s")),
    (re.compile(r"unknown ISO 3166 country code (?P<v>.+)"), N_("unknown country code %(v)s")),
    (re.compile(r"unknown time zone (?P<v>.+)"), N_("unknown time zone %(v)s")),
    (re.compile(r"not a web address"), N_("not a web address")),
    (re.compile(r"not a (?:whole )?number"), N_("not a number")),
    (re.compile(r"Use at least (?P<n>\d+) characters\."), N_("at least %(n)s characters")),
    (
        re.compile(r"control character U\+(?P<v>[0-9A-F]+) is not allowed in one line"),
        N_("control character U+%(v)s is not allowed in one line"),
    ),
    (
        re.compile(r"control character U\+(?P<v>[0-9A-F]+) is not allowed"),
        N_("control character U+%(v)s is not allowed"),
    ),
    (
        re.compile(r"give a date between (?P<a>\S+) and (?P<b>\S+)"),
        N_("give a date between %(a)s and %(b)s"),
    ),
    (re.compile(r"Input should be a valid integer.*"), N_("must be a whole number")),
    (
        re.compile(r"The server is busy; nothing was changed\. Retry after a moment\."),
        N_("The server is busy; nothing was changed. Retry after a moment."),
    ),
)


def message(text: str) -> str:
    """A validation message in the current locale (English when no pattern knows it)."""
    for pattern, msgid in _MESSAGES:
        found = pattern.fullmatch(text.strip())
        if found:
            return gettext(msgid, **found.groupdict())
    return gettext(text)
