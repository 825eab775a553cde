"""Conversations for the report tests, built through the app's own actions.

- `filled`: every field and table has content, with Dutch characters, a confirmed shared
  question, an anonymous card, an option tagged with Woo grounds, evaluations and a shared
  preparation; dates are fixed so the PDF's first page can be compared with a reference image.
- `empty`: a new conversation nobody wrote in.
- `large`: 10 players × 30 cards, 5 options (four tagged with Woo grounds), 20 actions.
- `hostile`: every text is a payload from the bad-input catalogue, including 10,000-character
  cards.
"""

from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass, field

from dilemmagesprek.conversations import actions as conversation_actions
from dilemmagesprek.conversations.models import Conversation, Member, method_digest
from dilemmagesprek.preparations.actions import save_preparation
from dilemmagesprek.worksheets import actions
from dilemmagesprek.worksheets.models import Column
from tests.factories import columns, invite, make_facilitator, start_conversation

Role = Member.Role
# The moment every fixed report is "made": tests pass it as build_report(now=…).
MADE_AT = datetime.datetime(2026, 3, 2, 15, 30, tzinfo=datetime.UTC)
PLANNED_AT = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=datetime.UTC)
DUTCH = "Coördinatie met één ministerie — ‘financiële’ afwegingen à € 12,50; reünie ïs “oké”"


@dataclass
class Built:
    conversation: Conversation
    facilitator: Member
    owner: Member
    participants: list[Member]
    # Every text the conversation holds that every document must show in full.
    texts: list[str] = field(default_factory=list)
    # Texts that belong to the conversation but must not show in documents (e.g. a
    # preparation that is not shared).
    hidden: list[str] = field(default_factory=list)
    # Option name → the keys of the Woo grounds the group tagged it with, in the law's order.
    woo: dict[str, list[str]] = field(default_factory=dict)

    def refresh(self) -> Conversation:
        self.conversation = Conversation.objects.get(pk=self.conversation.pk)
        return self.conversation


def _people(username: str = "leider") -> tuple[Conversation, Member, Member, list[Member]]:
    user = make_facilitator(username, first_name="Fenna", last_name="de Leider")
    conversation, facilitator = start_conversation(
        user, "Woo-verzoek over de subsidieregeling — één nota", "lang"
    )
    owner, _token = invite(facilitator, "Olga Eigenaar", Role.OWNER)
    alice, _token = invite(facilitator, "Alice Speler", Role.PARTICIPANT)
    bob, _token = invite(facilitator, "Bob Speler", Role.PARTICIPANT)
    invite(facilitator, "Wim Waarnemer", Role.OBSERVER)
    conversation_actions.update_settings(
        facilitator, conversation.title, "lang", PLANNED_AT, confidentiality="vertrouwelijk"
    )
    return conversation, facilitator, owner, [alice, bob]


def empty() -> Built:
    conversation, facilitator, owner, participants = _people("leeg")
    return Built(Conversation.objects.get(pk=conversation.pk), facilitator, owner, participants)


FIELDS = {
    "dilemma": "Delen we de conceptnota nu met de indieners, of pas na het besluit?\n"
    "De minister wil eerst zelf spreken. " + DUTCH,
    "urgency": "Over twee weken loopt de beslistermijn van het Woo-verzoek af.",
    "shared_question": "Mogen we de conceptnota nu al delen met de indieners?",
    "conclusion": "Optie 1 is aanvaardbaar als de minister vooraf wordt geïnformeerd.",
    "choice": "We delen de nota vrijdag, na een kort overleg met de minister.",
    "needs": "De eigenaar heeft steun van de directeur nodig; communicatie maakt een Q&A.",
    "summary": "We delen de conceptnota vrijdag met de indieners, na overleg met de minister.",
}
PLAYERS = [
    ("De minister", {"standpunten": ["Wil eerst zelf spreken."], "belangen": ["Regie."]}),
    ("De indieners", {"rechten": ["Recht op een besluit binnen de termijn."]}),
    ("Onze directie", {"belangen": ["Vertrouwen van de partners behouden."]}),
]
OPTIONS = [
    ("Nu delen", {"voordelen": ["Afspraak nagekomen."], "nadelen": ["Kans op uitlekken."]}),
    ("Wachten op het besluit", {"voordelen": ["Eén verhaal."], "nadelen": ["Partners boos."]}),
]
# Option name → Woo grounds as the group ticks them (out of order: the report sorts them).
OPTION_WOO = {"Nu delen": ["5.2", "5.1-2-e"]}
ACTIONS = [
    ("Minister informeren", "Olga", "donderdag"),
    ("Nota delen met de indieners", "Fenna", "vrijdag"),
]
EVALUATIONS = [("facilitator", 4, "Goed gesprek."), ("owner", 5, "Ik weet wat ik ga doen.")]
PREPARATION = {
    "facts": "Er ligt een Woo-verzoek over de subsidieregeling.",
    "want": "Ik wil de indieners eerlijk behandelen.",
}
ANONYMOUS_CARD = "Ik vind dat we te laat zijn — anoniem gezegd."


