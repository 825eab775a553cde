"""Two people edit one text at once: different words are both kept, the same words are not
guessed at."""

import pytest
from django.test import Client

from dilemmagesprek.accounts.models import User
from dilemmagesprek.lib.merge import merge
from dilemmagesprek.worksheets import actions
from dilemmagesprek.worksheets.models import FieldValue

BASE = "De minister wil rust. De gemeenten willen duidelijkheid."


def test_edits_of_different_words_are_both_kept():
    theirs = "De minister wil rust in de Kamer. De gemeenten willen duidelijkheid."
    mine = "De minister wil rust. De gemeenten willen snel duidelijkheid."
    assert merge(BASE, theirs, mine) == (
        "De minister wil rust in de Kamer. De gemeenten willen snel duidelijkheid."
    )


@pytest.mark.parametrize(
    ("theirs", "mine"),
    [
        ("De premier wil rust. De gemeenten willen duidelijkheid.",
         "De koning wil rust. De gemeenten willen duidelijkheid."),
        (BASE + " Eerst A.", BASE + " Eerst B."),  # both add at the same place
        ("", BASE + " En meer."),  # one removed all, the other added
    ],
)
def test_edits_of_the_same_words_are_not_merged(theirs, mine):
    assert merge(BASE, theirs, mine) is None


def test_an_unchanged_side_gives_the_other():
    assert merge(BASE, BASE, "Nieuw") == "Nieuw"
    assert merge(BASE, "Nieuw", BASE) == "Nieuw"


@pytest.mark.django_db
def test_saving_from_an_older_version_merges_when_safe_and_asks_otherwise():
    user = User.objects.create_user("leider", password="x" * 16)
    conversation, facilitator = actions.new_conversation(user, "Gesprek", "lang")
    actions.set_field(facilitator, "dilemma", BASE, None)  # version 1
    actions.set_field(
        facilitator, "dilemma",
        "De minister wil rust in de Kamer. De gemeenten willen duidelijkheid.", 1,
    )  # version 2, by someone else
    client = Client()
    client.force_login(user)
    url = f"/g/{conversation.pk}/veld/dilemma/"
    # Based on version 1, a change elsewhere in the text: merged, nothing lost.
    response = client.post(url, {
        "text": "De minister wil rust. De gemeenten willen snel duidelijkheid.", "version": "1",
    })
    assert response.status_code == 303
    value = FieldValue.objects.get(conversation=conversation, key="dilemma")
    assert value.text == (
        "De minister wil rust in de Kamer. De gemeenten willen snel duidelijkheid."
    )
    assert value.version == 3
    # Based on version 1 again, a change right where the other edit was: both texts shown,
    # nothing saved.
    response = client.post(url, {
        "text": "De minister wil stilte. De gemeenten willen duidelijkheid.", "version": "1",
    })
    assert response.status_code == 409
    body = response.content.decode()
    assert "De minister wil stilte." in body and "in de Kamer" in body
    assert FieldValue.objects.get(conversation=conversation, key="dilemma").version == 3
