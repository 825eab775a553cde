"""Every page, in every state the issue names, has no WCAG 2.1 A/AA violation found by axe-core.

The pages are visited in Dutch and in English, as a facilitator, the dilemma owner, a
participant and a newcomer without an account: empty and filled worksheets, each step as the
current one (for the facilitator and for a participant), forms with a mistake (422) and an
edit conflict (409), the confirmation pages and the confirmation dialog, the undo offer, the
projector view, the preparation with the Woo reference, and the main pages at 320 px. The list
of URL patterns is read from dilemmagesprek.urls: a new URL without a check here fails
`test_every_url_has_an_accessibility_check`.

Two more tests listen to the live regions, as a screen reader would: changes by others are
announced at most once every ten seconds and never with a text, and the step timer speaks only
in its last minute.
"""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import URLResolver, get_resolver, resolve
from playwright.sync_api import Browser, BrowserContext, Error, Page, expect

from dilemmagesprek.accounts import totp
from tests.browser.support import (
    DESKTOP,
    PHONE,
    axe_violations,
    create_account,
    create_conversation,
    demo,
    demo_worksheet,
    invite,
    log_in,
    new_context,
    open_step,
    set_status,
    submit,
    use_language,
    wait_connected,
)

# Every URL pattern, by the way its accessibility is checked.
# Pages scanned by axe (a GET page, or the HTML a POST answers with: a 422 or 409 form).
SCANNED = {
    "login": "the login form, and with a wrong password",
    "accessibility": "the accessibility statement",
    "privacy": "the privacy statement",
    "conversations": "the list of conversations, with some and with none",
    "new_conversation": "the form, and with a missing title (422)",
    "import_conversation": "the import form",
    "members": "members, links, join code and lobby; a missing name (422); a 403 page",
    "settings": "the settings form, and with a missing title (422)",
    "remove_member": "the confirmation page",
    "worksheet": "empty, filled, each step current, every role, closed, phone, a 404",
    "projector": "the projector view",
    "preparation": "the owner's form with the Woo reference, saved; the facilitator's view",
    "remove_card": "the confirmation page",
    "remove_column": "the confirmation page",
    "remove_next_step": "the confirmation page",
    "add_card": "an empty card without JavaScript (422)",
    "add_next_step": "an action without 'what', without JavaScript (422)",
    "save_evaluation": "no score, without JavaScript (422)",
    "set_field": "an edit conflict, without JavaScript (409)",
    "summary_draft": "the worksheet with a draft summary, without JavaScript",
    "join": "an invitation link that does not work",
    "enter_code": "the form, and with an unknown code (422)",
    "lobby_name": "the form, and without a name (422)",
    "lobby_wait": "waiting to be let in, and refused",
    "login_code": "the code step of two-factor login, and with a wrong code (422)",
    "two_factor": "setting up two-factor login, a wrong code (422), and when it is on",
    "destroy": "the confirmation, and without the confirming word (422)",
    "admin_users": "accounts and policy, and a new account without a name (422)",
    "admin_audit": "the audit log",
}
# POST-only: they answer with a redirect to a page above (or re-render the worksheet with the
# same templates as the scanned error states). `test_post_only_urls_refuse_get` proves GET 405.
POST_ONLY = {
    "logout", "set_language", "update_member", "admit", "join_code",
    "renew_link", "revoke_link", "change_status", "change_step", "timer",
    "lead", "confirm_field", "add_column", "rename_column", "move_column",
    "edit_card", "edit_next_step", "restore_card", "tag_woo_grounds",
    "retention", "admin_change_user", "admin_policy",
}
# Not a page: checked to answer with something other than HTML.
NOT_HTML = {
    "join_qr": "image/svg+xml",
    "report": "text/markdown",
    "security_txt": "text/plain",
    "health_live": "application/json",
    "health_ready": "application/json",
    "metrics": "text/plain",
}
# Only ever redirects.
REDIRECTS = {"home"}

LANGUAGES = ("nl", "en")
NARROW = {"width": 320, "height": 640}


def url_names() -> set[str]:
    """The name of every URL pattern (names are unique across namespaces here)."""
    names: list[str] = []

    def walk(patterns: list) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            else:
                names.append(pattern.name)

    walk(get_resolver().url_patterns)
    assert len(names) == len(set(names)), f"a URL name is used twice: {sorted(names)}"
    return set(names)


def url_name(url: str) -> str:
    return resolve(urlsplit(url).path).url_name


