"""`dilemmagesprek import FILE.json [--user NAME]`: restore a conversation from its export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from dilemmagesprek.accounts.models import User
from dilemmagesprek.conversations.actions import renew_invite
from dilemmagesprek.reports.importing import InvalidDocument, import_document, read_document


class Command(BaseCommand):
    help = "Import a conversation from its JSON export; nothing is imported if the file is wrong."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a JSON file made by `export --format json`")
        parser.add_argument(
            "--user",
            help="the account that becomes the conversation's facilitator; without it, a "
            "personal link for the facilitator is printed",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no account named {options['user']!r}")
        try:
            content = Path(options["file"]).read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {options['file']}: {error.strerror}") from None
        try:
            result = import_document(read_document(content), user=user)
        except InvalidDocument as error:
            raise CommandError(f"{options['file']}: {error}") from None
        conversation = result.conversation
        self.stdout.write(f"{conversation.pk} {conversation.title}")
        if user is None:
            member, token = renew_invite(result.facilitator, result.facilitator.pk)
            link = settings.SITE_URL + reverse("dg:join", args=[token])
            self.stdout.write(f"{member.display_name}: {link}")
