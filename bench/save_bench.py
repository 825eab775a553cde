"""CPU time of one socket save, in process: the part of an edit's latency the write path owns.

Calls `worksheets.live_writes.save_text` (what the server runs for a `save` frame, without the
socket and the thread hop) in a loop on one conversation, each save based on the version the
previous one made, and reports:

- the statements one save runs (Django's query capture);
- hot: the median CPU time per save over --saves saves in a row, and their mean wall time
  (with PostgreSQL the round trips to the server add to it);
- cold: the median CPU time of --spaced saves with other Python work in between, closer to a
  server, where other sockets' work runs between two saves of a conversation;
- idle: the median CPU time of a save after the process slept 10 ms and 100 ms (--spaced
  saves each): a server between edits. On a virtual machine the caches are cold after such a
  pause, and the same code takes several times its hot CPU time (docs/performance.md); and
  the median wall time of those saves, which on PostgreSQL includes its round trips;
- with --profile, the functions that take the most time (cProfile, cumulative).

Run from the repository root (a throwaway SQLite database in a temporary directory, or in
DILEMMAGESPREK_DATA_DIR when set; with DATABASE_URL set it uses that database instead and
leaves a conversation behind):

    .venv/bin/python bench/save_bench.py [--saves 2000] [--spaced 300] [--profile]

The idle part sleeps 2 × --spaced times (33 s with the default).

`--count N` only makes N saves after the warm-up, for counting the instructions of one save,
which unlike times do not depend on what else the machine does: the difference between a
process that makes 300 and one that makes 100, divided by 200 (docs/performance.md):

    export DILEMMAGESPREK_DATA_DIR=$(mktemp -d)
    .venv/bin/python bench/save_bench.py --count 0     # migrates, outside the count
    valgrind --tool=cachegrind --cache-sim=no --branch-sim=no --cachegrind-out-file=/dev/null \
        .venv/bin/python bench/save_bench.py --count 100   # and again with --count 300
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=2000)
    parser.add_argument("--spaced", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--count", type=int, metavar="N", help="only N saves, no report")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    if not os.environ.get("DATABASE_URL") and not os.environ.get("DILEMMAGESPREK_DATA_DIR"):
        os.environ["DILEMMAGESPREK_DATA_DIR"] = tempfile.mkdtemp(prefix="dg-save-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dilemmagesprek.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dilemmagesprek.accounts.models import User
    from dilemmagesprek.worksheets import live_writes
    from dilemmagesprek.worksheets.actions import new_conversation

    call_command("migrate", verbosity=0)
    user = User.objects.create(username=f"save-bench-{secrets.token_hex(4)}")
    conversation, facilitator = new_conversation(user, "Save bench", "lang")
    version = 0

    def save() -> None:
        nonlocal version
        answer = live_writes.save_text(
            facilitator.pk, conversation.pk, "dilemma", f"Tekst {version}", version,
            f"op-{secrets.token_hex(8)}",
        )
        if answer["type"] != "saved":
            raise SystemExit(f"unexpected answer: {answer}")
        version = answer["version"]

    for _ in range(50):  # warm-up: imports, the parsed method, the connection
        save()
    if args.count is not None:
        for _ in range(args.count):
            save()
        return
    with CaptureQueriesContext(connection) as queries:
        save()

    hot = []
    wall_started = time.perf_counter()
    for _ in range(args.saves):
        started = time.process_time()
        save()
        hot.append(time.process_time() - started)
    wall = (time.perf_counter() - wall_started) / args.saves

    # Other work between saves pushes the save's code and data out of the CPU caches.
    other = [{f"k{i}": list(range(50))} for i in range(300)]
    cold = []
    for _ in range(args.spaced):
        json.dumps(other)
        sorted(str(i) for i in range(20_000))
        started = time.process_time()
        save()
        cold.append(time.process_time() - started)

    idle: dict[float, list[float]] = {}
    idle_wall: dict[float, list[float]] = {}
    for pause in (0.010, 0.100):
        idle[pause], idle_wall[pause] = [], []
        for _ in range(args.spaced):
            time.sleep(pause)
            started, wall_started = time.process_time(), time.perf_counter()
            save()
            idle_wall[pause].append(time.perf_counter() - wall_started)
            idle[pause].append(time.process_time() - started)

    print(f"database: {connection.vendor}; statements per save: {len(queries.captured_queries)}")
    for query in queries.captured_queries:
        print(f"  {query['sql'][:110]}")
    print(
        f"hot:  {1000 * statistics.median(hot):.3f} ms CPU per save (median of {len(hot)}),"
        f" {1000 * wall:.3f} ms wall time (mean)"
    )
    print(f"cold: {1000 * statistics.median(cold):.3f} ms CPU per save (median of {len(cold)})")
    print(
        "idle: "
        + ", ".join(
            f"{1000 * statistics.median(times):.3f} ms CPU per save after {1000 * pause:.0f} ms"
            for pause, times in idle.items()
        )
        + f" asleep (median of {args.spaced} each)"
    )
    print(
        "idle wall time: "
        + ", ".join(
            f"{1000 * statistics.median(times):.3f} ms after {1000 * pause:.0f} ms"
            for pause, times in idle_wall.items()
        )
        + " asleep (median; with PostgreSQL the round trips add to the CPU time)"
    )

    if args.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.saves):
            save()
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