def test_every_url_has_an_accessibility_check() -> None:
    groups = [set(SCANNED), POST_ONLY, set(NOT_HTML), REDIRECTS]
    listed = set().union(*groups)

    assert sum(len(group) for group in groups) == len(listed), "a URL is listed twice"
    assert url_names() == listed, (
        "add each new URL to SCANNED (and visit it in test_every_page_passes_axe), "
        "POST_ONLY, NOT_HTML or REDIRECTS"
    )


# --- the scene: people and conversations, made through the app -------------------------------


@dataclass
class Scene:
    facilitator: Page  # own account; prepares conversation "fresh"
    nobody: Page  # an account with no conversations yet
    admin: Page  # an administrator
    secured: Page  # an account with two-factor login on
    secured_password: str
    newcomer: Page  # no account, no invitation: joins with the code
    fresh_participant: Page  # a participant of the conversation with nothing on it yet
    lead: Page  # the demo facilitator, with JavaScript
    lead_plain: Page  # the demo facilitator, without JavaScript
    owner: Page  # the demo's dilemma owner
    participant: Page  # a demo participant
    fresh: str  # worksheet path of a conversation with nothing on it yet
    closed: str  # worksheet path of a closed conversation
    demo: str  # worksheet path of the demo conversation
    join_code: str


@pytest.fixture(scope="module")
def scene(browser: Browser, live_app) -> Iterator[Scene]:
    expect.set_options(timeout=10_000)
    contexts: list[BrowserContext] = []

    def page(**options) -> Page:
        context = new_context(browser, live_app, **options)
        contexts.append(context)
        return context.new_page()

    # The accounts and the demo come from the command line; they are made side by side.
    roles = {
        "toegankelijk": "facilitator",
        "nog-niets": "facilitator",
        "beheerder": "admin",
        "tweestaps": "facilitator",
    }
    with ThreadPoolExecutor() as pool:
        people_later = pool.submit(demo, live_app)
        made = {
            name: pool.submit(create_account, live_app, name, role)
            for name, role in roles.items()
        }
        passwords = {name: future.result() for name, future in made.items()}
        people = people_later.result()

    facilitator = page()
    log_in(facilitator, "toegankelijk", passwords["toegankelijk"])
    fresh = create_conversation(facilitator, "Een gesprek dat nog moet beginnen")
    fresh_link = invite(facilitator, "Piet Deelnemer", "deelnemer")
    facilitator.goto(fresh)
    set_status(facilitator, "gepland")
    facilitator.goto(f"{fresh}leden/")
    submit(facilitator.locator("form[action$='/code/']"))
    join_code = facilitator.locator(".dg-join-code").inner_text()
    closed = create_conversation(facilitator, "Een afgerond gesprek")
    facilitator.goto(closed)
    for status in ("gepland", "lopend", "afgerond"):
        set_status(facilitator, status)

    nobody = page()
    log_in(nobody, "nog-niets", passwords["nog-niets"])
    admin = page()
    log_in(admin, "beheerder", passwords["beheerder"])
    # Two-factor login: set up in one session, then used to log in in another.
    secured_password = passwords["tweestaps"]
    setup = page()
    log_in(setup, "tweestaps", secured_password)
    setup.goto("/account/tweestaps/")
    secret = setup.locator("code.dg-code").inner_text().strip()
    setup.locator("#code").fill(totp.code_at(secret, totp.current_step()))
    submit(setup.locator("form:has(#code)"))
    secured = page()
    log_in(secured, "tweestaps", secured_password)
    secured.locator("#code").fill(totp.code_at(secret, totp.current_step() + 1))
    submit(secured.locator("form:has(#code)"))
    expect(secured).to_have_url(re.compile(r"/gesprekken/$"))

    lead = page()
    log_in(lead, "demo", people.password)
    worksheet = demo_worksheet(lead)
    # Something to remove under "Hoe nu verder?", and Woo grounds on the first option.
    lead.goto(worksheet)
    actions = lead.locator('#field-next_steps form[action$="/actie/"]')
    actions.locator("textarea[name=what]").fill("Partners uitnodigen voor een gesprek")
    submit(actions)
    lead.locator(".dg-woo-tags__edit > summary").first.click()
    tags = lead.locator("form[action$='/woo/']").first
    tags.locator("input[value='5.1-2-b']").check()
    tags.locator("input[value='5.2']").check()
    submit(tags)
    # "Without JavaScript": our scripts and htmx are not loaded, so forms post the plain way and
    # answer with a whole page. (The page itself may still run axe-core.)
    lead_plain = page()
    lead_plain.context.route(re.compile(r"/static/.*\.js$"), lambda route: route.abort())
    log_in(lead_plain, "demo", people.password)

    owner = page()
    owner.goto(people.owner_link)
    participant = page()
    participant.goto(people.participant_links[0])
    fresh_participant = page()
    fresh_participant.goto(fresh_link)

    yield Scene(
        facilitator=facilitator,
        nobody=nobody,
        admin=admin,
        secured=secured,
        secured_password=secured_password,
        newcomer=page(),
        fresh_participant=fresh_participant,
        lead=lead,
        lead_plain=lead_plain,
        owner=owner,
        participant=participant,
        fresh=fresh,
        closed=closed,
        demo=worksheet,
        join_code=join_code,
    )
    for context in contexts:
        context.close()


