"""Every change to a worksheet, each one action through the conversation's write path."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from dilemmagesprek.accounts.models import User
from dilemmagesprek.conversations.actions import create_conversation
from dilemmagesprek.conversations.events import record, writing
from dilemmagesprek.conversations.models import Conversation, Event, Member
from dilemmagesprek.conversations.permissions import Perm, can
from dilemmagesprek.lib import rows
from dilemmagesprek.lib.merge import merge
from dilemmagesprek.lib.text import clean_text
from dilemmagesprek.methods.schema import Field, Matrix
from dilemmagesprek.methods.woo import woo_reference

from .facilitation import check_open, new_card_flags
from .models import Card, Column, Evaluation, FieldValue, NextStep, RemovedCard

COLUMN_NAME_MAX = 80
WHO_MAX = 120
WHEN_MAX = 60
# How long a removed card can be put back by the person who removed it.
UNDO_WINDOW = datetime.timedelta(minutes=15)


class EditConflict(Exception):
    """The field changed since the user loaded it; they must see both texts and choose."""

    def __init__(self, current: FieldValue, yours: str) -> None:
        super().__init__("edit conflict")
        self.current = current
        self.yours = yours


def new_conversation(
    user: User, title: str, variant: str, planned_at: datetime.datetime | None = None
) -> tuple[Conversation, Member]:
    """Create a conversation with the method's starting players and options."""
    with transaction.atomic():
        conversation, facilitator = create_conversation(user, title, variant, planned_at)
        for matrix in conversation.method.matrices.values():
            for position in range(matrix.start_count):
                column = Column.objects.create(
                    conversation=conversation, matrix=matrix.key, position=position
                )
                record(conversation, facilitator, "column.added", _column_data(column))
    return conversation, facilitator


# --- text fields ---------------------------------------------------------------------------


def set_field(actor: Member, key: str, text: str, base_version: int | None) -> FieldValue:
    """Store a text field. `base_version` is the version the user started editing from."""
    with writing(actor, Perm.EDIT_FIELDS) as (conversation, actor):
        field = _field(conversation, key, "text")
        check_open(conversation, actor, key)
        text = clean_text(text, field.max_length, field="text")
        # Read and written as SQL (lib/rows.py): this is the path every live edit takes.
        value = rows.fetch_one(FieldValue, {"conversation": conversation, "key": key})
        if value is None:  # the conversation's lock keeps a second writer from racing us
            value = FieldValue.objects.create(conversation=conversation, key=key)
        if value.text == text:
            return value
        if base_version is not None and base_version != value.version:
            # Someone saved since this edit began. When the two edits change different words,
            # both are kept; otherwise the user sees both texts and chooses.
            base = _text_at_version(conversation, key, base_version)
            merged = merge(base, value.text, text) if base is not None else None
            if merged is None:
                raise EditConflict(value, text)
            text = clean_text(merged, field.max_length, field="text")
        value.text = text
        value.version += 1
        value.updated_by = actor
        rows.update(value, ["text", "version", "updated_by", "updated_at"])
        record(conversation, actor, "field.updated", _field_data(value))
    return value


def confirm_field(actor: Member, key: str, version: int) -> FieldValue:
    """The dilemma owner confirms the text of the shared question or the choice."""
    with writing(actor, Perm.CONFIRM) as (conversation, actor):
        field = _field(conversation, key, "text")
        if not field.owner_confirms:
            raise ValidationError({"text": _("This field needs no confirmation.")})
        value = FieldValue.objects.filter(conversation=conversation, key=key).first()
        if value is None or not value.text:
            raise ValidationError({"text": _("There is nothing to confirm yet.")})
        if value.version != version:
            raise ValidationError(
                {"text": _("The text changed while you were reading it. Read it again.")}
            )
        value.confirmed_version = value.version
        value.confirmed_by = actor
        value.save(update_fields=["confirmed_version", "confirmed_by"])
        record(conversation, actor, "field.confirmed", _field_data(value))
    return value


# --- players and options (matrix columns) --------------------------------------------------


def add_column(actor: Member, matrix_key: str, name: str = "") -> Column:
    name = clean_text(name, COLUMN_NAME_MAX, field="name")
    with writing(actor, Perm.EDIT_COLUMNS) as (conversation, actor):
        matrix = _matrix(conversation, matrix_key)
        check_open(conversation, actor, _matrix_field(conversation, matrix).key)
        columns = Column.objects.filter(conversation=conversation, matrix=matrix.key)
        if columns.count() >= matrix.max_count:
            raise ValidationError(
                {
                    "name": _("At most %(max)d columns fit in this table.")
                    % {"max": matrix.max_count}
                }
            )
        last = columns.aggregate(last=Max("position"))["last"]
        column = Column.objects.create(
            conversation=conversation,
            matrix=matrix.key,
            position=0 if last is None else last + 1,
            name=name,
        )
        record(conversation, actor, "column.added", _column_data(column))
    return column


