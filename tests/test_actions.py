"""Every write is one action: it checks, changes, records one numbered event, publishes on commit.

Each test states a behaviour a user relies on. `verify_action` checks the write path's promises
for every successful action (the event's number, publishing after commit, and that the event
tells a live client exactly how the state changed); `assert_refused` checks that a refused
action leaves no trace at all.
"""

from __future__ import annotations

import ast
import datetime
import inspect
import json
import re
from itertools import product
from pathlib import Path
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

import dilemmagesprek
from dilemmagesprek.conversations import actions as ca
from dilemmagesprek.conversations import events as events_module
from dilemmagesprek.conversations import joining, retention
from dilemmagesprek.conversations.models import Conversation, Event, Member
from dilemmagesprek.conversations.permissions import TRANSITIONS
from dilemmagesprek.preparations import actions as preparation_actions
from dilemmagesprek.preparations.actions import save_preparation
from dilemmagesprek.preparations.models import Preparation
from dilemmagesprek.worksheets import actions as wa
from dilemmagesprek.worksheets import facilitation
from dilemmagesprek.worksheets.models import Card, Column, Evaluation, FieldValue, NextStep
from tests.factories import (
    CLIENT_RULES,
    Cast,
    apply_event,
    assert_refused,
    bring_to_status,
    columns,
    events_sent_on_commit,
    last_seq,
    make_facilitator,
    state_of,
    verify_action,
)

pytest_plugins = ["tests.fixtures_domain"]

Role = Member.Role
Status = Conversation.Status


def cid(cast: Cast) -> str:
    return cast.conversation.pk


# Every action of these modules has tests below; a new action fails this list until it does.
COVERED_ACTIONS = {
    ca: {
        "create_conversation",
        "update_settings",
        "change_status",
        "change_step",
        "start_timer",
        "pause_timer",
        "extend_timer",
        "invite_member",
        "renew_invite",
        "revoke_invite",
        "update_member",
        "remove_member",
        "join_with_token",
    },
    joining: {"enable_join_code", "disable_join_code", "enter_lobby", "admit"},
    wa: {
        "new_conversation",
        "set_field",
        "confirm_field",
        "add_column",
        "rename_column",
        "move_column",
        "remove_column",
        "add_card",
        "edit_card",
        "remove_card",
        "add_next_step",
        "edit_next_step",
        "remove_next_step",
        "save_evaluation",
        # tested in test_worksheet_aids.py
        "tag_woo_grounds",
        "restore_card",
    },
    preparation_actions: {"save_preparation"},
    # tested in test_facilitation.py
    facilitation: {"set_step_option", "set_anonymous", "lock_field", "reveal_step", "spotlight"},
    # tested in test_retention.py
    retention: {"set_retention"},
}


@pytest.mark.parametrize("module", list(COVERED_ACTIONS), ids=lambda m: m.__name__)
def test_it_has_tests_for_every_action(module) -> None:
    """An action is a public function of the module that records events."""
    actions = {
        name
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__
        and not name.startswith("_")
        and ("record(" in inspect.getsource(function) or name == "new_conversation")
    }

    assert actions == COVERED_ACTIONS[module]


# --- every event type has a client rule ----------------------------------------------------

APP_SOURCE = Path(dilemmagesprek.__file__).resolve().parent
LIVE_PROTOCOL = APP_SOURCE.parent / "docs" / "live-protocol.md"


