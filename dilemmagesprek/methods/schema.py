"""The parsed form of a method file: immutable dataclasses the rest of the app reads.

A method file (TOML) is validated and turned into these objects by `methods.loader`. Everything
the worksheet shows — steps, questions, matrices, guidance, time boxes — comes from here, so the
templates never name a step themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import get_language

FIELD_KINDS = ("text", "matrix", "actions", "evaluations")
COLUMN_NUMBERING = ("letters", "numbers")


@dataclass(frozen=True)
class Text:
    """A text in both languages; str() gives the one of the active language."""

    nl: str
    en: str

    def __str__(self) -> str:
        return self.en if (get_language() or "nl").startswith("en") else self.nl

    def __bool__(self) -> bool:
        return bool(self.nl or self.en)


@dataclass(frozen=True)
class Variant:
    key: str  # e.g. "lang" (2 hours) or "kort" (1 hour)
    label: Text
    minutes: int


@dataclass(frozen=True)
class MatrixRow:
    key: str
    label: Text  # verbatim worksheet label, e.g. "Standpunten en emoties"
    help: Text


@dataclass(frozen=True)
class Matrix:
    """Columns added by the group (players, options) × fixed rows; cards sit in the cells."""

    key: str  # "players" or "options"
    corner: Text  # the label in the table's corner, e.g. "Verkenning"
    column: Text  # the column noun, e.g. "Speler" → "Speler A"
    numbering: str  # "letters" (A, B, C) or "numbers" (1, 2, 3)
    start_count: int
    max_count: int
    rows: tuple[MatrixRow, ...]

    def column_mark(self, position: int) -> str:
        """The letter or number of the column at 0-based position."""
        if self.numbering == "numbers":
            return str(position + 1)
        mark = ""
        position += 1
        while position:
            position, rest = divmod(position - 1, 26)
            mark = chr(ord("A") + rest) + mark
        return mark

    def row(self, key: str) -> MatrixRow | None:
        return next((row for row in self.rows if row.key == key), None)


@dataclass(frozen=True)
class Field:
    key: str  # unique across the whole method
    kind: str  # one of FIELD_KINDS
    label: Text  # verbatim worksheet question; also the field's accessible name
    help: Text
    matrix: str | None = None  # for kind "matrix": the key of the matrix
    owner_confirms: bool = False  # the dilemma owner confirms this field's text
    max_length: int = 4000


@dataclass(frozen=True)
class Step:
    number: int
    key: str
    name: Text
    question: Text
    purpose: Text
    guidance: Text  # facilitator only
    instruction: Text  # shown to participants
    timebox: dict[str, int]  # variant key → minutes
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class PreparationQuestion:
    key: str
    group: str  # "analysis" (problem analysis) or "self" (self-analysis A–D)
    label: Text
    prompts: tuple[Text, ...]
    max_length: int = 4000


@dataclass(frozen=True)
class Preparation:
    intro: Text
    questions: tuple[PreparationQuestion, ...]


@dataclass(frozen=True)
class DilemmaKind:
    key: str
    label: Text
    description: Text


@dataclass(frozen=True)
class Method:
    schema_version: int
    slug: str
    version: str
    name: Text
    description: Text
    variants: tuple[Variant, ...]
    default_variant: str
    matrices: dict[str, Matrix]
    steps: tuple[Step, ...]
    preparation: Preparation
    dilemma_kinds: tuple[DilemmaKind, ...]
    # The validated source as plain data: what a conversation freezes and stores.
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    def step(self, number: int) -> Step | None:
        return next((step for step in self.steps if step.number == number), None)

    def variant(self, key: str) -> Variant | None:
        return next((variant for variant in self.variants if variant.key == key), None)

    def field(self, key: str) -> Field | None:
        for step in self.steps:
            for candidate in step.fields:
                if candidate.key == key:
                    return candidate
        return None

    def fields(self, kind: str | None = None) -> list[Field]:
        return [f for step in self.steps for f in step.fields if kind is None or f.kind == kind]

    def step_of_field(self, key: str) -> Step | None:
        return next((s for s in self.steps if any(f.key == key for f in s.fields)), None)
