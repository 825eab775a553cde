"""SQLite's WAL checkpoints in a thread of their own, not in the write that happens to be due.

In WAL mode every commit is appended to the `-wal` file. By default the commit that takes that
file past 1,000 pages also copies it back into the database and syncs both files to disk
before it returns: on our machines that commit took 13–36 ms instead of 3, about once every
150 socket saves, and everyone in that conversation waited for it (docs/performance.md, eighth
round). A serving process therefore copies the log back itself, every second, in PASSIVE mode:
it never waits for, or blocks, a writer or reader, and the interpreter lock is released while
SQLite works, so the disk syncs do not hold up the event loop or the database thread.

SQLite's own checkpoint stays as a safety net (`PRAGMA wal_autocheckpoint` in settings): it
fires only when the log grows past SAFETY_NET_PAGES, which means this thread is not keeping up
or not running (a process started without the ASGI lifespan, a management command).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 1.0
# Also in settings.py's init_command (a settings module cannot import this one).
SAFETY_NET_PAGES = 10_000


@dataclass(frozen=True)
class Checkpoint:
    busy: bool  # another checkpoint was running; nothing was done
    log_pages: int  # pages in the write-ahead log
    copied_pages: int  # of those, pages now also in the database file


def checkpoint(connection: sqlite3.Connection) -> Checkpoint:
    """Copy what the write-ahead log holds back into the database, without waiting."""
    busy, log_pages, copied_pages = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return Checkpoint(bool(busy), log_pages, copied_pages)


def database_file(database: dict) -> Path | None:
    """The SQLite file a database setting names, or None (another engine, in memory)."""
    name = str(database.get("NAME") or "")
    if database.get("ENGINE") != "django.db.backends.sqlite3" or not name:
        return None
    if name == ":memory:" or "mode=memory" in name:  # the tests' shared in-memory database
        return None
    return Path(name)


class Checkpointer:
    """A daemon thread that checkpoints one SQLite file every `interval` seconds."""

    def __init__(self, path: Path, interval: float = INTERVAL_SECONDS) -> None:
        self.path = path
        self.interval = interval
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sqlite-checkpoints", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        failing = False
        while not self.stopping.wait(self.interval):
            try:
                if connection is None:
                    # mode=rw: never create an empty database where the real one should be.
                    connection = sqlite3.connect(
                        f"file:{self.path}?mode=rw", uri=True, isolation_level=None
                    )
                checkpoint(connection)
            except sqlite3.Error:
                # The file went away or is locked for a restore: try again on a new
                # connection, and say so once rather than every second.
                log.log(
                    logging.DEBUG if failing else logging.WARNING,
                    "SQLite checkpoint of %s failed", self.path, exc_info=True,
                )
                failing = True
                if connection is not None:
                    connection.close()
                    connection = None
            else:
                if failing:
                    log.warning("SQLite checkpoints of %s work again", self.path)
                failing = False
        if connection is not None:
            connection.close()


_running: Checkpointer | None = None


def start() -> bool:
    """Start this process's checkpointer for the default database, when that is SQLite."""
    global _running
    path = database_file(settings.DATABASES["default"])
    if _running is not None or path is None or not path.exists():
        return False
    _running = Checkpointer(path)
    _running.start()
    return True


def stop() -> None:
    global _running
    if _running is not None:
        _running.stop()
        _running = None
