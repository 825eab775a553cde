"""SQLite's WAL checkpoints run in a thread of the serving process, not in a user's write."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db.utils import ConnectionHandler

from dilemmagesprek.ops import checkpoints

ROW = "x" * 16_000  # four pages of 4 KB: the log grows quickly


@pytest.fixture
def app_connection(tmp_path: Path, django_db_blocker, monkeypatch) -> Iterator:
    """A Django connection to a SQLite file of its own, with the app's SQLite options."""
    # After the browser tests Playwright's sync API keeps an event loop running in this
    # thread, and Django refuses any connection then; this one is the test's alone.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with django_db_blocker.unblock():
        yield from _app_connection(tmp_path)


def _app_connection(tmp_path: Path) -> Iterator:
    handler = ConnectionHandler(
        {
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(tmp_path / "db.sqlite3"),
                "OPTIONS": settings.SQLITE_OPTIONS,
            }
        }
    )
    connection = handler["default"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT)")
    yield connection
    connection.close()


def write(connection, commits: int) -> None:
    for _ in range(commits):
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO note (text) VALUES (%s)", [ROW])


def wait_until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def running(checkpointer: checkpoints.Checkpointer) -> Iterator[checkpoints.Checkpointer]:
    """The checkpointer's thread, started, and stopped again whatever the test found."""
    checkpointer.start()
    try:
        yield checkpointer
    finally:
        checkpointer.stop()


def rows_in_database_file(path: Path, table: str, column: str, value: str) -> int:
    """Count matching rows in a copy of the database file alone, without its log: what a
    checkpoint has copied back, and nothing that is only in the `-wal` file."""
    copy = path.parent / f"copy-{time.monotonic_ns()}.sqlite3"
    shutil.copyfile(path, copy)
    try:
        connection = sqlite3.connect(copy)
        try:
            query = f'SELECT count(*) FROM "{table}" WHERE "{column}" = ?'  # noqa: S608
            return connection.execute(query, [value]).fetchone()[0]
        except sqlite3.DatabaseError:  # copied halfway through a checkpoint: try again
            return 0
        finally:
            connection.close()
    finally:
        copy.unlink()


def test_the_apps_connections_leave_checkpoints_to_the_checkpointer(app_connection) -> None:
    path = Path(app_connection.settings_dict["NAME"])
    write(app_connection, 400)  # about 1,600 pages: past SQLite's own default of 1,000

    raw = sqlite3.connect(path, isolation_level=None)
    done = checkpoints.checkpoint(raw)
    # No commit copied the log back on its own; one checkpoint copies all of it.
    assert done.busy is False
    assert done.log_pages >= 1_500
    assert done.copied_pages == done.log_pages

    # The next commit starts the log from the beginning: it does not keep growing.
    write(app_connection, 1)
    again = checkpoints.checkpoint(raw)
    assert again.log_pages < 20
    assert again.copied_pages == again.log_pages
    raw.close()

    with app_connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == checkpoints.SAFETY_NET_PAGES


def test_the_checkpointer_copies_the_log_back_and_stops(app_connection) -> None:
    path = Path(app_connection.settings_dict["NAME"])
    write(app_connection, 50)
    assert rows_in_database_file(path, "note", "text", ROW) == 0  # all of it still in the log

    with running(checkpoints.Checkpointer(path, interval=0.05)) as checkpointer:
        assert wait_until(lambda: rows_in_database_file(path, "note", "text", ROW) == 50)
        write(app_connection, 1)
        assert wait_until(lambda: rows_in_database_file(path, "note", "text", ROW) == 51)
    assert not checkpointer.thread.is_alive()


def test_the_checkpointer_never_creates_a_database(tmp_path: Path, caplog) -> None:
    path = tmp_path / "missing.sqlite3"
    checkpointer = checkpoints.Checkpointer(path, interval=0.02)
    with caplog.at_level(logging.WARNING, logger=checkpoints.__name__), running(checkpointer):
        assert wait_until(lambda: len(caplog.records) >= 1, seconds=5)
        time.sleep(0.2)  # ten more failed tries
    assert not path.exists()
    assert not checkpointer.thread.is_alive()
    # Said once, not every second.
    assert [r.getMessage() for r in caplog.records] == [f"SQLite checkpoint of {path} failed"]


