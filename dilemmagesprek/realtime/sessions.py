"""The socket's session: read from its cookie, never saved.

Channels' SessionMiddleware wraps every message a socket sends, to save a changed session and
set its cookie on an HTTP response. A socket sends no HTTP response and never changes its
session, yet the check ran for every frame: about a tenth of the socket layer's time in a
profile of the fan-out (docs/performance.md). This puts the same session in the scope and
leaves `send` alone.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings


class SocketSessionMiddleware:
    """Needs Channels' CookieMiddleware above it, as Channels' own session middleware does."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        key = scope["cookies"].get(settings.SESSION_COOKIE_NAME)
        # The store reads the database only when first used, in the sockets' database thread.
        scope = dict(scope, session=self.session_store(key))
        return await self.inner(scope, receive, send)
