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

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN
