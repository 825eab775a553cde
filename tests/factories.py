"""Personas and their conversations, built through the app's own actions.

Nothing here writes to the database directly: a conversation is started with
`worksheets.actions.new_conversation`, people are invited with `conversations.actions.
invite_member`, and so on, so the tests exercise the same write path as the users do.

Also here: `state_of` (a conversation as a client would hold it), `replay` (apply events to such
a state the way a client does), `events_sent_on_commit` and `verify_action` (Zulip's habit:
"state before + the events = state after", and the events are published only after commit).
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
    """Everything a member's screen shows of a conversation, as plain data."""
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
            c.pk: {"matrix": c.matrix, "position": c.position, "name": c.name}
            for c in Column.objects.filter(conversation=conversation)
        },
        "cards": {
            c.pk: {
                "column": c.column_id,
                "row": c.row,
                "text": c.text,
                "anonymous": c.anonymous,
                "version": c.version,
                "author": None if c.anonymous else c.author_id,
            }
            for c in Card.objects.filter(conversation=conversation)
        },
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


def _apply_timer(state: dict[str, Any], data: dict[str, Any]) -> None:
    if "running" in data:
        state["conversation"]["timer"] = {
            "running": data["running"],
            "elapsed": None if data["running"] else data["elapsed"],
            "extra": data["extra"],
        }


def _without(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys}


def apply_event(state: dict[str, Any], type: str, data: dict[str, Any]) -> None:
    """Change `state` the way a live client applies one event; unknown types fail loudly."""
    if type == "conversation.updated":
        planned = data["planned_at"]
        state["conversation"].update(
            title=data["title"],
            variant=data["variant"],
            planned_at=datetime.datetime.fromisoformat(planned) if planned else None,
        )
        if "confidentiality" in data:
            state["conversation"]["confidentiality"] = data["confidentiality"]
    elif type == "conversation.status":
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
    elif type == "conversation.step":
        state["conversation"]["step"] = data["step"]
        _apply_timer(state, data)
    elif type == "conversation.timer":
        _apply_timer(state, data)
    elif type == "conversation.join_code":
        state["conversation"]["join_code"] = data["enabled"]
    elif type == "member.added":
        state["members"][data["id"]] = {
            "display_name": data["display_name"],
            "role": data["role"],
            "has_link": True,
            "joined": False,
            "waiting": False,
        }
    elif type == "member.waiting":
        state["members"][data["id"]] = {
            "display_name": data["display_name"],
            "role": Member.Role.PARTICIPANT,
            "has_link": False,
            "joined": False,
            "waiting": True,
        }
    elif type == "member.admitted":
        state["members"][data["id"]].update(
            display_name=data["display_name"], role=data["role"], joined=True, waiting=False
        )
    elif type == "member.updated":
        state["members"][data["id"]].update(display_name=data["display_name"], role=data["role"])
    elif type == "member.invite_renewed":
        state["members"][data["id"]]["has_link"] = True
    elif type == "member.invite_revoked":
        state["members"][data["id"]]["has_link"] = False
    elif type == "member.joined":
        state["members"][data["id"]]["joined"] = True
    elif type == "member.removed":
        del state["members"][data["id"]]
    elif type in ("field.updated", "field.confirmed"):
        state["fields"][data["key"]] = _without(data, "key")
    elif type in ("column.added", "column.renamed"):
        state["columns"][data["id"]] = _without(data, "id")
    elif type == "column.moved":
        for position, column_id in enumerate(data["order"]):
            state["columns"][column_id]["position"] = position
    elif type == "column.removed":
        matrix = state["columns"].pop(data["id"])["matrix"]
        state["cards"] = {k: c for k, c in state["cards"].items() if c["column"] != data["id"]}
        siblings = sorted(
            (c for c in state["columns"].values() if c["matrix"] == matrix),
            key=lambda c: c["position"],
        )
        for position, column in enumerate(siblings):
            column["position"] = position
    elif type in ("card.added", "card.updated"):
        state["cards"][data["id"]] = _without(data, "id")
    elif type == "card.removed":
        del state["cards"][data["id"]]
    elif type in ("next_step.added", "next_step.updated"):
        state["next_steps"][data["id"]] = _without(data, "id")
    elif type == "next_step.removed":
        del state["next_steps"][data["id"]]
    elif type == "evaluation.saved":
        state["evaluations"][f"{data['field']}/{data['member']}"] = {
            "score": data["score"],
            "remark": data["remark"],
        }
    elif type == "preparation.updated":
        state["preparation"] = {
            "answered": data["answered"],
            "share_in_report": data["share_in_report"],
        }
    else:
        raise AssertionError(f"no client rule for event type {type!r}: add one to apply_event")


def replay(state: dict[str, Any], events: list[Event]) -> dict[str, Any]:
    state = copy.deepcopy(state)
    for event in events:
        apply_event(state, event.type, event.data)
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
    from before gives the state after.
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
    assert replay(before, recorded) == after
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
