from django.db import models


class Counter(models.Model):
    """Attempts under one key in one fixed time window (e.g. join codes tried from an address).

    Kept in the database so the limit holds across workers and needs no Redis; keys are
    hashed, so no address or code is stored readable.
    """

    key = models.CharField(max_length=64)
    window = models.BigIntegerField()  # the window's start, in whole seconds since the epoch
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window"], name="one_counter")]

    def __str__(self) -> str:
        return f"{self.key[:8]}@{self.window}: {self.count}"
