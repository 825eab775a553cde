from __future__ import annotations

import datetime
import hashlib
import json
from functools import cached_property

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dilemmagesprek.lib.ids import new_public_id
from dilemmagesprek.methods.loader import parse_method
from dilemmagesprek.methods.schema import Method

_parsed_methods: dict[str, Method] = {}
PARSED_METHODS_KEPT = 256


def method_digest(snapshot: dict) -> str:
    """A fingerprint of a method's content, whatever order the database kept its keys in."""
    return hashlib.sha256(json.dumps(snapshot, sort_keys=True).encode()).hexdigest()


def frozen_method(snapshot: dict, source: str) -> Method:
    """The parsed form of a stored method, parsed once per process for each distinct copy.

    Validating a method costs more than the rest of a save (docs/performance.md); the key is
    the content itself, so a changed snapshot is never answered from an old parse.
    """
    key = method_digest(snapshot)
    method = _parsed_methods.get(key)
    if method is None:
        method = parse_method(snapshot, source=source)
        if len(_parsed_methods) >= PARSED_METHODS_KEPT:
            _parsed_methods.pop(next(iter(_parsed_methods)))
        _parsed_methods[key] = method
    return method


class Conversation(models.Model):
    class Status(models.TextChoices):
        CONCEPT = "concept", _("Draft")
        PREPARATION = "voorbereiding", _("Preparation")
        PLANNED = "gepland", _("Planned")
        RUNNING = "lopend", _("In progress")
        CLOSED = "afgerond", _("Closed")
        ARCHIVED = "gearchiveerd", _("Archived")

    class Confidentiality(models.TextChoices):
        """The marking printed on every page of the report."""

        CONFIDENTIAL = "vertrouwelijk", _("Confidential")
        INTERNAL = "intern", _("Internal")
        PUBLIC = "openbaar", _("Public")

    id = models.CharField(primary_key=True, max_length=16, default=new_public_id, editable=False)
    title = models.CharField(max_length=200)
    method_slug = models.CharField(max_length=100)
    # A frozen copy of the method as it was when the conversation started: editing a method
    # file later never changes a running or archived conversation.
    method_snapshot = models.JSONField()
    # method_digest(method_snapshot), kept by save(). The busy paths (every save and page)
    # find the parsed method by it and never load or decode the snapshot itself.
    method_digest = models.CharField(max_length=64, blank=True, default="", editable=False)
    variant = models.CharField(max_length=20)
    planned_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONCEPT)
    confidentiality = models.CharField(
        max_length=20, choices=Confidentiality.choices, default=Confidentiality.CONFIDENTIAL
    )
    current_step = models.PositiveSmallIntegerField(default=1)
    # How the facilitator runs the steps: {"2": {"locked": true, "private": true,
    # "anonymous": true}}; plus single locked fields, anonymity for the whole conversation,
    # and the one card everybody's attention is on.
    step_options = models.JSONField(default=dict, blank=True)
    locked_fields = models.JSONField(default=list, blank=True)
    anonymous = models.BooleanField(default=False)
    spotlight_card_id = models.CharField(max_length=16, blank=True, default="")
    # A short code to join without a personal link; None when joining by code is off.
    join_code = models.CharField(max_length=8, null=True, blank=True, unique=True)  # noqa: DJ001
    # The step timer: running since `timer_started_at` (None = paused), with `timer_elapsed`
    # seconds counted before that and `timer_extra` minutes added to the step's time box.
    timer_started_at = models.DateTimeField(null=True, blank=True)
    timer_elapsed = models.PositiveIntegerField(default=0)
    timer_extra = models.PositiveIntegerField(default=0)
    # Seconds actually spent per step number ("1": 840, …), kept for the report.
    step_seconds = models.JSONField(default=dict, blank=True)
    # The sequence number of the newest event; bumped under the row lock by every write.
    last_seq = models.PositiveBigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Retention: the conversation and every trace of it are deleted `retention_days` after it
    # was closed (dilemmagesprek purge). None until it is closed.
    closed_at = models.DateTimeField(null=True, blank=True)
    retention_days = models.PositiveIntegerField(default=90)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        loaded = "method_snapshot" not in self.get_deferred_fields()
        if loaded and (update_fields is None or "method_snapshot" in update_fields):
            self.method_digest = method_digest(self.method_snapshot)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "method_digest"}
        super().save(*args, **kwargs)

    @cached_property
    def method(self) -> Method:
        # The snapshot never changes after the conversation is made, so its stored digest
        # names the parse; only a process that has not parsed it yet loads the snapshot.
        parsed = _parsed_methods.get(self.method_digest) if self.method_digest else None
        if parsed is not None:
            return parsed
        return frozen_method(self.method_snapshot, source=f"conversation {self.pk}")

    @property
    def variant_info(self):
        return self.method.variant(self.variant)

    def timer_seconds(self, now: datetime.datetime | None = None) -> int:
        """Seconds the current step's timer has run, paused periods excluded."""
        running = 0
        if self.timer_started_at is not None:
            now = now or timezone.now()
            running = max(0, int((now - self.timer_started_at).total_seconds()))
        return self.timer_elapsed + running

    def actual_seconds(self, number: int, now: datetime.datetime | None = None) -> int | None:
        """Seconds spent on step `number` so far, or None when its timer never ran."""
        spent = self.step_seconds.get(str(number))
        if number == self.current_step and (self.timer_started_at or self.timer_elapsed):
            spent = (spent or 0) + self.timer_seconds(now)
        return spent

    @property
    def delete_after(self) -> datetime.datetime | None:
        """When purge removes this conversation; None while it is not closed."""
        if self.closed_at is None:
            return None
        return self.closed_at + datetime.timedelta(days=self.retention_days)

    def step_option(self, number: int, option: str) -> bool:
        return bool(self.step_options.get(str(number), {}).get(option, False))

    def is_anonymous_step(self, number: int) -> bool:
        return self.anonymous or self.step_option(number, "anonymous")

    @property
    def is_editable(self) -> bool:
        """Worksheet and preparation accept changes until the conversation is closed."""
        return self.status not in (self.Status.CLOSED, self.Status.ARCHIVED)


class Member(models.Model):
    class Role(models.TextChoices):
        FACILITATOR = "gespreksleider", _("Facilitator")
        OWNER = "dilemma-eigenaar", _("Dilemma owner")
        PARTICIPANT = "deelnemer", _("Participant")
        OBSERVER = "waarnemer", _("Observer")

    id = models.CharField(primary_key=True, max_length=16, default=new_public_id, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="members")
    # Facilitators sign in with an account; everyone else joins through their invite link.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    display_name = models.CharField(max_length=80)
    role = models.CharField(max_length=20, choices=Role.choices)
    # Only a hash of the invite token is stored: a leaked database holds no usable links.
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    invited_at = models.DateTimeField(auto_now_add=True)
    joined_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    # Joined with the join code and waiting in the lobby until the facilitator admits them.
    waiting = models.BooleanField(default=False)

    class Meta:
        ordering = ["invited_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "user"],
                name="one_membership_per_user",
                condition=models.Q(user__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_role_display()})"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None and not self.waiting

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class Event(models.Model):
    """The append-only log of every change, numbered per conversation."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=50)
    data = models.JSONField(default=dict)
    actor = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="+")
    # The client-generated id of the operation that caused this event: a resent operation is
    # found here and answered with its original result instead of being applied twice.
    op = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 - NULL = none
    # A fingerprint of what the operation asked for: the same id with other content is a
    # different request, and must not be answered as if it had been applied.
    op_digest = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["conversation", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="one_event_per_seq"),
            models.UniqueConstraint(
                fields=["conversation", "op"], name="one_event_per_operation",
                condition=models.Q(op__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq} {self.type}"
