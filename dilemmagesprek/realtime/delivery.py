"""Getting a committed event to every process that has sockets for its conversation.

Embedded mode (no REDIS_URL): there is one process, so the event goes straight to its hub.
Scale-out (REDIS_URL): the event is published once on one Redis pub/sub channel; every process
listens to that channel once and hands frames to its own hub. The process that wrote the event
also hands it to its own hub at once, as the embedded mode does: its sockets do not wait for
the message to come back through the listener, and get it even while Redis is away. When the
message does come back, each socket drops it as one it already sent (by sequence number).

Pub/sub is at-most-once. That is fine: the event log in the database is the source of truth,
clients detect gaps by sequence number, and after the listener reconnects every local socket
replays what it may have missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import cache

import redis
import redis.asyncio as aioredis
from django.conf import settings

from dilemmagesprek.conversations.models import Conversation, Event

from . import presence
from .db import database_thread, database_work
from .hub import hub
from .protocol import event_frame

log = logging.getLogger(__name__)

CHANNEL = "dilemmagesprek:events"


def deliver_event(event: Event) -> None:
    """Subscriber of conversations.events: called after commit, in the writing thread."""
    frame = event_frame(event)
    kick = event.data.get("id") if event.type == "member.removed" else None
    args = (event.conversation_id, event.seq, frame, kick)
    if settings.REDIS_URL:
        # The other processes first: the publish leaves before this process's own fan-out.
        # A failed publish is logged by events.publish, and the other processes' reconciler
        # replays the event; this process's sockets get it either way.
        try:
            _redis().publish(CHANNEL, f"{event.conversation_id} {event.seq} {kick or '-'}\n{frame}")
        finally:
            _deliver_here(*args)
    else:
        _deliver_here(*args)


def _deliver_here(conversation_id: str, seq: int, frame: str, kick: str | None) -> None:
    # From a socket's save: with the wake-up of the event loop that hands back its answer.
    if not database_thread.hand_back(hub.deliver, conversation_id, seq, frame, kick):
        # Written by a request (or anything but a socket): its own wake-up of the event loop.
        hub.deliver_threadsafe(conversation_id, seq, frame, kick)


@cache
def _redis() -> redis.Redis:
    # Short timeouts: a write has already committed when this runs, and a Redis outage must
    # not hold up its acknowledgement for long.
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5
    )


async def send_ephemeral(conversation_id: str, frame: str) -> None:
    """Presence and typing: not events, not logged, not replayed; sequence number 0."""
    # Not handed to this process's hub as well in scale-out: these are not numbered, so a
    # socket could not tell the copy that comes back from Redis from a new notice.
    if settings.REDIS_URL:
        await presence._client().publish(CHANNEL, f"{conversation_id} 0 -\n{frame}")
    else:
        hub.deliver(conversation_id, 0, frame)


_tasks: list[asyncio.Task] = []


# Every few seconds each process compares its sockets with the event log: whatever a lost
# or late publish kept from them is replayed from the database. Delivery through pub/sub is
# fast; this makes it certain.
RECONCILE_SECONDS = 5


def ensure_listener() -> None:
    """Start this process's background tasks once, on the event loop of the first socket:
    the reconciler, and with Redis the listener and the presence refresher."""
    if any(not task.done() for task in _tasks):
        return
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(_reconcile())]
    if settings.REDIS_URL:
        tasks += [loop.create_task(_listen()), loop.create_task(_confirm_presence())]
    _tasks[:] = tasks


async def _reconcile() -> None:
    while True:
        await asyncio.sleep(RECONCILE_SECONDS)
        conversation_ids = list(hub.sockets)
        if not conversation_ids:
            continue
        try:
            latest = await database_work(_latest_seqs)(conversation_ids)
        except Exception:
            log.warning("reconciling sockets with the event log failed", exc_info=True)
            continue
        for conversation_id, seq in latest.items():
            for socket in list(hub.sockets.get(conversation_id, ())):
                if socket.sent_seq < seq:
                    socket.resync()


def _latest_seqs(conversation_ids: list[str]) -> dict[str, int]:
    return dict(
        Conversation.objects.filter(pk__in=conversation_ids).values_list("pk", "last_seq")
    )


async def _confirm_presence() -> None:
    while True:
        await asyncio.sleep(presence.REFRESH_EVERY)
        try:
            await presence.confirm_local()
        except Exception:
            log.warning("refreshing presence in Redis failed", exc_info=True)


async def _listen() -> None:
    delay = 0.2
    while True:
        client = aioredis.from_url(settings.REDIS_URL)
        try:
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            await pubsub.subscribe(CHANNEL)
            delay = 0.2
            # Anything published while we were not listening is in the database: every
            # local socket replays from the last event it sent.
            hub.resync_all()
            async for message in pubsub.listen():
                _dispatch(message.get("data"))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("Redis listener lost its connection; retrying in %.1f s", delay)
        finally:
            with contextlib.suppress(Exception):  # closing a broken connection may fail too
                await client.aclose()
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


def _dispatch(data: bytes | None) -> None:
    if not data:
        return
    header, _, frame = data.decode("utf-8").partition("\n")
    conversation_id, seq, kick = header.split(" ")
    hub.deliver(conversation_id, int(seq), frame, None if kick == "-" else kick)
