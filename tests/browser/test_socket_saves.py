"""Texts saved over the conversation socket: acknowledged without a page request, nothing typed
meanwhile is lost, and a conflict still shows both texts to choose from. A form that is still
posted keeps, too, what was typed into it while it was on its way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, WebSocketRoute, expect

from tests.browser.test_live_conversation import (
    log_in,
    new_page,
    start_conversation,
    wait_connected,
)

FIELD = "#field-dilemma"
SOCKET = re.compile(r"/ws/g/")


def two_screens(browser: Browser, live_app, title: str) -> tuple[list[BrowserContext], Page, Page]:
    """The facilitator's worksheet, open in two browsers, on a conversation that is running."""
    context, writer = new_page(browser)
    worksheet_url = start_conversation(writer, live_app, title)
    other_context, other = new_page(browser)
    log_in(other, live_app)
    other.goto(worksheet_url)
    wait_connected(other)
    wait_connected(writer)
    return [context, other_context], writer, other


def posts_of(page: Page) -> list[str]:
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    return posts


def save(page: Page) -> None:
    page.locator(f"{FIELD} form.dg-field__form button[type=submit]").click()


def version(page: Page):
    return page.locator(f"{FIELD} input[name=version]")


@pytest.mark.browser
def test_a_text_is_saved_over_the_socket_and_typing_on_meanwhile_is_kept(
    browser: Browser, live_app
) -> None:
    contexts, writer, other = two_screens(browser, live_app, "Opslaan over de socket")
    # Hold the server's answers to the writer's saves until the test lets them through.
    held: list[str] = []
    routes: dict[str, WebSocketRoute] = {}
    hold = {"on": True}

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        routes["page"] = ws

        def from_server(message: str | bytes) -> None:
            if hold["on"] and isinstance(message, str) and message.startswith('{"type":"saved"'):
                held.append(message)
            else:
                ws.send(message)

        server.on_message(from_server)
        ws.on_message(lambda message: server.send(message))

    writer.route_web_socket(SOCKET, route)
    writer.reload()
    wait_connected(writer)
    posts = posts_of(writer)
    box = writer.locator(f"{FIELD}-text")
    status = writer.locator("[data-dg-live-status]")

    box.fill("Delen we het concept nu al?")
    save(writer)
    # The other screen has it from the event; the writer's acknowledgement is held back.
    expect(other.locator(f"{FIELD}-text")).to_have_value("Delen we het concept nu al?")
    for _ in range(250):
        if held:
            break
        writer.wait_for_timeout(20)
    assert held, "the save was never answered"
    expect(status).not_to_have_attribute("data-state", "saved")
    expect(version(writer)).to_have_value("0")

    # Typing on while the save is on its way; then the answer arrives.
    box.press("End")
    box.press_sequentially(" Of pas na het overleg?")
    routes["page"].send(held.pop())
    expect(status).to_have_attribute("data-state", "saved")
    expect(version(writer)).to_have_value("1")
    expect(box).to_have_value("Delen we het concept nu al? Of pas na het overleg?")

    # Saving again builds on the acknowledged version: no conflict, no request, all kept.
    hold["on"] = False
    save(writer)
    expect(version(writer)).to_have_value("2")
    expect(other.locator(f"{FIELD}-text")).to_have_value(
        "Delen we het concept nu al? Of pas na het overleg?"
    )
    expect(writer.locator(f"{FIELD}-conflict")).to_have_count(0)
    assert posts == [], posts
    for context in contexts:
        context.close()


