"""The sockets' database work: in one thread of their own, on a connection that stays open.

Every socket of the process calls the database through `database_work(fn)(*args)`, which
runs `fn` in one thread and hands its result back to the event loop. This replaces Channels'
`database_sync_to_async` on the socket path for three measured reasons (docs/performance.md):

- Channels closes "old" connections before and after every call, and with CONN_MAX_AGE 0 that
  meant a new SQLite connection per save. Here the thread keeps its connection; one that saw
  a database error is closed, so the next call starts on a fresh one.
- asgiref's hop copies and restores the caller's context and wraps the call in three futures:
  about 0.38 ms of CPU per call on a process that was idle for 20 ms, against 0.16 ms for a
  queue and one future (bench/hop_bench.py).
- An event committed by the call is fanned out by the same wake-up of the event loop that
  hands back the result, just before it (`hand_back`): one wake-up per save instead of two,
  and the writer's answer never overtakes the event it caused.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from django.db import connections

log = logging.getLogger(__name__)

T = TypeVar("T")

_Job = tuple[asyncio.AbstractEventLoop, asyncio.Future, Callable[..., Any], tuple[Any, ...]]


class DatabaseThread:
    """One thread, started on first use, that runs the calls in the order they were made."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # What the running call asked to be done on the event loop (see hand_back).
        self._handed_back: list[tuple[Callable[..., Any], tuple[Any, ...]]] | None = None

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """On the event loop: run fn(*args) in the database thread; await the result."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._ensure_started()
        self._jobs.put((loop, future, fn, args))
        return future

    def hand_back(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Run fn(*args) on the event loop just before the current call's result.

        Only inside a call running in this thread (returns False anywhere else, and the
        caller must deliver another way). fn also runs when the call fails or its caller
        has gone: what it delivers (a committed event) is owed to everyone else.
        """
        if threading.current_thread() is not self._thread or self._handed_back is None:
            return False
        self._handed_back.append((fn, args))
        return True

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="socket-database", daemon=True)
                self._thread = thread
                thread.start()

    def _run(self) -> None:
        while True:
            loop, future, fn, args = self._jobs.get()
            self._handed_back = handed_back = []
            result: Any = None
            error: BaseException | None = None
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to the awaiting coroutine, raised there
                error = exc
            finally:
                self._handed_back = None
                for connection in connections.all(initialized_only=True):
                    if connection.errors_occurred:
                        connection.close()
            try:
                loop.call_soon_threadsafe(_finish, future, result, error, handed_back)
            except RuntimeError:  # the loop has closed (shutting down): nobody to tell
                log.debug("database result after the event loop closed", exc_info=True)
            del future, result, error, handed_back  # not kept alive until the next job


def _finish(
    future: asyncio.Future,
    result: Any,
    error: BaseException | None,
    handed_back: list[tuple[Callable[..., Any], tuple[Any, ...]]],
) -> None:
    for fn, args in handed_back:
        try:
            fn(*args)
        except Exception:
            log.exception("work handed back by the database thread failed")
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


database_thread = DatabaseThread()


def database_work(fn: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """`fn` as an awaitable that runs in the sockets' database thread."""

    def call(*args: Any) -> Awaitable[T]:
        return database_thread.submit(fn, *args)

    return call
