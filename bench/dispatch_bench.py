"""CPU and wall time of handing one received frame to the socket's handler.

Channels' consumer loop (`AsyncConsumer.__call__`) waits on the client and the channel layer
together: for every frame it starts a task that receives it, and an `asyncio.wait` for that
task. The conversation socket has no channel layer and awaits each frame in its own task
(`realtime/consumers.py: ConversationConsumer.__call__`). This measures both loops, with the
same dispatch, on frames put in the receive queue one at a time:

- hot: --frames frames back to back;
- idle: --spaced frames, each after 20 ms asleep (a server between two edits).

Reported: the median wall time from putting the frame in the queue to its handler running,
and the median CPU time per frame of the whole process.

    .venv/bin/python bench/dispatch_bench.py [--frames 20000] [--spaced 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


async def measure(loop_of: Any, frames: int, pause: float) -> str:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    handled = asyncio.Event()
    waits: list[float] = []

    class Consumer(loop_of):
        async def websocket_receive(self, message: dict[str, Any]) -> None:
            waits.append(time.perf_counter() - message["sent"])
            handled.set()

    async def send(message: dict[str, Any]) -> None:
        pass

    task = asyncio.create_task(Consumer()({"type": "websocket"}, queue.get, send))
    await asyncio.sleep(0)
    cpus = []
    for _ in range(frames):
        if pause:
            await asyncio.sleep(pause)
        handled.clear()
        started = time.process_time()
        queue.put_nowait({"type": "websocket.receive", "sent": time.perf_counter()})
        await handled.wait()
        cpus.append(time.process_time() - started)
    task.cancel()
    return (
        f"wait {1e6 * statistics.median(waits):.1f} µs (median), "
        f"CPU {1e6 * statistics.median(cpus):.1f} µs per frame (median)"
    )


async def main(args: argparse.Namespace) -> None:
    from channels.consumer import AsyncConsumer

    from dilemmagesprek.realtime.consumers import ConversationConsumer

    class Stock(AsyncConsumer):
        channel_layer_alias = "__unused__"
        dispatch = ConversationConsumer.dispatch  # the same dispatch: only the loop differs

    class Ours(Stock):
        __call__ = ConversationConsumer.__call__

    for label, frames, pause in (("hot", args.frames, 0.0), ("idle", args.spaced, 0.020)):
        for name, loop_of in (("Channels' loop", Stock), ("one receive at a time", Ours)):
            print(f"{label:5s} {name:22s} {await measure(loop_of, frames, pause)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--spaced", type=int, default=300)
    arguments = parser.parse_args()
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dilemmagesprek.settings")
    if not os.environ.get("DILEMMAGESPREK_DATA_DIR"):
        import tempfile

        os.environ["DILEMMAGESPREK_DATA_DIR"] = tempfile.mkdtemp(prefix="dg-dispatch-bench-")
    import django
    import uvloop

    django.setup()
    uvloop.run(main(arguments))