# --- the walk --------------------------------------------------------------------------------


DANGLING_REFERENCES = """() => {
  const found = [];
  for (const attribute of ["aria-describedby", "aria-labelledby", "aria-controls", "for"]) {
    for (const el of document.querySelectorAll(`[${attribute}]`)) {
      for (const id of el.getAttribute(attribute).split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) {
          found.push(`${attribute}="${id}" on ${el.outerHTML.slice(0, 100)}`);
        }
      }
    }
  }
  return found;
}"""


class Scanner:
    def __init__(self, language: str) -> None:
        self.language = language
        self.found: dict[str, list[str]] = {}
        self.names: set[str] = set()

    def __call__(self, label: str, page: Page, *, name: str | None = None) -> None:
        expect(page.locator("html")).to_have_attribute("lang", self.language)
        # Landmarks and one h1 per page (not WCAG rules in axe, but what screen readers use).
        landmarks = page.evaluate(
            """() => ({
                h1: document.querySelectorAll("h1").length,
                main: document.querySelectorAll("main").length,
            })"""
        )
        if landmarks != {"h1": 1, "main": 1}:
            self.found[f"{label}: landmarks"] = [f"expected one h1 and one main: {landmarks}"]
        # Every name, description and label points at an element that is there: a help text
        # or an error a screen reader would never hear is a bug axe lets pass.
        dangling = page.evaluate(DANGLING_REFERENCES)
        if dangling:
            self.found[f"{label}: references"] = dangling
        try:
            self.found[label] = axe_violations(page)
        except Error:
            # A page that refreshes itself (the lobby) may reload mid-scan: scan once more.
            page.wait_for_load_state()
            self.found[label] = axe_violations(page)
        self.names.add(name or url_name(page.url))

    def report(self) -> str:
        return "\n".join(
            f"[{self.language}] {label}:\n  " + "\n  ".join(lines)
            for label, lines in self.found.items()
            if lines
        )


def method_labels() -> dict[str, str]:
    """Field key → the worksheet's question, in Dutch, straight from the method file."""
    path = Path(__file__).resolve().parents[2] / "dilemmagesprek/methods/files"
    method = tomllib.loads((path / "als-openbaarheid-schuurt.toml").read_text(encoding="utf-8"))
    return {f["key"]: f["label"]["nl"] for step in method["steps"] for f in step["fields"]}


def test_every_field_is_named_by_its_worksheet_question(scene: Scene) -> None:
    """What a screen reader says for each field is the question on the paper worksheet."""
    page = scene.participant
    page.goto(scene.demo)
    use_language(page, "nl")
    kinds = {
        "players": "table",
        "options": "table",
        "next_steps": "group",
        "satisfaction": "group",
    }
    for key, question in method_labels().items():
        role = kinds.get(key)
        if role is None:
            field = page.get_by_label(question, exact=True)
            expect(field).to_have_attribute("id", f"field-{key}-text")
        elif role == "table":
            table = page.get_by_role("table", name=question, exact=True)
            expect(table).to_have_count(1)
            # A real table: a header for every column and every row.
            columns = table.locator("thead th[scope=col]").count()
            assert columns >= 2, (key, columns)
            for row in table.locator("tbody tr").all():
                expect(row.locator("th[scope=row]")).to_have_count(1)
                expect(row.locator("td")).to_have_count(columns)
        else:
            group = page.get_by_role("group", name=re.compile(rf"^{re.escape(question)}"))
            expect(group.first).to_be_visible()


