"""The conversation socket, driven with Channels' communicator: connect, replay, resync,
outsiders refused, bad frames answered without harm, committed events pushed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest
from channels.db import database_sync_to_async
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from dilemmagesprek.accounts.models import User
from dilemmagesprek.asgi import application
from dilemmagesprek.conversations import actions as conversation_actions
from dilemmagesprek.conversations.access import SESSION_KEY
from dilemmagesprek.conversations.models import Member
from dilemmagesprek.realtime.protocol import MAX_MESSAGE_BYTES, MAX_REPLAY
from dilemmagesprek.worksheets import actions
from tests.ws import WebsocketClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people():
    user = User.objects.create_user("leider", password="x" * 16)
    conversation, facilitator = actions.new_conversation(user, "Live gesprek", "lang")
    participant, _token = conversation_actions.invite_member(
        facilitator, "Deelnemer", Member.Role.PARTICIPANT
    )
    other_user = User.objects.create_user("ander", password="x" * 16)
    _other, outsider = actions.new_conversation(other_user, "Ander gesprek", "lang")
    conversation.refresh_from_db()
    return {
        "conversation": conversation,
        "facilitator": facilitator,
        "participant": participant,
        "user": user,
        "outsider": outsider,
    }


def session_cookie_for_member(member: Member) -> str:
    session = SessionStore()
    session[SESSION_KEY] = {member.conversation_id: member.pk}
    session.create()
    return session.session_key


def session_cookie_for_user(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["dg_sessionid"].value


def communicator(conversation_id: str, session_key: str | None, origin: str = "http://testserver"):
    headers = [(b"host", b"testserver")]
    if origin:
        headers.append((b"origin", origin.encode()))
    if session_key:
        headers.append((b"cookie", f"dg_sessionid={session_key}".encode()))
    return WebsocketClient(application, f"/ws/g/{conversation_id}/", headers=headers)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), timeout=10))


EPHEMERAL = ("presence", "typing")


async def receive(comm: WebsocketClient, skip: tuple[str, ...] = EPHEMERAL) -> dict:
    """The next frame, passing over presence and typing notices unless asked for."""
    while True:
        frame = json.loads(await comm.receive_from(timeout=3))
        if frame["type"] not in skip:
            return frame


async def hello(comm: WebsocketClient, last_seq: int) -> list[dict]:
    """Send hello and collect everything up to and including "ready"."""
    await comm.send_to(text_data=json.dumps({"type": "hello", "last_seq": last_seq}))
    frames = []
    while True:
        frame = await receive(comm)
        frames.append(frame)
        if frame["type"] in ("ready",):
            return frames


async def ready_sockets(conversation, *keys: str) -> list[WebsocketClient]:
    """One socket per session key, connected and past its `hello`."""
    comms = [communicator(conversation.pk, key) for key in keys]
    for comm in comms:
        assert (await comm.connect())[0]
        await hello(comm, conversation.last_seq)
    return comms


async def close_of(comm: WebsocketClient) -> dict:
    """The server's close, passing over the frames before it (presence notices, …)."""
    closed = await comm.receive_output(timeout=3)
    while closed["type"] == "websocket.send":
        closed = await comm.receive_output(timeout=3)
    return closed


def test_it_replays_every_event_after_the_cursor(people):
    conversation = people["conversation"]
    actions.set_field(people["facilitator"], "dilemma", "Eerste tekst", None)
    key = session_cookie_for_member(people["participant"])
    conversation.refresh_from_db()

    async def scenario():
        comm = communicator(conversation.pk, key)
        connected, _ = await comm.connect()
        assert connected
        frames = await hello(comm, 0)
        events = [f for f in frames if f["type"] == "event"]
        assert [e["seq"] for e in events] == list(range(1, conversation.last_seq + 1))
        assert events[-1]["event"] == "field.updated"
        assert events[-1]["data"]["text"] == "Eerste tekst"
        assert frames[-1] == {"type": "ready", "seq": conversation.last_seq}
        # From a later cursor only the newer events come.
        frames = await hello(comm, conversation.last_seq - 1)
        assert [f["seq"] for f in frames if f["type"] == "event"] == [conversation.last_seq]
        await comm.disconnect()

    run(scenario)


