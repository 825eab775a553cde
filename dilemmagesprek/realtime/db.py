"""The sockets' database work: in one thread, on a connection that stays open between calls."""

from __future__ import annotations

from typing import Any

from asgiref.sync import SyncToAsync
from django.db import connections


class KeptConnection(SyncToAsync):
    """Like Channels' `database_sync_to_async`, without closing the connection after each call.

    Channels closes "old" connections before and after every call, and with CONN_MAX_AGE 0
    that means every save opened a new connection: 0.4 ms for SQLite, a quarter of the save
    (docs/performance.md). All calls run in the same thread (thread-sensitive), so one
    connection serves every socket of the process. A connection that saw a database error is
    closed, so the next call starts on a fresh one (a restarted database, a broken pipe).
    """

    def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            for connection in connections.all(initialized_only=True):
                if connection.errors_occurred:
                    connection.close()


database_work = KeptConnection
