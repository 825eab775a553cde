"""Pages about the application itself, for everyone (no account or invitation needed)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

# When the checks in docs/accessibility.md were last run in full; update with the statement.
ACCESSIBILITY_TESTED_ON = datetime.date(2026, 11, 29)


@require_GET
def accessibility_statement(request: HttpRequest) -> HttpResponse:
    """The accessibility statement (toegankelijkheidsverklaring): what we test, and how."""
    return render(
        request, "pages/accessibility.html", {"tested_on": ACCESSIBILITY_TESTED_ON}
    )


@require_GET
def privacy_statement(request: HttpRequest) -> HttpResponse:
    """What is stored, why, how long, and who can see it."""
    return render(
        request,
        "pages/privacy.html",
        {
            "retention_default": settings.RETENTION_DEFAULT_DAYS,
            "retention_min": settings.RETENTION_MIN_DAYS,
            "retention_max": settings.RETENTION_MAX_DAYS,
            "idle_minutes": settings.SESSION_COOKIE_AGE // 60,
            "absolute_hours": settings.SESSION_ABSOLUTE_SECONDS // 3600,
        },
    )