def test_it_pushes_a_committed_change_to_every_socket(people):
    conversation = people["conversation"]
    keys = [
        session_cookie_for_member(people["participant"]),
        session_cookie_for_user(people["user"]),
    ]

    async def scenario():
        comms = [communicator(conversation.pk, key) for key in keys]
        for comm in comms:
            assert (await comm.connect())[0]
            await hello(comm, conversation.last_seq)
        await database_sync_to_async(actions.set_field)(
            people["participant"], "urgency", "Omdat het nu moet", None
        )
        for comm in comms:
            frame = await receive(comm)
            assert frame["type"] == "event"
            assert frame["event"] == "field.updated"
            assert frame["seq"] == conversation.last_seq + 1
            assert frame["data"]["text"] == "Omdat het nu moet"
            assert frame["actor"] == people["participant"].pk
        for comm in comms:
            await comm.disconnect()

    run(scenario)


def test_it_tells_a_client_that_is_too_far_behind_to_resync(people):
    facilitator = people["facilitator"]
    for number in range(MAX_REPLAY + 2):
        actions.set_field(facilitator, "dilemma", f"versie {number}", None)
    conversation = people["conversation"]
    conversation.refresh_from_db()
    key = session_cookie_for_member(people["participant"])

    async def scenario():
        comm = communicator(conversation.pk, key)
        assert (await comm.connect())[0]
        frames = await hello(comm, 0)
        assert frames[0] == {"type": "resync", "seq": conversation.last_seq}
        assert not [f for f in frames if f["type"] == "event"]
        # A cursor ahead of the server (a restored backup) also resyncs.
        frames = await hello(comm, conversation.last_seq + 10)
        assert frames[0]["type"] == "resync"
        await comm.disconnect()

    run(scenario)


@pytest.mark.parametrize("who", ["anonymous", "outsider", "wrong_origin", "no_origin"])
def test_it_refuses_whoever_does_not_belong(people, who):
    conversation = people["conversation"]
    member_key = session_cookie_for_member(people["participant"])
    cases = {
        "anonymous": (None, "http://testserver"),
        "outsider": (session_cookie_for_member(people["outsider"]), "http://testserver"),
        "wrong_origin": (member_key, "http://evil.example"),
        "no_origin": (member_key, ""),
    }
    key, origin = cases[who]

    async def scenario():
        comm = communicator(conversation.pk, key, origin)
        connected, _ = await comm.connect()
        assert not connected

    run(scenario)


BAD_FRAMES = {
    "not_json": ("{nope", "bad_json"),
    "not_an_object": ("[1, 2]", "bad_message"),
    "unknown_type": ('{"type": "explode"}', "unknown_type"),
    "missing_field": ('{"type": "hello"}', "bad_fields"),
    "extra_field": ('{"type": "hello", "last_seq": 1, "role": "gespreksleider"}', "bad_fields"),
    "wrong_type": ('{"type": "hello", "last_seq": "1"}', "bad_fields"),
    "bool_is_no_number": ('{"type": "hello", "last_seq": true}', "bad_fields"),
    "negative": ('{"type": "hello", "last_seq": -1}', "bad_fields"),
    "huge": (json.dumps({"type": "ping", "pad": "x" * MAX_MESSAGE_BYTES}), "too_large"),
}


