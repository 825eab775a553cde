"""`dilemmagesprek serve`: bring database, translations and static files up to date, then serve.

Every step is cheap when there is nothing to do, so running this on each start is the whole
deployment procedure: there is no separate "install" or "upgrade" step to forget.
"""

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import uvicorn
from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Addresses that mean "every interface": fine to listen on, useless in a link.
WILDCARD_HOSTS = {"0.0.0.0", "::", ""}  # noqa: S104


def find_catalogs(roots: Iterable[Path]) -> list[Path]:
    """The .po files of our own code: the package tree and LOCALE_PATHS, never site-packages."""
    found: set[Path] = set()
    for root in roots:
        found.update(Path(root).glob("**/LC_MESSAGES/*.po"))
    return sorted(found)


def stale_catalogs(po_files: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Split into (.po without a .mo, .po newer than its .mo); the rest is up to date."""
    missing: list[Path] = []
    outdated: list[Path] = []
    for po in po_files:
        mo = po.with_suffix(".mo")
        if not mo.exists():
            missing.append(po)
        elif mo.stat().st_mtime < po.stat().st_mtime:
            outdated.append(po)
    return missing, outdated


def static_fingerprint() -> str:
    """What collectstatic would read: every source file's path, size and modification time.

    Equal fingerprints mean the hashed and compressed copies in STATIC_ROOT are still right,
    so a restart need not build them again (that took about 2.6 s on every start).
    """
    from django.contrib.staticfiles.finders import get_finders

    digest = hashlib.sha256()
    for finder in get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            stat = os.stat(storage.path(path))
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def display_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


class Command(BaseCommand):
    help = (
        "Database bijwerken, vertalingen en statische bestanden klaarzetten, demo klaarzetten "
        "en Dilemmagesprek serveren (HTTP en WebSocket)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", help=f"adres om op te luisteren (HOST, standaard {DEFAULT_HOST})"
        )
        parser.add_argument("--port", type=int, help=f"poort (PORT, standaard {DEFAULT_PORT})")
        parser.add_argument(
            "--workers", type=int, help="aantal serverprocessen (WORKERS, standaard 1)"
        )
        parser.add_argument(
            "--no-demo", action="store_true", help="het demogesprek niet klaarzetten"
        )

    def collect_static(self) -> None:
        stamp = Path(settings.STATIC_ROOT) / ".sources"
        fingerprint = static_fingerprint()
        manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
        if manifest.exists() and stamp.exists() and stamp.read_text() == fingerprint:
            return
        call_command("collectstatic", interactive=False, verbosity=0)
        stamp.write_text(fingerprint)

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = self.address(options["host"], options["port"])
        workers = settings.WORKERS if options["workers"] is None else options["workers"]
        if workers < 1:
            raise CommandError("--workers moet minstens 1 zijn.")
        if workers > 1 and not settings.REDIS_URL:
            # The same rule as the realtime.E001 check, which sees only WORKERS: each process
            # delivers live updates to its own sockets, so several need Redis between them.
            raise CommandError("Meer dan één worker vraagt om REDIS_URL (gedeelde live updates).")
        # The worker processes import the settings afresh: let them agree with this one.
        os.environ["WORKERS"] = str(workers)

        self.migrate()
        self.compile_messages()
        if isinstance(staticfiles_storage, ManifestFilesMixin):
            self.collect_static()
        url = display_url(host, port)
        if not options["no_demo"]:
            self.ensure_demo(url, host)

        self.stdout.write(f"Dilemmagesprek draait op {url}")
        # Without a URLconf (yet) the address above is all there is to show.
        with contextlib.suppress(NoReverseMatch, ImportError):
            self.stdout.write(f"Inloggen: {url.rstrip('/')}{resolve_url(settings.LOGIN_URL)}")
        self.stdout.flush()

        uvicorn.run(
            "dilemmagesprek.asgi:application",
            host=host,
            port=port,
            workers=workers,
            # Our live messages are small: per-message compression would cost CPU and a
            # compression context per open socket for little gain.
            ws_per_message_deflate=False,
            # A client gone without a closing handshake is found by its missing pong.
            ws_ping_interval=settings.WS_PING_SECONDS,
            ws_ping_timeout=settings.WS_PING_SECONDS,
            # Each worker starts its background work (ops/lifespan.py) before it serves.
            lifespan="on",
            # uvicorn's access log prints full paths, and invite tokens and join codes travel
            # in paths; dilemmagesprek.ops.request_log logs requests by route name instead.
            access_log=False,
            server_header=False,
        )

    def address(self, host: str | None, port: int | None) -> tuple[str, int]:
        """Command-line options first, then HOST and PORT from the environment."""
        host = host or os.environ.get("HOST") or DEFAULT_HOST
        if port is None:
            raw = os.environ.get("PORT") or str(DEFAULT_PORT)
            try:
                port = int(raw)
            except ValueError:
                raise CommandError(f"PORT moet een getal zijn, niet {raw!r}.") from None
        if not 0 < port < 65536:
            raise CommandError(f"Poort {port} bestaat niet (1-65535).")
        return host, port

    def migrate(self) -> None:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            self.stdout.write(f"Database bijwerken: {len(plan)} migratie(s).")
        call_command("migrate", interactive=False, verbosity=0)

    def compile_messages(self) -> None:
        """Compile the Dutch catalogues only when a .mo is missing or older than its .po.

        That keeps gettext a build-time tool: an install that ships compiled .mo files starts
        without msgfmt.
        """
        roots = [Path(settings.BASE_DIR), *map(Path, settings.LOCALE_PATHS)]
        missing, outdated = stale_catalogs(find_catalogs(roots))
        if not missing and not outdated:
            return
        if shutil.which("msgfmt") is None:
            if missing:
                names = ", ".join(str(po) for po in missing)
                raise CommandError(
                    f"msgfmt ontbreekt (Debian-pakket gettext) en deze vertalingen zijn nooit "
                    f"gecompileerd: {names}"
                )
            self.stderr.write(
                "Let op: msgfmt ontbreekt; de bestaande, oudere .mo-bestanden blijven in gebruik."
            )
            return
        self.stdout.write(f"Vertalingen compileren: {len(missing) + len(outdated)} bestand(en).")
        # compilemessages searches the current directory tree for locale folders: start it in
        # our package so it never wanders into a virtualenv next to it.
        with contextlib.chdir(settings.BASE_DIR):
            call_command("compilemessages", verbosity=0)

    def ensure_demo(self, url: str, host: str) -> None:
        if "demo" not in get_commands():
            self.stdout.write("Geen demo-opdracht beschikbaar; demo overgeslagen.")
            return
        # The demo prints invite links. Unless SITE_URL says where the site really lives,
        # point them at the address we are about to serve, so `make run PORT=9000` prints
        # links that work. A wildcard address is no place to send anyone to.
        if "SITE_URL" in os.environ or host in WILDCARD_HOSTS:
            call_command("demo")
        else:
            call_command("demo", site_url=url)