def _fill_matrix(actor: Member, conversation: Conversation, key: str, spec: list) -> list[str]:
    texts = []
    existing = columns(conversation, key)
    for index, (name, rows) in enumerate(spec):
        if index < len(existing):
            column = actions.rename_column(actor, existing[index].pk, name)
        else:
            column = actions.add_column(actor, key, name)
        texts.append(name)
        for row, cards in rows.items():
            for text in cards:
                actions.add_card(actor, column.pk, row, text)
                texts.append(text)
    return texts


def _tag_options(
    actor: Member, conversation: Conversation, tags: dict[str, list[str]]
) -> dict[str, list[str]]:
    """Tag options by name with Woo grounds; return name → keys in the law's order."""
    tagged = {}
    for column in columns(conversation, "options"):
        if tags.get(column.name):
            column = actions.tag_woo_grounds(actor, column.pk, tags[column.name])
            tagged[column.name] = column.woo_grounds
    return tagged


def filled(*, share_preparation: bool = True, username: str = "leider") -> Built:
    conversation, facilitator, owner, participants = _people(username)
    alice, bob = participants
    texts: list[str] = []
    for key, text in FIELDS.items():
        actions.set_field(alice if key != "choice" else owner, key, text, None)
        texts.append(text)
    actions.confirm_field(owner, "shared_question", 1)
    texts += _fill_matrix(alice, conversation, "players", PLAYERS)
    texts += _fill_matrix(bob, conversation, "options", OPTIONS)
    first_player = columns(conversation, "players")[0]
    actions.add_card(bob, first_player.pk, "rechten", ANONYMOUS_CARD, anonymous=True)
    texts.append(ANONYMOUS_CARD)
    for what, who, when in ACTIONS:
        actions.add_next_step(alice, "next_steps", what, who, when)
        texts += [what, who, when]
    people = {"facilitator": facilitator, "owner": owner}
    for persona, score, remark in EVALUATIONS:
        actions.save_evaluation(people[persona], "satisfaction", score, remark)
        texts.append(remark)
    save_preparation(owner, PREPARATION, ["rechten"], share_preparation)
    woo = _tag_options(bob, conversation, OPTION_WOO)
    built = Built(Conversation.objects.get(pk=conversation.pk), facilitator, owner, participants)
    built.texts = texts
    built.woo = woo
    if share_preparation:
        built.texts += list(PREPARATION.values())
    else:
        built.hidden = list(PREPARATION.values())
    return built


def large() -> Built:
    """10 players × 30 cards, 5 options (with pros and cons), 20 actions."""
    conversation, facilitator, owner, participants = _people("groot")
    texts = []
    rows = ["standpunten", "belangen", "rechten"]
    players = columns(conversation, "players")
    for index in range(10):
        column = players[index] if index < len(players) else None
        name = f"Speler nummer {index + 1}"
        if column is None:
            column = actions.add_column(facilitator, "players", name)
        else:
            column = actions.rename_column(facilitator, column.pk, name)
        for number in range(30):
            text = f"Kaart {number + 1} van speler {index + 1}: een standpunt met enige uitleg."
            actions.add_card(participants[number % 2], column.pk, rows[number % 3], text)
            texts.append(text)
    options = columns(conversation, "options")
    for index in range(5):
        name = f"Optie nummer {index + 1}"
        if index < len(options):
            column = actions.rename_column(facilitator, options[index].pk, name)
        else:
            column = actions.add_column(facilitator, "options", name)
        for number in range(4):
            row = "voordelen" if number % 2 == 0 else "nadelen"
            text = f"Argument {number + 1} bij optie {index + 1}, voor wie het geldt."
            actions.add_card(facilitator, column.pk, row, text)
            texts.append(text)
    for number in range(20):
        what = f"Actie {number + 1}: iemand bellen over de nota"
        actions.add_next_step(facilitator, "next_steps", what, "Fenna", "volgende week")
        texts.append(what)
    for key, text in FIELDS.items():
        actions.set_field(facilitator, key, text, None)
        texts.append(text)
    woo = _tag_options(facilitator, conversation, LARGE_WOO)
    built = Built(Conversation.objects.get(pk=conversation.pk), facilitator, owner, participants)
    built.texts = texts
    built.woo = woo
    return built


