"""Fixtures for the process-level reliability tests (tests/reliability/).

Each test gets its own stack: a temporary data directory and, for the production stack, a
fresh PostgreSQL database (created here, migrated through the CLI, dropped afterwards) and
the shared Redis. Which stack `stack` gives follows the run: `make test`'s first pass (no
DATABASE_URL) is the embedded SQLite stack, its second pass (DATABASE_URL and REDIS_URL set)
the production one. `pg_stack` is always PostgreSQL + Redis (scale-out needs both).

When PostgreSQL or Redis does not answer, a test that needs them is skipped locally and fails
in CI (CI=true), like `make test` itself.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.reliability.harness import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    Server,
    Stack,
    free_port,
)


def _answers(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=2).close()
    except OSError:
        return False
    return True


def _fresh_database(admin_url: str) -> Iterator[str]:
    """CREATE a database of our own on the server of `admin_url`; DROP it afterwards."""
    import psycopg
    from psycopg import sql

    name = f"dg_reliability_{secrets.token_hex(6)}"
    for attempt in range(5):
        try:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            break
        except psycopg.errors.ObjectInUse:
            # Another session is copying template1 at this moment (a parallel test run).
            if attempt == 4:
                raise
            time.sleep(1)
    parts = urllib.parse.urlsplit(admin_url)
    try:
        yield urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _production_stack(tmp_path: Path) -> Iterator[Stack]:
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    down = [url for url in (database_url, redis_url) if not _answers(url)]
    if down:
        message = f"PostgreSQL/Redis antwoordt niet: {', '.join(down)}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; in CI moet deze test draaien.", pytrace=False)
        pytest.skip(f"{message} (start ze, zie .ci/run)")
    for database in _fresh_database(database_url):
        stack = Stack(tmp_path / "data", database_url=database, redis_url=redis_url)
        # Every process of the stack signs sessions with the same key.
        stack.settings["SECRET_KEY"] = secrets.token_urlsafe(50)
        stack.cli("migrate", "--no-input", "-v", "0")
        yield stack


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """The embedded stack, or PostgreSQL + Redis when the run has DATABASE_URL set."""
    if os.environ.get("DATABASE_URL"):
        yield from _production_stack(tmp_path)
        return
    stack = Stack(tmp_path / "data")
    stack.cli("migrate", "--no-input", "-v", "0")
    yield stack


@pytest.fixture
def pg_stack(tmp_path: Path) -> Iterator[Stack]:
    yield from _production_stack(tmp_path)


LOGS = pytest.StashKey[Path]()


@pytest.fixture
def start_server(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., list[Server]]]:
    """`start_server(stack, "a", "b")`: servers on ports of their own, stopped at the end.

    `env` adds settings for these processes only. With `wait=False` they are only launched
    (their start-up overlaps whatever the test does next); `server.wait_ready()` then waits.
    """
    servers: list[Server] = []
    logs = tmp_path / "logs"
    logs.mkdir()
    request.node.stash[LOGS] = logs

    def start(
        stack: Stack, *names: str, wait: bool = True, env: dict[str, str] | None = None
    ) -> list[Server]:
        started = [Server(stack, free_port(), name, logs, env) for name in names]
        servers.extend(started)
        for server in started:
            server.spawn()
        if wait:
            for server in started:
                server.wait_ready()
        return started

    yield start
    for server in servers:
        server.stop()


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> None:
    """On a failure, show the server logs: the only trace of what happened in the process."""
    if call.when != "call" or call.excinfo is None:
        return
    logs = item.stash.get(LOGS, None)
    if logs is None:
        return
    for log in sorted(logs.glob("*.log")):
        item.add_report_section("call", log.name, log.read_text(errors="replace")[-6000:])
