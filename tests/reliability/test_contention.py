"""Contention: three people edit one text field 200 times each, at the same time.

Three real clients (the facilitator, signed in; two participants, joined by invite link) post
to a live server over HTTP, each edit based on the version that client last saw. A 409 is
answered by re-reading (the conflict page shows the current version and both texts) and
sending one's own text again on the newer version, under a new operation id. Each client also
holds a conversation socket. Afterwards the history is checked against the database:

- no silent overwrite: the field's versions in the event log are 1..N, version k was written
  by an acknowledged post based on version k-1, and each acknowledged edit is exactly one
  version (nothing acknowledged is missing, nothing refused was applied);
- no duplicates: every operation id is in the log at most once, as many as there were acks;
- everybody ends equal: each client's page and each socket's replayed stream show the
  database's final text, version and sequence number, every seq once, in order.

The "make test" PostgreSQL pass runs the same test against PostgreSQL + Redis.
"""

from __future__ import annotations

import html
import re
import threading
import time
from dataclasses import dataclass, field

from tests.reliability.harness import (
    Browser,
    LiveSocket,
    Stack,
    assert_stream_complete,
    create_conversation,
    invite,
    join,
    new_op,
    parse_field,
    read_field,
)

CLIENTS = 3
EDITS = 200
KEY = "dilemma"
TIME_LIMIT = 150  # seconds, a hard bound; about 20–60 s are needed (see the module docstring)


@dataclass
class Ack:
    client: int
    op: str
    text: str
    base: int


