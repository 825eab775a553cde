"""Process-level harness for the reliability tests: real servers, real HTTP, real sockets.

Nothing here runs the app in-process. A `Server` is `dilemmagesprek serve` (one process) in a
subprocess that a test can SIGKILL and restart on the same port; a `Browser` is a small
cookie-keeping HTTP/1.1 client over http.client (CSRF cookie, sessions, no redirect
following); a `LiveSocket` is a thread holding one conversation socket (the `websockets`
package) that behaves like live.js: hello with the newest seq it has, drop duplicates,
reconnect on a gap, back off and try the next server on a drop. The database is read directly
(sqlite3 / psycopg), never through Django.

Everything is bounded: every loop has a deadline, every request a timeout.
"""

from __future__ import annotations

import contextlib
import html
import http.client
import json
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import websockets.exceptions
import websockets.sync.client

REPO_ROOT = Path(__file__).resolve().parents[2]
# Server-side variables that would point a subprocess at someone else's state.
ISOLATED_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "HOST",
    "PORT",
    "WORKERS",
)
# A socket closed by the server going away (1001, 1012) or vanishing (no close frame: None,
# 1006). Anything else (4000 "too slow", 4403 "not a member", 1011 "server error") is a finding.
EXPECTED_CLOSE_CODES = {None, 1000, 1001, 1006, 1012}
KEEP_ALIVE_REUSE = 2.0  # seconds a keep-alive connection may sit idle and still be reused
SESSION_COOKIE = "dg_sessionid"
# The production stack when the run does not name one (the Makefile's TEST_* defaults).
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
CSRF_COOKIE = "dg_csrftoken"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_answers(port: int, timeout: float = 0.3) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=timeout).close()
    except OSError:
        return False
    return True


def wait_until(predicate: Callable[[], bool], timeout: float, every: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


def new_op(prefix: str = "op") -> str:
    """A client-generated operation id: 8–64 characters of [A-Za-z0-9_-]."""
    return f"{prefix}-{secrets.token_urlsafe(9)}"[:64]


# --- the server ------------------------------------------------------------------------------


@dataclass
class Stack:
    """Where a set of server processes keeps its state: a data directory, maybe PG + Redis."""

    data_dir: Path
    database_url: str | None = None  # None: embedded SQLite in data_dir
    redis_url: str | None = None
    # Further settings (environment variables) for every process of this stack.
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key not in ISOLATED_ENV}
        env["DILEMMAGESPREK_DATA_DIR"] = str(self.data_dir)
        env["PYTHONUNBUFFERED"] = "1"
        env.pop("DJANGO_SETTINGS_MODULE", None)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(self.settings)
        return env

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "dilemmagesprek.cli", *args],
            env=self.env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise AssertionError(
                f"dilemmagesprek {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def create_facilitator(self, username: str = "gespreksleider") -> tuple[str, str]:
        password = secrets.token_urlsafe(18)
        password_file = self.data_dir.parent / f"password-{username}"
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
        self.cli("createuser", username, "--password-file", str(password_file))
        return username, password

    # Reading the truth straight from the database the servers use.
    @contextmanager
    def db(self) -> Iterator[Any]:
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url, autocommit=True) as conn:
                yield conn
        else:
            conn = sqlite3.connect(self.data_dir / "dilemmagesprek.sqlite3", timeout=20)
            try:
                yield conn
            finally:
                conn.close()

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self.database_url:
            sql = sql.replace("?", "%s")
        with self.db() as conn:
            cursor = conn.cursor()
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def events(self, conversation_id: str) -> list[dict[str, Any]]:
        rows = self.query(
            "SELECT seq, type, data, actor_id, op FROM conversations_event "
            "WHERE conversation_id = ? ORDER BY seq",
            (conversation_id,),
        )
        return [
            {
                "seq": seq,
                "event": type_,
                "data": data if isinstance(data, dict) else json.loads(data),
                "actor": actor,
                "op": op,
            }
            for seq, type_, data, actor, op in rows
        ]

    def last_seq(self, conversation_id: str) -> int:
        return self.query(
            "SELECT last_seq FROM conversations_conversation WHERE id = ?", (conversation_id,)
        )[0][0]

    def field_value(self, conversation_id: str, key: str) -> tuple[str, int]:
        rows = self.query(
            "SELECT text, version FROM worksheets_fieldvalue WHERE conversation_id = ? AND key = ?",
            (conversation_id, key),
        )
        return rows[0] if rows else ("", 0)