def rename_column(actor: Member, column_id: str, name: str) -> Column:
    name = clean_text(name, COLUMN_NAME_MAX, field="name")
    with writing(actor, Perm.EDIT_COLUMNS) as (conversation, actor):
        column = _column(conversation, column_id)
        _check_column_open(conversation, actor, column)
        column.name = name
        column.save(update_fields=["name"])
        record(conversation, actor, "column.renamed", _column_data(column))
    return column


def move_column(actor: Member, column_id: str, offset: int) -> Column:
    """Move a column one place left (-1) or right (+1), swapping with its neighbour."""
    if offset not in (-1, 1):
        raise ValidationError({"name": _("A column moves one place at a time.")})
    with writing(actor, Perm.ARRANGE_COLUMNS) as (conversation, actor):
        column = _column(conversation, column_id)
        siblings = list(Column.objects.filter(conversation=conversation, matrix=column.matrix))
        index = next(i for i, c in enumerate(siblings) if c.pk == column.pk)
        target = index + offset
        if 0 <= target < len(siblings):
            siblings[index], siblings[target] = siblings[target], siblings[index]
            for position, sibling in enumerate(siblings):
                if sibling.position != position:
                    sibling.position = position
                    sibling.save(update_fields=["position"])
            record(
                conversation,
                actor,
                "column.moved",
                {"matrix": column.matrix, "order": [c.pk for c in siblings]},
            )
    return column


def remove_column(actor: Member, column_id: str) -> None:
    """Remove a player or option with its cards; the table always keeps one column."""
    with writing(actor, Perm.ARRANGE_COLUMNS) as (conversation, actor):
        column = _column(conversation, column_id)
        siblings = Column.objects.filter(conversation=conversation, matrix=column.matrix)
        if siblings.count() <= 1:
            raise ValidationError({"name": _("The table needs at least one column.")})
        column.delete()
        for position, sibling in enumerate(siblings.order_by("position")):
            if sibling.position != position:
                sibling.position = position
                sibling.save(update_fields=["position"])
        record(conversation, actor, "column.removed", {"id": column_id})


def tag_woo_grounds(actor: Member, column_id: str, grounds: list[str]) -> Column:
    """Tag an option with the Woo grounds the group thinks are at stake (background only)."""
    with writing(actor, Perm.EDIT_COLUMNS) as (conversation, actor):
        column = _column(conversation, column_id)
        reference = woo_reference()
        if column.matrix not in reference.tag_matrices:
            raise ValidationError(
                {"woo_grounds": _("Only options can be tagged with Woo grounds.")}
            )
        _check_column_open(conversation, actor, column)
        if not isinstance(grounds, list | tuple) or any(
            not isinstance(key, str) or reference.ground(key) is None for key in grounds
        ):
            raise ValidationError({"woo_grounds": _("Choose grounds from the list.")})
        keys = [ground.key for ground in reference.in_order(grounds)]
        if keys != column.woo_grounds:
            column.woo_grounds = keys
            column.save(update_fields=["woo_grounds"])
            record(
                conversation,
                actor,
                "column.tagged",
                {"id": column.pk, "matrix": column.matrix, "woo_grounds": keys},
            )
    return column


# --- cards ---------------------------------------------------------------------------------


def add_card(actor: Member, column_id: str, row: str, text: str, anonymous: bool = False) -> Card:
    with writing(actor, Perm.ADD_CARD) as (conversation, actor):
        column = _column(conversation, column_id)
        matrix = _matrix(conversation, column.matrix)
        if matrix.row(row) is None:
            raise ValidationError({"text": _("This row does not exist in the table.")})
        field = _matrix_field(conversation, matrix)
        check_open(conversation, actor, field.key)
        text = clean_text(text, field.max_length, required=True)
        flags = new_card_flags(conversation, field.key)
        last = Card.objects.filter(column=column, row=row).aggregate(last=Max("position"))["last"]
        card = Card.objects.create(
            conversation=conversation,
            column=column,
            row=row,
            text=text,
            author=actor,
            anonymous=bool(anonymous) or flags["anonymous"],
            hidden=flags["hidden"],
            position=0 if last is None else last + 1,
        )
        record(conversation, _visible(actor, card), "card.added", _card_data(card))
    return card


def edit_card(actor: Member, card_id: str, text: str) -> Card:
    with writing(actor, Perm.VIEW) as (conversation, actor):
        card = _card(conversation, actor, card_id)
        _check_column_open(conversation, actor, card.column)
        matrix = _matrix(conversation, card.column.matrix)
        text = clean_text(text, _matrix_field(conversation, matrix).max_length, required=True)
        if text != card.text:
            card.text = text
            card.version += 1
            card.save(update_fields=["text", "version", "updated_at"])
            record(conversation, _visible(actor, card), "card.updated", _card_data(card))
    return card


