"""A Russian owner imports 1C exports: the columns are mapped on the page, a bad file shows
every error in Russian."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Server, shot

pytestmark = pytest.mark.browser
DATA = Path(__file__).resolve().parents[1] / "data"
EMAIL, PASSWORD = "owner@zerno.example", "zerno-coffee-2026"
ENGLISH = re.compile(r"\b(line|column|unknown|repeats|is not|rejected|Inserted)\b", re.I)


def _upload(page: Any, business_url: str, kind: str, name: str) -> None:
    page.goto(business_url + "/imports")
    page.select_option("select[name=kind]", kind)
    page.set_input_files("input[name=file]", str(DATA / name))
    page.click("form[action$='/imports'] button[type=submit]")
    page.wait_for_selector("form#mapping")


def _finish(page: Any) -> str:
    page.click("form#mapping button[type=submit]")
    page.wait_for_selector("#job p.flash", timeout=60_000)
    return str(page.inner_text("#job"))


def test_russian_owner_maps_and_imports_1c_exports(server: Server, browser: Any) -> None:
    server.cli(
        "user",
        "create",
        "--email",
        EMAIL,
        "--password",
        PASSWORD,
        "--new-business",
        "Zerno Coffee",
        "--category",
        "amenity=cafe",
        "--timezone",
        "Europe/Moscow",
        "--country",
        "RU",
        "--currency",
        "RUB",
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    page = context.new_page()
    page.goto(server.url + "/signin")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    found = re.search(r"/b/([0-9a-f-]{36})", page.content())
    assert found is not None, page.content()[:2000]
    business_url = f"{server.url}/b/{found.group(1)}"

    _upload(page, business_url, "customers", "1c_customers_cp1251.csv")
    assert "Столбцы файла" in page.inner_text("h1")
    assert page.input_value("select[name=column-2]") == "phone"  # Телефон
    shot(page, "70-import-mapping-customers-ru")
    text = _finish(page)
    assert "Загружено." in text, text

    _upload(page, business_url, "transactions", "1c_sales_cp1251.csv")
    assert page.input_value("select[name=column-0]") == "at"  # Дата
    assert page.input_value("select[name=column-3]") == "amount"  # Сумма
    assert page.input_value("select[name=column-5]") == ""  # Кассир: not imported
    assert "1 234,50 руб." in page.inner_text("table.mapping")
    shot(page, "71-import-mapping-1c-sales-ru")
    text = _finish(page)
    assert "Загружено." in text, text
    shot(page, "72-import-done-ru")

    _upload(page, business_url, "transactions", "1c_sales_bad_cp1251.csv")
    text = _finish(page)
    assert "Файл отклонён" in text
    errors = page.locator("#job ul.errors li").all_inner_texts()
    assert len(errors) == 4, errors
    assert [e.split(",")[0] for e in errors] == ["Строка 3", "Строка 4", "Строка 5", "Строка 6"]
    assert "неизвестный покупатель 'C-99'" in errors[1]
    for error in errors:
        assert not ENGLISH.search(error), error
    assert "Отклонено" in text and "4" in page.inner_text("#job table.summary tbody")
    shot(page, "73-import-errors-ru")
    context.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="ru-RU")
    small = phone.new_page()
    small.goto(server.url + "/signin")
    small.fill("input[name=email]", EMAIL)
    small.fill("input[name=password]", PASSWORD)
    small.click("button[type=submit]")
    small.wait_for_load_state()
    _upload(small, business_url, "transactions", "1c_sales_cp1251.csv")
    shot(small, "74-import-mapping-1c-sales-ru-phone")
    phone.close()
