"""`make loadtest`: a bounded load test of two workers on PostgreSQL + Redis on this machine.

    make loadtest                                   # the issue's size: about 20 minutes
    LOADTEST_ROOMS=2 LOADTEST_PEOPLE=5 LOADTEST_DURATION=60 LOADTEST_STEP_INTERVAL=30 \
        LOADTEST_REST=30 LOADTEST_RAMP=2,4,8,16 LOADTEST_RAMP_STEP=20 make loadtest  # smoke: 4 min

What it sets up: a PostgreSQL database of its own (created, and dropped after the run), a
Redis database number of its own (flushed before and after; never db 0), two
`dilemmagesprek serve` processes on two ports with the shipped settings (JSON logs at INFO;
the database pool and everything else at its default, which the report lists), and R
conversations with a signed-in facilitator and N participants who each have an invite-link
session and a card of their own (bench/setup_app.py, then bench/loadtest_setup.py).

What it does (bench/loadtest_client.py, its own process): every participant is a screen, a
socket on one of the two workers (alternately), and an editor, who saves their card as the
page does (a `save_card` frame on their socket) every LOADTEST_EDIT_INTERVAL seconds from a
random phase; every facilitator
changes the step with the page's POST every LOADTEST_STEP_INTERVAL seconds. Three phases:

1. **at rest** (LOADTEST_REST s): every socket open, only a light probe of LOADTEST_REST_RATE
   card edits and LOADTEST_REST_STEP_RATE step changes per second over all conversations, to
   find the p99 of this setup at rest, for each kind of change;
2. **a ramp**: the issue's load × each of LOADTEST_RAMP in turn, LOADTEST_RAMP_STEP s each,
   until a step is not held (an error, or a p99 above LOADTEST_THRESHOLD × the p99 at rest).
   Card edits and step changes are judged each against their own kind at rest: a card's text
   goes into every page from its frame, while a step change makes every page of the
   conversation fetch, so their p99s differ in kind, not in how loaded the machine is;
3. **load**: the issue's load (LOADTEST_DURATION s), last, after LOADTEST_RECOVER s: when it
   is more than the machine holds, the backlog it leaves cannot spoil the ramp's figures.

What it measures: per edit, the time from just before its POST until every screen of its
conversation has the frame (p50/p95/p99 per phase and per LOADTEST_BUCKET seconds); errors
(saves not answered 303, sockets closed or refused, frames never received after a drain);
every LOADTEST_SAMPLE s the CPU (user + system, /proc) and RSS of each worker, PostgreSQL
(pg_stat_database counters of the run's database, its connections in pg_stat_activity, and
the CPU of the whole PostgreSQL server from /proc, its exited backends included) and Redis
(INFO: commands, CPU, clients). It writes bench/results/loadtest-<time>.json, .md and .svg;
a run of the issue's size (or LOADTEST_DOCS_PLOT=1) also writes docs/img/loadtest.svg.

Settings, all optional, from the environment (defaults are the issue's):

- LOADTEST_ROOMS=40, LOADTEST_PEOPLE=25: conversations, and participants (sockets) in each;
- LOADTEST_EDIT_INTERVAL=20, LOADTEST_STEP_INTERVAL=120: seconds between one participant's
  edits, and between one conversation's step changes;
- LOADTEST_DURATION=600: seconds of the load phase;
- LOADTEST_REST=60, LOADTEST_REST_RATE=2, LOADTEST_REST_STEP_RATE=0.1: seconds at rest, its
  probe card edits per second and its step changes per second (conversations in turn);
- LOADTEST_RAMP=0.1,0.2,0.3,0.4,0.5,0.75,1: the ramp's multiples of the load (empty: no ramp),
  LOADTEST_RAMP_STEP=45 seconds each, LOADTEST_THRESHOLD=5 (× the p99 at rest);
- LOADTEST_SETTLE=10: seconds between the last socket connecting and the rest phase;
  LOADTEST_PAUSE=10: seconds at most to wait for a phase's frames after it;
  LOADTEST_RECOVER=20: seconds between the ramp and the load phase; LOADTEST_DRAIN=15: the
  final wait for frames;
- LOADTEST_SAMPLE=5: seconds between resource samples; LOADTEST_BUCKET: seconds per row of
  the latency table and point of the plot (60; 10 when the load phase is under 5 minutes);
- LOADTEST_REFETCH=1 (the default): screens do what live.js does after every event (a card's
  text in place; the navigation and the heads of the two steps involved after a step
  change; an editor
  whose save was a form post follows its 303), and a step is judged on edit to every *page*;
  0 judges on frames alone;
- LOADTEST_WRITE=socket (the default): participants save their card as live.js does, with a
  `save_card` frame on their socket; `http` posts the form instead;
- LOADTEST_CONNECT_CONCURRENCY=50: sockets opening at once; LOADTEST_SEED=1: the random
  phases of the participants;
- LOADTEST_DATABASE_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres: where the run's
  database is created; LOADTEST_REDIS_URL=redis://127.0.0.1:6379/7 (never db 0);
- LOADTEST_SERVER_ENV="NAME=value,...": extra settings for the servers (e.g.
  DATABASE_CONN_MAX_AGE=60); LOADTEST_APP_DIR: run the app from a copy of the source tree;
- LOADTEST_DOCS_PLOT=1: write docs/img/loadtest.svg also for a run of another size.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import json
import os
import secrets
import shutil
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import loadtest_report
import run

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
DOCS_PLOT = ROOT / "docs" / "img" / "loadtest.svg"
PY = sys.executable
APP_DIR = Path(os.environ.get("LOADTEST_APP_DIR") or ROOT).resolve()


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def config() -> dict:
    """The run's settings, from the environment; the defaults are the issue's."""
    ramp = os.environ.get("LOADTEST_RAMP", "0.1,0.2,0.3,0.4,0.5,0.75,1")
    cfg = {
        "rooms": int(env_float("LOADTEST_ROOMS", 40)),
        "people": int(env_float("LOADTEST_PEOPLE", 25)),
        "edit_interval": env_float("LOADTEST_EDIT_INTERVAL", 20),
        "step_interval": env_float("LOADTEST_STEP_INTERVAL", 120),
        "duration": env_float("LOADTEST_DURATION", 600),
        "rest": env_float("LOADTEST_REST", 60),
        "rest_rate": env_float("LOADTEST_REST_RATE", 2),
        "rest_step_rate": env_float("LOADTEST_REST_STEP_RATE", 0.1),
        "ramp": [float(m) for m in ramp.split(",") if m.strip()],
        "ramp_step": env_float("LOADTEST_RAMP_STEP", 45),
        "threshold": env_float("LOADTEST_THRESHOLD", 5),
        "pause": env_float("LOADTEST_PAUSE", 10),
        "settle": env_float("LOADTEST_SETTLE", 10),
        "recover": env_float("LOADTEST_RECOVER", 20),
        "drain": env_float("LOADTEST_DRAIN", 15),
        "sample": env_float("LOADTEST_SAMPLE", 5),
        "refetch": os.environ.get("LOADTEST_REFETCH", "1").lower() in ("1", "true", "yes"),
        "write": os.environ.get("LOADTEST_WRITE", "socket"),
        "seed": int(env_float("LOADTEST_SEED", 1)),
        "connect_concurrency": int(env_float("LOADTEST_CONNECT_CONCURRENCY", 50)),
        "admin_url": os.environ.get(
            "LOADTEST_DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"
        ),
        "redis_url": os.environ.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/7"),
    }
    cfg["full"] = (
        cfg["rooms"],
        cfg["people"],
        cfg["edit_interval"],
        cfg["step_interval"],
        cfg["duration"],
    ) == (40, 25, 20, 120, 600)
    cfg["bucket"] = env_float("LOADTEST_BUCKET", 60 if cfg["duration"] >= 300 else 10)
    return cfg


def phases(cfg: dict) -> list[dict]:
    out = [
        {
            "name": "rest",
            "kind": "rest",
            "duration": cfg["rest"],
            "rate": cfg["rest_rate"],
            "step_rate": cfg["rest_step_rate"],
        }
    ]
    out += [
        {"name": f"ramp ×{m:g}", "kind": "ramp", "duration": cfg["ramp_step"], "multiplier": m}
        for m in cfg["ramp"]
    ]
    if cfg["duration"] > 0:
        out.append({"name": "load", "kind": "load", "duration": cfg["duration"], "multiplier": 1.0})
    return out


def planned_seconds(cfg: dict) -> float:
    """The run's length at most, without set-up and connecting."""
    parts = phases(cfg)
    recover = cfg["recover"] if cfg["ramp"] else 0
    return sum(p["duration"] + cfg["pause"] for p in parts) + recover + cfg["drain"]


