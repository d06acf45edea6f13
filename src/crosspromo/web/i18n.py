"""Locale choice, Babel catalogues and locale-aware formatting for templates."""

from __future__ import annotations

import re
from contextvars import ContextVar
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
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
    text = format_currency(amount, currency, locale=Locale.parse(current_locale.get()))
    return _GLUED_CODE.sub("\\1\u00a0", text)


# CLDR's currencySpacing (which Babel does not apply): a symbol made of letters, such as
# "RUB" where a locale has no sign for the currency, is kept apart from the digits.
_GLUED_CODE = re.compile(r"^(-?[A-Z]{3})(?=\d)")


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


def moment(value: datetime | None, timezone: str) -> str:
    """An instant as wall time in a business's zone, in the page's language."""
    if value is None:
        return ""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return format_datetime(
        aware,
        "d MMM y, HH:mm",
        tzinfo=ZoneInfo(timezone),
        locale=Locale.parse(current_locale.get()),
    )


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
    # What crosspromo.locale_input says about a value it cannot read.
    (
        re.compile(r"'(?P<v>.*)' is not a number.*"),
        N_("%(v)s is not a number; type it as 10,5 or 3 000,50"),
    ),
    (
        re.compile(r"'(?P<v>.*)' has more decimal places than (?P<c>\w+) allows"),
        N_("%(v)s has more decimal places than %(c)s allows"),
    ),
    (re.compile(r"'(?P<v>.*)' must not be negative"), N_("%(v)s must not be negative")),
    (
        re.compile(r"'(?P<v>.*)' is in (?P<a>\w+), not (?P<b>\w+)"),
        N_("%(v)s is in %(a)s, not %(b)s"),
    ),
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
