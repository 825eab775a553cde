"""Joining with a short code: the code, the lobby, and the facilitator letting people in."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from dilemmagesprek.lib.text import clean_text
from dilemmagesprek.throttle.limits import allow

from .actions import NAME_MAX
from .events import locked, record, writing
from .models import Conversation, Member
from .permissions import Perm

# No 0/O, 1/I/L: a code read aloud or off a projector must not be mistaken. 31 symbols, 8 of
# them: about 40 bits, so guessing is hopeless within the rate limits below.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# Attempts with a code: per address, and per code (against many addresses guessing one code).
ATTEMPTS_PER_ADDRESS = (10, 600)  # 10 tries per 10 minutes
ATTEMPTS_PER_CODE = (30, 600)
OPEN_STATUSES = (
    Conversation.Status.PREPARATION, Conversation.Status.PLANNED, Conversation.Status.RUNNING,
)


class TooManyAttempts(Exception):
    pass


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise(code: str) -> str:
    """What people type: lower case, spaces and dashes ("abcd-efgh") all mean the same code."""
    return "".join(ch for ch in code.upper() if ch.isalnum())[: CODE_LENGTH * 2]


def display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}" if code else ""


def enable_join_code(actor: Member) -> Conversation:
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        if conversation.status not in OPEN_STATUSES:
            raise ValidationError(
                {"join_code": _("Joining with a code is possible only before the end.")}
            )
        if not conversation.join_code:
            code = new_code()
            while Conversation.objects.filter(join_code=code).exists():
                code = new_code()
            conversation.join_code = code
            conversation.save(update_fields=["join_code", "updated_at"])
            record(conversation, actor, "conversation.join_code", {"enabled": True})
    return conversation


def disable_join_code(actor: Member) -> Conversation:
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        if conversation.join_code:
            conversation.join_code = None
            conversation.save(update_fields=["join_code", "updated_at"])
            record(conversation, actor, "conversation.join_code", {"enabled": False})
    return conversation


def find_by_code(code: str, address: str) -> Conversation | None:
    """The open conversation with this code, or None; raises TooManyAttempts past the limits.

    Both limits count every attempt, right or wrong, so an address cannot probe codes and one
    code cannot be hammered from many addresses.
    """
    code = normalise(code)
    if not allow("join-address", address, *ATTEMPTS_PER_ADDRESS):
        raise TooManyAttempts
    if not allow("join-code", code, *ATTEMPTS_PER_CODE):
        raise TooManyAttempts
    if len(code) != CODE_LENGTH:
        return None
    return Conversation.objects.filter(join_code=code, status__in=OPEN_STATUSES).first()


def enter_lobby(conversation: Conversation, display_name: str) -> Member:
    """A newcomer who knew the code waits in the lobby under the name they gave."""
    display_name = clean_text(display_name, NAME_MAX, required=True, field="display_name")
    with locked(conversation.pk) as conversation:
        member = Member.objects.create(
            conversation=conversation, display_name=display_name,
            role=Member.Role.PARTICIPANT, waiting=True,
        )
        # Recorded without an actor: the newcomer is not a member yet.
        record(
            conversation, None, "member.waiting",
            {"id": member.pk, "display_name": display_name},
        )
    return member


def admit(actor: Member, member_id: str, role: str = Member.Role.PARTICIPANT) -> Member:
    if role not in (Member.Role.PARTICIPANT, Member.Role.OBSERVER):
        raise ValidationError({"role": _("Choose a role.")})
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        member = conversation.members.filter(
            pk=member_id, waiting=True, removed_at__isnull=True
        ).first()
        if member is None:
            raise ValidationError({"member": _("Nobody with this name is waiting any more.")})
        member.waiting = False
        member.role = role
        member.joined_at = timezone.now()
        member.save(update_fields=["waiting", "role", "joined_at"])
        record(
            conversation, actor, "member.admitted",
            {"id": member.pk, "display_name": member.display_name, "role": role},
        )
    return member
