"""Aids on the worksheet: hints on the shared question, the Woo as background with tags per
option, and undo for a removed card."""

from __future__ import annotations

import datetime
import re
import tomllib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from dilemmagesprek.conversations.models import Event
from dilemmagesprek.methods.loader import get_method
from dilemmagesprek.methods.woo import WOO_FILE, WooFileError, parse, woo_reference
from dilemmagesprek.worksheets import actions as wa
from dilemmagesprek.worksheets import facilitation
from dilemmagesprek.worksheets.hints import question_hints
from dilemmagesprek.worksheets.models import Card, Column, RemovedCard
from tests.factories import (
    Cast,
    Furniture,
    assert_refused,
    columns,
    events_sent_on_commit,
    last_seq,
    make_facilitator,
    state_of,
    verify_action,
)

pytest_plugins = ["tests.fixtures_domain"]


def cid(cast: Cast) -> str:
    return cast.conversation.pk


# --- hints on "Wat is de gedeelde vraag?" ----------------------------------------------------


@pytest.mark.parametrize(
    ("question", "codes"),
    [
        ("", []),
        ("Durven we de notulen eerder actief te delen dan gevraagd?", []),
        ("Mogen wij het advies van de jurist delen met de indieners?", []),
        ("Should we share the minutes before anyone asks?", []),
        ("Hoe gaan we om met de pers?", ["starts_with_how"]),
        ("How do we handle the press?", ["starts_with_how"]),
        ("Delen we de notulen?", ["no_preferred_verb"]),
        ("Moeten we de notulen delen, of wachten we?", ["comma"]),
        ("Mogen we toch de notulen delen?", ["steering"]),
        ("Is het niet eerlijk dat de pers het eerst weet?", ["no_preferred_verb", "steering"]),
        (
            "Kunnen we de partners nu al informeren over alle uitkomsten van de evaluatie van de "
            "pilot?",
            ["too_long"],
        ),
        # "toch" inside another word is no judgement.
        ("Mogen we de tochtige zaal gebruiken?", []),
    ],
)
def test_it_hints_on_the_wording_of_a_shared_question(question: str, codes: list[str]) -> None:
    assert [hint.code for hint in question_hints(question)] == codes


def test_it_words_each_hint_in_the_users_language(settings) -> None:
    from django.utils import translation

    with translation.override("nl"):
        dutch = question_hints("Hoe, en waarom?")
    with translation.override("en"):
        english = question_hints("Hoe, en waarom?")
    assert [h.code for h in dutch] == ["comma", "starts_with_how"]
    assert "komma" in dutch[0].message
    assert "comma" in english[0].message


# --- the Woo reference ---------------------------------------------------------------------


def test_it_reads_the_woo_reference_with_the_grounds_of_the_law() -> None:
    woo = woo_reference()

    assert woo.law_url == "https://wetten.overheid.nl/BWBR0045754"
    assert isinstance(woo.checked, datetime.date)
    assert woo.checked <= datetime.date.today()
    cites = [ground.cite.nl for ground in woo.grounds]
    assert cites[:5] == [f"5.1 lid 1 {letter}" for letter in "abcde"]
    assert cites[5:14] == [f"5.1 lid 2 {letter}" for letter in "abcdefghi"]
    assert cites[14:] == ["5.1 lid 5", "5.2"]
    for language in ("nl", "en"):
        assert "geen juridisch advies" in woo.disclaimer.nl
        assert "not legal advice" in woo.disclaimer.en
        assert all(getattr(g.text, language) and getattr(g.label, language) for g in woo.grounds)


def test_it_shows_the_woo_where_the_shipped_method_weighs() -> None:
    woo = woo_reference()
    method = get_method("als-openbaarheid-schuurt")

    assert set(woo.show_in_steps) <= {step.key for step in method.steps}
    assert set(woo.show_in_preparation) <= {q.key for q in method.preparation.questions}
    assert set(woo.tag_matrices) <= set(method.matrices)


def test_it_refuses_a_woo_file_with_an_unknown_key() -> None:
    data = tomllib.loads(WOO_FILE.read_text(encoding="utf-8"))
    data["groups"][0]["grounds"][0]["verdict"] = "geheim"

    with pytest.raises(WooFileError, match=r"groups\[0\]\.grounds\[0\]: unknown key"):
        parse(data)


def test_it_refuses_a_woo_file_that_links_elsewhere() -> None:
    data = tomllib.loads(WOO_FILE.read_text(encoding="utf-8"))
    data["law_url"] = "https://example.com/woo"

    with pytest.raises(WooFileError, match="law_url"):
        parse(data)


