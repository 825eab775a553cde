"""The live artefact: what the group writes on the worksheet of one conversation."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from dilemmagesprek.conversations.models import Conversation, Member
from dilemmagesprek.lib.ids import new_public_id


class FieldValue(models.Model):
    """The text of one text field of the method, e.g. "Wat is het dilemma?"."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="field_values"
    )
    key = models.CharField(max_length=50)
    text = models.TextField(blank=True, default="")
    # Bumped on every change: a write based on an older version is never applied blindly.
    version = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    # The owner confirms some fields; the confirmation holds for the version they saw.
    confirmed_version = models.PositiveIntegerField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "key"], name="one_value_per_field")
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_version is not None and self.confirmed_version == self.version


class Column(models.Model):
    """A player (speler) or an option (optie): a column of one of the method's matrices."""

    id = models.CharField(primary_key=True, max_length=16, default=new_public_id, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="columns")
    matrix = models.CharField(max_length=50)
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=80, blank=True, default="")
    # Keys of the Woo grounds (methods/woo.toml) the group thinks are at stake for this
    # option, in the order of the law; background for the weighing, never a legal verdict.
    woo_grounds = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["matrix", "position"]

    def __str__(self) -> str:
        return f"{self.matrix} {self.position}: {self.name}"


class Card(models.Model):
    """One contribution in a matrix cell, e.g. a pro of option 2."""

    id = models.CharField(primary_key=True, max_length=16, default=new_public_id, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="cards")
    column = models.ForeignKey(Column, on_delete=models.CASCADE, related_name="cards")
    row = models.CharField(max_length=50)
    text = models.TextField()
    author = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="+")
    anonymous = models.BooleanField(default=False)
    # Written alone in a "first write alone, then reveal" step: only its author sees it until
    # the facilitator reveals the step.
    hidden = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "created_at"]

    def __str__(self) -> str:
        return self.text[:40]


class RemovedCard(models.Model):
    """A card removed a moment ago, kept for a while so that its remover can undo it.

    Removing deletes the `Card` (everything that reads cards sees it gone) and parks a copy
    here under the same id; "undo" puts it back. Old copies are cleared on the next removal.
    """

    id = models.CharField(primary_key=True, max_length=16, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="removed_cards"
    )
    # Removing the column removes the chance to undo: the card would have nowhere to go.
    column = models.ForeignKey(Column, on_delete=models.CASCADE, related_name="removed_cards")
    row = models.CharField(max_length=50)
    text = models.TextField()
    author = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="+")
    anonymous = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    removed_by = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="+")
    removed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-removed_at"]

    def __str__(self) -> str:
        return self.text[:40]


class NextStep(models.Model):
    """An agreed action under "Hoe nu verder?": what, who and when."""

    id = models.CharField(primary_key=True, max_length=16, default=new_public_id, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="next_steps"
    )
    field_key = models.CharField(max_length=50)
    what = models.TextField()
    who = models.CharField(max_length=120, blank=True, default="")
    when = models.CharField(max_length=60, blank=True, default="")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.what[:40]


class Evaluation(models.Model):
    """One member's answer to "Zijn we tevreden?": a score from 1 to 5 and a remark."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="evaluations"
    )
    field_key = models.CharField(max_length=50)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="evaluations")
    score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    remark = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "field_key", "member"], name="one_evaluation_per_member"
            ),
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="score_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.score}"
