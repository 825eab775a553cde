from django.core.management.base import BaseCommand

from dilemmagesprek.conversations.retention import expired, purge


class Command(BaseCommand):
    help = (
        "Verwijder gesprekken waarvan de bewaartermijn voorbij is, met alles wat erbij hoort. "
        "Draai dit dagelijks (cron of systemd-timer)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="alleen tellen, niets verwijderen"
        )

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        if dry_run:
            self.stdout.write(f"{len(expired())} gesprek(ken) zijn verlopen (niets verwijderd).")
            return
        self.stdout.write(f"{purge()} verlopen gesprek(ken) verwijderd.")