def _literal_strings(node: ast.expr) -> list[str] | None:
    """The strings an expression can be when it is spelled out ("a" or "a" if x else "b")."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _literal_strings(node.body), _literal_strings(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


def recorded_event_types() -> dict[str, list[str]]:
    """Every event type the app records, from the type given to each `record(...)` call.

    Returns the types with where they are recorded. A type the source does not spell out
    fails: this list, and so the test below, would silently miss it.
    """
    found: dict[str, list[str]] = {}
    unreadable = []
    for path in sorted(APP_SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name != "record":
                continue
            place = f"{path.relative_to(APP_SOURCE.parent)}:{node.lineno}"
            argument = (
                node.args[2]
                if len(node.args) > 2
                else next((k.value for k in node.keywords if k.arg == "type"), None)
            )
            types = None if argument is None else _literal_strings(argument)
            if types is None:
                unreadable.append(place)
                continue
            for type in types:
                found.setdefault(type, []).append(place)
    assert not unreadable, f"spell out the event type at {unreadable} so tests can find it"
    return found


def documented_event_types() -> set[str]:
    """The event types in the table "Event types" of docs/live-protocol.md."""
    text = LIVE_PROTOCOL.read_text(encoding="utf-8")
    table = text.split("### Event types", 1)[1].split("\n#", 1)[0]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    return {name for cell in rows for name in re.findall(r"`([a-z_]+\.[a-z_]+)`", cell)}


def test_it_finds_the_event_types_the_app_records() -> None:
    recorded = recorded_event_types()

    # The parser sees every module's calls, those spread over several lines too.
    assert {
        "conversation.created",
        "conversation.step_option",
        "conversation.revealed",
        "column.moved",
        "column.tagged",
        "member.waiting",
        "evaluation.saved",
        "preparation.updated",
        "conversation.imported",
    } <= set(recorded)
    assert {"card.added", "field.updated", "member.added"} <= documented_event_types()


def test_it_has_a_client_rule_for_every_event_type() -> None:
    """A live client must know every event the app records or documents; `apply_event` has a
    rule per type (tests/factories.py CLIENT_RULES), and `verify_action` checks each rule."""
    recorded = recorded_event_types()
    types = set(recorded) | documented_event_types()

    missing = {
        type: recorded.get(type, ["docs/live-protocol.md"]) for type in types - set(CLIENT_RULES)
    }
    assert missing == {}, "add a rule to apply_event in tests/factories.py for each"


def test_it_keeps_no_client_rule_for_an_event_nobody_records() -> None:
    assert set(CLIENT_RULES) - set(recorded_event_types()) == set()


def test_it_documents_no_event_type_the_app_does_not_record() -> None:
    assert documented_event_types() - set(recorded_event_types()) == set()


def test_it_documents_every_event_type_the_app_records() -> None:
    # docs/live-protocol.md is what a client author reads: a new type must be in its table.
    assert set(recorded_event_types()) - documented_event_types() == set()


def test_a_client_fails_loudly_on_an_event_it_does_not_know(cast: Cast) -> None:
    with pytest.raises(AssertionError, match="no client rule for event type 'card.exploded'"):
        apply_event(state_of(cid(cast)), "card.exploded", {"id": "x"})


# --- starting a conversation ---------------------------------------------------------------


def test_it_starts_a_conversation_with_its_facilitator_and_starting_columns(db) -> None:
    user = make_facilitator()

    with events_sent_on_commit() as sent:
        conversation, facilitator = wa.new_conversation(user, "  Woo-verzoek  ", "kort")

    conversation.refresh_from_db()
    assert conversation.title == "Woo-verzoek"
    assert conversation.status == Status.CONCEPT
    assert conversation.method_snapshot["slug"] == "als-openbaarheid-schuurt"
    assert facilitator.user == user
    assert facilitator.role == Role.FACILITATOR
    assert facilitator.display_name == "Fenna de Leider"
    assert [c.name for c in columns(conversation, "players")] == ["", "", ""]
    assert [c.position for c in columns(conversation, "options")] == [0, 1]
    events = list(conversation.events.all())
    assert [(e.seq, e.type) for e in events] == [(1, "conversation.created")] + [
        (n, "column.added") for n in range(2, 7)
    ]
    assert conversation.last_seq == 6
    assert all(e.actor_id == facilitator.pk for e in events)
    assert [e.seq for e in sent] == [1, 2, 3, 4, 5, 6]


def test_it_starts_a_bare_conversation_with_one_event(db) -> None:
    user = make_facilitator()

    with events_sent_on_commit() as sent:
        conversation, facilitator = ca.create_conversation(user, "Alleen het gesprek", "lang")

    assert [(e.seq, e.type, e.data) for e in conversation.events.all()] == [
        (1, "conversation.created", {"title": "Alleen het gesprek"})
    ]
    assert [e.seq for e in sent] == [1]
    assert not Column.objects.filter(conversation=conversation).exists()


@pytest.mark.parametrize(
    ("title", "variant"),
    [("Goede titel", "drie-uur"), ("", "lang"), ("   ", "lang"), ("x" * 201, "lang")],
)
def test_it_refuses_to_start_a_conversation_with_bad_settings(db, title, variant) -> None:
    user = make_facilitator()

    with events_sent_on_commit() as sent, pytest.raises(ValidationError):
        wa.new_conversation(user, title, variant)

    assert sent == []
    assert not Conversation.objects.exists()
    assert not Member.objects.exists()
    assert not Event.objects.exists()


# --- settings, status and step -------------------------------------------------------------


def test_it_updates_the_settings(cast: Cast) -> None:
    planned = "2030-05-01T09:30:00+02:00"
    when = datetime.datetime.fromisoformat(planned)

    conversation, (event,) = verify_action(
        cid(cast),
        lambda: ca.update_settings(cast.facilitator, " Nieuwe titel ", "kort", when),
        "conversation.updated",
    )

    assert event.data["title"] == "Nieuwe titel"
    assert event.data["variant"] == "kort"
    assert event.data["planned_at"] == planned
    assert event.actor_id == cast.facilitator.pk
    cast.reload()
    assert (cast.conversation.title, cast.conversation.variant) == ("Nieuwe titel", "kort")
    assert cast.conversation.planned_at == when


def test_it_changes_the_reports_marking_only_when_asked(cast: Cast) -> None:
    verify_action(
        cid(cast),
        lambda: ca.update_settings(
            cast.facilitator, "Titel", "lang", None, confidentiality="intern"
        ),
        "conversation.updated",
    )
    assert cast.reload().confidentiality == "intern"

    verify_action(
        cid(cast),
        lambda: ca.update_settings(cast.facilitator, "Titel", "kort", None),
        "conversation.updated",
    )
    assert cast.reload().confidentiality == "intern"


@pytest.mark.parametrize(("variant", "marking"), [("drie-uur", None), ("lang", "staatsgeheim")])
def test_it_refuses_unknown_settings(cast: Cast, variant: str, marking: str | None) -> None:
    assert_refused(
        cid(cast),
        lambda: ca.update_settings(
            cast.facilitator, "Titel", variant, None, confidentiality=marking
        ),
        ValidationError,
    )


@pytest.mark.parametrize("persona", ["owner", "participant", "observer"])
def test_it_lets_only_the_facilitator_manage(cast: Cast, persona: str) -> None:
    member = cast.member(persona)
    for run in (
        lambda: ca.update_settings(member, "Overgenomen", "lang", None),
        lambda: ca.change_status(member, Status.PREPARATION),
        lambda: ca.change_step(member, 2),
        lambda: ca.invite_member(member, "Indringer", Role.PARTICIPANT),
        lambda: ca.renew_invite(member, cast.bob.pk),
        lambda: ca.revoke_invite(member, cast.bob.pk),
        lambda: ca.update_member(member, cast.bob.pk, "Bob", Role.OBSERVER),
        lambda: ca.remove_member(member, cast.bob.pk),
    ):
        assert_refused(cid(cast), run, PermissionDenied)


STATUS_PAIRS = [(a, b) for a, b in product(Status.values, Status.values) if a != b]


@pytest.mark.parametrize(("old", "new"), STATUS_PAIRS)
def test_it_changes_status_only_along_the_transition_table(cast: Cast, old, new) -> None:
    bring_to_status(cast.facilitator, old)

    if new in TRANSITIONS[old]:
        conversation, (event,) = verify_action(
            cid(cast), lambda: ca.change_status(cast.facilitator, new), "conversation.status"
        )
        assert event.data == {"status": new}
        assert cast.reload().status == new
    else:
        assert_refused(cid(cast), lambda: ca.change_status(cast.facilitator, new), ValidationError)


def test_it_refuses_a_status_that_does_not_exist(cast: Cast) -> None:
    assert_refused(cid(cast), lambda: ca.change_status(cast.facilitator, "zoek"), ValidationError)


def test_it_opens_a_step_for_everyone(cast: Cast) -> None:
    _, (event,) = verify_action(
        cid(cast), lambda: ca.change_step(cast.facilitator, 3), "conversation.step"
    )

    assert event.data["step"] == 3
    assert cast.reload().current_step == 3


@pytest.mark.parametrize("number", [0, 6, -1])
def test_it_refuses_a_step_that_does_not_exist(cast: Cast, number: int) -> None:
    assert_refused(cid(cast), lambda: ca.change_step(cast.facilitator, number), ValidationError)


# --- the step timer ------------------------------------------------------------------------


def at(moment: datetime.datetime):
    """Let the clock read `moment` inside the block."""
    return mock.patch("django.utils.timezone.now", return_value=moment)


T0 = datetime.datetime(2030, 5, 1, 9, 0, tzinfo=datetime.UTC)


def test_it_starts_pauses_and_extends_the_step_timer(cast: Cast) -> None:
    with at(T0):
        conversation, (event,) = verify_action(
            cid(cast), lambda: ca.start_timer(cast.facilitator), "conversation.timer"
        )
    assert event.data == {"running": True, "elapsed": 0, "extra": 0}

    with at(T0 + datetime.timedelta(seconds=90)):
        conversation, (event,) = verify_action(
            cid(cast), lambda: ca.pause_timer(cast.facilitator), "conversation.timer"
        )
    assert event.data == {"running": False, "elapsed": 90, "extra": 0}

    conversation, (event,) = verify_action(
        cid(cast), lambda: ca.extend_timer(cast.facilitator, 5), "conversation.timer"
    )
    assert event.data == {"running": False, "elapsed": 90, "extra": 5}


def test_it_records_nothing_when_the_timer_already_runs_or_rests(cast: Cast) -> None:
    verify_action(cid(cast), lambda: ca.pause_timer(cast.facilitator))
    ca.start_timer(cast.facilitator)
    verify_action(cid(cast), lambda: ca.start_timer(cast.facilitator))


def test_it_keeps_the_time_spent_when_the_step_changes(cast: Cast) -> None:
    with at(T0):
        ca.start_timer(cast.facilitator)
    with at(T0 + datetime.timedelta(minutes=14)):
        _, (event,) = verify_action(
            cid(cast), lambda: ca.change_step(cast.facilitator, 2), "conversation.step"
        )

    conversation = cast.reload()
    assert conversation.step_seconds == {"1": 14 * 60}
    assert event.data == {"step": 2, "running": True, "elapsed": 0, "extra": 0}


@pytest.mark.parametrize("minutes", [0, 2, 11, -5])
def test_it_extends_the_timer_only_by_the_offered_minutes(cast: Cast, minutes: int) -> None:
    assert_refused(cid(cast), lambda: ca.extend_timer(cast.facilitator, minutes), ValidationError)


def test_it_caps_the_extra_time_at_two_hours(cast: Cast) -> None:
    for _ in range(13):
        ca.extend_timer(cast.facilitator, 10)

    assert cast.reload().timer_extra == 120


@pytest.mark.parametrize("persona", ["owner", "participant", "observer"])
def test_it_lets_only_the_facilitator_run_the_clock(cast: Cast, persona: str) -> None:
    member = cast.member(persona)
    for run in (
        lambda: ca.start_timer(member),
        lambda: ca.pause_timer(member),
        lambda: ca.extend_timer(member, 5),
    ):
        assert_refused(cid(cast), run, PermissionDenied)


# --- joining with a code -------------------------------------------------------------------


def test_it_turns_the_join_code_on_and_off(cast: Cast) -> None:
    ca.change_status(cast.facilitator, Status.PREPARATION)

    conversation, (event,) = verify_action(
        cid(cast), lambda: joining.enable_join_code(cast.facilitator), "conversation.join_code"
    )
    code = conversation.join_code
    assert event.data == {"enabled": True}
    assert code not in json.dumps(event.data)
    assert len(code) == 8 and set(code) <= set(joining.ALPHABET)
    verify_action(cid(cast), lambda: joining.enable_join_code(cast.facilitator))
    assert cast.reload().join_code == code

    verify_action(
        cid(cast), lambda: joining.disable_join_code(cast.facilitator), "conversation.join_code"
    )
    assert cast.reload().join_code is None


@pytest.mark.parametrize("status", [Status.CONCEPT, Status.CLOSED])
def test_it_offers_a_join_code_only_while_the_conversation_is_open(cast, status) -> None:
    bring_to_status(cast.facilitator, status)

    assert_refused(cid(cast), lambda: joining.enable_join_code(cast.facilitator), ValidationError)


def test_it_finds_a_conversation_by_its_code_however_it_is_typed(cast: Cast) -> None:
    ca.change_status(cast.facilitator, Status.PREPARATION)
    code = joining.enable_join_code(cast.facilitator).join_code

    typed = f" {code[:4].lower()}-{code[4:]} "
    assert joining.find_by_code(typed, "192.0.2.1") == cast.conversation
    assert joining.find_by_code("ABCD-EFGH", "192.0.2.1") is None


def test_it_stops_someone_guessing_codes(cast: Cast) -> None:
    for attempt in range(joining.ATTEMPTS_PER_ADDRESS[0]):
        joining.find_by_code(f"GUESS{attempt:03d}", "192.0.2.66")

    with pytest.raises(joining.TooManyAttempts):
        joining.find_by_code("GUESS999", "192.0.2.66")


def test_it_lets_a_newcomer_wait_in_the_lobby_until_admitted(cast: Cast) -> None:
    ca.change_status(cast.facilitator, Status.PREPARATION)
    joining.enable_join_code(cast.facilitator)

    newcomer, (event,) = verify_action(
        cid(cast),
        lambda: joining.enter_lobby(cast.reload(), "  Nina Nieuw "),
        "member.waiting",
    )
    assert event.data == {"id": newcomer.pk, "display_name": "Nina Nieuw"}
    assert event.actor_id is None
    assert_refused(
        cid(cast), lambda: wa.set_field(newcomer, "dilemma", "Voorbarig", None), PermissionDenied
    )

    admitted, (event,) = verify_action(
        cid(cast),
        lambda: joining.admit(cast.facilitator, newcomer.pk, Role.OBSERVER),
        "member.admitted",
    )
    assert event.data == {"id": newcomer.pk, "display_name": "Nina Nieuw", "role": Role.OBSERVER}
    assert admitted.joined_at is not None


@pytest.mark.parametrize("name", ["", "   ", "x" * 81, "bel\x07"])
def test_it_refuses_a_lobby_name_it_cannot_show(cast: Cast, name: str) -> None:
    assert_refused(cid(cast), lambda: joining.enter_lobby(cast.reload(), name), ValidationError)


def test_it_admits_only_waiting_newcomers_as_participant_or_observer(cast: Cast) -> None:
    newcomer = joining.enter_lobby(cast.reload(), "Nina Nieuw")

    for member_id, role in (
        (newcomer.pk, Role.OWNER),
        (newcomer.pk, Role.FACILITATOR),
        (cast.bob.pk, Role.PARTICIPANT),
        (cast.other_participant.pk, Role.PARTICIPANT),
    ):
        assert_refused(
            cid(cast),
            lambda m=member_id, r=role: joining.admit(cast.facilitator, m, r),
            ValidationError,
        )
    assert_refused(
        cid(cast),
        lambda: joining.admit(cast.alice, newcomer.pk, Role.PARTICIPANT),
        PermissionDenied,
    )


def test_it_closes_every_way_in_when_the_conversation_ends(cast: Cast) -> None:
    bring_to_status(cast.facilitator, Status.RUNNING)
    joining.enable_join_code(cast.facilitator)
    newcomer = joining.enter_lobby(cast.reload(), "Te laat")
    ca.start_timer(cast.facilitator)

    verify_action(
        cid(cast),
        lambda: ca.change_status(cast.facilitator, Status.CLOSED),
        "conversation.status",
    )

    conversation = cast.reload()
    assert conversation.join_code is None
    assert conversation.timer_started_at is None
    assert cast.fresh(newcomer).removed_at is not None
    for token in (cast.alice_token, cast.bob_token, cast.observer_token):
        assert ca.join_with_token(token) is None
    assert ca.join_with_token(cast.owner_token) == cast.owner  # back for the report


# --- closed conversations ------------------------------------------------------------------


def content_writes(cast: Cast, card: Card, step: NextStep) -> dict[str, object]:
    """One content write per kind, each by a member whose role may normally do it."""
    player = columns(cast.conversation, "players")[0]
    return {
        "set_field": lambda: wa.set_field(cast.alice, "dilemma", "Nieuw", None),
        "confirm_field": lambda: wa.confirm_field(cast.owner, "shared_question", 1),
        "add_column": lambda: wa.add_column(cast.alice, "players", "Pers"),
        "rename_column": lambda: wa.rename_column(cast.alice, player.pk, "Pers"),
        "move_column": lambda: wa.move_column(cast.facilitator, player.pk, 1),
        "remove_column": lambda: wa.remove_column(cast.facilitator, player.pk),
        "add_card": lambda: wa.add_card(cast.alice, player.pk, "belangen", "Nog iets"),
        "edit_own_card": lambda: wa.edit_card(cast.alice, card.pk, "Anders"),
        "edit_any_card": lambda: wa.edit_card(cast.facilitator, card.pk, "Anders"),
        "remove_card": lambda: wa.remove_card(cast.alice, card.pk),
        "add_next_step": lambda: wa.add_next_step(cast.alice, "next_steps", "Bellen", "", ""),
        "edit_next_step": lambda: wa.edit_next_step(cast.alice, step.pk, "Mailen", "", ""),
        "remove_next_step": lambda: wa.remove_next_step(cast.alice, step.pk),
        "save_evaluation": lambda: wa.save_evaluation(cast.alice, "satisfaction", 4, ""),
        "save_preparation": lambda: save_preparation(cast.owner, {"facts": "Feit"}, [], False),
    }


CONTENT_WRITES = [
    "set_field",
    "confirm_field",
    "add_column",
    "rename_column",
    "move_column",
    "remove_column",
    "add_card",
    "edit_own_card",
    "edit_any_card",
    "remove_card",
    "add_next_step",
    "edit_next_step",
    "remove_next_step",
    "save_evaluation",
    "save_preparation",
]


@pytest.mark.parametrize("write", CONTENT_WRITES)
@pytest.mark.parametrize("closed", [Status.CLOSED, Status.ARCHIVED])
def test_it_refuses_every_content_change_once_closed(cast: Cast, closed: str, write: str) -> None:
    player = columns(cast.conversation, "players")[0]
    card = wa.add_card(cast.alice, player.pk, "standpunten", "Mijn kaart")
    step = wa.add_next_step(cast.alice, "next_steps", "Iets doen", "", "")
    wa.set_field(cast.alice, "shared_question", "Mogen we delen?", 0)
    bring_to_status(cast.facilitator, closed)

    assert_refused(cid(cast), content_writes(cast, card, step)[write], PermissionDenied)


def test_it_names_every_content_write(cast: Cast) -> None:
    assert sorted(CONTENT_WRITES) == sorted(content_writes(cast, None, None))


def test_it_still_lets_the_facilitator_manage_a_closed_conversation(cast: Cast) -> None:
    bring_to_status(cast.facilitator, Status.CLOSED)

    verify_action(cid(cast), lambda: ca.change_step(cast.facilitator, 5), "conversation.step")
    verify_action(
        cid(cast),
        lambda: ca.update_member(cast.facilitator, cast.bob.pk, "Bob B.", Role.PARTICIPANT),
        "member.updated",
    )


def test_it_accepts_changes_again_after_reopening(cast: Cast) -> None:
    bring_to_status(cast.facilitator, Status.CLOSED)
    ca.change_status(cast.facilitator, Status.RUNNING)

    verify_action(
        cid(cast), lambda: wa.set_field(cast.alice, "dilemma", "Weer open", 0), "field.updated"
    )


# --- members and invitations ---------------------------------------------------------------


def test_it_invites_a_member_with_a_link_that_works_once_shown(cast: Cast) -> None:
    (member, token), (event,) = verify_action(
        cid(cast),
        lambda: ca.invite_member(cast.facilitator, "  Piet Speler ", Role.PARTICIPANT),
        "member.added",
    )

    assert event.data == {"id": member.pk, "display_name": "Piet Speler", "role": Role.PARTICIPANT}
    assert token not in json.dumps(event.data)
    assert member.token_hash == Member.hash_token(token) != token
    assert ca.join_with_token(token) == member


@pytest.mark.parametrize(("name", "role"), [("", Role.PARTICIPANT), ("Piet", "koning")])
def test_it_refuses_an_invitation_without_a_name_or_role(cast: Cast, name, role) -> None:
    assert_refused(
        cid(cast), lambda: ca.invite_member(cast.facilitator, name, role), ValidationError
    )


def test_it_allows_only_one_dilemma_owner(cast: Cast) -> None:
    assert_refused(
        cid(cast),
        lambda: ca.invite_member(cast.facilitator, "Tweede eigenaar", Role.OWNER),
        ValidationError,
    )
    assert_refused(
        cid(cast),
        lambda: ca.update_member(cast.facilitator, cast.alice.pk, "Alice", Role.OWNER),
        ValidationError,
    )


def test_it_accepts_a_new_owner_once_the_old_one_is_removed(cast: Cast) -> None:
    ca.remove_member(cast.facilitator, cast.owner.pk)

    verify_action(
        cid(cast),
        lambda: ca.update_member(cast.facilitator, cast.alice.pk, "Alice", Role.OWNER),
        "member.updated",
    )
    assert (
        Member.objects.filter(
            conversation=cast.conversation, role=Role.OWNER, removed_at__isnull=True
        ).count()
        == 1
    )


def test_it_lets_the_owner_keep_their_role_when_renamed(cast: Cast) -> None:
    verify_action(
        cid(cast),
        lambda: ca.update_member(cast.facilitator, cast.owner.pk, "Olga E.", Role.OWNER),
        "member.updated",
    )


def test_it_refuses_to_take_away_the_facilitators_own_role(cast: Cast) -> None:
    assert_refused(
        cid(cast),
        lambda: ca.update_member(cast.facilitator, cast.facilitator.pk, "Fenna", Role.PARTICIPANT),
        ValidationError,
    )


def test_it_refuses_to_remove_the_facilitator_themself(cast: Cast) -> None:
    assert_refused(
        cid(cast), lambda: ca.remove_member(cast.facilitator, cast.facilitator.pk), ValidationError
    )


def test_it_renews_a_link_and_the_old_one_stops_working(cast: Cast) -> None:
    (member, token), (event,) = verify_action(
        cid(cast), lambda: ca.renew_invite(cast.facilitator, cast.bob.pk), "member.invite_renewed"
    )

    assert event.data == {"id": cast.bob.pk}
    assert token != cast.bob_token
    assert ca.join_with_token(cast.bob_token) is None
    assert ca.join_with_token(token) == cast.bob


def test_it_revokes_a_link(cast: Cast) -> None:
    verify_action(
        cid(cast), lambda: ca.revoke_invite(cast.facilitator, cast.bob.pk), "member.invite_revoked"
    )

    assert ca.join_with_token(cast.bob_token) is None


def test_it_removes_a_member_whose_link_then_stops_working(cast: Cast) -> None:
    _, (event,) = verify_action(
        cid(cast), lambda: ca.remove_member(cast.facilitator, cast.bob.pk), "member.removed"
    )

    assert event.data == {"id": cast.bob.pk}
    assert ca.join_with_token(cast.bob_token) is None
    assert cast.fresh(cast.bob).removed_at is not None


def test_it_lets_a_removed_member_write_nothing(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[0]
    card = wa.add_card(cast.bob, player.pk, "standpunten", "Bob's kaart")
    bob = cast.bob  # the object Bob's request still holds
    ca.remove_member(cast.facilitator, bob.pk)

    for run in (
        lambda: wa.set_field(bob, "dilemma", "Nog even dit", None),
        lambda: wa.add_card(bob, player.pk, "belangen", "En dit"),
        lambda: wa.edit_card(bob, card.pk, "Toch anders"),
        lambda: wa.remove_card(bob, card.pk),
        lambda: wa.save_evaluation(bob, "satisfaction", 1, ""),
    ):
        assert_refused(cid(cast), run, PermissionDenied)


def test_it_applies_a_role_change_on_the_very_next_write(cast: Cast) -> None:
    alice = cast.alice  # the object Alice's request still holds
    ca.update_member(cast.facilitator, alice.pk, "Alice", Role.OBSERVER)

    assert_refused(
        cid(cast), lambda: wa.set_field(alice, "dilemma", "Mag dit nog?", None), PermissionDenied
    )


@pytest.mark.parametrize("action", ["renew", "revoke", "update", "remove"])
def test_it_never_touches_a_member_of_another_conversation(cast: Cast, action: str) -> None:
    other = cast.other_participant
    run = {
        "renew": lambda: ca.renew_invite(cast.facilitator, other.pk),
        "revoke": lambda: ca.revoke_invite(cast.facilitator, other.pk),
        "update": lambda: ca.update_member(cast.facilitator, other.pk, "Gekaapt", Role.OBSERVER),
        "remove": lambda: ca.remove_member(cast.facilitator, other.pk),
    }[action]
    others_before = state_of(cast.other_conversation.pk)

    assert_refused(cid(cast), run, ValidationError)

    assert state_of(cast.other_conversation.pk) == others_before
    assert ca.join_with_token(cast.other_token) == other


def test_it_records_the_first_join_only(cast: Cast) -> None:
    member, (event,) = verify_action(
        cid(cast), lambda: ca.join_with_token(cast.bob_token), "member.joined"
    )
    assert member == cast.bob
    assert event.data == {"id": cast.bob.pk}
    assert event.actor_id == cast.bob.pk

    verify_action(cid(cast), lambda: ca.join_with_token(cast.bob_token))


@pytest.mark.parametrize("token", ["", "onbekend", "x" * 101])
def test_it_refuses_an_unknown_link(cast: Cast, token: str) -> None:
    seq = last_seq(cid(cast))

    assert ca.join_with_token(token) is None
    assert last_seq(cid(cast)) == seq


def test_it_refuses_links_to_an_archived_conversation(cast: Cast) -> None:
    bring_to_status(cast.facilitator, Status.ARCHIVED)

    assert ca.join_with_token(cast.bob_token) is None


# --- text fields ---------------------------------------------------------------------------


def test_it_saves_a_text_field_with_a_new_version(cast: Cast) -> None:
    value, (event,) = verify_action(
        cid(cast),
        lambda: wa.set_field(cast.alice, "dilemma", "  Het college twijfelt.\r\n", 0),
        "field.updated",
    )
    assert event.data == {
        "key": "dilemma",
        "text": "Het college twijfelt.",
        "version": 1,
        "confirmed": False,
    }
    assert event.actor_id == cast.alice.pk
    assert value.updated_by == cast.alice

    _, (event,) = verify_action(
        cid(cast),
        lambda: wa.set_field(cast.facilitator, "dilemma", "Het college twijfelt echt.", 1),
        "field.updated",
    )
    assert event.data["version"] == 2


def test_it_keeps_both_texts_when_someone_else_saved_first(cast: Cast) -> None:
    wa.set_field(cast.alice, "dilemma", "Alice was eerst.", 0)

    conflict = assert_refused(
        cid(cast), lambda: wa.set_field(cast.bob, "dilemma", "Bob typte dit.", 0), wa.EditConflict
    )

    assert conflict.current.text == "Alice was eerst."
    assert conflict.current.version == 1
    assert conflict.yours == "Bob typte dit."
    assert FieldValue.objects.get(conversation=cast.conversation, key="dilemma").text == (
        "Alice was eerst."
    )


def test_it_records_nothing_when_the_same_text_is_saved_twice(cast: Cast) -> None:
    wa.set_field(cast.alice, "dilemma", "Zelfde tekst.", 0)

    value, _ = verify_action(
        cid(cast), lambda: wa.set_field(cast.bob, "dilemma", "Zelfde tekst.", 0)
    )

    assert value.version == 1
    assert value.updated_by == cast.alice


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("onbekend", "Tekst"),
        ("players", "Een matrix is geen tekstveld"),
        ("next_steps", "Acties zijn geen tekstveld"),
        ("shared_question", "x" * 501),
        ("dilemma", "x" * 4001),
        ("dilemma", "bel\x07"),
    ],
)
def test_it_refuses_a_text_the_field_cannot_take(cast: Cast, key: str, text: str) -> None:
    assert_refused(cid(cast), lambda: wa.set_field(cast.alice, key, text, 0), ValidationError)


def test_it_keeps_observers_from_writing_fields(cast: Cast) -> None:
    assert_refused(
        cid(cast),
        lambda: wa.set_field(cast.observer, "dilemma", "Ik kijk mee", 0),
        PermissionDenied,
    )


def test_it_lets_the_owner_confirm_the_shared_question(cast: Cast) -> None:
    wa.set_field(cast.alice, "shared_question", "Mogen we delen?", 0)

    value, (event,) = verify_action(
        cid(cast), lambda: wa.confirm_field(cast.owner, "shared_question", 1), "field.confirmed"
    )

    assert value.is_confirmed
    assert value.confirmed_by == cast.owner
    assert event.data == {
        "key": "shared_question",
        "text": "Mogen we delen?",
        "version": 1,
        "confirmed": True,
    }


@pytest.mark.parametrize("persona", ["facilitator", "participant", "observer"])
def test_it_lets_nobody_but_the_owner_confirm(cast: Cast, persona: str) -> None:
    wa.set_field(cast.alice, "shared_question", "Mogen we delen?", 0)

    assert_refused(
        cid(cast),
        lambda: wa.confirm_field(cast.member(persona), "shared_question", 1),
        PermissionDenied,
    )


def test_it_confirms_only_fields_that_ask_for_it(cast: Cast) -> None:
    wa.set_field(cast.alice, "dilemma", "Het dilemma.", 0)

    assert_refused(cid(cast), lambda: wa.confirm_field(cast.owner, "dilemma", 1), ValidationError)


def test_it_refuses_to_confirm_an_empty_field(cast: Cast) -> None:
    assert_refused(cid(cast), lambda: wa.confirm_field(cast.owner, "choice", 0), ValidationError)


def test_it_refuses_to_confirm_a_text_the_owner_did_not_see(cast: Cast) -> None:
    wa.set_field(cast.alice, "choice", "Optie 1.", 0)
    wa.set_field(cast.alice, "choice", "Optie 2.", 1)

    assert_refused(cid(cast), lambda: wa.confirm_field(cast.owner, "choice", 1), ValidationError)


def test_it_lets_a_confirmation_lapse_when_the_text_changes(cast: Cast) -> None:
    wa.set_field(cast.alice, "choice", "We kiezen optie 1.", 0)
    wa.confirm_field(cast.owner, "choice", 1)

    value, (event,) = verify_action(
        cid(cast),
        lambda: wa.set_field(cast.bob, "choice", "We kiezen optie 2.", 1),
        "field.updated",
    )

    assert not value.is_confirmed
    assert event.data["confirmed"] is False


# --- players and options -------------------------------------------------------------------


def test_it_adds_a_column_at_the_end(cast: Cast) -> None:
    column, (event,) = verify_action(
        cid(cast), lambda: wa.add_column(cast.alice, "players", " De pers "), "column.added"
    )

    assert event.data == {"id": column.pk, "matrix": "players", "position": 3, "name": "De pers"}


def test_it_refuses_a_column_beyond_the_maximum(cast: Cast) -> None:
    for number in range(9):
        wa.add_column(cast.alice, "players", f"Speler {number}")
    assert len(columns(cast.conversation, "players")) == 12

    assert_refused(cid(cast), lambda: wa.add_column(cast.alice, "players", ""), ValidationError)


@pytest.mark.parametrize(("matrix", "name"), [("spelers", ""), ("players", "x" * 81)])
def test_it_refuses_a_column_it_cannot_add(cast: Cast, matrix: str, name: str) -> None:
    assert_refused(cid(cast), lambda: wa.add_column(cast.alice, matrix, name), ValidationError)


def test_it_renames_a_column(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[1]

    _, (event,) = verify_action(
        cid(cast), lambda: wa.rename_column(cast.owner, player.pk, "Minister"), "column.renamed"
    )

    assert event.data == {"id": player.pk, "matrix": "players", "position": 1, "name": "Minister"}


def test_it_moves_a_column_and_tells_the_new_order(cast: Cast) -> None:
    a, b, c = columns(cast.conversation, "players")

    _, (event,) = verify_action(
        cid(cast), lambda: wa.move_column(cast.facilitator, c.pk, -1), "column.moved"
    )

    assert event.data == {"matrix": "players", "order": [a.pk, c.pk, b.pk]}
    assert [col.pk for col in columns(cast.conversation, "players")] == [a.pk, c.pk, b.pk]


def test_it_does_nothing_when_a_column_cannot_move_further(cast: Cast) -> None:
    first = columns(cast.conversation, "players")[0]

    verify_action(cid(cast), lambda: wa.move_column(cast.facilitator, first.pk, -1))


def test_it_moves_a_column_one_place_at_a_time(cast: Cast) -> None:
    first = columns(cast.conversation, "players")[0]

    assert_refused(
        cid(cast), lambda: wa.move_column(cast.facilitator, first.pk, 2), ValidationError
    )


def test_it_removes_a_column_with_its_cards_and_closes_the_gap(cast: Cast) -> None:
    a, b, c = columns(cast.conversation, "players")
    wa.add_card(cast.alice, b.pk, "belangen", "Kaart in B")
    kept = wa.add_card(cast.alice, c.pk, "belangen", "Kaart in C")

    _, (event,) = verify_action(
        cid(cast), lambda: wa.remove_column(cast.facilitator, b.pk), "column.removed"
    )

    assert event.data == {"id": b.pk}
    assert [(col.pk, col.position) for col in columns(cast.conversation, "players")] == [
        (a.pk, 0),
        (c.pk, 1),
    ]
    assert list(Card.objects.filter(conversation=cast.conversation)) == [kept]


def test_it_keeps_at_least_one_column(cast: Cast) -> None:
    first, second = columns(cast.conversation, "options")
    wa.remove_column(cast.facilitator, first.pk)

    assert_refused(
        cid(cast), lambda: wa.remove_column(cast.facilitator, second.pk), ValidationError
    )


@pytest.mark.parametrize("persona", ["owner", "participant", "observer"])
def test_it_lets_only_the_facilitator_arrange_columns(cast: Cast, persona: str) -> None:
    first = columns(cast.conversation, "players")[0]
    member = cast.member(persona)

    assert_refused(cid(cast), lambda: wa.move_column(member, first.pk, 1), PermissionDenied)
    assert_refused(cid(cast), lambda: wa.remove_column(member, first.pk), PermissionDenied)


def test_it_keeps_observers_from_adding_columns(cast: Cast) -> None:
    assert_refused(cid(cast), lambda: wa.add_column(cast.observer, "players", ""), PermissionDenied)


@pytest.mark.parametrize("action", ["rename", "move", "remove", "add_card"])
def test_it_never_touches_a_column_of_another_conversation(cast: Cast, action: str) -> None:
    theirs = columns(cast.other_conversation, "players")[0]
    run = {
        "rename": lambda: wa.rename_column(cast.facilitator, theirs.pk, "Gekaapt"),
        "move": lambda: wa.move_column(cast.facilitator, theirs.pk, 1),
        "remove": lambda: wa.remove_column(cast.facilitator, theirs.pk),
        "add_card": lambda: wa.add_card(cast.facilitator, theirs.pk, "belangen", "Gekaapt"),
    }[action]
    others_before = state_of(cast.other_conversation.pk)

    assert_refused(cid(cast), run, ValidationError)

    assert state_of(cast.other_conversation.pk) == others_before


# --- cards ---------------------------------------------------------------------------------


def test_it_adds_a_card_at_the_end_of_its_cell(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[0]
    first = wa.add_card(cast.alice, player.pk, "belangen", "Eerste")

    card, (event,) = verify_action(
        cid(cast),
        lambda: wa.add_card(cast.bob, player.pk, "belangen", " Tweede "),
        "card.added",
    )

    assert event.data == {
        "id": card.pk,
        "column": player.pk,
        "row": "belangen",
        "text": "Tweede",
        "anonymous": False,
        "version": 1,
        "author": cast.bob.pk,
    }
    assert card.position == first.position + 1


def test_it_leaves_the_author_out_of_an_anonymous_cards_event(cast: Cast) -> None:
    option = columns(cast.conversation, "options")[0]

    card, (event,) = verify_action(
        cid(cast),
        lambda: wa.add_card(cast.alice, option.pk, "nadelen", "Gevoelig", anonymous=True),
        "card.added",
    )

    assert event.data["author"] is None
    assert event.data["anonymous"] is True
    assert cast.alice.pk not in json.dumps(event.data)


def test_it_keeps_the_author_of_an_anonymous_card_out_of_the_event_log(cast: Cast) -> None:
    option = columns(cast.conversation, "options")[0]
    card = wa.add_card(cast.alice, option.pk, "nadelen", "Gevoelig", anonymous=True)
    wa.edit_card(cast.alice, card.pk, "Gevoelig, anders gezegd")
    wa.remove_card(cast.alice, card.pk)

    events = Event.objects.filter(conversation=cast.conversation, type__startswith="card.")
    assert [(e.type, e.actor_id) for e in events] == [
        ("card.added", None),
        ("card.updated", None),
        ("card.removed", None),
    ]


@pytest.mark.parametrize(
    ("row", "text"),
    [
        ("onbekend", "Tekst"),
        ("voordelen", "Rij van opties"),
        ("belangen", ""),
        ("belangen", "  \n "),
        ("belangen", "x" * 4001),
        ("belangen", "nul\x00"),
    ],
)
def test_it_refuses_a_card_it_cannot_place(cast: Cast, row: str, text: str) -> None:
    player = columns(cast.conversation, "players")[0]

    assert_refused(
        cid(cast), lambda: wa.add_card(cast.alice, player.pk, row, text), ValidationError
    )


def test_it_keeps_observers_from_adding_cards(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[0]

    assert_refused(
        cid(cast),
        lambda: wa.add_card(cast.observer, player.pk, "belangen", "Ik kijk mee"),
        PermissionDenied,
    )


def test_it_lets_an_author_edit_their_card(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[0]
    card = wa.add_card(cast.alice, player.pk, "belangen", "Eerste versie")

    edited, (event,) = verify_action(
        cid(cast), lambda: wa.edit_card(cast.alice, card.pk, "Tweede versie"), "card.updated"
    )

    assert (edited.text, edited.version) == ("Tweede versie", 2)
    assert event.data["text"] == "Tweede versie"
    assert event.data["version"] == 2


def test_it_records_nothing_when_a_card_is_saved_unchanged(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[0]
    card = wa.add_card(cast.alice, player.pk, "belangen", "Zelfde")

    verify_action(cid(cast), lambda: wa.edit_card(cast.alice, card.pk, "Zelfde"))


def test_it_lets_the_facilitator_edit_and_remove_any_card(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[0]
    card = wa.add_card(cast.alice, player.pk, "belangen", "Van Alice")

    verify_action(
        cid(cast), lambda: wa.edit_card(cast.facilitator, card.pk, "Bijgewerkt"), "card.updated"
    )
    verify_action(cid(cast), lambda: wa.remove_card(cast.facilitator, card.pk), "card.removed")
    assert not Card.objects.filter(pk=card.pk).exists()


@pytest.mark.parametrize("persona", ["owner", "observer"])
def test_it_keeps_others_away_from_someone_elses_card(cast: Cast, persona: str) -> None:
    player = columns(cast.conversation, "players")[0]
    card = wa.add_card(cast.alice, player.pk, "belangen", "Van Alice")
    member = cast.member(persona)

    assert_refused(cid(cast), lambda: wa.edit_card(member, card.pk, "Gekaapt"), PermissionDenied)
    assert_refused(cid(cast), lambda: wa.remove_card(member, card.pk), PermissionDenied)


def test_it_lets_an_author_remove_their_card(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[0]
    card = wa.add_card(cast.bob, player.pk, "rechten", "Weg ermee")

    _, (event,) = verify_action(
        cid(cast), lambda: wa.remove_card(cast.bob, card.pk), "card.removed"
    )

    assert event.data == {"id": card.pk}


def test_it_never_touches_a_card_of_another_conversation(cast: Cast) -> None:
    theirs = columns(cast.other_conversation, "players")[0]
    card = wa.add_card(cast.other_facilitator, theirs.pk, "belangen", "Van de buren")

    assert_refused(
        cid(cast), lambda: wa.edit_card(cast.facilitator, card.pk, "Gekaapt"), ValidationError
    )
    assert_refused(cid(cast), lambda: wa.remove_card(cast.facilitator, card.pk), ValidationError)
    assert Card.objects.get(pk=card.pk).text == "Van de buren"


# --- "Hoe nu verder?" ----------------------------------------------------------------------


def test_it_adds_edits_and_removes_an_action(cast: Cast) -> None:
    step, (event,) = verify_action(
        cid(cast),
        lambda: wa.add_next_step(cast.alice, "next_steps", "Nota delen", "Olga", "vrijdag"),
        "next_step.added",
    )
    assert event.data == {
        "id": step.pk,
        "field": "next_steps",
        "what": "Nota delen",
        "who": "Olga",
        "when": "vrijdag",
        "position": 0,
    }

    verify_action(
        cid(cast),
        lambda: wa.edit_next_step(cast.owner, step.pk, "Nota delen met indieners", "Olga", ""),
        "next_step.updated",
    )
    verify_action(cid(cast), lambda: wa.remove_next_step(cast.bob, step.pk), "next_step.removed")
    assert not NextStep.objects.filter(pk=step.pk).exists()


@pytest.mark.parametrize(
    ("key", "what", "who", "when"),
    [
        ("next_steps", "", "Olga", ""),
        ("next_steps", "Bellen", "x" * 121, ""),
        ("next_steps", "Bellen", "", "x" * 61),
        ("dilemma", "Bellen", "", ""),
        ("onbekend", "Bellen", "", ""),
    ],
)
def test_it_refuses_an_action_it_cannot_store(cast: Cast, key, what, who, when) -> None:
    assert_refused(
        cid(cast), lambda: wa.add_next_step(cast.alice, key, what, who, when), ValidationError
    )


def test_it_keeps_observers_from_the_actions(cast: Cast) -> None:
    step = wa.add_next_step(cast.alice, "next_steps", "Bellen", "", "")

    for run in (
        lambda: wa.add_next_step(cast.observer, "next_steps", "Mailen", "", ""),
        lambda: wa.edit_next_step(cast.observer, step.pk, "Mailen", "", ""),
        lambda: wa.remove_next_step(cast.observer, step.pk),
    ):
        assert_refused(cid(cast), run, PermissionDenied)


# --- "Zijn we tevreden?" -------------------------------------------------------------------


def test_it_keeps_one_evaluation_per_member(cast: Cast) -> None:
    _, (event,) = verify_action(
        cid(cast),
        lambda: wa.save_evaluation(cast.alice, "satisfaction", 4, " Goed gesprek "),
        "evaluation.saved",
    )
    assert event.data == {
        "field": "satisfaction",
        "member": cast.alice.pk,
        "score": 4,
        "remark": "Goed gesprek",
    }

    verify_action(
        cid(cast),
        lambda: wa.save_evaluation(cast.alice, "satisfaction", 2, ""),
        "evaluation.saved",
    )
    assert [(e.score, e.remark) for e in Evaluation.objects.filter(member=cast.alice)] == [(2, "")]


@pytest.mark.parametrize(
    ("key", "score", "remark"),
    [
        ("satisfaction", 0, ""),
        ("satisfaction", 6, ""),
        ("satisfaction", True, ""),
        ("satisfaction", "4", ""),
        ("satisfaction", 4, "x" * 4001),
        ("summary", 4, ""),
    ],
)
def test_it_refuses_an_evaluation_out_of_range(cast: Cast, key, score, remark) -> None:
    assert_refused(
        cid(cast), lambda: wa.save_evaluation(cast.alice, key, score, remark), ValidationError
    )


def test_it_keeps_observers_from_evaluating(cast: Cast) -> None:
    assert_refused(
        cid(cast),
        lambda: wa.save_evaluation(cast.observer, "satisfaction", 5, ""),
        PermissionDenied,
    )


# --- the owner's preparation ---------------------------------------------------------------


def test_it_saves_the_preparation_without_putting_its_content_in_the_event(cast: Cast) -> None:
    answers = {"facts": "Een Woo-verzoek over subsidies.", "want": "  ", "dare": "Ja."}

    preparation, (event,) = verify_action(
        cid(cast),
        lambda: save_preparation(cast.owner, answers, ["ethiek", "rechten"], True),
        "preparation.updated",
    )

    assert preparation.answers == {"facts": "Een Woo-verzoek over subsidies.", "dare": "Ja."}
    assert preparation.dilemma_kinds == ["rechten", "ethiek"]  # in the method's order
    assert preparation.share_in_report is True
    assert event.data == {"answered": ["dare", "facts"], "share_in_report": True}
    assert "Woo-verzoek" not in json.dumps(event.data)


@pytest.mark.parametrize(
    ("answers", "kinds"),
    [
        ({"onbekend": "Tekst"}, []),
        ({"facts": "Goed"}, ["geld"]),
        ({"facts": "Goed", "want": "x" * 4001}, []),
        ({"facts": "Goed", "want": "bel\x07"}, []),
    ],
)
def test_it_saves_all_of_a_preparation_or_nothing(cast: Cast, answers, kinds) -> None:
    save_preparation(cast.owner, {"facts": "Eerdere versie"}, [], False)

    assert_refused(
        cid(cast), lambda: save_preparation(cast.owner, answers, kinds, True), ValidationError
    )
    assert Preparation.objects.get(conversation=cast.conversation).answers == {
        "facts": "Eerdere versie"
    }


@pytest.mark.parametrize("persona", ["facilitator", "participant", "observer"])
def test_it_lets_only_the_owner_write_the_preparation(cast: Cast, persona: str) -> None:
    assert_refused(
        cid(cast),
        lambda: save_preparation(cast.member(persona), {"facts": "Niet van mij"}, [], False),
        PermissionDenied,
    )


# --- publishing ----------------------------------------------------------------------------


def test_it_publishes_nothing_when_the_surrounding_transaction_rolls_back(cast: Cast) -> None:
    seq = last_seq(cid(cast))

    with events_sent_on_commit() as sent, pytest.raises(RuntimeError), transaction.atomic():
        wa.set_field(cast.alice, "dilemma", "Wordt teruggedraaid", 0)
        raise RuntimeError("the request fails after the action")

    assert sent == []
    assert last_seq(cid(cast)) == seq
    assert not FieldValue.objects.filter(conversation=cast.conversation, key="dilemma").exists()


def test_it_hands_a_committed_event_to_every_subscriber(
    cast: Cast, django_capture_on_commit_callbacks, monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[Event] = []

    def broken(event: Event) -> None:
        raise ConnectionError("the broker is down")

    # A broken subscriber must cost the others nothing, and the write stays committed.
    monkeypatch.setattr(events_module, "subscribers", [broken, received.append])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        value = wa.set_field(cast.alice, "dilemma", "Live!", 0)
        assert received == []

    for callback in callbacks:
        callback()

    assert [(e.type, e.seq) for e in received] == [("field.updated", last_seq(cid(cast)))]
    assert FieldValue.objects.get(pk=value.pk).text == "Live!"


def test_it_applies_a_resent_operation_only_once(cast: Cast) -> None:
    with events_module.operation("op-dubbelklik-1"):
        verify_action(
            cid(cast), lambda: wa.add_column(cast.alice, "players", "Pers"), "column.added"
        )
    with events_module.operation("op-dubbelklik-1"):
        assert_refused(
            cid(cast),
            lambda: wa.add_column(cast.alice, "players", "Pers"),
            events_module.AlreadyApplied,
        )

    assert [c.name for c in columns(cast.conversation, "players")] == ["", "", "", "Pers"]
