"""Personas and their conversations, built through the app's own actions.

Nothing here writes to the database directly: a conversation is started with
`worksheets.actions.new_conversation`, people are invited with `conversations.actions.
invite_member`, and so on, so the tests exercise the same write path as the users do.

Also here: `state_of` (a conversation as a client would hold it), `apply_event` and `replay`
(apply events to such a state the way a client does, one rule per event type in
`CLIENT_RULES`), `events_sent_on_commit` and `verify_action` (Zulip's habit: "state before + the
events = state after", and the events are published only after commit).
"""

from __future__ import annotations

import copy
import datetime
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
from django.test import Client, TestCase

from dilemmagesprek.accounts.models import User
from dilemmagesprek.conversations import actions as conversation_actions
from dilemmagesprek.conversations import events as events_module
from dilemmagesprek.conversations import joining
from dilemmagesprek.conversations.models import Conversation, Event, Member
from dilemmagesprek.conversations.permissions import TRANSITIONS
from dilemmagesprek.preparations.models import Preparation
from dilemmagesprek.worksheets import actions as worksheet_actions
from dilemmagesprek.worksheets.models import Card, Column, Evaluation, FieldValue, NextStep

Role = Member.Role

# The personas a request can come from. "outsider" joined another conversation by link,
# "outsider_facilitator" leads that other conversation with an account.
ROLE_PERSONAS = ("facilitator", "owner", "participant", "observer")
OUTSIDER_PERSONAS = ("outsider", "outsider_facilitator")
PERSONAS = (*ROLE_PERSONAS, *OUTSIDER_PERSONAS, "anonymous")


# --- building people and conversations -----------------------------------------------------


def make_facilitator(username: str = "gespreksleider", **extra: Any) -> User:
    """A facilitator account. No password: tests log in with Client.force_login."""
    extra.setdefault("first_name", "Fenna")
    extra.setdefault("last_name", "de Leider")
    return User.objects.create_user(username=username, role=User.Role.FACILITATOR, **extra)


def start_conversation(
    user: User, title: str = "Woo-verzoek over de subsidieregeling", variant: str = "lang"
) -> tuple[Conversation, Member]:
    return worksheet_actions.new_conversation(user, title, variant)


def invite(actor: Member, display_name: str, role: str) -> tuple[Member, str]:
    return conversation_actions.invite_member(actor, display_name, role)


@dataclass
class Cast:
    """One conversation with a member of every role, and a second conversation next door."""

    facilitator_user: User
    conversation: Conversation
    facilitator: Member
    owner: Member
    owner_token: str
    alice: Member  # participant
    alice_token: str
    bob: Member  # participant
    bob_token: str
    observer: Member
    observer_token: str
    # The conversation next door: its people must never see or touch ours, nor we theirs.
    other_facilitator_user: User
    other_conversation: Conversation
    other_facilitator: Member
    other_participant: Member
    other_token: str

    def member(self, persona: str) -> Member:
        return {
            "facilitator": self.facilitator,
            "owner": self.owner,
            "participant": self.alice,
            "observer": self.observer,
            "outsider": self.other_participant,
            "outsider_facilitator": self.other_facilitator,
        }[persona]

    def token(self, persona: str) -> str:
        return {
            "owner": self.owner_token,
            "participant": self.alice_token,
            "observer": self.observer_token,
            "outsider": self.other_token,
        }[persona]

    def fresh(self, member: Member) -> Member:
        return Member.objects.select_related("conversation").get(pk=member.pk)

    def reload(self) -> Conversation:
        self.conversation = Conversation.objects.get(pk=self.conversation.pk)
        return self.conversation