# --- tagging an option with Woo grounds ----------------------------------------------------


def test_it_tags_an_option_with_woo_grounds_in_the_order_of_the_law(cast: Cast) -> None:
    option = columns(cast.conversation, "options")[0]
    seq = last_seq(cast.conversation.pk)

    with events_sent_on_commit() as sent:
        wa.tag_woo_grounds(cast.alice, option.pk, ["5.2", "5.1-2-e"])

    option.refresh_from_db()
    assert option.woo_grounds == ["5.1-2-e", "5.2"]
    assert [(e.type, e.data) for e in sent] == [
        ("column.tagged", {"id": option.pk, "matrix": "options", "woo_grounds": ["5.1-2-e", "5.2"]})
    ]
    assert sent[0].seq == seq + 1
    # The same tags again change nothing and tell nobody.
    with events_sent_on_commit() as sent:
        wa.tag_woo_grounds(cast.bob, option.pk, ["5.1-2-e", "5.2"])
    assert sent == []


def test_it_tells_every_screen_the_tags_of_an_option(cast: Cast) -> None:
    option = columns(cast.conversation, "options")[1]

    verify_action(
        cid(cast), lambda: wa.tag_woo_grounds(cast.alice, option.pk, ["5.2"]), "column.tagged"
    )
    verify_action(
        cid(cast),
        lambda: wa.tag_woo_grounds(cast.bob, option.pk, ["5.1-2-e", "5.2"]),
        "column.tagged",
    )
    verify_action(cid(cast), lambda: wa.tag_woo_grounds(cast.bob, option.pk, ["5.2", "5.1-2-e"]))
    # A renamed option keeps its tags.
    verify_action(
        cid(cast), lambda: wa.rename_column(cast.alice, option.pk, "Na de zomer"), "column.renamed"
    )
    assert state_of(cid(cast))["columns"][option.pk]["woo_grounds"] == ["5.1-2-e", "5.2"]
    verify_action(cid(cast), lambda: wa.tag_woo_grounds(cast.alice, option.pk, []), "column.tagged")
    assert state_of(cid(cast))["columns"][option.pk]["woo_grounds"] == []


@pytest.mark.parametrize(
    ("who", "matrix", "grounds", "error"),
    [
        ("alice", "options", ["5.1-9-z"], ValidationError),
        ("alice", "options", "5.2", ValidationError),
        ("alice", "players", ["5.2"], ValidationError),
        ("observer", "options", ["5.2"], PermissionDenied),
    ],
)
def test_it_refuses_tags_it_cannot_place(cast: Cast, who, matrix, grounds, error) -> None:
    column = columns(cast.conversation, matrix)[0]
    seq = last_seq(cast.conversation.pk)

    assert_refused(
        cid(cast), lambda: wa.tag_woo_grounds(getattr(cast, who), column.pk, grounds), error
    )

    column.refresh_from_db()
    assert column.woo_grounds == []
    assert last_seq(cast.conversation.pk) == seq


def test_it_shows_the_tags_per_option_on_the_worksheet(cast: Cast, client_as) -> None:
    option = columns(cast.conversation, "options")[1]
    client = client_as("participant")
    url = f"/g/{cast.conversation.pk}/kolom/{option.pk}/woo/"

    response = client.post(url, {"woo_grounds": ["5.1-2-e", "5.2"]})

    assert response.status_code == 303
    page = client.get(f"/g/{cast.conversation.pk}/").content.decode()
    item = page.split(f'id="woo-{option.pk}"')[1].split("</li>\n      \n")[0]
    assert "Persoonlijke levenssfeer" in item
    assert "Persoonlijke beleidsopvattingen" in item
    assert 'value="5.2" checked' in item


def test_it_shows_the_woo_as_background_in_step_3_and_in_the_preparation(
    cast: Cast, client_as
) -> None:
    worksheet = client_as("participant").get(f"/g/{cast.conversation.pk}/").content.decode()
    step_3 = worksheet.split('id="step-3"')[1].split('id="step-4"')[0]
    step_2 = worksheet.split('id="step-2"')[1].split('id="step-3"')[0]
    preparation = client_as("owner").get(f"/g/{cast.conversation.pk}/voorbereiding/")

    for page in (step_3, preparation.content.decode()):
        assert 'href="https://wetten.overheid.nl/BWBR0045754"' in page
        assert "geen juridisch advies" in page
        assert "Laatst gecontroleerd" in page
        assert "Persoonlijke beleidsopvattingen" in page
    assert "wetten.overheid.nl" not in step_2


