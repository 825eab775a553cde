"""Template helpers for looking up per-form errors and typed text by a computed key."""

import secrets
from typing import Any

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def get(mapping: Any, key: Any) -> Any:
    """`{{ errors|get:form_id }}`: a dict lookup with a key built in the template."""
    if isinstance(mapping, dict):
        return mapping.get(str(key))
    return None


@register.simple_tag
def form_id(*parts: Any) -> str:
    """`{% form_id "card-new" column.pk row.key as fid %}` → "card-new-<column>-<row>"."""
    return "-".join(str(part) for part in parts)


@register.simple_tag
def op_field() -> str:
    """A hidden operation id for a form: sending the same form twice applies it once."""
    return format_html('<input type="hidden" name="op" value="{}">', secrets.token_urlsafe(12))


@register.filter
def clock(seconds: int | None) -> str:
    """Seconds as m:ss, with a + for time past the time box: 125 → "2:05", -65 → "+1:05"."""
    if seconds is None:
        return "—"
    sign = "+" if seconds < 0 else ""
    minutes, rest = divmod(abs(int(seconds)), 60)
    return f"{sign}{minutes}:{rest:02d}"
