"""The bad-input sweep: every integer and text field of every API route (from the OpenAPI
document) gets numbers beyond 64 bits, booleans, numeric strings, a NUL byte and other
control characters. No answer may be a server error, on either engine, and none may succeed.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient

from tests.hardening.openapi_values import leaves, nonnull, replaced, value

BAD_INTEGERS: list[Any] = [2**63, -(2**63) - 1, 10**30, True, "100", "\x00"]
BAD_TEXT: list[Any] = ["\x00", "a\x00b", "\x01", "\x1b[31m", "\x7f", "\x85", "\ud800", 2**63]
BAD_QUERY_INTEGERS = [str(2**63), str(-(2**63) - 1), str(10**30), "true", "1\x00"]
BAD_QUERY_TEXT = ["\x00", "a\x00b", "\x01", "\x1b[31m", "\x7f", "\x85"]


def _requests(
    doc: dict[str, Any], ids: dict[str, str]
) -> list[tuple[str, str, str, dict[str, Any], Any, str]]:
    """(method, path template, spoiled field, query, body, label) for each spoiled value."""
    out = []
    for template, operations in doc["paths"].items():
        for method, op in operations.items():
            params = op.get("parameters", [])
            path_values = {p["name"]: ids.get(p["name"], "x") for p in params if p["in"] == "path"}
            query = {
                p["name"]: value(p["schema"], doc, p["name"], ids)
                for p in params
                if p["in"] == "query"
            }
            content = op.get("requestBody", {}).get("content", {})
            body_schema = content.get("application/json", {}).get("schema")
            body = value(body_schema, doc, "", ids) if body_schema else None

            def url(values: dict[str, str], template: str = template) -> str:
                return template.format(**{k: quote(v, safe="") for k, v in values.items()})

            for p in params:
                kind = nonnull(p["schema"], doc).get("type")
                spoil = BAD_QUERY_INTEGERS if kind == "integer" else BAD_QUERY_TEXT
                if kind not in ("integer", "string") or "enum" in nonnull(p["schema"], doc):
                    continue
                for bad in spoil:
                    if p["in"] == "query":
                        out.append(
                            (
                                method,
                                url(path_values),
                                p["name"],
                                query | {p["name"]: bad},
                                body,
                                repr(bad),
                            )
                        )
                    elif p["in"] == "path":
                        out.append(
                            (
                                method,
                                url(path_values | {p["name"]: bad}),
                                p["name"],
                                query,
                                body,
                                repr(bad),
                            )
                        )
            if body is not None:
                for path, kind in leaves(body, body_schema, doc):
                    for bad in BAD_INTEGERS if kind == "integer" else BAD_TEXT:
                        label = ".".join(map(str, path))
                        out.append(
                            (
                                method,
                                url(path_values),
                                label,
                                query,
                                replaced(body, path, bad),
                                repr(bad),
                            )
                        )
    return out


def test_no_server_error_for_bad_input(client: TestClient, world: dict[str, Any]) -> None:
    doc = client.get("/api/openapi.json").json()
    ids = world["ids"] | {
        "to_business": world["partner_slug"],
        "business": world["partner_slug"],
        "partner_business": world["partner_slug"],
        "other": world["partner_slug"],
        "partner": world["partner_slug"],
    }
    plan = _requests(doc, ids)
    assert len(plan) > 1000
    failures, accepted = [], []
    for method, url, field, query, body, bad in plan:
        content = None if body is None else json.dumps(body)
        headers = world["headers"] | ({"content-type": "application/json"} if content else {})
        response = client.request(
            method.upper(), url, params=query, content=content, headers=headers
        )
        if response.status_code >= 500:
            failures.append((method, url, field, bad, response.status_code, response.text[:200]))
        elif response.status_code < 300:
            accepted.append((method, url, field, bad, response.status_code))
    assert not failures, "\n".join(map(str, failures[:40])) + f"\n{len(failures)} server errors"
    assert not accepted, "\n".join(map(str, accepted[:40])) + f"\n{len(accepted)} accepted"
