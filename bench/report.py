"""Turn a bench result (bench/results/bench-*.json) into Markdown tables and an SVG plot.

    python bench/report.py bench/results/bench-<time>.json            # Markdown to stdout
    python bench/report.py bench/results/bench-<time>.json --svg docs/img/bench-latency.svg

The plot is plain SVG written here, so the bench needs no plotting library.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections import Counter
from pathlib import Path
from xml.sax.saxutils import escape

MODES = [
    ("baseline", "bare websockets"),
    ("bare_sqlite", "bare + SQLite commit"),
    ("bare_channels", "Channels + uvicorn relay, no database"),
    ("embedded", "embedded (1 process, SQLite)"),
    ("bare_scaleout", "bare, 2 processes + PostgreSQL + Redis"),
    ("scaleout", "2 processes, PostgreSQL + Redis"),
]
COLOURS = {
    "baseline": "#7f7f7f",
    "bare_sqlite": "#9ecae1",
    "bare_channels": "#74c476",
    "embedded": "#1f77b4",
    "bare_scaleout": "#fcae91",
    "scaleout": "#d62728",
}
LABELS = {
    "40x25": "40 × 25 at 1/s",
    "1x30": "1 × 30 at 10/s",
    "1x200": "1 × 200 at 10/s",
    "1x200@100": "1 × 200 at 100/s",
    "40x25@10": "40 × 25 at 10/s",
}


def one_line(r: dict) -> str:
    lat = r.get("latency_ms") or {}
    return (
        f"p50 {fmt(lat.get('p50'))} p95 {fmt(lat.get('p95'))} p99 {fmt(lat.get('p99'))} ms; "
        f"{r['edits_acked']}/{r['edits_planned']} edits acked"
        f" ({r.get('achieved_edits_per_s')}/s), lost {r['lost']}, "
        f"{r['connected']}/{r['sockets']} sockets, {fmt(r.get('kb_per_socket'))} KB/socket; "
        f"cores busy: client {r.get('client_cpu_share')}, machine {r.get('machine_cores_busy')}, "
        f"other {r.get('other_cores_busy')}"
    )


def fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def scenario_names(results: dict) -> list[str]:
    names: list[str] = []
    for mode in results["modes"].values():
        for name in mode.get("scenarios", {}):
            if name not in names:
                names.append(name)
    return names


def get(results: dict, mode: str, scenario: str) -> dict | None:
    return results["modes"].get(mode, {}).get("scenarios", {}).get(scenario)


def ratio(results: dict, mode: str, scenario: str, key: str = "latency_ms") -> str:
    ours, base = get(results, mode, scenario), get(results, "baseline", scenario)
    if not ours or not base or not ours.get(key) or not base.get(key):
        return "—"
    factor = ours[key]["p99"] / base[key]["p99"]
    return f"{factor:.1f}×" if factor < 10 else f"{factor:,.0f}×"


def runs_p99(r: dict | None) -> str:
    """Every run's p99, in the order they ran, for a scenario that ran more than once."""
    runs = (r or {}).get("runs")
    if not runs:
        return ""
    return " (" + ", ".join(fmt(run["p99"]) for run in runs) + ")"