def first_href(page: Page, selector: str) -> str:
    href = page.locator(selector).first.get_attribute("href")
    assert href, selector
    return href


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_passes_axe(scene: Scene, language: str) -> None:
    scan = Scanner(language)
    anyone_pages(scene, scan)
    facilitator_pages(scene, scan)
    account_pages(scene, scan)
    demo_pages(scene, scan)
    error_pages(scene, scan)
    owner_and_participant_pages(scene, scan)

    assert not scan.report(), "axe-core found WCAG 2.1 A/AA violations:\n" + scan.report()
    missing = set(SCANNED) - scan.names
    assert not missing, f"not scanned in {language}: {sorted(missing)}"


def anyone_pages(scene: Scene, scan: Scanner) -> None:
    page = scene.newcomer
    page.goto("/inloggen/")
    use_language(page, scan.language)
    scan("login", page)
    page.locator("#id_username").fill("niemand")
    page.locator("#id_password").fill("geen-wachtwoord")
    submit(page.locator("form:has(#id_password)"))
    scan("login with a wrong password", page)
    page.goto("/toegankelijkheid/")
    scan("accessibility statement", page)
    page.goto("/privacy/")
    scan("privacy statement", page)
    page.goto("/uitnodiging/" + "x" * 43 + "/")
    scan("an invitation that does not work", page)
    page.goto("/g/bestaat-niet/")
    scan("a page that does not exist (404)", page)

    page.goto("/doe-mee/")
    scan("join with a code", page)
    page.locator("#code").fill("AAAA-AAAA")
    submit(page.locator("form:has(#code)"))
    scan("join with an unknown code (422)", page)
    page.locator("#code").fill(scene.join_code)
    submit(page.locator("form:has(#code)"))
    scan("your name", page)
    submit(page.locator("form:has(#display_name)"))
    scan("your name, left empty (422)", page)
    page.locator("#display_name").fill(f"Nieuwkomer {scan.language}")
    submit(page.locator("form:has(#display_name)"))
    expect(page).to_have_url(re.compile(r"/doe-mee/wachten/$"))
    scan("waiting to be let in", page)


def facilitator_pages(scene: Scene, scan: Scanner) -> None:
    page = scene.facilitator
    page.goto("/gesprekken/")
    use_language(page, scan.language)
    scan("my conversations", page)
    scene.nobody.goto("/gesprekken/")
    use_language(scene.nobody, scan.language)
    scan("no conversations yet", scene.nobody)

    page.goto("/gesprekken/nieuw/")
    scan("new conversation", page)
    submit(page.locator("form:has(#id_title)"))
    scan("new conversation without a title (422)", page)
    page.goto("/gesprekken/importeren/")
    scan("import a conversation", page)

    page.goto(f"{scene.fresh}leden/")
    expect(page.locator(".dg-lobby-item")).to_have_count(1)
    scan("members, join code and lobby", page)
    remove_link = page.locator("a[data-dg-confirm][href$='/verwijderen/']").first
    remove_link.click()
    expect(page.locator("dialog[open]")).to_be_visible()
    scan("confirmation dialog: remove a member", page, name="remove_member")
    page.keyboard.press("Escape")
    expect(page.locator("dialog[open]")).to_have_count(0)
    page.goto(remove_link.get_attribute("href") or "")
    scan("confirmation page: remove a member", page)
    page.goto(f"{scene.fresh}leden/")
    submit(page.locator("form:has(#id_display_name)"))
    scan("invite without a name (422)", page)
    # Refuse the newcomer: their waiting page finds out by itself and says so.
    submit(page.locator(".dg-lobby-item form[action$='/verwijderen/']"))
    expect(scene.newcomer.locator("[data-dg-lobby-wait]")).to_have_count(0)
    scene.newcomer.wait_for_load_state()
    scan("refused at the door", scene.newcomer)

    page.goto(f"{scene.fresh}instellingen/")
    scan("settings", page)
    page.locator("#id_title").fill("")
    submit(page.locator("form:has(#id_title)"))
    scan("settings without a title (422)", page)

    page.goto(scene.fresh)
    scan("empty worksheet", page)
    scene.fresh_participant.goto(scene.fresh)
    use_language(scene.fresh_participant, scan.language)
    scan("empty worksheet, as a participant", scene.fresh_participant)
    page.goto(scene.closed)
    scan("closed worksheet", page)


