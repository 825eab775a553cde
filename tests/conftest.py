"""Fixtures shared by the whole suite.

Browser tests (everything under tests/browser/) drive Debian's chromium through Playwright
against a real `dilemmagesprek serve` in a subprocess, with its own data directory and
embedded SQLite. The rest runs in-process on pytest-django's test database.
"""

import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
BROWSER_DIR = Path(__file__).resolve().parent / "browser"
CHROMIUM = Path("/usr/bin/chromium")

# Server-side variables that would point a subprocess at someone else's state.
ISOLATED_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "WORKERS",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "HOST",
    "PORT",
)


def pytest_configure(config: pytest.Config) -> None:
    # pytest-playwright's own `base_url` fixture trips a pytest 9 deprecation; not ours to fix.
    config.addinivalue_line(
        "filterwarnings",
        "ignore:Session-scoped fixtures defined as instance methods"
        ":pytest.PytestRemovedIn10Warning",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests/browser/ as `browser`, so `pytest -m "not browser"` runs the rest."""
    skip = None
    if not CHROMIUM.exists() and os.environ.get("CI") != "true":
        # Locally a missing browser is a setup gap, not a failure; CI must never skip them.
        skip = pytest.mark.skip(reason=f"{CHROMIUM} ontbreekt; `make test` installeert chromium")
    for item in items:
        if BROWSER_DIR in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
            if skip is not None:
                item.add_marker(skip)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Allow the ORM beside Playwright only when a selected browser test asks for the DB.

    Playwright's sync API keeps an event loop running in the main thread, and Django refuses
    ORM calls while one runs. Our browser tests talk to a server in another process, so they
    normally need no relaxation; this keeps the safety check on for everything else.
    """
    db_fixtures = {"db", "transactional_db", "django_db_setup"}
    for item in session.items:
        uses_db = item.get_closest_marker("django_db") is not None or db_fixtures & set(
            getattr(item, "fixturenames", ())
        )
        if item.get_closest_marker("browser") is not None and uses_db:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
            return


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None) -> Iterator[None]:
    """pytest-django's test database, and at the end the sockets' database thread let go of it.

    That thread keeps its connection open between calls (realtime/db.py); PostgreSQL refuses
    to drop a test database that a session still uses.
    """
    yield
    import asyncio

    from django.db import connections

    from dilemmagesprek.realtime.db import database_work

    async def let_go() -> None:
        await database_work(connections.close_all)()

    # In a thread of its own: Playwright's sync API may still run a loop in this one.
    closer = threading.Thread(target=asyncio.run, args=(let_go(),))
    closer.start()
    closer.join()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's chromium: Playwright is never allowed to download a browser of its own."""
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": browser_type_launch_args.get("headless", True),
        # Without the background-networking flags chromium keeps dialling out, and this
        # machine's closed network refuses every attempt.
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


@dataclass
class LiveApp:
    """A running `dilemmagesprek serve` with one facilitator account."""

    url: str
    username: str
    password: str
    data_dir: Path
    env: dict[str, str] = field(repr=False)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `dilemmagesprek ARGS` against the same data directory as the server."""
        return subprocess.run(
            [sys.executable, "-m", "dilemmagesprek.cli", *args],
            env=self.env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=check,
        )


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    base = tmp_path_factory.mktemp("live_app")
    data_dir = base / "data"
    env = {key: value for key, value in os.environ.items() if key not in ISOLATED_ENV}
    # Browser tests always run the embedded stack: SQLite in a data directory of their own.
    env["DILEMMAGESPREK_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"

    password = secrets.token_urlsafe(18)
    password_file = base / "password"
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    app = LiveApp(url="", username="gespreksleider", password=password, data_dir=data_dir, env=env)
    app.cli("migrate", "--no-input", "-v", "0")
    app.cli("createuser", app.username, "--password-file", str(password_file))

    port = free_port()
    app.url = f"http://127.0.0.1:{port}"
    # Output goes to files, not pipes: a pipe nobody reads fills up and stalls the server.
    log_out = (base / "server.out").open("w")
    log_err = (base / "server.err").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dilemmagesprek.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-demo",
        ],
        env=env,
        cwd=REPO_ROOT,
        stdout=log_out,
        stderr=log_err,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_answers(port):
            if server.poll() is not None or time.monotonic() > deadline:
                stderr = (base / "server.err").read_text()
                pytest.fail(
                    f"dilemmagesprek serve antwoordt niet op poort {port} "
                    f"(exit code {server.poll()}):\n{stderr}",
                    pytrace=False,
                )
            time.sleep(0.1)
        yield app
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log_out.close()
        log_err.close()
