"""`dilemmagesprek backup FILE`: a consistent copy of the SQLite database while it runs."""

import sqlite3
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection


class Command(BaseCommand):
    help = (
        "Maak een consistente kopie van de SQLite-database terwijl de server draait. "
        "Gebruik voor PostgreSQL pg_dump."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="het bestand waarin de kopie komt (bestaat nog niet)")

    def handle(self, *args, file: str, **options) -> None:
        if connection.vendor != "sqlite":
            raise CommandError(
                "Deze database is geen SQLite. Maak een back-up met: "
                "pg_dump --format=custom --file=BESTAND \"$DATABASE_URL\""
            )
        target = Path(file)
        if target.exists():
            raise CommandError(f"{target} bestaat al; kies een nieuw bestand.")
        connection.ensure_connection()
        destination = sqlite3.connect(target)
        try:
            # SQLite's online backup copies one consistent snapshot while writers carry on.
            connection.connection.backup(destination)
            check = destination.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            destination.close()
        target.chmod(0o600)
        if check != "ok":
            raise CommandError(f"De kopie is niet in orde: {check}")
        self.stdout.write(f"Kopie gemaakt: {target} (integriteit: ok)")
