"""10,000 printable coupons: code generation, then an A4 PDF with a QR code on every coupon.

    python bench/coupons_pdf.py [--count 10000] [--compare 500] [--out coupons.pdf]

The goal row: the print as the background job renders it (offers/print_pool.py: chunks in a
process pool on every core, merged with pypdf), in seconds per 10,000 coupons (goal <= 10 s),
against the single-process renderer on the same coupons in the same run.
Other baselines in the same run: fpdf2 writing the same codes as plain text lines (same font, no QR,
no layout), i.e. what the PDF library costs by itself. `--compare` coupons are also printed with
each QR code embedded as a 1-bit PNG image (segno -> PNG bytes in memory -> FPDF.image) instead of
the vector path the module draws, to show why the path was chosen. A last row times segno
alone, choosing the best mask as ISO/IEC 18004 requires, against a fixed mask.
"""

from __future__ import annotations

import argparse
import io
import os
import time
from pathlib import Path

import segno
from fpdf import FPDF

from crosspromo.offers import print_pool, printing
from crosspromo.offers.codes import CodePattern, generate
from crosspromo.offers.printing import Coupon, coupon_sheet
from crosspromo.web.fonts import font_path


def make_coupons(codes: list[str]) -> list[Coupon]:
    return [
        Coupon(
            code=code,
            url=f"https://crosspromo.example/c/{code}",
            title="Кофейня «Зерно» × Пекарня «Колос»",
            benefit="−20% на любой десерт к кофе",
            conditions="Один купон на чек. Не суммируется с другими акциями.",
            honoured_by="Пекарня «Колос», ул. Ленина, 12, Казань",
            issued_by="Кофейня «Зерно»",
            valid_until="31.12.2026",
        )
        for code in codes
    ]


def plain_lines(codes: list[str]) -> bytes:
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_font("DejaVu", "", str(font_path()))
    pdf.set_font("DejaVu", "", 11)
    for i, code in enumerate(codes):
        if i % 50 == 0:
            pdf.add_page()
        pdf.text(20, 15 + (i % 50) * 5.5, code)
    return bytes(pdf.output())


def png_qr(self: printing._Sheet, url: str, x: float, y: float, side: float) -> float:
    qr = segno.make_qr(url, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=1, border=0)
    self.pdf.image(io.BytesIO(buffer.getvalue()), x=x, y=y, w=side, h=side)
    return side / len(qr.matrix)


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - began


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the pool's processes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--compare", type=int, default=500, help="coupons for the PNG variant")
    parser.add_argument("--out", type=Path, default=None, help="keep the coupons PDF here")
    args = parser.parse_args()

    codes, t_codes = timed(generate, CodePattern("CAFE"), args.count)
    batch = make_coupons(codes)
    load = os.getloadavg()[0]
    cpu = cpu_seconds()
    pooled, t_pool = timed(print_pool.render, batch, layout="a4", locale="ru")
    cpu_pool, cpu = cpu_seconds() - cpu, cpu_seconds()
    pdf, t_pdf = timed(coupon_sheet, batch, layout="a4", locale="ru")
    cpu_one = cpu_seconds() - cpu
    from pypdf import PdfReader

    assert len(PdfReader(io.BytesIO(pooled)).pages) == len(PdfReader(io.BytesIO(pdf)).pages)
    plain, t_plain = timed(plain_lines, codes)
    pages = -(-args.count // 10)
    if args.out:
        args.out.write_bytes(pdf)

    sample = batch[: args.compare]
    path_pdf, t_path = timed(coupon_sheet, sample, layout="a4")
    original = printing._Sheet.qr
    printing._Sheet.qr = png_qr  # type: ignore[method-assign]
    try:
        png_pdf, t_png = timed(coupon_sheet, sample, layout="a4")
    finally:
        printing._Sheet.qr = original  # type: ignore[method-assign]

    urls = [c.url for c in sample]
    _, t_best = timed(lambda: [segno.make_qr(u, error="m") for u in urls])
    _, t_fixed = timed(lambda: [segno.make_qr(u, error="m", mask=6) for u in urls])
    _, t_zxing = timed(lambda: [printing.qr_runs(u) for u in urls])

    n, s = args.count, args.compare
    per10k = 10_000 / n
    rows = [
        (
            f"print job renderer, {print_pool.workers()} processes: s per 10,000 coupons",
            f"{t_pool * per10k:,.1f} s (goal <= 10 s; {len(pooled) / 1e6:,.1f} MB)",
            f"one process {t_pdf * per10k:,.1f} s",
            t_pool / t_pdf,
        ),
        (
            "the same, CPU seconds per 10,000 (all processes)",
            f"{cpu_pool * per10k:,.1f} s",
            f"one process {cpu_one * per10k:,.1f} s",
            cpu_pool / cpu_one,
        ),
        (f"generate {n:,} codes", f"{t_codes * 1e3:,.0f} ms", "goal < 1 s", t_codes / 1.0),
        (
            f"A4 coupons PDF, {n:,} coupons, {pages:,} pages",
            f"{t_pdf:,.1f} s ({t_pdf / n * 1e3:.2f} ms/coupon)",
            f"plain text lines {t_plain:,.2f} s",
            t_pdf / t_plain,
        ),
        (
            "file size",
            f"{len(pdf) / 1e6:,.1f} MB ({len(pdf) / n:,.0f} B/coupon)",
            f"plain text lines {len(plain) / 1e6:,.2f} MB",
            len(pdf) / len(plain),
        ),
        (
            f"QR as vector path vs PNG image, {s:,} coupons: time",
            f"path {t_path:,.2f} s",
            f"PNG {t_png:,.2f} s",
            t_path / t_png,
        ),
        (
            f"QR as vector path vs PNG image, {s:,} coupons: size",
            f"path {len(path_pdf) / 1e3:,.0f} kB",
            f"PNG {len(png_pdf) / 1e3:,.0f} kB",
            len(path_pdf) / len(png_pdf),
        ),
        (
            f"segno alone, {s:,} QR codes",
            f"best mask {t_best * 1e3 / s:.2f} ms/code",
            f"fixed mask {t_fixed * 1e3 / s:.2f} ms/code",
            t_best / t_fixed,
        ),
        (
            f"QR runs for the page, {s:,} codes",
            f"zxing-cpp, best mask {t_zxing * 1e3 / s:.2f} ms/code",
            f"segno, fixed mask {t_fixed * 1e3 / s:.2f} ms/code",
            t_zxing / t_fixed,
        ),
    ]
    print(
        f"{n:,} coupons, A4 2 x 5, Cyrillic text, URL of {len(batch[0].url)} characters in the QR;"
        f" load average {load:.1f} on {os.cpu_count()} cores at the start"
    )
    print("| operation | figure | baseline | ratio (figure / baseline) |")
    print("|---|---:|---:|---:|")
    for name, figure, baseline, ratio in rows:
        print(f"| {name} | {figure} | {baseline} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
