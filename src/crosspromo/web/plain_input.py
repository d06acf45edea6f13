"""Refuse control characters in whatever text a request carries, before any handler sees it.

PostgreSQL refuses NUL in text (a 500, or a dropped connection) while SQLite stores it
silently; other control characters are never typed by people and hide text in exports. The
schemas (`crosspromo.fields`) refuse them field by field; this guard covers what reaches
handlers without a schema: path and query values, headers, urlencoded page forms, and any
JSON member. Tab and line breaks are allowed, since a textarea sends them.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from crosspromo.errors import Invalid
from crosspromo.fields import control_character, form_input

# A JSON body larger than this is left to its schema (uploads are multipart or binary).
MAX_JSON_SCAN = 1 << 20
HEADER_ALLOWED = frozenset("\t")


def _refuse(field: str, value: str, allowed: frozenset[str] | None = None) -> None:
    char = control_character(value) if allowed is None else control_character(value, allowed)
    if char is not None:
        raise Invalid(f"control character U+{ord(char):04X} is not allowed", field=field)


def _walk(value: Any, path: str) -> None:
    if isinstance(value, str):
        _refuse(path or "body", value)
    elif isinstance(value, dict):
        for key, sub in value.items():
            _refuse(path or "body", key)
            _walk(sub, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            _walk(sub, f"{path}.{index}" if path else str(index))


async def refuse_control_characters(request: Request) -> None:
    """An app-wide dependency: 422 naming the field for a control character anywhere."""
    for name, value in request.path_params.items():
        if isinstance(value, str):
            _refuse(name, value)
    for name, value in request.query_params.multi_items():
        _refuse(name, value)
    for name, value in request.headers.items():
        _refuse(name, value, HEADER_ALLOWED)
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form_input.set(True)  # this request's integers arrive as digits (crosspromo.fields)
    if content_type == "application/x-www-form-urlencoded":
        form = await request.form()
        for name, value in form.multi_items():
            _refuse(name, name)
            if isinstance(value, str):
                _refuse(name, value)
    elif content_type == "multipart/form-data":
        # Parsed already when the route declares form fields; never parse an upload here.
        parsed = getattr(request, "_form", None)
        for name, value in parsed.multi_items() if parsed is not None else ():
            if isinstance(value, str):
                _refuse(name, value)
    elif content_type == "application/json" or content_type.endswith("+json"):
        body = await request.body()
        if not body or len(body) > MAX_JSON_SCAN:
            return
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return  # the route's own parsing answers 422 for malformed JSON
        _walk(document, "")
