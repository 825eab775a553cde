"""Saving a text over the socket: stored once, answered, pushed to everyone; anything but a plain
save is refused so the page falls back to its form, and nothing changes."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from django.db import DatabaseError, OperationalError, connection, connections
from django.test import Client

from dilemmagesprek.conversations import actions as conversation_actions
from dilemmagesprek.conversations.events import content_digest, operation
from dilemmagesprek.conversations.models import Event
from dilemmagesprek.realtime.db import database_work
from dilemmagesprek.worksheets import actions, facilitation, live_writes
from dilemmagesprek.worksheets.models import FieldValue
from tests import test_realtime
from tests.test_realtime import (
    close_of,
    ready_sockets,
    receive,
    run,
    session_cookie_for_member,
    session_cookie_for_user,
)

people = test_realtime.people  # the same fixture: a facilitator, a participant, an outsider

pytestmark = pytest.mark.django_db(transaction=True)

FIELD = "dilemma"  # a text field no confirmation or hints hang on


def save_frame(text: str, version: int, op: str = "op-aaaaaaaa", field: str = FIELD) -> str:
    return json.dumps({"type": "save", "op": op, "field": field, "text": text, "version": version})


async def answer_to(comm) -> dict:
    """The answer to a save: the next frame that is not an event, presence or typing."""
    while True:
        frame = await receive(comm)
        if frame["type"] != "event":
            return frame


def value(conversation) -> FieldValue | None:
    return FieldValue.objects.filter(conversation=conversation, key=FIELD).first()


def test_a_save_is_stored_answered_and_pushed_to_every_socket(people):
    conversation = people["conversation"]
    writer = session_cookie_for_member(people["participant"])
    reader = session_cookie_for_user(people["user"])

    async def scenario():
        comms = await ready_sockets(conversation, writer, reader)
        await comms[0].send_to(text_data=save_frame("Regel een\nregel twee", 0))
        assert await answer_to(comms[0]) == {
            "type": "saved", "op": "op-aaaaaaaa", "field": FIELD, "version": 1,
            "text": "Regel een\nregel twee",
        }
        pushed = await receive(comms[1])
        assert pushed["event"] == "field.updated"
        assert pushed["seq"] == conversation.last_seq + 1
        assert pushed["data"]["text"] == "Regel een\nregel twee"
        assert pushed["actor"] == people["participant"].pk
        for comm in comms:
            await comm.disconnect()

    run(scenario)
    assert value(conversation).text == "Regel een\nregel twee"
    assert value(conversation).updated_by_id == people["participant"].pk


def test_a_resent_save_is_applied_once_and_answered_alike(people):
    conversation = people["conversation"]
    writer = session_cookie_for_member(people["participant"])

    async def scenario():
        (comm,) = await ready_sockets(conversation, writer)
        answers = []
        for _ in range(2):
            await comm.send_to(text_data=save_frame("Eén keer", 0))
            answers.append(await answer_to(comm))
        assert answers[0] == answers[1]
        assert answers[0]["version"] == 1
        await comm.disconnect()

    run(scenario)
    assert Event.objects.filter(conversation=conversation, op="op-aaaaaaaa").count() == 1
    assert value(conversation).version == 1


def test_saves_sent_back_to_back_are_each_applied_in_the_order_they_were_sent(people):
    """Fast typing: the page sends its next save before the answer to the last one arrives."""
    conversation = people["conversation"]
    writer = session_cookie_for_member(people["participant"])
    texts = [f"Versie {n} van de tekst" for n in range(1, 6)]

    async def scenario():
        (comm,) = await ready_sockets(conversation, writer)
        for version, text in enumerate(texts):
            await comm.send_to(text_data=save_frame(text, version, op=f"op-volgorde{version}"))
        answers = [await answer_to(comm) for _ in texts]
        assert [(a["type"], a["version"], a["text"]) for a in answers] == [
            ("saved", version + 1, text) for version, text in enumerate(texts)
        ]
        await comm.disconnect()

    run(scenario)
    assert value(conversation).text == texts[-1]
    assert value(conversation).version == len(texts)


def test_a_form_post_of_a_save_that_arrived_over_the_socket_is_not_applied_again(people):
    """The page may resend over HTTP what reached the server over a socket that then broke."""
    conversation = people["conversation"]
    live_writes.save_text(
        people["facilitator"].pk, conversation.pk, FIELD, "Twee\nregels", 0, "op-bbbbbbbb"
    )
    client = Client()
    client.force_login(people["user"])
    response = client.post(
        f"/g/{conversation.pk}/veld/{FIELD}/",
        {"text": "Twee\r\nregels", "version": "0", "op": "op-bbbbbbbb"},
    )
    assert response.status_code == 303
    assert Event.objects.filter(conversation=conversation, type="field.updated").count() == 1
    assert value(conversation).version == 1


def test_a_stale_save_that_cannot_be_merged_is_rejected_and_changes_nothing(people):
    conversation = people["conversation"]
    actions.set_field(people["facilitator"], FIELD, "Eerste versie van de tekst", None)
    actions.set_field(people["facilitator"], FIELD, "Tweede versie, heel anders", 1)
    conversation.refresh_from_db()
    before = conversation.last_seq
    answer = live_writes.save_text(
        people["participant"].pk, conversation.pk, FIELD, "Derde, ook anders", 1, "op-cccccccc"
    )
    assert answer == {"type": "rejected", "op": "op-cccccccc"}
    conversation.refresh_from_db()
    assert conversation.last_seq == before
    assert value(conversation).text == "Tweede versie, heel anders"


def test_a_stale_save_of_other_words_is_merged_and_the_answer_carries_the_merge(people):
    conversation = people["conversation"]
    actions.set_field(people["facilitator"], FIELD, "alfa\nbeta\ngamma", None)
    actions.set_field(people["facilitator"], FIELD, "ALFA\nbeta\ngamma", 1)
    answer = live_writes.save_text(
        people["participant"].pk, conversation.pk, FIELD, "alfa\nbeta\nGAMMA", 1, "op-dddddddd"
    )
    assert answer["type"] == "saved"
    assert answer["text"] == "ALFA\nbeta\nGAMMA"
    assert answer["version"] == 3


@pytest.mark.parametrize("case", ["locked", "too_long", "unknown_field", "reused_op"])
def test_a_save_the_form_must_explain_is_rejected_and_changes_nothing(people, case):
    conversation = people["conversation"]
    text, field, op = "Een tekst", FIELD, "op-eeeeeeee"
    if case == "locked":
        facilitation.lock_field(people["facilitator"], FIELD, True)
    elif case == "too_long":
        text = "x" * 5000
    elif case == "unknown_field":
        field = "bestaat-niet"
    elif case == "reused_op":
        live_writes.save_text(people["participant"].pk, conversation.pk, FIELD, "Iets", 0, op)
    conversation.refresh_from_db()
    before = (conversation.last_seq, getattr(value(conversation), "text", None))
    answer = live_writes.save_text(people["participant"].pk, conversation.pk, field, text, 0, op)
    assert answer == {"type": "rejected", "op": op}
    conversation.refresh_from_db()
    assert (conversation.last_seq, getattr(value(conversation), "text", None)) == before


def test_a_save_from_a_removed_member_closes_their_socket(people):
    conversation = people["conversation"]
    participant = people["participant"]
    writer = session_cookie_for_member(participant)

    async def scenario():
        (comm,) = await ready_sockets(conversation, writer)
        # Removed behind the hub's back: the socket is not told, so the write must find out.
        await database_sync_to_async(
            lambda: type(participant).objects.filter(pk=participant.pk).update(
                removed_at=conversation.created_at
            )
        )()
        await comm.send_to(text_data=save_frame("Mag dit nog?", 0))
        assert await close_of(comm) == {"type": "websocket.close", "code": 4403}

    run(scenario)
    assert value(conversation) is None


def test_a_save_the_database_cannot_take_is_answered_not_saved(people, monkeypatch):
    conversation = people["conversation"]
    writer = session_cookie_for_member(people["participant"])

    def database_away(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(live_writes.actions, "set_field", database_away)

    async def scenario():
        (comm,) = await ready_sockets(conversation, writer)
        await comm.send_to(text_data=save_frame("Komt later", 0))
        assert await answer_to(comm) == {"type": "not_saved", "op": "op-aaaaaaaa"}
        await comm.send_to(text_data='{"type": "ping"}')
        assert await receive(comm) == {"type": "pong"}
        await comm.disconnect()

    run(scenario)
    assert value(conversation) is None


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "save", "op": "op-aaaaaaaa", "field": FIELD, "text": "x"},  # no version
        {"type": "save", "op": "kort", "field": FIELD, "text": "x", "version": 0},
        {"type": "save", "op": "op-aaaaaaaa", "field": "../x", "text": "x", "version": 0},
        {"type": "save", "op": "op-aaaaaaaa", "field": FIELD, "text": 5, "version": 0},
        {"type": "save", "op": "op-aaaaaaaa", "field": FIELD, "text": "x", "version": -1},
    ],
)
def test_a_malformed_save_is_answered_with_an_error_and_changes_nothing(people, frame):
    conversation = people["conversation"]
    writer = session_cookie_for_member(people["participant"])
    before = conversation.last_seq

    async def scenario():
        (comm,) = await ready_sockets(conversation, writer)
        await comm.send_to(text_data=json.dumps(frame))
        answer = await answer_to(comm)
        assert answer["type"] == "error"
        assert answer["code"] == "bad_fields"
        await comm.disconnect()

    run(scenario)
    conversation.refresh_from_db()
    assert conversation.last_seq == before


def test_an_observer_may_not_save_and_is_sent_to_the_form(people):
    conversation = people["conversation"]
    observer, _token = conversation_actions.invite_member(
        people["facilitator"], "Kijker", type(people["participant"]).Role.OBSERVER
    )
    answer = live_writes.save_text(
        observer.pk, conversation.pk, FIELD, "Mag niet", 0, "op-ffffffff"
    )
    assert answer == {"type": "rejected", "op": "op-ffffffff"}
    assert value(conversation) is None


# --- a card's new wording ------------------------------------------------------------------


def card_of(people, author_key: str = "participant", text: str = "Eerste kaart"):
    from dilemmagesprek.worksheets.models import Column

    column = Column.objects.filter(conversation=people["conversation"], matrix="players").first()
    return actions.add_card(people[author_key], column.pk, "standpunten", text)


def test_a_card_saved_over_the_socket_is_stored_answered_and_pushed(people):
    conversation = people["conversation"]
    card = card_of(people)
    conversation.refresh_from_db()
    writer = session_cookie_for_member(people["participant"])
    reader = session_cookie_for_user(people["user"])

    async def scenario():
        comms = await ready_sockets(conversation, writer, reader)
        frame = {"type": "save_card", "op": "op-kaart001", "card": card.pk, "text": "Nieuw"}
        for _ in range(2):  # the second is a resend: the same answer, applied once
            await comms[0].send_to(text_data=json.dumps(frame))
            assert await answer_to(comms[0]) == {
                "type": "saved", "op": "op-kaart001", "card": card.pk, "text": "Nieuw"
            }
        pushed = await receive(comms[1])
        assert pushed["event"] == "card.updated"
        assert pushed["data"]["text"] == "Nieuw"
        for comm in comms:
            await comm.disconnect()

    run(scenario)
    card.refresh_from_db()
    assert card.text == "Nieuw"
    assert Event.objects.filter(conversation=conversation, op="op-kaart001").count() == 1


@pytest.mark.parametrize("case", ["someone_elses", "empty", "unknown", "locked"])
def test_a_card_save_the_form_must_explain_is_rejected_and_changes_nothing(people, case):
    conversation = people["conversation"]
    card = card_of(people, "facilitator" if case == "someone_elses" else "participant")
    card_id, text = card.pk, "Andere woorden"
    if case == "empty":
        text = "   "
    elif case == "unknown":
        card_id = "bestaatniet1"
    elif case == "locked":
        facilitation.lock_field(people["facilitator"], "players", True)
    conversation.refresh_from_db()
    before = conversation.last_seq
    answer = live_writes.save_card(
        people["participant"].pk, conversation.pk, card_id, text, "op-kaart002"
    )
    assert answer == {"type": "rejected", "op": "op-kaart002"}
    conversation.refresh_from_db()
    card.refresh_from_db()
    assert conversation.last_seq == before
    assert card.text == "Eerste kaart"


def test_a_resent_edit_of_a_card_written_alone_is_answered_with_its_text(people):
    conversation = people["conversation"]
    facilitation.set_step_option(people["facilitator"], 2, "private", True)
    card = card_of(people)
    assert card.hidden
    answers = [
        live_writes.save_card(
            people["participant"].pk, conversation.pk, card.pk, "Alleen voor mij", "op-kaart003"
        )
        for _ in range(2)
    ]
    assert answers[0] == answers[1]
    assert answers[1]["text"] == "Alleen voor mij"


# --- the sockets' database thread keeps its connection ------------------------------------


@pytest.fixture
def closes(monkeypatch) -> list[str]:
    """Every database connection closed during the test (by alias)."""
    closed: list[str] = []
    original = type(connections["default"]).close

    def close(self):
        closed.append(self.alias)
        return original(self)

    monkeypatch.setattr(type(connections["default"]), "close", close)
    return closed


def _a_query():
    return Event.objects.count()


def _a_broken_statement():
    with connection.cursor() as cursor:
        cursor.execute("SELECT no_such_column FROM conversations_conversation")


def test_socket_saves_keep_their_database_connection(people, closes):
    # Channels closes the connection after every call when CONN_MAX_AGE is 0, so every save
    # paid for a new one (docs/performance.md); the sockets' own helper keeps it open.
    async def scenario():
        await database_work(_a_query)()
        await database_work(_a_query)()
        assert closes == []
        await database_sync_to_async(_a_query)()
        assert closes != []

    run(scenario)


def test_after_a_database_error_the_next_save_starts_on_a_fresh_connection(people, closes):
    conversation = people["conversation"]

    async def scenario():
        with pytest.raises(DatabaseError):
            await database_work(_a_broken_statement)()
        assert closes == ["default"]
        answer = await database_work(live_writes.save_text)(
            people["participant"].pk, conversation.pk, FIELD, "Na de fout", 0, "op-after-error"
        )
        assert answer["type"] == "saved"
        assert closes == ["default"]

    run(scenario)
    assert value(conversation).text == "Na de fout"


# --- the plain save: the common case in fewer steps, everything else through set_field --------


@pytest.fixture
def set_field_calls(monkeypatch):
    """Every save that goes through actions.set_field (the full path), as (key, text)."""
    calls = []
    original = actions.set_field

    def spy(actor, key, text, base_version):
        calls.append((key, text))
        return original(actor, key, text, base_version)

    monkeypatch.setattr(actions, "set_field", spy)
    return calls


def event_summary(event: Event) -> dict:
    return {
        "type": event.type, "data": event.data, "op": event.op, "op_digest": event.op_digest,
        "actor_role": event.actor.role if event.actor else None,
    }  # fmt: skip


def test_a_plain_save_stores_and_records_exactly_what_set_field_would(people, set_field_calls):
    user = people["user"]
    twin, twin_facilitator = actions.new_conversation(user, "Tweeling", "lang")
    twin_participant, _token = conversation_actions.invite_member(
        twin_facilitator, "Deelnemer", "deelnemer"
    )
    participant = people["participant"]
    assert twin_participant.role == participant.role
    for member in (participant, twin_participant):
        actions.set_field(member, FIELD, "Eerste versie", 0)
    first_saved_at = value(people["conversation"]).updated_at
    set_field_calls.clear()

    answer = live_writes.save_text(
        participant.pk, participant.conversation_id, FIELD, "  Tweede\r\nversie ", 1, "op-plain-1"
    )
    assert set_field_calls == []  # the plain path took it
    digest = content_digest([("text", "  Tweede\r\nversie "), ("version", "1")])
    with operation("op-plain-1", digest):
        expected_value = actions.set_field(twin_participant, FIELD, "  Tweede\r\nversie ", 1)

    stored = value(people["conversation"])
    assert answer == {
        "type": "saved", "op": "op-plain-1", "field": FIELD, "version": 2,
        "text": "Tweede\nversie",
    }  # fmt: skip
    assert (stored.text, stored.version, stored.updated_by_id) == (
        expected_value.text, expected_value.version, participant.pk
    )
    assert stored.updated_at >= first_saved_at
    mine = Event.objects.filter(conversation=people["conversation"]).latest("seq")
    theirs = Event.objects.filter(conversation=twin).latest("seq")
    assert event_summary(mine) == event_summary(theirs)
    conversation = people["conversation"]
    conversation.refresh_from_db()
    assert mine.seq == conversation.last_seq  # numbered as every write is


def test_the_facilitator_writes_in_a_locked_field_on_the_plain_path(people, set_field_calls):
    facilitator = people["facilitator"]
    facilitation.lock_field(facilitator, FIELD, True)
    actions.set_field(facilitator, FIELD, "Eerste versie", 0)
    set_field_calls.clear()
    answer = live_writes.save_text(
        facilitator.pk, facilitator.conversation_id, FIELD, "Tweede versie", 1, "op-plain-2"
    )
    assert answer["type"] == "saved"
    assert set_field_calls == []
    assert value(people["conversation"]).text == "Tweede versie"


def test_on_postgresql_a_connection_prepares_the_plain_saves_statements(people):
    """PostgreSQL then stops parsing and planning them for every save (settings.py)."""
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL prepares statements")
    participant = people["participant"]
    version = actions.set_field(participant, FIELD, "Versie 0", 0).version
    for n in range(1, 8):
        answer = live_writes.save_text(
            participant.pk, participant.conversation_id, FIELD, f"Versie {n}", version, f"op-p{n}"
        )
        assert answer["type"] == "saved"
        version = answer["version"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert any(s.startswith('UPDATE "worksheets_fieldvalue"') for s in prepared), prepared
    assert any('INSERT INTO "conversations_event"' in s for s in prepared), prepared
    assert value(people["conversation"]).text == "Versie 7"


@pytest.mark.parametrize(
    "case",
    [
        "stale_version", "same_text", "first_text", "locked_field", "locked_step", "closed",
        "observer", "removed", "too_long", "control_character", "unknown_field", "matrix_field",
    ],
)  # fmt: skip
def test_every_save_that_is_not_plain_goes_through_set_field(people, set_field_calls, case):
    """Whatever the answer is, set_field gave it (the tests above check the answers)."""
    conversation = people["conversation"]
    writer = people["participant"]
    facilitator = people["facilitator"]
    key, text, version = FIELD, "Nieuwe tekst", 1
    actions.set_field(facilitator, FIELD, "Eerste versie", 0)
    if case == "stale_version":
        actions.set_field(facilitator, FIELD, "Eerste versie, bijgewerkt", 1)
    elif case == "same_text":
        text = "Eerste versie"
    elif case == "first_text":
        key, version = "urgency", 0
    elif case == "locked_field":
        facilitation.lock_field(facilitator, FIELD, True)
    elif case == "locked_step":
        facilitation.set_step_option(facilitator, 1, "locked", True)
    elif case == "closed":
        type(conversation).objects.filter(pk=conversation.pk).update(status="afgerond")
    elif case == "observer":
        writer, _token = conversation_actions.invite_member(facilitator, "Kijker", "waarnemer")
    elif case == "removed":
        conversation_actions.remove_member(facilitator, writer.pk)
    elif case == "too_long":
        text = "x" * 5000
    elif case == "control_character":
        text = "Een\x07bel"
    elif case == "unknown_field":
        key = "bestaat-niet"
    elif case == "matrix_field":
        key = "players"
    set_field_calls.clear()
    conversation.refresh_from_db()
    before = conversation.last_seq

    try:
        live_writes.save_text(writer.pk, conversation.pk, key, text, version, "op-notplain")
    except live_writes.NoLongerMember:
        assert case == "removed"

    assert set_field_calls == [(key, text)]
    if case not in ("stale_version", "first_text"):  # a merge and a first text store
        conversation.refresh_from_db()
        assert conversation.last_seq == before
