"""Getting events to the sockets in order (realtime/delivery.py, the consumer's `push`): in
scale-out the process that wrote an event gives it to its own sockets without a trip through
Redis and publishes it for the other processes; each socket sends every event once, in order,
holding one that overtook an earlier one until that one comes (or reading it from the
database)."""

from __future__ import annotations

import asyncio
import json
import os

import pytest
import redis.asyncio as aioredis
from channels.db import database_sync_to_async

from dilemmagesprek.conversations import events
from dilemmagesprek.conversations.models import Event
from dilemmagesprek.realtime import consumers, delivery, presence
from dilemmagesprek.realtime.hub import hub
from dilemmagesprek.realtime.protocol import event_frame
from dilemmagesprek.worksheets import actions
from tests import test_realtime
from tests.test_live_writes import answer_to, save_frame
from tests.test_realtime import (
    EPHEMERAL,
    ready_sockets,
    receive,
    run,
    session_cookie_for_member,
)

people = test_realtime.people

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = os.environ.get("REDIS_URL", "")


@pytest.fixture
def fresh_redis_clients():
    """Clients made for the test's Redis address, or its event loop, must not outlive it."""

    def forget() -> None:
        presence._client.cache_clear()
        delivery._redis.cache_clear()

    forget()
    yield
    forget()


def test_a_save_reaches_its_own_process_s_sockets_while_redis_is_away(
    people, settings, fresh_redis_clients
):
    # Scale-out mode, with nothing listening at the Redis address: the writer's process
    # still shows the edit to everyone connected to it, once the publish has failed.
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    conversation = people["conversation"]
    writer = session_cookie_for_member(people["participant"])
    reader = session_cookie_for_member(people["facilitator"])

    async def scenario():
        comms = await ready_sockets(conversation, writer, reader)
        await comms[0].send_to(text_data=save_frame("Zonder Redis", 0))
        assert (await answer_to(comms[0]))["type"] == "saved"
        pushed = await receive(comms[1])
        assert (pushed["event"], pushed["seq"]) == ("field.updated", conversation.last_seq + 1)
        assert pushed["data"]["text"] == "Zonder Redis"
        for comm in comms:
            await comm.disconnect()

    run(scenario)


@pytest.mark.skipif(not REDIS_URL, reason="needs Redis")
def test_a_socket_save_is_published_for_the_other_processes(people, fresh_redis_clients):
    conversation = people["conversation"]
    writer = session_cookie_for_member(people["participant"])

    async def scenario():
        listener = aioredis.from_url(REDIS_URL)
        channel = listener.pubsub(ignore_subscribe_messages=True)
        await channel.subscribe(delivery.CHANNEL)
        try:
            comms = await ready_sockets(conversation, writer)
            await comms[0].send_to(text_data=save_frame("Voor de anderen", 0))
            assert (await answer_to(comms[0]))["type"] == "saved"
            deadline = asyncio.get_running_loop().time() + 3
            while True:  # presence notices (sequence number 0) come by on the channel too
                assert asyncio.get_running_loop().time() < deadline, "nothing was published"
                # None for the subscription's own confirmation, which is skipped.
                message = await channel.get_message(timeout=0.5)
                if message is None:
                    continue
                header, _, frame = message["data"].decode().partition("\n")
                conversation_id, seq, kick = header.split(" ")
                if seq != "0":
                    break
            assert (conversation_id, kick) == (conversation.pk, "-")
            assert int(seq) == conversation.last_seq + 1
            assert json.loads(frame)["data"]["text"] == "Voor de anderen"
            await comms[0].disconnect()
        finally:
            await channel.aclose()
            await listener.aclose()

    run(scenario)


async def more_events(comm, seconds: float) -> list[dict]:
    """The frames but presence and typing that come within `seconds`, leaving the socket open
    (a receive that times out would end it)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    frames = []
    while (left := end - loop.time()) > 0:
        if await comm.receive_nothing(timeout=left, interval=0.01):
            break
        frame = json.loads(await comm.receive_from())
        if frame["type"] not in EPHEMERAL:
            frames.append(frame)
    return frames


@pytest.fixture
def replays(monkeypatch) -> list[tuple]:
    """Every reading of a socket's missing events from the database, as it happens."""
    calls: list[tuple] = []
    original = consumers._events_after

    def counted(*args):
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(consumers, "_events_after", counted)
    return calls


def two_events(people) -> list[Event]:
    """Two committed events that nobody was given: the test hands them to the hub."""
    for text in ("Eerst dit", "Dan dat"):
        actions.set_field(people["participant"], "dilemma", text, None)
    newest = Event.objects.filter(conversation=people["conversation"]).order_by("-seq")
    return list(newest[:2])[::-1]


@pytest.fixture
def by_hand(people, monkeypatch):
    """A ready socket of the facilitator and two committed events that only the test hands
    to the hub (awaited inside the test's event loop)."""
    monkeypatch.setattr(events, "subscribers", [])
    reader = session_cookie_for_member(people["facilitator"])

    async def make():
        [comm] = await ready_sockets(people["conversation"], reader)
        first, second = await database_sync_to_async(two_events)(people)
        return comm, first, second

    return make


def hand_over(event: Event) -> None:
    hub.deliver(event.conversation_id, event.seq, event_frame(event))


def test_an_event_that_overtakes_an_earlier_one_is_held_until_that_one_comes(
    by_hand, replays
):
    async def scenario():
        comm, first, second = await by_hand()
        read_before = len(replays)
        hand_over(second)
        await asyncio.sleep(consumers.GAP_WAIT_SECONDS / 5)
        hand_over(first)
        # And the second copies, as Redis brings back the writing process's own events.
        hand_over(first)
        hand_over(second)
        assert [(await receive(comm))["seq"] for _ in range(2)] == [first.seq, second.seq]
        assert await more_events(comm, consumers.GAP_WAIT_SECONDS * 3) == []
        assert len(replays) == read_before, "it read the database although nothing was lost"
        await comm.disconnect()

    run(scenario)


def test_an_event_lost_on_the_way_is_read_from_the_database(by_hand, replays):
    async def scenario():
        comm, first, second = await by_hand()
        read_before = len(replays)
        hand_over(second)  # the first never comes
        frames = [await receive(comm) for _ in range(2)]
        assert [(f["seq"], f["data"]["text"]) for f in frames] == [
            (first.seq, "Eerst dit"), (second.seq, "Dan dat")
        ]
        assert len(replays) == read_before + 1
        assert await more_events(comm, consumers.GAP_WAIT_SECONDS * 3) == []
        await comm.disconnect()

    run(scenario)