@pytest.mark.browser
def test_a_conflicting_save_shows_both_texts_and_then_saves_the_choice(
    browser: Browser, live_app
) -> None:
    contexts, writer, other = two_screens(browser, live_app, "Twee tegelijk")
    other_posts = posts_of(other)
    # Both start from the empty field; the other is still typing when the writer saves.
    other.locator(f"{FIELD}-text").fill("Tekst van de ander")
    writer.locator(f"{FIELD}-text").fill("Tekst van de gespreksleider")
    save(writer)
    expect(version(writer)).to_have_value("1")

    save(other)
    # The socket refused to overwrite; the form was posted and its answer shows both texts.
    conflict = other.locator(f"{FIELD}-conflict")
    expect(conflict).to_be_visible()
    expect(conflict.locator("blockquote")).to_have_text("Tekst van de gespreksleider")
    expect(other.locator(f"{FIELD}-text")).to_have_value("Tekst van de ander")
    assert [url for url in other_posts if "/veld/dilemma/" in url], other_posts

    # The other combines both and saves: stored, the warning gone, the writer sees it.
    other.locator(f"{FIELD}-text").fill("Tekst van de gespreksleider en van de ander")
    save(other)
    expect(conflict).to_have_count(0)
    expect(version(other)).to_have_value("2")
    expect(writer.locator(f"{FIELD}-text")).to_have_value(
        "Tekst van de gespreksleider en van de ander"
    )
    for context in contexts:
        context.close()


@pytest.mark.browser
def test_a_posted_form_keeps_what_was_typed_while_it_was_on_its_way(
    browser: Browser, live_app
) -> None:
    # A new card is still posted as a form, and its answer replaces the form. Text typed into
    # it after it was sent must survive that: here the start of the next card.
    context, page = new_page(browser)
    start_conversation(page, live_app, "Doortypen na toevoegen")
    wait_connected(page)
    form_id = page.locator("form.dg-card-form").first.get_attribute("id")
    box = page.locator(f"#{form_id}-text")
    held: list = []
    page.route("**/kaart/", lambda route: held.append(route))

    box.fill("Eerste kaart")
    page.locator(f"#{form_id} button[type=submit]").click()
    for _ in range(250):
        if held:
            break
        page.wait_for_timeout(20)
    assert held, "the card was never sent"
    box.click()
    box.press("End")
    box.press_sequentially("\nTweede kaart, half af")
    held.pop().continue_()

    cards = page.locator(f"#{form_id}").locator("xpath=ancestor::td[1]").locator(".dg-card__text")
    expect(cards).to_have_text(["Eerste kaart"])
    expect(box).to_have_value("Tweede kaart, half af")
    expect(box).to_be_focused()

    # What was kept is an ordinary unsent text: finishing and adding it makes the second card.
    page.unroute("**/kaart/")
    box.press("End")
    box.press_sequentially(" en af")
    page.locator(f"#{form_id} button[type=submit]").click()
    expect(cards).to_have_text(["Eerste kaart", "Tweede kaart, half af en af"])
    expect(box).to_have_value("")
    context.close()


@pytest.mark.browser
def test_a_screen_whose_refresh_failed_catches_up_by_itself(browser: Browser, live_app) -> None:
    """The server could not answer a screen's fetch of a changed step (busy: 503). The screen
    asks again a moment later, without waiting for the next change, and goes on following."""
    contexts, writer, other = two_screens(browser, live_app, "Even geen antwoord")
    failed: list[str] = []

    def busy_once(route) -> None:
        if route.request.headers.get("x-dg-live") and not failed:
            failed.append(route.request.url)
            route.fulfill(status=503, body="Even te druk.")
        else:
            route.continue_()

    writer.locator("#step-2 form[action$='/stap/'] button").click()
    expect(other.locator("#steps-nav")).to_have_attribute("data-current-step", "2")
    other.route(re.compile(r"\?regions="), busy_once)

    def add_card(text: str) -> None:
        form = writer.locator("#step-2 form.dg-card-form").first
        form.locator("textarea").fill(text)
        form.locator("button[type=submit]").click()
        expect(writer.locator("#step-2 .dg-card__text")).to_contain_text([text])

    add_card("Eerste kaart, waarvan het ophalen mislukt")
    expect(other.locator("#step-2 .dg-card__text")).to_contain_text(
        ["Eerste kaart, waarvan het ophalen mislukt"], timeout=6_000
    )
    assert len(failed) == 1, failed
    add_card("Tweede kaart")
    expect(other.locator("#step-2 .dg-card__text")).to_contain_text(["Tweede kaart"])
    for context in contexts:
        context.close()
