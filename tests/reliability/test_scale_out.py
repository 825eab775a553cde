"""Scale-out: two server processes on one PostgreSQL database and one Redis.

Process A and process B (`dilemmagesprek serve` on two ports, the same DATABASE_URL, a fresh
database made for this test, and REDIS_URL) each hold two sockets; every socket client knows
both addresses, its own server's first.

- An edit posted through A appears on B's sockets, and one posted through B on A's.
- Then two writers post continuously, one through each process, and A is stopped: by SIGKILL
  (a crash) or by SIGTERM (a rolling restart, docs/operations.md: A closes its sockets and
  exits within seconds). A's sockets move to B by themselves and, after hello with their
  last seq, have every event; A's writer resends its unanswered post to B with its original
  operation id and it is applied exactly once (the operation id holds across processes: it
  is a database constraint, not a process's memory).
"""

from __future__ import annotations

import signal
import threading
import time

import pytest

from tests.reliability.harness import (
    Browser,
    LiveSocket,
    Stack,
    Writer,
    assert_stream_complete,
    create_conversation,
    invite,
    join,
    new_op,
    read_field,
    run_writer,
    text_writer,
    wait_until,
)

SEEN_WITHIN = 5.0  # seconds for an edit to reach a socket on the other process
MOVED_WITHIN = 5.0  # seconds from the kill to a killed server's socket replaying on the other
STOP_WITHIN = 5.0  # seconds from SIGTERM to the process's exit
BEFORE_KILL = 6
AFTER_KILL = 5