# --- undo for a removed card ---------------------------------------------------------------


def test_it_puts_a_removed_card_back_as_it_was(cast: Cast, furniture: Furniture) -> None:
    card = furniture.card
    before = Card.objects.get(pk=card.pk)

    wa.remove_card(cast.facilitator, card.pk)
    assert not Card.objects.filter(pk=card.pk).exists()
    with events_sent_on_commit() as sent:
        restored = wa.restore_card(cast.facilitator, card.pk)

    after = Card.objects.get(pk=card.pk)
    for attribute in ("column_id", "row", "text", "author_id", "position", "created_at"):
        assert getattr(after, attribute) == getattr(before, attribute), attribute
    assert restored.pk == card.pk
    assert not RemovedCard.objects.filter(pk=card.pk).exists()
    assert [e.type for e in sent] == ["card.restored"]
    assert sent[0].data["text"] == before.text
    assert sent[0].data["author"] == before.author_id


def test_it_tells_every_screen_a_card_came_back(cast: Cast, furniture: Furniture) -> None:
    card = furniture.card
    verify_action(cid(cast), lambda: wa.remove_card(cast.facilitator, card.pk), "card.removed")

    verify_action(cid(cast), lambda: wa.restore_card(cast.facilitator, card.pk), "card.restored")

    assert state_of(cid(cast))["cards"][card.pk]["text"] == card.text


