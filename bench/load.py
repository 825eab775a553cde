"""The load client: one asyncio process that opens R rooms × N sockets, edits, and times.

Started by bench/run.py with a JSON plan (see `run.py: plan_for`); writes a JSON result.

For the app ("kind": "app") each receiver is a participant's socket on /ws/g/<id>/ with its own
session cookie and the site's Origin; it sends `hello` and waits for `ready`. The sender of a
room is the facilitator making a real edit, as the page does it: a `save` frame on the
facilitator's own socket (the field, the text, the version it is based on, an operation id),
or with "write": "http" an HTTP POST of the form (CSRF token, session, the same fields). The
time measured runs from just before the save is sent, through the database commit, to the
`event` frame arriving on every screen. Each socket (or keep-alive connection) of a sender
saves its own field, one save after the other, so it always knows the version and saves never
conflict.

For the baseline ("kind": "baseline") the sender is one more socket in the room that sends a
frame of the same shape and size; the bare server relays it to the other sockets.

Every edit's text carries a marker `#<tag>:<k>#`, so a receiver knows which edit a frame is
without decoding JSON, and at the end we count, per receiver, every acknowledged edit it never
saw: LOST. A receiver whose socket closes, or that sees a gap in sequence numbers, reconnects
and sends `hello` with the last sequence number it has, like the browser does (at most
MAX_RECONNECTS times); edits it gets from that replay count as delivered, late.

Protocol with the parent on stdout/stdin: prints "CONNECTED <n>" when every socket is ready,
then waits for a line "GO" before the first edit (the parent measures memory in between), and
prints "DRAINED" when every screen has every edit (or the drain gave up), before it closes its
sockets (the parent reads the servers' CPU time there).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import resource
import string
import sys
import time
import urllib.parse
from array import array
from dataclasses import dataclass, field

import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

perf = time.perf_counter
MAX_RECONNECTS = 5
EVENT_PREFIX = '{"type":"event","seq":'
FILLER = (
    "Publiceren we het tegenvallende evaluatierapport nu, of wachten we tot de beleidsbrief "
    "over drie maanden? De partners verwachten de uitkomsten als eersten te horen."
)


@dataclass
class Receiver:
    room: Room
    index: int
    port: int
    cookie: str = ""
    # Arrival time of each edit k on this screen; 0.0 = not (yet) seen.
    seen: array = field(default_factory=lambda: array("d"))
    count: int = 0
    duplicates: int = 0
    gaps: int = 0
    reconnects: int = 0
    last_seq: int = 0
    ws: ClientConnection | None = None
    task: asyncio.Task | None = None
    failed: str = ""


@dataclass
class Room:
    index: int
    id: str
    last_seq: int
    sender_port: int
    n_edits: int
    t0: list[float] = field(default_factory=list)
    t_ack: list[float] = field(default_factory=list)
    acked: bytearray = field(default_factory=bytearray)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    post_ms: list[float] = field(default_factory=list)
    receivers: list[Receiver] = field(default_factory=list)
    # The newest version of each text field: from our own acknowledged saves and from the
    # frames the room's first socket receives (after a failed save the version is unknown).
    versions: dict[str, int] = field(default_factory=dict)
    sent: int = 0
    first_send: float = 0.0
    last_send: float = 0.0

    def sending(self, k: int) -> float:
        """Edit k leaves now: its clock starts."""
        now = perf()
        self.t0[k] = now
        if not self.first_send:
            self.first_send = now
        self.last_send = now
        self.sent += 1
        return now

    def acknowledged(self, k: int, sent_at: float, key: str, version: int) -> None:
        self.acked[k] = 1
        self.t_ack[k] = perf()
        self.post_ms.append((self.t_ack[k] - sent_at) * 1000)
        self.versions[key] = max(self.versions.get(key, 0), version)

    def failed(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1


class Bench:
    def __init__(self, plan: dict) -> None:
        self.plan = plan
        self.kind = plan["kind"]
        self.tag = "".join(random.choices(string.ascii_lowercase, k=6))
        self.needle = f"#{self.tag}:"
        self.rate = float(plan["rate_per_room"])
        self.duration = float(plan["duration"])
        n_edits = max(1, int(self.duration * self.rate))
        self.latencies: list[float] = []
        # Scale-out: frames on a socket of the writer's own process, and on the other's.
        self.latencies_by_process: dict[str, list[float]] = {"writer's": [], "other": []}
        self.close_reasons: dict[str, int] = {}
        self.finished = False
        self.rooms: list[Room] = []
        for i, spec in enumerate(plan["rooms"]):
            room = Room(i, spec["id"], spec.get("last_seq", 0), spec["sender_port"], n_edits)
            room.versions = dict(spec.get("versions") or {})
            room.t0 = [0.0] * n_edits
            room.t_ack = [0.0] * n_edits
            room.acked = bytearray(n_edits)
            for j, rspec in enumerate(spec["receivers"]):
                receiver = Receiver(room, j, rspec["port"], rspec.get("cookie", ""))
                receiver.seen = array("d", bytes(8 * n_edits))
                room.receivers.append(receiver)
            self.rooms.append(room)

    # --- receivers ---------------------------------------------------------------------

    def ws_url(self, receiver: Receiver) -> str:
        room = receiver.room
        if self.kind == "app":
            return f"ws://127.0.0.1:{receiver.port}/ws/g/{room.id}/"
        return f"ws://127.0.0.1:{receiver.port}/r/{room.id}/"

    async def open(self, receiver: Receiver) -> None:
        headers = []
        if receiver.cookie:
            headers.append(("Cookie", receiver.cookie))
        ws = await connect(
            self.ws_url(receiver),
            origin=f"http://127.0.0.1:{receiver.port}" if self.kind == "app" else None,
            additional_headers=headers,
            compression=None,
            open_timeout=60,
            ping_interval=None,
            close_timeout=2,
            max_queue=1024,
        )
        if self.kind == "app":
            await ws.send(json.dumps({"type": "hello", "last_seq": receiver.last_seq}))
            while True:
                frame = await asyncio.wait_for(ws.recv(), 60)
                if frame.startswith('{"type":"ready"'):
                    receiver.last_seq = json.loads(frame)["seq"]
                    break
                if frame.startswith('{"type":"resync"'):
                    receiver.last_seq = json.loads(frame)["seq"]
                    continue
                self.on_frame(receiver, frame, perf())
        receiver.ws = ws

    def on_frame(self, receiver: Receiver, frame: str, now: float) -> bool:
        """Record one frame; False when the receiver must reconnect (a gap)."""
        if self.kind == "app":
            if not frame.startswith(EVENT_PREFIX):
                return True
            seq = int(frame[len(EVENT_PREFIX) : frame.index(",", len(EVENT_PREFIX))])
            if seq <= receiver.last_seq:
                receiver.duplicates += 1
                return True
            if seq > receiver.last_seq + 1:
                receiver.gaps += 1
                return False
            receiver.last_seq = seq
            if receiver.index == 0:
                data = json.loads(frame)["data"]
                if "key" in data and "version" in data:
                    versions = receiver.room.versions
                    versions[data["key"]] = max(versions.get(data["key"], 0), data["version"])
        i = frame.find(self.needle)
        if i < 0:
            return True
        start = i + len(self.needle)
        k = int(frame[start : frame.index("#", start)])
        room = receiver.room
        if receiver.seen[k]:
            receiver.duplicates += 1
            return True
        receiver.seen[k] = now
        receiver.count += 1
        self.latencies.append(now - room.t0[k])
        side = "writer's" if receiver.port == room.sender_port else "other"
        self.latencies_by_process[side].append(now - room.t0[k])
        return True

    async def receive(self, receiver: Receiver) -> None:
        while True:
            ws = receiver.ws
            gap = False
            try:
                async for frame in ws:
                    if not self.on_frame(receiver, frame, perf()):
                        gap = True  # reconnect and replay, as the browser does
                        break
            except ConnectionClosed:
                pass
            if self.finished:
                return
            reason = "gap" if gap else f"closed by server ({ws.close_code})"
            self.close_reasons[reason] = self.close_reasons.get(reason, 0) + 1
            await ws.close()
            # Reconnect like the page does, with a growing pause between failed attempts;
            # every attempt counts against MAX_RECONNECTS, so this loop is bounded.
            while True:
                if receiver.reconnects >= MAX_RECONNECTS:
                    receiver.failed = receiver.failed or "too many reconnects"
                    return
                receiver.reconnects += 1
                try:
                    await self.open(receiver)
                    receiver.failed = ""
                    break
                except Exception as error:  # noqa: BLE001 - counted and reported
                    receiver.failed = f"reconnect failed: {type(error).__name__}"
                    await asyncio.sleep(0.5 * 2 ** (receiver.reconnects - 1))
                    if self.finished:
                        return

    # --- senders -------------------------------------------------------------------------

    def text(self, room: Room, k: int) -> str:
        return f"{FILLER} {self.needle}{k}# r{room.index}"

    async def send_baseline(self, room: Room, start: float, deadline: float) -> None:
        ws = await connect(
            f"ws://127.0.0.1:{room.sender_port}/r/{room.id}/",
            compression=None,
            ping_interval=None,
            open_timeout=30,
        )
        try:
            for k in range(room.n_edits):
                delay = start + k / self.rate - perf()
                if delay > 0:
                    await asyncio.sleep(delay)
                if perf() > deadline:
                    break
                # The same shape and size as the app's event frame.
                frame = json.dumps(
                    {
                        "type": "event",
                        "seq": k + 1,
                        "event": "field.updated",
                        "data": {
                            "key": "dilemma",
                            "text": self.text(room, k),
                            "version": k + 1,
                            "confirmed": False,
                        },
                        "actor": "AbCdEfGhIjKl",
                    },
                    separators=(",", ":"),
                )
                room.sending(k)
                await ws.send(frame)
                room.acked[k] = 1
        finally:
            await ws.close()

    async def send_app(self, room: Room, start: float, deadline: float) -> None:
        plan = self.plan
        fields = plan["fields"]
        # Each connection saves one text field, one save after the other: so every save names
        # the version it is based on, as the page's form does, and never conflicts.
        max_conns = max(1, min(int(plan.get("http_connections", 4)), len(fields)))
        pool: asyncio.Queue[HttpConnection] = asyncio.Queue()
        conns: list[HttpConnection] = []
        tasks: list[asyncio.Task] = []
        cookie = (
            f"{plan['session_cookie']}={plan['facilitator_session']}; "
            f"{plan['csrf_cookie']}={plan['csrf']}"
        )
        host = f"127.0.0.1:{room.sender_port}"

        async def post(conn: HttpConnection, k: int) -> None:
            key = conn.field
            version = room.versions.get(key, 0)
            body = urllib.parse.urlencode(
                {
                    "text": self.text(room, k),
                    "version": version,
                    "op": f"{self.tag}-{room.index}-{k}",
                }
            ).encode()
            request = (
                f"POST /g/{room.id}/veld/{key}/ HTTP/1.1\r\nHost: {host}\r\n"
                f"Origin: http://{host}\r\nCookie: {cookie}\r\nX-CSRFToken: {plan['csrf']}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            try:
                sent_at = room.sending(k)
                status = await asyncio.wait_for(conn.request(request), 30)
                if status == 303:
                    room.acknowledged(k, sent_at, key, version + 1)
                else:
                    room.failed(str(status))
            except Exception as error:  # noqa: BLE001 - counted and reported
                room.failed(type(error).__name__)
                conn.close()
            finally:
                pool.put_nowait(conn)

        try:
            for k in range(room.n_edits):
                delay = start + k / self.rate - perf()
                if delay > 0:
                    await asyncio.sleep(delay)
                if pool.empty() and len(conns) < max_conns:
                    conn = HttpConnection("127.0.0.1", room.sender_port, fields[len(conns)])
                    conns.append(conn)
                    pool.put_nowait(conn)
                # All connections busy: the server is saturated; the edit waits (and the
                # achieved rate in the result falls below the asked one).
                conn = await asyncio.wait_for(pool.get(), max(0.1, deadline - perf()))
                if perf() > deadline:
                    pool.put_nowait(conn)
                    break
                tasks.append(asyncio.create_task(post(conn, k)))
        except TimeoutError:
            pass
        if tasks:
            await asyncio.wait(tasks, timeout=35)
        for conn in conns:
            conn.close()

    async def open_app_writer(self, room: Room, key: str) -> ClientConnection:
        """The facilitator's socket, as a page opens it: connected, `hello`, replayed."""
        ws = await connect(
            f"ws://127.0.0.1:{room.sender_port}/ws/g/{room.id}/",
            origin=f"http://127.0.0.1:{room.sender_port}",
            additional_headers=[("Cookie", f"{self.plan['session_cookie']}="
                                           f"{self.plan['facilitator_session']}")],
            compression=None, open_timeout=30, ping_interval=None, close_timeout=2,
            max_queue=None,
        )
        await ws.send(json.dumps({"type": "hello", "last_seq": 2**52}))
        while not (await asyncio.wait_for(ws.recv(), 30)).startswith('{"type":"re'):
            pass  # presence until "resync" (our cursor is ahead of everything on purpose)
        return ws

    async def send_app_socket(
        self, room: Room, start: float, deadline: float, first: ClientConnection
    ) -> None:
        """The facilitator's page saving texts as live.js does: `save` frames on its socket.

        One socket per text field, like one HTTP connection per field above: a field's next
        save waits for the answer to its last one, so it names the version it is based on.
        `first` was opened before the clock started, as a page's socket is open before anyone
        types; more open only when the server falls behind (saturation).
        """
        plan = self.plan
        fields = plan["fields"]
        max_socks = max(1, min(int(plan.get("http_connections", 4)), len(fields)))
        pool: asyncio.Queue[tuple[ClientConnection, str]] = asyncio.Queue()
        writers: list[ClientConnection] = []
        readers: list[asyncio.Task] = []
        answers: dict[str, asyncio.Future] = {}
        tasks: list[asyncio.Task] = []

        async def read(ws: ClientConnection) -> None:
            # The writer's own page gets every event too; only the answers matter here.
            try:
                async for frame in ws:
                    if not frame.startswith(('{"type":"saved"', '{"type":"rej', '{"type":"not_')):
                        continue
                    answer = json.loads(frame)
                    future = answers.pop(answer["op"], None)
                    if future is not None and not future.done():
                        future.set_result(answer)
            except ConnectionClosed:
                pass
            for future in answers.values():
                if not future.done():
                    future.set_exception(ConnectionError("writer socket closed"))

        def add_writer(ws: ClientConnection, key: str) -> None:
            writers.append(ws)
            readers.append(asyncio.create_task(read(ws)))
            pool.put_nowait((ws, key))

        async def open_writer(key: str) -> None:
            add_writer(await self.open_app_writer(room, key), key)

        async def save(ws: ClientConnection, key: str, k: int) -> None:
            version = room.versions.get(key, 0)
            op = f"{self.tag}-{room.index}-{k}"
            future = asyncio.get_running_loop().create_future()
            answers[op] = future
            frame = json.dumps(
                {"type": "save", "op": op, "field": key, "text": self.text(room, k),
                 "version": version}
            )
            try:
                sent_at = room.sending(k)
                await ws.send(frame)
                answer = await asyncio.wait_for(future, 30)
                if answer["type"] == "saved":
                    room.acknowledged(k, sent_at, key, answer["version"])
                else:
                    room.failed(answer["type"])
            except Exception as error:  # noqa: BLE001 - counted and reported
                answers.pop(op, None)
                room.failed(type(error).__name__)
            finally:
                pool.put_nowait((ws, key))

        add_writer(first, fields[0])
        try:
            for k in range(room.n_edits):
                delay = start + k / self.rate - perf()
                if delay > 0:
                    await asyncio.sleep(delay)
                if pool.empty() and len(writers) < max_socks:
                    await open_writer(fields[len(writers)])
                # Every writer waits for an answer: the server is saturated; the edit waits.
                ws, key = await asyncio.wait_for(pool.get(), max(0.1, deadline - perf()))
                if perf() > deadline:
                    pool.put_nowait((ws, key))
                    break
                tasks.append(asyncio.create_task(save(ws, key, k)))
        except TimeoutError:
            pass
        if tasks:
            await asyncio.wait(tasks, timeout=35)
        for task in readers:
            task.cancel()
        for ws in writers:
            await ws.close()

    # --- the run -------------------------------------------------------------------------

    async def run(self) -> dict:
        receivers = [r for room in self.rooms for r in room.receivers]
        semaphore = asyncio.Semaphore(int(self.plan.get("connect_concurrency", 50)))
        connect_errors: dict[str, int] = {}

        async def open_one(receiver: Receiver) -> None:
            receiver.last_seq = receiver.room.last_seq
            async with semaphore:
                try:
                    await self.open(receiver)
                except Exception as error:  # noqa: BLE001 - counted and reported
                    name = type(error).__name__
                    connect_errors[name] = connect_errors.get(name, 0) + 1
                    receiver.failed = f"connect: {name}"

        t = perf()
        await asyncio.wait_for(
            asyncio.gather(*(open_one(r) for r in receivers)), self.plan.get("connect_timeout", 180)
        )
        connect_seconds = perf() - t
        connected = sum(1 for r in receivers if r.ws is not None)
        for receiver in receivers:
            if receiver.ws is not None:
                receiver.task = asyncio.create_task(self.receive(receiver))

        if self.plan.get("wait_go"):
            print(f"CONNECTED {connected}", flush=True)
            line = await asyncio.wait_for(
                asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline), 120
            )
            if line.strip() != "GO":
                raise SystemExit("no GO from the parent")

        first_writers: list[ClientConnection] = []
        if self.kind == "app" and self.plan.get("write") != "http":
            # Before the clock: a connecting socket's own work (its member check, replay and
            # presence notice to the room) is not part of any edit, as the bare server's
            # senders connect before their first frame too.
            first_writers = await asyncio.gather(
                *(self.open_app_writer(room, self.plan["fields"][0]) for room in self.rooms)
            )
            await asyncio.sleep(0.5)  # the presence notices reach the rooms

        # The clock's own process must not pause: a full collection over 1,000 connections'
        # objects stopped this client for tens of milliseconds at the same edit of every run,
        # and every frame that arrived meanwhile was timed late. What the edits leave behind
        # is freed by reference counting; the collector runs again after the drain.
        gc.collect()
        gc.freeze()
        gc.disable()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu_start, wall_start = usage.ru_utime + usage.ru_stime, perf()
        # Room starts are spread over one edit interval, so rooms do not all edit at once.
        base = perf() + 0.5
        deadline = base + self.duration + 5.0
        senders = []
        for room in self.rooms:
            start = base + (room.index / len(self.rooms)) / self.rate
            if self.kind == "app" and self.plan.get("write") == "http":
                senders.append(self.send_app(room, start, deadline))
            elif self.kind == "app":
                senders.append(
                    self.send_app_socket(room, start, deadline, first_writers[room.index])
                )
            else:
                senders.append(self.send_baseline(room, start, deadline))
        results = await asyncio.wait_for(
            asyncio.gather(*senders, return_exceptions=True), self.duration + 60
        )
        sender_errors = [repr(r) for r in results if isinstance(r, BaseException)]
        send_end = perf()

        # Drain: until every live receiver has every acknowledged edit, or the drain time ends.
        drain_limit = float(self.plan.get("drain", 10))
        acked = {room.index: [k for k, a in enumerate(room.acked) if a] for room in self.rooms}
        waiting = [r for r in receivers if r.ws is not None]
        while waiting and perf() - send_end < drain_limit:
            waiting = [
                r
                for r in waiting
                if not r.failed
                and not (
                    r.count >= len(acked[r.room.index])
                    and all(r.seen[k] for k in acked[r.room.index])
                )
            ]
            await asyncio.sleep(0.05)
        drain_seconds = perf() - send_end
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.client_cpu_share = (usage.ru_utime + usage.ru_stime - cpu_start) / (
            perf() - wall_start
        )
        self.finished = True
        # The parent reads the servers' CPU time now: closing a thousand sockets is not
        # part of what the edits cost.
        print("DRAINED", flush=True)
        gc.enable()
        for receiver in receivers:
            if receiver.task is not None:
                receiver.task.cancel()
        await asyncio.wait(
            [asyncio.create_task(r.ws.close()) for r in receivers if r.ws is not None]
            or [asyncio.create_task(asyncio.sleep(0))],
            timeout=15,
        )
        return self.summary(
            connected, connect_errors, connect_seconds, drain_seconds, sender_errors
        )

    def summary(
        self,
        connected: int,
        connect_errors: dict,
        connect_seconds: float,
        drain_seconds: float,
        sender_errors: list[str],
    ) -> dict:
        receivers = [r for room in self.rooms for r in room.receivers]
        acked = sum(sum(room.acked) for room in self.rooms)
        sent = sum(room.sent for room in self.rooms)
        expected = 0
        lost = 0
        for receiver in receivers:
            room_acked = receiver.room.acked
            expected += sum(room_acked)
            lost += sum(1 for k, a in enumerate(room_acked) if a and not receiver.seen[k])
        # Per edit: the time until the last screen of its room had it ("edit to every screen"),
        # and (app only) how long after the POST's answer that was: negative = before it.
        every_screen = []
        after_ack = []
        # (ms, seconds after the first edit, room, edit): which edits make the tail.
        edits: list[tuple[float, float, int, int]] = []
        firsts = [room.first_send for room in self.rooms if room.first_send]
        origin = min(firsts) if firsts else 0.0
        for room in self.rooms:
            live = [r for r in room.receivers if r.ws is not None]
            for k in range(room.n_edits):
                if room.acked[k] and live and all(r.seen[k] for r in live):
                    last = max(r.seen[k] for r in live)
                    every_screen.append(last - room.t0[k])
                    edits.append(
                        ((last - room.t0[k]) * 1000, room.t0[k] - origin, room.index, k)
                    )
                    if room.t_ack[k]:
                        after_ack.append(last - room.t_ack[k])
        lasts = [room.last_send for room in self.rooms if room.last_send]
        span = (max(lasts) - min(firsts)) if firsts and len(lasts) else 0.0
        post_ms = sorted(ms for room in self.rooms for ms in room.post_ms)
        errors: dict[str, int] = {}
        for room in self.rooms:
            for kind, n in room.error_kinds.items():
                errors[kind] = errors.get(kind, 0) + n
        return {
            "tag": self.tag,
            "sockets": len(receivers),
            "connected": connected,
            "connect_errors": connect_errors,
            "connect_seconds": round(connect_seconds, 2),
            "rooms": len(self.rooms),
            "rate_per_room": self.rate,
            "edits_planned": sum(room.n_edits for room in self.rooms),
            "edits_sent": sent,
            "edits_acked": acked,
            "edit_errors": errors,
            "sender_errors": sender_errors,
            "achieved_edits_per_s": round(acked / span, 1) if span > 0 else None,
            "frames_expected": expected,
            "frames_received": sum(r.count for r in receivers),
            "lost": lost,
            "duplicates": sum(r.duplicates for r in receivers),
            "gaps": sum(r.gaps for r in receivers),
            "reconnects": sum(r.reconnects for r in receivers),
            "receivers_failed": sum(1 for r in receivers if r.failed),
            "failed_reasons": count(r.failed for r in receivers if r.failed),
            "close_reasons": self.close_reasons,
            "drain_seconds": round(drain_seconds, 2),
            # The client's CPU while editing, as a share of one core: near 1.0, the client
            # itself is the bottleneck and the figures say more about it than the server.
            "client_cpu_share": round(self.client_cpu_share, 2),
            "latency_ms": stats(self.latencies),
            # Only where a room's sockets are on both processes (one side has them all else).
            "latency_by_process_ms": {
                side: stats(samples)
                for side, samples in self.latencies_by_process.items()
                if samples and len(samples) < len(self.latencies)
            },
            "post_ms": stats([ms / 1000 for ms in post_ms]) if post_ms else None,
            "every_screen_ms": stats(every_screen),
            "every_screen_after_ack_ms": stats(after_ack) if after_ack else None,
            "slowest_edits": [
                {"ms": round(ms, 2), "at_s": round(at, 3), "room": index, "edit": k}
                for ms, at, index, k in sorted(edits, reverse=True)[:20]
            ],
            # The newest sequence number each room's screens have: the next run's `hello`.
            "room_versions": {room.id: room.versions for room in self.rooms},
            "room_seq": {
                room.id: max([room.last_seq] + [r.last_seq for r in room.receivers])
                for room in self.rooms
            },
        }


def count(items) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def stats(samples: list[float]) -> dict | None:
    if not samples:
        return None
    ordered = sorted(samples)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000, 3)

    return {
        "n": len(ordered),
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
        "max": round(ordered[-1] * 1000, 3),
        "mean": round(sum(ordered) / len(ordered) * 1000, 3),
    }


class HttpConnection:
    """A minimal keep-alive HTTP/1.1 client: enough for a form POST and its 303 answer."""

    def __init__(self, host: str, port: int, field: str = "") -> None:
        self.host = host
        self.port = port
        self.field = field  # the text field this connection saves
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, data: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await self.reader.readline()).split(b";")[0].strip(), 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan", help="JSON plan file")
    parser.add_argument("out", help="JSON result file")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    with open(args.plan) as handle:
        plan = json.load(handle)
    bench = Bench(plan)
    result = uvloop.run(bench.run())
    with open(args.out, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