def build_cast() -> Cast:
    facilitator_user = make_facilitator()
    conversation, facilitator = start_conversation(facilitator_user)
    owner, owner_token = invite(facilitator, "Olga Eigenaar", Role.OWNER)
    alice, alice_token = invite(facilitator, "Alice Speler", Role.PARTICIPANT)
    bob, bob_token = invite(facilitator, "Bob Speler", Role.PARTICIPANT)
    observer, observer_token = invite(facilitator, "Wim Waarnemer", Role.OBSERVER)

    other_user = make_facilitator("buurman", first_name="Bert", last_name="Buurman")
    other_conversation, other_facilitator = start_conversation(
        other_user, title="Geheim buurgesprek over de haven"
    )
    other_participant, other_token = invite(other_facilitator, "Otto Buiten", Role.PARTICIPANT)
    return Cast(
        facilitator_user=facilitator_user,
        conversation=Conversation.objects.get(pk=conversation.pk),
        facilitator=facilitator,
        owner=owner,
        owner_token=owner_token,
        alice=alice,
        alice_token=alice_token,
        bob=bob,
        bob_token=bob_token,
        observer=observer,
        observer_token=observer_token,
        other_facilitator_user=other_user,
        other_conversation=Conversation.objects.get(pk=other_conversation.pk),
        other_facilitator=other_facilitator,
        other_participant=other_participant,
        other_token=other_token,
    )


@dataclass
class Furniture:
    """Things on both worksheets that URLs point at: columns, a card, an action, a question."""

    player: Column  # first player column of our conversation
    option: Column  # first option column
    card: Card  # written by the facilitator in the first player column
    next_step: NextStep
    newcomer: Member  # waiting in our lobby
    other_player: Column
    other_card: Card
    other_next_step: NextStep
    other_newcomer: Member  # waiting in the neighbours' lobby


SHARED_QUESTION = "Mogen we de conceptnota nu al delen met de indieners?"
OTHER_SECRET = "Geheime kaart van de buren"


def furnish(cast: Cast) -> Furniture:
    """Fill both worksheets a little, through the actions, so every URL has a target.

    Someone waits in each lobby (joined with a code, not yet admitted).
    """
    player = columns(cast.conversation, "players")[0]
    option = columns(cast.conversation, "options")[0]
    card = worksheet_actions.add_card(
        cast.facilitator, player.pk, "standpunten", "De minister wil eerst zelf spreken."
    )
    next_step = worksheet_actions.add_next_step(
        cast.facilitator, "next_steps", "Conceptnota delen", "Olga", "vrijdag"
    )
    worksheet_actions.set_field(cast.alice, "shared_question", SHARED_QUESTION, 0)
    newcomer = joining.enter_lobby(cast.conversation, "Nina Nieuw")
    other_newcomer = joining.enter_lobby(cast.other_conversation, "Nico Buurman")
    other_player = columns(cast.other_conversation, "players")[0]
    other_card = worksheet_actions.add_card(
        cast.other_facilitator, other_player.pk, "belangen", OTHER_SECRET
    )
    other_next_step = worksheet_actions.add_next_step(
        cast.other_facilitator, "next_steps", "Buren bellen", "Bert", "morgen"
    )
    cast.reload()
    return Furniture(
        player=player,
        option=option,
        card=card,
        next_step=next_step,
        newcomer=newcomer,
        other_player=other_player,
        other_card=other_card,
        other_next_step=other_next_step,
        other_newcomer=other_newcomer,
    )


def columns(conversation: Conversation, matrix: str) -> list[Column]:
    found = Column.objects.filter(conversation=conversation, matrix=matrix)
    return list(found.order_by("position"))


def bring_to_status(facilitator: Member, status: str) -> Conversation:
    """Walk the conversation to `status` along allowed transitions, with change_status."""
    conversation = Conversation.objects.get(pk=facilitator.conversation_id)
    start = conversation.status
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for following in TRANSITIONS[current]:
            if following not in previous:
                previous[following] = current
                queue.append(following)
    path = []
    step: str | None = status
    while step is not None and step != start:
        path.append(step)
        step = previous[step]
    for following in reversed(path):
        conversation = conversation_actions.change_status(facilitator, following)
    return Conversation.objects.get(pk=conversation.pk)


# --- clients -------------------------------------------------------------------------------


def log_in(client: Client, user: User) -> Client:
    """Facilitators sign in with their account."""
    client.force_login(user)
    return client


def join(client: Client, token: str) -> Client:
    """Invited members open their link; the session then remembers their membership."""
    response = client.get(f"/uitnodiging/{token}/")
    assert response.status_code == 302, response.status_code
    return client


def client_for(cast: Cast, persona: str, **client_kwargs: Any) -> Client:
    client = Client(**client_kwargs)
    if persona == "facilitator":
        return log_in(client, cast.facilitator_user)
    if persona == "outsider_facilitator":
        return log_in(client, cast.other_facilitator_user)
    if persona == "anonymous":
        return client
    return join(client, cast.token(persona))