def post_edit(browser: Browser, conversation_id: str, key: str, text: str) -> None:
    """Open the page on this browser's server, edit the field, save."""
    version = read_field(browser, conversation_id, key).version
    response = browser.post(
        f"/g/{conversation_id}/veld/{key}/",
        {"text": text, "version": str(version), "op": new_op("edit")},
    )
    assert response.status == 303, f"{response.status}: {response.body[:1000]}"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_two_processes_one_conversation(
    pg_stack: Stack, start_server, sig: signal.Signals
) -> None:
    stack = pg_stack
    server_a, server_b = start_server(stack, "a", "b", wait=False)
    username, password = stack.create_facilitator()
    server_a.wait_ready()
    server_b.wait_ready()
    facilitator = Browser(server_a.url)
    facilitator.login(username, password)
    conversation_id = create_conversation(facilitator, "Twee processen")
    # Invite links work on either process: the session lives in the shared database.
    people = {
        name: join(server_b.url, invite(facilitator, conversation_id, name))
        for name in ("Deelnemer A", "Deelnemer B", "Deelnemer C")
    }
    people["Deelnemer A"].base_url = server_a.url

    both_a = [server_a.ws_url, server_b.ws_url]
    both_b = [server_b.ws_url, server_a.ws_url]
    on_a = [
        LiveSocket(both_a, conversation_id, facilitator.session, "a1").start(),
        LiveSocket(both_a, conversation_id, people["Deelnemer A"].session, "a2").start(),
    ]
    on_b = [
        LiveSocket(both_b, conversation_id, people["Deelnemer B"].session, "b1").start(),
        LiveSocket(both_b, conversation_id, people["Deelnemer C"].session, "b2").start(),
    ]
    sockets = on_a + on_b
    setup_seq = stack.last_seq(conversation_id)
    for sock in sockets:
        assert sock.wait_for_seq(setup_seq, 10), f"{sock.name} did not replay the setup"

    # Through A, seen on B; through B, seen on A.
    post_edit(facilitator, conversation_id, "dilemma", "via A")
    seq = stack.last_seq(conversation_id)
    for sock in on_b:
        assert sock.wait_for_seq(seq, SEEN_WITHIN), f"an edit via A did not reach {sock.name}"
        assert sock.applied[-1]["data"]["text"] == "via A"
    post_edit(people["Deelnemer B"], conversation_id, "dilemma", "via B")
    seq = stack.last_seq(conversation_id)
    for sock in on_a:
        assert sock.wait_for_seq(seq, SEEN_WITHIN), f"an edit via B did not reach {sock.name}"
        assert sock.applied[-1]["data"]["text"] == "via B"

    # Two writers, one through each process; then A dies.
    writers = [
        Writer("dilemma", people["Deelnemer A"], text_writer(conversation_id, "dilemma", "A")),
        Writer("urgency", people["Deelnemer B"], text_writer(conversation_id, "urgency", "B")),
    ]
    writers[0].version = stack.field_value(conversation_id, "dilemma")[1]
    back, stop = threading.Event(), threading.Event()
    back.set()  # B is up all along: A's writer fails over at once
    threads = [
        threading.Thread(
            target=run_writer,
            args=(writers[0], back, stop, AFTER_KILL, server_b.url),
            daemon=True,
        ),
        threading.Thread(target=run_writer, args=(writers[1], back, stop, 0), daemon=True),
    ]
    for thread in threads:
        thread.start()
    assert wait_until(lambda: all(len(w.acked) >= BEFORE_KILL for w in writers), 30), [
        len(w.acked) for w in writers
    ]
    wait_until(lambda: writers[0].in_flight, 2, every=0.0005)
    signalled_at = time.monotonic()
    server_a.kill(sig)
    killed_at = time.monotonic()
    if sig == signal.SIGTERM:
        stopped_in = killed_at - signalled_at
        assert stopped_in <= STOP_WITHIN, f"A took {stopped_in:.1f}s to stop"
    assert wait_until(lambda: writers[0].pending is not None or writers[0].failure, 10)
    time.sleep(1)  # B's writer goes on for a while after the kill
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not [w.failure for w in writers if w.failure], [w.failure for w in writers]

    # A's sockets moved to B and replayed.
    for sock in on_a:
        # Counted from the signal: after SIGTERM A closes its sockets before it exits, and
        # they may be on B before A is gone.
        moved = [c for c in sock.connections if c.opened_at >= signalled_at]
        assert moved and all(c.url == server_b.ws_url for c in moved), sock.name
        ready_at = sock.wait_ready(MOVED_WITHIN, after=signalled_at)
        assert ready_at is not None and ready_at - signalled_at <= MOVED_WITHIN, sock.name
        if sig == signal.SIGTERM:
            # Closed by A as a restart (1012) or going away (1001), not cut off.
            cut = [c for c in sock.connections if c.opened_at < signalled_at][-1]
            assert cut.close_code in (1001, 1012), (sock.name, cut.close_code)

    events = stack.events(conversation_id)
    final_seq = stack.last_seq(conversation_id)
    assert [e["seq"] for e in events] == list(range(1, final_seq + 1))
    ops = [e["op"] for e in events if e["op"] is not None]
    assert len(ops) == len(set(ops)), "an operation was applied twice"
    by_op = {e["op"]: e for e in events if e["op"]}
    for writer in writers:
        story = writer.acked[: len(writer.acked) - (AFTER_KILL if writer.resent else 0)]
        story += writer.resent + writer.acked[len(story) :]
        assert all(p.op in by_op for p in story), f"{writer.name}: an acknowledged edit is lost"
        assert [by_op[p.op]["data"]["text"] for p in story] == [p.fields["text"] for p in story]
    assert writers[0].resent, "A's writer had nothing to resend"
    assert writers[0].resent[0].op in by_op

    for sock in sockets:
        assert sock.wait_for_seq(final_seq, 15), f"{sock.name} stuck at {sock.last_seq}"
        sock.stop()
    for sock in sockets:
        assert_stream_complete(sock, events)

    resent = by_op[writers[0].resent[0].op]["seq"]
    print(
        f"\nscale-out, A stopped by {sig.name}: final seq {final_seq}; "
        f"A's unanswered post is seq {resent}; gaps seen "
        f"(had, got) { {s.name: s.gaps for s in sockets} }; connections "
        f"{ {s.name: len(s.connections) for s in sockets} }"
    )
