"""The facilitator's hand: locking, writing alone then revealing, anonymity and spotlight."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from dilemmagesprek.accounts.models import User
from dilemmagesprek.conversations import actions as conversation_actions
from dilemmagesprek.conversations.models import Event, Member
from dilemmagesprek.worksheets import actions, facilitation
from dilemmagesprek.worksheets.models import Card, Column
from tests.factories import Cast, assert_refused, columns, state_of, verify_action

pytest_plugins = ["tests.fixtures_domain"]
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


# --- every facilitation action tells every screen exactly what changed ---------------------
# `verify_action` (tests/factories.py): exactly these events, numbered, published after commit,
# and the state before plus the events gives the state after.


def cid(cast: Cast) -> str:
    return cast.conversation.pk


def test_it_locks_a_step_for_everyone_but_the_facilitator(cast: Cast) -> None:
    conversation, (event,) = verify_action(
        cid(cast),
        lambda: facilitation.set_step_option(cast.facilitator, 1, "locked", True),
        "conversation.step_option",
    )

    assert event.data == {"step": 1, "option": "locked", "value": True}
    assert conversation.step_options == {"1": {"locked": True}}
    assert_refused(
        cid(cast),
        lambda: actions.set_field(cast.alice, "dilemma", "Mag niet", None),
        ValidationError,
    )
    verify_action(
        cid(cast),
        lambda: actions.set_field(cast.facilitator, "dilemma", "Mag wel", None),
        "field.updated",
    )
    verify_action(
        cid(cast),
        lambda: facilitation.set_step_option(cast.facilitator, 1, "locked", False),
        "conversation.step_option",
    )
    verify_action(
        cid(cast),
        lambda: actions.set_field(cast.alice, "dilemma", "Weer open", 1),
        "field.updated",
    )


def test_it_locks_one_field_and_leaves_its_neighbours_open(cast: Cast) -> None:
    _, (event,) = verify_action(
        cid(cast),
        lambda: facilitation.lock_field(cast.facilitator, "dilemma", True),
        "conversation.field_lock",
    )

    assert event.data == {"key": "dilemma", "locked": True}
    assert state_of(cid(cast))["conversation"]["locked_fields"] == ["dilemma"]
    assert_refused(
        cid(cast),
        lambda: actions.set_field(cast.alice, "dilemma", "Mag niet", None),
        ValidationError,
    )
    verify_action(
        cid(cast),
        lambda: actions.set_field(cast.alice, "urgency", "Mag wel", None),
        "field.updated",
    )
    verify_action(
        cid(cast),
        lambda: facilitation.lock_field(cast.facilitator, "dilemma", False),
        "conversation.field_lock",
    )
    assert state_of(cid(cast))["conversation"]["locked_fields"] == []


def test_it_hides_what_is_written_alone_and_reveals_it_to_everyone(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[0]
    verify_action(
        cid(cast),
        lambda: facilitation.set_step_option(cast.facilitator, 2, "private", True),
        "conversation.step_option",
    )
    mine, (event,) = verify_action(
        cid(cast),
        lambda: actions.add_card(cast.alice, player.pk, "standpunten", "Mijn eigen gedachte"),
        "card.added",
    )
    verify_action(
        cid(cast),
        lambda: actions.add_card(cast.bob, player.pk, "belangen", "Bobs eigen gedachte"),
        "card.added",
    )

    # Neither the event nor anyone else's screen holds the text or the author yet.
    assert event.data == {"id": mine.pk, "column": player.pk, "row": "standpunten", "hidden": True}
    assert event.actor_id == cast.alice.pk
    assert state_of(cid(cast))["cards"][mine.pk] == {
        "column": player.pk,
        "row": "standpunten",
        "hidden": True,
    }
    revealed, (event,) = verify_action(
        cid(cast), lambda: facilitation.reveal_step(cast.facilitator, 2), "conversation.revealed"
    )
    assert revealed == 2
    assert event.data == {"step": 2, "cards": 2}
    assert state_of(cid(cast))["cards"][mine.pk] == {
        "column": player.pk,
        "row": "standpunten",
        "text": "Mijn eigen gedachte",
        "anonymous": False,
        "version": 1,
        "author": cast.alice.pk,
    }
    # Write alone is still on: the next card waits for the next reveal.
    verify_action(
        cid(cast),
        lambda: actions.add_card(cast.alice, player.pk, "rechten", "Nog een gedachte"),
        "card.added",
    )


def test_it_reveals_what_was_written_alone_when_write_alone_is_turned_off(cast: Cast) -> None:
    option = columns(cast.conversation, "options")[0]
    facilitation.set_step_option(cast.facilitator, 3, "private", True)
    card = actions.add_card(cast.alice, option.pk, "voordelen", "Alleen bedacht")

    verify_action(
        cid(cast),
        lambda: facilitation.set_step_option(cast.facilitator, 3, "private", False),
        "conversation.step_option",
    )

    assert state_of(cid(cast))["cards"][card.pk]["text"] == "Alleen bedacht"


def test_it_reveals_nothing_from_another_step(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[0]
    facilitation.set_step_option(cast.facilitator, 2, "private", True)
    card = actions.add_card(cast.alice, player.pk, "standpunten", "Nog even geheim")

    # Nothing to reveal there: nothing recorded, no screen refreshes for it.
    revealed, _ = verify_action(cid(cast), lambda: facilitation.reveal_step(cast.facilitator, 3))

    assert revealed == 0
    assert state_of(cid(cast))["cards"][card.pk]["hidden"] is True


def test_it_makes_a_steps_cards_anonymous_and_never_names_them_again(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[0]
    option = columns(cast.conversation, "options")[0]
    named = actions.add_card(cast.alice, player.pk, "standpunten", "Eerst met naam")
    other_step = actions.add_card(cast.alice, option.pk, "voordelen", "In stap 3")

    verify_action(
        cid(cast),
        lambda: facilitation.set_step_option(cast.facilitator, 2, "anonymous", True),
        "conversation.step_option",
    )
    cards = state_of(cid(cast))["cards"]
    assert (cards[named.pk]["anonymous"], cards[named.pk]["author"]) == (True, None)
    assert cards[other_step.pk]["author"] == cast.alice.pk
    later, (event,) = verify_action(
        cid(cast),
        lambda: actions.add_card(cast.bob, player.pk, "belangen", "Later geschreven"),
        "card.added",
    )
    assert event.actor_id is None and event.data["author"] is None
    verify_action(
        cid(cast),
        lambda: facilitation.set_step_option(cast.facilitator, 2, "anonymous", False),
        "conversation.step_option",
    )
    cards = state_of(cid(cast))["cards"]
    assert cards[named.pk]["anonymous"] and cards[later.pk]["anonymous"]  # never lowered


def test_it_makes_the_whole_conversation_anonymous(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[0]
    option = columns(cast.conversation, "options")[0]
    actions.add_card(cast.alice, player.pk, "standpunten", "Stap 2")
    actions.add_card(cast.bob, option.pk, "nadelen", "Stap 3")

    _, (event,) = verify_action(
        cid(cast),
        lambda: facilitation.set_anonymous(cast.facilitator, True),
        "conversation.anonymous",
    )

    assert event.data == {"value": True}
    state = state_of(cid(cast))
    assert state["conversation"]["anonymous"] is True
    assert all(c["anonymous"] and c["author"] is None for c in state["cards"].values())
    verify_action(
        cid(cast),
        lambda: facilitation.set_anonymous(cast.facilitator, False),
        "conversation.anonymous",
    )
    assert all(c["anonymous"] for c in state_of(cid(cast))["cards"].values())


def test_it_keeps_a_hidden_card_hidden_when_anonymity_is_raised(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[0]
    facilitation.set_step_option(cast.facilitator, 2, "private", True)
    card = actions.add_card(cast.alice, player.pk, "standpunten", "Nog geheim")

    verify_action(
        cid(cast),
        lambda: facilitation.set_anonymous(cast.facilitator, True),
        "conversation.anonymous",
    )
    verify_action(
        cid(cast), lambda: facilitation.reveal_step(cast.facilitator, 2), "conversation.revealed"
    )

    assert state_of(cid(cast))["cards"][card.pk]["author"] is None


def test_it_puts_one_card_in_the_spotlight_and_takes_it_out(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[0]
    card = actions.add_card(cast.alice, player.pk, "standpunten", "Kijk hier allemaal naar")

    _, (event,) = verify_action(
        cid(cast),
        lambda: facilitation.spotlight(cast.facilitator, card.pk),
        "conversation.spotlight",
    )
    assert event.data == {"card": card.pk}
    assert state_of(cid(cast))["conversation"]["spotlight"] == card.pk

    _, (event,) = verify_action(
        cid(cast),
        lambda: facilitation.spotlight(cast.facilitator, None),
        "conversation.spotlight",
    )
    assert event.data == {"card": None}
    assert state_of(cid(cast))["conversation"]["spotlight"] is None


def test_the_spotlight_goes_out_with_its_card(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[0]
    card = actions.add_card(cast.alice, player.pk, "standpunten", "Even in het licht")
    facilitation.spotlight(cast.facilitator, card.pk)

    _, (removed, cleared) = verify_action(
        cid(cast),
        lambda: actions.remove_card(cast.alice, card.pk),
        "card.removed",
        "conversation.spotlight",
    )
    assert cleared.data == {"card": None}
    assert cleared.actor_id == removed.actor_id == cast.alice.pk
    assert state_of(cid(cast))["conversation"]["spotlight"] is None
    # Putting the card back does not light it again.
    actions.restore_card(cast.alice, card.pk)
    assert state_of(cid(cast))["conversation"]["spotlight"] is None


@pytest.mark.parametrize(
    "setting",
    ["step_option", "field_lock", "anonymous", "anonymous_off", "spotlight", "no_spotlight"],
)
def test_a_setting_chosen_again_records_nothing(cast: Cast, setting: str) -> None:
    """Pressing a button for what already holds changes nothing, so no screen refreshes."""
    player = columns(cast.conversation, "players")[0]
    card = actions.add_card(cast.alice, player.pk, "standpunten", "Een kaart")
    lead = cast.facilitator
    run = {
        "step_option": lambda: facilitation.set_step_option(lead, 2, "locked", True),
        "field_lock": lambda: facilitation.lock_field(lead, "dilemma", True),
        "anonymous": lambda: facilitation.set_anonymous(lead, True),
        "anonymous_off": lambda: facilitation.set_anonymous(lead, False),
        "spotlight": lambda: facilitation.spotlight(lead, card.pk),
        "no_spotlight": lambda: facilitation.spotlight(lead, None),
    }[setting]
    if setting != "anonymous_off" and setting != "no_spotlight":
        run()  # the first time it changes something
    verify_action(cid(cast), run)


def test_it_never_puts_a_hidden_or_foreign_card_in_the_spotlight(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[0]
    facilitation.set_step_option(cast.facilitator, 2, "private", True)
    hidden = actions.add_card(cast.alice, player.pk, "standpunten", "Nog geheim")
    other_player = columns(cast.other_conversation, "players")[0]
    foreign = actions.add_card(cast.other_facilitator, other_player.pk, "belangen", "Buren")

    for card in (hidden, foreign):
        assert_refused(
            cid(cast),
            lambda card=card: facilitation.spotlight(cast.facilitator, card.pk),
            ValidationError,
        )


@pytest.mark.parametrize(("number", "option"), [(1, "explode"), (99, "locked"), (0, "private")])
def test_it_refuses_a_step_setting_that_does_not_exist(cast: Cast, number, option) -> None:
    assert_refused(
        cid(cast),
        lambda: facilitation.set_step_option(cast.facilitator, number, option, True),
        ValidationError,
    )


def test_it_refuses_to_lock_a_field_that_does_not_exist(cast: Cast) -> None:
    assert_refused(
        cid(cast),
        lambda: facilitation.lock_field(cast.facilitator, "nergens", True),
        ValidationError,
    )


@pytest.mark.parametrize("persona", ["owner", "participant", "observer"])
def test_it_lets_only_the_facilitator_lead(cast: Cast, persona: str) -> None:
    member = cast.member(persona)
    for lead in (
        lambda: facilitation.set_step_option(member, 2, "locked", True),
        lambda: facilitation.set_anonymous(member, True),
        lambda: facilitation.lock_field(member, "dilemma", True),
        lambda: facilitation.reveal_step(member, 2),
        lambda: facilitation.spotlight(member, None),
    ):
        assert_refused(cid(cast), lead, PermissionDenied)
