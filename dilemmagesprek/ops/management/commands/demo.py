from django.core.management.base import BaseCommand

from dilemmagesprek.ops.demo import DEMO_USERNAME, ensure_demo


class Command(BaseCommand):
    help = "Maak (eenmalig) een fictief demogesprek en een demo-gespreksleider, en toon de links."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--site-url", help="Het adres waarop de app bereikbaar is.")

    def handle(self, *args, site_url: str | None = None, **options) -> None:
        result = ensure_demo(site_url)
        state = "aangemaakt" if result.created else "bestond al"
        self.stdout.write(f"Demogesprek {state}: {result.conversation.title}")
        self.stdout.write(f"  Inloggen als gespreksleider: gebruiker '{DEMO_USERNAME}', "
                          f"wachtwoord '{result.password}'")
        self.stdout.write("  Persoonlijke links (nieuw gemaakt; eerdere demo-links vervallen):")
        for name, role, url in result.links:
            self.stdout.write(f"    {role:<18} {name:<32} {url}")
