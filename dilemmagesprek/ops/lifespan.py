"""The ASGI lifespan protocol: what each serving process starts and stops with itself.

uvicorn sends `lifespan.startup` once per worker process before it takes connections and
`lifespan.shutdown` when it stops; the test communicators never do, so nothing here runs in
the tests of the other apps.
"""

from __future__ import annotations

import logging
from typing import Any

from . import checkpoints

log = logging.getLogger(__name__)


async def lifespan(scope: dict, receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                checkpoints.start()
            except Exception:  # the server runs without it, as SQLite would on its own
                log.warning("the SQLite checkpointer did not start", exc_info=True)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            checkpoints.stop()
            await send({"type": "lifespan.shutdown.complete"})
            return