def log(message: str) -> None:
    print(f"loadtest: {message}", flush=True)


# --- PostgreSQL and Redis ------------------------------------------------------------------


class Postgres:
    """The run's database, and the samples of its load."""

    def __init__(self, admin_url: str) -> None:
        import psycopg  # in the app's requirements

        self.admin_url = admin_url.replace("postgres://", "postgresql://", 1)
        self.database = f"dg_loadtest_{os.getpid()}"
        parts = urllib.parse.urlsplit(admin_url)
        self.url = urllib.parse.urlunsplit(parts._replace(path=f"/{self.database}"))
        self.conn = psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5)
        self.version = self.one("SHOW server_version")
        self.max_connections = int(self.one("SHOW max_connections"))
        # The postmaster: the parent of our own backend. Its cutime/cstime hold the CPU of
        # every backend that already exited (one per request, with DATABASE_CONN_MAX_AGE=0).
        backend = int(self.one("SELECT pg_backend_pid()"))
        self.postmaster = parent_pid(backend)

    def one(self, sql: str, *args: object) -> object:
        return self.conn.execute(sql, args).fetchone()[0]

    def create(self) -> None:
        self.conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self.conn.execute(f'CREATE DATABASE "{self.database}"')

    def drop(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self.conn.close()

    def backends(self) -> tuple[int, int]:
        """Connections to the run's database, and client connections in all."""
        row = self.conn.execute(
            "SELECT count(*) FILTER (WHERE datname = %s), "
            "count(*) FILTER (WHERE backend_type = 'client backend') FROM pg_stat_activity",
            (self.database,),
        ).fetchone()
        return int(row[0]), int(row[1])

    def sample(self) -> dict:
        keys = (
            "xact_commit",
            "xact_rollback",
            "tup_returned",
            "tup_fetched",
            "tup_inserted",
            "tup_updated",
            "tup_deleted",
            "blks_read",
            "blks_hit",
            "deadlocks",
        )
        row = self.conn.execute(
            f"SELECT {', '.join(keys)} FROM pg_stat_database WHERE datname = %s",  # noqa: S608
            (self.database,),
        ).fetchone()
        out = dict(zip(keys, (int(v or 0) for v in row), strict=True))
        out["backends"], out["backends_all"] = self.backends()
        out["cpu"] = process_tree_cpu(self.postmaster) if self.postmaster else None
        return out


class Redis:
    def __init__(self, url: str) -> None:
        import redis  # in the app's requirements

        db = int(urllib.parse.urlsplit(url).path.strip("/") or 0)
        if db == 0:
            # The run flushes its database: never the default one that others use.
            raise SystemExit("LOADTEST_REDIS_URL must name a Redis database other than 0")
        self.client = redis.Redis.from_url(url, socket_timeout=5)
        self.version = self.client.info("server")["redis_version"]

    def flush(self) -> None:
        self.client.flushdb()  # only this database

    def sample(self) -> dict:
        info = self.client.info()
        keys = (
            "used_cpu_sys",
            "used_cpu_user",
            "total_commands_processed",
            "instantaneous_ops_per_sec",
            "connected_clients",
            "total_net_input_bytes",
            "total_net_output_bytes",
            "pubsub_channels",
        )
        return {key: info.get(key, 0) for key in keys}


def parent_pid(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("PPid:"):
                return int(line.split()[1])
    return None


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process, its live children and its reaped ones."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    children: list[str] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            children += Path(f"/proc/{pid}/task/{task}/children").read_text().split()
    for child in children:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15])
    return total / ticks


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of one process; None when it is gone."""
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return None


# --- the servers ---------------------------------------------------------------------------


def server_env(workdir: Path, pg: Postgres, cfg: dict) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "WORKERS", "DEBUG", "PYTHONPATH", "LOG_LEVEL")
        and not k.startswith(("LOADTEST_", "BENCH_"))
    }
    env.update(
        DILEMMAGESPREK_DATA_DIR=str(workdir / "data"),
        DJANGO_SETTINGS_MODULE="dilemmagesprek.settings",
        PYTHONPATH=str(APP_DIR),
        DATABASE_URL=pg.url,
        REDIS_URL=cfg["redis_url"],
        # Two processes share the work, as `serve --workers 2` would (deploy/env.example);
        # they run on two ports so that each one's sockets and CPU can be told apart.
        WORKERS="2",
        LOG_FORMAT="json",
        # The production example's pool (deploy/env.example), which the figures were taken with.
        DATABASE_POOL_SIZE=os.environ.get("DATABASE_POOL_SIZE", "10"),
    )
    env.update(run.settings_from("LOADTEST_SERVER_ENV"))
    return env


def start_servers(workdir: Path, env: dict) -> list[run.Server]:
    servers = []
    for i in range(2):
        port = run.free_port()
        server = run.Server(f"worker-{i + 1}", run.serve_command(port), env, workdir, port)
        servers.append(server)
        server.wait_ready(http=True)  # one at a time: the first one migrates the database
    return servers


def summarise_log(path: Path) -> dict:
    """Levels, response statuses and the most frequent problems in a server's JSON log."""
    levels: collections.Counter = collections.Counter()
    statuses: collections.Counter = collections.Counter()
    problems: collections.Counter = collections.Counter()
    with contextlib.suppress(OSError):
        for line in path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                # uvicorn's own lines ("INFO:     ...") and tracebacks are not JSON.
                head = line.split(":", 1)[0]
                if head in ("INFO", "WARNING", "ERROR", "CRITICAL"):
                    levels[f"{head} (uvicorn)"] += 1
                    if head != "INFO":
                        problems[line.strip()[:200]] += 1
                elif head.endswith(("Error", "Exception")) and " " not in head:
                    problems[line.strip()[:200]] += 1  # the last line of a traceback
                continue
            if not isinstance(entry, dict):
                continue
            levels[entry.get("level", "?")] += 1
            if "status" in entry:
                statuses[f"{entry['status']} {entry.get('route', '')}".strip()] += 1
            if entry.get("level") in ("WARNING", "ERROR", "CRITICAL"):
                text = entry.get("message", "")
                if entry.get("exception"):
                    text += " | " + entry["exception"].strip().splitlines()[-1]
                problems[text[:200]] += 1
    return {
        "levels": dict(levels.most_common()),
        "statuses": dict(statuses.most_common(12)),
        "problems": problems.most_common(8),
    }


