"""Printable coupons: an A4 sheet of cut-out coupons or business-card pages, each with a QR code.

Speed (bench/coupons_pdf.py, 10,000 coupons, 1,000 pages): see docs/performance.md. The QR
modules are drawn straight into the page as one filled path of horizontal runs (``re`` operators,
compressed with the page): 0.70x the time and 0.86x the size of embedding a 1-bit PNG per coupon,
and ~10x faster than one ``FPDF.rect`` call per run. Text that repeats across coupons (title,
conditions...) is wrapped once and cached. The QR symbols come from zxing-cpp's encoder (C++):
~0.6 ms per code with the best of the 8 masks chosen as ISO/IEC 18004 asks, where segno took
~3 ms with one fixed mask and ~13 ms searching the masks (two thirds of the time before). Big
prints run on every core in a background job (print_pool.py, print_jobs.py).
tests/offers/test_printing.py decodes the symbols and a rendered page with zxing-cpp.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from crosspromo.web.fonts import font_path

Layout = Literal["a4", "card"]
FONT = "DejaVu"
PT = 25.4 / 72  # one point in millimetres
ELLIPSIS = "…"

LABELS = {
    "en": {"valid": "Valid until", "where": "Where", "by": "From", "cut": "✂"},
    "ru": {"valid": "Действует до", "where": "Где", "by": "От", "cut": "✂"},
}


@dataclass(frozen=True)
class Coupon:
    """What one printed coupon says; `url` goes into the QR code (the till or landing link)."""

    code: str
    url: str
    title: str
    benefit: str
    conditions: str
    honoured_by: str  # the business that honours it: name and address line
    issued_by: str
    valid_until: str


@dataclass(frozen=True)
class _Geometry:
    page: tuple[float, float]  # mm
    columns: int
    rows: int
    pad: float
    qr: float
    title_pt: float
    benefit_pt: float
    code_pt: float
    small_pt: float
    cut_lines: bool


GEOMETRY: dict[str, _Geometry] = {
    "a4": _Geometry((210, 297), 2, 5, 5.0, 33.0, 8.5, 12.5, 17.0, 7.0, True),
    "card": _Geometry((85, 55), 1, 1, 4.0, 27.0, 7.5, 10.5, 14.0, 6.0, False),
}


def qr_runs(url: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The QR code's side in modules and its dark modules as (row, first column, length) runs."""
    import numpy as np
    import zxingcpp  # here, not at start-up: see crosspromo.app

    symbol = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    dark = np.asarray(symbol.to_image(scale=1, add_quiet_zones=False)) == 0
    side = dark.shape[1]
    framed = np.zeros((dark.shape[0], side + 2), dtype=np.int8)
    framed[:, 1:-1] = dark
    edges = np.diff(framed, axis=1)  # +1 where a dark run starts, -1 just past its end
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    return side, list(zip(rows.tolist(), starts.tolist(), (ends - starts).tolist(), strict=True))


def draw_qr(pdf: Any, url: str, x: float, y: float, side: float) -> float:
    """Draw the QR code of `url` into an fpdf2 page at (x, y) mm; the size of one module."""
    modules, runs = qr_runs(url)
    m = side / modules
    k = pdf.k
    top = (pdf.h - y) * k
    body = " ".join(f"{c} {r} {n} 1 re" for r, c, n in runs)
    # One path and one fill per code, in module units; a rect per run is ~10x slower.
    pdf._out(f"q 0 g {m * k:.4f} 0 0 {-m * k:.4f} {x * k:.2f} {top:.2f} cm {body} f Q")
    return m


def new_pdf(page: tuple[float, float]) -> Any:
    """An fpdf2 document of `page` (mm) pages, no margins or page breaks, with our fonts."""
    from fpdf import FPDF  # here, not at start-up: see crosspromo.app

    pdf = FPDF(unit="mm", format=page)
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.add_font(FONT, "", str(font_path()))
    pdf.add_font(FONT, "B", str(font_path(bold=True)))
    pdf.set_creator("crosspromo")
    return pdf


class Writer:
    """Text placed at exact positions: wrapped (cached) and cut with an ellipsis."""

    def __init__(self, pdf: Any) -> None:
        self.pdf = pdf
        self._wrapped: dict[tuple[str, float, str, float, int], list[str]] = {}

    def lines(self, text: str, style: str, size: float, width: float, most: int) -> list[str]:
        """`text` wrapped to `width`, at most `most` lines, the last one ellipsised if cut."""
        key = (text, size, style, width, most)
        found = self._wrapped.get(key)
        if found is not None:
            return found
        from fpdf.enums import MethodReturnValue

        pdf = self.pdf
        pdf.set_font(FONT, style, size)
        wrapped: list[str] = []
        for paragraph in text.splitlines() or [""]:
            got = pdf.multi_cell(
                width, text=paragraph, dry_run=True, output=MethodReturnValue.LINES
            )
            wrapped += [str(line) for line in got]
        wrapped = [line for line in wrapped if line.strip()]
        if len(wrapped) > most:
            last = wrapped[most - 1].rstrip()
            while last and pdf.get_string_width(last + ELLIPSIS) > width:
                last = last[:-1].rstrip()
            wrapped = wrapped[: most - 1] + [last + ELLIPSIS]
        self._wrapped[key] = wrapped
        return wrapped

    def write(
        self, x: float, y: float, lines: list[str], style: str, size: float, lead: float = 1.2
    ) -> float:
        """Write lines from top `y`; return the y below them."""

        pdf = self.pdf
        pdf.set_font(FONT, style, size)
        step = size * PT * lead
        for line in lines:
            pdf.text(x, y + size * PT * 0.95, line)  # text() takes the baseline
            y += step
        return y


