"""Request and answer shapes of the import API's mapping endpoints."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import Field, ValidationError

from crosspromo.errors import Invalid
from crosspromo.fields import ONE_LINE, Input

Header = Annotated[str, Field(max_length=200), ONE_LINE]
MAX_COLUMNS = 500


class HeadersIn(Input):
    headers: Annotated[list[Header], Field(min_length=1, max_length=MAX_COLUMNS)]


class Columns(Input):
    columns: Annotated[dict[Header, Header], Field(max_length=MAX_COLUMNS)]


class MappingOut(Input):
    mapping: dict[str, str]
    remembered: bool
    fields: list[str]
    required: list[str]


def parse_columns(text: str | None) -> dict[str, str] | None:
    """The `mapping` form field: a JSON object {"header": "field"}, bounded like any text."""
    if text is None or not text.strip():
        return None
    try:
        data = json.loads(text)
        return Columns.model_validate({"columns": data}).columns
    except (ValueError, ValidationError):
        raise Invalid(
            'mapping must be a JSON object of column names to fields, e.g. {"Дата": "at"}',
            field="mapping",
        ) from None
