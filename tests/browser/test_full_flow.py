"""One whole conversation, end to end, in a real browser.

The facilitator prepares a conversation and invites a dilemma owner and a participant; the
owner fills in the preparation; facilitator and participant fill every field of all five
steps together while the owner confirms what needs confirming; the facilitator closes the
conversation and the participant finds everything on the worksheet, read-only.

Elements are found by what the method says (the worksheet's Dutch questions) and by stable
ids, names and form actions, never by the translated text of a button: translations change,
the method and the URLs do not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Response, expect

from tests.browser import support
from tests.browser.support import invite

DESKTOP = {"width": 1400, "height": 900}

TEXT_FIELDS = {
    "dilemma": "Een journalist vraagt de notulen van het crisisoverleg op.",
    "urgency": "De Woo-termijn verloopt over twee weken.",
    "shared_question": "Durven we de notulen eerder actief te delen dan gevraagd?",
    "conclusion": "Optie 2 en 3 zijn aanvaardbaar; vertrouwen geeft de doorslag.",
    "choice": "We delen de notulen zelf, met een toelichting bij de lakken.",
    "needs": "Steun van de directeur en een woordvoerder die meeleest.",
    "summary": "We delen de notulen actief; de directeur en woordvoering zijn aan zet.",
}
PREPARATION = {
    "facts": "Er ligt een Woo-verzoek voor de notulen van 3 maart.",
    "why_dilemma": "Openheid helpt het vertrouwen, maar raakt lopend overleg.",
    "dream_outcome": "De notulen staan online en niemand voelt zich overvallen.",
    "want": "Ik wil uitleggen wat we deden en waarom.",
    "dare": "Ik durf het aan te kaarten bij mijn leidinggevende.",
    "can": "Ik kan de tekst samen met woordvoering voorbereiden.",
    "may": "De Woo en ons eigen beleid staan actieve openbaarmaking toe.",
}


# Server errors seen by any browser in the running test; submit() fails on the first one.
SERVER_ERRORS: list[str] = []


# --- helpers ---------------------------------------------------------------------------------


def submit(form: Locator, button: Locator | None = None) -> None:
    """Submit a form and wait until its answer is on the page (support.submit), then insist
    that nothing went wrong: no server error in any browser, no error on the page."""
    support.submit(form, button)
    assert not SERVER_ERRORS, "\n".join(SERVER_ERRORS)
    expect(form.page.locator(".dg-error, .dg-alert--error, .dg-alert--warning")).to_have_count(0)


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/inloggen/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    submit(page.locator("form:has(#id_password)"))
    expect(page.locator("#id_password")).to_have_count(0)


def create_conversation(page: Page, title: str) -> str:
    """Create a conversation; return its worksheet path, /g/<id>/."""
    page.goto("/gesprekken/nieuw/")
    page.locator("#id_title").fill(title)
    page.locator("input[name=variant][value=lang]").check()
    page.locator("#id_planned_at").fill("2030-05-14T13:30")
    submit(page.locator("form:has(#id_title)"))
    match = re.search(r"(/g/[^/]+/)leden/", page.url)
    assert match, page.url
    return match.group(1)


def fill_text(page: Page, key: str, text: str) -> None:
    form = page.locator(f'form[action$="/veld/{key}/"]')
    form.locator("textarea[name=text]").fill(text)
    submit(form)
    expect(page.locator(f"#field-{key}-text")).to_have_value(text)


def confirm(page: Page, worksheet: str, key: str) -> None:
    """The owner drops in to confirm, then leaves: an open worksheet refetches on every change."""
    page.goto(worksheet)
    field = page.locator(f"#field-{key}")
    submit(field.locator('form[action$="/bevestigen/"]'))
    expect(field.locator(".dg-status--ok")).to_be_visible()
    expect(field.locator('form[action$="/bevestigen/"]')).to_have_count(0)
    page.goto("about:blank")


def open_step(page: Page, number: int) -> None:
    step = page.locator(f"#step-{number}")
    submit(step.locator('form[action$="/stap/"]'))
    expect(page.locator(f"#step-{number}")).to_have_class(re.compile(r"\bdg-step--current\b"))


def set_status(page: Page, status: str) -> None:
    button = page.locator(f"button[name=status][value={status}]")
    submit(page.locator("form:has(button[name=status])"), button)
    expect(page.locator(f"button[name=status][value={status}]")).to_have_count(0)


def add_column(page: Page, field_key: str, name: str) -> None:
    field = page.locator(f"#field-{field_key}")
    columns = field.locator("thead th[scope=col]")
    before = columns.count()
    field.locator("details.dg-columns > summary").click()
    form = field.locator('form[action$="/kolom/"]')
    form.locator("input[name=name]").fill(name)
    submit(form)
    expect(columns).to_have_count(before + 1)
    expect(columns.last).to_contain_text(name)


def card_forms(page: Page, field_key: str) -> Locator:
    return page.locator(f"#field-{field_key} form.dg-card-form")


def add_card(page: Page, field_key: str, index: int, text: str) -> None:
    """Put a card in the index-th cell of a matrix (row by row, left to right)."""
    form = card_forms(page, field_key).nth(index)
    form.locator("textarea[name=text]").fill(text)
    submit(form)
    cell = page.locator(f"#field-{field_key} tbody td").nth(index)
    expect(cell.locator(".dg-card__text")).to_have_text(text)


def fill_matrix(pages: list[Page], field_key: str, label: str) -> list[str]:
    """A card in every cell, taking turns between the people at the table."""
    count = card_forms(pages[0], field_key).count()
    for page in pages:
        expect(card_forms(page, field_key)).to_have_count(count)
    texts = []
    for index in range(count):
        text = f"{label} kaart {index + 1}"
        add_card(pages[index % len(pages)], field_key, index, text)
        texts.append(text)
    return texts


def evaluate(page: Page, score: int, remark: str) -> None:
    form = page.locator('#field-satisfaction form[action$="/evaluatie/"]')
    form.locator(f"input[name=score][value='{score}']").check()
    form.locator("textarea[name=remark]").fill(remark)
    submit(form)
    expect(page.locator("#field-satisfaction .dg-evaluations")).to_contain_text(remark)


@pytest.fixture
def contexts(browser: Browser, live_app) -> Iterator[Callable[..., Page]]:
    """Open a fresh browser context (one person) per call; all are closed afterwards."""
    expect.set_options(timeout=10_000)  # a busy machine renders the worksheet slowly
    opened: list[BrowserContext] = []
    server_log = live_app.data_dir.parent / "server.err"
    SERVER_ERRORS.clear()

    def record(response: Response) -> None:
        if response.status >= 500:
            log = server_log.read_text()[-3000:] if server_log.exists() else ""
            SERVER_ERRORS.append(f"{response.status} {response.request.method} {response.url}")
            SERVER_ERRORS.append(log)

    def open_context(**options) -> Page:
        context = browser.new_context(
            base_url=live_app.url, locale="nl-NL", viewport=DESKTOP, **options
        )
        context.set_default_timeout(10_000)
        context.on("response", record)
        opened.append(context)
        return context.new_page()

    yield open_context
    for context in opened:
        context.close()


# --- tests -----------------------------------------------------------------------------------


def test_a_whole_conversation_from_invitation_to_closed_worksheet(live_app, contexts) -> None:
    fac = contexts()
    log_in(fac, live_app.username, live_app.password)
    worksheet = create_conversation(fac, "Notulen crisisoverleg")
    owner_link = invite(fac, "Olga Eigenaar", "dilemma-eigenaar")
    participant_link = invite(fac, "Piet Deelnemer", "deelnemer")
    # Inviting the second person keeps the first link on the page (shown once per session).
    expect(fac.locator("input[data-dg-copy]")).to_have_count(2)
    assert owner_link != participant_link

    # The dilemma owner opens their link and prepares.
    owner = contexts()
    owner.goto(owner_link)
    expect(owner).to_have_url(re.compile(rf"{worksheet}voorbereiding/$"))
    prep = owner.locator("form.dg-preparation")
    textareas = prep.locator("textarea")
    expect(textareas).to_have_count(len(PREPARATION))
    for key, text in PREPARATION.items():
        prep.locator(f"textarea[name={key}]").fill(text)
    prep.locator("input[name=dilemma_kinds][value=ethiek]").check()
    prep.locator("input[name=dilemma_kinds][value=rechten]").check()
    prep.locator("input[name=share_in_report]").check()
    submit(prep)
    expect(owner).to_have_url(re.compile(r"\?opgeslagen=1$"))
    owner.reload()
    for key, text in PREPARATION.items():
        expect(owner.locator(f"textarea[name={key}]")).to_have_value(text)
    expect(owner.locator("input[name=dilemma_kinds][value=ethiek]")).to_be_checked()
    expect(owner.locator("input[name=dilemma_kinds][value=rechten]")).to_be_checked()
    expect(owner.locator("input[name=dilemma_kinds][value=financien]")).not_to_be_checked()
    expect(owner.locator("input[name=share_in_report]")).to_be_checked()
    owner.goto("about:blank")

    # The facilitator reads the preparation and starts the conversation.
    fac.goto(f"{worksheet}voorbereiding/")
    for text in PREPARATION.values():
        expect(fac.locator("main")).to_contain_text(text)
    expect(fac.locator("main textarea")).to_have_count(0)
    fac.goto(worksheet)
    set_status(fac, "gepland")
    set_status(fac, "lopend")

    part = contexts()
    part.goto(participant_link)
    expect(part).to_have_url(re.compile(rf"{worksheet}$"))

    # The accessible name of a text field is the worksheet's question.
    question = fac.get_by_label("Wat is het dilemma?", exact=True)
    expect(question).to_have_attribute("id", "field-dilemma-text")
    expect(question).to_have_attribute("name", "text")

    # Step 1: getting acquainted (open from the start).
    expect(fac.locator("#step-1")).to_have_class(re.compile(r"\bdg-step--current\b"))
    fill_text(fac, "dilemma", TEXT_FIELDS["dilemma"])
    fill_text(part, "urgency", TEXT_FIELDS["urgency"])

    # Step 2: players, with a fourth one, and the shared question the owner confirms.
    open_step(fac, 2)
    part.reload()
    add_column(part, "players", "Woordvoering")
    fac.reload()
    expect(card_forms(fac, "players")).to_have_count(4 * 3)
    cards = fill_matrix([part, fac], "players", "Speler")
    fill_text(fac, "shared_question", TEXT_FIELDS["shared_question"])
    confirm(owner, worksheet, "shared_question")

    # Step 3: options, with a third one, and the conclusion.
    open_step(fac, 3)
    add_column(fac, "options", "Samen publiceren")
    part.reload()
    expect(card_forms(part, "options")).to_have_count(3 * 2)
    cards += fill_matrix([fac, part], "options", "Optie")
    fill_text(part, "conclusion", TEXT_FIELDS["conclusion"])

    # Step 4: the owner confirms the choice; needs and an action under "Hoe nu verder?".
    open_step(fac, 4)
    part.reload()
    fill_text(part, "choice", TEXT_FIELDS["choice"])
    confirm(owner, worksheet, "choice")
    fill_text(fac, "needs", TEXT_FIELDS["needs"])
    action = {"what": "Notulen met toelichting publiceren", "who": "Olga", "when": "1 juni"}
    form = part.locator('#field-next_steps form[action$="/actie/"]')
    form.locator("textarea[name=what]").fill(action["what"])
    form.locator("input[name=who]").fill(action["who"])
    form.locator("input[name=when]").fill(action["when"])
    submit(form)
    row = part.locator("#field-next_steps tbody tr").first
    for value in action.values():
        expect(row).to_contain_text(value)

    # Step 5: both evaluate, and the summary.
    open_step(fac, 5)
    part.reload()
    evaluate(fac, 4, "Goed gesprek, scherpe vraag.")
    evaluate(part, 5, "Eindelijk helder wie wat doet.")
    fill_text(fac, "summary", TEXT_FIELDS["summary"])
    # The facilitator's step was swapped in place after their own save; it now shows both.
    expect(fac.locator("#field-satisfaction .dg-evaluations li")).to_have_count(2)

    # Close the conversation. The status label is read from the button that sets it, so the
    # check holds whatever the translation says.
    fac.goto(worksheet)
    close_button = fac.locator("button[name=status][value=afgerond]").inner_text()
    running = fac.locator(".dg-kicker .dg-badge").inner_text()
    set_status(fac, "afgerond")

    # The participant reads everything back, and can no longer change anything.
    part.reload()
    sheet = part.locator("#worksheet")
    for key, text in TEXT_FIELDS.items():
        expect(part.locator(f"#field-{key} .dg-field__text")).to_have_text(text)
    for text in cards:
        expect(sheet.locator(".dg-card__text", has_text=re.compile(rf"^{text}$"))).to_have_count(1)
    for text in ("Woordvoering", "Samen publiceren", *action.values()):
        expect(sheet).to_contain_text(text)
    expect(sheet.locator("#field-satisfaction .dg-evaluations li")).to_have_count(2)
    expect(sheet).to_contain_text("Goed gesprek, scherpe vraag.")
    expect(sheet).to_contain_text("Eindelijk helder wie wat doet.")
    expect(sheet.locator("#field-shared_question .dg-status--ok")).to_be_visible()
    expect(sheet.locator("#field-choice .dg-status--ok")).to_be_visible()
    closed = part.locator(".dg-kicker .dg-badge").inner_text().strip()
    assert closed and closed != running and closed in close_button, (closed, close_button)
    expect(part.locator(".dg-alert--info")).to_be_visible()
    expect(sheet.locator("textarea")).to_have_count(0)
    expect(sheet.locator("form[method=post]")).to_have_count(0)
    expect(part.get_by_label("Wat is het dilemma?", exact=True)).to_have_count(0)

    # Nor by posting past the page (the language switch still carries a CSRF token).
    token = part.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    response = part.request.post(
        f"{worksheet}veld/dilemma/",
        form={"csrfmiddlewaretoken": token, "text": "Stiekem veranderd", "version": "1"},
        max_redirects=0,
    )
    assert response.status == 403, response.status
    part.reload()
    expect(part.locator("#field-dilemma .dg-field__text")).to_have_text(TEXT_FIELDS["dilemma"])
    # The owner's preparation stays between the owner and the facilitator.
    assert part.request.get(f"{worksheet}voorbereiding/").status in (403, 404)


def test_the_worksheet_works_without_javascript(live_app, contexts) -> None:
    fac = contexts(java_script_enabled=False)
    log_in(fac, live_app.username, live_app.password)
    worksheet = create_conversation(fac, "Zonder JavaScript")
    fac.goto(worksheet)

    text = "Mag de adviesnota mee in het Woo-besluit?"
    field = fac.get_by_label("Wat is het dilemma?", exact=True)
    field.fill(text)
    submit(fac.locator('form[action$="/veld/dilemma/"]'))
    expect(fac).to_have_url(re.compile(rf"{worksheet}#step-1$"))

    add_card(fac, "players", 0, "De minister wil rust in de Kamer.")

    fac.reload()
    expect(fac.get_by_label("Wat is het dilemma?", exact=True)).to_have_value(text)
    cell = fac.locator("#field-players tbody td").first
    expect(cell.locator(".dg-card__text")).to_have_text("De minister wil rust in de Kamer.")


def test_saving_the_same_form_twice_keeps_the_second_text(live_app, contexts) -> None:
    fac = contexts()
    log_in(fac, live_app.username, live_app.password)
    worksheet = create_conversation(fac, "Twee keer opslaan")
    fac.goto(worksheet)
    field = fac.get_by_label("Wat is het dilemma?", exact=True)

    for text in ("Eerste versie van het dilemma.", "Tweede, scherpere versie."):
        field.fill(text)
        submit(fac.locator('form[action$="/veld/dilemma/"]'))

    fac.reload()
    expect(field).to_have_value("Tweede, scherpere versie.", timeout=2_000)
