"""Helpers shared by the accessibility, keyboard and reflow tests (tests/browser/).

They drive the running app (`live_app`) the way people do: by its forms and links. Elements
are found by stable ids, names and form actions, or by the worksheet's own questions, never by
translated button texts.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Response, expect
from playwright.sync_api import Error as PlaywrightError

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT = 10_000
IMG_DIR = Path(__file__).resolve().parents[2] / "docs" / "img"

# The WCAG 2.1 A and AA rules of axe-core (the bar: zero violations on every page).
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
_AXE = Axe()


def axe_violations(page: Page, *, open_details: bool = True) -> list[str]:
    """Run axe-core on the page as it is now; return one readable line per failing node.

    Folded-away content (<details>) is opened first, so that it is checked too.
    """
    if open_details:
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    results = _AXE.run(page, options=AXE_OPTIONS).response
    lines = []
    for violation in results["violations"]:
        for node in violation["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(
                f"{violation['id']} ({violation['impact']}) at {', '.join(node['target'])}: "
                f"{summary} — {node['html'][:160]}"
            )
    return lines


def new_context(browser: Browser, live_app, **options) -> BrowserContext:
    options.setdefault("viewport", DESKTOP)
    context = browser.new_context(base_url=live_app.url, locale="nl-NL", **options)
    context.set_default_timeout(TIMEOUT)
    return context


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/inloggen/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    with page.expect_navigation():
        page.locator("form:has(#id_password) button[type=submit]").click()
    expect(page.locator("#id_password")).to_have_count(0)


def use_language(page: Page, language: str) -> None:
    """Switch with the language button in the header (remembered on the account or cookie)."""
    if page.locator("html").get_attribute("lang") == language:
        return
    with page.expect_navigation():
        page.locator(f"form[action='/taal/'] button[name=language][value={language}]").click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def wait_connected(page: Page) -> None:
    expect(page.locator("[data-dg-live-status]")).to_have_attribute(
        "data-state", re.compile("online|saved")
    )


# Done when the form's surroundings were replaced (a post's answer patched in, or a new
# page), or when live.js renewed the form's operation id: its text was saved over the socket
# and acknowledged, and the form stays as it is.
SUBMIT_DONE = """() => {
  if (!document.querySelector("[data-test-stale]")) return true;
  const form = document.querySelector("[data-test-sent]");
  if (!form) return true;  // the answer replaced the part of the page that held the form
  const op = form.querySelector("input[name=op]");
  return !!op && op.value !== form.getAttribute("data-test-sent");
}"""


@contextmanager
def answered(form: Locator, action: str | None = None) -> Iterator[list[Response]]:
    """Wait, after the body of the `with`, until the form's answer is on the page: patched in
    place (htmx), a new page, or the acknowledgement of a text saved over the socket (then no
    response comes; the list of responses stays empty)."""
    page = form.page
    action = action or form.get_attribute("action") or urlsplit(page.url).path
    stale = form.locator("xpath=ancestor::*[self::section or self::main][1]")
    stale.evaluate("el => el.setAttribute('data-test-stale', '')")
    form.evaluate(
        "f => f.setAttribute('data-test-sent', (f.querySelector('input[name=op]') || {}).value"
        " || '')"
    )
    answers: list[Response] = []

    def collect(response: Response) -> None:
        if response.request.method == "POST" and urlsplit(response.url).path == action:
            answers.append(response)

    page.on("response", collect)
    try:
        yield answers
        # Polled from here, not in the page: a test may have stopped the page's clock.
        deadline = time.monotonic() + 10
        while not _done(page):
            assert time.monotonic() < deadline, "the form's answer never came"
            page.wait_for_timeout(20)
        if page.locator("[data-test-stale]").count() == 0:
            page.wait_for_load_state()
            for _ in range(250):  # the answer event may trail the swap it caused
                if answers:
                    break
                page.wait_for_timeout(20)
    finally:
        page.remove_listener("response", collect)
        # A save over the socket leaves the form and its surroundings in place: unmark them.
        page.evaluate(
            "() => document.querySelectorAll('[data-test-sent], [data-test-stale]')"
            ".forEach(f => { f.removeAttribute('data-test-sent');"
            " f.removeAttribute('data-test-stale'); })"
        )


def _done(page: Page) -> bool:
    try:
        return page.evaluate(SUBMIT_DONE)
    except PlaywrightError:  # the answer is a new page, still loading
        page.wait_for_load_state()
        return False


def submit(form: Locator, button: Locator | None = None) -> Response | None:
    """Submit a form with its button and wait for its answer (see `answered`)."""
    action = (button and button.get_attribute("formaction")) or None
    with answered(form, action) as answers:
        (button or form.locator("button[type=submit]:not([formaction])").first).click()
    return answers[0] if answers else None


def new_password() -> str:
    return secrets.token_urlsafe(18)


def create_account(live_app, username: str, role: str = "facilitator") -> str:
    """An account of this test module's own, so no other test's language changes."""
    password = new_password()
    path = live_app.data_dir.parent / f"password-{username}"
    path.write_text(password + "\n")
    path.chmod(0o600)
    live_app.cli("createuser", username, "--role", role, "--password-file", str(path))
    return password


@dataclass(frozen=True)
class Demo:
    """The fictitious demo conversation: filled in, running, at step 3."""

    password: str  # of the account "demo"
    owner_link: str
    participant_links: tuple[str, ...]


_DEMOS: dict[str, Demo] = {}


def demo(live_app) -> Demo:
    """Create the demo once per server (every run of `demo` renews its invitation links)."""
    if live_app.url in _DEMOS:
        return _DEMOS[live_app.url]
    result = live_app.cli("demo", "--site-url", live_app.url, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout
    rows = [line.split() for line in output.splitlines() if "/uitnodiging/" in line]
    links = [(row[0], row[-1]) for row in rows]
    owner = [url for role, url in links if role.startswith("Dilemma")]
    participants = tuple(url for role, url in links if role.startswith("Deelnemer"))
    password = (live_app.data_dir / "demo_password").read_text().strip()
    assert owner and participants, output
    _DEMOS[live_app.url] = Demo(password, owner[0], participants)
    return _DEMOS[live_app.url]


def demo_worksheet(page: Page) -> str:
    """The path of the demo worksheet, from the facilitator's list of conversations."""
    page.goto("/gesprekken/")
    link = page.locator(".dg-conversation-list a", has_text="Buurtbudget").first
    href = link.get_attribute("href")
    assert href and re.fullmatch(r"/g/[^/]+/", href), href
    return href