def account_pages(scene: Scene, scan: Scanner) -> None:
    """Two-factor login, the administrator's pages, and destroying a conversation."""
    page = scene.facilitator
    page.goto("/account/tweestaps/")
    scan("setting up two-factor login", page)
    page.locator("#code").fill("000000")
    submit(page.locator("form:has(#code)"))
    scan("setting up two-factor login with a wrong code (422)", page)
    page.goto(f"{scene.closed}vernietigen/")
    scan("destroy a conversation", page)
    submit(page.locator("form:has(#confirm)"))
    scan("destroy without the confirming word (422)", page)

    scene.secured.goto("/account/tweestaps/")
    use_language(scene.secured, scan.language)
    scan("two-factor login is on", scene.secured)
    login = scene.secured.context.browser.new_context(
        base_url=scene.secured.url.split("/account/")[0], viewport={"width": 1280, "height": 900}
    )
    code_page = login.new_page()
    code_page.goto("/inloggen/")
    use_language(code_page, scan.language)
    code_page.locator("#id_username").fill("tweestaps")
    code_page.locator("#id_password").fill(scene.secured_password)
    submit(code_page.locator("form:has(#id_password)"))
    expect(code_page).to_have_url(re.compile(r"/inloggen/code/$"))
    scan("login code", code_page)
    code_page.locator("#code").fill("000000")
    submit(code_page.locator("form:has(#code)"))
    scan("login code, wrong (422)", code_page)
    login.close()

    admin = scene.admin
    admin.goto("/beheer/")
    use_language(admin, scan.language)
    scan("administration", admin)
    submit(admin.locator("form:has(#new-username)"))
    scan("administration, new account without a name (422)", admin)
    admin.goto("/beheer/audit/")
    scan("audit log", admin)


def demo_pages(scene: Scene, scan: Scanner) -> None:
    page = scene.lead
    page.goto(scene.demo)
    use_language(page, scan.language)
    wait_connected(page)
    participant = scene.participant
    participant.goto(scene.demo)
    use_language(participant, scan.language)
    for number in (1, 2, 4, 5, 3):
        open_step(page, number)
        scan(f"filled worksheet, step {number} current", page)
        participant.goto(scene.demo)
        expect(participant.locator("#steps-nav")).to_have_attribute(
            "data-current-step", str(number)
        )
        scan(f"filled worksheet, step {number} current, as a participant", participant)

    # The step timer running, a step written alone and anonymously, a card in the spotlight.
    submit(page.locator("form[action$='/klok/']:has(button[value=start])"))
    for option in ("private", "anonymous"):
        form = page.locator(f"#step-2 form:has(input[name=option][value={option}])")
        submit(form)
    submit(page.locator("#step-3 .dg-card form:has(input[name=command][value=spotlight])").first)
    expect(page.locator("#spotlight .dg-spotlight")).to_be_visible()
    page.goto(scene.demo)
    scan("timer running, spotlight, write alone, anonymous", page)
    submit(page.locator("form[action$='/klok/']:has(button[value=pause])"))
    for option in ("private", "anonymous"):
        submit(page.locator(f"#step-2 form:has(input[name=option][value={option}])"))
    submit(page.locator("#spotlight form:has(input[name=command][value=spotlight])"))
    # Let the page catch up with the spotlight's end before opening the card's dialog: a
    # region patched in under the click took the click with it once (CI, 2026-11-29).
    expect(page.locator("#spotlight .dg-spotlight")).to_have_count(0)

    # Remove a card through the dialog, then undo it.
    card = page.locator("#step-3 .dg-card").first
    text = card.locator(".dg-card__text").inner_text()
    # Its edit panel may be open already: the page is patched in place, not reloaded.
    if not card.locator("details.dg-card__edit").evaluate("d => d.open"):
        card.locator("details.dg-card__edit > summary").click()
    expect(card.locator("a[data-dg-confirm]")).to_be_visible()
    card.locator("a[data-dg-confirm]").click()
    expect(page.locator("dialog[open]")).to_be_visible()
    scan("confirmation dialog: remove a card", page, name="remove_card")
    page.locator("dialog[open] button[type=submit]").click()
    undo = page.locator("[data-dg-undo] button")
    expect(undo).to_be_focused()
    scan("a removed card, with undo", page)
    submit(page.locator("form[data-dg-undo]"))
    expect(page.locator("#step-3 .dg-card__text", has_text=text)).to_have_count(1)

    for selector in (
        "#step-3 .dg-card a[href$='/verwijderen/']",
        "#step-3 .dg-columns a[href$='/verwijderen/']",
        "#field-next_steps a[href$='/verwijderen/']",
    ):
        page.goto(first_href(page, selector))
        scan(f"confirmation page {selector}", page)
        page.goto(scene.demo)

    projector = page.context.new_page()
    projector.goto(f"{scene.demo}scherm/")
    scan("projector", projector)
    projector.set_viewport_size({"width": 1920, "height": 1080})
    scan("projector, full HD", projector)
    projector.close()
    page.goto(f"{scene.demo}voorbereiding/")
    scan("preparation, as the facilitator reads it", page)


