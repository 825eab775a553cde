"""Export time and peak memory per format for the large conversation.

The large conversation is the one the tests use (tests/reports/builders.py: 10 players × 30
cards, 5 options with pros and cons, four of them tagged with Woo grounds, 20 actions). Each
format is measured in a fresh process, so one format's memory does not count for another:

- cold: the first render in the process, with the format's libraries already imported (for the
  PDF this includes loading the fonts and parsing our stylesheet, which later renders in the
  same thread reuse);
- warm: the median of the next renders;
- CPU: the process time of one warm render (less sensitive to other load on the machine);
- Python peak: the most memory Python objects took during one render (tracemalloc);
- RSS growth: how much the process's peak resident size grew while rendering (this includes
  the C libraries behind WeasyPrint, which tracemalloc does not see).

Run from the repository root:

    .venv/bin/python bench/export_bench.py [--runs 5] [--format pdf ...]

It builds its own throwaway SQLite database in a temporary directory; nothing else is touched.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FORMATS = ["pdf", "odt", "docx", "md", "json"]
GOAL_PDF_SECONDS = 1.0


def setup_django(data_dir: Path) -> None:
    os.environ["DILEMMAGESPREK_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dilemmagesprek.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def prepare(data_dir: Path) -> str:
    """Migrate a fresh database and build the large conversation; return its id."""
    setup_django(data_dir)
    from django.core.management import call_command

    from tests.reports import builders

    call_command("migrate", verbosity=0)
    return builders.large().conversation.pk


def measure(data_dir: Path, conversation_id: str, fmt: str, runs: int) -> dict[str, float]:
    setup_django(data_dir)
    from django.utils.module_loading import import_string

    from dilemmagesprek.conversations.models import Conversation
    from dilemmagesprek.reports.exporters import EXPORTERS
    from dilemmagesprek.reports.report import build_report

    exporter = EXPORTERS[fmt]
    import_string(exporter.path)  # the libraries' import time is not render time
    conversation = Conversation.objects.get(pk=conversation_id)
    started = time.perf_counter()
    report = build_report(conversation, language="nl")
    build_seconds = time.perf_counter() - started

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    content = exporter.render(report)
    cold = time.perf_counter() - started
    rss_growth_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before

    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        exporter.render(report)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)

    tracemalloc.start()
    exporter.render(report)
    _current, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "build_report_s": build_seconds,
        "cold_s": cold,
        "warm_s": statistics.median(walls),
        "cpu_s": statistics.median(cpus),
        "python_peak_mb": python_peak / 1024 / 1024,
        "rss_growth_mb": rss_growth_kb / 1024,
        "size_kb": len(content) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="warm renders per format")
    parser.add_argument("--format", action="append", choices=FORMATS, dest="formats")
    parser.add_argument("--measure", nargs=3, metavar=("DATA_DIR", "ID", "FORMAT"))
    args = parser.parse_args()

    if args.measure:
        data_dir, conversation_id, fmt = args.measure
        print(json.dumps(measure(Path(data_dir), conversation_id, fmt, args.runs)))
        return

    with tempfile.TemporaryDirectory(prefix="dg-bench-") as directory:
        data_dir = Path(directory)
        conversation_id = prepare(data_dir)
        print(
            "large conversation: 10 players × 30 cards, 5 options (4 tagged), 20 actions; "
            f"{args.runs} runs"
        )
        header = (
            f"{'format':<6} {'cold s':>7} {'warm s':>7} {'CPU s':>7} "
            f"{'Py peak MB':>10} {'RSS +MB':>8} {'size KB':>8}"
        )
        print(header)
        results = {}
        for fmt in args.formats or FORMATS:
            output = subprocess.run(  # noqa: S603 - our own script, fixed arguments
                [
                    sys.executable,
                    __file__,
                    "--runs",
                    str(args.runs),
                    "--measure",
                    str(data_dir),
                    conversation_id,
                    fmt,
                ],
                check=True,
                capture_output=True,
                text=True,
                cwd=REPO,
            ).stdout
            result = results[fmt] = json.loads(output.strip().splitlines()[-1])
            print(
                f"{fmt:<6} {result['cold_s']:>7.3f} {result['warm_s']:>7.3f} "
                f"{result['cpu_s']:>7.3f} {result['python_peak_mb']:>10.1f} "
                f"{result['rss_growth_mb']:>8.1f} {result['size_kb']:>8.0f}"
            )
        build = statistics.median(r["build_report_s"] for r in results.values())
        print(f"build_report (database → report object): {build:.3f} s")
        if "pdf" in results:
            pdf = results["pdf"]
            verdict = "met" if pdf["warm_s"] < GOAL_PDF_SECONDS else "NOT met"
            load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
            print(
                f"goal: PDF render under {GOAL_PDF_SECONDS:.0f} s — {verdict} "
                f"(wall {pdf['warm_s']:.2f} s, CPU {pdf['cpu_s']:.2f} s; load average {load})"
            )


if __name__ == "__main__":
    main()
