"""A whole conversation with the keyboard only: no mouse, no clicks, no filling by script.

The facilitator prepares a conversation, invites the dilemma owner and a participant, and
leads all five steps; the owner confirms the shared question and the choice; the participant
writes in a table. Every action is a key press (Tab, Shift+Tab, Enter, Space, arrows, Escape)
or typed text. Along the way the test checks what keyboard users depend on: the skip link,
a visible focus with a contrast of at least 3:1 at every stop, a tab order that follows the
worksheet, no keyboard trap, every table cell reachable and editable, and focus that comes
back after a dialog or a save.

Locators only say *which* element the keyboard should reach; `tab_to` then presses Tab until
that element has the focus, and fails when it never gets there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser.support import answered, create_account, new_context

TITLE = "Met alleen het toetsenbord"
SHARED_QUESTION = "Durven we het concept te delen voordat iemand erom vraagt?"


# --- keyboard helpers --------------------------------------------------------------------------


def has_focus(locator: Locator) -> bool:
    return locator.count() == 1 and locator.evaluate("el => el === document.activeElement")


def tab_to(page: Page, target: Locator, *, backwards: bool = False, limit: int = 800) -> int:
    """Press Tab until `target` has the focus; return the number of presses."""
    key = "Shift+Tab" if backwards else "Tab"
    for presses in range(limit):
        if has_focus(target):
            assert_focus_visible(page)
            return presses
        page.keyboard.press(key)
    raise AssertionError(f"{target} never got the keyboard focus in {limit} presses of {key}")


def press(page: Page, target: Locator, key: str = "Enter") -> None:
    tab_to(page, target)
    page.keyboard.press(key)


def open_step_for_everyone(page: Page, number: int) -> None:
    """The facilitator opens a step with the keyboard. The page is not reloaded: the focus
    goes to the head of the step just opened, whose button is gone, not to the page's top."""
    tab_to(page, page.locator(f'#step-{number} form[action$="/stap/"] button'))
    page.keyboard.press("Enter")
    expect(page.locator("#steps-nav")).to_have_attribute("data-current-step", str(number))
    expect(page.locator(f"#step-{number}-head")).to_be_focused()


def type_into(page: Page, target: Locator, text: str) -> None:
    tab_to(page, target)
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(text)


# The focus ring and its contrast (WCAG 1.4.11: 3:1 against what surrounds it). Our ring is
# two rings: a yellow outline and a dark shadow inside it; one of them must stand out from the
# background the element sits on (the first opaque background of its ancestors).
FOCUS_STATE = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const parse = (text) => {
    const match = /rgba?\\(([^)]+)\\)/.exec(text || "");
    if (!match) return null;
    const [r, g, b, a] = match[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r, g, b, a: a === undefined ? 1 : a };
  };
  const luminance = ({ r, g, b }) => {
    const f = (v) => (v /= 255) <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const contrast = (x, y) => {
    const [light, dark] = [luminance(x), luminance(y)].sort((p, q) => q - p);
    return (light + 0.05) / (dark + 0.05);
  };
  let background = { r: 255, g: 255, b: 255, a: 1 };
  for (let node = el.parentElement; node; node = node.parentElement) {
    const colour = parse(getComputedStyle(node).backgroundColor);
    if (colour && colour.a >= 0.9) { background = colour; break; }
  }
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  const rings = [];
  if (outline) rings.push(parse(style.outlineColor));
  for (const match of style.boxShadow.matchAll(/rgba?\\([^)]+\\)/g)) rings.push(parse(match[0]));
  return {
    outline: outline,
    shadow: style.boxShadow !== "none",
    size: box.width > 0 && box.height > 0,
    contrast: Math.max(0, ...rings.filter(Boolean).map((ring) => contrast(ring, background))),
    html: el.outerHTML.slice(0, 120),
  };
}"""


def assert_focus_visible(page: Page) -> None:
    """The focused element shows a focus ring (outline or shadow) that takes up space and
    has a contrast of at least 3:1 with the background around it."""
    if page.evaluate("document.activeElement === document.body"):
        return
    state = page.evaluate(FOCUS_STATE)
    assert (state["outline"] or state["shadow"]) and state["size"], state
    assert state["contrast"] >= 3, state


def focus_trail(page: Page, limit: int = 1500) -> list[dict]:
    """Tab from the top of the page until the focus comes round again; every stop on the way.

    Fails on a keyboard trap: a Tab that does not move the focus, or a round that never ends.
    """
    page.evaluate("window.scrollTo(0, 0); document.activeElement.blur()")
    trail: list[dict] = []
    describe = """() => {
      const el = document.activeElement;
      const step = el.closest("section.dg-step");
      return {
        key: el.id || el.outerHTML.slice(0, 200),
        tag: el.tagName,
        id: el.id,
        step: step ? Number(step.id.replace("step-", "")) : null,
        body: el === document.body,
      };
    }"""
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(describe)
        if trail and stop["key"] == trail[0]["key"]:
            return trail
        if stop["body"]:
            # Past the last element the browser leaves the page; the next Tab starts over.
            if trail:
                return trail
            continue
        assert not trail or stop["key"] != trail[-1]["key"], f"keyboard trap at {stop}"
        assert_focus_visible(page)
        trail.append(stop)
    raise AssertionError(f"the focus never came round in {limit} presses: {trail[-3:]}")


def choose(page: Page, select: Locator, value: str) -> None:
    """Pick an option of a <select> with the arrow keys."""
    tab_to(page, select)
    page.keyboard.press("Home")
    for _ in range(12):
        if select.input_value() == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{value!r} is not reachable with the arrow keys in {select}")


def save(page: Page, form: Locator) -> None:
    """Press the form's own submit button and wait until the answer is on the page."""
    button = form.locator("button[type=submit]:not([formaction])").first
    tab_to(page, button)
    with answered(form):
        page.keyboard.press("Enter")


