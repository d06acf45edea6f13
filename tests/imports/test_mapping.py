"""The synonym matcher, the file shape and the amounts and dates as Russian exports write them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from crosspromo import locale_input
from crosspromo.errors import Invalid
from crosspromo.imports import mapping, messages, template
from crosspromo.imports.fields import CellError
from crosspromo.imports.pages import FIELD_LABELS
from crosspromo.imports.reader import open_table
from crosspromo.imports.service import KNOWN, _amount
from crosspromo.web import i18n

DATA = Path(__file__).parents[1] / "data"
SALES = KNOWN["transactions"]
CUSTOMERS = KNOWN["customers"]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Дата", "at"),
        ("Дата и время", "at"),
        ("ДАТА И ВРЕМЯ:", "at"),
        ("occurred_at", "at"),
        ("Номер чека", "id"),
        ("№ чека", "id"),
        ("Чек", "id"),
        ("Сумма", "amount"),
        ("Сумма чека", "amount"),
        ("Итого", "amount"),
        ("  итого, руб  ", None),
        ("Товары", "items"),
        ("Номенклатура", "items"),
        ("Покупатель", "customer"),
        ("Карта", "customer"),
        ("Валюта", "currency"),
        ("Кассир", None),
        ("amount", "amount"),
        ("Amount ", "amount"),
        ("Sum", "amount"),
        ("Сумма чекаа", "amount"),  # a typo is a near miss
    ],
)
def test_sales_headers(header: str, field: str | None) -> None:
    assert mapping.field_for("transactions", header, SALES) == field


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Телефон", "phone"),
        ("Эл. почта", "email"),
        ("E-mail", "email"),
        ("e_mail", "email"),
        ("ФИО", "name"),
        ("Покупатель", "name"),  # in a list of customers it is the name, not a reference
        ("Карта", "customer"),
        ("Код", "customer"),
        ("Согласие на рассылку", "marketing_consent"),
        ("Дата регистрации", "first_seen"),
    ],
)
def test_customer_headers(header: str, field: str) -> None:
    assert mapping.field_for("customers", header, CUSTOMERS) == field


def test_each_field_goes_to_the_first_column_naming_it() -> None:
    found = mapping.suggest("transactions", ["Дата", "Дата документа", "Сумма", "Кассир"], SALES)
    assert found == {"Дата": "at", "Дата документа": "", "Сумма": "amount", "Кассир": ""}


def test_chosen_pairs_override_and_free_the_field() -> None:
    headers = ["Дата", "Период", "Сумма"]
    used = mapping.combine("transactions", headers, SALES, {"период": "occurred_at"})
    assert used == {"Дата": "", "Период": "at", "Сумма": "amount"}
    assert mapping.combine("transactions", headers, SALES, {"Сумма": ""})["Сумма"] == ""


def test_bad_chosen_pairs_are_refused() -> None:
    with pytest.raises(Invalid, match="no column"):
        mapping.combine("transactions", ["Дата"], SALES, {"Время": "at"})
    with pytest.raises(Invalid, match="not a field"):
        mapping.combine("transactions", ["Дата"], SALES, {"Дата": "birthday"})
    with pytest.raises(Invalid, match="both mapped"):
        mapping.combine("transactions", ["A", "B"], SALES, {"A": "at", "B": "at"}, {})


def test_shape_ignores_order_case_and_punctuation() -> None:
    assert mapping.shape(["Дата", "Номер чека"]) == mapping.shape(["номер чека", "ДАТА:"])
    assert mapping.shape(["Дата"]) != mapping.shape(["Дата", "Сумма"])


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("1 234,50 руб.", 123450),
        ("1\u00a0234,50 руб", 123450),
        ("350 р.", 35000),
        ("₽ 99", 9900),
        ("99,90 ₽", 9990),
        ("4 560,00 RUB", 456000),
        ("1350.50", 135050),
        ("-200,00", -20000),
    ],
)
def test_amounts_as_written(text: str, minor: int) -> None:
    assert _amount(text, "RUB") == minor


def test_amounts_refused() -> None:
    with pytest.raises(CellError, match="not an amount"):
        _amount("сто рублей", "RUB")
    with pytest.raises(CellError, match="is in USD"):
        _amount("$12", "RUB")
    with pytest.raises(CellError, match="empty"):
        _amount(" ", "RUB")


def test_dates_as_written_are_read_in_the_business_zone() -> None:
    moment = locale_input.parse_moment("20.11.2026 10:15")
    assert moment.instant("Europe/Moscow") == datetime.fromisoformat("2026-11-20T07:15:00+00:00")
    assert locale_input.parse_moment("20.11.2026").date_only


def test_the_1c_export_is_read_and_mapped_without_help() -> None:
    with open_table(DATA / "1c_sales_cp1251.csv") as table:
        assert (table.encoding, table.delimiter) == ("cp1251", ";")
        found = mapping.suggest("transactions", table.headers, SALES)
    assert found == {
        "Дата": "at",
        "Номер чека": "id",
        "Покупатель": "customer",
        "Сумма": "amount",
        "Товары": "items",
        "Кассир": "",
        "Касса": "",
    }


@pytest.mark.parametrize("kind", template.KINDS)
@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_templates_map_back_to_their_fields(
    kind: str, language: str, fmt: str, tmp_path: Path
) -> None:
    path = tmp_path / f"t.{fmt}"
    path.write_bytes(template.render(kind, language, fmt))
    with open_table(path) as table:
        headers = table.headers
    assert headers == template.headers(kind, language)
    found = mapping.suggest(kind, headers, KNOWN[kind])
    assert list(found.values()) == list(template.HEADERS[kind][language])


@pytest.mark.parametrize(
    ("english", "russian"),
    [
        ("unknown customer 'C-99'; import customers first", "неизвестный покупатель 'C-99'"),
        ("'000201' repeats line 2", "'000201' повторяет строку 2"),
        ("'abc' is not an amount (use 1350.50 or 1350,50)", "'abc' — не сумма"),
        ("'31.11.2026' is not a real date or time", "такой даты или времени не бывает"),
        ("required column is missing", "нет обязательного столбца"),
        ("ignored columns: Кассир, Касса", "не загружаются столбцы: Кассир, Касса"),
    ],
)
def test_reasons_read_in_russian(english: str, russian: str) -> None:
    token = i18n.current_locale.set("ru")
    try:
        assert russian in messages.reason(english)
        detail = {"line": 4, "column": "customer", "header": "", "reason": english}
        line = messages.line(detail, FIELD_LABELS)
        assert line.startswith("Строка 4, столбец «Покупатель (код или карта)»: ")
    finally:
        i18n.current_locale.reset(token)
