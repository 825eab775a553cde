"""The dilemma owner's preparation, saved through the conversation's write path."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from dilemmagesprek.conversations.events import record, writing
from dilemmagesprek.conversations.models import Member
from dilemmagesprek.conversations.permissions import Perm
from dilemmagesprek.lib.text import clean_text

from .models import Preparation


def save_preparation(
    actor: Member, answers: dict[str, str], dilemma_kinds: list[str], share_in_report: bool
) -> Preparation:
    """Replace the preparation with what the owner submitted; everything or nothing is saved."""
    with writing(actor, Perm.EDIT_PREPARATION) as (conversation, actor):
        method = conversation.method
        known = {question.key: question for question in method.preparation.questions}
        unknown = set(answers) - set(known)
        if unknown:
            raise ValidationError({"answers": _("Unknown preparation question.")})
        cleaned = {
            key: clean_text(answers.get(key, ""), question.max_length, field=key)
            for key, question in known.items()
        }
        kinds = {kind.key for kind in method.dilemma_kinds}
        if not set(dilemma_kinds) <= kinds:
            raise ValidationError({"dilemma_kinds": _("Choose from the kinds of dilemma shown.")})
        preparation, _created = Preparation.objects.get_or_create(conversation=conversation)
        preparation.answers = {key: text for key, text in cleaned.items() if text}
        preparation.dilemma_kinds = [k.key for k in method.dilemma_kinds if k.key in dilemma_kinds]
        preparation.share_in_report = bool(share_in_report)
        preparation.updated_by = actor
        preparation.save()
        # The preparation is private to the owner and facilitator: the event names what
        # changed, never the content, because every member may read the event log.
        record(
            conversation,
            actor,
            "preparation.updated",
            {"answered": sorted(preparation.answers), "share_in_report": share_in_report},
        )
    return preparation
