"""The printable proposal: Cyrillic profiles, one page for up to 3 options, labels per locale."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from crosspromo.businesses.models import Business
from crosspromo.partnerships.pdf import proposal_pdf
from crosspromo.partnerships.schemas import Option


def business(name: str, category: str, address: str, check: int, description: str) -> Business:
    return Business(
        name=name,
        category=category,
        city="Казань",
        address=address,
        price_tier=2,
        avg_check_minor=check,
        currency="RUB",
        country="RU",
        timezone="Europe/Moscow",
        phone="+7 843 200-10-10",
        email="hello@example.ru",
        description=description,
    )


SENDER = business("Кофейня «Зерно»", "amenity=cafe", "ул. Баумана, 5", 45_000, "Спешелти-кофе.")
PARTNER = business("Пекарня «Колос»", "shop=bakery", "ул. Ленина, 12", 38_000, "Хлеб на закваске.")


def option(i: int, long: bool = False, **changes: Any) -> dict[str, Any]:
    words = " очень подробно" * (60 if long else 0)
    data: dict[str, Any] = {
        "mechanic": "joint_promotion",
        "title": f"Вариант {i}: кофе и круассан",
        "proposer": {
            "gives": "Купоны −20% на круассан в каждом чеке от 300 ₽" + words,
            "gets": "Новые гости из пекарни" + words,
            "expected_result": "40 новых гостей в месяц" + words,
            "responsible": "Анна",
        },
        "partner": {
            "gives": "Купоны на кофе в пакетах с хлебом" + words,
            "gets": "Продажи круассанов" + words,
            "expected_result": "60 погашенных купонов",
            "staff_script": "Предложите гостю купон" + words,
        },
        "starts_on": "2026-06-01",
        "ends_on": "2026-06-30",
        "tracking": "Уникальные коды на купонах" + words,
        "resources": "1000 купонов" + words,
        "payment_model": "per_lead",
        "payment_minor": 5_000,
        "currency": "RUB",
        "exchanges": [{"what": "упоминание в рассылке", "per_month": 2, "by": "partner"}],
        "indicators": [{"name": "лидов в месяц", "target": 1500, "by": "partner"}],
        "lead_handoff": "Телефон гостя с согласия" + words,
        "data_sharing": "aggregates",
    }
    data.update(changes)
    return Option.model_validate(data).model_dump(mode="json")


def read(pdf: bytes) -> tuple[int, str]:
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def build(options: list[dict[str, Any]], locale: str = "ru", message: str = "") -> bytes:
    return proposal_pdf(
        sender=SENDER,
        partner=PARTNER,
        message=message or "Здравствуйте! Давайте попробуем вместе.",
        options=options,
        version=2,
        locale=locale,
    )


def test_russian_proposal_shows_both_profiles_and_every_option() -> None:
    pages, text = read(build([option(1), option(2), option(3)]))
    assert pages == 1
    for words in (
        "Предложение о партнёрстве",
        "версия 2",
        "Кофейня «Зерно»",
        "Пекарня «Колос»",
        "Булочная",  # the category's Russian name
        "ул. Ленина, 12",
        "450,00",  # the average check from minor units
        "Вариант 1: кофе и круассан",
        "Вариант 2: кофе и круассан",
        "Вариант 3: кофе и круассан",
        "Совместная акция",
        "за лида",
        "Уникальные коды",
        "упоминание в рассылке",
        "1 500",
        "только сводные цифры",
    ):
        assert words.replace(" ", "") in text.replace(" ", "").replace("\xa0", ""), words


@pytest.mark.parametrize("count", [1, 2, 3])
def test_up_to_three_long_options_fit_one_page(count: int) -> None:
    pages, text = read(build([option(i, long=True) for i in range(1, count + 1)]))
    assert pages == 1
    assert "…" in text
    for i in range(1, count + 1):
        assert f"Вариант {i}" in text


def test_five_options_use_at_most_two_pages() -> None:
    pages, text = read(build([option(i, long=True) for i in range(1, 6)]))
    assert pages <= 2
    for i in range(1, 6):
        assert f"Вариант {i}" in text
    short_pages, _ = read(build([option(i) for i in range(1, 6)]))
    assert short_pages == 1


def test_english_labels_and_payment_models() -> None:
    options = [
        option(1, payment_model="per_sale_percent", payment_percent="7.5", payment_minor=None),
        option(
            2,
            payment_model="barter",
            payment_minor=None,
            currency=None,
            starts_on=None,
            ends_on=None,
        ),  # fmt: skip
    ]
    pages, text = read(build(options, locale="en"))
    assert pages == 1
    for words in ("Partnership proposal", "version 2", "Bakery", "7.5% of each sale", "Barter",
                  "open-ended", "Jun 1, 2026", "Expected result"):  # fmt: skip
        assert words in text, words


def test_unknown_locale_falls_back_to_english() -> None:
    _, text = read(build([option(1)], locale="de"))
    assert "Partnership proposal" in text