@pytest.mark.parametrize("name", sorted(BAD_FRAMES))
def test_it_answers_a_bad_frame_and_stays_usable(people, name):
    text, code = BAD_FRAMES[name]
    conversation = people["conversation"]
    key = session_cookie_for_member(people["participant"])
    seq_before = conversation.last_seq

    async def scenario():
        comm = communicator(conversation.pk, key)
        assert (await comm.connect())[0]
        await comm.send_to(text_data=text)
        frame = await receive(comm)
        assert frame["type"] == "error"
        assert frame["code"] == code
        assert frame["message"]
        # Still usable afterwards.
        await comm.send_to(text_data='{"type": "ping"}')
        assert await receive(comm) == {"type": "pong"}
        await comm.disconnect()

    run(scenario)
    conversation.refresh_from_db()
    assert conversation.last_seq == seq_before


def test_it_refuses_binary_frames(people):
    conversation = people["conversation"]
    key = session_cookie_for_member(people["participant"])

    async def scenario():
        comm = communicator(conversation.pk, key)
        assert (await comm.connect())[0]
        await comm.send_to(bytes_data=b"\x00\x01")
        frame = await receive(comm)
        assert frame["code"] == "bad_frame"
        await comm.disconnect()

    run(scenario)


def test_it_closes_the_socket_of_a_removed_member(people):
    conversation = people["conversation"]
    participant = people["participant"]
    key = session_cookie_for_member(participant)

    async def scenario():
        comm = communicator(conversation.pk, key)
        assert (await comm.connect())[0]
        await hello(comm, conversation.last_seq)
        await database_sync_to_async(conversation_actions.remove_member)(
            people["facilitator"], participant.pk
        )
        frame = await receive(comm)
        assert frame["event"] == "member.removed"
        closed = await close_of(comm)  # presence notices may come first
        assert closed["type"] == "websocket.close"
        assert closed["code"] == 4403

    run(scenario)


def test_it_shows_who_is_here_and_who_is_typing(people):
    conversation = people["conversation"]
    participant_key = session_cookie_for_member(people["participant"])
    facilitator_key = session_cookie_for_user(people["user"])

    async def scenario():
        first = communicator(conversation.pk, facilitator_key)
        assert (await first.connect())[0]
        await hello(first, conversation.last_seq)
        second = communicator(conversation.pk, participant_key)
        assert (await second.connect())[0]
        # The facilitator learns that the participant arrived.
        while True:
            frame = await receive(first, skip=("typing",))
            if frame["type"] == "presence" and len(frame["members"]) == 2:
                break
        names = sorted(m["name"] for m in frame["members"])
        assert names == sorted([people["facilitator"].display_name, "Deelnemer"])
        await hello(second, conversation.last_seq)
        await second.send_to(text_data='{"type": "typing", "form": "field-dilemma"}')
        frame = await receive(first, skip=("presence",))
        assert frame == {
            "type": "typing",
            "member": people["participant"].pk,
            "name": "Deelnemer",
            "form": "field-dilemma",
        }
        # A form id that is not an id is refused.
        await second.send_to(text_data='{"type": "typing", "form": "<b>x</b>"}')
        assert (await receive(second))["code"] == "bad_fields"
        await second.disconnect()
        while True:
            frame = await receive(first, skip=("typing",))
            if frame["type"] == "presence" and len(frame["members"]) == 1:
                break
        await first.disconnect()

    run(scenario)


def test_it_closes_a_socket_whose_session_ended(people, monkeypatch):
    from django.contrib.sessions.models import Session

    from dilemmagesprek.realtime import consumers

    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.2)
    conversation = people["conversation"]
    key = session_cookie_for_member(people["participant"])

    async def scenario():
        comm = communicator(conversation.pk, key)
        assert (await comm.connect())[0]
        await hello(comm, conversation.last_seq)
        await database_sync_to_async(Session.objects.filter(session_key=key).delete)()
        assert await close_of(comm) == {"type": "websocket.close", "code": 4401}

    run(scenario)


