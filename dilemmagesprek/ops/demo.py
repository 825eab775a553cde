"""A fictitious demo conversation, written by us, so a new user sees a worksheet in use.

Everything here is made up: the ministry, the report and the people do not exist.
"""

from __future__ import annotations

import datetime
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from dilemmagesprek.accounts.models import User
from dilemmagesprek.conversations import actions as conversation_actions
from dilemmagesprek.conversations.models import Conversation, Member
from dilemmagesprek.preparations.actions import save_preparation
from dilemmagesprek.worksheets import actions
from dilemmagesprek.worksheets.models import Column

DEMO_USERNAME = "demo"
DEMO_TITLE = "Demo: het evaluatierapport van de pilot Buurtbudget"
PASSWORD_FILE = "demo_password"  # noqa: S105 - a file name, not a password

OWNER = "Sanne (beleidsmedewerker)"
PARTICIPANTS = ["Joris (communicatieadviseur)", "Fatima (Woo-coördinator)", "Pieter (jurist)"]

PREPARATION = {
    "facts": (
        "Onze directie heeft een extern evaluatierapport over de pilot Buurtbudget. De "
        "uitkomsten vallen tegen: in drie van de vijf gemeenten is het geld nauwelijks bij "
        "bewoners terechtgekomen. De minister wil het rapport pas over drie maanden sturen, "
        "samen met de nieuwe beleidsbrief."
    ),
    "why_dilemma": (
        "De deelnemende gemeenten en bewonersorganisaties hebben meegewerkt in de "
        "verwachting dat zij de uitkomsten als eerste zouden zien. Als we wachten, voelt dat "
        "als achterhouden. Als we nu publiceren, ligt er een negatief verhaal zonder antwoord."
    ),
    "dream_outcome": (
        "De partners horen het eerlijke verhaal van ons, en de minister kan laten zien wat er "
        "met de lessen gebeurt."
    ),
    "want": "Ik wil dat we doen wat we de partners hebben beloofd.",
    "may": "Er loopt een Woo-verzoek naar de pilot; daar moeten we sowieso op beslissen.",
}

FIELDS = {
    "dilemma": (
        "Publiceren we het tegenvallende evaluatierapport nu, of wachten we tot de "
        "beleidsbrief over drie maanden?"
    ),
    "urgency": (
        "Over twee weken is er een bijeenkomst met de deelnemende gemeenten, en er ligt een "
        "Woo-verzoek over de pilot."
    ),
    "shared_question": (
        "Kunnen we de partners nu informeren zonder de beleidsbrief voor te zijn?"
    ),
}

PLAYERS = {
    "Minister": {
        "standpunten": ["Wil één samenhangend verhaal met oplossingen."],
        "belangen": ["Politieke regie over het moment van publiceren."],
    },
    "Gemeenten en bewoners": {
        "standpunten": ["Voelen zich partner; verwachten de uitkomsten als eersten te horen."],
        "rechten": ["Afspraak in het projectplan: uitkomsten eerst delen met deelnemers."],
    },
    "Onze directie": {
        "belangen": ["Vertrouwen van partners behouden voor de volgende ronde."],
    },
}

OPTIONS = {
    "Nu delen met partners, publiceren bij de brief": {
        "voordelen": ["We houden ons aan de afspraak met de partners."],
        "nadelen": ["Kans dat het rapport eerder uitlekt."],
    },
    "Alles publiceren bij de beleidsbrief": {
        "voordelen": ["Eén verhaal met oplossingen."],
        "nadelen": ["Partners horen het als laatste; vertrouwen loopt schade op."],
    },
}
# The Woo grounds the group thinks are at stake per option (keys of methods/woo.toml), so the
# demo shows the tags on the worksheet and in the report.
WOO_GROUNDS = {
    "Nu delen met partners, publiceren bij de brief": ["5.1-2-i", "5.2"],
    "Alles publiceren bij de beleidsbrief": ["5.1-2-i"],
}


@dataclass
class DemoResult:
    conversation: Conversation
    created: bool
    password: str
    links: list[tuple[str, str, str]]  # (name, role label, url)


def ensure_demo(site_url: str | None = None) -> DemoResult:
    """Create the demo facilitator and conversation once; renew the demo links every time.

    The links are renewed because only hashes of invite tokens are stored: printing a link
    again means making a new one (the previous demo links stop working).
    """
    site_url = (site_url or settings.SITE_URL).rstrip("/")
    password = _demo_password()
    with transaction.atomic():
        user, user_created = User.objects.get_or_create(
            username=DEMO_USERNAME,
            defaults={"first_name": "Demo", "last_name": "Gespreksleider",
                      "role": User.Role.FACILITATOR},
        )
        if user_created:
            user.set_password(password)
            user.save()
        conversation = Conversation.objects.filter(created_by=user, title=DEMO_TITLE).first()
        created = conversation is None
        if created:
            conversation = _create_conversation(user)
        facilitator = conversation.members.get(user=user)
        links = []
        for member in conversation.members.filter(removed_at__isnull=True, user__isnull=True):
            member, token = conversation_actions.renew_invite(facilitator, member.pk)
            url = site_url + reverse("dg:join", args=[token])
            links.append((member.display_name, str(member.get_role_display()), url))
    return DemoResult(conversation, created, password, links)


def _demo_password() -> str:
    """Generated on first run and kept in the data directory, so it can be shown again."""
    path = Path(settings.DATA_DIR) / PASSWORD_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(12))
    return path.read_text().strip()


def _create_conversation(user: User) -> Conversation:
    planned = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0)
    conversation, facilitator = actions.new_conversation(
        user, DEMO_TITLE, "lang", planned + datetime.timedelta(days=7)
    )
    owner, _token = conversation_actions.invite_member(facilitator, OWNER, Member.Role.OWNER)
    participants = [
        conversation_actions.invite_member(facilitator, name, Member.Role.PARTICIPANT)[0]
        for name in PARTICIPANTS
    ]
    conversation_actions.change_status(facilitator, Conversation.Status.PLANNED)
    conversation_actions.change_status(facilitator, Conversation.Status.RUNNING)
    save_preparation(owner, PREPARATION, ["relaties", "rechten"], share_in_report=False)
    for key, text in FIELDS.items():
        actions.set_field(facilitator, key, text, None)
    _fill_matrix(conversation, facilitator, participants, "players", PLAYERS)
    _fill_matrix(conversation, owner, participants, "options", OPTIONS)
    for column in Column.objects.filter(conversation=conversation, matrix="options"):
        if column.name in WOO_GROUNDS:
            actions.tag_woo_grounds(participants[1], column.pk, WOO_GROUNDS[column.name])
    conversation_actions.change_step(facilitator, 3)
    return conversation


def _fill_matrix(
    conversation: Conversation,
    namer: Member,
    authors: list[Member],
    matrix: str,
    content: dict[str, dict[str, list[str]]],
) -> None:
    columns = list(Column.objects.filter(conversation=conversation, matrix=matrix))
    for index, (name, rows) in enumerate(content.items()):
        column = columns[index] if index < len(columns) else actions.add_column(namer, matrix)
        actions.rename_column(namer, column.pk, name)
        for row, texts in rows.items():
            for offset, text in enumerate(texts):
                author = authors[(index + offset) % len(authors)]
                actions.add_card(author, column.pk, row, text)
