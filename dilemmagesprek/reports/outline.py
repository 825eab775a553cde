"""The report's full text as a sequence of blocks: headings, paragraphs, lists and tables.

Every document exporter (the PDF's detail pages, ODT, DOCX, Markdown) renders this one sequence,
so the formats cannot drift apart: a field added here appears in all of them.
Call `outline` with the report's language active (the exporters do).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .report import Report, ReportCard, ReportColumn, ReportField, ReportStep

# The placeholder for an empty cell or a time nobody measured.
DASH = "—"

# Bidirectional controls: embeddings and overrides (closed by U+202C), isolates (by U+2069).
_EMBEDDINGS = "\u202a\u202b\u202d\u202e"
_ISOLATES = "\u2066\u2067\u2068"
_BIDI = set(_EMBEDDINGS + _ISOLATES + "\u202c\u2069")


def close_bidi(text: str) -> str:
    """`text` with every bidirectional embedding, override or isolate it opens closed again.

    A right-to-left override typed on a card then reverses that card only, never the author's
    name printed after it. Text without such controls (nearly all) comes back unchanged.
    """
    if not _BIDI.intersection(text):
        return text
    stack: list[str] = []
    for char in text:
        if char in _EMBEDDINGS:
            stack.append("\u202c")
        elif char in _ISOLATES:
            stack.append("\u2069")
        elif char == "\u202c" and stack and stack[-1] == "\u202c":
            stack.pop()
        elif char == "\u2069" and "\u2069" in stack:
            while stack.pop() != "\u2069":
                pass
    return text + "".join(reversed(stack))


@dataclass(frozen=True)
class Heading:
    type: ClassVar[str] = "heading"  # for templates, which cannot ask isinstance
    level: int  # 1 is the report's title
    text: str


@dataclass(frozen=True)
class Paragraph:
    type: ClassVar[str] = "paragraph"
    text: str  # may hold line breaks
    kind: str = "text"  # "text", "label" (a bold lead-in), "note" (muted), "empty" (muted, italic)


@dataclass(frozen=True)
class ListItem:
    text: str
    note: str = ""  # e.g. who wrote the card


@dataclass(frozen=True)
class BulletList:
    type: ClassVar[str] = "list"
    items: tuple[ListItem, ...]


@dataclass(frozen=True)
class Table:
    type: ClassVar[str] = "table"
    head: tuple[str, ...]  # column headers; empty for a table of facts
    rows: tuple[tuple[str, ...], ...]
    row_headers: bool = False  # the first cell of each row names the row
    kind: str = "data"  # "data" or "facts"


Block = Heading | Paragraph | BulletList | Table


def minutes(value: int | None) -> str:
    if value is None:
        return DASH
    return _("%(minutes)d min") % {"minutes": value}


def long_date(report: Report) -> str:
    return formats.date_format(report.date, "j F Y")


def made_on(report: Report) -> str:
    return formats.date_format(report.generated_at, "j F Y")


def facts(report: Report) -> list[tuple[str, str]]:
    """What the report is about, as label–value pairs."""
    return [
        (_("Method"), f"{report.method_name} ({report.method_version})"),
        (_("Duration"), report.variant_label),
        (_("Date"), long_date(report)),
        (_("Status"), report.status_label),
        (_("Marking"), report.confidentiality_label),
        (_("Report made on"), made_on(report)),
    ]


def average_line(field: ReportField) -> str:
    count = len(field.evaluations)
    if not count:
        return _("Nobody gave a score.")
    return ngettext(
        "Average score %(average)s out of 5 (%(count)d answer).",
        "Average score %(average)s out of 5 (%(count)d answers).",
        count,
    ) % {"average": formats.number_format(field.average_score or 0, 1), "count": count}


def outline(report: Report) -> list[Block]:
    blocks: list[Block] = [
        Heading(1, report.title),
        Table((), tuple(facts(report)), row_headers=True, kind="facts"),
        Heading(2, _("Members")),
    ]
    blocks.append(_members(report))
    for step in report.steps:
        blocks.extend(_step(step))
    blocks.append(Heading(2, _("Time per step")))
    blocks.append(
        Table(
            (_("Step"), _("Planned"), _("Actual")),
            tuple(
                (f"{s.number}. {s.name}", minutes(s.planned_minutes), minutes(s.actual_minutes))
                for s in report.steps
            ),
            row_headers=True,
        )
    )
    if report.shows_preparation and report.preparation is not None:
        blocks.append(Heading(2, _("Preparation of the dilemma owner")))
        if report.preparation.dilemma_kinds:
            blocks.append(Paragraph(_("Kinds of dilemma"), "label"))
            kinds = report.preparation.dilemma_kinds
            blocks.append(BulletList(tuple(ListItem(kind.label) for kind in kinds)))
        answered = [a for a in report.preparation.answers if a.text]
        for answer in answered:
            blocks.append(Heading(3, answer.label))
            blocks.append(Paragraph(answer.text))
        if not answered and not report.preparation.dilemma_kinds:
            blocks.append(Paragraph(_("The preparation is empty."), "empty"))
    return blocks


def _members(report: Report) -> Block:
    present = report.present_members
    if not present:
        return Paragraph(_("Nobody."), "empty")
    if report.anonymous:
        return BulletList(tuple(ListItem(m.label) for m in present))
    return Table((_("Name"), _("Role")), tuple((m.display_name, m.role_label) for m in present))


def _step(step: ReportStep) -> list[Block]:
    blocks: list[Block] = [
        Heading(2, f"{step.number}. {step.name}"),
        Paragraph(step.question, "note"),
    ]
    for field in step.fields:
        blocks.append(Heading(3, field.label))
        if field.kind == "matrix":
            blocks.extend(_matrix(field))
        elif field.kind == "actions":
            blocks.append(_actions(field))
        elif field.kind == "evaluations":
            blocks.extend(_evaluations(field))
        else:
            blocks.extend(_text(field))
    return blocks


def _text(field: ReportField) -> list[Block]:
    if not field.text:
        return [Paragraph(_("Not filled in."), "empty")]
    blocks: list[Block] = [Paragraph(field.text)]
    if field.confirmed:
        by = f" ({field.confirmed_by.label})" if field.confirmed_by else ""
        blocks.append(Paragraph(_("Confirmed by the dilemma owner") + by, "note"))
    return blocks


def _matrix(field: ReportField) -> list[Block]:
    matrix = field.matrix
    if matrix is None or not matrix.columns:
        return [Paragraph(_("No columns."), "empty")]
    blocks: list[Block] = []
    for column in matrix.columns:
        blocks.append(Heading(4, column.title))
        if column.woo_grounds:
            blocks.append(Paragraph(woo_line(column)))
        for cell in column.cells:
            blocks.append(Paragraph(cell.row_label, "label"))
            if cell.cards:
                items = tuple(
                    ListItem(close_bidi(card.text), card_note(card)) for card in cell.cards
                )
                blocks.append(BulletList(items))
            else:
                blocks.append(Paragraph(DASH, "empty"))
    return blocks


def woo_line(column: ReportColumn) -> str:
    """The Woo grounds an option is tagged with, in full, as one sentence."""
    grounds = "; ".join(f"{g.cite} ({g.label})" for g in column.woo_grounds)
    return _("Woo grounds the group sees here: %(grounds)s.") % {"grounds": grounds}


def card_note(card: ReportCard) -> str:
    if card.anonymous:
        return _("anonymous")
    return card.author_label


def _actions(field: ReportField) -> Block:
    if not field.actions:
        return Paragraph(_("No actions agreed."), "empty")
    return Table(
        (_("What"), _("Who"), _("When")),
        tuple((a.what, a.who or DASH, a.when or DASH) for a in field.actions),
    )


def _evaluations(field: ReportField) -> list[Block]:
    blocks: list[Block] = [Paragraph(average_line(field))]
    if field.evaluations:
        blocks.append(
            Table(
                (_("Member"), _("Score"), _("Remark")),
                tuple((e.member.label, str(e.score), e.remark or DASH) for e in field.evaluations),
            )
        )
    return blocks
