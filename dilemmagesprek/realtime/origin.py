"""Only pages of this site may open the conversation socket (no cross-site hijacking)."""

from __future__ import annotations

from typing import Any

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host


def allowed_origin(origin: str, host: str, secure: bool) -> bool:
    """The Origin must be this very site (scheme and host as requested, the host allowed) or
    one of the configured trusted origins — the same rule Django's CSRF check applies."""
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    return origin == f"{'https' if secure else 'http'}://{host}"


class SameOriginValidator:
    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        headers = dict(scope.get("headers", []))
        origin = headers.get(b"origin", b"").decode("latin1")
        host = headers.get(b"host", b"").decode("latin1")
        secure = scope.get("scheme") == "wss" or (
            settings.HTTPS and headers.get(b"x-forwarded-proto") == b"https"
        )
        if origin and host and allowed_origin(origin, host, secure):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