# --- the run -------------------------------------------------------------------------------


class Sampler:
    def __init__(self, servers: list[run.Server], pg: Postgres, redis: Redis) -> None:
        self.servers = servers
        self.pg = pg
        self.redis = redis
        self.client_pid = 0
        self.t_go = 0.0
        self.samples: list[dict] = []

    def sample(self) -> None:
        row: dict = {
            "t": round(time.perf_counter() - self.t_go, 3),
            "workers": [{"cpu": s.cpu_seconds(), "rss_kb": s.rss_kb()} for s in self.servers],
            # Once the client has exited, its last reading stands.
            "client_cpu": process_cpu(self.client_pid)
            or (self.samples[-1]["client_cpu"] if self.samples else 0.0),
            "machine": run.cpu_jiffies(),
            "cpus": os.cpu_count() or 1,
            "loadavg": run.loadavg(),
        }
        # A failing probe is recorded, not fatal: the load test goes on without it.
        try:
            row["pg"] = self.pg.sample()
        except Exception as error:  # noqa: BLE001
            row["pg_error"] = f"{type(error).__name__}: {error}"
        try:
            row["redis"] = self.redis.sample()
        except Exception as error:  # noqa: BLE001
            row["redis_error"] = f"{type(error).__name__}: {error}"
        self.samples.append(row)


