"""Printable coupons: valid PDF, pages per layout, Cyrillic text, QR codes that decode."""

from __future__ import annotations

import io
import random

import pytest
from pypdf import PdfReader

from crosspromo.offers.codes import CodePattern, generate
from crosspromo.offers.printing import Coupon, coupon_sheet, qr_runs


def coupons(n: int, seed: int = 1) -> list[Coupon]:
    made = generate(CodePattern("CAFE"), n, rng=random.Random(seed))
    return [
        Coupon(
            code=code,
            url=f"https://crosspromo.example/c/{code}",
            title="Кофейня «Зерно» × Пекарня «Колос»",
            benefit="−20% на любой десерт к кофе",
            conditions="Один купон на чек. Не суммируется с другими акциями. " * 3,
            honoured_by="Пекарня «Колос», ул. Ленина, 12, Казань",
            issued_by="Кофейня «Зерно»",
            valid_until="31.12.2026",
        )
        for code in made
    ]


@pytest.mark.parametrize(("layout", "n", "pages"), [("a4", 1, 1), ("a4", 10, 1), ("a4", 23, 3)])
def test_a4_sheets_hold_ten(layout: str, n: int, pages: int) -> None:
    pdf = coupon_sheet(coupons(n), layout="a4")
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == pages
    width, height = (float(v) * 25.4 / 72 for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (210, 297)


def test_cards_one_per_page() -> None:
    pdf = coupon_sheet(coupons(7), layout="card")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 7
    width, height = (float(v) * 25.4 / 72 for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (85, 55)


def test_text_prints_in_russian_with_every_code() -> None:
    batch = coupons(12)
    reader = PdfReader(io.BytesIO(coupon_sheet(batch, locale="ru")))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for words in ("Кофейня «Зерно»", "на любой", "Действует до 31.12.2026", "Где: Пекарня"):
        assert words in text
    for coupon in batch:
        assert coupon.code in text


def test_long_text_is_cut_not_spilled() -> None:
    long = Coupon(
        code="CAFE-2345-6789-ABCD",
        url="https://crosspromo.example/c/x",
        title="Очень длинное название " * 10,
        benefit="Скидка " * 40,
        conditions="Условие. " * 200,
        honoured_by="Адрес " * 50,
        issued_by="Кто-то",
        valid_until="01.01.2027",
    )
    reader = PdfReader(io.BytesIO(coupon_sheet([long], layout="card")))
    assert len(reader.pages) == 1
    assert "…" in reader.pages[0].extract_text()


def test_empty_batch_is_one_blank_page() -> None:
    assert len(PdfReader(io.BytesIO(coupon_sheet([]))).pages) == 1


def test_unknown_layout() -> None:
    with pytest.raises(ValueError):
        coupon_sheet(coupons(1), layout="a3")  # type: ignore[arg-type]


def test_qr_runs_decode_to_the_url() -> None:
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image, ImageDraw

    for coupon in coupons(20):
        modules, runs = qr_runs(coupon.url)
        scale, border = 4, 4
        side = (modules + 2 * border) * scale
        image = Image.new("L", (side, side), 255)
        draw = ImageDraw.Draw(image)
        for row, col, length in runs:
            x, y = (col + border) * scale, (row + border) * scale
            draw.rectangle((x, y, x + length * scale - 1, y + scale - 1), fill=0)
        found = zxingcpp.read_barcodes(image)
        assert [b.text for b in found] == [coupon.url]
