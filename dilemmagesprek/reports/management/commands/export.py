"""`dilemmagesprek export ID --format pdf|odt|docx|md|json --output FILE`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dilemmagesprek.conversations.models import Conversation
from dilemmagesprek.reports.exporters import EXPORTERS
from dilemmagesprek.reports.report import build_report


class Command(BaseCommand):
    help = "Export a conversation's report (everything, the preparation only when shared)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("conversation", help="the conversation's id, as in its URL /g/<id>/")
        parser.add_argument("--format", dest="fmt", choices=sorted(EXPORTERS), required=True)
        parser.add_argument(
            "--output", required=True, help="the file to write; '-' writes to standard output"
        )
        parser.add_argument(
            "--language",
            default=settings.LANGUAGE_CODE,
            choices=[code for code, _name in settings.LANGUAGES],
            help="the language of the report's own texts (default: %(default)s)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        conversation = Conversation.objects.filter(pk=options["conversation"]).first()
        if conversation is None:
            raise CommandError(f"no conversation with id {options['conversation']!r}")
        exporter = EXPORTERS[options["fmt"]]
        report = build_report(conversation, language=options["language"])
        content = exporter.render(report)
        if options["output"] == "-":
            sys.stdout.buffer.write(content)
            sys.stdout.buffer.flush()
            return
        path = Path(options["output"])
        # Write next to the target and rename, so a failed export never leaves half a file.
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            partial.write_bytes(content)
            partial.replace(path)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise CommandError(f"cannot write {path}: {error.strerror or error}") from None
        self.stdout.write(f"{path} ({exporter.label}, {len(content)} bytes)")
