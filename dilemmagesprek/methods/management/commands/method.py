"""`method validate FILE`, `method show SLUG [--json]` and `method list`.

Run as `dilemmagesprek method …` (or `django-admin method …`). Method authors use `validate`
while editing a file; it exits with status 1 and one line naming the file, the key path and
the problem when the file is invalid.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from ...loader import MethodError, UnknownMethod, available_methods, get_method, load_method_file
from ...schema import Field, Method, Step


class Command(BaseCommand):
    help = "Validate a method file, or show or list the shipped methods."
    # Checking a broken method file must not be blocked by the system check that reports it.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        validate = actions.add_parser("validate", help="Check a method file (TOML).")
        validate.add_argument("file", metavar="FILE", help="Path to the method file.")
        show = actions.add_parser("show", help="Show a shipped method.")
        show.add_argument("slug", metavar="SLUG", help="The method's slug.")
        show.add_argument("--json", action="store_true", dest="as_json", help="Print its JSON.")
        actions.add_parser("list", help="List the shipped methods.")
        for subparser in (validate, show):
            subparser.add_argument(
                "--language",
                choices=[code for code, _name in settings.LANGUAGES],
                help="Language of the output (default: the active language).",
            )

    def handle(self, *args: Any, **options: Any) -> None:
        language = options.get("language") or translation.get_language() or settings.LANGUAGE_CODE
        with translation.override(language):
            try:
                if options["action"] == "validate":
                    self.validate(options["file"])
                elif options["action"] == "show":
                    self.show(options["slug"], options["as_json"])
                else:
                    self.list()
            except MethodError as error:
                raise CommandError(str(error), returncode=1) from None

    def validate(self, path: str) -> None:
        method = load_method_file(path)
        fields = method.fields()
        # Outside the f-string: xgettext does not look inside f-strings.
        default = _("default")
        variants = ", ".join(
            f"{variant.key} {variant.minutes} min"
            + (f" ({default})" if variant.key == method.default_variant else "")
            for variant in method.variants
        )
        self.stdout.write(self.style.SUCCESS(_("%(file)s: valid") % {"file": path}))
        self.stdout.write(f"  {method.name} ({method.slug} {method.version})")
        self.stdout.write(
            "  "
            + _("%(steps)d steps, %(fields)d fields, %(matrices)d matrices")
            % {"steps": len(method.steps), "fields": len(fields), "matrices": len(method.matrices)}
        )
        self.stdout.write("  " + _("variants: %(variants)s") % {"variants": variants})

    def show(self, slug: str, as_json: bool) -> None:
        try:
            method = get_method(slug)
        except UnknownMethod:
            known = ", ".join(available_methods()) or "-"
            raise CommandError(
                _("Unknown method %(slug)r; available: %(known)s") % {"slug": slug, "known": known}
            ) from None
        if as_json:
            self.stdout.write(json.dumps(method.raw, ensure_ascii=False, indent=2))
        else:
            self.stdout.write("\n".join(outline(method)))

    def list(self) -> None:
        for slug, method in available_methods().items():
            self.stdout.write(f"{slug}\t{method.version}\t{method.name}")


def outline(method: Method) -> list[str]:
    """A plain-text overview of a method in the active language, for people reading a terminal."""
    variants = ", ".join(
        f"{variant.label} ({variant.key}, {variant.minutes} min)" for variant in method.variants
    )
    lines = [
        str(method.name),
        _("%(slug)s, version %(version)s") % {"slug": method.slug, "version": method.version},
        "",
        str(method.description),
        "",
        _("Variants: %(variants)s; default: %(default)s")
        % {"variants": variants, "default": method.default_variant},
    ]
    for step in method.steps:
        lines += ["", *_step_lines(method, step)]
    lines += ["", _("Preparation"), f"  {method.preparation.intro}"]
    for question in method.preparation.questions:
        lines.append(f"  - {question.label} [{question.key}, {question.group}]")
        lines += [f"      · {prompt}" for prompt in question.prompts]
    lines += ["", _("Kinds of dilemma")]
    lines += [f"  - {kind.label} [{kind.key}]: {kind.description}" for kind in method.dilemma_kinds]
    return lines


def _step_lines(method: Method, step: Step) -> list[str]:
    minutes = " / ".join(f"{step.timebox[variant.key]}" for variant in method.variants)
    purpose = _("Purpose")  # outside the f-string, where xgettext finds it
    lines = [
        f"{step.number}. {step.name} ({minutes} min)",
        f"   {step.question}",
        f"   {purpose}: {step.purpose}",
    ]
    for field in step.fields:
        lines.append(f"   - {_field_line(field)}")
        if field.matrix:
            matrix = method.matrices[field.matrix]
            marks = [matrix.column_mark(position) for position in range(matrix.start_count)]
            lines.append(
                f"       {matrix.column} {', '.join(marks)} … "
                f"({matrix.start_count}–{matrix.max_count})"
            )
            lines += [f"       · {row.label}" for row in matrix.rows]
    return lines


def _field_line(field: Field) -> str:
    notes = [field.key, field.kind]
    if field.owner_confirms:
        notes.append(_("owner confirms"))
    return f"{field.label} [{', '.join(notes)}]"