class Server:
    """One server process on a fixed port; kill it and start it again on the same port."""

    def __init__(
        self,
        stack: Stack,
        port: int,
        name: str,
        log_dir: Path,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.stack = stack
        self.settings = settings or {}
        self.port = port
        self.name = name
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def env(self) -> dict[str, str]:
        env = self.stack.env
        if self.stack.database_url:
            # Nothing of the database lives in the data directory then: give each process its
            # own, so two starting at once do not collect static files into one folder.
            env["DILEMMAGESPREK_DATA_DIR"] = str(self.stack.data_dir.parent / f"data-{self.name}")
        env.update(self.settings)
        return env

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> float:
        """Start and wait until the port answers; returns the moment it did (monotonic)."""
        self.spawn()
        return self.wait_ready(timeout)

    def spawn(self) -> None:
        assert self.process is None or self.process.poll() is not None
        self.starts += 1
        log = self.log_dir / f"{self.name}-{self.starts}.log"
        with log.open("w") as out:  # a file, not a pipe: a full pipe would stall the server
            # One worker: uvicorn then serves in this very process, so a signal to it is a
            # signal to the server (with several, a supervisor would sit in between).
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "dilemmagesprek.cli",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    "1",
                    "--no-demo",
                ],
                env=self.env,
                cwd=REPO_ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 60) -> float:
        """Wait until the port answers; returns the moment it did (monotonic)."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while not port_answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"server {self.name} does not answer on port {self.port} "
                    f"(exit code {self.process.poll()}):\n{self.log()}"
                )
            time.sleep(0.05)
        return time.monotonic()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.log_dir.glob(f"{self.name}-*.log"))
        )


# --- HTTP ------------------------------------------------------------------------------------


class SendFailed(Exception):
    """The request may or may not have reached the server: no answer came back."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class Browser:
    """A cookie jar and one keep-alive connection per server; never follows redirects."""

    def __init__(self, base_url: str, timeout: float = 15) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None
        self._conn_url = ""
        self._last_used = 0.0

    def _connection(self) -> http.client.HTTPConnection:
        # The server drops a keep-alive connection after 5 s idle (uvicorn's default); a
        # request sent on it just then would be lost, so, like a browser, start a fresh one.
        if time.monotonic() - self._last_used > KEEP_ALIVE_REUSE:
            self.close()
        if self._conn is None or self._conn_url != self.base_url:
            self.close()
            parts = urllib.parse.urlsplit(self.base_url)
            self._conn = http.client.HTTPConnection(
                parts.hostname, parts.port, timeout=self.timeout
            )
            self._conn_url = self.base_url
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method: str, path: str, fields: dict[str, str] | None = None) -> Response:
        headers = {"Origin": self.base_url, "Referer": self.base_url + path}
        if self.cookies:
            headers["Cookie"] = self.cookie_header
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            data = raw.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise SendFailed(f"{method} {path}: {error!r}") from error
        for name, value in raw.getheaders():
            if name.lower() == "set-cookie":
                for morsel in SimpleCookie(value).values():
                    self.cookies[morsel.key] = morsel.value
        self._last_used = time.monotonic()
        if raw.getheader("connection", "").lower() == "close":
            self.close()
        return Response(
            raw.status,
            {name.lower(): value for name, value in raw.getheaders()},
            data.decode("utf-8", "replace"),
        )

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, fields: dict[str, str]) -> Response:
        if CSRF_COOKIE not in self.cookies:
            self.get("/inloggen/")
        return self.request(
            "POST", path, {**fields, "csrfmiddlewaretoken": self.cookies[CSRF_COOKIE]}
        )

    def login(self, username: str, password: str) -> None:
        self.get("/inloggen/")
        response = self.post("/inloggen/", {"username": username, "password": password})
        assert response.status == 302, f"login failed: {response.status}\n{response.body[:2000]}"
        assert SESSION_COOKIE in self.cookies

    @property
    def session(self) -> str:
        return self.cookies[SESSION_COOKIE]


def create_conversation(browser: Browser, title: str = "Betrouwbaarheid") -> str:
    response = browser.post("/gesprekken/nieuw/", {"title": title, "variant": "lang"})
    assert response.status == 302, f"{response.status}\n{response.body[:2000]}"
    match = re.search(r"/g/([^/]+)/leden/", response.location)
    assert match, response.location
    return match.group(1)