# --- the state a client holds, and how events change it ------------------------------------


def state_of(conversation_id: str) -> dict[str, Any]:
    """Everything a member's screen shows of a conversation, as plain data.

    It is what any member may learn from the event log: a card written alone shows only where
    it lies until it is revealed (its text and author wait, as in the event, `_card_state`),
    and the join code itself is no more than "on" or "off".
    """
    conversation = Conversation.objects.get(pk=conversation_id)
    preparation = Preparation.objects.filter(conversation=conversation).first()
    return {
        "conversation": {
            "title": conversation.title,
            "variant": conversation.variant,
            "planned_at": conversation.planned_at,
            "confidentiality": getattr(conversation, "confidentiality", None),
            "status": conversation.status,
            "step": conversation.current_step,
            "join_code": bool(getattr(conversation, "join_code", None)),
            "timer": _timer_state(conversation),
            # The facilitator's hand: per step "locked", "private" (write alone), "anonymous".
            "step_options": {
                step: dict(options) for step, options in conversation.step_options.items()
            },
            "locked_fields": list(conversation.locked_fields),
            "anonymous": conversation.anonymous,
            "spotlight": conversation.spotlight_card_id or None,
            "retention_days": conversation.retention_days,
        },
        # Which tables each step holds. No event changes it: the page has it from the method,
        # and a client needs it to apply a step's anonymity or reveal to that step's cards.
        "step_matrices": {
            step.number: [f.matrix for f in step.fields if f.kind == "matrix"]
            for step in conversation.method.steps
        },
        "members": {
            m.pk: {
                "display_name": m.display_name,
                "role": m.role,
                "has_link": m.token_hash is not None,
                "joined": m.joined_at is not None,
                "waiting": getattr(m, "waiting", False),
            }
            for m in Member.objects.filter(conversation=conversation, removed_at__isnull=True)
        },
        # A field nobody wrote in looks the same as one that was never touched.
        "fields": {
            v.key: {"text": v.text, "version": v.version, "confirmed": v.is_confirmed}
            for v in FieldValue.objects.filter(conversation=conversation)
            if v.version or v.text
        },
        "columns": {
            c.pk: {
                "matrix": c.matrix,
                "position": c.position,
                "name": c.name,
                "woo_grounds": list(c.woo_grounds),
            }
            for c in Column.objects.filter(conversation=conversation)
        },
        "cards": {c.pk: _card_state(c) for c in Card.objects.filter(conversation=conversation)},
        "next_steps": {
            s.pk: {
                "field": s.field_key,
                "what": s.what,
                "who": s.who,
                "when": s.when,
                "position": s.position,
            }
            for s in NextStep.objects.filter(conversation=conversation)
        },
        "evaluations": {
            f"{e.field_key}/{e.member_id}": {"score": e.score, "remark": e.remark}
            for e in Evaluation.objects.filter(conversation=conversation)
        },
        "preparation": None
        if preparation is None
        else {
            "answered": sorted(preparation.answers),
            "share_in_report": preparation.share_in_report,
        },
    }


def _card_state(card: Card) -> dict[str, Any]:
    if card.hidden:
        # Written alone and not yet revealed: everyone sees that a card lies there, not what
        # it says nor who wrote it (its author's own screen is the one exception).
        return {"column": card.column_id, "row": card.row, "hidden": True}
    return {
        "column": card.column_id,
        "row": card.row,
        "text": card.text,
        "anonymous": card.anonymous,
        "version": card.version,
        "author": None if card.anonymous else card.author_id,
    }


def _timer_state(conversation: Conversation) -> dict[str, Any] | None:
    """The step timer as a screen shows it; a running clock's seconds depend on the moment."""
    if not hasattr(conversation, "timer_started_at"):
        return None
    running = conversation.timer_started_at is not None
    return {
        "running": running,
        "elapsed": None if running else conversation.timer_elapsed,
        "extra": conversation.timer_extra,
    }


def _without(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys}


# How a live client applies each event type to its state: one rule per type. A type the app
# records without a rule here fails `test_it_has_a_client_rule_for_every_event_type`.
ClientRule = Callable[[dict[str, Any], dict[str, Any]], None]
CLIENT_RULES: dict[str, ClientRule] = {}

