from django.db import models

from dilemmagesprek.conversations.models import Conversation, Member


class Preparation(models.Model):
    """The dilemma owner's preparation: problem analysis and self-analysis (A–D)."""

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="preparation"
    )
    answers = models.JSONField(default=dict)  # question key → text
    dilemma_kinds = models.JSONField(default=list)  # keys of the method's dilemma kinds
    # The preparation is the owner's own: it appears in the report only when they agree.
    share_in_report = models.BooleanField(default=False)
    updated_by = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Preparation of {self.conversation_id}"
