"""A form sent twice (a double click, a resend after the network dropped) is applied once."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone

from dilemmagesprek.accounts.models import User
from dilemmagesprek.conversations import actions as conversation_actions
from dilemmagesprek.conversations import events
from dilemmagesprek.conversations.events import (
    AlreadyApplied,
    OperationReused,
    locked,
    operation,
)
from dilemmagesprek.conversations.models import Conversation, Event, Member
from dilemmagesprek.worksheets import actions
from dilemmagesprek.worksheets.models import Card, Column, FieldValue

pytestmark = pytest.mark.django_db


@pytest.fixture
def facilitator_client():
    user = User.objects.create_user("leider", password="x" * 16)
    conversation, facilitator = actions.new_conversation(user, "Gesprek", "lang")
    client = Client()
    client.force_login(user)
    return client, conversation


def test_it_applies_a_resent_card_once(facilitator_client):
    client, conversation = facilitator_client
    column = Column.objects.filter(conversation=conversation, matrix="players").first()
    url = f"/g/{conversation.pk}/kolom/{column.pk}/kaart/"
    form = {"row": "standpunten", "text": "Eén keer", "op": "op-abcdef123456"}
    first = client.post(url, form)
    second = client.post(url, form)
    assert first.status_code == second.status_code == 303
    assert Card.objects.filter(conversation=conversation, text="Eén keer").count() == 1
    assert Event.objects.filter(conversation=conversation, op="op-abcdef123456").count() == 1


def test_it_applies_distinct_operations_separately(facilitator_client):
    client, conversation = facilitator_client
    column = Column.objects.filter(conversation=conversation, matrix="players").first()
    url = f"/g/{conversation.pk}/kolom/{column.pk}/kaart/"
    for op in ("op-first-000001", "op-second-00002"):
        client.post(url, {"row": "standpunten", "text": "Twee keer", "op": op})
    assert Card.objects.filter(conversation=conversation, text="Twee keer").count() == 2


def test_it_ignores_a_malformed_operation_id(facilitator_client):
    client, conversation = facilitator_client
    url = f"/g/{conversation.pk}/veld/dilemma/"
    response = client.post(url, {"text": "Tekst", "version": "0", "op": "<script>"})
    assert response.status_code == 303
    event = Event.objects.filter(conversation=conversation, type="field.updated").get()
    assert event.op is None


def test_every_worksheet_form_carries_an_operation_id(facilitator_client):
    client, conversation = facilitator_client
    html = client.get(f"/g/{conversation.pk}/").content.decode()
    forms = html.count('hx-post="')
    assert forms > 10
    assert html.count('name="op"') == forms


# --- the write path itself: the unique constraint decides, the earlier event answers ----------
# A resend is recognised by the constraint on the event it marks, not by a lookup before the
# action runs; these tests pin down that the answer stays the original one whatever the
# resend runs into now.


@pytest.fixture
def cast_members():
    user = User.objects.create_user("leider", password="x" * 16)
    conversation, facilitator = actions.new_conversation(user, "Gesprek", "lang")
    return conversation, facilitator


def test_a_resend_is_answered_with_its_first_result_after_the_field_moved_on(cast_members):
    conversation, facilitator = cast_members
    with operation("op-first-save-01", "digest-a"):
        actions.set_field(facilitator, "dilemma", "Eerste tekst", 0)
    actions.set_field(facilitator, "dilemma", "Iemand anders schreef verder", 1)

    # The same save again, based on a version that is no longer current: not a conflict to
    # resolve, but the answer it had the first time.
    with pytest.raises(AlreadyApplied) as done, operation("op-first-save-01", "digest-a"):
        actions.set_field(facilitator, "dilemma", "Eerste tekst", 0)
    assert done.value.event.data["text"] == "Eerste tekst"
    assert FieldValue.objects.get(conversation=conversation, key="dilemma").text == (
        "Iemand anders schreef verder"
    )


def test_a_resend_of_a_card_edit_is_answered_after_the_card_was_removed(cast_members):
    conversation, facilitator = cast_members
    column = Column.objects.filter(conversation=conversation, matrix="players").first()
    card = actions.add_card(facilitator, column.pk, "standpunten", "Eerst")
    with operation("op-card-edit-01", "digest-b"):
        actions.edit_card(facilitator, card.pk, "Daarna")
    actions.remove_card(facilitator, card.pk)

    with pytest.raises(AlreadyApplied) as done, operation("op-card-edit-01", "digest-b"):
        actions.edit_card(facilitator, card.pk, "Daarna")
    assert done.value.event.type == "card.updated"


def test_a_resend_that_would_change_something_again_is_rolled_back(cast_members):
    conversation, facilitator = cast_members
    column = Column.objects.filter(conversation=conversation, matrix="players").first()
    with operation("op-add-card-01", "digest-c"):
        actions.add_card(facilitator, column.pk, "standpunten", "Eén keer")
    last_seq = Conversation.objects.get(pk=conversation.pk).last_seq

    with pytest.raises(AlreadyApplied), operation("op-add-card-01", "digest-c"):
        actions.add_card(facilitator, column.pk, "standpunten", "Eén keer")
    assert Card.objects.filter(conversation=conversation, text="Eén keer").count() == 1
    assert Conversation.objects.get(pk=conversation.pk).last_seq == last_seq


def test_an_operation_id_reused_for_other_content_is_refused(cast_members):
    conversation, facilitator = cast_members
    with operation("op-reused-0001", "digest-d"):
        actions.set_field(facilitator, "dilemma", "Eerste tekst", 0)
    with pytest.raises(OperationReused), operation("op-reused-0001", "digest-other"):
        actions.set_field(facilitator, "dilemma", "Andere tekst", 1)
    assert FieldValue.objects.get(conversation=conversation, key="dilemma").text == "Eerste tekst"


def test_an_operation_that_was_refused_can_be_sent_again(cast_members):
    conversation, facilitator = cast_members
    with pytest.raises(ValidationError), operation("op-too-long-01", "digest-e"):
        actions.set_field(facilitator, "dilemma", "x" * 100_000, 0)
    assert not Event.objects.filter(op="op-too-long-01").exists()

    # Nothing was applied under that id, so the corrected text goes through under it.
    with operation("op-too-long-01", "digest-f"):
        actions.set_field(facilitator, "dilemma", "Korter", 0)
    assert FieldValue.objects.get(conversation=conversation, key="dilemma").text == "Korter"


# --- the two reads every write starts with are written as SQL; they must read what the ORM reads


def test_the_locked_row_is_the_conversation_as_the_orm_reads_it(cast_members):
    conversation, facilitator = cast_members
    Conversation.objects.filter(pk=conversation.pk).update(
        step_options={"2": {"locked": True}}, locked_fields=["dilemma"],
        timer_started_at=timezone.now(), step_seconds={"1": 61}, current_step=2,
    )
    expected = Conversation.objects.get(pk=conversation.pk)
    with locked(conversation.pk) as row:
        for field in Conversation._meta.concrete_fields:
            assert getattr(row, field.attname) == getattr(expected, field.attname), field.name
        assert row.method.field("dilemma") is not None


def test_locking_a_conversation_that_is_gone_says_so(cast_members):
    with pytest.raises(Conversation.DoesNotExist), locked("no-such-id"):
        pass


def test_a_member_removed_or_waiting_can_no_longer_write(cast_members):
    conversation, facilitator = cast_members
    participant, _token = conversation_actions.invite_member(
        facilitator, "Anna", Member.Role.PARTICIPANT
    )
    actions.set_field(participant, "dilemma", "Mag nog", 0)

    Member.objects.filter(pk=participant.pk).update(waiting=True)
    with pytest.raises(PermissionDenied):
        actions.set_field(participant, "dilemma", "Mag niet meer", 1)
    Member.objects.filter(pk=participant.pk).update(waiting=False, removed_at=timezone.now())
    with pytest.raises(PermissionDenied):
        actions.set_field(participant, "dilemma", "Mag niet meer", 1)
    assert FieldValue.objects.get(conversation=conversation, key="dilemma").text == "Mag nog"


@pytest.mark.parametrize("returning", [True, False], ids=["insert-returning", "last-insert-id"])
def test_an_event_is_stored_as_the_orm_would_store_it(
    cast_members, monkeypatch, django_capture_on_commit_callbacks, returning
):
    # SQLite before 3.35 cannot return the new row's id from the INSERT; both ways must agree.
    # (PostgreSQL always can.)
    if not returning and connection.vendor != "sqlite":
        pytest.skip("only SQLite may lack INSERT … RETURNING")
    conversation, facilitator = cast_members
    monkeypatch.setattr(connection.features, "can_return_columns_from_insert", returning)
    published: list[Event] = []
    monkeypatch.setattr(events, "subscribers", [published.append])
    before = Conversation.objects.get(pk=conversation.pk).last_seq
    with django_capture_on_commit_callbacks(execute=True), operation("op-stored-01", "digest-g"):
        value = actions.set_field(facilitator, "dilemma", "Regel één\nregel “twee”", 0)

    assert Conversation.objects.get(pk=conversation.pk).last_seq == before + 1
    stored = Event.objects.get(conversation=conversation, seq=before + 1)
    assert stored.type == "field.updated"
    assert stored.data["text"] == "Regel één\nregel “twee”"
    assert stored.data["version"] == value.version
    assert stored.actor_id == facilitator.pk
    assert (stored.op, stored.op_digest) == ("op-stored-01", "digest-g")
    assert abs((timezone.now() - stored.created_at).total_seconds()) < 60
    # What the live layer was given is that row, its id included.
    [event] = published
    assert (event.pk, event.seq, event.data) == (stored.pk, stored.seq, stored.data)
