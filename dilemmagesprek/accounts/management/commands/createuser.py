"""`dilemmagesprek createuser`: add a facilitator or an admin from the command line.

The password comes from a hidden prompt or from a file (for scripts and secrets mounted as
files), never from an argument, which would land in shell history and `ps` output.
"""

import getpass
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, IntegrityError
from django.utils import translation

from dilemmagesprek.accounts.models import User


def read_password_file(path: Path) -> str:
    """The first line of the file, stripped, so a trailing newline never becomes part of it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CommandError(f"Kan wachtwoordbestand {path} niet lezen: {error.strerror}.") from None
    lines = text.splitlines()
    return lines[0].strip() if lines else ""


def ask_password() -> str:
    if not sys.stdin.isatty():
        raise CommandError(
            "Geen wachtwoord: gebruik --password-file of start de opdracht in een terminal."
        )
    first = getpass.getpass("Wachtwoord: ")
    second = getpass.getpass("Wachtwoord (nogmaals): ")
    if first != second:
        raise CommandError("De wachtwoorden zijn niet gelijk.")
    return first


def as_lines(error: ValidationError) -> str:
    return "\n".join(f"  - {message}" for message in error.messages)


class Command(BaseCommand):
    help = "Een gebruiker aanmaken: een gespreksleider (standaard) of een beheerder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="gebruikersnaam om mee in te loggen")
        parser.add_argument(
            "--role",
            choices=User.Role.values,
            default=User.Role.FACILITATOR,
            help="facilitator (gespreksleider, standaard) of admin (beheerder)",
        )
        parser.add_argument(
            "--password-file",
            type=Path,
            help="lees het wachtwoord uit de eerste regel van dit bestand in plaats van te vragen",
        )
        parser.add_argument("--email", default="", help="e-mailadres (optioneel)")

    def handle(self, *args: Any, **options: Any) -> None:
        # A terminal has no request to take a language from: speak the site's language, also
        # in Django's own validator messages.
        with translation.override(settings.LANGUAGE_CODE):
            self.create(
                options["username"], options["role"], options["email"], options["password_file"]
            )

    def create(self, username: str, role: str, email: str, password_file: Path | None) -> None:
        try:
            existing = User.objects.filter(username__iexact=username).first()
        except DatabaseError as error:
            raise CommandError(
                f"De database is niet klaar ({error}). Voer eerst 'dilemmagesprek migrate' uit."
            ) from None
        if existing is not None:
            # Checked before asking for a password, and case-insensitively: "Anna" next to
            # "anna" would only confuse whoever signs in.
            raise CommandError(f"Gebruiker {existing.username!r} bestaat al.")

        user = User(username=username, email=email, role=role)
        try:
            user.full_clean(exclude=["password"])
        except ValidationError as error:
            raise CommandError(f"Gegevens geweigerd:\n{as_lines(error)}") from None

        password = read_password_file(password_file) if password_file else ask_password()
        if not password:
            raise CommandError("Het wachtwoord is leeg.")
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError(f"Wachtwoord geweigerd:\n{as_lines(error)}") from None

        user.set_password(password)
        try:
            user.save()
        except IntegrityError:
            raise CommandError(f"Gebruiker {username!r} bestaat al.") from None
        self.stdout.write(f"Gebruiker {username!r} aangemaakt met rol {role}.")