def remove_card(actor: Member, card_id: str) -> None:
    """Remove a card; its remover can put it back within UNDO_WINDOW (`restore_card`)."""
    with writing(actor, Perm.VIEW) as (conversation, actor):
        card = _card(conversation, actor, card_id)
        _check_column_open(conversation, actor, card.column)
        anonymous_actor = _visible(actor, card)
        now = timezone.now()
        RemovedCard.objects.filter(
            conversation=conversation, removed_at__lt=now - UNDO_WINDOW
        ).delete()
        RemovedCard.objects.filter(pk=card.pk).delete()
        RemovedCard.objects.create(
            id=card.pk,
            conversation=conversation,
            column=card.column,
            row=card.row,
            text=card.text,
            author=card.author,
            anonymous=card.anonymous,
            hidden=card.hidden,
            position=card.position,
            version=card.version,
            created_at=card.created_at,
            removed_by=actor,
        )
        card.delete()
        record(conversation, anonymous_actor, "card.removed", {"id": card_id})
        if conversation.spotlight_card_id == card_id:
            # The spotlight goes out with its card (putting the card back does not relight it).
            conversation.spotlight_card_id = ""
            conversation.save(update_fields=["spotlight_card_id", "updated_at"])
            # Under the same actor as the removal: a named one would tell who wrote an
            # anonymous card (participants remove only their own).
            record(conversation, anonymous_actor, "conversation.spotlight", {"card": None})


def restore_card(actor: Member, card_id: str) -> Card:
    """Undo a removal: the card comes back where it was, with its text, author and flags."""
    with writing(actor, Perm.VIEW) as (conversation, actor):
        removed = (
            RemovedCard.objects.select_related("column")
            .filter(conversation=conversation, pk=card_id, removed_by=actor)
            .first()
        )
        if removed is None or removed.removed_at < timezone.now() - UNDO_WINDOW:
            raise ValidationError({"text": _("This card can no longer be put back.")})
        own = removed.author_id == actor.pk and can(actor, Perm.ADD_CARD, conversation)
        if not (own or can(actor, Perm.EDIT_ANY_CARD, conversation)):
            raise PermissionDenied(_("You may only change your own cards."))
        _check_column_open(conversation, actor, removed.column)
        # What changed in the step while the card was away applies to it too: anonymity can
        # only have been raised, never lowered; a card written alone stays hidden only while
        # the step is still "write alone first" (then it waits for the next reveal, like a
        # card written now).
        field = _matrix_field(conversation, _matrix(conversation, removed.column.matrix))
        flags = new_card_flags(conversation, field.key)
        card = Card(
            id=removed.pk,
            conversation=conversation,
            column=removed.column,
            row=removed.row,
            text=removed.text,
            author=removed.author,
            anonymous=removed.anonymous or flags["anonymous"],
            hidden=removed.hidden and flags["hidden"],
            position=removed.position,
            version=removed.version,
        )
        card.save(force_insert=True)
        # auto_now_add ignores a value given on insert; the card keeps its place in time.
        Card.objects.filter(pk=card.pk).update(created_at=removed.created_at)
        card.created_at = removed.created_at
        removed.delete()
        record(conversation, _visible(actor, card), "card.restored", _card_data(card))
    return card


# --- "Hoe nu verder?" ----------------------------------------------------------------------


def add_next_step(actor: Member, field_key: str, what: str, who: str, when: str) -> NextStep:
    with writing(actor, Perm.EDIT_NEXT_STEPS) as (conversation, actor):
        field = _field(conversation, field_key, "actions")
        check_open(conversation, actor, field.key)
        what, who, when = _next_step_texts(field, what, who, when)
        last = NextStep.objects.filter(conversation=conversation, field_key=field.key).aggregate(
            last=Max("position")
        )["last"]
        step = NextStep.objects.create(
            conversation=conversation,
            field_key=field.key,
            what=what,
            who=who,
            when=when,
            position=0 if last is None else last + 1,
        )
        record(conversation, actor, "next_step.added", _next_step_data(step))
    return step


def edit_next_step(actor: Member, step_id: str, what: str, who: str, when: str) -> NextStep:
    with writing(actor, Perm.EDIT_NEXT_STEPS) as (conversation, actor):
        step = _next_step(conversation, step_id)
        field = _field(conversation, step.field_key, "actions")
        check_open(conversation, actor, field.key)
        step.what, step.who, step.when = _next_step_texts(field, what, who, when)
        step.save()
        record(conversation, actor, "next_step.updated", _next_step_data(step))
    return step


def remove_next_step(actor: Member, step_id: str) -> None:
    with writing(actor, Perm.EDIT_NEXT_STEPS) as (conversation, actor):
        step = _next_step(conversation, step_id)
        check_open(conversation, actor, step.field_key)
        step.delete()
        record(conversation, actor, "next_step.removed", {"id": step_id})


