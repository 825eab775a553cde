"""Getting events to the sockets in order (the consumer's `push`): each socket sends every
event once, in order, holding one that overtook an earlier one until that one comes (or
reading it from the database)."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from dilemmagesprek.conversations import events
from dilemmagesprek.conversations.models import Event
from dilemmagesprek.realtime import consumers
from dilemmagesprek.realtime.hub import hub
from dilemmagesprek.realtime.protocol import event_frame
from dilemmagesprek.worksheets import actions
from tests import test_realtime
from tests.test_realtime import ready_sockets, receive, run, session_cookie_for_member

people = test_realtime.people

pytestmark = pytest.mark.django_db(transaction=True)

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


def test_an_event_that_overtakes_an_earlier_one_is_held_until_that_one_comes(
    people, replays, monkeypatch
):
    monkeypatch.setattr(events, "subscribers", [])
    conversation = people["conversation"]
    reader = session_cookie_for_member(people["facilitator"])

    async def scenario():
        [comm] = await ready_sockets(conversation, reader)
        first, second = await database_sync_to_async(two_events)(people)
        read_before = len(replays)
        hub.deliver(conversation.pk, second.seq, event_frame(second))
        await asyncio.sleep(consumers.GAP_WAIT_SECONDS / 5)
        hub.deliver(conversation.pk, first.seq, event_frame(first))
        # And the second copies, as Redis brings back the writing process's own events.
        hub.deliver(conversation.pk, first.seq, event_frame(first))
        hub.deliver(conversation.pk, second.seq, event_frame(second))
        assert [(await receive(comm))["seq"] for _ in range(2)] == [first.seq, second.seq]
        await comm.receive_nothing(timeout=consumers.GAP_WAIT_SECONDS * 3)
        assert len(replays) == read_before, "it read the database although nothing was lost"
        await comm.disconnect()

    run(scenario)


def test_an_event_lost_on_the_way_is_read_from_the_database(people, replays, monkeypatch):
    monkeypatch.setattr(events, "subscribers", [])
    conversation = people["conversation"]
    reader = session_cookie_for_member(people["facilitator"])

    async def scenario():
        [comm] = await ready_sockets(conversation, reader)
        first, second = await database_sync_to_async(two_events)(people)
        read_before = len(replays)
        hub.deliver(conversation.pk, second.seq, event_frame(second))  # the first never comes
        frames = [await receive(comm) for _ in range(2)]
        assert [(f["seq"], f["data"]["text"]) for f in frames] == [
            (first.seq, "Eerst dit"), (second.seq, "Dan dat")
        ]
        assert len(replays) == read_before + 1
        await comm.receive_nothing(timeout=consumers.GAP_WAIT_SECONDS * 3)
        await comm.disconnect()

    run(scenario)
