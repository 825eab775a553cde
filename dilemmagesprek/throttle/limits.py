"""Fixed-window rate limits, counted in the database."""

from __future__ import annotations

import hashlib
import time

from django.db import IntegrityError, transaction
from django.db.models import F

from .models import Counter


def allow(scope: str, value: str, limit: int, window_seconds: int) -> bool:
    """Count one attempt for (scope, value); False once more than `limit` fall in the window."""
    key = hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()
    window = int(time.time()) // window_seconds * window_seconds
    with transaction.atomic():
        updated = Counter.objects.filter(key=key, window=window).update(count=F("count") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    Counter.objects.create(key=key, window=window, count=1)
            except IntegrityError:  # created by a concurrent request a moment ago
                Counter.objects.filter(key=key, window=window).update(count=F("count") + 1)
        count = Counter.objects.filter(key=key, window=window).values_list("count", flat=True)[0]
    return count <= limit


def count(scope: str, value: str, window_seconds: int) -> int:
    """How many attempts (scope, value) made in the current window, without counting one."""
    key = hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()
    window = int(time.time()) // window_seconds * window_seconds
    found = Counter.objects.filter(key=key, window=window).values_list("count", flat=True)
    return found[0] if found else 0


def forget_expired(older_than_seconds: int = 86400) -> int:
    """Remove counters of windows that ended long ago; returns how many were removed."""
    cutoff = int(time.time()) - older_than_seconds
    deleted, _ = Counter.objects.filter(window__lt=cutoff).delete()
    return deleted