# --- "Zijn we tevreden?" -------------------------------------------------------------------


def save_evaluation(actor: Member, field_key: str, score: int, remark: str) -> Evaluation:
    """Each member gives their own score (1–5) and remark; saving again replaces it."""
    with writing(actor, Perm.EVALUATE) as (conversation, actor):
        field = _field(conversation, field_key, "evaluations")
        check_open(conversation, actor, field.key)
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise ValidationError({"score": _("Choose a score from 1 to 5.")})
        remark = clean_text(remark, field.max_length, field="remark")
        evaluation, _created = Evaluation.objects.update_or_create(
            conversation=conversation,
            field_key=field.key,
            member=actor,
            defaults={"score": score, "remark": remark},
        )
        record(
            conversation,
            actor,
            "evaluation.saved",
            {"field": field.key, "member": actor.pk, "score": score, "remark": remark},
        )
    return evaluation


# --- helpers -------------------------------------------------------------------------------


def _field(conversation: Conversation, key: str, kind: str) -> Field:
    field = conversation.method.field(key)
    if field is None or field.kind != kind:
        raise ValidationError({"text": _("This field does not exist on the worksheet.")})
    return field


def _matrix(conversation: Conversation, key: str) -> Matrix:
    matrix = conversation.method.matrices.get(key)
    if matrix is None:
        raise ValidationError({"name": _("This table does not exist on the worksheet.")})
    return matrix


def _matrix_field(conversation: Conversation, matrix: Matrix) -> Field:
    return next(f for f in conversation.method.fields("matrix") if f.matrix == matrix.key)


def _column(conversation: Conversation, column_id: str) -> Column:
    column = Column.objects.filter(conversation=conversation, pk=column_id).first()
    if column is None:
        raise ValidationError({"name": _("This column no longer exists.")})
    return column


def _card(conversation: Conversation, actor: Member, card_id: str) -> Card:
    card = (
        Card.objects.select_related("column").filter(conversation=conversation, pk=card_id).first()
    )
    if card is None:
        raise ValidationError({"text": _("This card no longer exists.")})
    own = card.author_id == actor.pk and can(actor, Perm.ADD_CARD, conversation)
    if not (own or can(actor, Perm.EDIT_ANY_CARD, conversation)):
        raise PermissionDenied(_("You may only change your own cards."))
    return card


def _text_at_version(conversation: Conversation, key: str, version: int) -> str | None:
    """A text field as it was at `version`, from the event log (None when not found)."""
    if version == 0:
        return ""
    event = (
        Event.objects.filter(
            conversation=conversation, type="field.updated", data__key=key,
            data__version=version,
        )
        .order_by("-seq")
        .first()
    )
    return event.data["text"] if event else None


def _check_column_open(conversation: Conversation, actor: Member, column: Column) -> None:
    matrix = _matrix(conversation, column.matrix)
    check_open(conversation, actor, _matrix_field(conversation, matrix).key)


def _visible(actor: Member, card: Card) -> Member | None:
    """The actor to record for a change to a card: nobody, when the card is anonymous."""
    return None if card.anonymous else actor


def _next_step(conversation: Conversation, step_id: str) -> NextStep:
    step = NextStep.objects.filter(conversation=conversation, pk=step_id).first()
    if step is None:
        raise ValidationError({"what": _("This action no longer exists.")})
    return step


def _next_step_texts(field: Field, what: str, who: str, when: str) -> tuple[str, str, str]:
    return (
        clean_text(what, field.max_length, required=True, field="what"),
        clean_text(who, WHO_MAX, field="who"),
        clean_text(when, WHEN_MAX, field="when"),
    )


def _field_data(value: FieldValue) -> dict:
    return {
        "key": value.key,
        "text": value.text,
        "version": value.version,
        "confirmed": value.is_confirmed,
    }


def _column_data(column: Column) -> dict:
    return {
        "id": column.pk,
        "matrix": column.matrix,
        "position": column.position,
        "name": column.name,
    }


def _card_data(card: Card) -> dict:
    if card.hidden:
        # Written alone: every member may read the event log, so the text waits for the reveal.
        return {"id": card.pk, "column": card.column_id, "row": card.row, "hidden": True}
    return {
        "id": card.pk,
        "column": card.column_id,
        "row": card.row,
        "text": card.text,
        "anonymous": card.anonymous,
        "version": card.version,
        # Anonymous cards never carry their author, not even in the event log.
        "author": None if card.anonymous else card.author_id,
    }


def _next_step_data(step: NextStep) -> dict:
    return {
        "id": step.pk,
        "field": step.field_key,
        "what": step.what,
        "who": step.who,
        "when": step.when,
        "position": step.position,
    }
