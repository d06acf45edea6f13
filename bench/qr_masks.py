"""QR masks for coupons: segno's search of the best of 8 masks vs one fixed mask.

    python bench/qr_masks.py -n 2000

Times `segno.make_qr(url, error="m")` (the mask chosen by the ISO/IEC 18004 penalty score, as
coupons print today) against `mask=0` fixed, on coupon URLs of generated codes, and checks
every symbol with a real decoder (zxing-cpp) rendered at 4 px per module, plainly and
slightly blurred and darkened (a cheap print and phone camera). The ratio is fixed/auto.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

import segno
import zxingcpp
from PIL import Image, ImageFilter

from crosspromo.offers.codes import CodePattern, generate


def render(qr: Any, scale: int = 4, border: int = 4) -> Image.Image:
    matrix = qr.matrix
    side = len(matrix) + 2 * border
    image = Image.new("L", (side, side), 255)
    pixels = image.load()
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                pixels[x + border, y + border] = 0
    return image.resize((side * scale, side * scale), Image.Resampling.NEAREST)


def worn(image: Image.Image) -> Image.Image:
    """A blurred, low-contrast copy: ink spread and a dim camera."""
    blurred = image.filter(ImageFilter.GaussianBlur(1.4))
    return blurred.point(lambda v: 60 + v * 0.55)


def timed(make: Callable[[str], Any], urls: list[str]) -> tuple[float, list[Any]]:
    began = time.perf_counter()
    made = [make(u) for u in urls]
    return time.perf_counter() - began, made


def decoded(symbols: list[Any], urls: list[str], spoil: Callable[[Any], Any]) -> int:
    ok = 0
    for qr, url in zip(symbols, urls, strict=True):
        found = zxingcpp.read_barcodes(spoil(render(qr)))
        ok += [b.text for b in found] == [url]
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="coupon URLs")
    args = parser.parse_args()
    codes = generate(CodePattern("CAFE"), args.n, rng=random.Random(1))
    urls = [f"https://crosspromo.example/c/{code}" for code in codes]
    sides = {
        "auto (best of 8)": lambda u: segno.make_qr(u, error="m"),
        "fixed mask 0": lambda u: segno.make_qr(u, error="m", mask=0),
    }
    rows = {}
    for name, make in sides.items():
        seconds, symbols = timed(make, urls)
        plain = decoded(symbols, urls, lambda i: i)
        spoiled = decoded(symbols, urls, worn)
        rows[name] = (seconds, plain, spoiled)
    print(f"{args.n:,} coupon URLs, segno {segno.__version__}, zxing-cpp decoder")
    print("| mask | ms per QR | decoded | decoded worn | time ratio to auto |")
    print("|---|---:|---:|---:|---:|")
    base = rows["auto (best of 8)"][0]
    for name, (seconds, plain, spoiled) in rows.items():
        print(
            f"| {name} | {seconds / args.n * 1e3:.2f} | {plain}/{args.n} | {spoiled}/{args.n} "
            f"| {seconds / base:.2f} |"
        )


if __name__ == "__main__":
    main()