def create_conversation(page: Page, title: str) -> str:
    """Prepare a conversation through the form; return its worksheet path /g/<id>/."""
    page.goto("/gesprekken/nieuw/")
    page.locator("#id_title").fill(title)
    submit(page.locator("form:has(#id_title)"))
    match = re.search(r"(/g/[^/]+/)leden/", page.url)
    assert match, page.url
    return match.group(1)


def invite(page: Page, name: str, role: str) -> str:
    form = page.locator("form:has(#id_display_name)")
    form.locator("#id_display_name").fill(name)
    form.locator("#id_role").select_option(role)
    submit(form)
    row = page.locator(f'tr:has(input[name=display_name][value="{name}"])')
    link = row.locator("input[data-dg-copy]")
    expect(link).to_have_value(re.compile(r"/uitnodiging/[^/]+/$"))
    return link.input_value()


def set_status(page: Page, status: str) -> None:
    button = page.locator(f"button[name=status][value={status}]")
    submit(page.locator("form:has(button[name=status])"), button)
    expect(page.locator(f"button[name=status][value={status}]")).to_have_count(0)


def open_step(page: Page, number: int) -> None:
    step = page.locator(f"#step-{number}")
    form = step.locator('form[action$="/stap/"]')
    if form.count():
        submit(form)
    expect(page.locator(f"#step-{number}")).to_have_class(re.compile(r"\bdg-step--current\b"))


def page_width_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )
