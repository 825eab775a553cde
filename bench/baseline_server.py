"""The bare baseline: a minimal `websockets` broadcast server on uvloop, written for the bench.

A socket connects to ws://127.0.0.1:PORT/r/<room>/; every text frame it sends is relayed as is
to every other socket of the same room. No parsing, no authentication: the floor that our real
path (the save, the database commit, the event log, the hub) is compared with. It keeps its
sockets alive as the app does (a ping every 20 s).

    python bench/baseline_server.py --port 8765
    python bench/baseline_server.py --port 8765 --commit sqlite:/tmp/bare.sqlite3
    python bench/baseline_server.py --port 8765 --commit postgresql://... --redis redis://...

With --commit every frame is first stored as one row in its own transaction, the least an
event log can do, and relayed after the commit: in SQLite (WAL, synchronous=NORMAL, as the
app) on the event loop itself, or in PostgreSQL through a pool of asynchronous connections.
With --redis several of these processes serve one room: the frame goes to this process's sockets
and, through one Redis pub/sub channel, to the others'. These two show what the database and
the second process cost any server, before our own code adds anything.

Prints "READY <port>" on stdout once it listens. bench/run.py starts and stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import sqlite3
import sys
from collections import defaultdict
from collections.abc import Awaitable, Callable

import uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve

rooms: dict[str, set[ServerConnection]] = defaultdict(set)
store: Callable[[str, str], Awaitable[None]] | None = None
publish: Callable[[str, str], Awaitable[None]] | None = None
ME = f"{os.getpid()}"


async def handler(ws: ServerConnection) -> None:
    room = ws.request.path
    members = rooms[room]
    members.add(ws)
    try:
        async for message in ws:
            if store is not None:
                await store(room, message)
            # One write per other socket, the frame encoded once: what a fan-out can cost.
            broadcast([other for other in members if other is not ws], message)
            if publish is not None:
                await publish(room, message)
    finally:
        members.discard(ws)
        if not members:
            rooms.pop(room, None)


def sqlite_store(path: str) -> Callable[[str, str], Awaitable[None]]:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS event (id INTEGER PRIMARY KEY, room TEXT, body TEXT)")

    async def store(room: str, message: str) -> None:
        # On the event loop: no thread, no hop; SQLite is a library call in this process.
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO event (room, body) VALUES (?, ?)", (room, message))
        db.execute("COMMIT")

    return store


async def postgres_store(url: str) -> Callable[[str, str], Awaitable[None]]:
    # Only this variant needs them; they are in the app's requirements.
    import psycopg
    from psycopg_pool import AsyncConnectionPool

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS event (id BIGSERIAL PRIMARY KEY, room TEXT, body TEXT)"
        )
    # A pool of the app's size (deploy/env.example), so that rooms do not queue on one
    # connection; each socket's frames are still stored one after the other.
    pool = AsyncConnectionPool(url, min_size=10, max_size=10, open=False)
    await pool.open(wait=True)

    async def store(room: str, message: str) -> None:
        async with pool.connection() as conn:
            await conn.execute("INSERT INTO event (room, body) VALUES (%s, %s)", (room, message))

    return store


async def redis_relay(url: str) -> Callable[[str, str], Awaitable[None]]:
    import redis.asyncio as aioredis  # in the app's requirements

    client = aioredis.Redis.from_url(url)
    pubsub = client.pubsub()
    await pubsub.subscribe("bare")

    async def listen() -> None:
        async for item in pubsub.listen():
            if item["type"] != "message":
                continue
            sender, room, message = item["data"].decode().split("\n", 2)
            if sender != ME:  # this process's own sockets had it before it was published
                broadcast(rooms.get(room, ()), message)

    asyncio.get_running_loop().create_task(listen())

    async def relay(room: str, message: str) -> None:
        await client.publish("bare", f"{ME}\n{room}\n{message}")

    return relay


async def main(args: argparse.Namespace) -> None:
    global store, publish
    if args.commit and args.commit.startswith("sqlite:"):
        store = sqlite_store(args.commit.removeprefix("sqlite:"))
    elif args.commit:
        store = await postgres_store(args.commit)
    if args.redis:
        publish = await redis_relay(args.redis)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(
        handler,
        args.host,
        args.port,
        compression=None,  # the app serves without per-message deflate too
        # websockets' own keepalive (a ping every 20 s, closed after 20 s without the pong),
        # as uvicorn gives the app's sockets by default: the same work on both sides.
        ping_interval=20,
        ping_timeout=20,
        max_size=4096,
        backlog=2048,
    ):
        print(f"READY {args.port}", flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--commit", help="sqlite:<path> or a postgresql:// URL")
    parser.add_argument("--redis", help="a redis:// URL: relay to the other processes")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    uvloop.run(main(args))
    sys.exit(0)
