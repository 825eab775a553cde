"""A bare relay on our stack: uvicorn and a Channels consumer, no database, written for the bench.

The same contract as baseline_server.py (every text frame a socket sends goes to every other
socket of its room, ws://127.0.0.1:PORT/r/<room>/), served the way the app serves its live
socket: uvicorn with the app's options, a Channels consumer whose dispatch does not hop to a
thread (as ours), no channel layer. Beside the bare `websockets` server it shows what the
socket layer of the decided stack costs before any database work or code of ours.

    python bench/channels_server.py --port 8765
"""

from __future__ import annotations

import argparse
import resource
from collections import defaultdict
from typing import Any

import django
from django.conf import settings

settings.configure(DEBUG=False, ALLOWED_HOSTS=["*"], INSTALLED_APPS=["channels"])
django.setup()

import uvicorn  # noqa: E402
from channels.consumer import get_handler_name  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

rooms: dict[str, set[Relay]] = defaultdict(set)


class Relay(AsyncWebsocketConsumer):
    channel_layer_alias = "__unused__"

    async def dispatch(self, message: dict[str, Any]) -> None:
        await getattr(self, get_handler_name(message))(message)

    async def connect(self) -> None:
        self.room = self.scope["path"]
        rooms[self.room].add(self)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        rooms[self.room].discard(self)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        for other in list(rooms[self.room]):
            if other is not self:
                await other.send(text_data=text_data)


application = ProtocolTypeRouter({"websocket": URLRouter([re_path(r"^r/", Relay.as_asgi())])})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    # The options of `dilemmagesprek serve` that matter for a socket.
    uvicorn.run(
        application,
        host=args.host,
        port=args.port,
        ws_per_message_deflate=False,
        lifespan="off",
        access_log=False,
        server_header=False,
        log_level="warning",
        backlog=2048,
    )
