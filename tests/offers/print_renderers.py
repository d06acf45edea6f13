"""A renderer for print jobs that breaks on purpose, in a module light enough for the pool's
processes to import (they import the renderer's module, not the test's)."""

from __future__ import annotations

from collections.abc import Sequence

from crosspromo.offers.printing import Coupon, Layout, coupon_sheet


def short_chunks_fail(batch: Sequence[Coupon], layout: Layout, locale: str) -> bytes:
    """Breaks on a chunk of fewer than 10 coupons (the last of 25), wherever it runs."""
    if len(batch) < 10:
        raise RuntimeError("the printer ran out of toner")
    return coupon_sheet(batch, layout=layout, locale=locale)
