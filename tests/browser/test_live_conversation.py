"""Four people, four browsers, one conversation: joining by code, following the facilitator,
editing live, presence, and going offline without losing text."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

TIMEOUT = 10_000


def new_page(browser: Browser) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT)
    return context, context.new_page()


def log_in(page: Page, live_app) -> None:
    page.goto(f"{live_app.url}/inloggen/")
    page.fill("#id_username", live_app.username)
    page.fill("#id_password", live_app.password)
    page.locator("form.dg-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/gesprekken/"))


def start_conversation(page: Page, live_app, title: str) -> str:
    """Log in, create a conversation and set it running; the page is left on its worksheet,
    whose URL is returned."""
    log_in(page, live_app)
    page.goto(f"{live_app.url}/gesprekken/nieuw/")
    page.fill("#id_title", title)
    page.locator("form.dg-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/leden/$"))
    worksheet_url = page.url.removesuffix("leden/")
    page.goto(worksheet_url)
    page.locator("form[action$='/status/'] button[value=gepland]").click()
    page.locator("form[action$='/status/'] button[value=lopend]").click()
    return worksheet_url


def wait_connected(page: Page) -> None:
    expect(page.locator("[data-dg-live-status]")).to_have_attribute("data-state", "online")


def heads_as_shown(page: Page) -> dict:
    """The step marks, as a screen reader and the eye get them, and the timer of steps 2 and 3."""
    return page.evaluate(
        """() => {
          const nav = document.getElementById("steps-nav");
          const head = (n) => {
            const h = document.getElementById(`step-${n}-head`);
            const timer = h.querySelector("[data-dg-timer]");
            return {
              badge: h.querySelector(".dg-badge--current")?.textContent.trim() ?? null,
              timer: timer && {
                remaining: timer.getAttribute("data-remaining"),
                running: timer.getAttribute("data-running"),
                text: timer.innerText.replace(/\\s+/g, " ").trim(),
                over: timer.classList.contains("dg-timer--over"),
              },
            };
          };
          return {
            current: nav.getAttribute("data-current-step"),
            items: [...nav.querySelectorAll("li")].map((li) => [
              li.className, li.querySelector("a").getAttribute("aria-current"),
              li.innerText.replace(/\\s+/g, " ").trim(),
            ]),
            step2: head(2),
            step3: head(3),
          };
        }"""
    )


@pytest.mark.browser
def test_four_people_hold_a_live_conversation(browser: Browser, live_app) -> None:
    facilitator_context, facilitator = new_page(browser)
    log_in(facilitator, live_app)
    facilitator.goto(f"{live_app.url}/gesprekken/nieuw/")
    facilitator.fill("#id_title", "Live met vier")
    facilitator.locator("form.dg-form button[type=submit]").click()
    facilitator.wait_for_url(re.compile(r"/leden/$"))
    members_url = facilitator.url
    worksheet_url = members_url.removesuffix("leden/")

    # The owner gets a personal link; the two participants join with the code.
    facilitator.fill("#id_display_name", "Olga Eigenaar")
    facilitator.select_option("#id_role", "dilemma-eigenaar")
    facilitator.locator("form.dg-form button[type=submit]").click()
    owner_link = facilitator.locator("input[data-dg-copy]").first.input_value()
    facilitator.goto(worksheet_url)
    facilitator.locator("form[action$='/status/'] button[value=gepland]").click()
    facilitator.locator("form[action$='/status/'] button[value=lopend]").click()
    facilitator.goto(members_url)
    facilitator.locator("form[action$='/code/'] button").click()
    code = facilitator.locator(".dg-join-code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code)

    owner_context, owner = new_page(browser)
    owner.goto(owner_link)
    owner.goto(worksheet_url)

    participants = []
    for name in ("Piet Deelnemer", "Paula Deelnemer"):
        context, page = new_page(browser)
        page.goto(f"{live_app.url}/doe-mee/")
        page.fill("#code", code.lower())
        page.locator("form.dg-form button[type=submit]").click()
        page.fill("#display_name", name)
        page.locator("form.dg-form button[type=submit]").click()
        page.wait_for_url(re.compile(r"/doe-mee/wachten/"))
        participants.append((name, context, page))

    # The facilitator lets both in; their waiting pages continue by themselves.
    facilitator.reload()
    for name, _context, _page in participants:
        facilitator.locator(f".dg-lobby-item:has-text('{name}') form[action$='/toelaten/'] button")\
            .click()
    for _name, _context, page in participants:
        page.wait_for_url(worksheet_url, timeout=15_000)

    facilitator.goto(worksheet_url)
    everyone = [facilitator, owner] + [page for _n, _c, page in participants]
    for page in everyone:
        wait_connected(page)
    # Presence: the facilitator sees all four.
    presence = facilitator.locator("[data-dg-presence]")
    for name in ("Olga Eigenaar", "Piet Deelnemer", "Paula Deelnemer"):
        expect(presence).to_contain_text(name)

    # The facilitator opens step 2; every screen follows.
    facilitator.locator("#step-2 form[action$='/stap/'] button").click()
    for page in everyone:
        expect(page.locator("#steps-nav")).to_have_attribute("data-current-step", "2")

    # A live edit appears on every other screen, while someone else keeps typing.
    piet = participants[0][2]
    paula = participants[1][2]
    # What Paula's page fetches to bring itself up to date (live.js marks those requests).
    refreshes: list[str] = []
    paula.on(
        "request",
        lambda request: refreshes.append(request.url) if request.headers.get("x-dg-live") else None,
    )
    paula.locator("#field-shared_question-text").fill("Nog niet klaar met typen")
    paula.locator("#field-shared_question-text").focus()
    piet.locator("#field-urgency-text").fill("Omdat de brief volgende week uitgaat")
    piet.locator("#field-urgency button[type=submit]").click()
    for page in (facilitator, owner, paula):
        expect(page.locator("#field-urgency-text")).to_have_value(
            "Omdat de brief volgende week uitgaat"
        )
    # Paula's unsaved text and cursor survived the update.
    expect(paula.locator("#field-shared_question-text")).to_have_value("Nog niet klaar met typen")
    assert paula.evaluate("document.activeElement.id") == "field-shared_question-text"
    # A saved text comes in the event itself: her page fetched nothing for it.
    assert refreshes == [], refreshes

    # A card added in the step Paula is typing in: that step is replaced around her form.
    card_form = piet.locator("#step-2 form.dg-card-form").first
    card_form.locator("textarea").fill("Wil de brief op tijd versturen")
    card_form.locator("button[type=submit]").click()
    expect(paula.locator("#step-2 .dg-card__text")).to_contain_text(
        ["Wil de brief op tijd versturen"]
    )
    expect(paula.locator("#field-shared_question-text")).to_have_value("Nog niet klaar met typen")
    assert paula.evaluate("document.activeElement.id") == "field-shared_question-text"
    # A new card needs the server's rendering, but only of the step it is in.
    assert refreshes and all("?regions=step-2" in url for url in refreshes), refreshes

    # The facilitator puts the card in the spotlight; Piet rewords it. The new wording comes
    # in the event itself, on the card and in the spotlight, without a fetch.
    fac_card = facilitator.locator("#step-2 .dg-card", has_text="Wil de brief op tijd versturen")
    fac_card.locator("form input[name=command][value=spotlight] ~ button").click()
    expect(paula.locator("#spotlight .dg-spotlight__text")).to_have_text(
        "Wil de brief op tijd versturen"
    )
    fetched_before = len(refreshes)
    piet_posts: list[str] = []
    piet.on("request", lambda r: piet_posts.append(r.url) if r.method == "POST" else None)
    piet_card = piet.locator("#step-2 .dg-card", has_text="Wil de brief op tijd versturen")
    piet_card = piet.locator(f"#{piet_card.get_attribute('id')}")  # the same card, reworded
    piet_card.locator("summary").click()
    piet_card.locator("textarea[name=text]").fill("Wil de brief echt op tijd versturen")
    piet_card.locator("details form button[type=submit]").click()
    # Piet's own card shows the new wording; it went over his socket, not as a post.
    expect(piet_card.locator(".dg-card__text")).to_have_text("Wil de brief echt op tijd versturen")
    expect(paula.locator("#step-2 .dg-card__text")).to_contain_text(
        ["Wil de brief echt op tijd versturen"]
    )
    expect(paula.locator("#spotlight .dg-spotlight__text")).to_have_text(
        "Wil de brief echt op tijd versturen"
    )
    assert len(refreshes) == fetched_before, refreshes[fetched_before:]
    assert piet_posts == [], piet_posts
    expect(paula.locator("#field-shared_question-text")).to_have_value("Nog niet klaar met typen")

    # The facilitator moves on to step 3: Paula's page follows without a request (the marks
    # and the timer move from the event); the facilitator's page takes the heads with their
    # step buttons from its post's answer, and fetches nothing after the event either (until
    # the extra minutes below). Paula's text stays.
    facilitator_fetches: list[str] = []
    facilitator.on(
        "request",
        lambda r: facilitator_fetches.append(r.url) if r.headers.get("x-dg-live") else None,
    )
    # The facilitator is writing a note they have not saved yet while they lead: opening a
    # step and working the timer must not throw it away (the page is not reloaded).
    note = "Aantekening, nog niet bewaard"
    facilitator.locator("#field-urgency-text").fill(note)
    fetched_before = len(refreshes)
    facilitator.locator("#step-3 form[action$='/stap/'] button").click()
    expect(paula.locator("#steps-nav")).to_have_attribute("data-current-step", "3")
    expect(paula.locator("#step-3")).to_have_class(re.compile(r"\bdg-step--current\b"))
    expect(paula.locator("#step-2")).not_to_have_class(re.compile(r"\bdg-step--current\b"))
    expect(paula.locator("#step-3 .dg-badge--current")).to_have_count(1)
    expect(paula.locator("#step-2 .dg-badge--current")).to_have_count(0)
    expect(paula.locator("#step-3 [data-dg-timer]")).to_have_count(1)
    expect(paula.locator("#step-2 [data-dg-timer]")).to_have_count(0)
    expect(facilitator.locator("#step-2 form[action$='/stap/']")).to_have_count(1)
    expect(facilitator.locator("#step-3 form[action$='/stap/']")).to_have_count(0)
    assert refreshes[fetched_before:] == [], refreshes[fetched_before:]
    expect(paula.locator("#field-shared_question-text")).to_have_value("Nog niet klaar met typen")
    # What the event made of the navigation and the two heads is what the server renders.
    moved = heads_as_shown(paula)
    paula.locator("#field-shared_question-text").fill("")  # nothing left to keep: reload
    paula.reload()
    wait_connected(paula)
    assert heads_as_shown(paula) == moved

    # The facilitator starts the step's timer and pauses it: Paula's clock follows from the
    # events, without a request, and shows what the server renders after a reload.
    fetched_before = len(refreshes)
    timer_form = "form[action$='/klok/']"
    paula_timer = paula.locator("#step-3 [data-dg-timer]")
    expect(paula_timer).to_have_attribute("data-running", "0")
    facilitator.locator(f"{timer_form} button[value=start]").click()
    expect(paula_timer).to_have_attribute("data-running", "1")
    expect(paula_timer.locator("[data-dg-timer-state]")).to_have_text("")
    facilitator.locator(f"{timer_form} button[value=pause]").click()
    expect(paula_timer).to_have_attribute("data-running", "0")
    expect(paula_timer.locator("[data-dg-timer-state]")).to_have_text("gepauzeerd")
    assert refreshes[fetched_before:] == [], refreshes[fetched_before:]
    expect(facilitator.locator(f"{timer_form} button[value=start]")).to_have_count(1)
    assert facilitator_fetches == [], facilitator_fetches
    paused = heads_as_shown(paula)
    paula.reload()
    wait_connected(paula)
    assert heads_as_shown(paula) == paused
    # Extra minutes change the "of N minutes" the server words: that head is fetched.
    planned = int(paula_timer.get_attribute("data-planned-total") or "0")
    facilitator.locator(f"{timer_form} button[value=extend-5]").click()
    expect(paula_timer).to_have_attribute("data-planned-total", str(planned + 300))
    expect(paula_timer.locator(".dg-timer__of")).to_contain_text(str(planned // 60 + 5))
    assert refreshes[-1].endswith("?regions=step-3-head"), refreshes[fetched_before:]
    expect(facilitator.locator(f"{timer_form} button[value=start]")).to_have_count(1)
    expect(facilitator.locator("#field-urgency-text")).to_have_value(note)

    # Offline: the owner saves while disconnected; nothing is lost, it arrives once back.
    owner_context.set_offline(True)
    owner.locator("#field-needs-text").fill("Steun van de directeur")
    owner.locator("#field-needs button[type=submit]").click()
    expect(owner.locator("[data-dg-live-status]")).to_have_attribute("data-state", "offline")
    expect(owner.locator("#field-needs-text")).to_have_value("Steun van de directeur")
    owner_context.set_offline(False)
    expect(owner.locator("[data-dg-live-status]")).to_have_attribute(
        "data-state", re.compile("saved|online"), timeout=15_000
    )
    expect(facilitator.locator("#field-needs-text")).to_have_value(
        "Steun van de directeur", timeout=15_000
    )
    # Exactly once: the field's version went from 0 to 1.
    assert facilitator.locator("#field-needs input[name=version]").input_value() == "1"

    for context in [facilitator_context, owner_context] + [c for _n, c, _p in participants]:
        context.close()


@pytest.mark.browser
def test_the_projector_shows_a_saved_text_from_the_event_itself(browser: Browser, live_app) -> None:
    context, facilitator = new_page(browser)
    worksheet_url = start_conversation(facilitator, live_app, "Op het grote scherm")

    projector = context.new_page()
    projector.goto(f"{worksheet_url}scherm/")
    wait_connected(projector)
    fetched: list[str] = []
    projector.on(
        "request",
        lambda request: fetched.append(request.url) if request.headers.get("x-dg-live") else None,
    )
    wait_connected(facilitator)
    facilitator.locator("#field-urgency-text").fill("De brief gaat\nvolgende week uit")
    facilitator.locator("#field-urgency form.dg-field__form button[type=submit]").click()
    # Read-only text, line break kept, put in place without asking the server again.
    shown = projector.locator("#field-urgency .dg-field__text")
    expect(shown).to_have_text("De brief gaatvolgende week uit")
    assert shown.evaluate("node => node.querySelectorAll('br').length") == 1
    assert fetched == [], fetched

    # The facilitator's own answer is in before the next edit (it replaces the form).
    expect(facilitator.locator("#field-urgency input[name=version]")).to_have_value("1")
    facilitator.locator("#field-urgency-text").fill("")
    facilitator.locator("#field-urgency form.dg-field__form button[type=submit]").click()
    expect(shown.locator(".dg-muted")).to_have_text("Nog niet ingevuld.")
    context.close()


@pytest.mark.browser
def test_a_step_opened_whose_answer_was_lost_still_shows(browser: Browser, live_app) -> None:
    """The server applied the step change but its answer never reached the page: the event
    that came meanwhile makes the page fetch the heads after all."""
    context, facilitator = new_page(browser)
    start_conversation(facilitator, live_app, "Antwoord kwijt")
    wait_connected(facilitator)

    def applied_but_lost(route) -> None:
        route.fetch()  # the server handles the post…
        route.abort()  # …and the page gets no answer

    facilitator.route("**/stap/", applied_but_lost)
    facilitator.locator("#step-2 form[action$='/stap/'] button").click()

    expect(facilitator.locator("#steps-nav")).to_have_attribute("data-current-step", "2")
    expect(facilitator.locator("#step-2 .dg-badge--current")).to_have_count(1)
    expect(facilitator.locator("#step-2 form[action$='/stap/']")).to_have_count(0)
    context.close()


@pytest.mark.browser
def test_leaving_the_worksheet_with_unsaved_text_asks_first(browser: Browser, live_app) -> None:
    """A link or a status button loads another page: typed text that is not saved would be
    gone, so the browser asks before it leaves. Saved text lets it go without a question."""
    context, page = new_page(browser)
    worksheet_url = start_conversation(page, live_app, "Niet zomaar weg")
    wait_connected(page)
    dialogs: list[str] = []

    def stay(dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()  # "stay on this page"

    page.on("dialog", stay)
    text = page.locator("#field-dilemma-text")
    text.fill("Nog niet bewaard")
    members = page.locator(".dg-subnav a[href$='/leden/']")
    members.click()
    page.wait_for_timeout(500)  # time for a navigation that must not happen
    assert dialogs == ["beforeunload"]
    assert page.url == worksheet_url
    expect(text).to_have_value("Nog niet bewaard")

    page.locator("#field-dilemma form[action$='/veld/dilemma/'] button[type=submit]").click()
    expect(page.locator("[data-dg-live-status]")).to_have_attribute("data-state", "saved")
    members.click()
    page.wait_for_url(re.compile(r"/leden/$"))
    assert dialogs == ["beforeunload"]
    context.close()
