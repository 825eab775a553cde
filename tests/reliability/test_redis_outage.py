"""Redis goes away under a running scale-out server (SECURITY-RELIABILITY.md R7, short).

The server reaches Redis through a proxy in this test process that can drop every connection
and refuse new ones. The event log in PostgreSQL is the truth, Redis only carries the fan-out,
so while Redis is gone writes must still be acknowledged and a socket must still be able to
replay from the database; when Redis is back every socket must converge.
"""

from __future__ import annotations

import os
import time
import urllib.parse
from collections.abc import Iterator

import pytest

from tests.reliability.harness import (
    DEFAULT_REDIS_URL,
    Browser,
    LiveSocket,
    Proxy,
    Server,
    Stack,
    create_conversation,
    new_op,
    read_field,
)

CONVERGE_WITHIN = 5.0


REAL_REDIS = urllib.parse.urlsplit(os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL)


@pytest.fixture
def redis_proxy(pg_stack: Stack) -> Iterator[Proxy]:
    """Every process of the stack reaches Redis through this proxy."""
    proxy = Proxy(REAL_REDIS.hostname, REAL_REDIS.port or 6379)
    pg_stack.redis_url = proxy.url(REAL_REDIS.path or "/0")
    yield proxy
    proxy.close()


def start(stack: Stack, start_server) -> tuple[Server, Browser, str]:
    (server,) = start_server(stack, "server", wait=False)
    username, password = stack.create_facilitator()
    server.wait_ready()
    browser = Browser(server.url)
    browser.login(username, password)
    return server, browser, create_conversation(browser, "Zonder Redis")


def edit(browser: Browser, conversation_id: str, text: str) -> int:
    version = read_field(browser, conversation_id, "dilemma").version
    response = browser.post(
        f"/g/{conversation_id}/veld/dilemma/",
        {"text": text, "version": str(version), "op": new_op("edit")},
    )
    return response.status


def test_writes_go_on_and_sockets_converge_when_redis_returns(
    pg_stack: Stack, redis_proxy: Proxy, start_server
) -> None:
    server, browser, conversation_id = start(pg_stack, start_server)
    sock = LiveSocket([server.ws_url], conversation_id, browser.session, "live").start()
    try:
        assert sock.wait_for_seq(pg_stack.last_seq(conversation_id), 10)

        redis_proxy.cut()
        started = time.monotonic()
        assert edit(browser, conversation_id, "Tijdens de storing") == 303
        assert time.monotonic() - started < 3, "a write waited long on a Redis that is gone"

        redis_proxy.restore()
        restored = time.monotonic()
        final = pg_stack.last_seq(conversation_id)
        assert sock.wait_for_seq(final, CONVERGE_WITHIN + 2), "the socket never caught up"
        assert time.monotonic() - restored <= CONVERGE_WITHIN
        assert sock.applied[-1]["data"]["text"] == "Tijdens de storing"
    finally:
        sock.stop()


def test_a_socket_is_served_from_the_database_while_redis_is_down(
    pg_stack: Stack, redis_proxy: Proxy, start_server
) -> None:
    server, browser, conversation_id = start(pg_stack, start_server)
    assert edit(browser, conversation_id, "Voor de storing") == 303
    redis_proxy.cut()
    sock = LiveSocket([server.ws_url], conversation_id, browser.session, "late").start()
    try:
        assert sock.wait_for_seq(pg_stack.last_seq(conversation_id), 5), "no replay"
        time.sleep(2)  # a socket that works stays connected
        assert len(sock.connections) == 1 and not sock.drops, (
            f"{len(sock.connections)} connections in a few seconds, dropped: {sock.drops[:3]}"
        )
    finally:
        sock.stop()
        redis_proxy.restore()


def test_an_edit_whose_publish_failed_still_reaches_the_other_process(
    pg_stack: Stack, start_server
) -> None:
    """Process A loses Redis for a moment (a partition, a publish timeout, or a crash between
    commit and publish, which test_scale_out sees now and then); process B does not."""
    proxy_a = Proxy(REAL_REDIS.hostname, REAL_REDIS.port or 6379)
    proxy_b = Proxy(REAL_REDIS.hostname, REAL_REDIS.port or 6379)
    path = REAL_REDIS.path or "/0"
    try:
        (server_a,) = start_server(pg_stack, "a", wait=False, env={"REDIS_URL": proxy_a.url(path)})
        (server_b,) = start_server(pg_stack, "b", wait=False, env={"REDIS_URL": proxy_b.url(path)})
        username, password = pg_stack.create_facilitator()
        server_a.wait_ready()
        server_b.wait_ready()
        browser = Browser(server_a.url)
        browser.login(username, password)
        conversation_id = create_conversation(browser, "Half zonder Redis")
        sock = LiveSocket([server_b.ws_url], conversation_id, browser.session, "on-b").start()
        try:
            assert sock.wait_for_seq(pg_stack.last_seq(conversation_id), 10)
            proxy_a.cut()
            assert edit(browser, conversation_id, "Via A, zonder Redis") == 303
            proxy_a.restore()
            final = pg_stack.last_seq(conversation_id)
            assert sock.wait_for_seq(final, CONVERGE_WITHIN), (
                f"B's socket is stuck at seq {sock.last_seq}; the log has {final}"
            )
        finally:
            sock.stop()
    finally:
        proxy_a.close()
        proxy_b.close()
