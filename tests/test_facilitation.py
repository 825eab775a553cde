"""The facilitator's hand: locking, writing alone then revealing, anonymity and spotlight."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from dilemmagesprek.accounts.models import User
from dilemmagesprek.conversations import actions as conversation_actions
from dilemmagesprek.conversations.models import Event, Member
from dilemmagesprek.worksheets import actions, facilitation
from dilemmagesprek.worksheets.models import Card, Column

pytestmark = pytest.mark.django_db


@pytest.fixture
def group():
    user = User.objects.create_user("leider", password="x" * 16)
    conversation, facilitator = actions.new_conversation(user, "Gesprek", "lang")
    members = {"facilitator": facilitator}
    for name in ("anna", "bram"):
        members[name], token = conversation_actions.invite_member(
            facilitator, name.title(), Member.Role.PARTICIPANT
        )
        client = Client()
        client.get(f"/uitnodiging/{token}/")
        members[f"{name}_client"] = client
    facilitator_client = Client()
    facilitator_client.force_login(user)
    members["facilitator_client"] = facilitator_client
    members["conversation"] = conversation
    members["player"] = Column.objects.filter(conversation=conversation, matrix="players")[0]
    return members


def test_a_locked_step_refuses_everyone_but_the_facilitator(group):
    facilitation.set_step_option(group["facilitator"], 1, "locked", True)
    with pytest.raises(ValidationError):
        actions.set_field(group["anna"], "dilemma", "Mag niet", None)
    actions.set_field(group["facilitator"], "dilemma", "Mag wel", None)
    page = group["anna_client"].get(f"/g/{group['conversation'].pk}/").content.decode()
    assert 'id="field-dilemma-text"' not in page  # no box to type in
    assert "Mag wel" in page
    facilitation.set_step_option(group["facilitator"], 1, "locked", False)
    actions.set_field(group["anna"], "dilemma", "Weer open", None)


def test_a_locked_field_refuses_changes_but_its_neighbours_stay_open(group):
    facilitation.lock_field(group["facilitator"], "dilemma", True)
    with pytest.raises(ValidationError):
        actions.set_field(group["anna"], "dilemma", "Mag niet", None)
    actions.set_field(group["anna"], "urgency", "Mag wel", None)


def test_cards_written_alone_stay_hidden_until_revealed(group):
    conversation, player = group["conversation"], group["player"]
    facilitation.set_step_option(group["facilitator"], 2, "private", True)
    card = actions.add_card(group["anna"], player.pk, "standpunten", "Mijn eigen gedachte")
    assert card.hidden
    # The event carries no text: every member can read the event log.
    event = Event.objects.filter(conversation=conversation, type="card.added").last()
    assert "text" not in event.data
    url = f"/g/{conversation.pk}/"
    assert "Mijn eigen gedachte" in group["anna_client"].get(url).content.decode()
    assert "Mijn eigen gedachte" not in group["bram_client"].get(url).content.decode()
    facilitator_page = group["facilitator_client"].get(url).content.decode()
    assert "Mijn eigen gedachte" not in facilitator_page
    assert facilitation.reveal_step(group["facilitator"], 2) == 1
    assert "Mijn eigen gedachte" in group["bram_client"].get(url).content.decode()


def test_anonymity_can_be_raised_but_not_lowered_for_what_was_written(group):
    conversation, player = group["conversation"], group["player"]
    card = actions.add_card(group["anna"], player.pk, "standpunten", "Eerst met naam")
    facilitation.set_step_option(group["facilitator"], 2, "anonymous", True)
    card.refresh_from_db()
    assert card.anonymous  # raised for what was already written
    later = actions.add_card(group["bram"], player.pk, "belangen", "Later geschreven")
    assert later.anonymous  # and for what comes
    facilitation.set_step_option(group["facilitator"], 2, "anonymous", False)
    card.refresh_from_db()
    later.refresh_from_db()
    assert card.anonymous and later.anonymous  # never lowered
    page = group["facilitator_client"].get(f"/g/{conversation.pk}/").content.decode()
    assert "Anna" not in page.split("Eerst met naam", 1)[1].split("</li>", 1)[0]
    # Nor does the event log name the author of an anonymous card.
    events = Event.objects.filter(conversation=conversation, type="card.added")
    assert all(e.actor_id is None for e in events.filter(data__anonymous=True))


def test_anonymity_for_the_whole_conversation(group):
    player = group["player"]
    card = actions.add_card(group["anna"], player.pk, "standpunten", "Iets")
    facilitation.set_anonymous(group["facilitator"], True)
    card.refresh_from_db()
    assert card.anonymous
    assert actions.add_card(group["bram"], player.pk, "rechten", "Nog iets").anonymous


def test_the_spotlight_shows_one_card_on_every_screen(group):
    conversation, player = group["conversation"], group["player"]
    card = actions.add_card(group["anna"], player.pk, "standpunten", "Kijk hier allemaal naar")
    response = group["facilitator_client"].post(
        f"/g/{conversation.pk}/leiden/", {"command": "spotlight", "card": card.pk}
    )
    assert response.status_code == 303
    for who in ("bram_client", "anna_client"):
        page = group[who].get(f"/g/{conversation.pk}/").content.decode()
        assert 'class="dg-spotlight"' in page
    projector = group["bram_client"].get(f"/g/{conversation.pk}/scherm/").content.decode()
    assert "Kijk hier allemaal naar" in projector
    group["facilitator_client"].post(f"/g/{conversation.pk}/leiden/", {"command": "spotlight"})
    page = group["bram_client"].get(f"/g/{conversation.pk}/").content.decode()
    assert 'class="dg-spotlight"' not in page


def test_only_the_facilitator_leads(group):
    conversation = group["conversation"]
    response = group["anna_client"].post(
        f"/g/{conversation.pk}/leiden/", {"command": "anonymous", "value": "1"}
    )
    assert response.status_code == 403
    response = group["facilitator_client"].post(
        f"/g/{conversation.pk}/leiden/", {"command": "explode"}
    )
    assert response.status_code == 422
    assert Card.objects.count() == 0
