"""A plausible value for every schema in the OpenAPI document, and the leaves to spoil.

The bad-input sweep starts from these values so that each request is valid but for the one
field it spoils, and the spoiled value reaches as deep into the service as it can.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

PATTERNS = {
    "^[A-Z]{3}$": "RUB",
    "^https?://": "https://example.org/hook",
    "^[A-Za-z0-9]*$": "AB",
    "^(en|ru)$": "en",
    "^(json|csv)$": "json",
    "^(json|csv|pdf)$": "json",
}
BY_NAME = {
    "currency": "RUB",
    "country": "RU",
    "timezone": "Europe/Moscow",
    "category": "shop=bakery",
    "email": "someone@example.org",
    "customer": "someone@example.org",
    "url": "https://example.org/hook",
    "website": "example.org",
    "phone": "+79161234567",
    "code": "BREAD",
    "month": "2026-06",
    "locale": "en",
    "lang": "en",
    "format": "json",
    "layout": "a4",
}


def resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = doc["components"]["schemas"][name]
    return schema


def nonnull(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    schema = resolve(schema, doc)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [resolve(s, doc) for s in schema[key]]
            return next((s for s in options if s.get("type") != "null"), options[0])
    return schema


def value(schema: dict[str, Any], doc: dict[str, Any], name: str, ids: dict[str, str]) -> Any:
    """A valid value for `schema`; ids and well-known names from `ids` and BY_NAME."""
    schema = nonnull(schema, doc)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: value(v, doc, k, ids) for k, v in props.items()}
    if kind == "array":
        item = value(schema.get("items", {}), doc, name, ids)
        return [item] * max(1, schema.get("minItems", 1))
    if kind == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        return max(1, low) if schema.get("maximum", 1) >= 1 else low
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if kind == "string":
        if name in ids:
            return ids[name]
        fmt = schema.get("format")
        if fmt == "uuid":
            return ids.get("business_id") if name.endswith("business_id") else str(uuid.uuid4())
        if fmt == "date":
            return "2026-06-01"
        if fmt == "date-time":
            return "2026-06-01T10:00:00Z"
        if name in BY_NAME:
            return BY_NAME[name]
        if schema.get("pattern") in PATTERNS:
            return PATTERNS[schema["pattern"]]
        return "x" * max(1, schema.get("minLength", 1))
    return "x"


def leaves(
    example: Any, schema: dict[str, Any], doc: dict[str, Any], path: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(path, "integer" | "string") of every integer and text field under `example`."""
    schema = nonnull(schema, doc)
    if isinstance(example, dict):
        props = schema.get("properties", {})
        for key, sub in example.items():
            yield from leaves(sub, props.get(key, {}), doc, (*path, key))
    elif isinstance(example, list) and example:
        yield from leaves(example[0], schema.get("items", {}), doc, (*path, 0))
    elif schema.get("type") == "integer":
        yield path, "integer"
    elif schema.get("type") == "string" and "enum" not in schema:
        yield path, "string"


def replaced(example: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    if isinstance(example, dict):
        return {**example, path[0]: replaced(example[path[0]], path[1:], new)}
    copy = list(example)
    copy[path[0]] = replaced(copy[path[0]], path[1:], new)
    return copy
