"""Locale choice and translated validation messages."""

from __future__ import annotations

from datetime import UTC, date, datetime

from starlette.requests import Request

from crosspromo.web import i18n


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "headers": raw})


def test_accept_language_and_cookie() -> None:
    assert i18n.pick_locale(_request({"Accept-Language": "de-DE,ru;q=0.8,en;q=0.5"})) == "ru"
    assert i18n.pick_locale(_request({"Accept-Language": "fr"})) == "en"
    assert i18n.pick_locale(_request({"Cookie": "locale=ru", "Accept-Language": "en"})) == "ru"


def test_validation_messages_in_russian() -> None:
    token = i18n.current_locale.set("ru")
    try:
        assert i18n.message("Input should be less than or equal to 4") == "не больше 4"
        assert i18n.message("not a valid phone number: '12'") == "некорректный номер телефона: '12'"
        assert i18n.message("Something new") == "Something new"
    finally:
        i18n.current_locale.reset(token)
    assert i18n.message("Input should be less than or equal to 4") == "must be at most 4"


def test_money_is_formatted_per_locale() -> None:
    token = i18n.current_locale.set("ru")
    try:
        assert i18n.money(135050, "RUB").replace("\xa0", " ") == "1 350,50 ₽"
    finally:
        i18n.current_locale.reset(token)
    assert i18n.money(135050, "RUB") == "RUB\u00a01,350.50"  # CLDR currency spacing


def test_dates_in_the_page_language_also_from_text() -> None:
    token = i18n.current_locale.set("ru")
    try:
        assert i18n.day("2026-09-17").replace("\u202f", " ") == "17 сент. 2026 г."
    finally:
        i18n.current_locale.reset(token)
    assert i18n.day(date(2026, 9, 17)) == "Sep 17, 2026"
    assert i18n.day("not a date") == "not a date"  # proposal terms keep dates as text


def test_a_moment_reads_in_the_business_zone_and_language() -> None:

    at = datetime(2026, 11, 30, 21, 5, tzinfo=UTC)
    assert i18n.moment(at, "Europe/Moscow") == "1 Dec 2026, 00:05"  # UTC+3: the next day
    token = i18n.current_locale.set("ru")
    try:
        assert i18n.moment(at, "Asia/Vladivostok") == "1 дек. 2026, 07:05"
    finally:
        i18n.current_locale.reset(token)
