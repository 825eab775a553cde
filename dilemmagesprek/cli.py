"""The `dilemmagesprek` command: every Django management command under the project's name.

Operators need no manage.py and no DJANGO_SETTINGS_MODULE: `dilemmagesprek serve`,
`dilemmagesprek createuser`, `dilemmagesprek migrate` and the rest all work from any folder.
"""

import os
import sys
from collections.abc import Sequence

HELP = """\
Gebruik: dilemmagesprek <opdracht> [opties]

Opdrachten:
  serve        database bijwerken, demo klaarzetten en de server starten
  createuser   een gespreksleider of beheerder aanmaken
  demo         het demogesprek klaarzetten en de links tonen
  method       een methodebestand controleren (validate) of tonen (show, list)
  export       een gesprek exporteren (pdf, odt, docx, md, json)
  import       een gesprek uit een JSON-export terugzetten
  purge        gesprekken verwijderen waarvan de bewaartermijn voorbij is
  backup       een consistente kopie van de SQLite-database maken
  migrate      alleen de database bijwerken
  check        de configuratie controleren (met --deploy voor productie)
  help         alle opdrachten; 'help <opdracht>' toont de opties van een opdracht

De instellingen komen uit omgevingsvariabelen: zie docs/configuration.md.
"""


def main(argv: Sequence[str] | None = None) -> None:
    """Run a management command; without one, print a short overview of ours."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(HELP)
        return

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dilemmagesprek.settings")
    # Imported late so that printing the help needs no settings and no data directory.
    from django.core.management import execute_from_command_line

    execute_from_command_line(["dilemmagesprek", *args])


if __name__ == "__main__":
    main()
