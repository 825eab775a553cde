from django.db import models


class Entry(models.Model):
    """One line of the audit log: who did what to which conversation, and when.

    Never content: no titles, texts, names typed into the worksheet, tokens or codes. The
    conversation is named by its opaque id and the person by account id or member id, so a
    line stays meaningful after the conversation is destroyed and reveals nothing of it.
    """

    class Action(models.TextChoices):
        VIEWED = "viewed"
        EXPORTED = "exported"
        ROLE_CHANGED = "role_changed"
        MEMBER_REMOVED = "member_removed"
        DESTROYED = "destroyed"
        PURGED = "purged"
        IMPORTED = "imported"
        USER_CREATED = "user_created"
        USER_CHANGED = "user_changed"
        SETTINGS_CHANGED = "settings_changed"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=30, choices=Action.choices)
    user_id = models.BigIntegerField(null=True, blank=True)  # the account, if any
    member_id = models.CharField(max_length=16, blank=True, default="")
    conversation_id = models.CharField(max_length=16, blank=True, default="")
    detail = models.CharField(max_length=200, blank=True, default="")  # e.g. "pdf", a role

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.conversation_id}"
