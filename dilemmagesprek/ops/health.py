"""Health endpoints for load balancers and orchestrators."""

from __future__ import annotations

import json

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET


def _json(data: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data), content_type="application/json", status=status)


@require_GET
def live(request: HttpRequest) -> HttpResponse:
    """The process answers; nothing else is checked (restart it when this fails)."""
    return _json({"status": "ok"})


@require_GET
def ready(request: HttpRequest) -> HttpResponse:
    """Ready for traffic when the database answers. Without Redis the app still saves and
    acknowledges edits, but other workers' screens stop following: "degraded", still 200."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unreachable"
    if settings.REDIS_URL:
        try:
            client = redis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5
            )
            client.ping()
            checks["redis"] = "ok"
        except Exception:
            checks["redis"] = "unreachable"
    if checks["database"] != "ok":
        return _json({"status": "unavailable", "checks": checks}, status=503)
    status = "degraded" if checks.get("redis") == "unreachable" else "ok"
    return _json({"status": status, "checks": checks})
