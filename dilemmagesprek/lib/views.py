"""Small helpers the views of every app share."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest


def error_messages(error: ValidationError) -> dict[str, list[str]]:
    """A ValidationError as {field: [messages]}, whether it was raised with a dict or not."""
    if hasattr(error, "error_dict"):
        return {
            key: [str(m) for e in errors for m in e.messages]
            for key, errors in error.error_dict.items()
        }
    return {"__all__": [str(m) for m in error.messages]}


def posted_int(request: HttpRequest, name: str) -> int | None:
    """An integer from the POST body, or None when it is missing or not a number."""
    value = request.POST.get(name, "").strip()
    try:
        return int(value)
    except ValueError:
        return None
