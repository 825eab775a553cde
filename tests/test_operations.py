"""A form sent twice (a double click, a resend after the network dropped) is applied once."""

import pytest
from django.test import Client

from dilemmagesprek.accounts.models import User
from dilemmagesprek.conversations.models import Event
from dilemmagesprek.worksheets import actions
from dilemmagesprek.worksheets.models import Card, Column

pytestmark = pytest.mark.django_db


@pytest.fixture
def facilitator_client():
    user = User.objects.create_user("leider", password="x" * 16)
    conversation, facilitator = actions.new_conversation(user, "Gesprek", "lang")
    client = Client()
    client.force_login(user)
    return client, conversation


def test_it_applies_a_resent_card_once(facilitator_client):
    client, conversation = facilitator_client
    column = Column.objects.filter(conversation=conversation, matrix="players").first()
    url = f"/g/{conversation.pk}/kolom/{column.pk}/kaart/"
    form = {"row": "standpunten", "text": "Eén keer", "op": "op-abcdef123456"}
    first = client.post(url, form)
    second = client.post(url, form)
    assert first.status_code == second.status_code == 303
    assert Card.objects.filter(conversation=conversation, text="Eén keer").count() == 1
    assert Event.objects.filter(conversation=conversation, op="op-abcdef123456").count() == 1


def test_it_applies_distinct_operations_separately(facilitator_client):
    client, conversation = facilitator_client
    column = Column.objects.filter(conversation=conversation, matrix="players").first()
    url = f"/g/{conversation.pk}/kolom/{column.pk}/kaart/"
    for op in ("op-first-000001", "op-second-00002"):
        client.post(url, {"row": "standpunten", "text": "Twee keer", "op": op})
    assert Card.objects.filter(conversation=conversation, text="Twee keer").count() == 2


def test_it_ignores_a_malformed_operation_id(facilitator_client):
    client, conversation = facilitator_client
    url = f"/g/{conversation.pk}/veld/dilemma/"
    response = client.post(url, {"text": "Tekst", "version": "0", "op": "<script>"})
    assert response.status_code == 303
    event = Event.objects.filter(conversation=conversation, type="field.updated").get()
    assert event.op is None


def test_every_worksheet_form_carries_an_operation_id(facilitator_client):
    client, conversation = facilitator_client
    html = client.get(f"/g/{conversation.pk}/").content.decode()
    forms = html.count('hx-post="')
    assert forms > 10
    assert html.count('name="op"') == forms