@pytest.mark.parametrize("change", ["nothing", "logged_out", "password_changed", "removed"])
def test_a_signed_in_socket_stays_open_exactly_while_its_session_holds(people, monkeypatch, change):
    from django.contrib.sessions.models import Session

    from dilemmagesprek.realtime import consumers

    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.2)
    conversation = people["conversation"]
    participant_user = User.objects.create_user("deelnemer", password="x" * 16)
    Member.objects.filter(pk=people["participant"].pk).update(user=participant_user)
    key = session_cookie_for_user(participant_user)

    def make_the_change() -> None:
        if change == "logged_out":
            Session.objects.filter(session_key=key).delete()
        elif change == "password_changed":
            participant_user.set_password("y" * 16)
            participant_user.save()
        elif change == "removed":
            conversation_actions.remove_member(people["facilitator"], people["participant"].pk)

    async def scenario():
        comm = communicator(conversation.pk, key)
        assert (await comm.connect())[0]
        await hello(comm, conversation.last_seq)
        await asyncio.sleep(0.5)  # two rechecks with nothing changed
        await database_sync_to_async(make_the_change)()
        if change == "nothing":
            await asyncio.sleep(0.5)
            await comm.send_to(text_data=json.dumps({"type": "ping"}))
            assert await receive(comm) == {"type": "pong"}
            await comm.disconnect()
        else:
            # Removed: closed by the removal's own event; otherwise by the next recheck.
            expected = 4403 if change == "removed" else 4401
            assert (await close_of(comm))["code"] == expected

    run(scenario)


@pytest.mark.parametrize("role", ["gespreksleider", "dilemma-eigenaar", "deelnemer", "waarnemer"])
def test_every_role_may_use_every_client_message(people, role):
    """The socket only reads; every member may send each message type, whatever the role."""
    conversation = people["conversation"]
    if role == "gespreksleider":
        key = session_cookie_for_user(people["user"])
    else:
        name = f"Lid {role}"
        member, _token = conversation_actions.invite_member(people["facilitator"], name, role)
        key = session_cookie_for_member(member)
    conversation.refresh_from_db()

    async def scenario():
        comm = communicator(conversation.pk, key)
        assert (await comm.connect())[0]
        frames = await hello(comm, 0)
        assert frames[-1]["type"] == "ready"
        await comm.send_to(text_data='{"type": "ping"}')
        assert await receive(comm) == {"type": "pong"}
        await comm.send_to(text_data='{"type": "typing", "form": "field-dilemma"}')
        await comm.send_to(text_data='{"type": "ping"}')
        assert (await receive(comm, skip=("presence",)))["type"] in ("typing", "pong")
        await comm.disconnect()

    run(scenario)


@pytest.mark.skipif(not __import__("os").environ.get("REDIS_URL"), reason="needs Redis")
def test_a_crowd_arriving_and_leaving_at_once_shares_a_few_redis_connections() -> None:
    from types import SimpleNamespace

    from dilemmagesprek.realtime import presence

    crowd = [
        SimpleNamespace(
            conversation_id="crowd-test",
            member_id=f"m{n}",
            role="deelnemer",
            socket_id=f"s{n}",
            display_name=f"Persoon {n}",
        )
        for n in range(300)
    ]

    async def scenario() -> None:
        presence._client.cache_clear()  # a client bound to this test's event loop
        try:
            async def connections() -> set[str]:
                clients = await presence._client().client_list()
                return {c["id"] for c in clients if c["name"] == "dilemmagesprek-presence"}

            before = await connections()  # other tests' processes and event loops
            await asyncio.gather(*(presence.arrive(s) for s in crowd))
            assert len(await presence.present("crowd-test")) == 300
            assert len((await connections()) - before) <= presence.PRESENCE_CONNECTIONS
            await asyncio.gather(*(presence.leave(s) for s in crowd))
            assert await presence.present("crowd-test") == []
        finally:
            await presence._client().aclose()
            presence._client.cache_clear()

    run(scenario)
