"""Joining with a short code: the code, its limits, the lobby and being let in."""

import pytest
from django.test import Client

from dilemmagesprek.accounts.models import User
from dilemmagesprek.conversations import actions as conversation_actions
from dilemmagesprek.conversations import joining
from dilemmagesprek.conversations.models import Conversation, Member
from dilemmagesprek.worksheets import actions
from tests.factories import state_of, verify_action

pytestmark = pytest.mark.django_db


@pytest.fixture
def running():
    user = User.objects.create_user("leider", password="x" * 16)
    conversation, facilitator = actions.new_conversation(user, "Gesprek", "lang")
    conversation_actions.change_status(facilitator, Conversation.Status.PLANNED)
    conversation = joining.enable_join_code(facilitator)
    client = Client()
    client.force_login(user)
    return conversation, facilitator, client


def test_it_makes_codes_people_can_read_aloud():
    codes = {joining.new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 8
        assert not set(code) & set("0O1IL")
    assert joining.normalise(" abcd-efgh ") == "ABCDEFGH"


def test_it_lets_a_newcomer_in_after_the_facilitator_admits_them(running):
    conversation, facilitator, facilitator_client = running
    guest = Client()
    code = joining.display(conversation.join_code).lower()  # typed in lower case, with the dash
    response = guest.post("/doe-mee/", {"code": code})
    assert response.status_code == 303
    response = guest.post("/doe-mee/naam/", {"display_name": "Nieuwe collega"})
    assert response.status_code == 303
    # Waiting: no access to the worksheet yet.
    assert guest.get(f"/g/{conversation.pk}/").status_code == 404
    waiting = guest.get("/doe-mee/wachten/")
    assert waiting.status_code == 200
    assert b'href="/doe-mee/wachten/"' in waiting.content  # "check now", also without script
    newcomer = Member.objects.get(display_name="Nieuwe collega")
    assert newcomer.waiting
    # The facilitator sees them in the lobby and lets them in as an observer.
    members_page = facilitator_client.get(f"/g/{conversation.pk}/leden/").content.decode()
    assert "Nieuwe collega" in members_page
    response = facilitator_client.post(
        f"/g/{conversation.pk}/leden/{newcomer.pk}/toelaten/", {"role": "waarnemer"}
    )
    assert response.status_code == 303
    response = guest.get("/doe-mee/wachten/")
    assert response.status_code == 302
    assert response["Location"] == f"/g/{conversation.pk}/"
    assert guest.get(f"/g/{conversation.pk}/").status_code == 200
    newcomer.refresh_from_db()
    assert newcomer.role == Member.Role.OBSERVER and not newcomer.waiting


def test_it_tells_every_screen_who_waits_and_who_was_let_in(running):
    conversation, facilitator, facilitator_client = running
    guest = Client()

    verify_action(
        conversation.pk, lambda: guest.post("/doe-mee/", {"code": conversation.join_code})
    )
    _, (event,) = verify_action(
        conversation.pk,
        lambda: guest.post("/doe-mee/naam/", {"display_name": "Nieuwe collega"}),
        "member.waiting",
    )
    newcomer = event.data["id"]
    assert event.actor_id is None  # not a member yet
    assert state_of(conversation.pk)["members"][newcomer]["waiting"] is True
    response, (event,) = verify_action(
        conversation.pk,
        lambda: facilitator_client.post(
            f"/g/{conversation.pk}/leden/{newcomer}/toelaten/", {"role": "waarnemer"}
        ),
        "member.admitted",
    )
    assert response.status_code == 303
    assert event.data == {"id": newcomer, "display_name": "Nieuwe collega", "role": "waarnemer"}
    assert state_of(conversation.pk)["members"][newcomer] == {
        "display_name": "Nieuwe collega",
        "role": "waarnemer",
        "has_link": False,
        "joined": True,
        "waiting": False,
    }


def test_it_tells_every_screen_a_newcomer_was_sent_away(running):
    conversation, _facilitator, facilitator_client = running
    newcomer = joining.enter_lobby(conversation, "Onbekende")

    verify_action(
        conversation.pk,
        lambda: facilitator_client.post(f"/g/{conversation.pk}/leden/{newcomer.pk}/verwijderen/"),
        "member.removed",
    )

    assert newcomer.pk not in state_of(conversation.pk)["members"]


def test_it_turns_the_code_off_and_on_from_the_members_page(running):
    conversation, _facilitator, facilitator_client = running
    url = f"/g/{conversation.pk}/code/"

    _, (event,) = verify_action(
        conversation.pk,
        lambda: facilitator_client.post(url, {"enabled": "0"}),
        "conversation.join_code",
    )
    assert event.data == {"enabled": False}
    _, (event,) = verify_action(
        conversation.pk,
        lambda: facilitator_client.post(url, {"enabled": "1"}),
        "conversation.join_code",
    )
    # The event says only that there is a code: the code itself is for the facilitator's page.
    assert event.data == {"enabled": True}
    assert state_of(conversation.pk)["conversation"]["join_code"] is True


def test_it_tells_a_refused_newcomer(running):
    conversation, facilitator, facilitator_client = running
    guest = Client()
    guest.post("/doe-mee/", {"code": conversation.join_code})
    guest.post("/doe-mee/naam/", {"display_name": "Onbekende"})
    newcomer = Member.objects.get(display_name="Onbekende")
    facilitator_client.post(f"/g/{conversation.pk}/leden/{newcomer.pk}/verwijderen/")
    assert guest.get("/doe-mee/wachten/").status_code == 403
    assert guest.get(f"/g/{conversation.pk}/").status_code == 404


def test_it_refuses_a_wrong_code_with_a_clear_message(running):
    response = Client().post("/doe-mee/", {"code": "ZZZZ-ZZZZ"})
    assert response.status_code == 422
    assert "dg-alert--error" in response.content.decode()


def test_it_limits_attempts_per_address(running):
    conversation, _facilitator, _client = running
    guest = Client()
    limit, _window = joining.ATTEMPTS_PER_ADDRESS
    for _ in range(limit):
        assert guest.post("/doe-mee/", {"code": "WRONGCOD"}).status_code == 422
    # Past the limit even the right code is refused from this address.
    assert guest.post("/doe-mee/", {"code": conversation.join_code}).status_code == 429


def test_it_limits_attempts_per_code_across_addresses(running):
    conversation, _facilitator, _client = running
    limit, _window = joining.ATTEMPTS_PER_CODE
    for number in range(limit):
        found = joining.find_by_code(conversation.join_code, f"10.0.0.{number}")
        assert found == conversation
    with pytest.raises(joining.TooManyAttempts):
        joining.find_by_code(conversation.join_code, "10.0.1.1")


def test_it_closes_every_way_in_when_the_conversation_ends(running):
    conversation, facilitator, _client = running
    owner, owner_token = conversation_actions.invite_member(facilitator, "Eig", Member.Role.OWNER)
    _participant, token = conversation_actions.invite_member(
        facilitator, "Deel", Member.Role.PARTICIPANT
    )
    guest = Client()
    guest.post("/doe-mee/", {"code": conversation.join_code})
    guest.post("/doe-mee/naam/", {"display_name": "Laatkomer"})
    conversation_actions.change_status(facilitator, Conversation.Status.RUNNING)
    conversation_actions.change_status(facilitator, Conversation.Status.CLOSED)
    conversation.refresh_from_db()
    assert conversation.join_code is None
    assert Client().get(f"/uitnodiging/{token}/").status_code == 404
    # The owner keeps their link: they come back for the report.
    assert Client().get(f"/uitnodiging/{owner_token}/").status_code == 302
    assert guest.get("/doe-mee/wachten/").status_code == 403


def test_it_serves_the_qr_code_to_the_facilitator_only(running):
    conversation, facilitator, facilitator_client = running
    response = facilitator_client.get(f"/g/{conversation.pk}/code/qr.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.lstrip().startswith(b"<?xml")
    _participant, token = conversation_actions.invite_member(
        facilitator, "Deel", Member.Role.PARTICIPANT
    )
    participant = Client()
    participant.get(f"/uitnodiging/{token}/")
    assert participant.get(f"/g/{conversation.pk}/code/qr.svg").status_code == 403
    joining.disable_join_code(facilitator)
    assert facilitator_client.get(f"/g/{conversation.pk}/code/qr.svg").status_code == 404
