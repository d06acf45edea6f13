"""Reading what people type: dates in every export style, Russian numbers, money, percents."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from babel.numbers import format_currency, format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from crosspromo.locale_input import (
    DateOrder,
    InputError,
    date_format,
    parse_date,
    parse_moment,
    parse_money,
    parse_number,
    parse_percent,
    percent_bp,
)


@pytest.mark.parametrize(
    ("text", "local"),
    [
        ("2026-11-20", datetime(2026, 11, 20)),
        ("2026-11-20T10:15:00", datetime(2026, 11, 20, 10, 15)),
        ("2026-11-20 10:15", datetime(2026, 11, 20, 10, 15)),
        ("20.11.2026", datetime(2026, 11, 20)),
        ("20.11.2026 10:15", datetime(2026, 11, 20, 10, 15)),
        ("20.11.2026 10:15:30", datetime(2026, 11, 20, 10, 15, 30)),
        ("1.2.2026", datetime(2026, 2, 1)),
        ("20/11/2026", datetime(2026, 11, 20)),
        ("46346", datetime(2026, 11, 20)),  # Excel serial
        ("46346.4375", datetime(2026, 11, 20, 10, 30)),
        ("46346,4375", datetime(2026, 11, 20, 10, 30)),
        ("19970101", datetime(1997, 1, 1)),
    ],
)
def test_dates_people_type(text: str, local: datetime) -> None:
    moment = parse_moment(text)
    assert moment.local == local
    assert moment.date_only == (local.time() == datetime.min.time())


def test_date_only_is_local_midnight_in_the_zone() -> None:
    moment = parse_moment("29.03.2026")
    # Berlin moves to summer time that night: midnight is still +01:00.
    assert moment.instant("Europe/Berlin") == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert moment.instant("Europe/Moscow") == datetime(2026, 3, 28, 21, 0, tzinfo=UTC)
    assert parse_moment("2026-03-29T00:00:00+00:00").instant("Europe/Moscow") == datetime(
        2026, 3, 29, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "text",
    ["", "32.01.2026", "29.02.2025", "2026-13-01", "20.11.2026 25:00", "tomorrow", "13/13/2026"],
)
def test_bad_dates(text: str) -> None:
    with pytest.raises(InputError):
        parse_moment(text)


def test_slash_dates_order() -> None:
    assert parse_moment("01/02/2026", order="mdy").local == datetime(2026, 1, 2)
    assert parse_moment("01/02/2026", order="dmy").local == datetime(2026, 2, 1)
    assert parse_date("01/02/2026") == date(2026, 2, 1)
    assert parse_moment("12/31/2026").local == datetime(2026, 12, 31)  # only month first fits
    assert date_format("MM/DD/YYYY") == "mdy" and date_format("DD.MM.YYYY") == "dmy"
    with pytest.raises(InputError):
        date_format("YY/MM")


def _order(values: list[str], told: str | None = None) -> tuple[int, str] | None:
    order = DateOrder(told=told)
    for line, text in enumerate(values, start=2):
        order.see(line, text, parse_moment(text, order=told))
    return order.problem()


def test_a_file_of_ambiguous_dates_needs_a_choice() -> None:
    problem = _order(["01/02/2026", "03/04/2026"])
    assert problem is not None and problem[0] == 2 and "day/month" in problem[1]
    assert _order(["01/02/2026", "03/04/2026"], told="mdy") is None
    assert _order(["01/02/2026", "25/04/2026"]) is None  # 25 settles it: day first
    found = _order(["01/02/2026", "04/25/2026"])
    assert found is not None and found[0] == 3 and "MM/DD/YYYY" in found[1]
    mixed = _order(["25/04/2026", "04/25/2026"])
    assert mixed is not None and "one date format" in mixed[1]
    assert _order(["01.02.2026", "2026-02-03"]) is None  # dots and ISO are never ambiguous


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10,5", Decimal("10.5")),
        ("10.5", Decimal("10.5")),
        ("3 000,50", Decimal("3000.50")),
        ("3\u00a0000,50", Decimal("3000.50")),
        ("3\u202f000,50", Decimal("3000.50")),
        ("1 000 000", Decimal("1000000")),
        ("-7,25", Decimal("-7.25")),
        ("\u22127,25", Decimal("-7.25")),
        ("1,234.5", Decimal("1234.5")),
        ("1.234,5", Decimal("1234.5")),
        (",5", Decimal("0.5")),
    ],
)
def test_numbers(text: str, value: Decimal) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "1.23,4.5", "12,34.5", "--1", "1e5"])
def test_bad_numbers(text: str) -> None:
    with pytest.raises(InputError):
        parse_number(text)


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("3 000,50 ₽", 300050),
        ("3000,5₽", 300050),
        ("1 350 руб.", 135000),
        ("1 350 руб", 135000),
        ("99,90 р.", 9990),
        ("99 р", 9900),
        ("100", 10000),
    ],
)
def test_money_in_roubles(text: str, minor: int) -> None:
    assert parse_money(text, "RUB") == minor


def test_money_refusals() -> None:
    with pytest.raises(InputError):
        parse_money("10,555", "RUB")  # more than kopecks
    with pytest.raises(InputError):
        parse_money("-5", "RUB")
    assert parse_money("-5", "RUB", allow_negative=True) == -500
    with pytest.raises(InputError):
        parse_money("10 ₽", "EUR")
    assert parse_money("1 500", "JPY") == 1500


def test_percent() -> None:
    assert parse_percent("15 %") == Decimal(15)
    assert parse_percent("15,5%") == Decimal("15.5")
    assert percent_bp("12,5 %") == 1250
    with pytest.raises(InputError):
        percent_bp("12,555 %")


amounts = st.decimals(
    min_value=Decimal("-1000000000"), max_value=Decimal("1000000000"), places=2, allow_nan=False
)


@settings(max_examples=200, deadline=None)
@given(amounts)
def test_babel_russian_numbers_round_trip(value: Decimal) -> None:
    assert parse_number(format_decimal(value, locale="ru_RU", decimal_quantization=False)) == value
    english = format_decimal(value, locale="en_US", decimal_quantization=False)
    if "." in english or english.count(",") != 1:  # '1,953' alone reads as Russian 1,953
        assert parse_number(english) == value


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**11))
def test_babel_roubles_round_trip(minor: int) -> None:
    shown = format_currency(Decimal(minor) / 100, "RUB", locale="ru_RU")
    assert parse_money(shown, "RUB") == minor


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_russian_dates_round_trip(day: date) -> None:
    assert parse_date(day.strftime("%d.%m.%Y")) == day
    assert parse_date(day.isoformat()) == day
    assert parse_date(day.strftime("%m/%d/%Y"), order="mdy") == day