def relay(stream, connected: threading.Event, lines: list[str]) -> None:
    """Print the client's progress lines as they come; note when it is connected."""
    for line in stream:
        lines.append(line)
        if line.startswith("CONNECTED"):
            connected.set()
        else:
            print(line, end="", flush=True)
    connected.set()


def main() -> int:
    cfg = config()
    run.raise_fd_limit()
    RESULTS.mkdir(parents=True, exist_ok=True)
    tag = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    started = datetime.datetime.now().isoformat(timespec="seconds")
    begun = time.monotonic()
    for url in (cfg["admin_url"], cfg["redis_url"]):
        if not run.reachable(url):
            log(f"{url} does not answer; the load test needs PostgreSQL and Redis")
            return 2
    log(
        f"{cfg['rooms']} × {cfg['people']} sockets, edit every {cfg['edit_interval']:g} s, step "
        f"every {cfg['step_interval']:g} s; phases take at most {planned_seconds(cfg):.0f} s "
        f"after set-up and connecting"
    )
    pg = Postgres(cfg["admin_url"])
    redis = Redis(cfg["redis_url"])
    workdir = Path(tempfile.mkdtemp(prefix="dg-loadtest-"))
    servers: list[run.Server] = []
    failed = True
    result: dict = {}
    try:
        pg.create()
        redis.flush()
        backends_at_start = pg.backends()[1]
        env = server_env(workdir, pg, cfg)
        log(f"starting two workers on database {pg.database}, Redis {cfg['redis_url']}")
        servers = start_servers(workdir, env)
        setup_path, cards_path = workdir / "setup.json", workdir / "cards.json"
        subprocess.run(  # noqa: S603 - our own scripts
            [
                PY,
                str(BENCH / "setup_app.py"),
                "--groups",
                f"load:{cfg['rooms']}x{cfg['people']}",
                "--out",
                str(setup_path),
            ],
            env=env,
            cwd=workdir,
            check=True,
            timeout=900,
        )
        subprocess.run(  # noqa: S603
            [
                PY,
                str(BENCH / "loadtest_setup.py"),
                "--setup",
                str(setup_path),
                "--out",
                str(cards_path),
            ],
            env=env,
            cwd=workdir,
            check=True,
            timeout=1800,
        )
        cards = json.loads(cards_path.read_text())
        plan = {
            **{
                k: cfg[k]
                for k in (
                    "edit_interval",
                    "step_interval",
                    "pause",
                    "recover",
                    "drain",
                    "threshold",
                    "refetch",
                    "write",
                    "seed",
                    "connect_concurrency",
                )
            },
            "phases": phases(cfg),
            "ports": [s.port for s in servers],
            "rooms": cards["rooms"],
            "facilitator_session": cards["facilitator_session"],
            "session_cookie": cards["session_cookie"],
            "csrf_cookie": cards["csrf_cookie"],
            "csrf": "".join(
                secrets.choice(string.ascii_letters + string.digits) for _ in range(32)
            ),
        }
        plan_path, out_path = workdir / "plan.json", workdir / "client.json"
        plan_path.write_text(json.dumps(plan))

        sampler = Sampler(servers, pg, redis)
        rss_idle = [s.rss_kb() for s in servers]
        client = subprocess.Popen(  # noqa: S603 - our own script
            [PY, str(BENCH / "loadtest_client.py"), str(plan_path), str(out_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=workdir,
        )
        sampler.client_pid = client.pid
        connected, lines = threading.Event(), []
        threading.Thread(target=relay, args=(client.stdout, connected, lines), daemon=True).start()
        log(f"connecting {cfg['rooms'] * cfg['people']} sockets")
        connected.wait(timeout=660)
        if client.poll() is not None or not any(x.startswith("CONNECTED") for x in lines):
            raise RuntimeError(f"the load client did not connect (exit {client.poll()})")
        # Let the arrivals' presence broadcasts finish before memory is read and "at rest" begins.
        time.sleep(max(2.0, cfg["settle"]))
        rss_connected = [s.rss_kb() for s in servers]
        setup_seconds = time.monotonic() - begun
        loadavg_start = run.loadavg()
        sampler.t_go = time.perf_counter()
        sampler.sample()
        client.stdin.write("GO\n")
        client.stdin.flush()
        deadline = time.monotonic() + planned_seconds(cfg) + 40 * len(phases(cfg)) + 180
        next_sample = time.perf_counter() + cfg["sample"]
        while client.poll() is None:
            if time.monotonic() > deadline:
                client.kill()
                raise RuntimeError("the load client ran past its time")
            time.sleep(max(0.0, next_sample - time.perf_counter()))
            sampler.sample()
            next_sample += cfg["sample"]
        sampler.sample()
        if client.returncode != 0:
            raise RuntimeError(f"the load client failed (exit {client.returncode})")
        result = json.loads(out_path.read_text())
        sockets = result["connected"] or 1
        result.update(
            started=started,
            command=command(cfg),
            config={k: safe_url(v) if k.endswith("_url") else v for k, v in cfg.items()},
            environment={**run.environment(), "app_dir": str(APP_DIR)},
            postgres={
                "version": pg.version,
                "max_connections": pg.max_connections,
                "database": pg.database,
                "backends_at_start": backends_at_start,
            },
            redis={"version": redis.version, "url": safe_url(cfg["redis_url"])},
            ports=[s.port for s in servers],
            setup_seconds=round(setup_seconds, 1),
            loadavg_start=loadavg_start,
            loadavg_end=run.loadavg(),
            server_settings=cards.get("server_settings", {}),
            server_env=os.environ.get("LOADTEST_SERVER_ENV", ""),
            rss_idle_kb=rss_idle,
            rss_connected_kb=rss_connected,
            kb_per_socket=round((sum(rss_connected) - sum(rss_idle)) / sockets, 1),
            samples=sampler.samples,
        )
        failed = False
    except Exception as error:  # noqa: BLE001 - reported; the finally block cleans up
        log(f"FAILED: {type(error).__name__}: {error}")
    finally:
        for server in reversed(servers):
            server.stop()
        logs = {}
        for server in servers:
            with contextlib.suppress(OSError):
                target = RESULTS / f"loadtest-{tag}-{server.name}.log"
                shutil.copy(server.log_path, target)
                logs[server.name] = summarise_log(target)
        pg.drop()
        with contextlib.suppress(Exception):
            redis.flush()
        if failed:
            log(f"set-up files and server logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        return 1

    result["server_logs"] = logs
    result["seconds"] = round(time.monotonic() - begun, 1)
    loadtest_report.analyse(result)
    json_path = RESULTS / f"loadtest-{tag}.json"
    json_path.write_text(json.dumps(result))
    markdown = loadtest_report.markdown(result)
    (RESULTS / f"loadtest-{tag}.md").write_text(markdown)
    plot = loadtest_report.svg(result)
    (RESULTS / f"loadtest-{tag}.svg").write_text(plot)
    docs_plot = os.environ.get("LOADTEST_DOCS_PLOT", "1" if cfg["full"] else "0")
    if docs_plot.lower() in ("1", "true", "yes"):
        DOCS_PLOT.parent.mkdir(parents=True, exist_ok=True)
        DOCS_PLOT.write_text(plot)
        log(f"plot: {DOCS_PLOT.relative_to(ROOT)}")
    print(markdown)
    log(f"results: {json_path.relative_to(ROOT)} and .md, .svg ({result['seconds']:.0f} s)")
    return 0


def command(cfg: dict) -> str:
    names = [
        name
        for name in sorted(os.environ)
        if name.startswith("LOADTEST_") and name != "LOADTEST_DOCS_PLOT"
    ]
    settings = " ".join(f"{name}={safe_url(os.environ[name])}" for name in names)
    return f"{settings} make loadtest".strip()


def safe_url(value: str) -> str:
    """A URL without its password, for the report; any other value as it is."""
    parts = urllib.parse.urlsplit(value)
    if parts.scheme and parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return value


if __name__ == "__main__":
    sys.exit(main())
