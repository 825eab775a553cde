"""The load test's client: every participant is a screen (a socket) and an editor.

Started by bench/loadtest.py with a JSON plan; writes a JSON result. One asyncio process
(uvloop, `websockets`), so its own cost stays small and is measured (`client_cpu_seconds`).

What it does, per conversation ("room"):

- **Screens.** Every participant opens /ws/g/<id>/ with their own invite-link session cookie
  and the site's Origin, sends `hello` with the room's last sequence number and waits for
  `ready`. The screens of all rooms alternate between the two workers. A screen that sees a
  gap in sequence numbers, or is closed, or cannot connect, tries again and replays like
  live.js (250 ms × 2^attempt, at most 4 s apart, for as long as the run lasts); what it gets
  by replay counts as delivered, late. Every close by the server and every failed connect
  is an error.
- **Edits.** Every participant edits their own card (made by bench/loadtest_setup.py) as
  live.js does: a `save_card` frame on their own socket (the card, the text, an operation id),
  answered `saved`; while their socket is down, or with "write": "http", the page's form POST
  /g/<id>/kaart/<card>/ with the session cookie, the CSRF cookie and token, and an operation
  id, over keep-alive HTTP connections to the workers in turn. The text carries a marker
  `#<tag>:<edit>#`, so a screen knows which edit a frame is without decoding it. One
  participant has at most one save in flight, as a person does: when a save takes longer
  than the interval, the next one waits for it.
- **Step changes.** The room's facilitator (a signed-in account) changes the step with the
  real POST /g/<id>/stap/, steps 1 → 2 → … → 5 → 1. Its frame carries no text; a screen
  matches the n-th `conversation.step` frame to the room's n-th step change by its step
  number (a change whose POST failed and never committed is skipped).

The clock of an edit starts just before its POST is written and stops when the last screen
of its room has the frame: "edit to every screen". An acknowledged edit that a screen still
lacks after the final drain is LOST.

Phases (from the plan, in order): `rest` (all sockets open, a light probe: `rate` edits per
second over all rooms, participants in turn, no step changes), `ramp` steps (the issue's load
× `multiplier`), then `load` (the issue's load: every participant edits every `edit_interval`
seconds from a random phase, every facilitator changes the step every `step_interval`
seconds). After each phase the client waits up to `pause` seconds for the phase's frames,
and before the load phase `recover` seconds more, so it starts on servers that are no longer
busy with the last ramp step. The load phase comes last because it may be more than the
machine holds: its backlog would spoil whatever was measured after it.
A ramp step is HELD when none of its edits failed, no socket was closed by the server, every
edit reached every screen, and its p99 stayed within `threshold` × the rest phase's p99; the
ramp stops at the first step that is not held (the load phase still runs).

With `refetch` the screens also do what live.js does after every event: a card's new text is
put in place from the event itself, and so is a step change on a participant's screen (the
"current" marks and the timer move; no fetch: the page has it when the frame arrives); any
other event fetches the page (`GET /g/<id>/` with `X-DG-Live: 1`), one fetch at a time,
events that arrive meanwhile joining the next fetch; and an editor whose save was a form post
follows its 303 with a GET of the card's step, as htmx does (a save over the socket needs
nothing more). "Edit to every page" is then measured too, and a step is
held on that instead of on the frame.

Protocol with the parent on stdout/stdin: prints "CONNECTED <n>" when the screens are ready,
waits for a line "GO", then prints one progress line per phase (and per minute of a long one).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
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
from load import HttpConnection
from loadtest_report import percentiles
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

perf = time.perf_counter
POST_TIMEOUT = 30.0
# uvicorn closes an idle keep-alive connection after 5 s: reuse one only well before that, so
# a save never races the server's close (which would be our error, not the server's).
REUSE_SECONDS = 2.0
EVENT_PREFIX = '{"type":"event","seq":'
STEP_EVENT = '"event":"conversation.step"'
CARD = 0
STEP = 1
# The status of an acknowledged save: a form post's redirect, or the socket's `saved`.
ACKED = "303"
ANSWERS = ('{"type":"saved"', '{"type":"rejected"', '{"type":"not_saved"')
TEXT = "Wat weegt zwaarder voor deze partij: snelheid of zorgvuldigheid?"


@dataclass(slots=True)
class Edit:
    id: int
    room: int
    kind: int  # CARD or STEP
    phase: int
    n_screens: int
    t0: float = 0.0
    t_ack: float = 0.0
    status: str = ""  # ACKED when acknowledged; otherwise the status or the exception
    step: int = 0  # the step a step change goes to
    region: str = ""  # (refetch) the live region a card edit touches: its step
    seen: bytearray = field(default_factory=bytearray)
    n_seen: int = 0
    last: float = 0.0  # the latest arrival on a screen so far
    pages: int = 0  # (refetch) screens whose page has it
    page_last: float = 0.0

    def __post_init__(self) -> None:
        self.seen = bytearray(self.n_screens)


@dataclass
class Screen:
    room: Room
    index: int
    port: int
    cookie: str
    last_seq: int = 0
    ws: ClientConnection | None = None
    task: asyncio.Task | None = None
    reconnects: int = 0
    attempt: int = 0  # failed connects in a row (live.js's backoff)
    step_cursor: int = 0  # the next of the room's step changes this screen expects
    # refetch: edits whose frame came since the last page fetch started, and the regions
    # the next fetch asks for (or the whole page)
    page_pending: list[int] = field(default_factory=list)
    wanted: set[str] = field(default_factory=set)
    wanted_all: bool = False
    refreshing: asyncio.Task | None = None
    again: bool = False


@dataclass
class Room:
    index: int
    id: str
    last_seq: int
    current_step: int
    steps: list[int]
    participants: list[dict]
    screens: list[Screen] = field(default_factory=list)
    step_edits: list[Edit] = field(default_factory=list)


class Pool:
    """Keep-alive HTTP connections to one worker, shared by every participant (cookies travel
    per request). A connection idle for REUSE_SECONDS is closed rather than reused."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: collections.deque[tuple[float, HttpConnection]] = collections.deque()

    def get(self) -> HttpConnection:
        now = perf()
        while self.idle:
            released, conn = self.idle.pop()
            if now - released < REUSE_SECONDS:
                return conn
            conn.close()
        return HttpConnection("127.0.0.1", self.port)

    def put(self, conn: HttpConnection) -> None:
        if conn.writer is None:
            return
        now = perf()
        while self.idle and now - self.idle[0][0] >= REUSE_SECONDS:
            self.idle.popleft()[1].close()
        self.idle.append((now, conn))