def test_the_checkpointer_says_when_it_works_again(tmp_path: Path, caplog) -> None:
    path = tmp_path / "later.sqlite3"
    checkpointer = checkpoints.Checkpointer(path, interval=0.02)
    with caplog.at_level(logging.WARNING, logger=checkpoints.__name__), running(checkpointer):
        assert wait_until(lambda: len(caplog.records) >= 1, seconds=5)
        created = sqlite3.connect(path)
        created.execute("PRAGMA journal_mode=WAL").fetchone()
        created.close()
        assert wait_until(lambda: "work again" in caplog.text, seconds=5)


def test_only_a_sqlite_file_gets_a_checkpointer(tmp_path: Path) -> None:
    sqlite = "django.db.backends.sqlite3"
    assert checkpoints.database_file({"ENGINE": sqlite, "NAME": str(tmp_path / "a")}) == (
        tmp_path / "a"
    )
    assert checkpoints.database_file({"ENGINE": sqlite, "NAME": ":memory:"}) is None
    memory_dir = tmp_path / "memory" / "db.sqlite3"  # a file, whatever its folder is called
    assert checkpoints.database_file({"ENGINE": sqlite, "NAME": str(memory_dir)}) == memory_dir
    assert (
        checkpoints.database_file(
            {"ENGINE": sqlite, "NAME": "file:memorydb_default?mode=memory&cache=shared"}
        )
        is None
    )
    postgres = {"ENGINE": "django.db.backends.postgresql", "NAME": "dilemmagesprek"}
    assert checkpoints.database_file(postgres) is None


def run_lifespan(messages: list[str]) -> list[str]:
    """Drive the ASGI application's lifespan protocol; return what it answered."""
    from dilemmagesprek.asgi import application

    answers: list[str] = []

    async def main() -> None:
        incoming: asyncio.Queue = asyncio.Queue()
        for message in messages:
            incoming.put_nowait({"type": message})

        async def send(message: dict) -> None:
            answers.append(message["type"])

        await application({"type": "lifespan", "asgi": {"version": "3.0"}}, incoming.get, send)

    # In a thread of its own: Playwright's sync API may keep a loop running in this one.
    thread = threading.Thread(target=asyncio.run, args=(main(),))
    thread.start()
    thread.join(timeout=10)
    return answers


def test_each_serving_process_starts_and_stops_its_checkpointer(monkeypatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(checkpoints, "start", lambda: calls.append("start") or True)
    monkeypatch.setattr(checkpoints, "stop", lambda: calls.append("stop"))

    answers = run_lifespan(["lifespan.startup", "lifespan.shutdown"])

    assert answers == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert calls == ["start", "stop"]


def test_the_server_starts_even_when_the_checkpointer_does_not(monkeypatch, caplog) -> None:
    def broken() -> bool:
        raise OSError("no threads left")

    monkeypatch.setattr(checkpoints, "start", broken)
    monkeypatch.setattr(checkpoints, "stop", lambda: None)

    answers = run_lifespan(["lifespan.startup", "lifespan.shutdown"])

    assert answers == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert "checkpointer did not start" in caplog.text


def test_a_running_server_copies_its_writes_into_the_database_file(live_app) -> None:
    """`dilemmagesprek serve` checkpoints on its own: a write made while it runs reaches the
    database file within seconds, not only when the log reaches 10,000 pages."""
    database = live_app.data_dir / "dilemmagesprek.sqlite3"
    name = f"checkpoint-{time.monotonic_ns()}"
    password_file = live_app.data_dir.parent / f"{name}.password"
    password_file.write_text("een-wachtwoord-van-voldoende-lengte\n")
    live_app.cli("createuser", name, "--password-file", str(password_file))

    assert wait_until(lambda: rows_in_database_file(database, "accounts_user", "username", name))
