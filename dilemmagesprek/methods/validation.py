"""Turn the plain data of a method (a parsed TOML file, or a frozen copy) into a `Method`.

Validation is strict and hand-written so that an error names the file, the exact key path and
the problem in words a method author understands. A method is data edited by people: a typo
must fail at `check` time, not turn up as a missing label in a live conversation. The first
problem found is raised; the author fixes it and validates again.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from typing import Any, NoReturn

from .schema import (
    COLUMN_NUMBERING,
    FIELD_KINDS,
    DilemmaKind,
    Field,
    Matrix,
    MatrixRow,
    Method,
    Preparation,
    PreparationQuestion,
    Step,
    Text,
    Variant,
)

SCHEMA_VERSIONS = (1,)
DEFAULT_MAX_LENGTH = 4000
MAX_LENGTH_LIMIT = 10000
# A worksheet with more columns than this stops being readable on any screen.
MAX_COLUMNS = 100
PREPARATION_GROUPS = ("analysis", "self")
LANGUAGES = ("nl", "en")

# The keys each table must have; optional keys are named where they are read.
_METHOD_KEYS = ("schema_version", "slug", "version", "name", "description", "variants")
_METHOD_KEYS += ("default_variant", "matrices", "steps", "preparation", "dilemma_kinds")
_STEP_KEYS = ("number", "key", "name", "question", "purpose", "guidance", "instruction")
_STEP_KEYS += ("timebox", "fields")

_KEY_RE = re.compile(r"[a-z][a-z0-9_]*")
_SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class MethodError(Exception):
    """An invalid method: which file, which key (e.g. "steps[2].fields[0].label.nl"), what."""

    def __init__(self, source: str, path: str, problem: str) -> None:
        super().__init__(source, path, problem)
        self.source = source
        self.path = path
        self.problem = problem

    def __str__(self) -> str:
        if self.path:
            return f"{self.source}: {self.path}: {self.problem}"
        return f"{self.source}: {self.problem}"


def validate(data: Any, source: str = "<data>") -> Method:
    """The Method described by `data`, without `raw`; raise MethodError on the first problem."""
    return _Parser(source).method(data)


def plain_form(method: Method) -> dict[str, Any]:
    """The JSON-ready form of a method in the file's shape: `validate(plain_form(m)) == m`."""
    return _plain(method)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _describe(value: Any) -> str:
    # bool before int: True is an int to Python, but not to a method author.
    if isinstance(value, bool):
        return "a boolean"
    names = {int: "an integer", float: "a number with decimals", str: "a string"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "nothing (null)"
    return f"a {type(value).__name__}"


def _listing(keys: list[str] | tuple[str, ...]) -> str:
    return ", ".join(keys) if keys else "(none)"


class _Parser:
    """Walks the plain data of one method; every accessor knows the key path it reads."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, problem: str) -> NoReturn:
        raise MethodError(self.source, path, problem)

    # Generic accessors.

    def table(
        self, value: Any, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"expected a table, got {_describe(value)}")
        allowed = required + optional
        # Unknown keys first: a misspelt key would otherwise show up as a missing one.
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed: {_listing(allowed)}"
                self.fail(_join(path, str(key)), f"unknown key ({hint})")
        for key in required:
            if key not in value:
                self.fail(_join(path, key), "missing required key")
        return value

    def string(self, table: dict[str, Any], key: str, path: str) -> str:
        value = table[key]
        path = _join(path, key)
        if not isinstance(value, str):
            self.fail(path, f"expected a string, got {_describe(value)}")
        if not value.strip():
            self.fail(path, "must not be empty")
        return value

    def key(self, table: dict[str, Any], key: str, path: str) -> str:
        value = self.string(table, key, path)
        if not _KEY_RE.fullmatch(value):
            self.fail(
                _join(path, key),
                f"{value!r} is not a valid key: use lowercase letters, digits and underscores, "
                "starting with a letter",
            )
        return value

    def integer(
        self,
        table: dict[str, Any],
        key: str,
        path: str,
        minimum: int = 1,
        maximum: int | None = None,
    ) -> int:
        value = table[key]
        path = _join(path, key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"expected an integer, got {_describe(value)}")
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"
            self.fail(path, f"must be {bounds}, got {value}")
        return value

    def boolean(self, table: dict[str, Any], key: str, path: str) -> bool:
        value = table[key]
        if not isinstance(value, bool):
            self.fail(_join(path, key), f"expected true or false, got {_describe(value)}")
        return value

    def choice(self, table: dict[str, Any], key: str, path: str, choices: tuple[str, ...]) -> str:
        value = self.string(table, key, path)
        if value not in choices:
            self.fail(_join(path, key), f"{value!r} is not one of: {_listing(choices)}")
        return value

    def array(self, table: dict[str, Any], key: str, path: str, min_items: int = 0) -> list[Any]:
        value = table[key]
        path = _join(path, key)
        if not isinstance(value, list):
            self.fail(path, f"expected an array, got {_describe(value)}")
        if len(value) < min_items:
            self.fail(path, f"needs at least {min_items} item{'s' if min_items > 1 else ''}")
        return value

    def text_value(self, value: Any, path: str) -> Text:
        if not isinstance(value, dict):
            self.fail(path, f"expected a table with 'nl' and 'en', got {_describe(value)}")
        for key in value:
            if key not in LANGUAGES:
                self.fail(_join(path, str(key)), "unknown language (texts have 'nl' and 'en')")
        for language, name in (("nl", "Dutch"), ("en", "English")):
            if language not in value:
                self.fail(
                    _join(path, language), f"missing the {name} text (every text needs nl and en)"
                )
        return Text(nl=self.string(value, "nl", path), en=self.string(value, "en", path))

    def text(self, table: dict[str, Any], key: str, path: str) -> Text:
        return self.text_value(table[key], _join(path, key))

    def unique(self, seen: dict[str, str], value: str, path: str, what: str) -> None:
        """Record `value` at `path`; fail if an earlier item already used it."""
        if value in seen:
            self.fail(path, f"duplicate {what} {value!r} (also used at {seen[value]})")
        seen[value] = path

    def max_length(self, table: dict[str, Any], path: str) -> int:
        if "max_length" not in table:
            return DEFAULT_MAX_LENGTH
        return self.integer(table, "max_length", path, 1, MAX_LENGTH_LIMIT)

    # The method, top-down.

    def method(self, data: Any) -> Method:
        if not isinstance(data, dict):
            self.fail("", f"expected a table at the top level, got {_describe(data)}")
        # The schema version first: a newer file should say so, not list its new keys as unknown.
        if "schema_version" in data:
            version = data["schema_version"]
            if isinstance(version, bool) or not isinstance(version, int):
                self.fail("schema_version", f"expected an integer, got {_describe(version)}")
            if version not in SCHEMA_VERSIONS:
                supported = ", ".join(str(v) for v in SCHEMA_VERSIONS)
                self.fail(
                    "schema_version", f"unsupported version {version} (this app reads {supported})"
                )
        data = self.table(
            data,
            "",
            _METHOD_KEYS,
        )
        slug = self.string(data, "slug", "")
        if not _SLUG_RE.fullmatch(slug):
            self.fail(
                "slug", f"{slug!r} is not a valid slug: use lowercase letters, digits and hyphens"
            )
        version = self.string(data, "version", "")
        name = self.text(data, "name", "")
        description = self.text(data, "description", "")

        variants = self.variants(data)
        variant_keys = tuple(variant.key for variant in variants)
        default_variant = self.string(data, "default_variant", "")
        if default_variant not in variant_keys:
            self.fail(
                "default_variant",
                f"unknown variant {default_variant!r} (variants: {_listing(variant_keys)})",
            )

        matrices = self.matrices(data)
        steps = self.steps(data, variant_keys, matrices)
        self.check_timeboxes(variants, steps)
        self.check_matrices_used(matrices, steps)

        return Method(
            schema_version=data["schema_version"],
            slug=slug,
            version=version,
            name=name,
            description=description,
            variants=variants,
            default_variant=default_variant,
            matrices=matrices,
            steps=steps,
            preparation=self.preparation(data["preparation"], "preparation"),
            dilemma_kinds=self.dilemma_kinds(data),
        )

    def variants(self, data: dict[str, Any]) -> tuple[Variant, ...]:
        seen: dict[str, str] = {}
        variants = []
        for index, item in enumerate(self.array(data, "variants", "", min_items=1)):
            path = f"variants[{index}]"
            item = self.table(item, path, ("key", "label", "minutes"))
            key = self.key(item, "key", path)
            self.unique(seen, key, _join(path, "key"), "variant key")
            label = self.text(item, "label", path)
            variants.append(
                Variant(key=key, label=label, minutes=self.integer(item, "minutes", path))
            )
        return tuple(variants)

    def matrices(self, data: dict[str, Any]) -> dict[str, Matrix]:
        seen: dict[str, str] = {}
        matrices: dict[str, Matrix] = {}
        for index, item in enumerate(self.array(data, "matrices", "")):
            path = f"matrices[{index}]"
            item = self.table(
                item,
                path,
                ("key", "corner", "column", "numbering", "start_count", "max_count", "rows"),
            )
            key = self.key(item, "key", path)
            self.unique(seen, key, _join(path, "key"), "matrix key")
            corner = self.text(item, "corner", path)
            column = self.text(item, "column", path)
            numbering = self.choice(item, "numbering", path, COLUMN_NUMBERING)
            start_count = self.integer(item, "start_count", path, 1, MAX_COLUMNS)
            max_count = self.integer(item, "max_count", path, 1, MAX_COLUMNS)
            if start_count > max_count:
                self.fail(
                    _join(path, "start_count"),
                    f"is {start_count}, more than max_count ({max_count})",
                )
            matrices[key] = Matrix(
                key=key,
                corner=corner,
                column=column,
                numbering=numbering,
                start_count=start_count,
                max_count=max_count,
                rows=self.matrix_rows(item, path),
            )
        return matrices

    def matrix_rows(self, matrix: dict[str, Any], matrix_path: str) -> tuple[MatrixRow, ...]:
        seen: dict[str, str] = {}
        rows = []
        for index, item in enumerate(self.array(matrix, "rows", matrix_path, min_items=1)):
            path = f"{matrix_path}.rows[{index}]"
            item = self.table(item, path, ("key", "label", "help"))
            key = self.key(item, "key", path)
            self.unique(seen, key, _join(path, "key"), "row key")
            rows.append(
                MatrixRow(
                    key=key,
                    label=self.text(item, "label", path),
                    help=self.text(item, "help", path),
                )
            )
        return tuple(rows)

    def steps(
        self, data: dict[str, Any], variant_keys: tuple[str, ...], matrices: dict[str, Matrix]
    ) -> tuple[Step, ...]:
        step_keys: dict[str, str] = {}
        field_keys: dict[str, str] = {}
        matrix_users: dict[str, str] = {}
        steps = []
        for index, item in enumerate(self.array(data, "steps", "", min_items=1)):
            path = f"steps[{index}]"
            item = self.table(
                item,
                path,
                _STEP_KEYS,
            )
            # Numbers follow the file order, so "step 3" always means the third step listed.
            number = self.integer(item, "number", path)
            if number != index + 1:
                self.fail(
                    _join(path, "number"),
                    f"expected {index + 1}, got {number}: steps count 1, 2, 3… in file order",
                )
            key = self.key(item, "key", path)
            self.unique(step_keys, key, _join(path, "key"), "step key")
            steps.append(
                Step(
                    number=number,
                    key=key,
                    name=self.text(item, "name", path),
                    question=self.text(item, "question", path),
                    purpose=self.text(item, "purpose", path),
                    guidance=self.text(item, "guidance", path),
                    instruction=self.text(item, "instruction", path),
                    timebox=self.timebox(item, path, variant_keys),
                    fields=self.fields(item, path, matrices, field_keys, matrix_users),
                )
            )
        return tuple(steps)

    def timebox(
        self, step: dict[str, Any], step_path: str, variant_keys: tuple[str, ...]
    ) -> dict[str, int]:
        path = _join(step_path, "timebox")
        value = step["timebox"]
        if not isinstance(value, dict):
            self.fail(path, f"expected a table of minutes per variant, got {_describe(value)}")
        for key in value:
            if key not in variant_keys:
                self.fail(
                    _join(path, str(key)), f"unknown variant (variants: {_listing(variant_keys)})"
                )
        for key in variant_keys:
            if key not in value:
                self.fail(_join(path, key), f"missing the minutes for variant {key!r}")
        return {key: self.integer(value, key, path) for key in variant_keys}

    def fields(
        self,
        step: dict[str, Any],
        step_path: str,
        matrices: dict[str, Matrix],
        field_keys: dict[str, str],
        matrix_users: dict[str, str],
    ) -> tuple[Field, ...]:
        fields = []
        for index, item in enumerate(self.array(step, "fields", step_path)):
            path = f"{step_path}.fields[{index}]"
            item = self.table(
                item,
                path,
                ("key", "kind", "label", "help"),
                ("matrix", "owner_confirms", "max_length"),
            )
            key = self.key(item, "key", path)
            self.unique(field_keys, key, _join(path, "key"), "field key")
            kind = self.choice(item, "kind", path, FIELD_KINDS)
            matrix = None
            if kind == "matrix":
                if "matrix" not in item:
                    self.fail(
                        _join(path, "matrix"),
                        "missing required key (a matrix field names its matrix)",
                    )
                matrix = self.string(item, "matrix", path)
                if matrix not in matrices:
                    self.fail(
                        _join(path, "matrix"),
                        f"unknown matrix {matrix!r} (matrices: {_listing(list(matrices))})",
                    )
                # One matrix, one place on the worksheet: its cards belong to exactly one field.
                if matrix in matrix_users:
                    self.fail(
                        _join(path, "matrix"),
                        f"matrix {matrix!r} is already used at {matrix_users[matrix]}",
                    )
                matrix_users[matrix] = path
            elif "matrix" in item:
                self.fail(
                    _join(path, "matrix"),
                    f"only a field of kind 'matrix' names a matrix, not kind {kind!r}",
                )
            owner_confirms = (
                self.boolean(item, "owner_confirms", path) if "owner_confirms" in item else False
            )
            fields.append(
                Field(
                    key=key,
                    kind=kind,
                    label=self.text(item, "label", path),
                    help=self.text(item, "help", path),
                    matrix=matrix,
                    owner_confirms=owner_confirms,
                    max_length=self.max_length(item, path),
                )
            )
        return tuple(fields)

    def check_timeboxes(self, variants: tuple[Variant, ...], steps: tuple[Step, ...]) -> None:
        for index, variant in enumerate(variants):
            minutes = [step.timebox[variant.key] for step in steps]
            if sum(minutes) != variant.minutes:
                parts = " + ".join(str(m) for m in minutes)
                self.fail(
                    f"variants[{index}].minutes",
                    f"is {variant.minutes}, but the time boxes of the steps for {variant.key!r} "
                    f"add up to {sum(minutes)} ({parts})",
                )

    def check_matrices_used(self, matrices: dict[str, Matrix], steps: tuple[Step, ...]) -> None:
        used = {field.matrix for step in steps for field in step.fields}
        for index, key in enumerate(matrices):
            if key not in used:
                self.fail(f"matrices[{index}]", f"matrix {key!r} is not used by any field")

    def preparation(self, value: Any, path: str) -> Preparation:
        item = self.table(value, path, ("intro", "questions"))
        seen: dict[str, str] = {}
        questions = []
        for index, question in enumerate(self.array(item, "questions", path)):
            question_path = f"{path}.questions[{index}]"
            question = self.table(
                question, question_path, ("key", "group", "label", "prompts"), ("max_length",)
            )
            key = self.key(question, "key", question_path)
            self.unique(seen, key, _join(question_path, "key"), "question key")
            group = self.choice(question, "group", question_path, PREPARATION_GROUPS)
            label = self.text(question, "label", question_path)
            prompts = tuple(
                self.text_value(prompt, f"{question_path}.prompts[{n}]")
                for n, prompt in enumerate(
                    self.array(question, "prompts", question_path, min_items=1)
                )
            )
            questions.append(
                PreparationQuestion(
                    key=key,
                    group=group,
                    label=label,
                    prompts=prompts,
                    max_length=self.max_length(question, question_path),
                )
            )
        return Preparation(intro=self.text(item, "intro", path), questions=tuple(questions))

    def dilemma_kinds(self, data: dict[str, Any]) -> tuple[DilemmaKind, ...]:
        seen: dict[str, str] = {}
        kinds = []
        for index, item in enumerate(self.array(data, "dilemma_kinds", "")):
            path = f"dilemma_kinds[{index}]"
            item = self.table(item, path, ("key", "label", "description"))
            key = self.key(item, "key", path)
            self.unique(seen, key, _join(path, "key"), "dilemma kind key")
            kinds.append(
                DilemmaKind(
                    key=key,
                    label=self.text(item, "label", path),
                    description=self.text(item, "description", path),
                )
            )
        return tuple(kinds)


def _plain(value: Any) -> Any:
    """The JSON-ready form of a parsed method, in the file format's shape (see parse_method)."""
    if isinstance(value, Text):
        return {"nl": value.nl, "en": value.en}
    if isinstance(value, Method):
        plain = {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name != "raw"
        }
        # Keyed by matrix key in Python, an array of tables in the file.
        plain["matrices"] = [_plain(matrix) for matrix in value.matrices.values()]
        return plain
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # None only occurs as Field.matrix on non-matrix fields, where the key must be absent.
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not None
        }
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