class LoadTest:
    def __init__(self, plan: dict) -> None:
        self.plan = plan
        self.tag = "".join(random.choices(string.ascii_lowercase, k=6))
        self.needle = f"#{self.tag}:"
        self.rng = random.Random(plan.get("seed", 1))
        self.ports: list[int] = plan["ports"]
        self.pools = {port: Pool(port) for port in self.ports}
        self.csrf = plan["csrf"]
        self.csrf_cookie = f"{plan['csrf_cookie']}={self.csrf}"
        self.facilitator_cookie = (
            f"{plan['session_cookie']}={plan['facilitator_session']}; {self.csrf_cookie}"
        )
        self.refetch = bool(plan.get("refetch"))
        self.socket_writes = plan.get("write", "socket") == "socket"
        self.answers: dict[str, asyncio.Future] = {}  # operation id → the socket's answer
        # With refetch a change is on a screen when the page is, not when the frame is.
        self.metric = "every_page_ms" if self.refetch else "every_screen_ms"
        self.edits: list[Edit] = []
        self.errors: list[list] = []  # [t, phase, kind, detail]
        self.frame_ms: list[array] = [array("d") for _ in plan["phases"]]
        self.gaps = 0
        self.duplicates = 0
        self.unacked_frames = 0  # frames of saves that were not acknowledged (yet committed)
        self.delayed = 0  # saves that waited for the participant's previous one
        self.posts = 0
        self.phase = -1
        self.t_go = 0.0
        self.finished = False
        self.rooms: list[Room] = []
        n = 0
        for r, spec in enumerate(plan["rooms"]):
            room = Room(
                r,
                spec["id"],
                spec["last_seq"],
                spec["current_step"],
                spec["steps"],
                spec["participants"],
            )
            for j, participant in enumerate(spec["participants"]):
                # The screens of all rooms alternate between the workers.
                port = self.ports[n % len(self.ports)]
                n += 1
                cookie = f"{plan['session_cookie']}={participant['session']}"
                room.screens.append(
                    Screen(room, j, port, cookie)
                )
                participant["cookie"] = f"{cookie}; {self.csrf_cookie}"
            self.rooms.append(room)

    def now(self) -> float:
        return perf() - self.t_go

    def error(self, kind: str, detail: str = "") -> None:
        self.errors.append([round(self.now(), 3), self.phase, kind, detail])

    # --- screens -------------------------------------------------------------------------

    async def open(self, screen: Screen) -> None:
        ws = await connect(
            f"ws://127.0.0.1:{screen.port}/ws/g/{screen.room.id}/",
            origin=f"http://127.0.0.1:{screen.port}",
            additional_headers=[("Cookie", screen.cookie)],
            compression=None,
            open_timeout=60,
            ping_interval=None,
            close_timeout=2,
            max_queue=1024,
        )
        try:
            await ws.send(json.dumps({"type": "hello", "last_seq": screen.last_seq}))
            while True:
                frame = await asyncio.wait_for(ws.recv(), 60)
                if frame.startswith('{"type":"ready"'):
                    screen.last_seq = max(screen.last_seq, json.loads(frame)["seq"])
                    break
                self.on_frame(screen, frame, perf())
        except BaseException:
            await ws.close()
            raise
        screen.ws = ws

    def on_frame(self, screen: Screen, frame: str, now: float) -> bool:
        """Record one frame; False when the screen must reconnect (a gap)."""
        if frame.startswith(ANSWERS):
            answer = json.loads(frame)
            future = self.answers.pop(answer["op"], None)
            if future is not None and not future.done():
                future.set_result(answer)
            return True
        if not frame.startswith(EVENT_PREFIX):
            if frame.startswith('{"type":"resync"'):
                # Too far behind: a browser fetches the page; what it skipped shows as lost.
                self.error("socket", "resync")
                screen.last_seq = json.loads(frame)["seq"]
                if self.refetch:
                    screen.wanted_all = True
                    self.schedule_refresh(screen)
            return True
        seq = int(frame[len(EVENT_PREFIX) : frame.index(",", len(EVENT_PREFIX))])
        if seq <= screen.last_seq:
            self.duplicates += 1
            return True
        if seq > screen.last_seq + 1:
            self.gaps += 1
            return False
        screen.last_seq = seq
        edit = None
        i = frame.find(self.needle)
        if i >= 0:
            start = i + len(self.needle)
            edit = self.edits[int(frame[start : frame.index("#", start)])]
        elif STEP_EVENT in frame:
            step = json.loads(frame)["data"]["step"]
            edits = screen.room.step_edits
            # Skip changes whose POST failed without committing: their step never comes.
            for k in range(screen.step_cursor, len(edits)):
                if edits[k].step == step:
                    edit = edits[k]
                    screen.step_cursor = k + 1
                    break
        if edit is not None:
            if edit.seen[screen.index]:
                self.duplicates += 1
            else:
                edit.seen[screen.index] = 1
                edit.n_seen += 1
                edit.last = max(edit.last, now)
                self.frame_ms[edit.phase].append((now - edit.t0) * 1000)
                if edit.status and edit.status != ACKED:
                    self.unacked_frames += 1
                if self.refetch and edit.kind in (CARD, STEP):
                    # live.js puts a card's new text in place from the event, and on a
                    # participant's screen moves the step marks and the timer: no fetch.
                    edit.pages += 1
                    edit.page_last = max(edit.page_last, now)
                elif self.refetch:
                    screen.page_pending.append(edit.id)
        if self.refetch and edit is None:
            # Anything else fetches the whole worksheet.
            screen.wanted_all = True
            self.schedule_refresh(screen)
        return True

    async def receive(self, screen: Screen) -> None:
        """Keep the screen connected for the whole run, as live.js does: after a close or a
        gap it reconnects (250 ms × 2^attempt, at most 4 s, without end) and replays."""
        while not self.finished:
            ws = screen.ws
            if ws is None:
                try:
                    await self.open(screen)
                    screen.attempt = 0
                except Exception as error:  # noqa: BLE001 - counted and reported
                    self.error("socket", f"connect failed: {type(error).__name__}")
                    await self.backoff(screen)
                continue
            gap = False
            try:
                async for frame in ws:
                    if not self.on_frame(screen, frame, perf()):
                        gap = True  # reconnect and replay, as live.js does
                        break
            except ConnectionClosed:
                pass
            if self.finished:
                return
            if not gap:
                self.error("socket", f"closed by server ({ws.close_code})")
            screen.ws = None
            await ws.close()
            if ws.close_code in (4401, 4403):
                return  # no longer a member, or the session ended: live.js stops too
            screen.reconnects += 1
            await self.backoff(screen)

    async def backoff(self, screen: Screen) -> None:
        await asyncio.sleep(min(4.0, 0.25 * 2**screen.attempt))
        screen.attempt += 1

    # --- refetch (what live.js does after an event) ---------------------------------------

    def schedule_refresh(self, screen: Screen) -> None:
        if screen.refreshing is not None:
            screen.again = True
            return
        screen.refreshing = asyncio.create_task(self.refresh(screen))

    async def refresh(self, screen: Screen) -> None:
        await asyncio.sleep(0)  # live.js: events of one burst (a replay) share a fetch
        path = f"/g/{screen.room.id}/"
        while screen.wanted or screen.wanted_all:
            taken, screen.page_pending = screen.page_pending, []
            asked, asked_all = screen.wanted, screen.wanted_all
            screen.wanted, screen.wanted_all, screen.again = set(), False, False
            url = path if asked_all else f"{path}?regions={','.join(sorted(asked))}"
            status = await self.request(screen.port, "GET", url, screen.cookie, live=True)
            now = perf()
            if status == "200":
                for edit_id in taken:
                    edit = self.edits[edit_id]
                    edit.pages += 1
                    edit.page_last = max(edit.page_last, now)
            else:
                # Not refreshed: the next fetch brings it along, as in live.js.
                self.error("page", status)
                screen.page_pending = taken + screen.page_pending
                screen.wanted |= asked
                screen.wanted_all = screen.wanted_all or asked_all
            if not screen.again or self.finished:
                break
        screen.refreshing = None

    # --- HTTP ------------------------------------------------------------------------------

    async def request(
        self,
        port: int,
        method: str,
        path: str,
        cookie: str,
        body: bytes = b"",
        edit: Edit | None = None,
        live: bool = False,
        htmx: bool = False,
    ) -> str:
        """One request; its status, or the name of the exception. `edit.t0` is set just
        before the request is written."""
        host = f"127.0.0.1:{port}"
        head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n"
        if live:
            head += "X-DG-Live: 1\r\n"
        if method == "POST" or htmx:
            head += "HX-Request: true\r\n"  # the page posts its forms with htmx
        if method == "POST":
            head += (
                f"Origin: http://{host}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n"
            )
        data = (head + "\r\n").encode() + body
        pool = self.pools[port]
        conn = pool.get()
        if edit is not None:
            edit.t0 = perf()
        try:
            status = str(await asyncio.wait_for(conn.request(data), POST_TIMEOUT))
        except Exception as error:  # noqa: BLE001 - counted and reported by the caller
            conn.close()
            return type(error).__name__
        pool.put(conn)
        return status

    def post_port(self) -> int:
        # The saves go to the workers in turn, as a proxy in front of them would send them.
        self.posts += 1
        return self.ports[self.posts % len(self.ports)]

    async def edit_card(self, room: Room, j: int, phase: int) -> None:
        participant = room.participants[j]
        edit = Edit(len(self.edits), room.index, CARD, phase, len(room.screens))
        edit.region = participant["region"]
        self.edits.append(edit)
        ws = room.screens[j].ws
        if self.socket_writes and ws is not None:
            await self.save_card(ws, participant, edit, f"{TEXT} {self.needle}{edit.id}# d{j + 1}")
            return
        body = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": self.csrf,
                "text": f"{TEXT} {self.needle}{edit.id}# d{j + 1}",
                "op": f"{self.tag}-{edit.id}",
            }
        ).encode()
        port = self.post_port()
        path = f"/g/{room.id}/kaart/{participant['card']}/"
        edit.status = await self.request(port, "POST", path, participant["cookie"], body, edit)
        if edit.status == ACKED:
            edit.t_ack = perf()
            if self.refetch:  # htmx follows the redirect (to the step) and swaps it in
                url = f"/g/{room.id}/?regions={edit.region}"
                await self.request(port, "GET", url, participant["cookie"], htmx=True)
        else:
            self.error("post", edit.status)

    async def save_card(
        self, ws: ClientConnection, participant: dict, edit: Edit, text: str
    ) -> None:
        """live.js's `save_card` on the participant's own socket; the answer is `saved`."""
        op = f"{self.tag}-{edit.id}"
        future = asyncio.get_running_loop().create_future()
        self.answers[op] = future
        frame = json.dumps(
            {"type": "save_card", "op": op, "card": participant["card"], "text": text}
        )
        edit.t0 = perf()
        try:
            await ws.send(frame)
            answer = await asyncio.wait_for(future, POST_TIMEOUT)
            edit.status = ACKED if answer["type"] == "saved" else answer["type"]
        except Exception as error:  # noqa: BLE001 - counted and reported
            self.answers.pop(op, None)
            edit.status = type(error).__name__
        if edit.status == ACKED:
            edit.t_ack = perf()
        else:
            self.error("save", edit.status)

    async def change_step(self, room: Room, phase: int) -> None:
        steps = room.steps
        target = steps[(steps.index(room.current_step) + 1) % len(steps)]
        room.current_step = target
        edit = Edit(len(self.edits), room.index, STEP, phase, len(room.screens), step=target)
        self.edits.append(edit)
        room.step_edits.append(edit)  # before the POST: a frame may beat its answer
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": self.csrf, "step": target}).encode()
        path = f"/g/{room.id}/stap/"
        port = self.post_port()
        edit.status = await self.request(port, "POST", path, self.facilitator_cookie, body, edit)
        if edit.status == ACKED:
            edit.t_ack = perf()
        else:
            self.error("post", f"{edit.status} (step change)")

    # --- phases ----------------------------------------------------------------------------

    async def every(self, interval: float, start: float, end: float, action) -> None:
        """Run `action()` every `interval` s from a random offset; never two at once."""
        t = start + self.rng.uniform(0, interval)
        while t < end:
            delay = t - perf()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.1:
                self.delayed += 1
            await action()
            t = max(t + interval, perf())

    async def run_phase(self, index: int, spec: dict) -> dict:
        self.phase = index
        start = perf()
        end = start + float(spec["duration"])
        tasks: list[asyncio.Task] = []
        if spec["kind"] == "rest":
            # A light probe: participants of every room in turn, and now and then a step
            # change (rooms in turn), so that both kinds of change have a p99 at rest.
            step_rate = float(spec.get("step_rate") or 0)
            if step_rate > 0:
                tasks.append(asyncio.create_task(self.rest_steps(step_rate, start, end, index)))
            rate, k = float(spec["rate"]), 0
            t = start
            while t < end:
                delay = t - perf()
                if delay > 0:
                    await asyncio.sleep(delay)
                room = self.rooms[k % len(self.rooms)]
                j = (k // len(self.rooms)) % len(room.participants)
                tasks.append(asyncio.create_task(self.edit_card(room, j, index)))
                k += 1
                t += 1 / rate
        else:
            m = float(spec["multiplier"])
            edit_every = float(self.plan["edit_interval"]) / m
            step_every = float(self.plan["step_interval"]) / m
            for room in self.rooms:
                for j in range(len(room.participants)):
                    action = functools.partial(self.edit_card, room, j, index)
                    tasks.append(asyncio.create_task(self.every(edit_every, start, end, action)))
                action = functools.partial(self.change_step, room, index)
                tasks.append(asyncio.create_task(self.every(step_every, start, end, action)))
            if spec["duration"] >= 180:
                tasks.append(asyncio.create_task(self.progress(index, spec, start, end)))
        await asyncio.gather(*tasks)
        sent_end = perf()
        # Let the phase's frames arrive before judging it (and before the next phase).
        await self.drain(lambda e: e.phase == index, float(self.plan["pause"]))
        result = self.phase_summary(index, spec, start, sent_end)
        result["drain_seconds"] = round(perf() - sent_end, 2)
        return result

    async def rest_steps(self, rate: float, start: float, end: float, index: int) -> None:
        t, k = start + 0.5 / rate, 0
        while t < end:
            await asyncio.sleep(max(0.0, t - perf()))
            await self.change_step(self.rooms[k % len(self.rooms)], index)
            k += 1
            t += 1 / rate

    async def progress(self, index: int, spec: dict, start: float, end: float) -> None:
        every = 60.0
        t = start + every
        while t < end - 1:
            await asyncio.sleep(t - perf())
            window = [e for e in self.edits if e.phase == index and e.t0 >= t - every]
            acked = [e for e in window if e.status == ACKED]
            done = [(e.last - e.t0) * 1000 for e in acked if e.n_seen == e.n_screens]
            stats = percentiles(done) or {}
            errors = sum(1 for err in self.errors if err[1] == index and err[0] >= t - every)
            log(
                f"  {spec['name']} minute {round((t - start) / every)}: {len(acked)}/"
                f"{len(window)} saves acked, every screen p50 {stats.get('p50')} p99 "
                f"{stats.get('p99')} ms (of those complete), {errors} errors"
            )
            t += every

    def complete(self, edit: Edit) -> bool:
        """Every screen of the room has the frame (and, with refetch, the page)."""
        if edit.n_seen < edit.n_screens:
            return False
        return not (self.refetch and edit.pages < edit.n_screens)

    async def drain(self, which, limit: float) -> None:
        deadline = perf() + limit
        waiting = [e for e in self.edits if which(e) and e.status == ACKED]
        while waiting and perf() < deadline:
            waiting = [e for e in waiting if not self.complete(e)]
            await asyncio.sleep(0.1)

    def every_screen_ms(self, edit: Edit) -> float:
        """Edit to every screen of its room; infinite while a screen still lacks it."""
        if edit.n_seen < edit.n_screens:
            return float("inf")
        return (edit.last - edit.t0) * 1000

    def phase_summary(self, index: int, spec: dict, start: float, end: float) -> dict:
        edits = [e for e in self.edits if e.phase == index]
        acked = [e for e in edits if e.status == ACKED]
        every = [self.every_screen_ms(e) for e in acked]
        post = [(e.t_ack - e.t0) * 1000 for e in acked]
        statuses = collections.Counter(e.status for e in edits if e.status != ACKED)
        errors = collections.Counter(
            f"{err[2]}: {err[3]}" for err in self.errors if err[1] == index
        )
        duration = end - start
        cards = sum(1 for e in edits if e.kind == CARD)
        result = {
            "name": spec["name"],
            "index": index,  # in the plan: edits and errors carry this number
            "kind": spec["kind"],
            "multiplier": spec.get("multiplier"),
            "start": round(start - self.t_go, 3),
            "end": round(end - self.t_go, 3),
            "asked_edits_per_s": self.asked_rate(spec),
            "edits": len(edits),
            "card_edits": cards,
            "step_changes": len(edits) - cards,
            "acked": len(acked),
            "achieved_edits_per_s": round(len(acked) / duration, 2) if duration > 0 else None,
            "failed_saves": dict(statuses),
            "errors": dict(errors),
            "error_count": sum(errors.values()),
            "incomplete": sum(1 for v in every if v == float("inf")),
            "every_screen_ms": percentiles(every),
            "frame_ms": percentiles(list(self.frame_ms[index])),
            "post_ms": percentiles(post),
        }
        if self.refetch:
            result["every_page_ms"] = percentiles([self.every_page_ms(e) for e in acked])
        # A step change makes every screen fetch; a card's text needs no fetch at all. Their
        # latencies differ in kind, so each is judged against its own kind at rest.
        result["by_kind"] = {
            name: percentiles([self.held_ms(e) for e in acked if e.kind == kind])
            for kind, name in ((CARD, "card"), (STEP, "step"))
        }
        return result

    def every_page_ms(self, edit: Edit) -> float:
        """(refetch) Edit to every page of its room; infinite while a page still lacks it."""
        return (edit.page_last - edit.t0) * 1000 if self.complete(edit) else float("inf")

    def held_ms(self, edit: Edit) -> float:
        """What "held" is judged on: edit to every page (refetch) or to every screen."""
        return self.every_page_ms(edit) if self.refetch else self.every_screen_ms(edit)

    def asked_rate(self, spec: dict) -> float:
        if spec["kind"] == "rest":
            return round(float(spec["rate"]) + float(spec.get("step_rate") or 0), 2)
        people = sum(len(room.participants) for room in self.rooms)
        m = float(spec["multiplier"])
        rate = people * m / float(self.plan["edit_interval"])
        rate += len(self.rooms) * m / float(self.plan["step_interval"])
        return round(rate, 2)

    # --- the run ---------------------------------------------------------------------------

    async def run(self) -> dict:
        screens = [s for room in self.rooms for s in room.screens]
        semaphore = asyncio.Semaphore(int(self.plan.get("connect_concurrency", 50)))

        async def open_one(screen: Screen) -> None:
            screen.last_seq = screen.room.last_seq
            async with semaphore:
                try:
                    await self.open(screen)
                except Exception as error:  # noqa: BLE001 - counted; receive() tries again
                    self.error("connect", type(error).__name__)

        t = perf()
        await asyncio.wait_for(asyncio.gather(*(open_one(s) for s in screens)), 600)
        connect_seconds = perf() - t
        connected = sum(1 for s in screens if s.ws is not None)
        for screen in screens:
            screen.task = asyncio.create_task(self.receive(screen))
        print(f"CONNECTED {connected}", flush=True)
        line = await asyncio.wait_for(
            asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline), 300
        )
        if line.strip() != "GO":
            raise SystemExit("no GO from the parent")

        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu_start = usage.ru_utime + usage.ru_stime
        self.t_go = perf()
        phases: list[dict] = []
        rest_p99 = None
        threshold = None
        limits: dict[str, float] = {}  # per kind of change: threshold × its p99 at rest
        ramp_over = False
        for index, spec in enumerate(self.plan["phases"]):
            if spec["kind"] == "ramp" and threshold is None:
                log(f"ramp skipped: no p99 at rest to compare with ({spec['name']})")
                ramp_over = True
            if spec["kind"] == "ramp" and ramp_over:
                continue
            if spec["kind"] == "load" and phases and phases[-1]["kind"] == "ramp":
                await asyncio.sleep(float(self.plan["recover"]))
            log(f"phase {spec['name']}: {spec['duration']:g} s, {self.asked_rate(spec)} edits/s")
            result = await self.run_phase(index, spec)
            if spec["kind"] == "rest":
                rest_p99 = (result["by_kind"]["card"] or {}).get("p99")
                if rest_p99 and not result["incomplete"]:
                    threshold = float(self.plan["threshold"]) * rest_p99
                    for kind, stats in result["by_kind"].items():
                        if stats and stats.get("p99"):
                            limits[kind] = float(self.plan["threshold"]) * stats["p99"]
            result["limits_ms"] = dict(limits)
            judged = [
                (stats["p99"], limits.get(kind))
                for kind, stats in result["by_kind"].items() if stats
            ]
            result["held"] = bool(
                threshold is not None
                and judged
                and all(limit is not None and p99 <= limit for p99, limit in judged)
                and not result["error_count"]
                and not result["incomplete"]
            )
            phases.append(result)
            log("  " + one_line(result))
            if spec["kind"] == "ramp" and not result["held"]:
                ramp_over = True
        await self.drain(lambda e: True, float(self.plan["drain"]))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        client_cpu = usage.ru_utime + usage.ru_stime - cpu_start
        run_seconds = perf() - self.t_go
        self.finished = True
        for screen in screens:
            if screen.task is not None:
                screen.task.cancel()
            if screen.refreshing is not None:
                screen.refreshing.cancel()
        closing = [asyncio.create_task(s.ws.close()) for s in screens if s.ws is not None]
        if closing:
            await asyncio.wait(closing, timeout=15)
        return self.summary(phases, rest_p99, threshold, connected, connect_seconds) | {
            "limits_ms": limits,
            "client_cpu_seconds": round(client_cpu, 2),
            "run_seconds": round(run_seconds, 2),
        }

    def summary(
        self,
        phases: list[dict],
        rest_p99: float | None,
        threshold: float | None,
        connected: int,
        connect_seconds: float,
    ) -> dict:
        lost = 0
        lost_by_phase: collections.Counter = collections.Counter()
        for edit in self.edits:
            if edit.status == ACKED:
                missing = len(edit.seen) - edit.n_seen
                lost += missing
                lost_by_phase[edit.phase] += missing
        for result in phases:
            result["lost_frames"] = lost_by_phase[result["index"]]
        held = [p for p in phases if p["kind"] == "ramp" and p["held"]]
        largest = max(held, key=lambda p: p["asked_edits_per_s"]) if held else None
        screens = [s for room in self.rooms for s in room.screens]
        return {
            "tag": self.tag,
            "sockets": len(screens),
            "connected": connected,
            "connect_seconds": round(connect_seconds, 2),
            "phases": phases,
            # What "held" compares: the frame on every screen, or (refetch) the page; for card
            # edits and step changes each against the same kind at rest (`limits_ms`).
            "held_metric": self.metric,
            "rest_p99_ms": rest_p99,
            "threshold_ms": threshold,
            "largest_held": largest
            and {
                "name": largest["name"],
                "multiplier": largest["multiplier"],
                "asked_edits_per_s": largest["asked_edits_per_s"],
                "achieved_edits_per_s": largest["achieved_edits_per_s"],
                "p99_ms": largest[self.metric]["p99"],
                "p99_by_kind": {k: (v or {}).get("p99") for k, v in largest["by_kind"].items()},
            },
            "lost_frames": lost,
            "gaps": self.gaps,
            "duplicates": self.duplicates,
            "unacked_frames": self.unacked_frames,
            "delayed_saves": self.delayed,
            "reconnects": sum(s.reconnects for s in screens),
            "screens_disconnected": sum(1 for s in screens if s.ws is None),
            "errors": self.errors,
            # One row per edit: phase, room, kind (0 card, 1 step), start (s after GO), the
            # POST's answer (ms), status, edit to every screen (ms; null when a screen lacks
            # it), screens that have it, edit to every page (ms, refetch only).
            "edit_columns": [
                "phase",
                "room",
                "kind",
                "t0",
                "post_ms",
                "status",
                "every_ms",
                "seen",
                "page_ms",
            ],
            "edits": [self.row(e) for e in self.edits],
        }

    def row(self, edit: Edit) -> list:
        acked = edit.status == ACKED
        every = self.every_screen_ms(edit) if acked else float("inf")
        page = None
        if self.refetch and acked and self.complete(edit):
            page = round(self.every_page_ms(edit), 2)
        return [
            edit.phase,
            edit.room,
            edit.kind,
            round(edit.t0 - self.t_go, 3),
            round((edit.t_ack - edit.t0) * 1000, 2) if acked else None,
            edit.status,
            round(every, 2) if every != float("inf") else None,
            edit.n_seen,
            page,
        ]