def invite(browser: Browser, conversation_id: str, name: str, role: str = "deelnemer") -> str:
    """Invite a member as the facilitator; returns the invite path /uitnodiging/<token>/."""
    response = browser.post(f"/g/{conversation_id}/leden/", {"display_name": name, "role": role})
    assert response.status == 303, f"{response.status}\n{response.body[:2000]}"
    member_id = response.location.rsplit("#member-", 1)[1]
    page = browser.get(f"/g/{conversation_id}/leden/")
    match = re.search(rf'id="link-{re.escape(member_id)}"[^>]*value="([^"]+)"', page.body)
    assert match, f"no invite link for {member_id}"
    return urllib.parse.urlsplit(html.unescape(match.group(1))).path


def join(base_url: str, invite_path: str) -> Browser:
    browser = Browser(base_url)
    response = browser.get(invite_path)
    assert response.status == 302, f"join failed: {response.status}"
    assert SESSION_COOKIE in browser.cookies
    return browser


@dataclass
class FieldState:
    text: str
    version: int
    seq: int  # the page's data-seq


def parse_field(page: str, key: str) -> FieldState:
    seq = re.search(r'data-seq="(\d+)"', page)
    start = page.find(f'id="field-{key}"')
    assert seq and start >= 0, f"field {key} not on the page:\n{page[:3000]}"
    form = page[start : page.find("</form>", start)]
    text = re.search(r"<textarea[^>]*>(.*?)</textarea>", form, re.S)
    version = re.search(r'name="version" value="(\d+)"', form)
    assert text and version, form[:3000]
    return FieldState(html.unescape(text.group(1)), int(version.group(1)), int(seq.group(1)))


def read_field(browser: Browser, conversation_id: str, key: str) -> FieldState:
    response = browser.get(f"/g/{conversation_id}/")
    assert response.status == 200, f"{response.status}\n{response.body[:2000]}"
    return parse_field(response.body, key)


def card_target(page: str, conversation_id: str) -> tuple[str, str]:
    """The first "add a card" form on the page: (column id, row key)."""
    match = re.search(
        rf'action="/g/{re.escape(conversation_id)}/kolom/([^/"]+)/kaart/".*?'
        r'name="row" value="([^"]+)"',
        page,
        re.S,
    )
    assert match, "no card form on the page"
    return match.group(1), match.group(2)


# --- the live socket -------------------------------------------------------------------------


@dataclass
class Connection:
    """What one socket connection saw: its server, its hello and its event seqs in order."""

    url: str
    hello: int
    opened_at: float
    ready_at: float | None = None
    ready_seq: int | None = None
    seqs: list[int] = field(default_factory=list)
    replayed: list[int] = field(default_factory=list)  # event seqs before `ready`
    resyncs: list[int] = field(default_factory=list)
    close_code: int | None = None


