"""PostgreSQL goes away for 10 s under a running server (issue 7, "Failure behaviour").

The server reaches PostgreSQL through a proxy in this test process (`harness.Proxy`, a plain
TCP forwarder) that drops every connection and refuses new ones while cut; Redis is the real
one. The test reads the truth straight from PostgreSQL, past the proxy.

While the database is gone an edit cannot be stored, so it must not be acknowledged: no 303
(nor any other 2xx/3xx a browser would take for "saved"), but an error status or a lost
connection, and nothing of it in the database. The clients keep their unsent posts, as
live.js keeps a form marked "niet opgeslagen", and resend them with their ORIGINAL operation
ids once the database is back: each is then applied exactly once (one event per operation,
the field texts and versions as expected, one card). Sockets converge to the event log within
5 s of the database's return, `/health/ready` says 503 during the outage and 200 after it, and
no answer carries a traceback: a 5xx is fine for a database that is gone, but as a short page.

The first test is the protocol with clients that behave as the live protocol says; the
second checks that live.js in a real browser (Debian's chromium) is such a client.
"""

from __future__ import annotations

import os
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.reliability.harness import (
    DEFAULT_DATABASE_URL,
    SESSION_COOKIE,
    Browser,
    LiveSocket,
    Post,
    Proxy,
    SendFailed,
    Server,
    Stack,
    assert_stream_complete,
    card_target,
    card_writer,
    create_conversation,
    invite,
    join,
    text_writer,
    wait_until,
)

OUTAGE = 10.0  # seconds the database is gone
CONVERGE_WITHIN = 5.0  # seconds from the database's return to every socket at the log's end
RECOVER_WITHIN = 5.0  # seconds from the database's return to every resend acknowledged
SHORT_PAGE = 4096  # bytes: an error page for a database outage has little to say
# What a stack trace or Django's debug page would show.
TRACE_MARKERS = (
    "Traceback",
    'File "/',
    "site-packages",
    "Exception Value",
    "psycopg",
    "OperationalError",
)
REAL_POSTGRES = urllib.parse.urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def pg_proxy(pg_stack: Stack) -> Iterator[Proxy]:
    """A way to PostgreSQL that can be cut; the stack itself (migrations, the test's own
    reads) keeps using the database directly."""
    proxy = Proxy(REAL_POSTGRES.hostname or "127.0.0.1", REAL_POSTGRES.port or 5432)
    yield proxy
    proxy.close()


def proxied(database_url: str, proxy: Proxy) -> str:
    """The same database URL, through the proxy."""
    url = urllib.parse.urlsplit(database_url)
    netloc = f"127.0.0.1:{proxy.port}"
    if url.username:
        netloc = url.username + (f":{url.password}" if url.password else "") + "@" + netloc
    return urllib.parse.urlunsplit(url._replace(netloc=netloc))


def start_behind_proxy(stack: Stack, proxy: Proxy, start_server) -> tuple[Server, Browser]:
    assert stack.database_url
    (server,) = start_server(
        stack, "server", wait=False, env={"DATABASE_URL": proxied(stack.database_url, proxy)}
    )
    username, password = stack.create_facilitator()
    server.wait_ready()
    facilitator = Browser(server.url, timeout=8)
    facilitator.login(username, password)
    return server, facilitator


@dataclass
class Seen:
    """One request and what came back: a status, or no answer at all."""

    phase: str
    who: str
    what: str
    at: float  # seconds after the cut
    took: float
    status: int | None  # None: no answer (the connection failed)
    body: str = ""
    error: str = ""

    def line(self) -> str:
        answer = self.status if self.status is not None else f"no answer ({self.error})"
        return (
            f"{self.phase:8} t={self.at:5.2f}s {self.who:8} {self.what:18} -> {answer} "
            f"in {self.took * 1000:.0f} ms, {len(self.body)} bytes"
        )


