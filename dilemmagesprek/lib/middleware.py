"""Response headers and session lifetimes that hold for every page."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "camera", "display-capture", "geolocation", "gyroscope",
        "magnetometer", "microphone", "payment", "usb", "interest-cohort",
    )
)
SESSION_STARTED = "dg_started"
SESSION_RENEWED = "dg_renewed"


class SecurityHeadersMiddleware:
    """What Django's SecurityMiddleware does not set: Permissions-Policy, and no caching of
    anything a signed-in user or a member sees (dilemmas are confidential)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if not request.path.startswith(settings.STATIC_URL):
            add_never_cache_headers(response)
            response.headers["Cache-Control"] = "no-store, private, max-age=0"
        return response


class SessionLifetimeMiddleware:
    """End a session after SESSION_ABSOLUTE_SECONDS however active it was. The idle timeout
    is Django's own (SESSION_COOKIE_AGE), renewed by saving the session: here at most once
    per SESSION_RENEW_SECONDS, so a busy conversation does not write its sessions on every
    request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        started = session.get(SESSION_STARTED)
        now = int(time.time())
        if started is not None and now - started > settings.SESSION_ABSOLUTE_SECONDS:
            logout(request)  # flushes the session, whether signed in or joined by link
        elif started is None and not session.is_empty():
            session[SESSION_STARTED] = now
            session[SESSION_RENEWED] = now
        elif (
            started is not None
            and now - session.get(SESSION_RENEWED, 0) >= settings.SESSION_RENEW_SECONDS
        ):
            session[SESSION_RENEWED] = now  # a change makes Django save it with a new expiry
        return self.get_response(request)