class LiveSocket:
    """A thread that keeps one conversation socket open the way live.js does.

    `urls` are server base URLs (ws://host:port) tried in turn: a client of a killed server
    moves on to the next. `applied` is the event stream as the client applied it: gap-free and
    duplicate-free by construction; what the server actually sent is in `connections`.
    """

    def __init__(self, urls: list[str], conversation_id: str, session: str, name: str) -> None:
        self.urls = list(urls)
        self.conversation_id = conversation_id
        self.session = session
        self.name = name
        self.last_seq = 0
        self.applied: list[dict[str, Any]] = []
        self.connections: list[Connection] = []
        self.duplicates = 0  # events dropped because seq <= last_seq
        self.gaps: list[tuple[int, int]] = []  # (had, got): a gap, so the client reconnected
        self.errors: list[str] = []  # what should not happen: refusals, error frames, resyncs
        self.drops: list[str] = []  # lost connections and failed attempts (servers die here)
        self.forbidden = False
        # The newest version of each text field this client's screen has shown.
        self.field_versions: dict[str, int] = {}
        # Who is here, as each `presence` frame listed them (member ids), oldest first.
        self.presence: list[set[str]] = []
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"socket-{name}", daemon=True)
        self._url_index = 0

    def start(self) -> LiveSocket:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    # -- waiting ---------------------------------------------------------------------------

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.2))
        return True

    def wait_for_seq(self, seq: int, timeout: float) -> bool:
        return self.wait(lambda: self.last_seq >= seq, timeout)

    def wait_ready(self, timeout: float, after: float = 0.0) -> float | None:
        """The moment of the first `ready` on a connection opened after `after`, if any."""

        def ready() -> float | None:
            for conn in self.connections:
                if conn.opened_at >= after and conn.ready_at is not None:
                    return conn.ready_at
            return None

        self.wait(lambda: ready() is not None, timeout)
        return ready()

    # -- the loop --------------------------------------------------------------------------

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def _run(self) -> None:
        attempt = 0
        deadline = time.monotonic() + 300  # a hard bound: no socket outlives a test
        while not self._stop.is_set() and not self.forbidden and time.monotonic() < deadline:
            base = self.urls[self._url_index % len(self.urls)]
            try:
                self._session(base)
                attempt = 0
            except websockets.exceptions.InvalidStatus as error:
                # The server answered the handshake with an HTTP error: that is the app's doing.
                self.errors.append(f"{base}: {error!r}")
                self._url_index += 1
                attempt += 1
                self._stop.wait(min(1.0, 0.05 * 2**attempt))
            except (OSError, websockets.exceptions.WebSocketException, TimeoutError) as error:
                # Refused, cut off mid-handshake or dropped (a server dying or starting):
                # back off a little and try the next server.
                self.drops.append(f"{base}: {error!r}")
                self._url_index += 1
                attempt += 1
                self._stop.wait(min(1.0, 0.05 * 2**attempt))

    def _session(self, base: str) -> None:
        origin = base.replace("ws://", "http://", 1)
        with websockets.sync.client.connect(
            f"{base}/ws/g/{self.conversation_id}/",
            origin=origin,
            additional_headers={"Cookie": f"{SESSION_COOKIE}={self.session}"},
            proxy=None,
            open_timeout=3,
            close_timeout=1,
            compression=None,
            max_queue=None,
        ) as ws:
            conn = Connection(url=base, hello=self.last_seq, opened_at=time.monotonic())
            self.connections.append(conn)
            ws.send(json.dumps({"type": "hello", "last_seq": self.last_seq}))
            try:
                while not self._stop.is_set():
                    try:
                        raw = ws.recv(timeout=0.2)
                    except TimeoutError:
                        continue
                    if not self._handle(conn, json.loads(raw)):
                        return  # a gap: reconnect, which replays
            except websockets.exceptions.ConnectionClosed as closed:
                conn.close_code = closed.rcvd.code if closed.rcvd else None
                if conn.close_code == 4403:
                    self.forbidden = True
                if conn.close_code not in EXPECTED_CLOSE_CODES:
                    self.errors.append(f"{base}: closed with {conn.close_code}")
                raise ConnectionResetError(f"closed {conn.close_code}") from closed
            finally:
                self._notify()

    def _handle(self, conn: Connection, frame: dict[str, Any]) -> bool:
        kind = frame.get("type")
        if kind == "event":
            seq = frame["seq"]
            conn.seqs.append(seq)
            if conn.ready_at is None:
                conn.replayed.append(seq)
            if seq <= self.last_seq:
                self.duplicates += 1
                return True
            if seq > self.last_seq + 1:
                self.gaps.append((self.last_seq, seq))
                return False
            self.applied.append(frame)
            self.last_seq = seq
            if frame["event"] == "field.updated":
                data = frame["data"]
                self.field_versions[data["key"]] = data["version"]
            self._notify()
        elif kind == "ready":
            conn.ready_at = time.monotonic()
            conn.ready_seq = frame["seq"]
            self._notify()
        elif kind == "presence":
            self.presence.append({member["id"] for member in frame["members"]})
            self._notify()
        elif kind == "resync":
            conn.resyncs.append(frame["seq"])
            self.errors.append(f"resync to {frame['seq']} after {self.last_seq}")
        elif kind == "error":
            self.errors.append(f"error frame: {frame}")
        return True