@dataclass
class History:
    acks: list[Ack] = field(default_factory=list)
    refused_ops: set[str] = field(default_factory=set)
    # (version shown on a 409 page, the "their text" shown for it)
    conflicts_seen: list[tuple[int, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def conflict_texts(page: str) -> tuple[str, str, int]:
    """(their text, my text still in the box, version to base the retry on) of a 409 page."""
    start = page.find(f'id="field-{KEY}"')
    theirs = re.search(r'<blockquote class="dg-quote">(.*?)</blockquote>', page[start:], re.S)
    assert theirs, "the conflict page does not show the other text"
    mine = parse_field(page, KEY)
    their_text = html.unescape(theirs.group(1).replace("<br>", "\n"))
    return their_text, mine.text, mine.version


def run_client(
    number: int,
    browser: Browser,
    sock: LiveSocket,
    conversation_id: str,
    history: History,
    deadline: float,
) -> None:
    """One person: type an edit, save it; on a conflict take the newer version, keep one's own
    text and save again. The version an edit is based on is the newest this client has seen:
    its own acknowledged save, a conflict page, or a live update on its socket."""
    path = f"/g/{conversation_id}/veld/{KEY}/"
    try:
        version = read_field(browser, conversation_id, KEY).version
        for edit in range(EDITS):
            # One word per edit: every two edits change the same words, so each concurrent
            # save is a conflict to resolve (merging edits of different words is tested in
            # tests/test_merge.py).
            text = f"client{number}edit{edit:03d}"
            for attempt in range(200):
                assert time.monotonic() < deadline, f"client {number} ran out of time"
                version = max(version, sock.field_versions.get(KEY, 0))
                op = new_op(f"c{number}e{edit}a{attempt}")
                response = browser.post(path, {"text": text, "version": str(version), "op": op})
                if response.status == 303:
                    with history.lock:
                        history.acks.append(Ack(number, op, text, version))
                    # A 303 on a post based on version v means "you are now version v + 1";
                    # the checks in the test hold the server to that.
                    version += 1
                    break
                assert response.status == 409, f"{response.status}: {response.body[:1500]}"
                their_text, my_text, version = conflict_texts(response.body)
                assert my_text == text, "the conflict page lost the text I typed"
                with history.lock:
                    history.refused_ops.add(op)
                    history.conflicts_seen.append((version, their_text))
            else:
                raise AssertionError(f"client {number} never got edit {edit} in")
    except BaseException as error:  # reported by the test, not lost in a thread
        history.failures.append(f"client {number}: {error!r}")


def test_three_clients_one_field(stack: Stack, start_server) -> None:
    (server,) = start_server(stack, "server", wait=False)
    username, password = stack.create_facilitator()
    server.wait_ready()
    facilitator = Browser(server.url)
    facilitator.login(username, password)
    conversation_id = create_conversation(facilitator, "Drie tegelijk")
    browsers = [facilitator] + [
        join(server.url, invite(facilitator, conversation_id, f"Deelnemer {n}")) for n in (1, 2)
    ]
    sockets = [
        LiveSocket([server.ws_url], conversation_id, b.session, f"client{n}").start()
        for n, b in enumerate(browsers)
    ]
    setup_seq = stack.last_seq(conversation_id)
    for sock in sockets:
        assert sock.wait_for_seq(setup_seq, 10), f"{sock.name} did not replay the setup"

    history = History()
    deadline = time.monotonic() + TIME_LIMIT
    threads = [
        threading.Thread(
            target=run_client,
            args=(n, browsers[n], sockets[n], conversation_id, history, deadline),
            daemon=True,
        )
        for n in range(CLIENTS)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1, deadline - time.monotonic()) + 5)
    elapsed = time.monotonic() - started
    assert not history.failures, history.failures
    assert len(history.acks) == CLIENTS * EDITS

    events = stack.events(conversation_id)
    final_seq = stack.last_seq(conversation_id)
    final_text, final_version = stack.field_value(conversation_id, KEY)

    # I6: the log is gap-free.
    assert [e["seq"] for e in events] == list(range(1, final_seq + 1))

    # I1: no silent overwrite. The field's versions form one chain, each link an acked post
    # based on the version before it.
    updates = [e for e in events if e["event"] == "field.updated" and e["data"]["key"] == KEY]
    assert [e["data"]["version"] for e in updates] == list(range(1, len(updates) + 1))
    assert len(updates) == len(history.acks) == final_version
    assert updates[-1]["data"]["text"] == final_text
    acks_by_op = {ack.op: ack for ack in history.acks}
    for event in updates:
        ack = acks_by_op.get(event["op"])
        assert ack is not None, f"version {event['data']['version']} has no acknowledged post"
        assert event["data"]["text"] == ack.text
        assert ack.base == event["data"]["version"] - 1, (
            f"{ack.text!r} was based on version {ack.base} but became "
            f"{event['data']['version']}: a silent overwrite"
        )
    assert sorted(e["data"]["text"] for e in updates) == sorted(a.text for a in history.acks)

    # I3: no duplicates. Every op at most once; exactly the acked ones; no refused one.
    ops = [e["op"] for e in events if e["op"] is not None]
    assert len(ops) == len(set(ops))
    assert set(ops) & set(acks_by_op) == set(acks_by_op)
    assert not set(ops) & history.refused_ops

    # A conflict page showed the text that really was the field's at the version it named.
    text_at = {e["data"]["version"]: e["data"]["text"] for e in updates}
    for version, their_text in history.conflicts_seen:
        assert text_at[version] == their_text, f"conflict page misquoted version {version}"

    # I5: every client ends equal to the database: its page and its socket.
    for n, browser in enumerate(browsers):
        page = read_field(browser, conversation_id, KEY)
        assert (page.text, page.version, page.seq) == (final_text, final_version, final_seq), n
    for sock in sockets:
        assert sock.wait_for_seq(final_seq, 15), f"{sock.name} stuck at {sock.last_seq}"
        sock.stop()
    for sock in sockets:
        assert_stream_complete(sock, events)
        last_update = [e for e in sock.applied if e["event"] == "field.updated"][-1]
        assert last_update["data"] == {
            "key": KEY,
            "text": final_text,
            "version": final_version,
            "confirmed": False,
        }

    print(
        f"\ncontention: {len(history.acks)} acks, {len(history.refused_ops)} conflicts (409) "
        f"in {elapsed:.1f}s; socket reconnects after a gap: "
        f"{[s.gaps for s in sockets]}, connections: {[len(s.connections) for s in sockets]}"
    )
