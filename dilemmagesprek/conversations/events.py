"""The one write path: lock the conversation, check, change, record an event, publish on commit.

Every action function in the app runs inside `writing(...)` and ends with `record(...)`. Views
and consumers never publish themselves, so a client can never see a change that was rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from .models import Conversation, Event, Member
from .permissions import Perm, require

log = logging.getLogger(__name__)


def group_name(conversation_id: str) -> str:
    return f"conversation.{conversation_id}"


@contextmanager
def writing(member: Member, perm: Perm | None) -> Iterator[tuple[Conversation, Member]]:
    """Open a transaction holding the conversation's row lock, with the member re-read.

    Re-reading the member inside the lock means a member removed a moment ago can no longer
    write, and a role change takes effect on the very next write.
    """
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=member.conversation_id)
        fresh = Member.objects.filter(pk=member.pk, removed_at__isnull=True).first()
        if fresh is None:
            raise PermissionDenied(_("You are no longer a member of this conversation."))
        fresh.conversation = conversation
        if perm is not None:
            require(fresh, perm, conversation)
        yield conversation, fresh


def record(
    conversation: Conversation, actor: Member | None, type: str, data: dict[str, Any]
) -> Event:
    """Append an event with the conversation's next sequence number; publish after commit."""
    conversation.last_seq += 1
    Conversation.objects.filter(pk=conversation.pk).update(last_seq=conversation.last_seq)
    event = Event.objects.create(
        conversation=conversation, seq=conversation.last_seq, type=type, data=data, actor=actor
    )
    transaction.on_commit(lambda: publish(event))
    return event


def publish(event: Event) -> None:
    """Tell the live layer about a committed event. Delivery is best effort by design:

    clients detect gaps by sequence number and replay from the event log, so a lost
    message costs a replay, never data.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "conversation.event", "seq": event.seq, "event_type": event.type}
    try:
        async_to_sync(layer.group_send)(group_name(event.conversation_id), message)
    except Exception:  # a broken broker must not fail a write that has already committed
        log.warning("publishing event %s failed", event.seq, exc_info=True)
