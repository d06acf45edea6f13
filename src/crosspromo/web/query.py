"""Query parameters that every list endpoint shares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from crosspromo.paging import MAX_CURSOR

# The `cursor` query parameter of every list endpoint (a `paging` cursor).
Cursor = Annotated[
    str | None, Query(max_length=MAX_CURSOR, description="next_cursor of the previous page")
]
