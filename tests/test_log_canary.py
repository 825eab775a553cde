"""Nothing a user types, and no secret, ever reaches a log: every input carries a unique
canary string, and all log output captured while using the app is searched for them."""

import asyncio
import json
import logging

import pytest
from django.test import Client

from dilemmagesprek.accounts.models import User
from dilemmagesprek.asgi import application
from dilemmagesprek.conversations import joining
from dilemmagesprek.conversations.models import Conversation, Member
from dilemmagesprek.worksheets.models import Card, Column, NextStep
from tests.ws import WebsocketClient

pytestmark = pytest.mark.django_db(transaction=True)


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name} {text} {record.__dict__}")


@pytest.fixture
def logs():
    handler = Collect()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


def canary(name: str) -> str:
    return f"KANARIE{name.upper()}7Q"


def test_no_input_and_no_secret_reaches_the_logs(logs):
    secrets_seen: list[str] = []
    password = canary("password") + "-long-enough"
    User.objects.create_user(canary("user"), password=password)
    facilitator = Client()
    # A failed login (the username and password typed must not be logged) …
    facilitator.post("/inloggen/", {"username": canary("typedname"), "password": canary("pw")})
    # … and a good one.
    facilitator.post("/inloggen/", {"username": canary("user"), "password": password})
    facilitator.post("/gesprekken/nieuw/", {"title": canary("title"), "variant": "lang"})
    conversation = Conversation.objects.get()
    url = f"/g/{conversation.pk}/"
    facilitator.post(f"{url}leden/", {"display_name": canary("owner"), "role": "dilemma-eigenaar"})
    token = facilitator.session["dg_new_links"][Member.objects.get(role="dilemma-eigenaar").pk]
    secrets_seen.append(token)
    facilitator.post(f"{url}status/", {"status": "gepland"})
    facilitator.post(f"{url}status/", {"status": "lopend"})
    facilitator.post(f"{url}code/", {"enabled": "1"})
    conversation.refresh_from_db()
    secrets_seen.append(conversation.join_code)

    owner = Client()
    owner.get(f"/uitnodiging/{token}/")
    owner.get(f"/uitnodiging/{canary('badtoken')}/")
    owner.post(f"{url}voorbereiding/", {"facts": canary("facts"), "may": canary("may")})
    for key in ("dilemma", "urgency", "shared_question", "conclusion", "choice", "needs",
                "summary"):
        owner.post(f"{url}veld/{key}/", {"text": canary(key), "version": "0"})
    # Too long: a refused edit must not be logged either.
    owner.post(f"{url}veld/dilemma/", {"text": canary("toolong") * 500, "version": "1"})
    column = Column.objects.filter(conversation=conversation, matrix="players").first()
    owner.post(f"{url}kolom/{column.pk}/", {"name": canary("player")})
    owner.post(f"{url}kolom/{column.pk}/kaart/", {"row": "standpunten", "text": canary("card")})
    card = Card.objects.get()
    owner.post(f"{url}kaart/{card.pk}/", {"text": canary("cardedit")})
    owner.post(f"{url}veld/next_steps/actie/",
               {"what": canary("what"), "who": canary("who"), "when": canary("when")})
    step = NextStep.objects.get()
    owner.post(f"{url}actie/{step.pk}/", {"what": canary("what2"), "who": "", "when": ""})
    owner.post(f"{url}veld/satisfaction/evaluatie/", {"score": "4", "remark": canary("remark")})

    guest = Client()
    guest.post("/doe-mee/", {"code": canary("wrongcode")})
    guest.post("/doe-mee/", {"code": joining.display(conversation.join_code)})
    guest.post("/doe-mee/naam/", {"display_name": canary("guest")})

    session_id = owner.cookies["dg_sessionid"].value
    secrets_seen.append(session_id)

    async def socket_traffic():
        client = WebsocketClient(application, f"/ws/g/{conversation.pk}/", [
            (b"host", b"testserver"), (b"origin", b"http://testserver"),
            (b"cookie", f"dg_sessionid={session_id}".encode()),
        ])
        assert (await client.connect())[0]
        await client.send_to(text_data=json.dumps({"type": "hello", "last_seq": 0}))
        await client.send_to(text_data=json.dumps({"type": "typing", "form": canary("form")}))
        # Saves over the socket: one that is stored, one refused (too long), one for a card.
        await client.send_to(text_data=json.dumps(
            {"type": "save", "op": "canary-op-1", "field": "urgency", "text": canary("live"),
             "version": 0}))
        await client.send_to(text_data=json.dumps(
            {"type": "save", "op": "canary-op-2", "field": "urgency",
             "text": canary("long") * 500, "version": 1}))
        await client.send_to(text_data=json.dumps(
            {"type": "save_card", "op": "canary-op-3", "card": card.pk,
             "text": canary("livecard")}))
        await client.send_to(text_data=canary("garbage"))
        await asyncio.sleep(0.3)
        await client.disconnect()

    asyncio.run(socket_traffic())
    facilitator.get(f"{url}verslag/json/")
    facilitator.post("/uitloggen/")

    output = "\n".join(logs.lines)
    assert "dilemmagesprek.request" in output, "the request log was not captured at all"
    leaked = [c for c in ("KANARIE",) if c in output]
    leaked += [s for s in secrets_seen if s and s in output]
    assert not leaked, [line for line in logs.lines if any(x in line for x in leaked)][:5]
