"""The sockets of this process, by conversation, and the fan-out of committed events to them.

Each committed event reaches every process once (directly in the embedded mode, through one
Redis pub/sub channel with several workers) and is encoded once; the hub then hands the same
frame to each local socket's queue. No channel-layer message per socket, no thread hop per
socket: docs/performance.md shows what that buys.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Protocol

log = logging.getLogger(__name__)


class Socket(Protocol):
    conversation_id: str
    member_id: str
    sent_seq: int  # the newest event this socket has been given

    def push(self, seq: int, frame: str) -> None: ...

    def kick(self) -> None: ...

    def resync(self) -> None: ...


class Hub:
    def __init__(self) -> None:
        self.sockets: dict[str, set[Socket]] = defaultdict(set)
        self.loop: asyncio.AbstractEventLoop | None = None

    def add(self, socket: Socket) -> None:
        self.loop = asyncio.get_running_loop()
        self.sockets[socket.conversation_id].add(socket)

    def remove(self, socket: Socket) -> None:
        sockets = self.sockets.get(socket.conversation_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self.sockets[socket.conversation_id]

    def count(self) -> int:
        return sum(len(sockets) for sockets in self.sockets.values())

    def deliver(self, conversation_id: str, seq: int, frame: str, kick: str | None = None) -> None:
        """On the event loop: give the frame to every socket of the conversation.

        `kick` names a member whose sockets close after this frame: a removed member.
        """
        for socket in list(self.sockets.get(conversation_id, ())):
            socket.push(seq, frame)
            if kick is not None and socket.member_id == kick:
                socket.kick()

    def resync_all(self) -> None:
        """Every socket replays from its last event: after a gap in delivery (Redis restart)."""
        for sockets in list(self.sockets.values()):
            for socket in list(sockets):
                socket.resync()

    def deliver_threadsafe(
        self, conversation_id: str, seq: int, frame: str, kick: str | None = None
    ) -> None:
        """From any thread (a view's on_commit runs in a worker thread)."""
        loop = self.loop
        if loop is None or loop.is_closed() or conversation_id not in self.sockets:
            return
        loop.call_soon_threadsafe(self.deliver, conversation_id, seq, frame, kick)


hub = Hub()