def new_card(page: Page, field: str, column: int, row: str, text: str) -> None:
    """Reach the new-card box of one table cell, type a card, add it with Enter on "Add"."""
    form = page.locator(f"#field-{field} form.dg-card-form:has(input[name=row][value={row}])")
    form = form.nth(column)
    type_into(page, form.locator("textarea"), text)
    save(page, form)
    expect(page.locator(f"#field-{field} .dg-card__text", has_text=text)).to_have_count(1)


# --- the people ----------------------------------------------------------------------------


@pytest.fixture
def people(browser: Browser, live_app) -> Iterator[dict[str, Page]]:
    expect.set_options(timeout=10_000)
    contexts: list[BrowserContext] = []

    def page() -> Page:
        context = new_context(browser, live_app)
        contexts.append(context)
        return context.new_page()

    yield {
        "facilitator": page(),
        "owner": page(),
        "participant": page(),
        "password": create_account(live_app, "toetsenbord"),  # type: ignore[dict-item]
    }
    for context in contexts:
        context.close()


def test_a_whole_conversation_with_the_keyboard_only(people) -> None:
    fac = people["facilitator"]

    # Log in: the username box has the focus as the page opens.
    fac.goto("/inloggen/")
    expect(fac.locator("#id_username")).to_be_focused()
    fac.keyboard.type("toetsenbord")
    fac.keyboard.press("Tab")
    expect(fac.locator("#id_password")).to_be_focused()
    fac.keyboard.type(people["password"])
    with fac.expect_navigation():
        fac.keyboard.press("Enter")

    # The skip link is the first stop, is visible when it has the focus, and skips the header.
    expect(fac).to_have_url(re.compile(r"/gesprekken/$"))
    fac.keyboard.press("Tab")
    skip = fac.locator("a.dg-skip-link")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0 and box["width"] > 20, box
    assert_focus_visible(fac)
    fac.keyboard.press("Enter")
    expect(fac.locator("#main")).to_be_focused()
    fac.keyboard.press("Tab")
    new = fac.locator("a[href='/gesprekken/nieuw/']")
    expect(new).to_be_focused()
    with fac.expect_navigation():
        fac.keyboard.press("Enter")

    # Prepare the conversation and invite two people.
    type_into(fac, fac.locator("#id_title"), TITLE)
    with fac.expect_navigation():
        fac.keyboard.press("Enter")
    expect(fac).to_have_url(re.compile(r"/g/[^/]+/leden/$"))
    match = re.search(r"(/g/[^/]+/)leden/$", fac.url)
    assert match, fac.url
    worksheet = match.group(1)
    links = {}
    for name, role in (("Olga Eigenaar", "dilemma-eigenaar"), ("Piet Deelnemer", "deelnemer")):
        type_into(fac, fac.locator("#id_display_name"), name)
        choose(fac, fac.locator("#id_role"), role)
        save(fac, fac.locator("form:has(#id_display_name)"))
        row = fac.locator(f'tr:has(input[name=display_name][value="{name}"])')
        links[role] = row.locator("input[data-dg-copy]").input_value()

    # The confirmation before removing someone is a dialog; Escape closes it and the focus
    # goes back to the link that opened it.
    remove = fac.locator("a[data-dg-confirm]").first
    press(fac, remove)
    dialog = fac.locator("dialog[open]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-dg-cancel]")).to_be_focused()
    fac.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(remove).to_be_focused()

    # To the worksheet by the conversation's own navigation; plan and start.
    press(fac, fac.locator(f".dg-subnav a[href='{worksheet}']"))
    expect(fac).to_have_url(re.compile(rf"{worksheet}$"))
    for status in ("gepland", "lopend"):
        button = fac.locator(f"button[name=status][value={status}]")
        tab_to(fac, button)
        with fac.expect_navigation():
            fac.keyboard.press("Enter")
        expect(fac.locator(f"button[name=status][value={status}]")).to_have_count(0)

    owner, part = people["owner"], people["participant"]
    owner.goto(links["dilemma-eigenaar"])
    owner.goto(worksheet)
    part.goto(links["deelnemer"])
    expect(part).to_have_url(re.compile(rf"{worksheet}$"))

    # The tab order follows the worksheet: step by step, each matrix row by row, every table
    # cell on the way, and round again without a trap.
    trail = focus_trail(fac)
    steps = [stop["step"] for stop in trail if stop["step"] is not None]
    assert steps == sorted(steps), steps
    boxes = [stop["id"] for stop in trail if stop["tag"] == "TEXTAREA"]
    in_page_order = fac.locator("#worksheet textarea").evaluate_all(
        "all => all.filter(t => t.offsetParent !== null).map(t => t.id)"
    )
    assert boxes == in_page_order
    assert len([b for b in boxes if b.startswith("card-new-")]) == 3 * 3 + 2 * 2

    # Step 1: write, save with Enter on "Save"; the focus stays on the button.
    dilemma = fac.locator("#field-dilemma-text")
    type_into(fac, dilemma, "Delen we het concept van de nota nu al met de gemeenten?")
    save(fac, fac.locator('form[action$="/veld/dilemma/"]'))
    expect(dilemma).to_have_value("Delen we het concept van de nota nu al met de gemeenten?")
    expect(fac.locator('form[action$="/veld/dilemma/"] button[type=submit]').first).to_be_focused()

    # Step 2, opened for everyone: a card in a cell of every row, by two people.
    open_step_for_everyone(fac, 2)
    new_card(fac, "players", 0, "standpunten", "De minister wil eerst de Kamer informeren.")
    new_card(fac, "players", 1, "belangen", "Gemeenten willen niet verrast worden.")
    part.reload()
    new_card(part, "players", 2, "rechten", "Indieners hebben recht op een besluit.")

    # Change a card: open "Edit" with Enter, change the text, save.
    fac.reload()
    card = fac.locator("#field-players .dg-card", has_text="Gemeenten willen").first
    press(fac, card.locator("summary"))
    type_into(fac, card.locator("textarea"), "Gemeenten willen vooraf horen wat er komt.")
    save(fac, card.locator("form[action*='/kaart/']").first)
    expect(fac.locator("#field-players .dg-card__text", has_text="vooraf horen")).to_have_count(1)

    # A fourth player, by name, through "Manage columns".
    press(fac, fac.locator("#field-players details.dg-columns > summary"))
    type_into(fac, fac.locator("#field-players form[action$='/kolom/'] input[name=name]"), "Pers")
    with fac.expect_response(lambda r: r.request.method == "POST"):
        fac.keyboard.press("Enter")
    expect(fac.locator("#field-players thead th[scope=col]")).to_have_count(4)

    # The shared question, with live hints while typing.
    question = fac.locator("#field-shared_question-text")
    hints = fac.locator("#field-shared_question-hints")
    type_into(fac, question, "Hoe gaan we om met de vraag van de gemeenten?")
    expect(hints.locator("[data-hint=starts_with_how]")).to_be_visible()
    type_into(fac, question, SHARED_QUESTION)
    expect(hints.locator("[data-hint=good]")).to_be_visible()
    expect(hints.locator("[data-hint=starts_with_how]")).to_be_hidden()
    save(fac, fac.locator('form[action$="/veld/shared_question/"]'))

    # The owner confirms, with the keyboard too.
    owner.reload()
    confirm = owner.locator("#field-shared_question form[action$='/bevestigen/'] button")
    tab_to(owner, confirm)
    with owner.expect_response(lambda r: r.request.method == "POST"):
        owner.keyboard.press("Enter")
    expect(owner.locator("#field-shared_question .dg-status--ok")).to_be_visible()

    # Step 3: options in both columns, the Woo reference opened and a ground tagged.
    open_step_for_everyone(fac, 3)
    new_card(fac, "options", 0, "voordelen", "Gemeenten kunnen zich voorbereiden.")
    new_card(fac, "options", 1, "nadelen", "Het concept kan uitlekken.")
    press(fac, fac.locator("#woo-afwegen > summary"))
    expect(fac.locator("#woo-afwegen .dg-woo__disclaimer")).to_be_visible()
    tags = fac.locator(".dg-woo-tags__edit").first
    press(fac, tags.locator("summary"))
    press(fac, tags.locator("input[value='5.1-2-i']"), "Space")
    expect(tags.locator("input[value='5.1-2-i']")).to_be_checked()
    save(fac, tags.locator("form"))
    expect(fac.locator(".dg-woo-tags__item").first.locator(".dg-tag")).to_have_count(1)

    # Remove a card through the dialog: Escape first (focus returns), then for real; the
    # focus lands on "Undo", and Enter puts the card back.
    card = fac.locator("#field-options .dg-card", has_text="uitlekken").first
    press(fac, card.locator("summary"))
    remove = card.locator("a[data-dg-confirm]")
    press(fac, remove)
    expect(fac.locator("dialog[open] [data-dg-cancel]")).to_be_focused()
    fac.keyboard.press("Escape")
    expect(remove).to_be_focused()
    fac.keyboard.press("Enter")
    fac.keyboard.press("Shift+Tab")
    expect(fac.locator("dialog[open] button[type=submit]")).to_be_focused()
    fac.keyboard.press("Enter")
    expect(fac.locator("#field-options .dg-card__text", has_text="uitlekken")).to_have_count(0)
    undo = fac.locator("[data-dg-undo] button")
    expect(undo).to_be_focused()
    with fac.expect_response(lambda r: r.request.method == "POST"):
        fac.keyboard.press("Enter")
    expect(fac.locator("#field-options .dg-card__text", has_text="uitlekken")).to_have_count(1)

    type_into(fac, fac.locator("#field-conclusion-text"), "Delen kan, met een duidelijke afspraak.")
    save(fac, fac.locator('form[action$="/veld/conclusion/"]'))

    # Step 4: the choice (confirmed by the owner), what is needed, and an action.
    open_step_for_everyone(fac, 4)
    type_into(fac, fac.locator("#field-choice-text"), "We delen het concept vrijdag.")
    save(fac, fac.locator('form[action$="/veld/choice/"]'))
    owner.reload()
    tab_to(owner, owner.locator("#field-choice form[action$='/bevestigen/'] button"))
    with owner.expect_response(lambda r: r.request.method == "POST"):
        owner.keyboard.press("Enter")
    expect(owner.locator("#field-choice .dg-status--ok")).to_be_visible()
    type_into(fac, fac.locator("#field-needs-text"), "Een woordvoerder die meeleest.")
    save(fac, fac.locator('form[action$="/veld/needs/"]'))
    action = fac.locator('#field-next_steps form[action$="/actie/"]')
    type_into(fac, action.locator("textarea[name=what]"), "Concept sturen aan de gemeenten")
    type_into(fac, action.locator("input[name=who]"), "Olga")
    type_into(fac, action.locator("input[name=when]"), "vrijdag")
    with fac.expect_response(lambda r: r.request.method == "POST"):
        fac.keyboard.press("Enter")
    expect(fac.locator("#field-next_steps tbody tr")).to_have_count(1)

    # Step 5: a score with the arrow keys, a remark, and the summary.
    open_step_for_everyone(fac, 5)
    evaluation = fac.locator('#field-satisfaction form[action$="/evaluatie/"]')
    tab_to(fac, evaluation.locator("input[name=score]").first)
    fac.keyboard.press("Space")
    for _ in range(3):
        fac.keyboard.press("ArrowRight")
    expect(evaluation.locator("input[name=score][value='4']")).to_be_checked()
    type_into(fac, evaluation.locator("textarea[name=remark]"), "Rustig en helder.")
    save(fac, evaluation)
    expect(fac.locator("#field-satisfaction .dg-evaluations")).to_contain_text("Rustig en helder.")
    type_into(fac, fac.locator("#field-summary-text"), "We delen het concept vrijdag.")
    save(fac, fac.locator('form[action$="/veld/summary/"]'))

    # Close the conversation; everyone reads it back.
    tab_to(fac, fac.locator("button[name=status][value=afgerond]"))
    with fac.expect_navigation():
        fac.keyboard.press("Enter")
    part.reload()
    expect(part.locator("#worksheet textarea")).to_have_count(0)
    for text in (SHARED_QUESTION, "We delen het concept vrijdag.", "Indieners hebben recht"):
        expect(part.locator("#worksheet")).to_contain_text(text)
