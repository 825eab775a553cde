"""Sending at once: a coroutine that does not wait finishes on the caller's stack; one that
waits goes on, in order and cancellable, in the task that awaits its rest. And the socket's
frames keep their order when the client stops reading for a while."""

from __future__ import annotations

import asyncio

import pytest

from dilemmagesprek.realtime import eager
from dilemmagesprek.realtime.consumers import CLOSE_TOO_SLOW, MAX_QUEUED, ConversationConsumer
from tests.test_realtime_db import run_apart


def test_a_coroutine_that_does_not_wait_has_finished_when_start_returns() -> None:
    async def scenario() -> None:
        open_ = asyncio.Event()
        open_.set()
        done = []

        async def send() -> None:
            await open_.wait()  # an await that does not have to wait
            done.append("sent")

        assert eager.start(send()) is None
        assert done == ["sent"]  # no task step in between

    run_apart(scenario)


def test_a_coroutine_that_waits_is_finished_by_awaiting_its_rest() -> None:
    async def scenario() -> None:
        gate = asyncio.Event()
        steps = []

        async def send() -> str:
            steps.append("before")
            await gate.wait()
            steps.append("after")
            return "result"

        rest = eager.start(send())
        assert isinstance(rest, eager.Started)
        assert steps == ["before"]

        async def finish() -> str:
            return await rest

        finishing = asyncio.create_task(finish())
        await asyncio.sleep(0.01)
        assert steps == ["before"]
        gate.set()
        assert await finishing == "result"
        assert steps == ["before", "after"]

    run_apart(scenario)


def test_an_error_before_waiting_is_raised_by_start_and_after_waiting_by_the_rest() -> None:
    async def fails_at_once() -> None:
        raise ConnectionError("gone")

    async def fails_later(gate: asyncio.Event) -> None:
        await gate.wait()
        raise ConnectionError("gone later")

    async def scenario() -> None:
        with pytest.raises(ConnectionError, match="gone"):
            eager.start(fails_at_once())
        gate = asyncio.Event()
        rest = eager.start(fails_later(gate))
        gate.set()
        with pytest.raises(ConnectionError, match="gone later"):
            await rest

    run_apart(scenario)


def test_cancelling_the_task_that_awaits_the_rest_cancels_the_coroutine() -> None:
    async def scenario() -> None:
        cleaned_up = []

        async def send() -> None:
            try:
                await asyncio.Event().wait()  # never set
            finally:
                cleaned_up.append(True)

        rest = eager.start(send())

        async def finish() -> None:
            await rest

        task = asyncio.create_task(finish())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cleaned_up == [True]

    run_apart(scenario)


class StalledClient:
    """A socket's client that reads, stops reading (its buffer is full), and reads again."""

    def __init__(self) -> None:
        self.frames: list[str] = []
        self.reading = asyncio.Event()
        self.reading.set()
        self.closed_with: int | None = None

    async def send(self, text_data: str) -> None:
        await self.reading.wait()  # as uvicorn waits while the transport is paused
        self.frames.append(text_data)

    async def close(self, code: int) -> None:
        self.closed_with = code


def socket_for(client: StalledClient) -> ConversationConsumer:
    socket = ConversationConsumer()
    socket.send = client.send  # type: ignore[method-assign]
    socket.close = client.close  # type: ignore[method-assign]
    socket.sent_seq = 0
    socket.replaying = False
    socket.early = {}
    socket.gap_timer = None
    socket.queue = asyncio.Queue()
    socket.writing = False
    socket.writer = asyncio.create_task(socket._write())
    return socket


def test_frames_go_out_at_once_and_wait_in_order_while_the_client_does_not_read() -> None:
    async def scenario() -> None:
        client = StalledClient()
        socket = socket_for(client)
        socket.push(1, "e1")
        assert client.frames == ["e1"]  # sent on the spot, not by the writer task
        client.reading.clear()
        for seq in range(2, 6):
            socket.push(seq, f"e{seq}")
        await asyncio.sleep(0.01)
        assert client.frames == ["e1"]
        client.reading.set()
        await asyncio.sleep(0.01)
        assert client.frames == ["e1", "e2", "e3", "e4", "e5"]
        socket.push(6, "e6")
        assert client.frames[-1] == "e6"  # caught up: at once again
        socket.writer.cancel()

    run_apart(scenario)


def test_a_client_that_stops_reading_for_too_long_is_closed_after_its_backlog() -> None:
    async def scenario() -> None:
        client = StalledClient()
        socket = socket_for(client)
        client.reading.clear()
        for seq in range(1, MAX_QUEUED + 3):
            socket.push(seq, f"e{seq}")
        client.reading.set()
        await asyncio.wait_for(socket.writer, 5)
        assert client.closed_with == CLOSE_TOO_SLOW
        # What it was sent is in order and without gaps; it replays the rest on reconnect.
        assert client.frames == [f"e{seq}" for seq in range(1, len(client.frames) + 1)]

    run_apart(scenario)
