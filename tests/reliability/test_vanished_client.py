"""A client that vanishes without closing: a laptop shut, a phone that lost its network.

Such a client sends no closing handshake and no FIN, so its socket stays open as far as the
server can tell. The server pings every socket (`WS_PING_SECONDS`, 1 s here instead of 20 s)
and closes one whose pong does not come; its member then leaves everyone else's list of who
is here. The vanished client is a process of its own that opens a socket like a page does and
is then frozen with SIGSTOP: its kernel keeps the connection, nothing answers on it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from tests.reliability.harness import (
    SESSION_COOKIE,
    Browser,
    LiveSocket,
    Stack,
    create_conversation,
    invite,
    join,
)

PING_SECONDS = 1
GONE_WITHIN = 10.0  # seconds from the freeze to the member's leaving the others' presence

# The vanishing page: a socket with the member's session, `hello`, then nothing but waiting.
CLIENT = """
import json, sys, time
from websockets.sync.client import connect
url, origin, cookie = sys.argv[1:]
with connect(url, origin=origin, additional_headers={"Cookie": cookie}, proxy=None) as ws:
    ws.send(json.dumps({"type": "hello", "last_seq": 0}))
    print("open", flush=True)
    time.sleep(300)
"""


def test_vanished_client_leaves_presence(stack: Stack, start_server) -> None:
    (server,) = start_server(stack, "server", env={"WS_PING_SECONDS": str(PING_SECONDS)})
    username, password = stack.create_facilitator()
    facilitator = Browser(server.url)
    facilitator.login(username, password)
    conversation_id = create_conversation(facilitator, "Deksel dicht")
    observer = join(server.url, invite(facilitator, conversation_id, "Blijft"))
    leaver = join(server.url, invite(facilitator, conversation_id, "Verdwijnt"))

    sock = LiveSocket([server.ws_url], conversation_id, observer.session, "observer").start()
    assert sock.wait(lambda: bool(sock.presence), 10), "no presence after joining"
    here_before = set(sock.presence[-1])

    client = subprocess.Popen(  # noqa: S603 - our own script
        [
            sys.executable, "-c", CLIENT, f"{server.ws_url}/ws/g/{conversation_id}/",
            server.url, f"{SESSION_COOKIE}={leaver.session}",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert client.stdout is not None and client.stdout.readline().strip() == "open"
        assert sock.wait(lambda: len(sock.presence[-1] - here_before) == 1, 10), (
            "the second member never showed up as here"
        )
        (leaver_id,) = sock.presence[-1] - here_before

        client.send_signal(signal.SIGSTOP)
        frozen_at = time.monotonic()
        gone = sock.wait(lambda: leaver_id not in sock.presence[-1], GONE_WITHIN)
        gone_in = time.monotonic() - frozen_at
        assert gone, f"the vanished member was still listed as here after {GONE_WITHIN:.0f}s"
        assert sock.presence[-1] == here_before, "the others' presence changed as well"
        assert not sock.errors, sock.errors
        print(f"\nvanished client: off the presence list {gone_in:.2f}s after it froze")
    finally:
        client.kill()
        client.wait(timeout=10)
        sock.stop()
