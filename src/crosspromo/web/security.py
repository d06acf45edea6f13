"""Security headers on every response, in one middleware.

Pages load scripts, styles, images and fonts from this site only, never inline
(`static/app.js` holds what used to be inline; htmx is told not to inject styles or eval), so
an injected `<script>` cannot run; no page may be framed (clickjacking of the till and the
accept buttons); the referral landing page sends no Referer, since its URL is the code.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGES_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
# The vendored Swagger UI (no CDN, no inline script) sets style attributes from its bundle.
DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
COMMON = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


# A lead form's embedded version (`/l/<form>/embed`) and an offer's success-page block
# (`/r/<code>/embed`) are made to be framed by partners' sites.
EMBED_POLICY = PAGES_POLICY.replace("frame-ancestors 'none'", "frame-ancestors *")


def _embedded(path: str) -> bool:
    return path.startswith(("/l/", "/r/")) and path.endswith("/embed")


def headers_for(path: str) -> list[tuple[bytes, bytes]]:
    """The security headers a response to this path carries."""
    if _embedded(path):
        framed = b"no-referrer" if path.startswith("/r/") else b"strict-origin-when-cross-origin"
        return [
            (b"content-security-policy", EMBED_POLICY.encode()),
            (b"referrer-policy", framed),
            *[(k, v) for k, v in COMMON if k != b"x-frame-options"],
        ]
    policy = DOCS_POLICY if path.startswith("/api/docs") else PAGES_POLICY
    referrer = "no-referrer" if path.startswith("/r/") else "strict-origin-when-cross-origin"
    return [
        (b"content-security-policy", policy.encode()),
        (b"referrer-policy", referrer.encode()),
        *COMMON,
    ]


class SecurityHeaders:
    """Pure ASGI (no buffering of streamed bodies): adds the headers at response start."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope.get("path", ""))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in extra if name not in present
                ]
            await send(message)

        await self.app(scope, receive, with_headers)
