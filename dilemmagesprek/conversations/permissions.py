"""Who may do what in a conversation: the one table every view and action consults.

docs/roles.md shows the same table for people; tests/test_permissions.py walks it.
"""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from .models import Conversation, Member

F = Member.Role.FACILITATOR
O = Member.Role.OWNER  # noqa: E741 - short names keep the table readable
P = Member.Role.PARTICIPANT
W = Member.Role.OBSERVER  # waarnemer


class Perm(StrEnum):
    VIEW = "view"  # read the worksheet
    VIEW_GUIDANCE = "view_guidance"  # the facilitator's guidance panel per step
    MANAGE = "manage"  # settings, status, current step, members and invite links
    VIEW_PREPARATION = "view_preparation"
    EDIT_PREPARATION = "edit_preparation"
    EDIT_FIELDS = "edit_fields"  # text fields of the worksheet
    CONFIRM = "confirm"  # confirm the shared question and the choice
    EDIT_COLUMNS = "edit_columns"  # add and rename players and options
    ARRANGE_COLUMNS = "arrange_columns"  # reorder and remove players and options
    ADD_CARD = "add_card"
    EDIT_ANY_CARD = "edit_any_card"  # otherwise only one's own cards
    EDIT_NEXT_STEPS = "edit_next_steps"  # actions under "Hoe nu verder?"
    EVALUATE = "evaluate"  # one's own score and remark under "Zijn we tevreden?"
    DESTROY = "destroy"  # delete the conversation with every trace, at once
    EXPORT = "export"  # download the report (PDF, ODT, DOCX, Markdown, JSON)


TABLE: dict[Perm, frozenset[str]] = {
    Perm.VIEW: frozenset({F, O, P, W}),
    Perm.VIEW_GUIDANCE: frozenset({F}),
    Perm.MANAGE: frozenset({F}),
    Perm.VIEW_PREPARATION: frozenset({F, O}),
    Perm.EDIT_PREPARATION: frozenset({O}),
    Perm.EDIT_FIELDS: frozenset({F, O, P}),
    Perm.CONFIRM: frozenset({O}),
    Perm.EDIT_COLUMNS: frozenset({F, O, P}),
    Perm.ARRANGE_COLUMNS: frozenset({F}),
    Perm.ADD_CARD: frozenset({F, O, P}),
    Perm.EDIT_ANY_CARD: frozenset({F}),
    Perm.EDIT_NEXT_STEPS: frozenset({F, O, P}),
    Perm.EVALUATE: frozenset({F, O, P}),
    Perm.DESTROY: frozenset({F, O}),
    # The report names everyone and may hold the owner's preparation: the two people who
    # answer for the conversation take it away; participants and observers read it on screen.
    Perm.EXPORT: frozenset({F, O}),
}

# Changes to content stop when the conversation is closed; reading and managing do not.
CONTENT_PERMS = frozenset(
    {
        Perm.EDIT_PREPARATION,
        Perm.EDIT_FIELDS,
        Perm.CONFIRM,
        Perm.EDIT_COLUMNS,
        Perm.ARRANGE_COLUMNS,
        Perm.ADD_CARD,
        Perm.EDIT_ANY_CARD,
        Perm.EDIT_NEXT_STEPS,
        Perm.EVALUATE,
    }
)


def can(member: Member | None, perm: Perm, conversation: Conversation | None = None) -> bool:
    if member is None or not member.is_active:
        return False
    if member.role not in TABLE[perm]:
        return False
    conversation = conversation or member.conversation
    return not (perm in CONTENT_PERMS and not conversation.is_editable)


def require(member: Member | None, perm: Perm, conversation: Conversation | None = None) -> None:
    if not can(member, perm, conversation):
        raise PermissionDenied(_("You may not do this in this conversation."))


def permissions_of(member: Member | None, conversation: Conversation) -> set[str]:
    """Every permission the member holds now; templates test `'manage' in perms`."""
    return {perm.value for perm in Perm if can(member, perm, conversation)}


# Allowed status changes, in one declarative table.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Conversation.Status.CONCEPT: (Conversation.Status.PREPARATION, Conversation.Status.PLANNED),
    Conversation.Status.PREPARATION: (Conversation.Status.PLANNED, Conversation.Status.CONCEPT),
    Conversation.Status.PLANNED: (Conversation.Status.RUNNING, Conversation.Status.PREPARATION),
    Conversation.Status.RUNNING: (Conversation.Status.CLOSED,),
    Conversation.Status.CLOSED: (Conversation.Status.RUNNING, Conversation.Status.ARCHIVED),
    Conversation.Status.ARCHIVED: (),
}


def next_statuses(conversation: Conversation) -> list[tuple[str, str]]:
    """The statuses the conversation may move to now, with their labels."""
    labels = dict(Conversation.Status.choices)
    return [(status, labels[status]) for status in TRANSITIONS[conversation.status]]
