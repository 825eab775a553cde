"""The one write path: lock the conversation, check, change, record an event, publish on commit.

Every action function in the app runs inside `writing(...)` and ends with `record(...)`. Views
and consumers never publish themselves, so a client can never see a change that was rolled back.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils.translation import gettext as _

from dilemmagesprek.lib import rows

from .models import Conversation, Event, Member
from .permissions import Perm, require

log = logging.getLogger(__name__)


class AlreadyApplied(Exception):
    """This operation id was applied before; `event` is what it did then."""

    def __init__(self, event: Event) -> None:
        super().__init__(f"operation already applied as event {event.seq}")
        self.event = event


class OperationReused(Exception):
    """This operation id was applied before, with other content than now."""


# The id of the operation being applied, set by the view or consumer that received it. A
# context variable keeps every action's signature free of plumbing that only the write path
# itself reads.
current_operation: ContextVar[tuple[str, str] | None] = ContextVar(
    "current_operation", default=None
)
OPERATION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def content_digest(pairs: Iterable[tuple[str, str]]) -> str:
    """The fingerprint of what a write asks for: its form fields, without token and operation id.

    A form post and a socket `save` of the same text give the same digest, so an operation
    applied over one is recognised when it is resent over the other. Browsers send line breaks
    in forms as CRLF and scripts see LF; both count as one.
    """
    content = sorted((key, value.replace("\r\n", "\n")) for key, value in pairs)
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()


@contextmanager
def operation(op: str | None, digest: str = "") -> Iterator[None]:
    """Apply the actions inside under operation id `op` (ignored when malformed or empty).

    `digest` fingerprints the request's content: a resend must carry the same content to be
    answered with the original result.
    """
    valid = op if op and OPERATION_ID.match(op) else None
    token = current_operation.set((valid, digest) if valid else None)
    try:
        yield
    finally:
        current_operation.reset(token)


@contextmanager
def locked(conversation_id: str) -> Iterator[Conversation]:
    """A transaction holding the conversation's row lock; the base of every write.

    An operation id is applied at most once by the unique constraint on the event it marks
    (`one_event_per_operation`): a resend fails on that INSERT, or earlier on a check its
    first application made fail (a version that moved on, a card that is gone), and is rolled
    back. Only then is the earlier event looked up, so a first application, the common case,
    costs no query for it.
    """
    operation_ = current_operation.get()
    try:
        with transaction.atomic():
            yield _locked_row(conversation_id)
    except Exception as error:
        if operation_ is not None:
            _raise_if_applied(conversation_id, *operation_, error)
        raise


def _raise_if_applied(conversation_id: str, op: str, digest: str, error: Exception) -> None:
    done = Event.objects.filter(conversation_id=conversation_id, op=op).first()
    if done is None:
        return
    if done.op_digest != digest:
        raise OperationReused(op) from error
    raise AlreadyApplied(done) from error


@contextmanager
def writing(member: Member, perm: Perm | None) -> Iterator[tuple[Conversation, Member]]:
    """Open a transaction holding the conversation's row lock, with the member re-read.

    Re-reading the member inside the lock means a member removed a moment ago can no longer
    write, and a role change takes effect on the very next write.
    """
    with locked(member.conversation_id) as conversation:
        fresh = active_member(member.pk)
        if fresh is None:
            raise PermissionDenied(_("You are no longer a member of this conversation."))
        fresh.conversation = conversation
        if perm is not None:
            require(fresh, perm, conversation)
        yield conversation, fresh


# The statements every write starts and ends with (the lock, the member, `last_seq`, the
# event) are written as SQL: building them with the ORM took two to five times as long as
# running them (docs/performance.md), on the path every live edit takes. The SQL is generated
# from the models' own fields (lib/rows.py), with the same conversions as a queryset and
# Model.save.


def _locked_row(conversation_id: str) -> Conversation:
    # The method's snapshot stays out (deferred): it is large, and Conversation.method finds
    # the parsed method by its digest.
    conversation = rows.fetch_one(
        Conversation, {"id": conversation_id}, leave_out="method_snapshot", for_update=True
    )
    if conversation is None:
        raise Conversation.DoesNotExist(conversation_id)
    return conversation


def active_member(member_id: str) -> Member | None:
    """The member, unless removed or still waiting in the lobby: one who may still write."""
    return rows.fetch_one(Member, {"id": member_id}, extra="removed_at IS NULL AND NOT waiting")


def _append(conversation: Conversation, event: Event) -> None:
    """Store the conversation's raised `last_seq` and insert the event."""
    db = connections[DEFAULT_DB_ALIAS]  # this thread's connection, not the proxy
    meta = Event._meta
    # The same conversions as Model.save: auto_now_add, JSON, dates, foreign keys.
    values = [field.get_db_prep_save(field.pre_save(event, True), db) for field in _event_fields()]
    if db.vendor == "postgresql":
        # One round trip instead of two: the UPDATE rides along as a WITH clause of the
        # INSERT (docs/performance.md, twelfth round). SQLite has no data-modifying WITH,
        # and no round trips to save.
        params = [conversation.last_seq, conversation.pk, *values]
        event.pk = rows.execute(db, _append_sql(), params).fetchone()[0]
    else:
        rows.update(conversation, ["last_seq"])
        if db.features.can_return_columns_from_insert:
            event.pk = rows.execute(db, _insert_sql(returning=True), values).fetchone()[0]
        else:
            cursor = rows.execute(db, _insert_sql(returning=False), values)
            event.pk = db.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)
    event._state.adding = False
    event._state.db = db.alias


