"""CPU and wall time of one hop from the event loop to the sockets' database thread and back.

A socket save runs its database work in another thread; this measures what getting there and
back costs, for a call that does nothing, two ways:

- `database_work`: the sockets' own thread (`realtime/db.py`: a queue and one future);
- `sync_to_async`: asgiref's thread-sensitive hop, which Channels' `database_sync_to_async`
  and the sockets used before (a copy of the caller's context, restored twice, three futures).

Each is called --calls times back to back (hot), and --calls times after 20 ms asleep (the
server between two edits, when the caches have gone cold; docs/performance.md). Reported:
the median and p99 wall time, and the median CPU time of the whole process (both threads).

    .venv/bin/python bench/hop_bench.py [--calls 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def nothing() -> int:
    return 1


async def measure(call: Callable[[], Awaitable[int]], calls: int, pause: float) -> str:
    walls, cpus = [], []
    for _ in range(calls):
        if pause:
            await asyncio.sleep(pause)
        wall, cpu = time.perf_counter(), time.process_time()
        await call()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    walls.sort()
    p99 = walls[min(len(walls) - 1, int(len(walls) * 0.99))]
    return (
        f"wall p50 {statistics.median(walls) * 1e6:4.0f} µs, p99 {p99 * 1e6:4.0f} µs; "
        f"CPU p50 {statistics.median(cpus) * 1e6:4.0f} µs"
    )


async def run(calls: int) -> None:
    from asgiref.sync import sync_to_async

    from dilemmagesprek.realtime.db import database_work

    hops = {
        "database_work": lambda: database_work(nothing)(),
        "sync_to_async": lambda: sync_to_async(nothing)(),
    }
    for name, call in hops.items():
        await measure(call, 50, 0)  # start the thread, warm up
        for label, pause in (("hot", 0.0), ("after 20 ms asleep", 0.02)):
            print(f"{name:14} {label:19} {await measure(call, calls, pause)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DILEMMAGESPREK_DATA_DIR", tempfile.mkdtemp(prefix="dg-hop-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dilemmagesprek.settings")
    import django

    django.setup()
    import uvloop  # the server's loop (uvicorn picks it when it is installed)

    uvloop.run(run(args.calls))


if __name__ == "__main__":
    main()
