"""How long a conversation is kept, purging what expired, and destroying at once."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone

from dilemmagesprek.accounts.models import User
from dilemmagesprek.audit.models import Entry
from dilemmagesprek.conversations import actions as conversation_actions
from dilemmagesprek.conversations import retention
from dilemmagesprek.conversations.models import Conversation, Event, Member
from dilemmagesprek.preparations.actions import save_preparation
from dilemmagesprek.preparations.models import Preparation
from dilemmagesprek.worksheets import actions
from dilemmagesprek.worksheets.models import Card, Column, FieldValue
from tests.factories import Cast, assert_refused, state_of, verify_action

pytest_plugins = ["tests.fixtures_domain"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def closed():
    user = User.objects.create_user("leider", password="x" * 16)
    conversation, facilitator = actions.new_conversation(user, "Vertrouwelijk gesprek", "lang")
    owner, owner_token = conversation_actions.invite_member(facilitator, "Eig", Member.Role.OWNER)
    participant, _t = conversation_actions.invite_member(facilitator, "Deel", "deelnemer")
    save_preparation(owner, {"facts": "Geheim feit"}, [], False)
    actions.set_field(participant, "dilemma", "Geheim dilemma", None)
    player = Column.objects.filter(conversation=conversation, matrix="players").first()
    actions.add_card(participant, player.pk, "standpunten", "Geheime kaart")
    conversation_actions.change_status(facilitator, Conversation.Status.PLANNED)
    conversation_actions.change_status(facilitator, Conversation.Status.RUNNING)
    conversation_actions.change_status(facilitator, Conversation.Status.CLOSED)
    conversation.refresh_from_db()
    return conversation, facilitator, owner, owner_token, participant, user


def assert_no_trace(conversation_id: str) -> None:
    assert not Conversation.objects.filter(pk=conversation_id).exists()
    for model in (Member, Event, FieldValue, Column, Card, Preparation):
        assert not model.objects.filter(conversation_id=conversation_id).exists(), model


def test_it_keeps_a_closed_conversation_for_its_retention_period(closed):
    conversation, *_ = closed
    assert conversation.retention_days == 90
    assert conversation.delete_after == conversation.closed_at + datetime.timedelta(days=90)
    assert retention.purge(timezone.now() + datetime.timedelta(days=89)) == 0
    assert Conversation.objects.filter(pk=conversation.pk).exists()


def test_purge_removes_every_trace_and_leaves_one_anonymous_line(closed):
    conversation, *_ = closed
    out = io.StringIO()
    call_command("purge", stdout=out)  # nothing expired yet
    assert out.getvalue().startswith("0 ")
    assert Conversation.objects.filter(pk=conversation.pk).exists()
    Conversation.objects.filter(pk=conversation.pk).update(
        closed_at=timezone.now() - datetime.timedelta(days=91)
    )
    assert retention.purge() == 1
    assert_no_trace(conversation.pk)
    line = Entry.objects.get(action=Entry.Action.PURGED)
    assert line.conversation_id == conversation.pk
    assert line.user_id is None and line.member_id == "" and line.detail == ""


def test_a_running_conversation_is_never_purged(closed):
    conversation, facilitator, *_ = closed
    conversation_actions.change_status(facilitator, Conversation.Status.RUNNING)
    conversation.refresh_from_db()
    assert conversation.closed_at is None
    assert retention.purge(timezone.now() + datetime.timedelta(days=10_000)) == 0


@override_settings(RETENTION_MIN_DAYS=7, RETENTION_MAX_DAYS=30)
def test_the_facilitator_chooses_the_period_within_the_admins_limits(closed):
    conversation, facilitator, owner, *_ = closed
    retention.set_retention(facilitator, 30)
    for days in (6, 31, True):
        with pytest.raises(ValidationError):
            retention.set_retention(facilitator, days)
    with pytest.raises(PermissionDenied):
        retention.set_retention(owner, 10)
    conversation.refresh_from_db()
    assert conversation.retention_days == 30


@override_settings(RETENTION_MIN_DAYS=7, RETENTION_MAX_DAYS=30)
def test_it_tells_every_screen_the_new_retention_period(cast: Cast) -> None:
    conversation_id = cast.conversation.pk

    conversation, (event,) = verify_action(
        conversation_id,
        lambda: retention.set_retention(cast.facilitator, 7),
        "conversation.retention",
    )

    assert event.data == {"days": 7}
    assert conversation.retention_days == 7
    assert state_of(conversation_id)["conversation"]["retention_days"] == 7
    for days in (6, 31, True, "10"):
        assert_refused(
            conversation_id,
            lambda days=days: retention.set_retention(cast.facilitator, days),
            ValidationError,
        )
    for member in (cast.owner, cast.alice, cast.observer):
        assert_refused(
            conversation_id,
            lambda member=member: retention.set_retention(member, 10),
            PermissionDenied,
        )


def test_the_owner_can_destroy_at_once_after_confirming(closed):
    conversation, _facilitator, _owner, owner_token, participant, _user = closed
    client = Client()
    client.get(f"/uitnodiging/{owner_token}/")
    url = f"/g/{conversation.pk}/vernietigen/"
    page = client.get(url)
    assert page.status_code == 200
    assert f"/g/{conversation.pk}/verslag/json/" in page.content.decode()  # download first
    assert client.post(url, {"confirm": "nee"}).status_code == 422
    assert Conversation.objects.filter(pk=conversation.pk).exists()
    assert client.post(url, {"confirm": "vernietigen"}).status_code == 303
    assert_no_trace(conversation.pk)
    line = Entry.objects.get(action=Entry.Action.DESTROYED)
    assert line.conversation_id == conversation.pk and line.detail == "dilemma-eigenaar"
    assert client.get(f"/g/{conversation.pk}/").status_code == 404


def test_a_participant_cannot_destroy(closed):
    conversation, _f, _o, _t, participant, _u = closed
    with pytest.raises(PermissionDenied):
        retention.destroy(participant)
    assert Conversation.objects.filter(pk=conversation.pk).exists()
