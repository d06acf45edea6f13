"""Locale choice, Babel catalogues and locale-aware formatting for templates."""

from __future__ import annotations

from contextvars import ContextVar
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any

from babel import Locale
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


def major(minor: int | None, currency: str) -> str:
    """Integer minor units as a plain decimal string for form fields (no float on the way)."""
    if minor is None:
        return ""
    return str(Decimal(minor).scaleb(-get_currency_precision(currency)))


def number(value: int | float | None) -> str:
    if value is None:
        return ""
    return format_decimal(value, locale=Locale.parse(current_locale.get()))
