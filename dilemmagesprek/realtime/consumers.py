"""The conversation socket: pushes committed events, replays what a client missed."""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import time
from types import SimpleNamespace
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib import auth

from dilemmagesprek.conversations.access import find_member
from dilemmagesprek.conversations.models import Conversation, Event
from dilemmagesprek.worksheets import live_writes

from . import delivery, eager, presence
from .db import database_work
from .hub import hub
from .protocol import (
    MAX_REPLAY,
    ProtocolError,
    encode,
    error_frame,
    event_frame,
    parse_client_message,
)

log = logging.getLogger(__name__)

# Close codes (4000–4999 are ours): the client reconnects after a 1xxx or 4000, not after 4403.
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_SLOW = 4000
# A socket whose client does not read gets this many frames queued before it is dropped; it
# reconnects and replays from the database, so dropping costs nothing but a replay.
MAX_QUEUED = 1000
# At most one "typing" notice per socket per this many seconds is passed on.
TYPING_INTERVAL = 1.0
# How often an open socket checks that its session and membership still hold: a session
# that expired or was logged out elsewhere stops receiving within this time.
RECHECK_SECONDS = 60
CLOSE_SESSION_ENDED = 4401
# An event that arrives ahead of an earlier one waits this long for it before the socket
# fetches the gap from the database. In scale-out the writing process hands its own events
# to its sockets at once, while another process's event comes through Redis: when two
# processes write one conversation at nearly the same moment, the later event can arrive first.
GAP_WAIT_SECONDS = 0.05


