from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A facilitator or an admin. Owners and participants need no account: they join by link."""

    class Role(models.TextChoices):
        FACILITATOR = "facilitator", _("Facilitator")
        ADMIN = "admin", _("Administrator")

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.FACILITATOR)
    language = models.CharField(max_length=5, blank=True, default="")
    # Two-factor authentication with an authenticator app (accounts/totp.py).
    totp_secret = models.CharField(max_length=64, blank=True, default="")
    totp_enabled = models.BooleanField(default=False)
    totp_last_step = models.BigIntegerField(null=True, blank=True)

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class Policy(models.Model):
    """Settings the administrator changes in the app (one row)."""

    mfa_required = models.BooleanField(
        default=False, help_text=_("Facilitators and administrators must use two-factor login.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "Policy"

    @classmethod
    def current(cls) -> Policy:
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy
