"""Running a coroutine at once, on the caller's stack, until it has to wait.

A socket's send almost never waits: uvicorn writes the frame to the transport and returns,
and waits only while the client's buffer is full. Handing every frame to a task costs a
wake-up of that task per socket per event; running the send at once does not
(docs/performance.md, tenth round). Python 3.12 has eager tasks for this; 3.11 does not.
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from typing import Any


def start(coro: Coroutine[Any, Any, Any]) -> Started | None:
    """Run `coro` until it finishes (None) or waits (a `Started` to await for the rest).

    An exception it raises before it waits is raised here.
    """
    try:
        waiting_on = coro.send(None)
    except StopIteration:
        return None
    return Started(coro, waiting_on)


class Started:
    """The rest of a coroutine that `start` ran until it waited: awaiting this finishes it.

    What the coroutine waited on is handed to the task that awaits this, as the coroutine
    would have handed it had it run in that task from the start; cancelling that task
    cancels the coroutine.
    """

    def __init__(self, coro: Coroutine[Any, Any, Any], waiting_on: Any) -> None:
        self.coro = coro
        self.waiting_on = waiting_on

    def __await__(self) -> Generator[Any, None, Any]:
        waiting_on = self.waiting_on
        while True:
            try:
                yield waiting_on
            except BaseException as error:  # noqa: BLE001 - passed on to the coroutine
                step = self.coro.throw
                argument: Any = error
            else:
                step = self.coro.send
                argument = None
            try:
                waiting_on = step(argument)
            except StopIteration as done:
                return done.value
