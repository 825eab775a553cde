"""The sockets' database thread: results, errors, and work handed back to the event loop."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable

import pytest

from dilemmagesprek.realtime.db import database_thread, database_work
from tests import test_realtime
from tests.test_live_writes import save_frame
from tests.test_realtime import ready_sockets, receive, run, session_cookie_for_member

people = test_realtime.people  # the same fixture: a facilitator, a participant, an outsider


def run_apart(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run a scenario on an event loop in a thread of its own.

    These tests need no database, so they may run after the browser tests, while Playwright's
    sync API keeps an event loop running in the main thread (asyncio.run refuses that).
    """
    failures: list[BaseException] = []

    def target() -> None:
        try:
            run(scenario)
        except BaseException as failure:  # re-raised in the test's own thread
            failures.append(failure)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failures:
        raise failures[0]


def test_a_call_runs_in_the_database_thread_and_answers_on_the_loop():
    async def scenario():
        loop_thread = threading.get_ident()
        ran_in = await database_work(threading.get_ident)()
        assert ran_in != loop_thread
        # Always the same thread: its connection is the one every socket call shares.
        assert await database_work(threading.get_ident)() == ran_in

    run_apart(scenario)


def test_work_handed_back_runs_on_the_loop_before_the_result_arrives():
    seen: list[tuple[str, int]] = []

    def work() -> str:
        def on_loop() -> None:
            seen.append(("handed back", threading.get_ident()))

        assert database_thread.hand_back(on_loop)
        seen.append(("work", threading.get_ident()))
        return "done"

    async def scenario():
        result = await database_work(work)()
        seen.append(("result", threading.get_ident()))
        assert result == "done"

    run_apart(scenario)
    assert [what for what, _ in seen] == ["work", "handed back", "result"]
    assert seen[1][1] == seen[2][1] != seen[0][1]


def test_work_is_handed_back_even_when_the_call_fails():
    handed_back: list[str] = []

    def failing() -> None:
        database_thread.hand_back(handed_back.append, "event")
        raise ValueError("kapot")

    async def scenario():
        with pytest.raises(ValueError, match="kapot"):
            await database_work(failing)()

    run_apart(scenario)
    assert handed_back == ["event"]


def test_hand_back_outside_the_database_thread_is_refused():
    assert database_thread.hand_back(print) is False


def test_a_caller_that_went_away_does_not_stop_the_thread_or_its_hand_back():
    release = threading.Event()
    handed_back: list[str] = []

    def slow() -> str:
        release.wait(5)
        database_thread.hand_back(handed_back.append, "event")
        return "late"

    async def scenario():
        waiting = asyncio.ensure_future(database_work(slow)())
        await asyncio.sleep(0.05)
        waiting.cancel()  # as when the socket closes while its save runs
        release.set()
        assert await database_work(lambda: "next")() == "next"
        assert waiting.cancelled()

    run_apart(scenario)
    assert handed_back == ["event"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(bool(os.environ.get("REDIS_URL")), reason="the embedded mode's order")
def test_the_writer_sees_its_event_before_the_answer_to_its_save(people):
    # The event and the answer come back in one wake-up of the loop, the event first: the
    # page never holds an answer whose event is still to come. (With Redis the event takes
    # the pub/sub round trip and may come after the answer; live.js takes either order.)
    conversation = people["conversation"]
    writer = session_cookie_for_member(people["participant"])
    frames = []

    async def scenario():
        (comm,) = await ready_sockets(conversation, writer)
        for number in range(5):
            frame = save_frame(f"Versie {number}", number, op=f"op-order-{number}")
            await comm.send_to(text_data=frame)
            frames.append(await receive(comm))
            frames.append(await receive(comm))
        await comm.disconnect()

    run(scenario)
    assert [frame["type"] for frame in frames] == ["event", "saved"] * 5
    assert [frame["op"] for frame in frames] == [f"op-order-{n}" for n in range(5) for _ in "ab"]
