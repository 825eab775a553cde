"""lib/rows.py reads and writes a row as the ORM does: the live edit path depends on it."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, connections, transaction
from django.db.models.signals import post_init
from django.utils import timezone

from dilemmagesprek.conversations.models import Conversation, Event, Member
from dilemmagesprek.lib import rows
from dilemmagesprek.worksheets.models import FieldValue
from tests.factories import invite, make_facilitator, start_conversation

pytestmark = pytest.mark.django_db


def assert_same_row(read: object, expected: object, leave_out: str = "") -> None:
    for field in type(expected)._meta.concrete_fields:
        if field.name != leave_out:
            assert getattr(read, field.attname) == getattr(expected, field.attname), field.name


def test_it_reads_a_row_with_dates_foreign_keys_and_json_as_the_orm_does() -> None:
    conversation, facilitator = start_conversation(make_facilitator())
    Conversation.objects.filter(pk=conversation.pk).update(
        step_options={"2": {"anonymous": True}}, locked_fields=["dilemma"],
        timer_started_at=timezone.now(), current_step=3,
    )
    value = FieldValue.objects.create(
        conversation=conversation, key="dilemma", text="Één “tekst”\nmet regels",
        version=4, updated_by=facilitator, confirmed_version=4, confirmed_by=facilitator,
    )

    read_value = rows.fetch_one(FieldValue, {"conversation": conversation, "key": "dilemma"})
    read_conversation = rows.fetch_one(
        Conversation, {"id": conversation.pk}, leave_out="method_snapshot"
    )

    assert_same_row(read_value, FieldValue.objects.get(pk=value.pk))
    assert isinstance(read_value.updated_at, datetime.datetime)
    expected = Conversation.objects.get(pk=conversation.pk)
    assert_same_row(read_conversation, expected, leave_out="method_snapshot")
    # The field left out is read when it is first used, as with defer().
    assert read_conversation.get_deferred_fields() == {"method_snapshot"}
    assert read_conversation.method_snapshot == expected.method_snapshot


def test_it_finds_nothing_when_no_row_matches_the_condition() -> None:
    conversation, facilitator = start_conversation(make_facilitator())
    guest, _token = invite(facilitator, "Gast", Member.Role.PARTICIPANT)
    Member.objects.filter(pk=guest.pk).update(waiting=True)
    waiting_ok = "removed_at IS NULL AND NOT waiting"

    assert rows.fetch_one(FieldValue, {"conversation": conversation, "key": "nergens"}) is None
    assert rows.fetch_one(Member, {"id": guest.pk}, extra=waiting_ok) is None
    assert rows.fetch_one(Member, {"id": facilitator.pk}, extra=waiting_ok) == facilitator


def test_it_writes_the_named_fields_as_save_would_and_nothing_else() -> None:
    conversation, facilitator = start_conversation(make_facilitator())
    value = FieldValue.objects.create(conversation=conversation, key="dilemma", text="Oud")
    FieldValue.objects.filter(pk=value.pk).update(confirmed_version=7)  # changed elsewhere
    before = timezone.now()

    value.text, value.version, value.updated_by = "Nieuw", 1, facilitator
    changed = rows.update(value, ["text", "version", "updated_by", "updated_at"])

    stored = FieldValue.objects.get(pk=value.pk)
    assert changed == 1
    assert (stored.text, stored.version, stored.updated_by) == ("Nieuw", 1, facilitator)
    assert stored.updated_at >= before  # auto_now, as save() sets it
    assert stored.updated_at == value.updated_at
    assert stored.confirmed_version == 7  # not named, so not overwritten


def test_only_reads_the_named_fields_and_the_rest_when_first_used() -> None:
    conversation, _facilitator = start_conversation(make_facilitator())
    Conversation.objects.filter(pk=conversation.pk).update(locked_fields=["dilemma"])

    read = rows.fetch_one(Conversation, {"id": conversation.pk}, only=("status", "locked_fields"))

    expected = Conversation.objects.get(pk=conversation.pk)
    assert (read.pk, read.status, read.locked_fields) == (
        expected.pk, expected.status, ["dilemma"]
    )
    assert "title" in read.get_deferred_fields()
    assert read.title == expected.title  # read when first used, as with only()


def test_a_conditional_write_changes_only_a_row_that_is_as_expected() -> None:
    conversation, facilitator = start_conversation(make_facilitator())
    value = FieldValue.objects.create(conversation=conversation, key="dilemma", text="Oud")
    now = timezone.now()

    def write(text: str, version: int) -> int:
        return rows.update_where(
            FieldValue,
            {"text": text, "version": version + 1, "updated_by": facilitator.pk,
             "updated_at": now},
            {"conversation": conversation.pk, "key": "dilemma", "version": version},
            unequal={"text": text},
        )  # fmt: skip

    assert write("Nieuw", 5) == 0  # another version is stored
    assert write("Oud", 0) == 0  # the same text is stored
    assert FieldValue.objects.get(pk=value.pk).text == "Oud"
    assert write("Nieuw", 0) == 1

    stored = FieldValue.objects.get(pk=value.pk)
    assert (stored.text, stored.version, stored.updated_by) == ("Nieuw", 1, facilitator)
    assert stored.updated_at == now


def test_a_new_instance_has_the_given_values_and_every_other_default() -> None:
    conversation, facilitator = start_conversation(make_facilitator())

    event = rows.new(Event, conversation_id=conversation.pk, seq=99, type="x", actor_id=None)

    expected = Event(conversation=conversation, seq=99, type="x")
    assert event._state.adding is True
    assert_same_row(event, expected)
    assert event.data == {} and event.data is not rows.new(Event).data  # defaults not shared
    with pytest.raises(TypeError, match="bestaat_niet"):
        rows.new(Event, bestaat_niet=1)
    event.created_at = timezone.now()
    event.save()  # a plain unsaved instance: stored as an INSERT
    assert Event.objects.get(pk=event.pk).seq == 99


def test_a_row_read_is_a_stored_instance_that_saves_as_an_update() -> None:
    conversation, facilitator = start_conversation(make_facilitator())

    read = rows.fetch_one(Member, {"id": facilitator.pk})

    assert read._state.adding is False
    assert read._state.db == "default"
    assert read.conversation == conversation  # the foreign key resolves as usual
    read.display_name = "Andere naam"
    read.save()  # an UPDATE of the existing row, not a second member
    assert Member.objects.filter(conversation=conversation).count() == 1
    assert Member.objects.get(pk=facilitator.pk).display_name == "Andere naam"


def test_a_model_with_an_init_receiver_still_gets_its_signal() -> None:
    conversation, facilitator = start_conversation(make_facilitator())
    seen = []

    def receiver(sender: type, instance: Member, **kwargs: object) -> None:
        seen.append(instance.pk)

    post_init.connect(receiver, sender=Member)
    try:
        read = rows.fetch_one(Member, {"id": facilitator.pk})
    finally:
        post_init.disconnect(receiver, sender=Member)

    assert seen == [facilitator.pk]
    assert read == facilitator


def test_statements_are_logged_while_queries_are_captured(
    django_assert_num_queries: Callable[..., Any],
) -> None:
    conversation, facilitator = start_conversation(make_facilitator())

    with django_assert_num_queries(1) as captured:
        read = rows.fetch_one(Member, {"id": facilitator.pk})

    assert read == facilitator
    assert 'FROM "conversations_member"' in captured.captured_queries[0]["sql"]


def test_a_database_error_is_djangos_and_changes_nothing() -> None:
    conversation, facilitator = start_conversation(make_facilitator())
    read = rows.fetch_one(Member, {"id": facilitator.pk})
    read.display_name, read.role = "Nieuwe naam", None  # a role is required

    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(read, ["display_name", "role"])

    assert Member.objects.get(pk=facilitator.pk).display_name == facilitator.display_name


def test_a_statement_first_checks_the_connections_health_as_django_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conversation, facilitator = start_conversation(make_facilitator())
    db = connections["default"]
    checks: list[bool] = []
    # A new request or socket call: the connection's health is to be checked once.
    monkeypatch.setattr(db, "health_check_enabled", True)
    monkeypatch.setattr(db, "health_check_done", False)
    monkeypatch.setattr(db, "is_usable", lambda: checks.append(True) or True)

    rows.fetch_one(Member, {"id": facilitator.pk})
    rows.fetch_one(Member, {"id": facilitator.pk})

    assert checks == [True]  # once, and not again for the next statement