@functools.cache
def _event_fields() -> list[models.Field]:
    """The event's columns as the INSERT lists them: every one but the generated id."""
    return [field for field in Event._meta.concrete_fields if field is not Event._meta.pk]


@functools.cache
def _insert_sql(returning: bool) -> str:
    quote = connection.ops.quote_name
    meta = Event._meta
    columns = [quote(field.column) for field in _event_fields()]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    return (sql + f" RETURNING {quote(meta.pk.column)}") if returning else sql


@functools.cache
def _append_sql() -> str:
    """PostgreSQL: `last_seq` and the event in one statement (last_seq, conversation id, the
    event's values)."""
    quote = connection.ops.quote_name
    conversations = Conversation._meta
    raise_seq = (
        f"UPDATE {quote(conversations.db_table)} "  # noqa: S608
        f"SET {quote(conversations.get_field('last_seq').column)} = %s "
        f"WHERE {quote(conversations.pk.column)} = %s"
    )
    return f"WITH raised AS ({raise_seq}) {_insert_sql(returning=True)}"


def record(
    conversation: Conversation, actor: Member | None, type: str, data: dict[str, Any]
) -> Event:
    """Append an event with the conversation's next sequence number; publish after commit."""
    conversation.last_seq += 1
    op, digest = current_operation.get() or (None, "")
    event = rows.new(
        Event,
        conversation_id=conversation.pk,
        seq=conversation.last_seq,
        type=type,
        data=data,
        actor_id=actor.pk if actor is not None else None,
        op=op,
        op_digest=digest,
    )
    _append(conversation, event)
    if op is not None:
        # One operation, one marked event: further events of the same action stay unmarked.
        current_operation.set(None)
    transaction.on_commit(lambda: publish(event))
    return event


# Called with every committed event. The realtime app registers its delivery here when it
# starts, so this module never imports the live layer (dependencies point one way).
subscribers: list[Callable[[Event], None]] = []


def publish(event: Event) -> None:
    """Hand a committed event to every subscriber. Delivery is best effort by design:

    clients detect gaps by sequence number and replay from the event log, so a lost
    message costs a replay, never data.
    """
    for subscriber in subscribers:
        try:
            subscriber(event)
        except Exception:  # a broken broker must not fail a write that has already committed
            log.warning("delivering event %s failed", event.seq, exc_info=True)
