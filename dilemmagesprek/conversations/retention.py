"""How long a conversation is kept, and destroying it — at once, or when its time is up."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dilemmagesprek.audit.log import audit
from dilemmagesprek.audit.models import Entry

from .events import record, writing
from .models import Conversation, Member
from .permissions import Perm, require

log = logging.getLogger(__name__)


def set_retention(actor: Member, days: int) -> Conversation:
    """Keep the conversation `days` days after it closes, within the limits the admin set."""
    low, high = settings.RETENTION_MIN_DAYS, settings.RETENTION_MAX_DAYS
    if not isinstance(days, int) or isinstance(days, bool) or not low <= days <= high:
        raise ValidationError(
            {"retention_days": _("Choose a number of days from %(low)d to %(high)d.")
             % {"low": low, "high": high}}
        )
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        conversation.retention_days = days
        conversation.save(update_fields=["retention_days", "updated_at"])
        record(conversation, actor, "conversation.retention", {"days": days})
    return conversation


def destroy(actor: Member) -> None:
    """Delete the conversation with every trace — content, event log, members, invitations.

    The facilitator or the dilemma owner can do this at any moment; the audit log keeps one
    line saying who destroyed which (opaque) conversation, and nothing of its content.
    """
    with writing(actor, None) as (conversation, actor):
        require(actor, Perm.DESTROY, conversation)
        audit(
            Entry.Action.DESTROYED, user=actor.user, member=actor,
            conversation_id=conversation.pk, detail=actor.role,
        )
        conversation.delete()


def expired(now: datetime.datetime | None = None):
    """The conversations whose retention period has ended."""
    now = now or timezone.now()
    closed = Conversation.objects.filter(closed_at__isnull=False).only(
        "pk", "closed_at", "retention_days"
    )
    return [c for c in closed if c.delete_after is not None and c.delete_after <= now]


def purge(now: datetime.datetime | None = None) -> int:
    """Delete every expired conversation; each leaves one anonymous line in the audit log."""
    count = 0
    for conversation in expired(now):
        with transaction.atomic():
            audit(Entry.Action.PURGED, conversation_id=conversation.pk)
            Conversation.objects.filter(pk=conversation.pk).delete()
        count += 1
    log.info("purge removed %d expired conversation(s)", count)
    return count
