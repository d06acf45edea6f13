"""Read-your-writes across requests when reads may go to a replica.

After a request that may have written (any method but GET/HEAD/OPTIONS) succeeds, the browser
gets a short-lived cookie; while it lasts, that browser's reads go to the primary, so the page
after a form's redirect shows what was just saved even when the replica is a moment behind.
Clients without cookies (API scripts) read the replica as soon as a request is read-only;
a write and the reads inside one request always share the primary.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FRESH_COOKIE = "cp_fresh"
READ_ONLY = {"GET", "HEAD", "OPTIONS"}


class FreshReads:
    """Pure ASGI: marks the browser fresh at the start of a successful writing response."""

    def __init__(self, app: ASGIApp, *, seconds: int) -> None:
        self.app = app
        self.cookie = (
            f"{FRESH_COOKIE}=1; Max-Age={seconds}; Path=/; HttpOnly; SameSite=Lax".encode()
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READ_ONLY:
            await self.app(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                message["headers"] = [*message.get("headers", []), (b"set-cookie", self.cookie)]
            await send(message)

        await self.app(scope, receive, send_marked)