def one_line(result: dict) -> str:
    every = result["every_screen_ms"] or {}
    page = result.get("every_page_ms")
    pages = f", every page p50 {page['p50']} p99 {page['p99']} ms" if page else ""
    verdict = ""
    if result["kind"] != "rest":
        verdict = "; HELD" if result["held"] else "; not held"
    limits = result.get("limits_ms") or {}
    kinds = "; ".join(
        f"{kind}s p99 {stats['p99']} ms"
        + (f" (limit {limits[kind]:.0f})" if kind in limits else "")
        for kind, stats in (result.get("by_kind") or {}).items() if stats
    )
    return (
        f"{result['name']}: {result['acked']}/{result['edits']} saves acked "
        f"({result['achieved_edits_per_s']}/s of {result['asked_edits_per_s']}/s asked), "
        f"every screen p50 {every.get('p50')} p95 {every.get('p95')} p99 {every.get('p99')} ms"
        f"{pages}; {kinds}; {result['error_count']} errors, {result['incomplete']} incomplete"
        f"{verdict}"
    )


def log(message: str) -> None:
    print(f"loadtest: {message}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan", help="JSON plan file")
    parser.add_argument("out", help="JSON result file")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    with open(args.plan) as handle:
        plan = json.load(handle)
    result = uvloop.run(LoadTest(plan).run())
    with open(args.out, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
