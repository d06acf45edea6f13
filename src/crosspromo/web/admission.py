"""At most as many requests at once per process as the database pool has connections.

A request holds its pooled connection from its first query until its unit of work ends, while
FastAPI runs its dependencies and its handler one after another in the thread pool. With more
requests in flight than connections, threads wait for connections that requests waiting for a
thread hold, and every one of them times out: the 500s of a redemption burst. Requests beyond
the pool's size wait here instead, on the event loop, for a bounded time; past it they get 503
with Retry-After, never a 500.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Receive, Scope, Send

PASS_THROUGH = ("/static/",)


def unavailable_body(path: str, detail: str) -> bytes:
    return json.dumps(
        {
            "type": "/problems/unavailable",
            "title": "Service unavailable",
            "status": 503,
            "detail": detail,
            "instance": path,
        }
    ).encode()


class Admission:
    """ASGI middleware: a per-process semaphore of `slots` around each HTTP request."""

    def __init__(self, app: ASGIApp, *, slots: int, wait_seconds: float, retry_after: int) -> None:
        self.app = app
        self.slots = slots
        self.wait_seconds = wait_seconds
        self.retry_after = retry_after
        self._loop: asyncio.AbstractEventLoop | None = None
        self._semaphore: asyncio.Semaphore | None = None

    def _for_this_loop(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._loop is not loop:
            self._loop, self._semaphore = loop, asyncio.Semaphore(self.slots)
        return self._semaphore

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(PASS_THROUGH):
            await self.app(scope, receive, send)
            return
        semaphore = self._for_this_loop()
        try:
            await asyncio.wait_for(semaphore.acquire(), self.wait_seconds)
        except TimeoutError:
            await self._refuse(scope, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            semaphore.release()

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = unavailable_body(scope["path"], "The server is busy; retry after a moment.")
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(self.retry_after).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