class _Sheet(Writer):
    def __init__(self, layout: Layout, locale: str) -> None:
        if layout not in GEOMETRY:
            raise ValueError(f"unknown layout {layout!r}")
        self.g = GEOMETRY[layout]
        self.labels = LABELS.get(locale, LABELS["en"])
        super().__init__(new_pdf(self.g.page))
        self.cell_w = self.g.page[0] / self.g.columns
        self.cell_h = self.g.page[1] / self.g.rows

    def qr(self, url: str, x: float, y: float, side: float) -> float:
        """Draw the QR code of `url`; return the size of one module in mm."""
        return draw_qr(self.pdf, url, x, y, side)

    def cut_lines(self) -> None:
        pdf, g = self.pdf, self.g
        pdf.set_draw_color(150)
        pdf.set_line_width(0.2)
        pdf.set_dash_pattern(dash=2, gap=1.5)
        for c in range(1, g.columns):
            pdf.line(c * self.cell_w, 0, c * self.cell_w, g.page[1])
        for r in range(1, g.rows):
            pdf.line(0, r * self.cell_h, g.page[0], r * self.cell_h)
        pdf.set_dash_pattern()
        pdf.set_font(FONT, "", 9)
        pdf.set_text_color(150)
        for r in range(1, g.rows):
            pdf.text(1.5, r * self.cell_h + 1.2, self.labels["cut"])
        pdf.set_text_color(0)

    def coupon(self, coupon: Coupon, x0: float, y0: float) -> None:
        g, pdf = self.g, self.pdf
        pad = g.pad
        inner_w = self.cell_w - 2 * pad
        qr_x = x0 + self.cell_w - pad - g.qr
        module = self.qr(coupon.url, qr_x, y0 + pad, g.qr)
        text_w = inner_w - g.qr - max(3.0, 4 * module)  # the 4-module quiet zone stays clear
        x, y = x0 + pad, y0 + pad
        pdf.set_text_color(90)
        y = self.write(x, y, self.lines(coupon.title, "B", g.title_pt, text_w, 1), "B", g.title_pt)
        pdf.set_text_color(0)
        y += 0.6
        benefit = self.lines(coupon.benefit, "B", g.benefit_pt, text_w, 2)
        y = self.write(x, y, benefit, "B", g.benefit_pt, 1.1) + 0.8
        room = y0 + pad + g.qr - y  # the text column beside the QR code
        small_step = g.small_pt * PT * 1.2
        where = f"{self.labels['where']}: {coupon.honoured_by}"
        where_lines = self.lines(where, "", g.small_pt, text_w, 2)
        most = max(1, int(room / small_step) - len(where_lines))
        conditions = self.lines(coupon.conditions, "", g.small_pt, text_w, most)
        y = self.write(x, y, conditions, "", g.small_pt)
        self.write(x, y, where_lines, "", g.small_pt)
        # The code across the whole width, shrunk if long, so a cashier can read it aloud.
        size = g.code_pt
        pdf.set_font(FONT, "B", size)
        width = pdf.get_string_width(coupon.code)
        if width > inner_w:
            size *= inner_w / width
            pdf.set_font(FONT, "B", size)
            width = pdf.get_string_width(coupon.code)
        code_top = y0 + pad + g.qr + 1.2
        pdf.text(x0 + pad + (inner_w - width) / 2, code_top + size * PT * 0.8, coupon.code)
        labels = self.labels
        foot = f"{labels['valid']} {coupon.valid_until} · {labels['by']} {coupon.issued_by}"
        foot_lines = self.lines(foot, "", g.small_pt, inner_w, 1)
        pdf.set_text_color(60)
        self.write(x, y0 + self.cell_h - pad - g.small_pt * PT * 1.2, foot_lines, "", g.small_pt)
        pdf.set_text_color(0)


def coupon_sheet(coupons: Sequence[Coupon], *, layout: Layout = "a4", locale: str = "en") -> bytes:
    """A PDF of the coupons: A4 sheets of 2 x 5 with cut lines, or one 85 x 55 mm card per page."""
    sheet = _Sheet(layout, locale)
    per_page = sheet.g.columns * sheet.g.rows
    if not coupons:
        sheet.pdf.add_page()
    for i, coupon in enumerate(coupons):
        slot = i % per_page
        if slot == 0:
            sheet.pdf.add_page()
            if sheet.g.cut_lines:
                sheet.cut_lines()
        column, row = slot % sheet.g.columns, slot // sheet.g.columns
        sheet.coupon(coupon, column * sheet.cell_w, row * sheet.cell_h)
    return bytes(sheet.pdf.output())