class ConversationConsumer(AsyncWebsocketConsumer):
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        # No channel layer per socket: the hub fans out (see hub.py). Channels' own loop waits
        # on the client and a channel layer together, through a new task and an asyncio.wait
        # for every frame; with the client as the only source, each frame is awaited and
        # handled here, in the socket's own task, one after the other as before.
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' default dispatch hops to a thread to close old database connections for
        # every message; our handlers touch the database only through database_work (db.py),
        # in the one thread that keeps its connection.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.conversation_id: str = self.scope["url_route"]["kwargs"]["conversation_id"]
        member = await database_work(find_member)(
            self.scope.get("user"), self.scope.get("session"), self.conversation_id
        )
        if member is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.member_id: str = member.pk
        self.display_name: str = member.display_name
        self.role: str = member.role
        self.socket_id = secrets.token_hex(6)
        self.last_typing = 0.0
        self.sent_seq = 0
        self.replaying = True  # until the client's hello has been answered
        self.buffer: list[tuple[int, str]] = []
        # Events that came ahead of a gap (GAP_WAIT_SECONDS), and the timer of that wait.
        self.early: dict[int, str] = {}
        self.gap_timer: asyncio.TimerHandle | None = None
        # Frames that wait for the writer task: behind a send that had to wait (the client's
        # buffer is full), or the end of the socket (None). See _send_now.
        self.queue: asyncio.Queue[str | eager.Started | None] = asyncio.Queue()
        self.writing = False
        self.writer = asyncio.create_task(self._write())
        self.rechecker = asyncio.create_task(self._recheck())
        hub.add(self)
        delivery.ensure_listener()
        await self.accept()
        await self._arrive()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "writer"):
            hub.remove(self)
            self._stop_waiting_for_gap()
            self.writer.cancel()
            self.rechecker.cancel()
            try:
                await presence.leave(self)
                await self._broadcast_presence()
            except Exception:  # presence is a courtesy; a Redis hiccup must not break anything
                log.debug("presence update on leave failed", exc_info=True)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = parse_client_message(text_data, bytes_data)
        except ProtocolError as error:
            # A bad frame changes nothing and leaves the connection usable.
            self._send_now(error_frame(error))
            return
        if message.type == "hello":
            await self._replay(message.fields["last_seq"])
        elif message.type in ("save", "save_card"):
            await self._save(message.type, message.fields)
        elif message.type == "ping":
            self._send_now(encode({"type": "pong"}))
        elif message.type == "typing":
            now = time.monotonic()
            if now - self.last_typing < TYPING_INTERVAL:
                return  # a chatty client is thinned out, not answered
            self.last_typing = now
            frame = encode(
                {"type": "typing", "member": self.member_id, "name": self.display_name,
                 "form": message.fields["form"]}
            )
            try:
                await delivery.send_ephemeral(self.conversation_id, frame)
            except Exception:
                log.debug("typing notice not sent", exc_info=True)

    async def _save(self, kind: str, fields: dict[str, Any]) -> None:
        """Store a text through the write path; answer `saved`, `rejected` or `not_saved`.

        Frames of one socket are handled one after the other, so a client's saves are applied
        in the order it sent them. The event itself reaches every socket (this one too)
        through the hub, after commit.
        """
        op = fields["op"]
        if kind == "save":
            write = functools.partial(
                live_writes.save_text, self.member_id, self.conversation_id, fields["field"],
                fields["text"], fields["version"], op,
            )
        else:
            write = functools.partial(
                live_writes.save_card, self.member_id, self.conversation_id, fields["card"],
                fields["text"], op,
            )
        try:
            answer = await database_work(write)()
        except live_writes.NoLongerMember:
            self.kick(CLOSE_FORBIDDEN)
            return
        except Exception:
            # The database is away (or worse): not stored, and the page must not think so.
            # It keeps the text and sends it again; the operation id makes that safe.
            log.warning("saving a text from a socket failed", exc_info=True)
            answer = {"type": "not_saved", "op": op}
        self._send_now(encode(answer))

    # --- called by the hub, on the event loop ---------------------------------------------

    def push(self, seq: int, frame: str) -> None:
        if seq == 0:  # presence or typing: not part of the event stream
            if not self.replaying:
                self._enqueue_ephemeral(frame)
            return
        if self.replaying:
            self.buffer.append((seq, frame))
            if len(self.buffer) > MAX_QUEUED:
                self.kick(CLOSE_TOO_SLOW)
            return
        if seq <= self.sent_seq or seq in self.early:
            return  # sent or held already: a second copy (the writing process's, from Redis)
        if seq > self.sent_seq + 1:
            # An earlier event is missing: still on its way, or lost (a publish that failed).
            self.early[seq] = frame
            if len(self.early) > MAX_QUEUED:
                self.resync()
            elif self.gap_timer is None:
                self.gap_timer = asyncio.get_running_loop().call_later(
                    GAP_WAIT_SECONDS, self._gap_not_filled
                )
            return
        self._enqueue(seq, frame)
        if self.early:
            self._send_early()

    def kick(self, code: int = CLOSE_FORBIDDEN) -> None:
        self.queue.put_nowait(None)
        self.close_code = code

    def resync(self) -> None:
        self._stop_waiting_for_gap()  # the replay fetches what they hold
        if not self.replaying:
            # Marked at once, not when the task starts: a second gap (or the reconciler) in
            # between would start a second replay, and both would send the same events.
            self.replaying = True
            asyncio.get_running_loop().create_task(self._replay(self.sent_seq, hello=False))

    # --- internals --------------------------------------------------------------------------

    def _gap_not_filled(self) -> None:
        # Lost on the way: fetch the gap from the database instead of making the client
        # reconnect.
        self.gap_timer = None
        self.resync()

    def _send_early(self) -> None:
        """Send the held events that now follow on; stop waiting once none is held (while
        one is, there is another gap, and the timer goes on)."""
        while (frame := self.early.pop(self.sent_seq + 1, None)) is not None:
            self._enqueue(self.sent_seq + 1, frame)
        if not self.early:
            self._stop_waiting_for_gap()

    def _stop_waiting_for_gap(self) -> None:
        self.early.clear()
        if self.gap_timer is not None:
            self.gap_timer.cancel()
            self.gap_timer = None

    def _enqueue_ephemeral(self, frame: str) -> None:
        if self.queue.qsize() < MAX_QUEUED:
            self._send_now(frame)

    async def _arrive(self) -> None:
        try:
            await presence.arrive(self)
            await self._broadcast_presence()
        except Exception:
            log.debug("presence update on arrival failed", exc_info=True)

    async def _presence_frame(self) -> str:
        people = await presence.present(self.conversation_id)
        return encode(
            {"type": "presence",
             "members": [{"id": p.member_id, "name": p.name, "role": p.role} for p in people]}
        )

    async def _broadcast_presence(self) -> None:
        await delivery.send_ephemeral(self.conversation_id, await self._presence_frame())

    def _enqueue(self, seq: int, frame: str) -> None:
        if self.queue.qsize() >= MAX_QUEUED:
            self.kick(CLOSE_TOO_SLOW)
            return
        self.sent_seq = max(self.sent_seq, seq)
        self._send_now(frame)

    async def _replay(self, last_seq: int, hello: bool = True) -> None:
        """Send every event after `last_seq` from the database, then what arrived meanwhile.

        Answering the client's `hello` ends with `ready` and the presence list; a repair the
        server starts itself (a gap, the reconciler) sends only the missing events, so the
        client sees nothing it did not ask for.
        """
        self.replaying = True
        try:
            events, current = await database_work(_events_after)(
                self.conversation_id, last_seq
            )
        except Exception:
            # The database is away: stay as we were; the reconciler or the client tries again.
            log.warning("replaying events failed", exc_info=True)
            self.replaying = False
            return
        if current is None:  # the conversation was destroyed
            self.kick()
            return
        if last_seq > current or len(events) > MAX_REPLAY:
            # Too far behind (or ahead of a restored database): start over from a fresh page.
            self._send_now(encode({"type": "resync", "seq": current}))
            self.sent_seq = current
        else:
            self.sent_seq = last_seq
            for event in events:
                self._enqueue(event.seq, event_frame(event))
        for seq, frame in self.buffer:
            if seq > self.sent_seq:
                self._enqueue(seq, frame)
        self.buffer.clear()
        self.replaying = False
        if not hello:
            return
        self._send_now(encode({"type": "ready", "seq": self.sent_seq}))
        # Who is here, for this socket: presence frames sent while it replayed were skipped.
        try:
            self._enqueue_ephemeral(await self._presence_frame())
        except Exception:  # presence is a courtesy: without Redis the events still flow
            log.debug("presence after replay failed", exc_info=True)

    def _send_now(self, frame: str) -> None:
        """Send the frame on the spot, unless frames wait for the writer: then after them.

        A send that has to wait (the client does not read) goes on in the writer task, and
        every frame after it queues up behind it, in order, until the writer has caught up.
        """
        if self.writing or not self.queue.empty():
            self.queue.put_nowait(frame)
            return
        try:
            rest = eager.start(self.send(text_data=frame))
        except Exception:  # the client went away; disconnect() cleans up
            log.debug("socket write failed", exc_info=True)
            return
        if rest is not None:
            self.queue.put_nowait(rest)

    async def _write(self) -> None:
        """One writer per socket finishes the sends that had to wait, keeps the frames behind
        them in order, and lets a slow client fall behind without holding up anyone else."""
        try:
            while True:
                item = await self.queue.get()
                if item is None:
                    await self.close(code=getattr(self, "close_code", CLOSE_FORBIDDEN))
                    return
                self.writing = True
                try:
                    if isinstance(item, eager.Started):
                        await item
                    else:
                        await self.send(text_data=item)
                finally:
                    self.writing = False
        except asyncio.CancelledError:
            pass
        except Exception:  # the client went away mid-send; disconnect() cleans up
            log.debug("socket write failed", exc_info=True)


    async def _recheck(self) -> None:
        """Close the socket once its session or membership no longer holds."""
        while True:
            try:
                await asyncio.sleep(RECHECK_SECONDS)
                if not await self._still_member():
                    self.kick(CLOSE_SESSION_ENDED)
                    return
            except asyncio.CancelledError:
                return
            except Exception:  # the database is away: check again next round
                log.warning("re-checking a socket's session failed", exc_info=True)

    async def _still_member(self) -> bool:
        return await database_work(_still_member)(
            self.scope.get("session"), self.scope.get("user"), self.conversation_id,
            self.member_id,
        )  # fmt: skip


def _still_member(session: Any, user: Any, conversation_id: str, member_id: str) -> bool:
    """Whether the socket's session still holds and still makes it this member.

    One job in the sockets' database thread: a process with a thousand sockets runs about
    seventeen of these a second, and Channels' `get_user` would add a hop to a thread pool
    and a fresh database connection to each.
    """
    if session is not None:
        # Re-read the session from its store: it may have expired or been logged out.
        session._session_cache = session.load()
    if user is not None and user.is_authenticated:
        # Django's own check of a signed-in session: the user still exists and the password
        # it was signed in with is still theirs.
        user = auth.get_user(SimpleNamespace(session=session)) if session is not None else None
    member = find_member(user, session, conversation_id)
    return member is not None and member.pk == member_id


def _events_after(conversation_id: str, last_seq: int) -> tuple[list[Event], int | None]:
    current = (
        Conversation.objects.filter(pk=conversation_id).values_list("last_seq", flat=True).first()
    )
    if current is None:
        return [], None
    events = list(
        Event.objects.filter(conversation_id=conversation_id, seq__gt=last_seq).order_by("seq")[
            : MAX_REPLAY + 1
        ]
    )
    return events, current