def markdown(results: dict) -> str:
    present = [(m, label) for m, label in MODES if m in results["modes"]]
    env = results["environment"]
    lines = [
        f"Run {results['started']} (`{results['command']}`, {results['duration']:g} s of edits "
        f"per scenario, {results.get('seconds', 0):.0f} s in all) on {env['cpus']} × "
        f"{env['cpu'] or 'CPU'}, Python {env['python']}, git {env['git_head']}. Saves "
        + ("as form posts (BENCH_WRITE=http)." if results.get("write") == "http"
           else "as `save` frames on the editor's socket."),
        "",
    ]
    for mode, _label in present:
        if "error" in results["modes"][mode] or "skipped" in results["modes"][mode]:
            why = results["modes"][mode].get("error") or results["modes"][mode].get("skipped")
            lines += [f"**{mode}: {why}**", ""]
    names = scenario_names(results)

    lines += [
        "Latency per delivered frame, ms (p50 / p95 / p99); × = p99 relative to the baseline; "
        "a scenario run several times shows its median run, and every run's p99 in brackets:",
        "",
        "| scenario | "
        + " | ".join(f"{label} | ×" if m != "baseline" else label for m, label in present)
        + " |",
        "|---|" + "|".join("---|---" if m != "baseline" else "---" for m, _ in present) + "|",
    ]
    for name in names:
        cells = [LABELS.get(name, name)]
        for mode, _label in present:
            r = get(results, mode, name)
            lat = (r or {}).get("latency_ms")
            cells.append(
                (f"{fmt(lat['p50'])} / {fmt(lat['p95'])} / **{fmt(lat['p99'])}**" if lat else "—")
                + runs_p99(r)
            )
            if mode != "baseline":
                cells.append(ratio(results, mode, name))
        lines.append("| " + " | ".join(cells) + " |")

    lines += [
        "",
        "Edit to every screen: per edit, the time until the last socket of its room had it, ms "
        "(p50 / p99); for the app also how long after the save's answer (p50; negative: the "
        "screens had it before the editor had the answer):",
        "",
        "| scenario | " + " | ".join(label for _, label in present) + " |",
        "|---|" + "---|" * len(present),
    ]
    for name in names:
        cells = [LABELS.get(name, name)]
        for mode, _label in present:
            r = get(results, mode, name) or {}
            every, after = r.get("every_screen_ms"), r.get("every_screen_after_ack_ms")
            cells.append(
                (f"{fmt(every['p50'])} / {fmt(every['p99'])}" if every else "—")
                + (f" ({after['p50']:+.1f} after)" if after else "")
            )
        lines.append("| " + " | ".join(cells) + " |")

    split = [
        (mode, label) for mode, label in present
        if any((get(results, mode, name) or {}).get("latency_by_process_ms") for name in names)
    ]
    if split:
        lines += [
            "",
            "Two processes: latency per delivered frame on a socket of the writer's own process, "
            "and on one of the other process (through Redis), ms (p50 / p99):",
            "",
            "| scenario | " + " | ".join(label for _, label in split) + " |",
            "|---|" + "---|" * len(split),
        ]
        for name in names:
            cells = [LABELS.get(name, name)]
            for mode, _label in split:
                sides = (get(results, mode, name) or {}).get("latency_by_process_ms") or {}
                cells.append(
                    ", ".join(
                        f"{side} {fmt(lat['p50'])} / {fmt(lat['p99'])}"
                        for side, lat in sides.items()
                    )
                    or "—"
                )
            lines.append("| " + " | ".join(cells) + " |")

    lines += [
        "",
        "Delivery: edits acknowledged of planned (achieved edits/s in all rooms together), "
        "frames LOST (an acknowledged edit a socket never got), reconnects:",
        "",
        "| scenario | " + " | ".join(label for _, label in present) + " |",
        "|---|" + "---|" * len(present),
    ]
    for name in names:
        cells = [LABELS.get(name, name)]
        for mode, _label in present:
            r = get(results, mode, name)
            if not r:
                cells.append("—")
                continue
            errors = sum(r["edit_errors"].values())
            lost = (
                f"**lost {r['lost_in_all_runs']:,}** in {len(r['runs'])} runs"
                if "runs" in r
                else f"**lost {r['lost']:,}**"
            )
            cells.append(
                f"{r['edits_acked']}/{r['edits_planned']} ({fmt(r['achieved_edits_per_s'])}/s), "
                + lost
                + (f", {errors} failed posts" if errors else "")
                + (f", {r['reconnects']} reconnects" if r["reconnects"] else "")
                + (f", {r['receivers_failed']} sockets gave up" if r["receivers_failed"] else "")
                + (
                    f", {r['connected']}/{r['sockets']} connected"
                    if r["connected"] < r["sockets"]
                    else ""
                )
            )
        lines.append("| " + " | ".join(cells) + " |")

    first = names[0] if names else None
    lines += [
        "",
        f"Memory per connected socket (RSS growth of the server processes while the "
        f"{LABELS.get(first, first)} sockets connected, divided by their number; the first "
        "scenario, so no memory is reused): "
        + ", ".join(
            f"{label} **{fmt((get(results, m, first) or {}).get('kb_per_socket'))} KB**"
            for m, label in present
        )
        + ".",
        "",
        "Server CPU (all server processes) per edit and per delivered frame, the save's own "
        "round trip (p50 / p99), and how busy the machine was (cores: the load client, and "
        "other work that was neither server nor client):",
        "",
        "| scenario | " + " | ".join(label for _, label in present) + " |",
        "|---|" + "---|" * len(present),
    ]
    for name in names:
        cells = [LABELS.get(name, name)]
        for mode, _label in present:
            r = get(results, mode, name)
            if not r:
                cells.append("—")
                continue
            post = r.get("post_ms")
            acked = r["edits_acked"]
            per_edit = r["server_cpu_seconds"] / acked * 1000 if acked else None
            cells.append(
                f"{fmt(per_edit)} ms/edit, {fmt(r['server_cpu_us_per_frame'])} µs/frame"
                + (f", save {fmt(post['p50'])} / {fmt(post['p99'])} ms" if post else "")
                + f"; client {r.get('client_cpu_share', 0):.2f}, "
                f"other {r.get('other_cores_busy', 0):.2f}"
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# --- the plot ----------------------------------------------------------------------------


def svg(results: dict) -> str:
    """Grouped bars of p99 per scenario and system, on a log scale, with p50 as a tick."""
    present = [(m, label) for m, label in MODES if results["modes"].get(m, {}).get("scenarios")]
    names = scenario_names(results)
    width, height = 860, 420
    left, right, top, bottom = 70, 20, 50, 95
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [
        v
        for m, _ in present
        for n in names
        for v in (
            ((get(results, m, n) or {}).get("latency_ms") or {}).get("p99"),
            ((get(results, m, n) or {}).get("latency_ms") or {}).get("p50"),
        )
        if v
    ]
    lo = 10 ** math.floor(math.log10(max(min(values, default=0.1), 0.01)))
    hi = 10 ** math.ceil(math.log10(max(values, default=10)))

    def y(value: float) -> float:
        value = min(max(value, lo), hi)
        return top + plot_h * (
            1 - (math.log10(value) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
        )

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">'
        "Edit to screen latency: p99 (bar) and p50 (black tick), ms, log scale</text>",
    ]
    decade = lo
    while decade <= hi * 1.0001:
        for m in (1, 2, 5):
            v = decade * m
            if lo <= v <= hi:
                yy = y(v)
                colour = "#bbb" if m == 1 else "#e5e5e5"
                out.append(
                    f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" '
                    f'stroke="{colour}"/>'
                )
                out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{v:,g}</text>')
        decade *= 10
    group_w = plot_w / max(1, len(names))
    bar_w = min(40, group_w * 0.8 / max(1, len(present)))
    for i, name in enumerate(names):
        x0 = left + i * group_w + (group_w - bar_w * len(present)) / 2
        for j, (mode, _label) in enumerate(present):
            lat = (get(results, mode, name) or {}).get("latency_ms")
            if not lat:
                continue
            x = x0 + j * bar_w
            yy = y(lat["p99"])
            out.append(
                f'<rect x="{x:.1f}" y="{yy:.1f}" width="{bar_w - 2:.1f}" '
                f'height="{top + plot_h - yy:.1f}" fill="{COLOURS[mode]}">'
                f"<title>{escape(mode)} {escape(name)}: p99 {lat['p99']} ms, "
                f"p50 {lat['p50']} ms</title></rect>"
            )
            y50 = y(lat["p50"])
            out.append(
                f'<line x1="{x:.1f}" x2="{x + bar_w - 2:.1f}" y1="{y50:.1f}" '
                f'y2="{y50:.1f}" stroke="black" stroke-width="2"/>'
            )
            out.append(
                f'<text x="{x + (bar_w - 2) / 2:.1f}" y="{yy - 4:.1f}" '
                f'text-anchor="middle" font-size="10">{fmt(lat["p99"], 2)}</text>'
            )
        label = LABELS.get(name, name)
        out.append(
            f'<text x="{left + (i + 0.5) * group_w:.1f}" y="{top + plot_h + 18}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
        if name.count("@"):
            out.append(
                f'<text x="{left + (i + 0.5) * group_w:.1f}" y="{top + plot_h + 32}" '
                f'text-anchor="middle" fill="#555">(saturation)</text>'
            )
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="black"/>')
    out.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
        f'y2="{top + plot_h}" stroke="black"/>'
    )
    lx, ly = left, height - 36
    for mode, label in present:
        step = 26 + 6.5 * len(label)
        if lx + step > width - right:  # the legend goes on over a second line
            lx, ly = left, ly + 18
        out.append(
            f'<rect x="{lx}" y="{ly - 10}" width="12" height="12" fill="{COLOURS[mode]}"/>'
        )
        out.append(f'<text x="{lx + 16}" y="{ly}">{escape(label)}</text>')
        lx += step
    env = results["environment"]
    out.append(
        f'<text x="{width - right}" y="{height - 54}" text-anchor="end" fill="#555" '
        f'font-size="10">{escape(results["started"])}, {env["cpus"]} CPUs, '
        f"{results['duration']:g} s per scenario, `make bench`</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --- profiles ----------------------------------------------------------------------------

FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def short_path(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "/lib/python3":
                path = "stdlib/" + path.split("/", 1)[1]
            return path
    if "dilemmagesprek/" in path:
        return "dilemmagesprek/" + path.split("dilemmagesprek/", 1)[1]
    return path


# Where a sample belongs, by the first rule whose text occurs in its stack.
CATEGORIES = [
    (
        "fan-out: hub, socket queues and writers",
        (
            "realtime/hub.py:",
            "ConversationConsumer.push",
            "ConversationConsumer._write",
            "ConversationConsumer._enqueue",
        ),
    ),
    (
        "Redis listener (scale-out)",
        ("realtime/delivery.py:_listen", "realtime/delivery.py:_dispatch"),
    ),
    (
        "socket connect, replay, presence",
        (
            "ConversationConsumer.connect",
            "ConversationConsumer._replay",
            "ConversationConsumer.disc",
            "websocket_connect",
            "websocket_disconnect",
            "ConversationConsumer.receive",
            "realtime/presence.py",
            "ConversationConsumer._arrive",
            "_broadcast_presence",
        ),
    ),
    (
        "HTTP write: Django request, middleware, view, action, commit",
        ("django/core/handlers/", "django/db/", "asgiref/sync.py"),
    ),
    ("uvicorn HTTP protocol", ("uvicorn/protocols/http/",)),
    ("uvicorn websocket protocol", ("uvicorn/protocols/websockets/",)),
]


def category(stack: str) -> str:
    for name, needles in CATEGORIES:
        if any(needle in stack for needle in needles):
            return name
    return "other: event loop, threads, GC"


def read_profile(path: Path) -> tuple[Counter, Counter, int, Counter]:
    """Self and inclusive sample counts by "file:function" from py-spy's raw output, and the
    samples per CATEGORIES."""
    own: Counter = Counter()
    inclusive: Counter = Counter()
    categories: Counter = Counter()
    total = 0
    for raw in path.read_text(errors="replace").splitlines():
        stack, _, count = raw.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = []
        for frame in stack.split(";"):
            match = FRAME.match(frame.strip())
            if match:
                frames.append(f"{short_path(match['file'])}:{match['func']}")
        if not frames:
            continue
        total += n
        categories[category(";".join(frames))] += n
        own[frames[-1]] += n
        for name in set(frames):
            inclusive[name] += n
    return own, inclusive, total, categories


def profiles(results: dict, root: Path, top: int = 15) -> str:
    lines = ["# Profiles (py-spy, samples of the server processes, idle excluded)", ""]
    for mode, entry in results["modes"].items():
        for name, r in entry.get("scenarios", {}).items():
            for rel in r.get("profiles", []):
                path = root / rel
                if not path.exists():
                    continue
                own, inclusive, total, categories = read_profile(path)
                if not total:
                    continue
                lines += [
                    f"## {mode} {name}: {path.name} ({total} samples)",
                    "",
                    "| share % | where |",
                    "|---|---|",
                ]
                lines += [f"| {n / total * 100:.1f} | {c} |" for c, n in categories.most_common()]
                lines += ["", "| self % | function |", "|---|---|"]
                lines += [f"| {n / total * 100:.1f} | `{f}` |" for f, n in own.most_common(top)]
                lines += ["", "| inclusive % | function |", "|---|---|"]
                lines += [
                    f"| {n / total * 100:.1f} | `{f}` |"
                    for f, n in inclusive.most_common(top * 3)
                    if not f.endswith(":<module>")
                ][: top * 2]
                lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("--svg", help="also write the plot here")
    parser.add_argument("--profiles", action="store_true", help="summarise the profiles")
    args = parser.parse_args()
    results = json.loads(Path(args.results).read_text())
    print(markdown(results))
    if args.profiles:
        print(profiles(results, Path(__file__).resolve().parent.parent))
    if args.svg:
        Path(args.svg).parent.mkdir(parents=True, exist_ok=True)
        Path(args.svg).write_text(svg(results))


if __name__ == "__main__":
    main()
