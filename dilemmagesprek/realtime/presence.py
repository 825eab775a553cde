"""Who is connected to a conversation right now: across all processes, never stored for long.

Embedded mode counts the sockets of this one process. With Redis, each socket is an entry in
a sorted set per conversation, scored with the time it was last confirmed; every process
confirms its own sockets every few seconds, so the entries of a process that died vanish by
themselves after PRESENCE_TTL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache

import redis.asyncio as aioredis
from django.conf import settings

from .hub import hub

PRESENCE_TTL = 30  # seconds an entry lives without being confirmed
REFRESH_EVERY = 10


@dataclass(frozen=True)
class Present:
    member_id: str
    name: str
    role: str


def _key(conversation_id: str) -> str:
    return f"dilemmagesprek:presence:{conversation_id}"


def _entry(socket) -> str:
    # member id | role | socket id | name (the name last: it may contain the separator)
    return f"{socket.member_id}|{socket.role}|{socket.socket_id}|{socket.display_name}"


# Connections one process uses for presence. When hundreds of sockets arrive or leave at once
# (a restart, the end of a large session) their calls wait for a free connection instead of
# opening one each: redis-py's plain pool refuses past its limit ("Too many connections").
PRESENCE_CONNECTIONS = 16


@cache
def _client() -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.REDIS_URL,
        max_connections=PRESENCE_CONNECTIONS,
        timeout=5,  # seconds a call waits for a connection before it fails
        socket_timeout=1,
        socket_connect_timeout=1,
        client_name="dilemmagesprek-presence",  # to be told apart in Redis's CLIENT LIST
    )
    return aioredis.Redis(connection_pool=pool)


async def arrive(socket) -> None:
    if settings.REDIS_URL:
        await _client().zadd(_key(socket.conversation_id), {_entry(socket): time.time()})


async def leave(socket) -> None:
    if settings.REDIS_URL:
        await _client().zrem(_key(socket.conversation_id), _entry(socket))


async def confirm_local() -> None:
    """Refresh the entries of this process's sockets (run every REFRESH_EVERY seconds)."""
    if not settings.REDIS_URL:
        return
    now = time.time()
    pipe = _client().pipeline()
    for conversation_id, sockets in list(hub.sockets.items()):
        pipe.zadd(_key(conversation_id), {_entry(s): now for s in sockets})
        pipe.zremrangebyscore(_key(conversation_id), 0, now - PRESENCE_TTL)
    await pipe.execute()


async def present(conversation_id: str) -> list[Present]:
    """Everyone with at least one live socket, each once, in a stable order."""
    people: dict[str, Present] = {}
    if settings.REDIS_URL:
        entries = await _client().zrangebyscore(
            _key(conversation_id), time.time() - PRESENCE_TTL, "+inf"
        )
        for raw in entries:
            member_id, role, _socket, name = raw.decode("utf-8").split("|", 3)
            people[member_id] = Present(member_id, name, role)
    else:
        for socket in hub.sockets.get(conversation_id, ()):
            people[socket.member_id] = Present(socket.member_id, socket.display_name, socket.role)
    return sorted(people.values(), key=lambda p: (p.name.lower(), p.member_id))
