"""The bare baseline: a minimal `websockets` broadcast server on uvloop, written for the bench.

A socket connects to ws://127.0.0.1:PORT/r/<room>/; every text frame it sends is relayed as is
to every other socket of the same room. No parsing, no database, no authentication: the floor
that our real path (HTTP write, database commit, event log, hub) is compared with.

    python bench/baseline_server.py --port 8765

Prints "READY <port>" on stdout once it listens. bench/run.py starts and stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import signal
import sys
from collections import defaultdict

import uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve

rooms: dict[str, set[ServerConnection]] = defaultdict(set)


async def handler(ws: ServerConnection) -> None:
    room = ws.request.path
    members = rooms[room]
    members.add(ws)
    try:
        async for message in ws:
            # One write per other socket, the frame encoded once: what a fan-out can cost.
            broadcast([other for other in members if other is not ws], message)
    finally:
        members.discard(ws)
        if not members:
            rooms.pop(room, None)


async def main(host: str, port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(
        handler,
        host,
        port,
        compression=None,  # the app serves without per-message deflate too
        ping_interval=None,
        max_size=4096,
        backlog=2048,
    ):
        print(f"READY {port}", flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    uvloop.run(main(args.host, args.port))
    sys.exit(0)
