"""Saving a text over the conversation socket: the form's action, answered with one frame.

The page sends a `save` frame for a text field (`save_card` for a card's wording) instead of
posting its form, so the editor
waits for one database transaction and not for an HTTP request, a session, a redirect and a
re-render. Only the happy path travels this way: whenever the save is not simply stored (a
conflict to resolve, a locked field, a text too long) the answer is `rejected` and the page
posts the same form, whose answer shows the message in place. One write path either way: both
call `actions.set_field` under the form's operation id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError

from dilemmagesprek.conversations.events import (
    AlreadyApplied,
    OperationReused,
    active_member,
    content_digest,
    operation,
)
from dilemmagesprek.conversations.models import Event, Member

from . import actions


class NoLongerMember(Exception):
    """The writer was removed (or sent back to the lobby): their socket must close."""


def save_text(
    member_id: str, conversation_id: str, key: str, text: str, version: int, op: str
) -> dict[str, Any]:
    """Store a text field as the form would, and give the answer frame for the writer.

    `saved` carries the stored version and text (a merge may have combined it with another
    edit). Raises NoLongerMember when the writer is no longer an active member.
    """
    actor = Member(pk=member_id, conversation_id=conversation_id)
    # The same fingerprint as the form's post of this text, so a resend over either transport
    # is recognised as the same operation.
    digest = content_digest([("text", text), ("version", str(version))])
    outcome = _write(member_id, op, digest, lambda: actions.set_field(actor, key, text, version))
    if outcome is None:
        return _rejected(op)
    value, earlier = outcome
    if earlier is None:
        return _saved(op, key, value.version, value.text)
    if earlier.type != "field.updated" or earlier.data.get("key") != key:
        return _rejected(op)
    return _saved(op, key, earlier.data["version"], earlier.data["text"])


def save_card(
    member_id: str, conversation_id: str, card_id: str, text: str, op: str
) -> dict[str, Any]:
    """Store a card's new wording as its edit form would; the answer frame for the writer."""
    actor = Member(pk=member_id, conversation_id=conversation_id)
    digest = content_digest([("text", text)])
    outcome = _write(member_id, op, digest, lambda: actions.edit_card(actor, card_id, text))
    if outcome is None:
        return _rejected(op)
    card, earlier = outcome
    if earlier is None:
        return {"type": "saved", "op": op, "card": card_id, "text": card.text}
    if earlier.type != "card.updated" or earlier.data.get("id") != card_id:
        return _rejected(op)
    # A card written alone keeps its text out of the event until the reveal.
    return {"type": "saved", "op": op, "card": card_id, "text": earlier.data.get("text", text)}


def _write(
    member_id: str, op: str, digest: str, write: Callable[[], Any]
) -> tuple[Any, Event | None] | None:
    """Run one action under the operation id.

    (its result, None) when applied now; (None, the event) when this operation was applied
    before; None when the form must explain why not (a conflict, a lock, a text too long, a
    role that may not edit, an operation id reused for other content).
    """
    try:
        with operation(op, digest):
            return write(), None
    except AlreadyApplied as done:
        return None, done.event
    except (OperationReused, ValidationError, actions.EditConflict):
        return None
    except PermissionDenied:
        _check_still_member(member_id)
        return None


def _check_still_member(member_id: str) -> None:
    if active_member(member_id) is None:
        raise NoLongerMember(member_id)


def _rejected(op: str) -> dict[str, Any]:
    return {"type": "rejected", "op": op}


def _saved(op: str, key: str, version: int, text: str) -> dict[str, Any]:
    return {"type": "saved", "op": op, "field": key, "version": version, "text": text}
