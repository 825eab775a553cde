"""Turn a load test result (bench/results/loadtest-*.json) into Markdown and an SVG plot.

    python bench/loadtest_report.py bench/results/loadtest-<time>.json         # Markdown
    python bench/loadtest_report.py bench/results/loadtest-<time>.json --svg out.svg

bench/loadtest.py calls the same functions at the end of a run. The plot is plain SVG written
here (as bench/report.py does for `make bench`), so no plotting library is needed.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
from pathlib import Path
from xml.sax.saxutils import escape

INF = float("inf")


KIND_NAMES = {"card": "card edits", "step": "step changes"}


def percentiles(values: list[float]) -> dict | None:
    """p50/p95/p99/max of `values` (ms). An infinite value is an edit that never reached
    every screen: it sorts last, and a percentile that lands on one is None."""
    if not values:
        return None
    ordered = sorted(values)
    finite = [v for v in ordered if v != INF]

    def pct(p: float) -> float | None:
        value = ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]
        return None if value == INF else round(value, 1)

    return {
        "n": len(ordered),
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
        "max": pct(100),
        "mean": round(sum(finite) / len(finite), 1) if finite else None,
        "incomplete": len(ordered) - len(finite),
    }


# --- resources from the samples --------------------------------------------------------------


def intervals(samples: list[dict]) -> list[dict]:
    """Rates between consecutive samples: CPU in cores, counters per second."""
    out = []
    for a, b in zip(samples, samples[1:], strict=False):
        dt = b["t"] - a["t"]
        if dt < 1.0:  # the last sample can follow the one before closely: no rate from that
            continue
        row: dict = {"t0": a["t"], "t1": b["t"], "t": (a["t"] + b["t"]) / 2}
        # max(0, …): a worker that died reads as 0 CPU from then on.
        row["workers"] = [
            max(0.0, (wb["cpu"] - wa["cpu"]) / dt)
            for wa, wb in zip(a["workers"], b["workers"], strict=True)
        ]
        row["rss_mb"] = [w["rss_kb"] / 1024 for w in b["workers"]]
        row["client"] = (b["client_cpu"] - a["client_cpu"]) / dt
        pa, pb = a.get("pg"), b.get("pg")
        if pa and pb:
            row["pg_cpu"] = (pb["cpu"] - pa["cpu"]) / dt if pb["cpu"] is not None else None
            for key in (
                "xact_commit",
                "xact_rollback",
                "tup_inserted",
                "tup_updated",
                "tup_deleted",
                "tup_returned",
                "tup_fetched",
                "blks_read",
                "blks_hit",
            ):
                row[f"pg_{key}"] = (pb[key] - pa[key]) / dt
            row["pg_backends"] = pb["backends"]
            row["pg_backends_all"] = pb["backends_all"]
        ra, rb = a.get("redis"), b.get("redis")
        if ra and rb:
            row["redis_cpu"] = (
                rb["used_cpu_sys"] + rb["used_cpu_user"] - ra["used_cpu_sys"] - ra["used_cpu_user"]
            ) / dt
            row["redis_commands"] = (
                rb["total_commands_processed"] - ra["total_commands_processed"]
            ) / dt
            row["redis_ops"] = rb["instantaneous_ops_per_sec"]
            row["redis_clients"] = rb["connected_clients"]
            row["redis_net_out_kb"] = (
                (rb["total_net_output_bytes"] - ra["total_net_output_bytes"]) / dt / 1024
            )
        busy = b["machine"][0] - a["machine"][0]
        total = b["machine"][1] - a["machine"][1]
        row["machine"] = busy / total * b["cpus"] if total else None
        known = sum(row["workers"]) + row["client"] + (row.get("pg_cpu") or 0)
        known += row.get("redis_cpu") or 0
        row["other"] = max(0.0, row["machine"] - known) if row["machine"] is not None else None
        out.append(row)
    return out


def resources(rows: list[dict], start: float, end: float) -> dict | None:
    """Means (and maxima) of the intervals whose middle lies in [start, end]."""
    rows = [r for r in rows if start <= r["t"] <= end]
    if not rows:
        return None

    def mean(key: str) -> float | None:
        values = [r[key] for r in rows if r.get(key) is not None]
        return round(sum(values) / len(values), 3) if values else None

    def top(key: str) -> float | None:
        values = [r[key] for r in rows if r.get(key) is not None]
        return round(max(values), 2) if values else None

    workers = len(rows[0]["workers"])
    return {
        "worker_cores": [
            round(sum(r["workers"][i] for r in rows) / len(rows), 3) for i in range(workers)
        ],
        "worker_cores_max": [round(max(r["workers"][i] for r in rows), 3) for i in range(workers)],
        "worker_rss_mb_max": [round(max(r["rss_mb"][i] for r in rows), 1) for i in range(workers)],
        "client_cores": mean("client"),
        "machine_cores": mean("machine"),
        "other_cores": mean("other"),
        "pg_cores": mean("pg_cpu"),
        "pg_commits_per_s": mean("pg_xact_commit"),
        "pg_rollbacks_per_s": mean("pg_xact_rollback"),
        "pg_rows_read_per_s": round((mean("pg_tup_returned") or 0) + (mean("pg_tup_fetched") or 0)),
        "pg_rows_written_per_s": round(
            (mean("pg_tup_inserted") or 0)
            + (mean("pg_tup_updated") or 0)
            + (mean("pg_tup_deleted") or 0),
            1,
        ),
        "pg_backends_max": top("pg_backends"),
        "pg_backends_all_max": top("pg_backends_all"),
        "redis_cores": mean("redis_cpu"),
        "redis_commands_per_s": mean("redis_commands"),
        "redis_ops_max": top("redis_ops"),
        "redis_clients_max": top("redis_clients"),
        "redis_out_kb_per_s": mean("redis_net_out_kb"),
    }


# --- latency per time bucket -----------------------------------------------------------------


def buckets(result: dict, size: float) -> list[dict]:
    """Per `size` seconds of the run (by the edit's start): saves, errors and edit-to-every-
    screen percentiles."""
    cols = {name: i for i, name in enumerate(result["edit_columns"])}
    groups: dict[int, list] = collections.defaultdict(list)
    for row in result["edits"]:
        groups[int(row[cols["t0"]] // size)].append(row)
    errors = collections.Counter(int(err[0] // size) for err in result["errors"] if err[0] >= 0)
    out = []
    for k in sorted(set(groups) | set(errors)):
        rows = groups.get(k, [])
        acked = [r for r in rows if r[cols["status"]] == "303"]
        every = [r[cols["every_ms"]] if r[cols["every_ms"]] is not None else INF for r in acked]
        pages = [r[cols["page_ms"]] if r[cols["page_ms"]] is not None else INF for r in acked]
        out.append(
            {
                "start": k * size,
                "end": (k + 1) * size,
                "phases": sorted({r[cols["phase"]] for r in rows}),
                "saves": len(rows),
                "acked": len(acked),
                "errors": errors.get(k, 0),
                "every_screen_ms": percentiles(every),
                "every_page_ms": percentiles(pages) if result["config"]["refetch"] else None,
            }
        )
    return out


def analyse(result: dict) -> None:
    """Add resource use per phase and latency per bucket to a finished result."""
    rows = intervals(result["samples"])
    result["intervals"] = rows
    for phase in result["phases"]:
        phase["resources"] = resources(rows, phase["start"], phase["end"])
    result["buckets"] = buckets(result, result["config"]["bucket"])


# --- Markdown ----------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    if value == INF:
        return "∞"
    if abs(value) >= 99.5:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def lat(stats: dict | None) -> str:
    if not stats:
        return "—"
    return f"{fmt(stats['p50'])} / {fmt(stats['p95'])} / **{fmt(stats['p99'])}**"


def cores(values: list[float] | None) -> str:
    return " + ".join(fmt(v, 2) for v in values) if values else "—"


def shape(result: dict) -> str:
    c = result["config"]
    return (
        f"{c['rooms']} conversations × {c['people']} participants ({result['sockets']} sockets) "
        f"on 2 workers; an edit per participant every {c['edit_interval']:g} s, a step change "
        f"per conversation every {c['step_interval']:g} s"
    )


def markdown(result: dict) -> str:
    c = result["config"]
    env = result["environment"]
    main = next((p for p in result["phases"] if p["kind"] == "load"), None)
    rest = next((p for p in result["phases"] if p["kind"] == "rest"), None)
    kind = "full run" if c["full"] else "SMOKE RUN (not the issue's size)"
    lines = [
        f"# Load test {result['started']}: {kind}",
        "",
        f"`{result['command']}`: {shape(result)}. Phases: at rest {c['rest']:g} s "
        f"({c['rest_rate']:g} probe edits/s), load {c['duration']:g} s, ramp "
        f"× {', '.join(f'{m:g}' for m in c['ramp']) or '—'} ({c['ramp_step']:g} s each). "
        f"{result['seconds']:.0f} s in all ({result['setup_seconds']:.0f} s of set-up and "
        f"connecting). {env['cpus']} × {env['cpu'] or 'CPU'}, Python {env['python']}, git "
        f"{env['git_head']}; load average {result['loadavg_start']:.1f} at the start, "
        f"{result['loadavg_end']:.1f} at the end. PostgreSQL {result['postgres']['version']} "
        f"(max_connections {result['postgres']['max_connections']}, "
        f"{result['postgres']['backends_at_start']} in use at the start), Redis "
        f"{result['redis']['version']}."
        + (
            " Screens fetch what live.js fetches after an event (a card's text goes in place;"
            " a step change fetches the navigation and the heads of the two steps involved)."
            if c["refetch"]
            else " Screens receive frames only; they do not refetch the page"
            " (see `LOADTEST_REFETCH`)."
        )
        + (
            " Cards are saved as form posts (`LOADTEST_WRITE=http`)."
            if c.get("write") == "http"
            else " Cards are saved as live.js saves them: a `save_card` frame on the"
            " participant's socket."
        ),
        "",
        f"Server settings: {describe_settings(result)}.",
        "",
    ]
    if main:
        lines += summary_table(result, main)
    lines += ["", "## Phases", ""]
    lines += phase_table(result)
    lines += ["", "## At rest, and the largest load held", ""]
    if rest and result.get("threshold_ms"):
        largest = result.get("largest_held")
        limits = result.get("limits_ms") or {"card": result["threshold_ms"]}
        rest_kinds = rest.get("by_kind") or {"card": {"p99": result["rest_p99_ms"]}}
        at_rest = "; ".join(
            f"{KIND_NAMES[kind]} **{fmt((rest_kinds.get(kind) or {}).get('p99'))} ms**, limit "
            f"{c['threshold']:g}× that: **{fmt(limit)} ms**"
            for kind, limit in limits.items()
        )
        held_p99 = "; ".join(
            f"{KIND_NAMES[kind]} {fmt(p99)} ms"
            for kind, p99 in ((largest or {}).get("p99_by_kind") or {}).items() if p99
        )
        lines.append(
            f"At rest (all {result['connected']} sockets open, {c['rest_rate']:g} probe card "
            f"edits/s and {c.get('rest_step_rate', 0):g} step changes/s over all "
            f"conversations) the p99 from edit to every {target(result)} was, per kind of "
            f"change: {at_rest}. Each kind is judged against its own limit. "
            + (
                f"The largest ramp step held (no errors, nothing incomplete, every kind's p99 "
                f"within its limit): **× {largest['multiplier']:g} = "
                f"{fmt(largest['asked_edits_per_s'])} edits/s asked, "
                f"{fmt(largest['achieved_edits_per_s'])}/s done; p99 {held_p99}**."
                if largest
                else "**No ramp step held.**"
            )
        )
        if main:
            lines.append(
                f"The load phase ({fmt(main['asked_edits_per_s'])} edits/s for "
                f"{c['duration']:g} s): **{'held' if main['held'] else 'not held'}**."
            )
    else:
        lines.append("No p99 at rest (the rest phase had no complete edits): nothing to compare.")
    lines += ["", f"## Per {c['bucket']:g} s", ""]
    lines += bucket_table(result)
    lines += ["", "## Errors", ""]
    lines += error_lines(result)
    lines += ["", "## Connecting and memory", ""]
    per_socket = result.get("kb_per_socket")
    lines.append(
        f"{result['connected']} of {result['sockets']} sockets connected and ready in "
        f"{fmt(result['connect_seconds'])} s. Worker RSS idle "
        f"{cores([r / 1024 for r in result['rss_idle_kb']])} MB, with every socket open "
        f"{cores([r / 1024 for r in result['rss_connected_kb']])} MB"
        + (
            f": **{fmt(per_socket)} KB per socket**."
            # With a few sockets the growth is lost in the noise of the allocator.
            if result["connected"] >= 200
            else " (too few sockets to say what one costs)."
        )
    )
    return "\n".join(lines) + "\n"


def summary_table(result: dict, main: dict) -> list[str]:
    r = main.get("resources") or {}
    errors = main["error_count"] + main.get("lost_frames", 0)
    pg = result["postgres"]
    lines = [
        f"## Load: {fmt(main['asked_edits_per_s'])} edits/s for "
        f"{result['config']['duration']:g} s"
        + (" (the issue's load)" if result["config"]["full"] else " (smoke run)"),
        "",
        "| | |",
        "|---|---|",
        f"| errors (goal 0) | **{errors}**: {main['error_count']} failed saves and socket "
        f"errors, {main.get('lost_frames', 0)} frames lost"
        + (f" ({describe(main['errors'])})" if main["errors"] else "")
        + " |",
        f"| edit to every screen, ms (p50 / p95 / p99) | {lat(main['every_screen_ms'])} |",
        f"| each frame, ms (p50 / p95 / p99) | {lat(main['frame_ms'])} |",
        f"| the save's own answer, ms (p50 / p95 / p99) | {lat(main['post_ms'])} |",
    ]
    if main.get("every_page_ms"):
        lines.append(f"| edit to every page (refetch), ms | {lat(main['every_page_ms'])} |")
    lines += [
        f"| saves | {main['acked']:,} of {main['edits']:,} acknowledged "
        f"({main['card_edits']:,} card edits, {main['step_changes']} step changes); "
        f"{fmt(main['achieved_edits_per_s'])}/s of {fmt(main['asked_edits_per_s'])}/s asked |",
        f"| CPU per worker, cores (mean; max) | {cores(r.get('worker_cores'))}; "
        f"{cores(r.get('worker_cores_max'))} |",
        f"| memory per worker, RSS max MB | {cores(r.get('worker_rss_mb_max'))} |",
        f"| PostgreSQL | {fmt(r.get('pg_commits_per_s'))} commits/s, "
        f"{fmt(r.get('pg_rows_read_per_s'))} rows read/s, {fmt(r.get('pg_rows_written_per_s'))} "
        f"rows written/s; up to {fmt(r.get('pg_backends_max'))} connections to this database "
        f"({fmt(r.get('pg_backends_all_max'))} in all of {pg['max_connections']}); "
        f"{fmt(r.get('pg_cores'), 2)} cores (the whole server) |",
        f"| Redis (the whole server) | {fmt(r.get('redis_commands_per_s'))} commands/s "
        f"(instantaneous max "
        f"{fmt(r.get('redis_ops_max'))}/s), {fmt(r.get('redis_out_kb_per_s'))} KB/s out, "
        f"{fmt(r.get('redis_clients_max'))} clients; {fmt(r.get('redis_cores'), 2)} cores |",
        f"| the load client | {fmt(r.get('client_cores'), 2)} cores |",
        f"| the whole machine | {fmt(r.get('machine_cores'), 2)} cores busy, of which "
        f"{fmt(r.get('other_cores'), 2)} other work |",
    ]
    return lines


def describe_settings(result: dict) -> str:
    settings = result.get("server_settings")
    if not settings:
        return "not recorded"
    pool = settings.get("pool")
    text = (
        f"database pool {pool['min_size']}–{pool['max_size']} connections per worker "
        f"(wait {pool['timeout']} s)"
        if pool
        else f"no database pool (CONN_MAX_AGE {settings.get('conn_max_age')})"
    )
    text += f", session saved on every request: {settings.get('session_save_every_request')}"
    if result.get("server_env"):
        text += f"; LOADTEST_SERVER_ENV={result['server_env']}"
    return text


def target(result: dict) -> str:
    """What "held" is judged on: the frame on every screen, or (refetch) the page."""
    return "page" if result.get("held_metric") == "every_page_ms" else "screen"


def describe(counts: dict) -> str:
    return ", ".join(f"{n}× {kind}" for kind, n in sorted(counts.items(), key=lambda x: -x[1]))


def phase_table(result: dict) -> list[str]:
    lines = [
        "| phase | edits/s asked → done | saves acked | edit to every screen p50 / p95 / "
        "p99 ms | errors + lost | worker cores | PostgreSQL cores, commits/s | Redis "
        "cores, cmd/s | p99 card edits / step changes ms | held |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    if result["config"]["refetch"]:
        lines[0] = lines[0].replace(
            " | errors", " | edit to every page p50 / p95 / p99 ms | errors"
        )
        lines[1] += "---|"
    for p in result["phases"]:
        r = p.get("resources") or {}
        held = "—" if p["kind"] == "rest" else ("**yes**" if p["held"] else "no")
        page = f" {lat(p.get('every_page_ms'))} |" if result["config"]["refetch"] else ""
        lines.append(
            f"| {p['name']} | {fmt(p['asked_edits_per_s'])} → {fmt(p['achieved_edits_per_s'])} "
            f"| {p['acked']:,}/{p['edits']:,} | {lat(p['every_screen_ms'])} |{page} "
            f"{p['error_count']} + {p.get('lost_frames', 0)} | {cores(r.get('worker_cores'))} | "
            f"{fmt(r.get('pg_cores'), 2)}, {fmt(r.get('pg_commits_per_s'))} | "
            f"{fmt(r.get('redis_cores'), 2)}, {fmt(r.get('redis_commands_per_s'))} | "
            f"{by_kind(p)} | {held} |"
        )
    return lines


def by_kind(phase: dict) -> str:
    """Each kind's p99, bold when within its limit (what "held" judges)."""
    kinds = phase.get("by_kind") or {}
    limits = phase.get("limits_ms") or {}
    parts = []
    for kind in ("card", "step"):
        p99 = (kinds.get(kind) or {}).get("p99")
        within = p99 is not None and kind in limits and p99 <= limits[kind]
        parts.append(f"**{fmt(p99)}**" if within else fmt(p99))
    return " / ".join(parts)


def bucket_table(result: dict) -> list[str]:
    rows = result["intervals"]
    names = {p.get("index", i): p["name"] for i, p in enumerate(result["phases"])}
    lines = [
        "| from s | phase | saves (acked) | edit to every screen p50 / p95 / p99 ms | errors "
        "| worker cores | PostgreSQL cores | Redis cores |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for b in result["buckets"]:
        r = resources(rows, b["start"], b["end"]) or {}
        lines.append(
            f"| {b['start']:g} | {', '.join(names.get(i, '?') for i in b['phases'])} | "
            f"{b['saves']} ({b['acked']}) | {lat(b['every_screen_ms'])} | {b['errors']} | "
            f"{cores(r.get('worker_cores'))} | {fmt(r.get('pg_cores'), 2)} | "
            f"{fmt(r.get('redis_cores'), 2)} |"
        )
    return lines


def error_lines(result: dict) -> list[str]:
    kinds = collections.Counter(f"{e[2]}: {e[3]}" for e in result["errors"])
    lines = [
        f"Client side: {len(result['errors'])} errors"
        + (f" ({describe(kinds)})" if kinds else "")
        + f"; {result['lost_frames']} frames not on their screen when the run ended (lost, or "
        + "still queued in an overloaded server: the final drain waits only LOADTEST_DRAIN s); "
        f"{result['gaps']} gaps (reconnect and replay, nothing lost); {result['reconnects']} "
        f"reconnects; {result.get('screens_disconnected', 0)} screens disconnected at the end; "
        f"{result['unacked_frames']} "
        f"frames of saves that were not acknowledged but did commit; "
        f"{result['delayed_saves']} saves waited for the participant's previous one.",
        "",
    ]
    for name, summary in result.get("server_logs", {}).items():
        levels = ", ".join(f"{n} {level}" for level, n in summary["levels"].items())
        statuses = ", ".join(f"{n}× {s}" for s, n in summary["statuses"].items())
        lines.append(f"Server log {name}: {levels or 'empty'}; responses: {statuses or '—'}.")
        for message, n in summary["problems"]:
            lines.append(f"- {n}× `{message}`")
    return lines


# --- the plot ----------------------------------------------------------------------------------

PHASE_FILL = {"rest": "#eef5ee", "load": "#eef2fa", "ramp": "#fbf1e6"}
LINES = [
    ("worker 1", "#d62728"),
    ("worker 2", "#ff7f0e"),
    ("PostgreSQL", "#1f77b4"),
    ("Redis", "#9467bd"),
    ("load client", "#7f7f7f"),
]


def svg(result: dict) -> str:
    """Edit-to-every-screen p50/p99 per bucket (log scale) above CPU in cores over time."""
    width, height = 900, 630
    left, right = 70, 20
    top1, h1 = 60, 250  # latency panel
    top2, h2 = 370, 160  # CPU panel
    plot_w = width - left - right
    end = max([p["end"] for p in result["phases"]] + [1.0])
    minutes = end >= 300

    def x(t: float) -> float:
        return left + plot_w * min(max(t / end, 0), 1)

    c = result["config"]
    title = (
        f"Load test {result['started']} ({'full run' if c['full'] else 'SMOKE RUN'}): "
        f"{c['rooms']} × {c['people']} sockets, 2 workers, PostgreSQL + Redis"
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15">{escape(title)}</text>',
        f'<text x="{width / 2}" y="38" text-anchor="middle" fill="#444">Edit to every '
        f"{target(result)} per {c['bucket']:g} s, ms (log scale): p99 red, p50 blue; dashed: "
        f"{c['threshold']:g}× the card edits' p99 at rest</text>",
    ]
    # Phases as shaded bands behind both panels.
    for p in result["phases"]:
        x0, x1 = x(p["start"]), x(p["end"])
        fill = PHASE_FILL.get(p["kind"], "#f4f4f4")
        for top, h in ((top1, h1), (top2, h2)):
            out.append(
                f'<rect x="{x0:.1f}" y="{top}" width="{max(1.0, x1 - x0):.1f}" height="{h}" '
                f'fill="{fill}"/>'
            )
        label = p["name"].replace("ramp ", "")
        out.append(
            f'<text x="{(x0 + x1) / 2:.1f}" y="{top1 + 12}" text-anchor="middle" '
            f'font-size="10" fill="#555">{escape(label)}</text>'
        )

    # Latency panel.
    metric = result.get("held_metric", "every_screen_ms")
    points = [(b, b[metric]) for b in result["buckets"] if b.get(metric)]
    values = [s[k] for _, s in points for k in ("p50", "p99") if s[k]]
    if result.get("threshold_ms"):
        values.append(result["threshold_ms"])
    lo = 10 ** math.floor(math.log10(max(min(values, default=1), 0.1)))
    hi = 10 ** math.ceil(math.log10(max(max(values, default=100), lo * 10)))

    def y1(v: float) -> float:
        v = min(max(v, lo), hi)
        frac = (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
        return top1 + h1 * (1 - frac)

    decade = lo
    while decade <= hi * 1.0001:
        for m in (1, 2, 5):
            v = decade * m
            if lo <= v <= hi:
                yy = y1(v)
                colour = "#bbb" if m == 1 else "#e0e0e0"
                out.append(
                    f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" '
                    f'stroke="{colour}"/>'
                )
                out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{v:,g}</text>')
        decade *= 10
    if result.get("threshold_ms"):
        yy = y1(result["threshold_ms"])
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" '
            f'stroke="#d62728" stroke-dasharray="6,4"/>'
        )
    for key, colour in (("p50", "#1f77b4"), ("p99", "#d62728")):
        coords = [
            (x((b["start"] + min(b["end"], end)) / 2), y1(s[key])) for b, s in points if s[key]
        ]
        out.append(polyline(coords, colour))
        for cx, cy in coords:
            out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="2.5" fill="{colour}"/>')
    # Buckets with an edit that never reached every screen: a mark on the top edge.
    for b, s in points:
        if s["incomplete"]:
            xx = x((b["start"] + min(b["end"], end)) / 2)
            out.append(
                f'<text x="{xx:.1f}" y="{top1 + 26}" text-anchor="middle" fill="#d62728" '
                f'font-size="11">✕</text>'
            )
    out.append(frame(left, top1, plot_w, h1))

    # CPU panel.
    rows = [r for r in result["intervals"] if r["t"] <= end]
    series = [
        [(r["t"], r["workers"][0]) for r in rows],
        [(r["t"], r["workers"][1]) for r in rows if len(r["workers"]) > 1],
        [(r["t"], r["pg_cpu"]) for r in rows if r.get("pg_cpu") is not None],
        [(r["t"], r["redis_cpu"]) for r in rows if r.get("redis_cpu") is not None],
        [(r["t"], r["client"]) for r in rows],
    ]
    peak = max([v for s in series for _, v in s] + [1.0])
    ymax = max(1.0, math.ceil(peak * 2) / 2)

    def y2(v: float) -> float:
        return top2 + h2 * (1 - min(max(v, 0), ymax) / ymax)

    step = 0.25 if ymax <= 1 else 0.5
    v = 0.0
    while v <= ymax + 1e-9:
        yy = y2(v)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e0e0e0"/>'
        )
        out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{v:g}</text>')
        v += step
    for (_name, colour), points2 in zip(LINES, series, strict=True):
        out.append(polyline([(x(t), y2(v)) for t, v in points2], colour))
    out.append(frame(left, top2, plot_w, h2))
    out.append(
        f'<text x="{left - 50}" y="{top2 + h2 / 2}" transform="rotate(-90 {left - 50} '
        f'{top2 + h2 / 2})" text-anchor="middle">CPU, cores</text>'
    )
    out.append(
        f'<text x="{left - 50}" y="{top1 + h1 / 2}" transform="rotate(-90 {left - 50} '
        f'{top1 + h1 / 2})" text-anchor="middle">ms</text>'
    )
    # Time axis under the CPU panel.
    tick = (60 if end <= 1800 else 300) if minutes else (10 if end <= 120 else 30)
    t = 0.0
    while t <= end + 1e-9:
        xx = x(t)
        label = f"{t / 60:g}" if minutes else f"{t:g}"
        out.append(
            f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top2 + h2}" y2="{top2 + h2 + 4}" '
            'stroke="black"/>'
        )
        out.append(f'<text x="{xx:.1f}" y="{top2 + h2 + 16}" text-anchor="middle">{label}</text>')
        t += tick
    out.append(
        f'<text x="{left + plot_w / 2}" y="{top2 + h2 + 32}" text-anchor="middle">'
        f"{'minutes' if minutes else 'seconds'} since the first edit</text>"
    )
    lx = left
    for name, colour in LINES:
        out.append(f'<rect x="{lx}" y="{height - 50}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{lx + 16}" y="{height - 40}">{escape(name)}</text>')
        lx += 30 + 7 * len(name)
    env = result["environment"]
    footer = f"{env['cpus']} CPUs, git {env['git_head']}: {result['command']}"
    for k, start in enumerate(range(0, len(footer), 145)):
        out.append(
            f'<text x="{left - 50}" y="{height - 20 + 12 * k}" fill="#555" font-size="10">'
            f"{escape(footer[start : start + 145])}</text>"
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def polyline(coords: list[tuple[float, float]], colour: str) -> str:
    if not coords:
        return ""
    text = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
    return f'<polyline points="{text}" fill="none" stroke="{colour}" stroke-width="1.8"/>'


def frame(left: float, top: float, w: float, h: float) -> str:
    return f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="black"/>'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("--svg", help="also write the plot here")
    args = parser.parse_args()
    result = json.loads(Path(args.results).read_text())
    analyse(result)  # again, so a changed analysis applies to older results too
    print(markdown(result))
    if args.svg:
        Path(args.svg).parent.mkdir(parents=True, exist_ok=True)
        Path(args.svg).write_text(svg(result))


if __name__ == "__main__":
    main()
