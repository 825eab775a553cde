"""Saving a text over the conversation socket: the form's action, answered with one frame.

The page sends a `save` frame for a text field (`save_card` for a card's wording) instead of
posting its form, so the editor
waits for one database transaction and not for an HTTP request, a session, a redirect and a
re-render. Only the happy path travels this way: whenever the save is not simply stored (a
conflict to resolve, a locked field, a text too long) the answer is `rejected` and the page
posts the same form, whose answer shows the message in place. One write path either way: both
call `actions.set_field` under the form's operation id.

Most live saves are plain: an active member types in an open field, starting from the version
that is stored. Those are written by `_save_plain` in the fewest steps this path allows; it
checks the same rules with the same functions and records the event through the same
`record`, and hands every other save, unchanged, to `actions.set_field`. On a server that is
idle between edits, the CPU a save takes grows with how much code and data it touches, not
only with how many instructions it runs (docs/performance.md, tenth round).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dilemmagesprek.conversations.events import (
    AlreadyApplied,
    OperationReused,
    active_member,
    content_digest,
    operation,
    record,
)
from dilemmagesprek.conversations.models import Conversation, Event, Member
from dilemmagesprek.conversations.permissions import Perm, can
from dilemmagesprek.lib import rows
from dilemmagesprek.lib.text import clean_text

from . import actions
from .facilitation import check_open
from .models import FieldValue

# What the plain save reads of the conversation and the member: what the rules look at.
CONVERSATION_COLUMNS = ("status", "method_digest", "locked_fields", "step_options", "last_seq")
MEMBER_COLUMNS = ("conversation", "role", "removed_at", "waiting")


class NoLongerMember(Exception):
    """The writer was removed (or sent back to the lobby): their socket must close."""


def save_text(
    member_id: str, conversation_id: str, key: str, text: str, version: int, op: str
) -> dict[str, Any]:
    """Store a text field as the form would, and give the answer frame for the writer.

    `saved` carries the stored version and text (a merge may have combined it with another
    edit). Raises NoLongerMember when the writer is no longer an active member.
    """
    # The same fingerprint as the form's post of this text, so a resend over either transport
    # is recognised as the same operation.
    digest = content_digest([("text", text), ("version", str(version))])
    plain = _save_plain(member_id, conversation_id, key, text, version, op, digest)
    if plain is not None:
        return plain
    actor = Member(pk=member_id, conversation_id=conversation_id)
    outcome = _write(member_id, op, digest, lambda: actions.set_field(actor, key, text, version))
    if outcome is None:
        return _rejected(op)
    value, earlier = outcome
    if earlier is None:
        return _saved(op, key, value.version, value.text)
    if earlier.type != "field.updated" or earlier.data.get("key") != key:
        return _rejected(op)
    return _saved(op, key, earlier.data["version"], earlier.data["text"])


class _NotPlain(Exception):
    """This save needs `actions.set_field`; nothing has been written."""


def _save_plain(
    member_id: str, conversation_id: str, key: str, text: str, version: int, op: str, digest: str
) -> dict[str, Any] | None:
    """Store the text as `actions.set_field` would when nothing stands in its way; None, with
    nothing changed, when something does: the writer may not edit, the field is locked or
    unknown, the text is refused, the field has no text yet, the text is what is stored, or
    the version moved on (a merge or a conflict). `set_field` then decides and explains.
    """
    try:
        with operation(op, digest), transaction.atomic():
            # The same row lock as every write (events.locked), on fewer columns.
            conversation = rows.fetch_one(
                Conversation, {"id": conversation_id}, only=CONVERSATION_COLUMNS, for_update=True
            )
            actor = rows.fetch_one(
                Member,
                {"id": member_id, "conversation": conversation_id},
                only=MEMBER_COLUMNS,
                extra="removed_at IS NULL AND NOT waiting",
            )
            if conversation is None or actor is None:
                raise _NotPlain
            if not can(actor, Perm.EDIT_FIELDS, conversation):
                raise _NotPlain
            field = actions._field(conversation, key, "text")  # or ValidationError
            check_open(conversation, actor, key)
            text = clean_text(text, field.max_length, field="text")
            # Written only while the stored version is the one the edit started from and the
            # text differs from it: otherwise set_field merges, refuses or leaves it as it is.
            changed = rows.update_where(
                FieldValue,
                {"text": text, "version": version + 1, "updated_by": member_id,
                 "updated_at": timezone.now()},
                {"conversation": conversation_id, "key": key, "version": version},
                unequal={"text": text},
            )  # fmt: skip
            if changed != 1:
                raise _NotPlain
            # What set_field records. A confirmation names the version it confirmed, which is
            # older than this one, so the new text is never confirmed.
            data = {"key": key, "text": text, "version": version + 1, "confirmed": False}
            record(conversation, actor, "field.updated", data)
    except (_NotPlain, ValidationError, IntegrityError):
        # IntegrityError: this operation id was used before; set_field finds out how.
        return None
    return _saved(op, key, version + 1, text)


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