def error_pages(scene: Scene, scan: Scanner) -> None:
    """Without JavaScript a form with a mistake answers with a whole page (422 or 409)."""
    page = scene.lead_plain
    page.goto(scene.demo)  # the account's language was switched by the demo pages
    submit(page.locator("#field-options form.dg-card-form").first)
    assert page.locator(".dg-error").count() >= 1
    scan("an empty card (422)", page)
    page.goto(scene.demo)
    submit(page.locator('#field-next_steps form[action$="/actie/"]'))
    scan("an action without what (422)", page)
    page.goto(scene.demo)
    submit(page.locator('#field-satisfaction form[action$="/evaluatie/"]'))
    scan("a score left open (422)", page)

    # Someone else saves the dilemma while this page still has the old version.
    page.goto(scene.demo)
    scene.lead.goto(scene.demo)
    other = scene.lead.locator('form[action$="/veld/dilemma/"]')
    other.locator("textarea").fill(f"Het dilemma, opnieuw verwoord ({scan.language}).")
    submit(other)
    mine = page.locator('form[action$="/veld/dilemma/"]')
    mine.locator("textarea").fill("Mijn eigen verwoording.")
    response = submit(mine)
    assert response is not None and response.status == 409
    scan("an edit conflict (409)", page)

    page.goto(scene.demo)
    draft = page.locator("button[formaction$='/samenvatting/concept/']")
    submit(page.locator('form[action$="/veld/summary/"]'), draft)
    scan("a draft summary", page)


def owner_and_participant_pages(scene: Scene, scan: Scanner) -> None:
    owner = scene.owner
    owner.goto(f"{scene.demo}voorbereiding/")
    use_language(owner, scan.language)
    scan("preparation with the Woo reference, as the owner", owner)
    # An answer longer than allowed (the browser's maxlength taken away): 422, text kept.
    facts = owner.locator("#prep-facts")
    facts.evaluate("box => box.removeAttribute('maxlength')")
    facts.fill("Te lang. " * 2000)
    response = submit(owner.locator("form.dg-preparation"))
    assert response is not None and response.status == 422
    expect(owner.locator("#prep-facts-error")).to_be_visible()
    scan("preparation with a mistake (422)", owner)
    owner.goto(f"{scene.demo}voorbereiding/")
    submit(owner.locator("form.dg-preparation"))
    scan("preparation saved", owner)
    owner.goto(scene.demo)
    scan("filled worksheet, as the owner", owner)

    page = scene.participant
    page.goto(scene.demo)
    use_language(page, scan.language)
    scan("filled worksheet, as a participant", page)
    page.goto(f"{scene.demo}leden/")
    scan("not allowed (403)", page)

    page.set_viewport_size(PHONE)
    page.goto(scene.demo)
    for number in (3, 2):
        page.locator(f"#steps-nav a[href='#step-{number}']").click()
        expect(page.locator(f"#step-{number}")).to_be_visible()
        scan(f"phone, step {number}", page)

    # The narrowest screen WCAG asks for (1.4.10): 320 CSS pixels, or 1280 at 400 % zoom.
    for who, path in (
        (page, scene.demo),
        (scene.lead, scene.demo),
        (owner, f"{scene.demo}voorbereiding/"),
        (scene.newcomer, "/doe-mee/"),
    ):
        who.set_viewport_size(NARROW)
        who.goto(path)
        scan(f"320 px wide: {path}", who)
        who.set_viewport_size(DESKTOP)


# --- what a screen reader hears by itself: live regions ---------------------------------------

# Records every change of text in a live region (aria-live, role=status/alert/log), with the
# page's own clock. A region that arrives with text already in it (a patched step) is not a
# change: screen readers do not read it out either.
LISTEN = """() => {
  window.dgSaid = [];
  const live = "[aria-live]:not([aria-live=off]), [role=status], [role=alert], [role=log]";
  const heard = new WeakMap();
  const flat = (el) => el.textContent.replace(/\\s+/g, " ").trim();
  const listen = () => {
    document.querySelectorAll(live).forEach((el) => {
      const text = flat(el);
      if (!heard.has(el)) {
        heard.set(el, text);
      } else if (heard.get(el) !== text) {
        heard.set(el, text);
        if (text) {
          const kind = el.hasAttribute("data-dg-announce") ? "others"
            : el.hasAttribute("data-dg-timer-announce") ? "timer" : "other";
          window.dgSaid.push({ at: Date.now(), kind: kind, text: text });
        }
      }
    });
  };
  listen();
  new MutationObserver(listen).observe(document.body,
    { childList: true, characterData: true, subtree: true, attributes: true });
}"""