def test_it_brings_back_a_card_written_alone_still_hidden(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[0]
    facilitation.set_step_option(cast.facilitator, 2, "private", True)
    card = wa.add_card(cast.alice, player.pk, "standpunten", "Nog van niemand gezien")
    wa.remove_card(cast.alice, card.pk)

    _, (event,) = verify_action(
        cid(cast), lambda: wa.restore_card(cast.alice, card.pk), "card.restored"
    )

    assert "text" not in event.data
    assert state_of(cid(cast))["cards"][card.pk] == {
        "column": player.pk,
        "row": "standpunten",
        "hidden": True,
    }


def test_it_lets_only_the_remover_undo_and_only_for_a_while(
    cast: Cast, furniture: Furniture
) -> None:
    wa.remove_card(cast.facilitator, furniture.card.pk)

    assert_refused(
        cid(cast), lambda: wa.restore_card(cast.alice, furniture.card.pk), ValidationError
    )
    RemovedCard.objects.filter(pk=furniture.card.pk).update(
        removed_at=timezone.now() - wa.UNDO_WINDOW - datetime.timedelta(seconds=1)
    )
    assert_refused(
        cid(cast), lambda: wa.restore_card(cast.facilitator, furniture.card.pk), ValidationError
    )
    assert not Card.objects.filter(pk=furniture.card.pk).exists()


def test_it_keeps_an_anonymous_card_anonymous_when_it_comes_back(cast: Cast) -> None:
    player = columns(cast.conversation, "players")[1]
    card = wa.add_card(cast.alice, player.pk, "belangen", "Niemand weet van wie", anonymous=True)
    wa.remove_card(cast.alice, card.pk)

    _, (event,) = verify_action(
        cid(cast), lambda: wa.restore_card(cast.alice, card.pk), "card.restored"
    )

    event = Event.objects.get(pk=event.pk)
    assert event.actor is None
    assert event.data["author"] is None


@pytest.mark.parametrize("raise_anonymity", ["step", "conversation"])
def test_a_card_put_back_is_anonymous_when_anonymity_was_raised_meanwhile(
    cast: Cast, raise_anonymity: str
) -> None:
    player = columns(cast.conversation, "players")[0]
    card = wa.add_card(cast.alice, player.pk, "standpunten", "Eerst met naam geschreven")
    wa.remove_card(cast.alice, card.pk)
    if raise_anonymity == "step":
        facilitation.set_step_option(cast.facilitator, 2, "anonymous", True)
    else:
        facilitation.set_anonymous(cast.facilitator, True)

    _, (event,) = verify_action(
        cid(cast), lambda: wa.restore_card(cast.alice, card.pk), "card.restored"
    )

    # Anonymity is never lowered for what was written: the undo does not bring her name back.
    event = Event.objects.get(pk=event.pk)
    assert event.actor is None and event.data["author"] is None
    assert Card.objects.get(pk=card.pk).anonymous


def test_a_card_written_alone_shows_when_it_comes_back_after_write_alone_ended(
    cast: Cast,
) -> None:
    player = columns(cast.conversation, "players")[0]
    facilitation.set_step_option(cast.facilitator, 2, "private", True)
    card = wa.add_card(cast.alice, player.pk, "standpunten", "Alleen geschreven")
    wa.remove_card(cast.alice, card.pk)
    facilitation.set_step_option(cast.facilitator, 2, "private", False)

    _, (event,) = verify_action(
        cid(cast), lambda: wa.restore_card(cast.alice, card.pk), "card.restored"
    )

    assert event.data["text"] == "Alleen geschreven"
    assert not Card.objects.get(pk=card.pk).hidden


def test_it_offers_undo_on_the_worksheet_to_the_remover_only(
    cast: Cast, furniture: Furniture, client_as
) -> None:
    facilitator = client_as("facilitator")
    worksheet = f"/g/{cast.conversation.pk}/"
    response = facilitator.post(f"{worksheet}kaart/{furniture.card.pk}/verwijderen/")
    assert response.status_code == 303

    undo = f'action="{worksheet}kaart/{furniture.card.pk}/terugzetten/"'
    assert undo in facilitator.get(worksheet).content.decode()
    assert undo not in client_as("participant").get(worksheet).content.decode()

    response = facilitator.post(f"{worksheet}kaart/{furniture.card.pk}/terugzetten/")
    assert response.status_code == 303
    page = facilitator.get(worksheet).content.decode()
    assert undo not in page
    assert furniture.card.text in page


def test_it_forgets_removed_cards_with_their_column(cast: Cast) -> None:
    option = columns(cast.conversation, "options")[1]
    card = wa.add_card(cast.facilitator, option.pk, "voordelen", "Weg met de kolom")
    wa.remove_card(cast.facilitator, card.pk)

    wa.remove_column(cast.facilitator, option.pk)

    assert not RemovedCard.objects.filter(pk=card.pk).exists()
    assert not Column.objects.filter(pk=option.pk).exists()


# --- the accessibility statement -----------------------------------------------------------


@pytest.mark.django_db
def test_it_publishes_an_accessibility_statement_in_both_languages(client, settings) -> None:
    login = client.get("/inloggen/").content.decode()
    assert 'href="/toegankelijkheid/"' in login

    dutch = client.get("/toegankelijkheid/").content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get("/toegankelijkheid/").content.decode()

    assert "<h1>Toegankelijkheidsverklaring</h1>" in dutch
    assert "WCAG 2.1" in dutch and "axe-core" in dutch
    assert "<h1>Accessibility statement</h1>" in english
    assert "WCAG 2.1" in english


# --- the four kinds of dilemma, empty states, and the demo ---------------------------------


def test_it_offers_the_four_kinds_of_dilemma_as_a_choice_in_the_preparation(
    cast: Cast, client_as
) -> None:
    page = client_as("owner").get(f"/g/{cast.conversation.pk}/voorbereiding/").content.decode()

    boxes = re.findall(r'<input type="checkbox" name="dilemma_kinds" value="(\w+)"', page)
    assert boxes == ["relaties", "rechten", "financien", "ethiek"]
    for label in ("Relaties en vertrouwen", "Rechten", "Financiën", "Ethische vragen"):
        assert label in page


def test_it_says_what_to_do_where_the_worksheet_is_still_empty(cast: Cast, client_as) -> None:
    page = client_as("participant").get(f"/g/{cast.conversation.pk}/").content.decode()

    assert "Nog geen acties. Schrijf op wat er nu gaat gebeuren, wie het doet en wanneer." in page
    assert "Nog niemand heeft geantwoord. Iedereen geeft een score van 1" in page
    assert 'placeholder="Kaart toevoegen…"' in page
    assert "nog geen gronden gekozen" in page
    newcomer = Client()
    newcomer.force_login(make_facilitator("nieuwkomer"))
    empty = newcomer.get("/gesprekken/").content.decode()
    assert "Je hebt nog geen gesprekken." in empty


@pytest.mark.django_db
def test_the_demo_shows_options_tagged_with_woo_grounds(settings, tmp_path) -> None:
    from dilemmagesprek.ops.demo import ensure_demo

    settings.DATA_DIR = tmp_path
    result = ensure_demo("http://testserver")

    options = Column.objects.filter(conversation=result.conversation, matrix="options")
    tags = {column.name: column.woo_grounds for column in options}
    assert tags and all(tags.values()), tags
    woo = woo_reference()
    assert all(woo.ground(key) for keys in tags.values() for key in keys)