# Four of the five options of `large` tagged, one with six grounds (a long line on page 1).
LARGE_WOO = {
    "Optie nummer 1": ["5.1-2-e", "5.2"],
    "Optie nummer 2": ["5.1-2-i"],
    "Optie nummer 3": ["5.1-1-d", "5.1-1-e", "5.1-2-b", "5.1-2-f", "5.1-2-h", "5.1-5"],
    "Optie nummer 5": ["5.1-2-a"],
}


CANARY = "http://127.0.0.1:{port}/"
PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    '<img src="file:///etc/passwd">',
    '<link rel="stylesheet" href="{canary}a.css">',
    "<style>@import url({canary}b.css); *{background:url({canary}c.png)}</style>",
    '<svg><image xlink:href="{canary}d.png" href="file:///etc/hostname"/></svg>',
    "[klik](javascript:alert(1)) <{canary}e>",
    "{{ 7*7 }} {% debug %} ${7*7} %s%s%n {0.__class__}",
    '=HYPERLINK("http://example.invalid","x")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3 en \\ een backslash",
    "\u202efdp.exe (rechts-naar-links)",
    "&lt;b&gt;geen vet&lt;/b&gt; # geen kop * geen lijst _ | tabel | `code`",
]


def long_card(seed: str) -> str:
    """10,000 characters: words, then one 600-character word nobody can hyphenate."""
    words = (f"{seed} lange kaart met veel woorden en zinnen. " * 400)[:9400]
    return words + "X" * 600


def hostile(port: int) -> Built:
    """Every text is a payload; the players table allows 10,000 characters per card."""
    user = make_facilitator("vijand")
    canary = CANARY.format(port=port)
    payloads = [p.replace("{canary}", canary) for p in PAYLOADS]
    title = "../../etc/passwd\nSet-Cookie: a=b; <script>x</script>"
    conversation, facilitator = start_conversation(user, title, "lang")
    # The method allows up to 10,000 characters per text; let this conversation use that.
    snapshot = copy.deepcopy(conversation.method_snapshot)
    for step in snapshot["steps"]:
        for item in step["fields"]:
            if item["kind"] in ("matrix", "text"):
                item["max_length"] = 10000
    # The stored digest names the parsed method the app uses: change it with the snapshot.
    Conversation.objects.filter(pk=conversation.pk).update(
        method_snapshot=snapshot, method_digest=method_digest(snapshot)
    )
    conversation = Conversation.objects.get(pk=conversation.pk)
    facilitator = Member.objects.get(pk=facilitator.pk)
    owner, _token = invite(facilitator, payloads[0][:80], Role.OWNER)
    participant, _token = invite(facilitator, payloads[1][:80], Role.PARTICIPANT)
    texts = []
    for key, payload in zip(
        ["dilemma", "urgency", "shared_question", "conclusion", "choice", "needs", "summary"],
        payloads,
        strict=False,
    ):
        actions.set_field(facilitator, key, payload, None)
        texts.append(payload)
    player = Column.objects.filter(conversation=conversation, matrix="players").first()
    actions.rename_column(facilitator, player.pk, payloads[2][:80])
    for payload in payloads:
        actions.add_card(participant, player.pk, "standpunten", payload)
        texts.append(payload)
    for index in range(2):
        text = long_card(f"Kaart{index}")
        actions.add_card(participant, player.pk, "belangen", text)
        texts.append(text)
    actions.add_next_step(facilitator, "next_steps", payloads[7], payloads[8][:120], "=1+1")
    texts += [payloads[7], payloads[8][:120], "=1+1"]
    actions.save_evaluation(owner, "satisfaction", 3, payloads[0])
    built = Built(Conversation.objects.get(pk=conversation.pk), facilitator, owner, [participant])
    built.texts = texts
    return built
