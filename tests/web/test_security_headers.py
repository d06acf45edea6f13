"""Defect 8: security headers on every response, and pages that satisfy their CSP."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import sign_in

PAGES = [
    "/b/{b}",
    "/b/{b}/profile",
    "/b/{b}/customers",
    "/b/{b}/partners",
    "/b/{b}/proposals",
    "/b/{b}/proposals/new",
    "/b/{b}/campaigns",
    "/b/{b}/imports",
    "/b/{b}/statements",
    "/b/{b}/team",
    "/b/{b}/till",
    "/b/{b}/pipeline",
    "/b/{b}/pipeline/due",
    "/b/{b}/pipeline/targets",
    "/notifications",
    "/account/password",
    "/businesses/new",
]


class InlineFinder(HTMLParser):
    """What a strict CSP (script-src 'self', style-src 'self') would block."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> block")
        if "style" in names:
            self.found.append(f"style attribute on <{tag}>")
        self.found += [f"{n} handler on <{tag}>" for n in names if n.startswith("on")]
        for name, value in attrs:
            if name in ("href", "src", "action") and (value or "").startswith("javascript:"):
                self.found.append(f"javascript: URL on <{tag}>")


def _inline(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    return finder.found


def _assert_headers(response: Any, *, referrer: str = "strict-origin-when-cross-origin") -> None:
    h = response.headers
    assert "frame-ancestors 'none'" in h["content-security-policy"], response.url
    assert h["x-frame-options"] == "DENY"
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == referrer


def test_every_kind_of_response_carries_the_headers(
    client: TestClient, two_tenants: dict[str, Any]
) -> None:
    for path in ("/signin", "/signup", "/static/app.css", "/healthz", "/no/such/page"):
        _assert_headers(client.get(path))
    _assert_headers(client.get("/api/v1/me"))  # a problem+json 401
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "script-src 'self';" in docs.headers["content-security-policy"]
    assert _inline(docs.text) == []  # the vendored Swagger UI starts from a static file
    policy = client.get("/signin").headers["content-security-policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    _assert_headers(client.get("/r/ZZZZ-ZZZZ-ZZZZ"), referrer="no-referrer")


def test_pages_have_no_inline_script_or_style(
    client: TestClient, two_tenants: dict[str, Any]
) -> None:
    for path in ("/signin", "/signup", "/r/ZZZZ-ZZZZ-ZZZZ"):
        page = client.get(path)
        assert _inline(page.text) == [], path
    sign_in(client, "a@example.com")
    business = two_tenants["a"].id
    for template in PAGES:
        path = template.format(b=business)
        page = client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        assert "text/html" in page.headers["content-type"]
        _assert_headers(page)
        assert _inline(page.text) == [], path
        assert '"allowEval": false' in page.text  # htmx told not to eval or add styles
    options = client.get("/categories/options", params={"q": "zzzzzz"})
    assert _inline(options.text) == []