# A card the client knows was just revealed: it lies at the same place, and its text and
# author come from the fetch the client makes (an event never carries what was written alone).
REFETCH = "refetch"


def _rule(*types: str) -> Callable[[ClientRule], ClientRule]:
    def register(rule: ClientRule) -> ClientRule:
        for type in types:
            assert type not in CLIENT_RULES, f"two client rules for {type!r}"
            CLIENT_RULES[type] = rule
        return rule

    return register


def apply_event(state: dict[str, Any], type: str, data: dict[str, Any]) -> None:
    """Change `state` the way a live client applies one event; unknown types fail loudly."""
    rule = CLIENT_RULES.get(type)
    if rule is None:
        raise AssertionError(f"no client rule for event type {type!r}: add one to apply_event")
    rule(state, data)


@_rule("conversation.created", "conversation.imported")
def _conversation_begins(state: dict[str, Any], data: dict[str, Any]) -> None:
    # The first event of a conversation: nobody has a page of it yet, and whoever opens one
    # fetches it whole. The event names only the title.
    state["conversation"]["title"] = data["title"]


@_rule("conversation.updated")
def _conversation_updated(state: dict[str, Any], data: dict[str, Any]) -> None:
    planned = data["planned_at"]
    state["conversation"].update(
        title=data["title"],
        variant=data["variant"],
        planned_at=datetime.datetime.fromisoformat(planned) if planned else None,
    )
    if "confidentiality" in data:
        state["conversation"]["confidentiality"] = data["confidentiality"]


