"""Writing the audit log: one call per audited act, from the place where it happens."""

from __future__ import annotations

from typing import Any

from .models import Entry


def audit(
    action: str,
    *,
    user: Any = None,
    member: Any = None,
    conversation_id: str = "",
    detail: str = "",
) -> Entry:
    """Record an audited act. `detail` is a short technical word, never user content."""
    return Entry.objects.create(
        action=action,
        user_id=getattr(user, "pk", None) if user is not None and user.is_authenticated else None,
        member_id=getattr(member, "pk", "") or "",
        conversation_id=conversation_id or getattr(member, "conversation_id", "") or "",
        detail=detail[:200],
    )
