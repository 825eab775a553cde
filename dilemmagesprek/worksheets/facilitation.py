"""The facilitator's hand on the worksheet: lock, write alone then reveal, anonymity, spotlight.

These are rules the other actions obey (see `check_open` and `new_card_flags`), changed only
by the facilitator through the same write path as everything else.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from dilemmagesprek.conversations.events import record, writing
from dilemmagesprek.conversations.models import Conversation, Member
from dilemmagesprek.conversations.permissions import Perm, can

from .models import Card, Column

STEP_OPTIONS = ("locked", "private", "anonymous")


def check_open(conversation: Conversation, actor: Member, field_key: str) -> None:
    """Refuse a change to a locked step or field, except from the facilitator."""
    if can(actor, Perm.MANAGE, conversation):
        return
    step = conversation.method.step_of_field(field_key)
    if field_key in conversation.locked_fields or (
        step is not None and conversation.step_option(step.number, "locked")
    ):
        raise ValidationError({"text": _("The facilitator has locked this part for now.")})


def new_card_flags(conversation: Conversation, field_key: str) -> dict[str, bool]:
    """What a new card in this field must be: anonymous, hidden until revealed, or neither."""
    step = conversation.method.step_of_field(field_key)
    number = step.number if step else 0
    return {
        "anonymous": conversation.is_anonymous_step(number),
        "hidden": conversation.step_option(number, "private"),
    }


def set_step_option(actor: Member, number: int, option: str, value: bool) -> Conversation:
    """Lock a step, make it "write alone first", or make it anonymous.

    Anonymity can be raised but never lowered for what was written: turning it on makes the
    step's existing cards anonymous; turning it off again only affects new cards.
    Turning "write alone" off reveals what was written alone.
    """
    if option not in STEP_OPTIONS:
        raise ValidationError({"option": _("Unknown step setting.")})
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        if conversation.method.step(number) is None:
            raise ValidationError({"step": _("This step does not exist.")})
        options = dict(conversation.step_options.get(str(number), {}))
        if bool(options.get(option, False)) == bool(value):
            return conversation  # as it was: nothing to record, no screen to refresh
        options[option] = bool(value)
        conversation.step_options = {**conversation.step_options, str(number): options}
        conversation.save(update_fields=["step_options", "updated_at"])
        cards = _cards_of_step(conversation, number)
        if option == "anonymous" and value:
            cards.update(anonymous=True)
        if option == "private" and not value:
            cards.update(hidden=False)
        record(
            conversation, actor, "conversation.step_option",
            {"step": number, "option": option, "value": bool(value)},
        )
    return conversation


def set_anonymous(actor: Member, value: bool) -> Conversation:
    """Anonymity for the whole conversation: on makes every card so far anonymous too."""
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        if conversation.anonymous == bool(value):
            return conversation
        conversation.anonymous = bool(value)
        conversation.save(update_fields=["anonymous", "updated_at"])
        if value:
            Card.objects.filter(conversation=conversation).update(anonymous=True)
        record(conversation, actor, "conversation.anonymous", {"value": bool(value)})
    return conversation


def lock_field(actor: Member, key: str, locked: bool) -> Conversation:
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        if conversation.method.field(key) is None:
            raise ValidationError({"text": _("This field does not exist on the worksheet.")})
        if (key in conversation.locked_fields) == bool(locked):
            return conversation
        fields = [k for k in conversation.locked_fields if k != key]
        if locked:
            fields.append(key)
        conversation.locked_fields = fields
        conversation.save(update_fields=["locked_fields", "updated_at"])
        record(conversation, actor, "conversation.field_lock", {"key": key, "locked": locked})
    return conversation


def reveal_step(actor: Member, number: int) -> int:
    """Show everybody what was written alone in this step; returns how many cards appeared."""
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        revealed = _cards_of_step(conversation, number).filter(hidden=True).update(hidden=False)
        if not revealed:
            return 0
        record(conversation, actor, "conversation.revealed", {"step": number, "cards": revealed})
    return revealed


def spotlight(actor: Member, card_id: str | None) -> Conversation:
    """Put one card in the spotlight on every screen, or clear it (None)."""
    with writing(actor, Perm.MANAGE) as (conversation, actor):
        if card_id:
            card = Card.objects.filter(conversation=conversation, pk=card_id).first()
            if card is None or card.hidden:
                raise ValidationError({"text": _("This card no longer exists.")})
        if conversation.spotlight_card_id == (card_id or ""):
            return conversation
        conversation.spotlight_card_id = card_id or ""
        conversation.save(update_fields=["spotlight_card_id", "updated_at"])
        record(conversation, actor, "conversation.spotlight", {"card": card_id or None})
    return conversation


def _cards_of_step(conversation: Conversation, number: int):
    step = conversation.method.step(number)
    matrices = [f.matrix for f in step.fields if f.kind == "matrix"] if step else []
    columns = Column.objects.filter(conversation=conversation, matrix__in=matrices)
    return Card.objects.filter(conversation=conversation, column__in=columns)
