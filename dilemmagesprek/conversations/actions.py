"""Actions on a conversation itself: create, settings, status, step, members and invites."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dilemmagesprek.accounts.models import User
from dilemmagesprek.audit.log import audit
from dilemmagesprek.audit.models import Entry
from dilemmagesprek.lib.ids import new_token
from dilemmagesprek.lib.text import clean_text
from dilemmagesprek.methods.loader import get_method

from .events import record, writing
from .models import Conversation, Member
from .permissions import TRANSITIONS, Perm

TITLE_MAX = 200
NAME_MAX = 80
INVITABLE_ROLES = (
    Member.Role.OWNER,
    Member.Role.PARTICIPANT,
    Member.Role.OBSERVER,
    Member.Role.FACILITATOR,
)


def create_conversation(
    user: User,
    title: str,
    variant: str,
    planned_at: datetime.datetime | None = None,
    method_slug: str = "als-openbaarheid-schuurt",
) -> tuple[Conversation, Member]:
    """A new conversation with the user as its facilitator and a frozen copy of the method."""
    method = get_method(method_slug)
    title = clean_text(title, TITLE_MAX, required=True, field="title")
    if method.variant(variant) is None:
        raise ValidationError({"variant": _("Choose one of the offered durations.")})
    with transaction.atomic():
        conversation = Conversation.objects.create(
            retention_days=settings.RETENTION_DEFAULT_DAYS,
            title=title,
            method_slug=method.slug,
            method_snapshot=method.raw,
            variant=variant,
            planned_at=planned_at,
            created_by=user,
        )
        facilitator = Member.objects.create(
            conversation=conversation,
            user=user,
            display_name=clean_text(user.get_full_name() or user.username, NAME_MAX),
            role=Member.Role.FACILITATOR,
            joined_at=timezone.now(),
        )
        record(conversation, facilitator, "conversation.created", {"title": title})
    return conversation, facilitator


def update_settings(
    actor: Member,
    title: str,
    variant: str,
    planned_at: datetime.datetime | None,
    confidentiality: str | None = None,
) -> Conversation:
    """Change the settings; `confidentiality` None keeps the report's current marking."""
    title = clean_text(title, TITLE_MAX, required=True, field="title")
    if confidentiality is not None and confidentiality not in Conversation.Confidentiality.values:
        raise ValidationError({"confidentiality": _("Choose one of the offered markings.")})
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        if conversation.method.variant(variant) is None:
            raise ValidationError({"variant": _("Choose one of the offered durations.")})
        conversation.title = title
        conversation.variant = variant
        conversation.planned_at = planned_at
        if confidentiality is not None:
            conversation.confidentiality = confidentiality
        conversation.save(
            update_fields=["title", "variant", "planned_at", "confidentiality", "updated_at"]
        )
        record(
            conversation,
            actor,
            "conversation.updated",
            {
                "title": title,
                "variant": variant,
                "planned_at": planned_at.isoformat() if planned_at else None,
                "confidentiality": conversation.confidentiality,
            },
        )
    return conversation


def change_status(actor: Member, status: str) -> Conversation:
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        if status not in TRANSITIONS.get(conversation.status, ()):
            raise ValidationError(
                {
                    "status": _("This conversation cannot go from “%(old)s” to “%(new)s”.")
                    % {"old": conversation.get_status_display(), "new": status}
                }
            )
        conversation.status = status
        if status == Conversation.Status.RUNNING:
            conversation.closed_at = None  # reopened: the retention clock starts again later
        if status == Conversation.Status.CLOSED:
            now = timezone.now()
            conversation.closed_at = now
            # The clock stops with the conversation; what ran is kept for the report.
            _bank_step_time(conversation, now)
            conversation.timer_started_at = None
            conversation.timer_elapsed = 0
            # Ending closes the ways in: the join code, the lobby and every invite link but
            # the owner's (they come back for the report). Sessions already open stay.
            conversation.join_code = None
            conversation.members.filter(waiting=True, removed_at__isnull=True).update(
                removed_at=now
            )
            conversation.members.exclude(role=Member.Role.OWNER).update(token_hash=None)
        conversation.save()
        record(conversation, actor, "conversation.status", {"status": status})
    return conversation


def change_step(actor: Member, number: int) -> Conversation:
    """The facilitator opens a step; every screen follows it.

    The time spent on the step being left is kept for the report; a running timer goes on
    running for the new step, from zero.
    """
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        if conversation.method.step(number) is None:
            raise ValidationError({"step": _("This step does not exist.")})
        now = timezone.now()
        _bank_step_time(conversation, now)
        conversation.current_step = number
        conversation.timer_elapsed = 0
        conversation.timer_extra = 0
        if conversation.timer_started_at is not None:
            conversation.timer_started_at = now
        conversation.save()
        record(
            conversation, actor, "conversation.step", {"step": number, **_timer_data(conversation)}
        )
    return conversation


def start_timer(actor: Member) -> Conversation:
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        if conversation.timer_started_at is None:
            conversation.timer_started_at = timezone.now()
            conversation.save(update_fields=["timer_started_at", "updated_at"])
            record(conversation, actor, "conversation.timer", _timer_data(conversation))
    return conversation


def pause_timer(actor: Member) -> Conversation:
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        if conversation.timer_started_at is not None:
            conversation.timer_elapsed = conversation.timer_seconds()
            conversation.timer_started_at = None
            conversation.save(update_fields=["timer_started_at", "timer_elapsed", "updated_at"])
            record(conversation, actor, "conversation.timer", _timer_data(conversation))
    return conversation


