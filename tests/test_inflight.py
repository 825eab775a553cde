"""The bound on HTTP requests in flight: the rest wait their turn, beyond the queue a 503."""

from __future__ import annotations

import asyncio
import threading

from dilemmagesprek.ops import metrics
from dilemmagesprek.ops.inflight import BoundedRequests


def scenario(limit: int, queue: int, paths: list[str]) -> tuple[list[str], dict[str, int]]:
    """Start a request for every path at once; the app holds each until released."""
    started: list[str] = []
    statuses: dict[str, int] = {}

    async def run() -> None:
        release = asyncio.Event()

        async def app(scope, receive, send) -> None:
            started.append(scope["path"])
            await release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

        bounded = BoundedRequests(app, limit, queue)

        async def call(path: str) -> None:
            async def send(message: dict) -> None:
                if message["type"] == "http.response.start":
                    statuses[path] = message["status"]

            await bounded({"type": "http", "path": path, "method": "GET"}, None, send)

        tasks = [asyncio.create_task(call(path)) for path in paths]
        await asyncio.sleep(0.05)
        # Before anything is released: who is being worked on, who was turned away.
        started.append("|")
        assert all(statuses.get(p) in (None, 503) for p in paths)
        release.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 2)

    # In a thread of its own: the browser tests' driver may hold this thread's event loop.
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(run())
        except BaseException as error:  # noqa: BLE001 - raised again below
            failure.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(10)
    if failure:
        raise failure[0]
    return started, statuses


def test_requests_beyond_the_bound_wait_and_beyond_the_queue_are_told_to_come_back() -> None:
    started, statuses = scenario(2, 1, ["/a/", "/b/", "/c/", "/d/"])
    # Two worked on at once, one waiting its turn, the fourth answered 503 at once.
    assert started[:3] == ["/a/", "/b/", "|"]
    assert "/c/" in started[3:]
    assert statuses == {"/a/": 200, "/b/": 200, "/c/": 200, "/d/": 503}


def test_health_checks_are_never_held_up() -> None:
    started, statuses = scenario(1, 0, ["/a/", "/health/live", "/b/"])
    assert started[:3] == ["/a/", "/health/live", "|"]
    assert statuses == {"/a/": 200, "/health/live": 200, "/b/": 503}


def test_no_bound_when_switched_off() -> None:
    started, statuses = scenario(0, 0, ["/a/", "/b/", "/c/"])
    assert started[:4] == ["/a/", "/b/", "/c/", "|"]
    assert set(statuses.values()) == {200}


def test_a_request_turned_away_is_counted(db) -> None:
    scenario(1, 0, ["/a/", "/b/"])
    assert 'route="busy",status="503"' in metrics.render()


def test_the_application_puts_its_pages_behind_the_bound() -> None:
    from dilemmagesprek.asgi import application

    assert isinstance(application.application_mapping["http"], BoundedRequests)