def assert_stream_complete(sock: LiveSocket, db_events: list[dict[str, Any]]) -> None:
    """The socket applied exactly the database's event log, in order, and every connection
    sent a strictly increasing run of seqs starting right after its hello."""
    assert not sock.errors, f"{sock.name}: {sock.errors[:5]}"
    assert [e["seq"] for e in sock.applied] == list(range(1, len(sock.applied) + 1)), sock.name
    assert [e["seq"] for e in sock.applied] == [e["seq"] for e in db_events], (
        f"{sock.name} applied up to {sock.last_seq}, the log has {len(db_events)}"
    )
    for got, want in zip(sock.applied, db_events, strict=True):
        assert (got["event"], got["data"], got["actor"]) == (
            want["event"],
            want["data"],
            want["actor"],
        ), f"{sock.name}: event {want['seq']} differs from the log"
    for conn in sock.connections:
        assert conn.seqs == sorted(set(conn.seqs)), (
            f"{sock.name}: one connection to {conn.url} repeated or reordered seqs: {conn.seqs}"
        )
        if conn.seqs:
            assert conn.seqs[0] > conn.hello, (sock.name, conn.hello, conn.seqs[:3])


# --- writers: clients that post edit after edit and survive a lost server -------------------


@dataclass
class Post:
    path: str
    fields: dict[str, str]

    @property
    def op(self) -> str:
        return self.fields["op"]


@dataclass
class Writer:
    name: str
    browser: Browser
    make_post: Callable[[int, int], Post]  # (number, base version) -> Post
    acked: list[Post] = field(default_factory=list)
    pending: Post | None = None
    resent: list[Post] = field(default_factory=list)
    in_flight: bool = False
    version: int = 0
    failure: str | None = None


def text_writer(conversation_id: str, key: str, label: str):
    def make(number: int, version: int) -> Post:
        return Post(
            f"/g/{conversation_id}/veld/{key}/",
            {"text": f"{label} {number:03d}", "version": str(version), "op": new_op(label)},
        )

    return make


def card_writer(conversation_id: str, column: str, row: str):
    def make(number: int, _version: int) -> Post:
        return Post(
            f"/g/{conversation_id}/kolom/{column}/kaart/",
            {"text": f"kaart {number:03d}", "row": row, "op": new_op("kaart")},
        )

    return make


def run_writer(
    writer: Writer,
    back: threading.Event,
    stop: threading.Event,
    after: int,
    failover_url: str | None = None,
) -> None:
    """Post edit after edit until one goes unanswered; keep that one (as live.js keeps an
    unsent form), wait for `back`, resend it with its original operation id (to
    `failover_url`, if given: another server), then post `after` more edits."""
    try:
        number = 0
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            post = writer.make_post(number, writer.version)
            writer.in_flight = True
            try:
                response = writer.browser.post(post.path, post.fields)
            except SendFailed:
                writer.pending = post
                break
            finally:
                writer.in_flight = False
            assert response.status == 303, f"{response.status}: {response.body[:1000]}"
            writer.acked.append(post)
            writer.version += 1
            number += 1
        else:
            return
        # Offline: wait for the server, then resend the very same post (same op id).
        assert back.wait(60), "the server did not come back"
        if failover_url:
            writer.browser.base_url = failover_url
        for _attempt in range(50):
            try:
                response = writer.browser.post(writer.pending.path, writer.pending.fields)
                break
            except SendFailed:
                time.sleep(0.1)
        else:
            raise AssertionError("the resend never got an answer")
        assert response.status == 303, f"resend: {response.status}: {response.body[:1000]}"
        writer.resent.append(writer.pending)
        writer.version += 1
        for extra in range(after):
            post = writer.make_post(number + 1 + extra, writer.version)
            response = writer.browser.post(post.path, post.fields)
            assert response.status == 303, f"{response.status}: {response.body[:1000]}"
            writer.acked.append(post)
            writer.version += 1
    except BaseException as error:
        writer.failure = repr(error)


# --- a switchable TCP proxy: a Redis that can be made to vanish ------------------------------


class Proxy:
    """Forwards 127.0.0.1:<port> to a target; `cut()` drops every connection and refuses new
    ones (the service is gone), `restore()` brings it back. Loopback only, bounded threads."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.listener.listen(64)
        self.listener.settimeout(0.2)
        self.up = threading.Event()
        self.up.set()
        self.closed = threading.Event()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True, name="proxy").start()

    def url(self, path: str = "/0") -> str:
        return f"redis://127.0.0.1:{self.port}{path}"

    def cut(self) -> None:
        self.up.clear()
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._conns.clear()

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.closed.set()
        self.cut()
        self.listener.close()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            if not self.up.is_set():
                client.close()  # refused, as a dead service would
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for conn in (source, sink):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
