"""Every browser test also checks that no page broke the Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage


@pytest.fixture(autouse=True)
def no_csp_violations(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Chromium reports a blocked script, style or connection as a console error that names
    the Content Security Policy; any such message fails the test."""
    violations: list[str] = []

    def watch(context: BrowserContext) -> BrowserContext:
        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                violations.append(message.text)

        context.on("page", lambda page: page.on("console", on_console))
        return context

    original = Browser.new_context

    def new_context(self: Browser, *args, **kwargs) -> BrowserContext:
        return watch(original(self, *args, **kwargs))

    monkeypatch.setattr(Browser, "new_context", new_context)
    yield violations
    assert not violations, f"the page broke its Content-Security-Policy: {violations[:3]}"
