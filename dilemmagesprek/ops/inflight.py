"""A bound on the HTTP requests one process works on at once; the rest wait, or get a quick 503.

Under ASGI every Django request runs in a thread of its own. When many arrive together (every
screen of a conversation fetching after a step change, or more saves than the cores can
take), all those threads contend for the interpreter with each other and with the event loop
that writes socket frames and stores texts saved over the socket: every one of them gets
slower, and the sockets wait longest. Here requests beyond `limit` wait their turn on the
event loop, where waiting costs nothing, and beyond `queue` waiting ones the answer is 503 at
once: the page keeps an unsaved edit and sends it again (live.js), a person sees a short
Dutch message. Health checks are never held up.
"""

from __future__ import annotations

import asyncio
from typing import Any

BUSY_BODY = b"De server is even te druk. Probeer het over een paar seconden opnieuw.\n"
EXEMPT_PREFIXES = ("/health/",)


class BoundedRequests:
    def __init__(self, app: Any, limit: int, queue: int) -> None:
        self.app = app
        self.limit = limit
        self.queue = queue
        self.waiting = 0
        self._semaphore: asyncio.Semaphore | None = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or self.limit <= 0
            or scope.get("path", "").startswith(EXEMPT_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:  # made on the server's own event loop
            self._semaphore = asyncio.Semaphore(self.limit)
        if self._semaphore.locked() and self.waiting >= self.queue:
            from .metrics import observe_request  # Django models: not at import time

            observe_request(scope.get("method", ""), "busy", 503, 0.0)
            await busy(send)
            return
        self.waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self.waiting -= 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._semaphore.release()


async def busy(send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"retry-after", b"2"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": BUSY_BODY})
