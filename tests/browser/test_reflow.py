"""Zoom, reflow, phone, projector and motion: the worksheet stays usable on every screen.

- At 320 CSS pixels wide (WCAG 1.4.10) and at 200 % zoom (1.4.4; a 1280-pixel window at
  200 % is 640 CSS pixels) no page scrolls sideways; only the tables scroll, inside their own
  box. With the text spacing of WCAG 1.4.12 applied nothing spills out either.
- On a phone the worksheet shows one step at a time; without JavaScript every step is there.
- The projector view is readable from the back of a room.
- `prefers-reduced-motion` is respected: following the facilitator jumps instead of gliding.
- The current step is not shown by colour alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.support import (
    PHONE,
    create_account,
    create_conversation,
    demo,
    demo_worksheet,
    log_in,
    new_context,
    page_width_overflow,
    submit,
)

SMALL = {"width": 320, "height": 640}
ZOOMED = {"width": 640, "height": 450}  # a 1280 × 900 window at 200 %
TEXT_SPACING = """
* { line-height: 1.5 !important; letter-spacing: 0.12em !important;
    word-spacing: 0.16em !important; }
p { margin-bottom: 2em !important; }
"""


@dataclass
class Sites:
    facilitator: Page  # the demo facilitator
    participant: Page
    demo: str  # worksheet path
    fresh: str  # an empty conversation of another facilitator
    other: Page  # that facilitator
    contexts: list[BrowserContext]


@pytest.fixture(scope="module")
def sites(browser: Browser, live_app) -> Iterator[Sites]:
    expect.set_options(timeout=10_000)
    contexts: list[BrowserContext] = []

    def page(**options) -> Page:
        context = new_context(browser, live_app, **options)
        contexts.append(context)
        return context.new_page()

    people = demo(live_app)
    facilitator = page()
    log_in(facilitator, "demo", people.password)
    worksheet = demo_worksheet(facilitator)
    participant = page()
    participant.goto(people.participant_links[1])
    other = page()
    log_in(other, "zoomer", create_account(live_app, "zoomer"))
    fresh = create_conversation(other, "Een gesprek om in te zoomen")
    yield Sites(facilitator, participant, worksheet, fresh, other, contexts)
    for context in contexts:
        context.close()


def pages_to_check(sites: Sites) -> list[tuple[Page, str]]:
    demo_path, fresh = sites.demo, sites.fresh
    return [
        (sites.participant, "/inloggen/"),
        (sites.participant, "/toegankelijkheid/"),
        (sites.participant, "/doe-mee/"),
        (sites.participant, demo_path),
        (sites.facilitator, demo_path),
        (sites.facilitator, f"{demo_path}voorbereiding/"),
        (sites.facilitator, f"{demo_path}scherm/"),
        (sites.facilitator, "/gesprekken/"),
        (sites.other, "/gesprekken/nieuw/"),
        (sites.other, f"{fresh}leden/"),
        (sites.other, f"{fresh}instellingen/"),
        (sites.other, fresh),
    ]


@pytest.mark.parametrize(
    ("viewport", "spacing"),
    [(SMALL, False), (ZOOMED, False), (SMALL, True)],
    ids=["320px", "200-percent-zoom", "320px-text-spacing"],
)
def test_no_page_scrolls_sideways(sites: Sites, viewport: dict, spacing: bool) -> None:
    wide = []
    for page, path in pages_to_check(sites):
        page.set_viewport_size(viewport)
        page.goto(path)
        if spacing:
            # Through the CSSOM: the page's CSP rightly refuses an inline <style>.
            page.evaluate(
                """(css) => {
                    const sheet = new CSSStyleSheet();
                    sheet.replaceSync(css);
                    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
                }""",
                TEXT_SPACING,
            )
        # Open everything folded away: it must reflow too.
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        overflow = page_width_overflow(page)
        if overflow > 0:
            culprits = page.evaluate(
                """(width) => [...document.querySelectorAll('body *')]
                    .filter(el => el.getBoundingClientRect().right > width + 1
                                  && !el.closest('.dg-table-scroll'))
                    .slice(0, 3).map(el => el.outerHTML.slice(0, 100))""",
                viewport["width"],
            )
            wide.append(f"{path}: {overflow}px too wide: {culprits}")
        # The tables may scroll, but inside a box that itself fits the window.
        for box in page.locator(".dg-table-scroll").all():
            if box.is_visible():
                right = box.evaluate("el => el.getBoundingClientRect().right")
                assert right <= viewport["width"] + 1, (path, right)
    for page, _path in pages_to_check(sites):
        page.set_viewport_size({"width": 1280, "height": 900})
    assert not wide, "\n".join(wide)


def test_a_wide_table_scrolls_in_its_own_box_reachable_by_keyboard(sites: Sites) -> None:
    page = sites.participant
    page.set_viewport_size(SMALL)
    page.goto(sites.demo)
    page.locator("#steps-nav a[href='#step-2']").click()
    box = page.locator("#field-players .dg-table-scroll")
    expect(box).to_be_visible()
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")
    # A scrolling box is a stop for the keyboard, with a name, so arrow keys can scroll it.
    assert box.get_attribute("tabindex") == "0"
    assert box.get_attribute("role") == "region"
    box.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # Keyboard scrolling is animated: wait for it rather than read it at once.
    page.wait_for_function("el => el.scrollLeft > 0", arg=box.element_handle(), timeout=5000)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_phone_shows_one_step_at_a_time(sites: Sites) -> None:
    page = sites.participant
    page.set_viewport_size(PHONE)
    page.goto(sites.demo)
    steps = page.locator("#worksheet > .dg-step")
    current = page.locator("#steps-nav").get_attribute("data-current-step")

    expect(page.locator(f"#step-{current}")).to_be_visible()
    assert [step.is_visible() for step in steps.all()].count(True) == 1
    page.locator("#steps-nav a[href='#step-4']").click()
    expect(page.locator("#step-4")).to_be_visible()
    expect(page.locator(f"#step-{current}")).to_be_hidden()
    expect(page.locator("#step-4-title")).to_be_focused()
    # The pager under the step leads on, step by step.
    page.locator(".dg-pager a[href='#step-5']").click()
    expect(page.locator("#step-5")).to_be_visible()
    expect(page.locator("#step-4")).to_be_hidden()
    expect(page.locator(".dg-pager a[href='#step-4']")).to_be_visible()
    # A link into a step (here the current step's anchor) opens that step.
    page.goto(f"{sites.demo}#step-2")
    expect(page.locator("#step-2")).to_be_visible()
    assert [step.is_visible() for step in steps.all()].count(True) == 1
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(sites.demo)
    assert [step.is_visible() for step in steps.all()].count(True) == 5


def test_without_javascript_a_phone_shows_every_step(browser: Browser, live_app, sites) -> None:
    context = new_context(browser, live_app, viewport=PHONE)
    # Our scripts and htmx never arrive, as on a browser with JavaScript off.
    context.route(re.compile(r"/static/.*\.js$"), lambda route: route.abort())
    try:
        page = context.new_page()
        page.goto(demo(live_app).participant_links[2])
        expect(page).to_have_url(re.compile(rf"{sites.demo}$"))
        expect(page.locator("#worksheet > .dg-step")).to_have_count(5)
        for step in page.locator("#worksheet > .dg-step").all():
            expect(step).to_be_visible()
        assert page_width_overflow(page) == 0
    finally:
        context.close()


def test_the_projector_is_readable_from_the_back_of_the_room(sites: Sites) -> None:
    page = sites.facilitator.context.new_page()
    try:
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.goto(f"{sites.demo}scherm/")
        sizes = page.evaluate(
            """() => {
                const size = (selector) =>
                    parseFloat(getComputedStyle(document.querySelector(selector)).fontSize);
                return {
                    text: size('.dg-projector'),
                    title: size('.dg-projector h1'),
                    card: size('.dg-card__text'),
                };
            }"""
        )
        # 28 px on a 1080-pixel-high screen is about 2.6 % of its height: readable at ~10 m on
        # a 3-metre-wide screen, by the usual rule of thumb for presentations.
        assert sizes["text"] >= 28 and sizes["card"] >= 28 and sizes["title"] >= 56, sizes
        expect(page.locator(".dg-header")).to_be_hidden()
        assert page_width_overflow(page) == 0
    finally:
        page.close()


SPY = """() => {
  window.dgScrolls = [];
  const original = Element.prototype.scrollIntoView;
  Element.prototype.scrollIntoView = function (options) {
    window.dgScrolls.push(options && options.behavior);
    return original.call(this, options);
  };
}"""


@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
def test_following_the_facilitator_respects_reduced_motion(
    browser: Browser, live_app, sites: Sites, motion: str
) -> None:
    context = new_context(browser, live_app, reduced_motion=motion)
    try:
        page = context.new_page()
        page.goto(demo(live_app).participant_links[1])
        expect(page.locator("[data-dg-live-status]")).to_have_attribute(
            "data-state", re.compile("online|saved")
        )
        page.evaluate(SPY)
        lead = sites.facilitator
        lead.goto(sites.demo)
        current = int(lead.locator("#steps-nav").get_attribute("data-current-step") or "3")
        target = 4 if current != 4 else 2
        submit(lead.locator(f'#step-{target} form[action$="/stap/"]'))
        expect(page.locator("#steps-nav")).to_have_attribute("data-current-step", str(target))
        page.wait_for_function("window.dgScrolls.length > 0")
        behaviours = page.evaluate("window.dgScrolls")
        assert behaviours[-1] == ("auto" if motion == "reduce" else "smooth"), behaviours
        submit(lead.locator(f'#step-{current} form[action$="/stap/"]'))
    finally:
        context.close()


def test_the_current_step_is_not_told_by_colour_alone(sites: Sites) -> None:
    page = sites.participant
    page.goto(sites.demo)
    current = page.locator("#steps-nav").get_attribute("data-current-step")
    link = page.locator(f"#steps-nav a[href='#step-{current}']")

    expect(link).to_have_attribute("aria-current", "step")
    # Sighted users see it in words and weight as well as in colour.
    expect(page.locator(f"#step-{current} .dg-badge--current")).to_be_visible()
    weights = page.locator("#steps-nav a").evaluate_all(
        "links => links.map(a => Number(getComputedStyle(a).fontWeight))"
    )
    assert sorted(weights)[-1] >= 700 and weights.count(sorted(weights)[-1]) == 1, weights


MOTION = """() => {
  const moving = [];
  for (const el of document.querySelectorAll("*")) {
    for (const pseudo of [null, "::before", "::after"]) {
      const style = getComputedStyle(el, pseudo);
      const seconds = (list) => list.split(",").map((t) => parseFloat(t) || 0);
      const transition = Math.max(...seconds(style.transitionDuration));
      const animated = style.animationName !== "none"
        && Math.max(...seconds(style.animationDuration)) > 0;
      if (transition > 0 || animated) {
        moving.push((el.className || el.tagName) + (pseudo || ""));
      }
    }
  }
  return { moving: moving, scroll: getComputedStyle(document.documentElement).scrollBehavior };
}"""


def test_reduced_motion_switches_off_every_transition_and_animation(
    browser: Browser, live_app, sites: Sites
) -> None:
    """With `prefers-reduced-motion: reduce` emulated nothing on the page moves: no transition,
    no animation, no smooth scrolling; without it, the gentle colour transitions are there
    (so the check above is not empty by accident)."""
    found = {}
    for motion in ("no-preference", "reduce"):
        context = new_context(browser, live_app, reduced_motion=motion)
        try:
            page = context.new_page()
            page.goto(demo(live_app).participant_links[1])
            expect(page.locator("#worksheet")).to_be_visible()
            page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
            found[motion] = page.evaluate(MOTION)
        finally:
            context.close()
    assert found["no-preference"]["moving"], "expected the gentle transitions on buttons"
    assert found["reduce"]["moving"] == [], found["reduce"]["moving"][:5]
    assert found["reduce"]["scroll"] == "auto"


def test_states_are_told_in_words_or_signs_as_well_as_colour(sites: Sites) -> None:
    """WCAG 1.4.1: errors, pressed toggles, confirmations and links in running text carry a
    sign, a word or an underline besides their colour."""
    page = sites.other
    page.goto("/gesprekken/nieuw/")
    submit(page.locator("form:has(#id_title)"))
    error = page.locator("#id_title_error .dg-error")
    expect(error).to_be_visible()
    assert "⚠" in error.evaluate("el => getComputedStyle(el, '::before').content")
    expect(page.locator("#id_title")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_title")).to_have_attribute(
        "aria-describedby", re.compile(r"\bid_title_error\b")
    )

    # A pressed toggle says so with a tick and aria-pressed, not only by turning blue.
    lead = sites.facilitator
    lead.goto(sites.demo)
    lock = "#step-3 form:has(input[name=option][value=locked])"
    submit(lead.locator(lock))
    pressed = lead.locator(f"{lock} button[aria-pressed=true]")
    expect(pressed).to_have_count(1)
    assert "✓" in pressed.evaluate("el => getComputedStyle(el, '::before').content")
    submit(lead.locator(lock))
    expect(lead.locator(f"{lock} button[aria-pressed=false]")).to_have_count(1)

    # Links inside running text (paragraphs, list items, table cells) are underlined.
    for who, path in (
        (lead, sites.demo),
        (lead, f"{sites.demo}voorbereiding/"),
        (sites.participant, "/toegankelijkheid/"),
        (sites.other, f"{sites.fresh}leden/"),
    ):
        who.goto(path)
        bare = who.evaluate(
            """() => [...document.querySelectorAll("main p a, main li a, main td a")]
                .filter((a) => !a.closest("nav") && !a.matches(".dg-button, .dg-pager__link"))
                .filter((a) => !getComputedStyle(a).textDecorationLine.includes("underline"))
                .map((a) => a.outerHTML.slice(0, 100))"""
        )
        assert bare == [], (path, bare)