def wait_until(page: Page, predicate: str, arg: object = None, seconds: float = 10) -> None:
    """Poll a predicate from here: Playwright's wait_for_function evaluates its string with
    eval(), which the page's Content-Security-Policy rightly forbids."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(predicate, arg):
        assert time.monotonic() < deadline, f"never true: {predicate}"
        time.sleep(0.1)


def said(page: Page, kind: str) -> list[dict]:
    return [item for item in page.evaluate("window.dgSaid") if item["kind"] == kind]


def test_changes_by_others_are_announced_calmly_and_never_with_their_text(
    scene: Scene, browser: Browser, live_app
) -> None:
    """Two browsers: the facilitator changes steps 1 and 3 while a participant is typing. The
    participant's screen reader hears which steps changed, at most once every ten seconds,
    never a text (neither theirs nor the one being typed); the facilitator hears nothing of
    their own changes."""
    context = new_context(browser, live_app)
    context.clock.install()  # the page's clock runs on, and can be moved forward at will
    try:
        page = context.new_page()
        page.goto(demo(live_app).participant_links[1])
        use_language(page, "nl")
        wait_connected(page)
        page.evaluate(LISTEN)
        typing = "Mijn halve zin die nog niemand mag horen"
        box = page.locator("#field-conclusion-text")
        box.click()
        box.press("Control+A")
        box.press_sequentially(typing)

        lead = scene.lead
        lead.goto(scene.demo)
        wait_connected(lead)
        lead.evaluate(LISTEN)
        urgency = lead.locator('form[action$="/veld/urgency/"]')
        lead_texts = [f"Nieuwe urgentie {n}, door de gespreksleider" for n in (1, 2)]
        urgency.locator("textarea").fill(lead_texts[0])
        submit(urgency)
        card = "Een kaart van de gespreksleider"
        new_card = lead.locator("#field-options form.dg-card-form").first
        new_card.locator("textarea").fill(card)
        submit(new_card)
        expect(page.locator("#field-urgency-text")).to_have_value(lead_texts[0])
        expect(page.locator("#field-options .dg-card__text", has_text=card)).to_have_count(1)
        wait_until(page, "() => window.dgSaid.some(item => item.kind === 'others')")

        # A third change right after the announcement waits for the next ten-second slot.
        first = said(page, "others")[-1]
        urgency = lead.locator('form[action$="/veld/urgency/"]')
        urgency.locator("textarea").fill(lead_texts[1])
        submit(urgency)
        expect(page.locator("#field-urgency-text")).to_have_value(lead_texts[1])
        quiet = first["at"] + 10_000 - page.evaluate("Date.now()") - 1_000
        if quiet > 0:
            page.clock.run_for(quiet)
            assert said(page, "others")[-1] == first, said(page, "others")
        page.clock.run_for(3_000)
        wait_until(
            page,
            "(at) => window.dgSaid.some(item => item.kind === 'others' && item.at > at)",
            first["at"],
        )

        announcements = said(page, "others")
        gaps = [b["at"] - a["at"] for a, b in zip(announcements, announcements[1:], strict=False)]
        assert all(gap >= 9_900 for gap in gaps), announcements  # ms of timer jitter
        # Only the frame and the names of the steps: nothing anyone wrote.
        box_labels = page.locator("[data-dg-announce]")
        changed = box_labels.get_attribute("data-label-changed") or ""
        steps = page.locator("#worksheet > .dg-step").evaluate_all(
            "all => all.map(s => s.getAttribute('data-dg-name'))"
        )
        names = "|".join(re.escape(step) for step in steps)
        frame = re.escape(changed).replace(re.escape("%s"), rf"(?:{names})(?:, (?:{names}))*")
        for item in announcements:
            assert re.fullmatch(frame, item["text"]), item
            for text in (typing, card, *lead_texts):
                assert text not in item["text"]
        heard = ", ".join(item["text"] for item in announcements)
        assert "1. Kennismaken" in heard and "3. Afwegen" in heard, heard
        # The participant's unsaved text and place survived every update.
        expect(box).to_have_value(typing)
        expect(box).to_be_focused()
        # Nobody is told about their own changes.
        assert said(lead, "others") == []
    finally:
        context.close()


def test_the_step_timer_speaks_only_in_its_last_minute(
    scene: Scene, browser: Browser, live_app
) -> None:
    context = new_context(browser, live_app)
    context.clock.install()
    lead = scene.lead
    try:
        lead.goto(scene.demo)
        start = lead.locator("form[action$='/klok/'] button[value=start]")
        if start.count():
            submit(lead.locator("form[action$='/klok/']:has(button[value=start])"))
        page = context.new_page()
        page.goto(demo(live_app).participant_links[2])
        use_language(page, "nl")
        wait_connected(page)
        timer = page.locator("#worksheet [data-dg-timer]")
        expect(timer).to_have_attribute("data-running", "1")
        # The ticking clock is a timer: a live region that is silent (aria-live "off").
        clock = timer.locator("[data-dg-clock]")
        expect(clock).to_have_attribute("role", "timer")
        assert clock.get_attribute("aria-live") in (None, "off")
        page.evaluate(LISTEN)
        announce = timer.locator("[data-dg-timer-announce]")
        minute = announce.get_attribute("data-label-minute")
        up = announce.get_attribute("data-label-up")
        remaining = int(timer.get_attribute("data-remaining") or "0")
        assert remaining > 120, remaining

        page.clock.run_for(5_000)  # the clock ticks, nobody hears it
        assert said(page, "timer") == []
        page.clock.fast_forward((remaining - 90) * 1000)
        page.clock.run_for(2_000)
        minutes, seconds = (clock.inner_text()).split(":")
        left = int(minutes) * 60 + int(seconds)
        assert 60 < left <= 90, left
        assert said(page, "timer") == []
        page.clock.run_for((left - 55) * 1000)  # into the last minute
        assert [item["text"] for item in said(page, "timer")] == [minute]
        page.clock.run_for(70_000)  # past the end, and on
        assert [item["text"] for item in said(page, "timer")] == [minute, up]
        # Not by colour alone: the state says it in words.
        expect(timer.locator("[data-dg-timer-state]")).to_have_text(
            timer.locator("[data-dg-timer-state]").get_attribute("data-label-over") or "?"
        )
        assert said(page, "other") == [], said(page, "other")
    finally:
        context.close()
        pause = lead.locator("form[action$='/klok/'] button[value=pause]")
        lead.goto(scene.demo)
        if pause.count():
            submit(lead.locator("form[action$='/klok/']:has(button[value=pause])"))


# --- the URLs that are not pages -------------------------------------------------------------


def test_post_only_urls_refuse_get_and_the_rest_is_not_html(scene: Scene) -> None:
    demo_id = scene.demo.strip("/").split("/")[-1]
    ids = {
        "conversation_id": demo_id,
        "member_id": "onbekend",
        "column_id": "onbekend",
        "card_id": "onbekend",
        "step_id": "onbekend",
        "key": "dilemma",
        "matrix": "options",
        "user_id": "999999",
    }
    for name in sorted(POST_ONLY):
        pattern = _pattern(name)
        url = "/" + re.sub(r"<(?:str|int):(\w+)>", lambda m: ids[m.group(1)], pattern)
        # The administrator's URLs turn everybody else away before they look at the method.
        who = scene.admin if name.startswith("admin_") else scene.lead
        response = who.request.get(url, max_redirects=0)
        assert response.status == 405, (name, url, response.status)

    fresh_id = scene.fresh.strip("/").split("/")[-1]
    urls = {
        "join_qr": f"/g/{fresh_id}/code/qr.svg",
        "report": f"{scene.demo}verslag/md/",
    }
    for name, content_type in NOT_HTML.items():
        url = urls.get(name) or "/" + _pattern(name)
        page = scene.facilitator if name == "join_qr" else scene.lead
        response = page.request.get(url)
        if name == "metrics" and response.status == 404:
            continue  # closed to the browser: a METRICS_TOKEN is set for this server
        assert response.ok, (name, response.status)
        assert response.headers["content-type"].startswith(content_type), (name, url)
    home = scene.newcomer.request.get("/", max_redirects=0)
    assert home.status == 302


def _pattern(name: str) -> str:
    """The route of a named URL, e.g. "g/<str:conversation_id>/stap/"."""

    def walk(patterns: list, prefix: str) -> str | None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                found = walk(pattern.url_patterns, prefix + str(pattern.pattern))
                if found:
                    return found
            elif pattern.name == name:
                return prefix + str(pattern.pattern)
        return None

    found = walk(get_resolver().url_patterns, "")
    assert found, name
    return found
