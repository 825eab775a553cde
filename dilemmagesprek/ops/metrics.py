"""Prometheus metrics of this process, in the text exposition format, written by hand.

Counters live in this process: with several workers each scrape sees the worker that
answered (the `pid` label says which); docs/operations.md explains how to scrape them all.
"""

from __future__ import annotations

import hmac
import os
import threading
import time
from collections import defaultdict

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.views.decorators.http import require_GET

from dilemmagesprek.conversations.models import Conversation
from dilemmagesprek.realtime.hub import hub

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

_lock = threading.Lock()
_requests: dict[tuple[str, str, str], int] = defaultdict(int)  # (method, route, status)
_latency: dict[str, list[int]] = defaultdict(lambda: [0] * (len(BUCKETS) + 1))
_latency_sum: dict[str, float] = defaultdict(float)
_events_broadcast = 0
_started = time.time()


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    with _lock:
        _requests[(method, route, str(status))] += 1
        counts = _latency[route]
        index = next((i for i, bound in enumerate(BUCKETS) if seconds <= bound), len(BUCKETS))
        counts[index] += 1
        _latency_sum[route] += seconds


def count_broadcast(event: object) -> None:
    """Subscriber of conversations.events: one more event handed to the live layer."""
    global _events_broadcast
    with _lock:
        _events_broadcast += 1


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def render() -> str:
    pid = os.getpid()
    lines = [
        "# HELP dilemmagesprek_requests_total HTTP requests by route and status.",
        "# TYPE dilemmagesprek_requests_total counter",
    ]
    with _lock:
        for (method, route, status), count in sorted(_requests.items()):
            lines.append(
                f'dilemmagesprek_requests_total{{pid="{pid}",method="{method}",'
                f'route="{_label(route)}",status="{status}"}} {count}'
            )
        lines += [
            "# HELP dilemmagesprek_request_seconds Time to answer a request.",
            "# TYPE dilemmagesprek_request_seconds histogram",
        ]
        for route, counts in sorted(_latency.items()):
            running = 0
            for bound, count in zip((*BUCKETS, "+Inf"), counts, strict=True):
                running += count
                lines.append(
                    f'dilemmagesprek_request_seconds_bucket{{pid="{pid}",route="{_label(route)}",'
                    f'le="{bound}"}} {running}'
                )
            lines.append(
                f'dilemmagesprek_request_seconds_sum{{pid="{pid}",route="{_label(route)}"}} '
                f"{_latency_sum[route]:.6f}"
            )
            lines.append(
                f'dilemmagesprek_request_seconds_count{{pid="{pid}",route="{_label(route)}"}} '
                f"{running}"
            )
        broadcast = _events_broadcast
    active = Conversation.objects.filter(status=Conversation.Status.RUNNING).count()
    lines += [
        "# HELP dilemmagesprek_open_sockets Conversation sockets open in this process.",
        "# TYPE dilemmagesprek_open_sockets gauge",
        f'dilemmagesprek_open_sockets{{pid="{pid}"}} {hub.count()}',
        "# HELP dilemmagesprek_events_broadcast_total Committed events handed to the live layer.",
        "# TYPE dilemmagesprek_events_broadcast_total counter",
        f'dilemmagesprek_events_broadcast_total{{pid="{pid}"}} {broadcast}',
        "# HELP dilemmagesprek_active_conversations Conversations in progress (all workers).",
        "# TYPE dilemmagesprek_active_conversations gauge",
        f"dilemmagesprek_active_conversations {active}",
        "# HELP dilemmagesprek_uptime_seconds Seconds since this process started.",
        "# TYPE dilemmagesprek_uptime_seconds gauge",
        f'dilemmagesprek_uptime_seconds{{pid="{pid}"}} {time.time() - _started:.0f}',
    ]
    return "\n".join(lines) + "\n"


LOOPBACK = {"127.0.0.1", "::1"}


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """With METRICS_TOKEN set, only `Authorization: Bearer <token>`; without, loopback only."""
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        allowed = hmac.compare_digest(given.encode(), token.encode())
    else:
        allowed = request.META.get("REMOTE_ADDR") in LOOPBACK
    if not allowed:
        return HttpResponseNotFound()
    return HttpResponse(render(), content_type="text/plain; version=0.0.4; charset=utf-8")