@_rule("conversation.status")
def _conversation_status(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["conversation"]["status"] = data["status"]
    if data["status"] == Conversation.Status.CLOSED:
        # Ending closes the ways in: the code, the lobby, every link but the owner's; the
        # clock stops. The client knows this rule, the event only names the new status.
        state["conversation"]["join_code"] = False
        timer = state["conversation"]["timer"]
        if timer is not None:
            state["conversation"]["timer"] = {**timer, "running": False, "elapsed": 0}
        for member_id, member in list(state["members"].items()):
            if member["waiting"]:
                del state["members"][member_id]
            elif member["role"] != Member.Role.OWNER:
                member["has_link"] = False


def _apply_timer(state: dict[str, Any], data: dict[str, Any]) -> None:
    if "running" in data:
        state["conversation"]["timer"] = {
            "running": data["running"],
            "elapsed": None if data["running"] else data["elapsed"],
            "extra": data["extra"],
        }


@_rule("conversation.step")
def _conversation_step(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["conversation"]["step"] = data["step"]
    _apply_timer(state, data)


@_rule("conversation.timer")
def _conversation_timer(state: dict[str, Any], data: dict[str, Any]) -> None:
    _apply_timer(state, data)


@_rule("conversation.join_code")
def _conversation_join_code(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["conversation"]["join_code"] = data["enabled"]


@_rule("conversation.retention")
def _conversation_retention(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["conversation"]["retention_days"] = data["days"]


# --- the facilitator's hand: lock, write alone then reveal, anonymity, spotlight ---


def _cards_of_step(state: dict[str, Any], number: int) -> list[dict[str, Any]]:
    matrices = state["step_matrices"].get(number, [])
    columns = {pk for pk, column in state["columns"].items() if column["matrix"] in matrices}
    return [card for card in state["cards"].values() if card["column"] in columns]


def _make_anonymous(cards: list[dict[str, Any]]) -> None:
    # Raising anonymity takes the name off what was written too. A hidden card shows no name
    # anyway; it comes anonymous with the fetch that reveals it.
    for card in cards:
        if "text" in card:
            card.update(anonymous=True, author=None)


def _reveal(cards: list[dict[str, Any]]) -> int:
    """Mark the hidden cards among `cards` to be fetched; returns how many there were.

    The event says only that they appeared (it cannot carry their text: every member may read
    the event log, and until this moment the text was its author's). The client fetches the
    step, and `fetch_revealed` stands in for that fetch when comparing with the server.
    """
    hidden = [card for card in cards if card.get("hidden")]
    for card in hidden:
        del card["hidden"]
        card[REFETCH] = True
    return len(hidden)


@_rule("conversation.step_option")
def _conversation_step_option(state: dict[str, Any], data: dict[str, Any]) -> None:
    options = state["conversation"]["step_options"]
    key = str(data["step"])
    options[key] = {**options.get(key, {}), data["option"]: data["value"]}
    # What the option does to the step's cards so far, a rule the client knows:
    if data["option"] == "anonymous" and data["value"]:
        _make_anonymous(_cards_of_step(state, data["step"]))
    if data["option"] == "private" and not data["value"]:
        _reveal(_cards_of_step(state, data["step"]))  # turning "write alone" off reveals


@_rule("conversation.revealed")
def _conversation_revealed(state: dict[str, Any], data: dict[str, Any]) -> None:
    revealed = _reveal(_cards_of_step(state, data["step"]))
    assert revealed == data["cards"], (
        f"the event says {data['cards']} card(s) appeared, the client had {revealed} hidden"
    )


@_rule("conversation.anonymous")
def _conversation_anonymous(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["conversation"]["anonymous"] = data["value"]
    if data["value"]:
        _make_anonymous(list(state["cards"].values()))


@_rule("conversation.field_lock")
def _conversation_field_lock(state: dict[str, Any], data: dict[str, Any]) -> None:
    fields = [key for key in state["conversation"]["locked_fields"] if key != data["key"]]
    if data["locked"]:
        fields.append(data["key"])
    state["conversation"]["locked_fields"] = fields


@_rule("conversation.spotlight")
def _conversation_spotlight(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["conversation"]["spotlight"] = data["card"]


# --- members ---


@_rule("member.added")
def _member_added(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["members"][data["id"]] = {
        "display_name": data["display_name"],
        "role": data["role"],
        "has_link": True,
        "joined": False,
        "waiting": False,
    }


@_rule("member.waiting")
def _member_waiting(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["members"][data["id"]] = {
        "display_name": data["display_name"],
        "role": Member.Role.PARTICIPANT,
        "has_link": False,
        "joined": False,
        "waiting": True,
    }


@_rule("member.admitted")
def _member_admitted(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["members"][data["id"]].update(
        display_name=data["display_name"], role=data["role"], joined=True, waiting=False
    )


@_rule("member.updated")
def _member_updated(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["members"][data["id"]].update(display_name=data["display_name"], role=data["role"])


@_rule("member.invite_renewed")
def _member_invite_renewed(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["members"][data["id"]]["has_link"] = True


@_rule("member.invite_revoked")
def _member_invite_revoked(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["members"][data["id"]]["has_link"] = False


@_rule("member.joined")
def _member_joined(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["members"][data["id"]]["joined"] = True


@_rule("member.removed")
def _member_removed(state: dict[str, Any], data: dict[str, Any]) -> None:
    del state["members"][data["id"]]


# --- the worksheet ---


@_rule("field.updated", "field.confirmed")
def _field_saved(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["fields"][data["key"]] = _without(data, "key")


@_rule("column.added")
def _column_added(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["columns"][data["id"]] = {**_without(data, "id"), "woo_grounds": []}


@_rule("column.renamed")
def _column_renamed(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["columns"][data["id"]].update(_without(data, "id"))


@_rule("column.tagged")
def _column_tagged(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["columns"][data["id"]]["woo_grounds"] = list(data["woo_grounds"])


@_rule("column.moved")
def _column_moved(state: dict[str, Any], data: dict[str, Any]) -> None:
    for position, column_id in enumerate(data["order"]):
        state["columns"][column_id]["position"] = position


@_rule("column.removed")
def _column_removed(state: dict[str, Any], data: dict[str, Any]) -> None:
    matrix = state["columns"].pop(data["id"])["matrix"]
    state["cards"] = {k: c for k, c in state["cards"].items() if c["column"] != data["id"]}
    siblings = sorted(
        (c for c in state["columns"].values() if c["matrix"] == matrix),
        key=lambda c: c["position"],
    )
    for position, column in enumerate(siblings):
        column["position"] = position


@_rule("card.added", "card.updated", "card.restored")
def _card_saved(state: dict[str, Any], data: dict[str, Any]) -> None:
    # A hidden card's event holds only where it lies, which is all a client shows of it.
    state["cards"][data["id"]] = _without(data, "id")


@_rule("card.removed")
def _card_removed(state: dict[str, Any], data: dict[str, Any]) -> None:
    del state["cards"][data["id"]]


@_rule("next_step.added", "next_step.updated")
def _next_step_saved(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["next_steps"][data["id"]] = _without(data, "id")


@_rule("next_step.removed")
def _next_step_removed(state: dict[str, Any], data: dict[str, Any]) -> None:
    del state["next_steps"][data["id"]]


@_rule("evaluation.saved")
def _evaluation_saved(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["evaluations"][f"{data['field']}/{data['member']}"] = {
        "score": data["score"],
        "remark": data["remark"],
    }


@_rule("preparation.updated")
def _preparation_updated(state: dict[str, Any], data: dict[str, Any]) -> None:
    state["preparation"] = {
        "answered": data["answered"],
        "share_in_report": data["share_in_report"],
    }


def replay(state: dict[str, Any], events: list[Event]) -> dict[str, Any]:
    state = copy.deepcopy(state)
    for event in events:
        apply_event(state, event.type, event.data)
    return state


def fetch_revealed(state: dict[str, Any], fresh: dict[str, Any]) -> dict[str, Any]:
    """`state` after the client fetched the cards it knows were revealed, from `fresh`.

    Only those cards are taken from `fresh`, and only when they lie where the client had
    them and are no longer hidden; everything else must have come from the events.
    """
    state = copy.deepcopy(state)
    for card_id, card in state["cards"].items():
        if card.get(REFETCH):
            fetched = fresh["cards"].get(card_id)
            assert fetched is not None, f"revealed card {card_id} is gone"
            assert "hidden" not in fetched, f"revealed card {card_id} is still hidden"
            where = (fetched["column"], fetched["row"])
            assert where == (card["column"], card["row"]), f"revealed card {card_id} moved"
            state["cards"][card_id] = copy.deepcopy(fetched)
    return state


# --- events, commits and verify_action -----------------------------------------------------


@contextmanager
def events_sent_on_commit() -> Iterator[list[Event]]:
    """Collect the events the block publishes, which must happen only once it commits.

    Tests run inside a transaction that never commits, so the block's on-commit callbacks are
    captured and run at its end, as a real commit would. Anything published earlier fails.
    """
    sent: list[Event] = []
    with mock.patch.object(events_module, "publish", sent.append):
        with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
            yield sent
        assert sent == [], f"published before commit: {[e.type for e in sent]}"
        for callback in callbacks:
            callback()


def last_seq(conversation_id: str) -> int:
    return Conversation.objects.values_list("last_seq", flat=True).get(pk=conversation_id)


def events_after(conversation_id: str, seq: int) -> list[Event]:
    return list(Event.objects.filter(conversation_id=conversation_id, seq__gt=seq).order_by("seq"))


def verify_action(conversation_id: str, run: Callable[[], Any], *types: str) -> tuple[Any, list]:
    """Run one action and check the write path's promises.

    It records exactly the events `types`, numbered on from the conversation's last sequence
    number; it publishes them, in order, only after commit; and replaying them on the state
    from before gives the state after. The one thing a client fetches rather than reads from
    an event is what was written alone, once revealed (see `_reveal`).
    """
    before, seq = state_of(conversation_id), last_seq(conversation_id)
    with events_sent_on_commit() as sent:
        result = run()
    recorded = events_after(conversation_id, seq)
    assert [e.type for e in recorded] == list(types)
    assert [e.seq for e in recorded] == list(range(seq + 1, seq + 1 + len(types)))
    assert last_seq(conversation_id) == seq + len(types)
    assert [(e.type, e.seq) for e in sent] == [(e.type, e.seq) for e in recorded]
    after = state_of(conversation_id)
    assert fetch_revealed(replay(before, recorded), after) == after
    return result, recorded


def assert_refused(
    conversation_id: str, run: Callable[[], Any], error: type[BaseException]
) -> BaseException:
    """The action raises `error`, and nothing changed: no state, no event, nothing published."""
    before, seq = state_of(conversation_id), last_seq(conversation_id)
    with events_sent_on_commit() as sent, pytest.raises(error) as raised:
        run()
    assert sent == []
    assert last_seq(conversation_id) == seq
    assert events_after(conversation_id, seq) == []
    assert state_of(conversation_id) == before
    return raised.value
