"""Shapes of the audience overlap answers."""

from __future__ import annotations

from pydantic import BaseModel


class OverlapOut(BaseModel):
    """Shared customers with another business: rounded, or suppressed below `k`."""

    other: str
    shown: int | None
    suppressed: bool
    k: int
    rounding: int
    reason: str
