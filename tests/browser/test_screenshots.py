"""Pictures of the main screens for the README and docs/accessibility.md, made by the app itself.

They are taken on a server of their own, holding nothing but the demo conversation
(`dilemmagesprek demo`), so they show the demo as it ships and not what the other browser
tests did to theirs. Every run makes the pictures and checks that each one stays small
(PNG, at most MAX_BYTES, in 256 colours); with DG_SCREENSHOTS=1 they are written to
docs/img/, otherwise to a temporary directory:

    DG_SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_screenshots.py -p no:cacheprovider
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.support import (
    IMG_DIR,
    demo,
    demo_worksheet,
    log_in,
    submit,
    use_language,
    wait_connected,
)
from tests.conftest import ISOLATED_ENV, REPO_ROOT, LiveApp, free_port, port_answers

MAX_BYTES = 200_000
LAPTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1920, "height": 1080}

# Every picture this module makes, and where the README and docs/accessibility.md show it.
PICTURES = {
    "worksheet-laptop.png": "the worksheet on a laptop, as a participant",
    "facilitator.png": "the facilitator's screen: timer running, presence, spotlight",
    "facilitator-en.png": "the same, in English",
    "options-woo.png": "step 3: the options, with the Woo grounds the group tagged",
    "worksheet-phone-step.png": "one step on a phone",
    "projector.png": "the projector view (taken at 1920 × 1080, shown at 1280 × 720)",
    "confirm-dialog.png": "the question before a card is removed",
    "preparation-woo.png": "the owner's preparation with the Woo reference open",
    "members-lobby.png": "invitations, the join code with QR code, someone in the lobby",
    "join-phone.png": "joining with the code, on a phone",
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """`dilemmagesprek serve` on a data directory of its own, with only the demo in it."""
    base = tmp_path_factory.mktemp("screenshots")
    env = {key: value for key, value in os.environ.items() if key not in ISOLATED_ENV}
    env["DILEMMAGESPREK_DATA_DIR"] = str(base / "data")
    env["PYTHONUNBUFFERED"] = "1"
    port = free_port()
    app = LiveApp(
        url=f"http://127.0.0.1:{port}",
        username="demo",
        password="",
        data_dir=base / "data",
        env=env,
    )
    app.cli("migrate", "--no-input", "-v", "0")
    with (base / "server.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "dilemmagesprek.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--no-demo"],
            env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while not port_answers(port):
                assert server.poll() is None and time.monotonic() < deadline, (
                    (base / "server.log").read_text()[-3000:]
                )
                time.sleep(0.1)
            yield app
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("DG_SCREENSHOTS") == "1":
        IMG_DIR.mkdir(parents=True, exist_ok=True)
        return IMG_DIR
    return tmp_path_factory.mktemp("img")


def save(page: Page, out: Path, name: str, *, scale: float = 1.0, **options) -> None:
    """Screenshot, then store in 256 colours (UI pictures lose nothing visible) and check
    the size."""
    assert name in PICTURES, name
    path = out / name
    page.screenshot(path=str(path), animations="disabled", caret="hide", **options)
    with Image.open(path) as shot:
        image = shot.convert("RGB")
    if scale != 1.0:
        size = (round(image.width * scale), round(image.height * scale))
        image = image.resize(size, Image.Resampling.LANCZOS)
    small = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)
    assert path.stat().st_size <= MAX_BYTES, (name, path.stat().st_size)


def test_it_pictures_the_main_screens(browser: Browser, pristine: LiveApp, out_dir: Path) -> None:
    expect.set_options(timeout=15_000)
    people = demo(pristine)
    contexts: list[BrowserContext] = []

    def person(**options) -> Page:
        options.setdefault("viewport", LAPTOP)
        context = browser.new_context(
            base_url=pristine.url, locale="nl-NL", device_scale_factor=1, **options
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    try:
        lead = person()
        log_in(lead, "demo", people.password)
        worksheet = demo_worksheet(lead)
        owner = person()
        owner.goto(people.owner_link)
        participant = person()
        participant.goto(people.participant_links[0])
        expect(participant).to_have_url(re.compile(rf"{worksheet}$"))

        # The worksheet on a laptop: the paper sheet's bands, as a participant sees them.
        owner.goto(worksheet)
        wait_connected(participant)
        save(participant, out_dir, "worksheet-laptop.png", clip={
            "x": 0, "y": 0, "width": LAPTOP["width"], "height": 1500,
        }, full_page=True)  # fmt: skip

        # The facilitator: the timer running, who is here, a card in the spotlight.
        lead.goto(worksheet)
        wait_connected(lead)
        submit(lead.locator("form[action$='/klok/']:has(button[value=start])"))
        card = lead.locator("#step-3 .dg-card form:has(input[name=command][value=spotlight])")
        submit(card.first)
        presence = lead.locator("[data-dg-presence]")
        for name in ("Sanne", "Joris"):
            expect(presence).to_contain_text(name)
        lead.evaluate("window.scrollTo(0, 0)")
        save(lead, out_dir, "facilitator.png")
        use_language(lead, "en")
        wait_connected(lead)
        expect(presence).to_contain_text("Sanne")
        save(lead, out_dir, "facilitator-en.png")
        use_language(lead, "nl")

        # Step 3 with the options and their Woo grounds; then the question before removing.
        scroll_to(lead, "#step-3")
        save(lead, out_dir, "options-woo.png")
        removable = lead.locator("#step-3 .dg-card").first
        removable.locator("details.dg-card__edit > summary").click()
        removable.locator("a[data-dg-confirm]").click()
        expect(lead.locator("dialog[open]")).to_be_visible()
        save(lead, out_dir, "confirm-dialog.png")
        lead.keyboard.press("Escape")

        # On a phone: one step at a time.
        participant.set_viewport_size(PHONE)
        participant.goto(worksheet)
        expect(participant.locator("#step-3")).to_be_visible()
        save(participant, out_dir, "worksheet-phone-step.png", clip={
            "x": 0, "y": 0, "width": PHONE["width"], "height": 1400,
        }, full_page=True)  # fmt: skip

        # The projector, readable from the back of the room.
        projector = lead.context.new_page()
        projector.set_viewport_size(PROJECTOR)
        projector.goto(f"{worksheet}scherm/")
        expect(projector.locator(".dg-spotlight")).to_be_visible()
        save(projector, out_dir, "projector.png", scale=2 / 3)
        projector.close()

        # The owner's preparation, at "D. Wat mag ik?" with the Woo reference open.
        owner.goto(f"{worksheet}voorbereiding/")
        reference = owner.locator("#woo-may")
        reference.locator("summary").click()
        expect(reference.locator(".dg-woo__disclaimer")).to_be_visible()
        scroll_to(owner, "label[for=prep-may]")
        save(owner, out_dir, "preparation-woo.png")

        # Joining with the code: a newcomer on a phone, and the facilitator's lobby.
        lead.goto(f"{worksheet}leden/")
        submit(lead.locator("form[action$='/code/']"))
        code = lead.locator(".dg-join-code").inner_text()
        newcomer = person(viewport=PHONE)
        newcomer.goto("/doe-mee/")
        newcomer.locator("#code").fill(code)
        save(newcomer, out_dir, "join-phone.png")
        submit(newcomer.locator("form:has(#code)"))
        newcomer.locator("#display_name").fill("Noor (archief)")
        submit(newcomer.locator("form:has(#display_name)"))
        expect(newcomer).to_have_url(re.compile(r"/doe-mee/wachten/$"))
        lead.reload()
        expect(lead.locator(".dg-lobby-item")).to_have_count(1)
        scroll_to(lead, "#join-code")
        save(lead, out_dir, "members-lobby.png")
    finally:
        for context in contexts:
            context.close()

    made = sorted(path.name for path in out_dir.glob("*.png") if path.name in PICTURES)
    assert made == sorted(PICTURES)


def scroll_to(page: Page, selector: str, *, above: int = 24) -> None:
    """Scroll the window so that the element starts just below its top edge."""
    page.locator(selector).first.evaluate(
        "(el, above) => window.scrollTo(0, el.getBoundingClientRect().top + scrollY - above)",
        above,
    )


def test_every_picture_in_docs_is_made_by_a_test() -> None:
    """docs/img/ holds only pictures a test makes, and the README shows this module's."""
    made_elsewhere = {
        "report-overview.png",  # tests/test_reports_pdf_image.py
    }  # fmt: skip
    on_disk = {path.name for path in IMG_DIR.glob("*.png")}
    assert on_disk <= set(PICTURES) | made_elsewhere, on_disk - set(PICTURES) - made_elsewhere
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for name in PICTURES:
        assert f"docs/img/{name}" in readme, f"README.md does not show {name}"