class Recorder:
    """Every request of the test from the cut on, with what it got."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.cut_at = time.monotonic()

    def since_cut(self) -> float:
        return time.monotonic() - self.cut_at

    def request(
        self, phase: str, who: str, browser: Browser, what: str, post: Post | None = None
    ) -> Seen:
        started = time.monotonic()
        status, body, error = None, "", ""
        try:
            response = browser.get(what) if post is None else browser.post(post.path, post.fields)
            status, body = response.status, response.body
        except SendFailed as failed:
            error = str(failed)[-120:]
        took = time.monotonic() - started
        seen = Seen(phase, who, what, started - self.cut_at, took, status, body, error)
        self.seen.append(seen)
        return seen

    def probe(self, phase: str, server: Server, path: str) -> Seen:
        return self.request(phase, "probe", Browser(server.url, timeout=5), path)

    def report(self) -> str:
        return "\n".join(seen.line() for seen in self.seen)


def test_edits_during_a_database_outage_are_refused_kept_and_applied_once(
    pg_stack: Stack, pg_proxy: Proxy, start_server
) -> None:
    server, facilitator = start_behind_proxy(pg_stack, pg_proxy, start_server)
    conversation_id = create_conversation(facilitator, "Zonder database")
    writer_a = join(server.url, invite(facilitator, conversation_id, "Schrijver A"))
    writer_b = join(server.url, invite(facilitator, conversation_id, "Schrijver B"))
    observer = join(server.url, invite(facilitator, conversation_id, "Kijker", "waarnemer"))
    for browser in (writer_a, writer_b, observer):
        browser.timeout = 8
    column, row = card_target(facilitator.get(f"/g/{conversation_id}/").body, conversation_id)
    writers: dict[str, tuple[Browser, Callable[[int, int], Post]]] = {
        "dilemma": (writer_a, text_writer(conversation_id, "dilemma", "dilemma")),
        "urgency": (writer_b, text_writer(conversation_id, "urgency", "urgentie")),
        "cards": (facilitator, card_writer(conversation_id, column, row)),
    }
    text_keys = ("dilemma", "urgency")

    # Before: one acknowledged edit each, so the text fields stand at version 1.
    first = {name: make(0, 0) for name, (_browser, make) in writers.items()}
    for name, (browser, _make) in writers.items():
        response = browser.post(first[name].path, first[name].fields)
        assert response.status == 303, f"{response.status}: {response.body[:1000]}"
    events_before = pg_stack.events(conversation_id)
    seq_before = pg_stack.last_seq(conversation_id)
    steady = LiveSocket([server.ws_url], conversation_id, observer.session, "steady").start()
    late: LiveSocket | None = None
    try:
        assert steady.wait_for_seq(seq_before, 10), "the socket never caught up before the cut"
        assert Browser(server.url, timeout=5).get("/health/ready").status == 200

        # --- the database goes away ---------------------------------------------------------
        pg_proxy.cut()
        rec = Recorder()
        # What each client saves now and keeps, unanswered, until the database is back.
        kept = {name: make(1, 1) for name, (_browser, make) in writers.items()}
        refused = [rec.probe("outage", server, "/health/ready")]
        for name, (browser, _make) in writers.items():
            refused.append(rec.request("outage", name, browser, "POST save", kept[name]))
        page = rec.request("outage", "observer", observer, f"/g/{conversation_id}/")
        live = rec.probe("outage", server, "/health/live")
        # A screen that opens its socket while the database is gone.
        late = LiveSocket([server.ws_url], conversation_id, observer.session, "late").start()
        while rec.since_cut() < OUTAGE / 2:
            rec.probe("outage", server, "/health/ready")
            time.sleep(0.5)
        # Saving again during the outage (a second click on the same kept form).
        for name, (browser, _make) in writers.items():
            refused.append(rec.request("outage", name, browser, "POST again", kept[name]))
        while rec.since_cut() < OUTAGE - 0.7:
            rec.probe("outage", server, "/health/ready")
            time.sleep(0.5)

        # Nothing of the refused posts reached the database, not even half of one.
        assert pg_stack.events(conversation_id) == events_before, "the log changed meanwhile"
        assert pg_stack.last_seq(conversation_id) == seq_before
        for key in text_keys:
            assert pg_stack.field_value(conversation_id, key) == (first[key].fields["text"], 1)
        cards_during = pg_stack.query(
            "SELECT text FROM worksheets_card WHERE conversation_id = ?", (conversation_id,)
        )
        assert cards_during == [(first["cards"].fields["text"],)], cards_during

        wait_until(lambda: rec.since_cut() >= OUTAGE, OUTAGE)
        # --- the database is back -----------------------------------------------------------
        pg_proxy.restore()
        restored = time.monotonic()

        # Each client resends its kept post with its original operation id (live.js does so
        # when its socket is `ready` again), a moment later again while it is not acknowledged.
        acked_in: dict[str, float] = {}
        while len(acked_in) < len(writers) and time.monotonic() < restored + RECOVER_WITHIN + 5:
            for name, (browser, _make) in writers.items():
                if name not in acked_in:
                    seen = rec.request("recovery", name, browser, "POST resend", kept[name])
                    if seen.status == 303:
                        acked_in[name] = time.monotonic() - restored
            time.sleep(0.1)
        ready_after = wait_for_status(server, "/health/ready", 200, RECOVER_WITHIN + 5)
        ready_in = time.monotonic() - restored

        final_seq = pg_stack.last_seq(conversation_id)
        left = max(0.1, restored + CONVERGE_WITHIN + 2 - time.monotonic())
        steady_converged = steady.wait_for_seq(final_seq, left)
        steady_in = time.monotonic() - restored
        late_converged = late.wait_for_seq(final_seq, max(0.1, left - steady_in))
        late_in = time.monotonic() - restored

        # Once more each, now that it was applied: the original answer and no second change.
        for name, (browser, _make) in writers.items():
            again = rec.request("recovery", name, browser, "POST resend again", kept[name])
            assert again.status == 303, f"{name}: a repeated resend got {again.status}"

        ready_during = [s.status for s in rec.seen if s.phase == "outage" and "ready" in s.what]
        summary = (
            f"{rec.report()}\n"
            f"/health/ready 200 again {ready_in:.2f}s after the restore (last: {ready_after})\n"
            f"resends acknowledged after: "
            f"{ {name: round(t, 2) for name, t in acked_in.items()} } s\n"
            f"sockets at seq {final_seq} after: steady {steady_in:.2f}s ({steady_converged}), "
            f"late {late_in:.2f}s ({late_converged})\n"
            f"steady: {len(steady.connections)} connection(s), drops {steady.drops[:2]}, "
            f"errors {steady.errors[:2]}\n"
            f"late: {len(late.connections)} connection(s), {len(late.errors)} refused "
            f"handshake(s), first: {late.errors[:1]}"
        )
        print(summary)

        # --- during the outage: refused, never acknowledged, no traceback -------------------
        for seen in refused[1:]:
            assert seen.status is None or not 200 <= seen.status < 400, (
                f"{seen.who} {seen.what} was answered {seen.status} without a database:\n{summary}"
            )
        assert page.status is None or page.status >= 500, summary
        assert live.status == 200, summary  # the process itself is fine
        assert ready_during and set(ready_during) == {503}, summary
        for seen in rec.seen:
            if seen.status is not None and seen.status >= 500:
                traces = [marker for marker in TRACE_MARKERS if marker in seen.body]
                assert not traces, f"{seen.who} {seen.what}: a traceback:\n{seen.body[:3000]}"
                assert len(seen.body) <= SHORT_PAGE, f"{seen.who} {seen.what}: {len(seen.body)}"
        # The late socket was refused at the handshake, never told "not a member" (4403:
        # live.js would give up on the conversation for good).
        assert not steady.forbidden and not late.forbidden
        assert all("InvalidStatus" in error for error in late.errors), late.errors[:3]

        # --- after it: back without a restart, every kept post applied exactly once ---------
        assert ready_after == 200, summary
        assert set(acked_in) == set(writers), f"not acknowledged after the restore:\n{summary}"
        assert max(acked_in.values()) <= RECOVER_WITHIN, summary
        assert server.process is not None and server.process.poll() is None
        assert server.starts == 1

        events = pg_stack.events(conversation_id)
        assert [e["seq"] for e in events] == list(range(1, final_seq + 1))
        assert events[: len(events_before)] == events_before
        added = events[len(events_before) :]
        assert sorted(e["op"] for e in added) == sorted(post.op for post in kept.values()), (
            f"not one event per kept operation: {[(e['event'], e['op']) for e in added]}"
        )
        by_op = {e["op"]: e for e in added}
        for key in text_keys:
            event = by_op[kept[key].op]
            text = kept[key].fields["text"]
            assert event["event"] == "field.updated"
            assert (event["data"]["key"], event["data"]["text"], event["data"]["version"]) == (
                key,
                text,
                2,
            )
            assert pg_stack.field_value(conversation_id, key) == (text, 2)
        card = by_op[kept["cards"].op]
        assert (card["event"], card["data"]["text"]) == ("card.added", kept["cards"].fields["text"])
        card_counts = pg_stack.query(
            "SELECT text, COUNT(*) FROM worksheets_card WHERE conversation_id = ? GROUP BY text",
            (conversation_id,),
        )
        assert dict(card_counts) == {
            first["cards"].fields["text"]: 1,
            kept["cards"].fields["text"]: 1,
        }, "a card was lost or added twice"

        # --- every screen follows ---------------------------------------------------------------
        assert steady_converged and steady_in <= CONVERGE_WITHIN, summary
        assert late_converged and late_in <= CONVERGE_WITHIN, summary
        assert_stream_complete(steady, events)
    finally:
        steady.stop()
        if late is not None:
            late.stop()
        pg_proxy.restore()


def wait_for_status(server: Server, path: str, status: int, timeout: float) -> int | None:
    last: list[int | None] = [None]

    def answered() -> bool:
        try:
            last[0] = Browser(server.url, timeout=5).get(path).status
        except SendFailed:
            last[0] = None
        return last[0] == status

    wait_until(answered, timeout, every=0.1)
    return last[0]


# --- the same with live.js in a real browser ------------------------------------------------

BROWSER_OUTAGE = 4.0  # seconds: what live.js does with a refused save does not depend on it


@pytest.mark.browser
@pytest.mark.skipif(
    not CHROMIUM.exists() and os.environ.get("CI") != "true",
    reason=f"{CHROMIUM} ontbreekt; `make test` installeert chromium",
)
def test_live_js_keeps_an_edit_the_server_could_not_store_and_resends_it(
    pg_stack: Stack, pg_proxy: Proxy, start_server, browser
) -> None:
    from playwright.sync_api import expect

    server, facilitator = start_behind_proxy(pg_stack, pg_proxy, start_server)
    conversation_id = create_conversation(facilitator, "Zonder database, in de browser")
    context = browser.new_context(base_url=server.url, locale="nl-NL")
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": SESSION_COOKIE, "value": facilitator.session, "url": server.url}])
    try:
        page = context.new_page()
        page.goto(f"/g/{conversation_id}/")
        status_line = page.locator("[data-dg-live-status]")
        expect(status_line).to_have_attribute("data-state", "online")
        form = page.locator("#field-dilemma form.dg-field__form")
        text = "Getypt terwijl de database weg was"

        pg_proxy.cut()
        cut_at = time.monotonic()
        try:
            page.locator("#field-dilemma-text").fill(text)
            # Saved over the socket (answered not_saved) or, without it, posted (answered
            # 5xx): either way refused, since the server has no database.
            form.locator("button[type=submit]").first.click()
            # The narrowest claim: a save the server could not store is kept as unsent, and
            # the page never says it was saved.
            expect(form).to_have_attribute("data-dg-pending", "", timeout=2_000)
            expect(status_line).to_contain_text("niet opgeslagen", timeout=2_000)
            while time.monotonic() - cut_at < BROWSER_OUTAGE:
                assert status_line.get_attribute("data-state") != "saved"
                time.sleep(0.2)
        finally:
            pg_proxy.restore()
        # Back: live.js resends it by itself, once.
        assert wait_until(
            lambda: pg_stack.field_value(conversation_id, "dilemma")[0] == text, 8, every=0.2
        ), "the kept edit was never resent"
        ops = [e["op"] for e in pg_stack.events(conversation_id) if e["event"] == "field.updated"]
        assert len(ops) == 1, ops
    finally:
        context.close()
