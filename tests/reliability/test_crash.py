"""Crash and restart: the server is stopped in the middle of a session and started again.

Stopped two ways: SIGKILL (a crash: nothing is closed, nothing finishes) and SIGTERM (what
`systemctl restart` sends for an upgrade, docs/operations.md: the server must close its
sockets and exit by itself, within seconds, so the restart does not wait for the service
manager's kill).

Three writers post without pause (two each own a text field, one adds cards, which a resend
would duplicate if operation ids did not hold), an observer holds a socket. When all writers
have a post in flight the server process gets SIGKILL; each writer's unanswered post stays
pending in its memory, as live.js keeps an unsent form (after a SIGTERM a post may also be
answered before the server exits; the next one is refused). The server is started again on the
same port and data (SQLite in its data directory; PostgreSQL + Redis in `make test`'s second
pass); each writer resends its pending post with the ORIGINAL operation id and then goes on.

- 0 acknowledged edits lost: every post answered 303 before the kill is in the event log;
- unacknowledged posts applied exactly once after the resend, whether or not the dead server
  had committed them;
- the socket reconnects by itself and is replaying within 5 s of the server answering again,
  gets exactly the events it missed (its new connection starts right after its cursor), and
  ends with the whole log, in order, nothing twice.
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
    card_target,
    card_writer,
    create_conversation,
    invite,
    join,
    run_writer,
    text_writer,
    wait_until,
)

BEFORE_KILL = 8  # acknowledged posts per writer before the kill may come
AFTER_RESTART = 5  # posts per writer after its resend
RESUME_WITHIN = 5.0  # seconds from "server answers again" to the socket's `ready`
STOP_WITHIN = 5.0  # seconds from SIGTERM to the process's exit


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_server_stopped_mid_session(stack: Stack, start_server, sig: signal.Signals) -> None:
    (server,) = start_server(stack, "server", wait=False)
    username, password = stack.create_facilitator()
    server.wait_ready()
    facilitator = Browser(server.url)
    facilitator.login(username, password)
    conversation_id = create_conversation(facilitator, "Stroomuitval")
    writer_a = join(server.url, invite(facilitator, conversation_id, "Schrijver A"))
    writer_b = join(server.url, invite(facilitator, conversation_id, "Schrijver B"))
    observer = join(server.url, invite(facilitator, conversation_id, "Kijker", "waarnemer"))
    column, row = card_target(facilitator.get(f"/g/{conversation_id}/").body, conversation_id)

    sock = LiveSocket([server.ws_url], conversation_id, observer.session, "observer").start()
    assert sock.wait_for_seq(stack.last_seq(conversation_id), 10)

    writers = [
        Writer("dilemma", writer_a, text_writer(conversation_id, "dilemma", "dilemma")),
        Writer("urgency", writer_b, text_writer(conversation_id, "urgency", "urgentie")),
        Writer("cards", facilitator, card_writer(conversation_id, column, row)),
    ]
    back, stop = threading.Event(), threading.Event()
    threads = [
        threading.Thread(target=run_writer, args=(w, back, stop, AFTER_RESTART), daemon=True)
        for w in writers
    ]
    for thread in threads:
        thread.start()

    # Kill when every writer has enough acknowledged and, if we can catch it, all have a post
    # on the wire at once.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(len(w.acked) >= BEFORE_KILL for w in writers):
        assert not [w.failure for w in writers if w.failure], [w.failure for w in writers]
        time.sleep(0.01)
    assert all(len(w.acked) >= BEFORE_KILL for w in writers), [len(w.acked) for w in writers]
    catch = time.monotonic() + 2
    while time.monotonic() < catch and not all(w.in_flight for w in writers):
        time.sleep(0.0005)
    signalled_at = time.monotonic()
    server.kill(sig)
    killed_at = time.monotonic()
    seq_at_kill = sock.last_seq
    stopped_in = killed_at - signalled_at
    if sig == signal.SIGTERM:
        assert stopped_in <= STOP_WITHIN, f"the server took {stopped_in:.1f}s to stop"

    # Down: every writer ends up with exactly one pending post (in flight or refused).
    assert wait_until(lambda: all(w.pending or w.failure for w in writers), 10)
    assert not [w.failure for w in writers if w.failure], [w.failure for w in writers]
    acked_before = {post.op for w in writers for post in w.acked}
    pending = {w.name: w.pending for w in writers}
    logged = {e["op"] for e in stack.events(conversation_id)}
    committed_unacked = sorted(name for name, post in pending.items() if post.op in logged)

    # I2: nothing acknowledged was lost, even before the restart.
    assert acked_before <= logged, f"acknowledged but lost: {acked_before - logged}"

    back_at = server.start()
    # What the socket missed: everything after its cursor up to now (the writers wait for
    # `back` before they resend, so nothing is added until then).
    missed_up_to = stack.last_seq(conversation_id)
    back.set()
    ready_at = sock.wait_ready(RESUME_WITHIN + 5, after=killed_at)
    assert ready_at is not None, "the socket never resumed"
    resumed_in = ready_at - back_at
    assert resumed_in <= RESUME_WITHIN, f"the socket resumed after {resumed_in:.1f}s"

    for thread in threads:
        thread.join(timeout=60)
    stop.set()
    assert not [w.failure for w in writers if w.failure], [w.failure for w in writers]

    events = stack.events(conversation_id)
    final_seq = stack.last_seq(conversation_id)
    assert [e["seq"] for e in events] == list(range(1, final_seq + 1))
    ops = [e["op"] for e in events if e["op"] is not None]
    assert len(ops) == len(set(ops)), "an operation was applied twice"
    all_acked = {post.op for w in writers for post in w.acked + w.resent}
    assert all_acked <= set(ops), f"acknowledged but not in the log: {all_acked - set(ops)}"

    # Each writer's whole story is in the log exactly once, in its order.
    by_op = {e["op"]: e for e in events if e["op"]}
    for writer in writers:
        story = [p for p in writer.acked if p.op in acked_before]
        story += writer.resent + [p for p in writer.acked if p.op not in acked_before]
        texts = [p.fields["text"] for p in story]
        logged_texts = [by_op[p.op]["data"]["text"] for p in story]
        assert logged_texts == texts, writer.name
        if writer.name != "cards":
            versions = [by_op[p.op]["data"]["version"] for p in story]
            assert versions == list(range(1, len(story) + 1)), (writer.name, versions)
            assert stack.field_value(conversation_id, writer.name)[0] == texts[-1]
    card_counts = stack.query(
        "SELECT text, COUNT(*) FROM worksheets_card WHERE conversation_id = ? GROUP BY text",
        (conversation_id,),
    )
    cards = writers[2]
    assert dict(card_counts) == {p.fields["text"]: 1 for p in cards.acked + cards.resent}, (
        "a card was lost or added twice"
    )

    # The socket: the connection after the restart replayed exactly what it missed.
    assert sock.wait_for_seq(final_seq, 15), f"socket stuck at {sock.last_seq} of {final_seq}"
    sock.stop()
    assert_stream_complete(sock, events)
    if sig == signal.SIGTERM:
        # The socket was closed by the server, as a restart (1012) or going away (1001), not
        # cut off: the page reconnects on its own without showing an error.
        cut = [c for c in sock.connections if c.opened_at < signalled_at][-1]
        assert cut.close_code in (1001, 1012), f"closed with {cut.close_code}"
    first = next(c for c in sock.connections if c.opened_at >= killed_at)
    assert first.hello >= seq_at_kill, "the socket did not resume from its own cursor"
    missed = list(range(first.hello + 1, missed_up_to + 1))
    assert first.replayed[: len(missed)] == missed, (
        f"after hello {first.hello} the replay brought {first.replayed}, missed were {missed}"
    )

    print(
        f"\n{sig.name}: stopped in {stopped_in:.2f}s, acked before kill {len(acked_before)}, "
        f"pending {len(pending)} "
        f"(of which committed before the kill: {committed_unacked or 'none'}), "
        f"socket resumed {resumed_in:.2f}s after the server answered, "
        f"connections {len(sock.connections)}, final seq {final_seq}"
    )
