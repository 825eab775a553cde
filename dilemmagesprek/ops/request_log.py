"""One log line per request, by route name: never a path, query, title or token."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import metrics

log = logging.getLogger("dilemmagesprek.request")


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request.request_id = secrets.token_hex(8)
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.view_name if match else "-"
        response["X-Request-ID"] = request.request_id
        elapsed = time.perf_counter() - started
        metrics.observe_request(request.method, route, response.status_code, elapsed)
        log.info(
            "%s %s %s %.1fms",
            request.method,
            route,
            response.status_code,
            elapsed * 1000,
            extra={"request_id": request.request_id, "route": route,
                   "status": response.status_code},
        )
        return response