EXTEND_CHOICES = (1, 5, 10)


def extend_timer(actor: Member, minutes: int) -> Conversation:
    """Give the current step more time than its time box."""
    if minutes not in EXTEND_CHOICES:
        raise ValidationError({"minutes": _("Choose 1, 5 or 10 extra minutes.")})
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        conversation.timer_extra = min(conversation.timer_extra + minutes, 120)
        conversation.save(update_fields=["timer_extra", "updated_at"])
        record(conversation, actor, "conversation.timer", _timer_data(conversation))
    return conversation


def _bank_step_time(conversation: Conversation, now: datetime.datetime) -> None:
    """Add the current step's timer to the time kept for that step."""
    seconds = conversation.timer_seconds(now)
    if seconds:
        key = str(conversation.current_step)
        conversation.step_seconds = {
            **conversation.step_seconds, key: conversation.step_seconds.get(key, 0) + seconds
        }


def _timer_data(conversation: Conversation) -> dict:
    return {
        "running": conversation.timer_started_at is not None,
        "elapsed": conversation.timer_seconds(),
        "extra": conversation.timer_extra,
    }


def invite_member(actor: Member, display_name: str, role: str) -> tuple[Member, str]:
    """Add a member and return them with their invite token (shown once, stored hashed)."""
    display_name = clean_text(display_name, NAME_MAX, required=True, field="display_name")
    if role not in INVITABLE_ROLES:
        raise ValidationError({"role": _("Choose a role.")})
    token = new_token()
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        if (
            role == Member.Role.OWNER
            and conversation.members.filter(
                role=Member.Role.OWNER, removed_at__isnull=True
            ).exists()
        ):
            raise ValidationError({"role": _("This conversation already has a dilemma owner.")})
        member = Member.objects.create(
            conversation=conversation,
            display_name=display_name,
            role=role,
            token_hash=Member.hash_token(token),
        )
        record(conversation, actor, "member.added", _member_data(member))
    return member, token


def renew_invite(actor: Member, member_id: str) -> tuple[Member, str]:
    """Replace a member's invite link; the old link stops working at once."""
    token = new_token()
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        member = _active_member(conversation, member_id)
        member.token_hash = Member.hash_token(token)
        member.save(update_fields=["token_hash"])
        record(conversation, actor, "member.invite_renewed", {"id": member.pk})
    return member, token


def revoke_invite(actor: Member, member_id: str) -> Member:
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        member = _active_member(conversation, member_id)
        member.token_hash = None
        member.save(update_fields=["token_hash"])
        record(conversation, actor, "member.invite_revoked", {"id": member.pk})
    return member


def update_member(actor: Member, member_id: str, display_name: str, role: str) -> Member:
    display_name = clean_text(display_name, NAME_MAX, required=True, field="display_name")
    if role not in Member.Role.values:
        raise ValidationError({"role": _("Choose a role.")})
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        member = _active_member(conversation, member_id)
        if member.pk == actor.pk and role != Member.Role.FACILITATOR:
            raise ValidationError({"role": _("You cannot take away your own facilitator role.")})
        if (
            role == Member.Role.OWNER
            and conversation.members.filter(role=Member.Role.OWNER, removed_at__isnull=True)
            .exclude(pk=member.pk)
            .exists()
        ):
            raise ValidationError({"role": _("This conversation already has a dilemma owner.")})
        if member.role != role:
            audit(Entry.Action.ROLE_CHANGED, user=actor.user, member=actor,
                  conversation_id=conversation.pk, detail=f"{member.pk}: {member.role} → {role}")
        member.display_name = display_name
        member.role = role
        member.save(update_fields=["display_name", "role"])
        record(conversation, actor, "member.updated", _member_data(member))
    return member


def remove_member(actor: Member, member_id: str) -> Member:
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        member = _active_member(conversation, member_id)
        if member.pk == actor.pk:
            raise ValidationError({"member": _("You cannot remove yourself.")})
        audit(Entry.Action.MEMBER_REMOVED, user=actor.user, member=actor,
              conversation_id=conversation.pk, detail=member.pk)
        member.removed_at = timezone.now()
        member.token_hash = None
        member.save(update_fields=["removed_at", "token_hash"])
        record(conversation, actor, "member.removed", {"id": member.pk})
    return member


def join_with_token(token: str) -> Member | None:
    """The member an invite token belongs to, or None for an unknown or revoked token."""
    if not token or len(token) > 100:
        return None
    member = (
        Member.objects.select_related("conversation")
        .filter(token_hash=Member.hash_token(token), removed_at__isnull=True)
        .first()
    )
    if member is None or member.conversation.status == Conversation.Status.ARCHIVED:
        return None
    if member.joined_at is None:
        with writing(member, None) as (conversation, member):
            member.joined_at = timezone.now()
            member.save(update_fields=["joined_at"])
            record(conversation, member, "member.joined", {"id": member.pk})
    return member


def _active_member(conversation: Conversation, member_id: str) -> Member:
    member = conversation.members.filter(pk=member_id, removed_at__isnull=True).first()
    if member is None:
        raise ValidationError({"member": _("This member is not part of the conversation.")})
    return member


def _member_data(member: Member) -> dict[str, str]:
    return {"id": member.pk, "display_name": member.display_name, "role": member.role}
