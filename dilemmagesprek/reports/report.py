"""The report object: one conversation as plain, format-neutral data.

`build_report` reads the conversation once, through `worksheets.state.worksheet_state` (the read
model the worksheet page uses too), and resolves every label in one language. The exporters get
only this object; none of them touches the database, so what one format shows the others show.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone, translation

from dilemmagesprek.conversations.models import Conversation, Member
from dilemmagesprek.conversations.permissions import Perm, can
from dilemmagesprek.preparations.models import Preparation
from dilemmagesprek.worksheets.state import FieldView, MatrixView, worksheet_state


@dataclass(frozen=True)
class ReportMember:
    ref: str  # "m1", "m2", …: stable within one report, never a database id
    display_name: str
    role: str
    role_label: str
    removed: bool
    label: str  # how the documents name this person (see member_label)


@dataclass(frozen=True)
class ReportCard:
    text: str
    anonymous: bool
    author: ReportMember | None  # always None for an anonymous card

    @property
    def author_label(self) -> str:
        return self.author.label if self.author else ""


@dataclass(frozen=True)
class ReportCell:
    row_key: str
    row_label: str
    cards: tuple[ReportCard, ...]


@dataclass(frozen=True)
class ReportWooGround:
    key: str  # as in methods/woo.toml, e.g. "5.1-2-e"
    cite: str  # the article as the law numbers it: "5.1 lid 2 e" / "5.1(2)(e)"
    label: str  # "Persoonlijke levenssfeer"


@dataclass(frozen=True)
class ReportColumn:
    mark: str  # "A" or "1"
    heading: str  # "Speler A"
    name: str  # what the group called it, may be empty
    cells: tuple[ReportCell, ...]  # one per row of the matrix, in the method's order
    # The Woo grounds the group tagged this option with, in the law's order; always empty for
    # a column of a matrix that cannot be tagged (the players).
    woo_grounds: tuple[ReportWooGround, ...] = ()

    @property
    def title(self) -> str:
        return f"{self.heading}: {self.name}" if self.name else self.heading

    @property
    def card_count(self) -> int:
        return sum(len(cell.cards) for cell in self.cells)


@dataclass(frozen=True)
class ReportRowLabel:
    key: str
    label: str


@dataclass(frozen=True)
class ReportMatrix:
    key: str
    corner: str  # "Verkenning", the label in the table's corner
    rows: tuple[ReportRowLabel, ...]
    columns: tuple[ReportColumn, ...]

    def grid(self) -> list[tuple[ReportRowLabel, list[ReportCell]]]:
        """Row by row, the cell of every column: the shape of a table."""
        return [
            (row, [column.cells[index] for column in self.columns])
            for index, row in enumerate(self.rows)
        ]


@dataclass(frozen=True)
class ReportAction:
    what: str
    who: str
    when: str


@dataclass(frozen=True)
class ReportEvaluation:
    member: ReportMember
    score: int
    remark: str


@dataclass(frozen=True)
class ReportField:
    key: str
    kind: str  # text, matrix, actions or evaluations: as in the method
    label: str  # the worksheet's own question
    max_length: int = 4000  # the method's limit for each text in this field
    text: str = ""
    confirmed: bool = False
    confirmed_by: ReportMember | None = None
    matrix: ReportMatrix | None = None
    actions: tuple[ReportAction, ...] = ()
    evaluations: tuple[ReportEvaluation, ...] = ()

    @property
    def average_score(self) -> float | None:
        if not self.evaluations:
            return None
        return round(sum(e.score for e in self.evaluations) / len(self.evaluations), 1)

    @property
    def is_empty(self) -> bool:
        if self.kind == "matrix":
            return self.matrix is None or not any(c.card_count for c in self.matrix.columns)
        return not (self.text or self.actions or self.evaluations)


@dataclass(frozen=True)
class ReportStep:
    number: int
    key: str
    name: str
    question: str
    fields: tuple[ReportField, ...]
    planned_minutes: int  # the method's time box for the conversation's variant
    actual_seconds: int | None = None  # the step timer's count; None: it never ran

    @property
    def actual_minutes(self) -> int | None:
        """Whole minutes (half a minute rounds up); None prints as "—"."""
        return None if self.actual_seconds is None else (self.actual_seconds + 30) // 60


@dataclass(frozen=True)
class ReportAnswer:
    key: str
    group: str  # "analysis" or "self"
    label: str
    text: str


@dataclass(frozen=True)
class ReportDilemmaKind:
    key: str
    label: str


@dataclass(frozen=True)
class ReportPreparation:
    shared: bool  # the owner agreed to show it in the report
    answers: tuple[ReportAnswer, ...]  # every question of the method, answered or not
    dilemma_kinds: tuple[ReportDilemmaKind, ...]


@dataclass(frozen=True)
class Report:
    conversation_id: str
    title: str
    status: str
    status_label: str
    variant: str
    variant_label: str
    current_step: int
    planned_at: datetime.datetime | None
    created_at: datetime.datetime
    generated_at: datetime.datetime
    confidentiality: str
    confidentiality_label: str
    language: str  # the language every label above and below is in
    anonymous: bool  # members appear by role only
    method_name: str
    method_slug: str
    method_version: str
    method_data: dict[str, Any]  # the conversation's frozen copy of its method
    members: tuple[ReportMember, ...]
    steps: tuple[ReportStep, ...]
    preparation: ReportPreparation | None  # None: there is none, or the reader may not see it

    @property
    def date(self) -> datetime.date:
        """The day of the conversation: the planned date, or else the day it was made."""
        return timezone.localtime(self.planned_at or self.created_at).date()

    @property
    def shows_preparation(self) -> bool:
        """Documents show the preparation only when the owner agreed to that."""
        return self.preparation is not None and self.preparation.shared

    @property
    def present_members(self) -> tuple[ReportMember, ...]:
        return tuple(m for m in self.members if not m.removed)

    def field(self, key: str) -> ReportField | None:
        return next((f for s in self.steps for f in s.fields if f.key == key), None)


def member_label(member: Member, *, anonymous: bool = False) -> str:
    """How a report names a member: by role in an anonymous conversation, else by name too."""
    role = str(member.get_role_display())
    if anonymous:
        return role
    return f"{member.display_name} ({role})"


def build_report(
    conversation: Conversation,
    *,
    viewer: Member | None = None,
    anonymous: bool = False,
    language: str | None = None,
    now: datetime.datetime | None = None,
) -> Report:
    """The report of `conversation` as `viewer` may see it (None: everything, for the CLI).

    `language` defaults to the active one; `now` is the moment printed as the report's date of
    making (tests pin it).
    """
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        return _build(conversation, viewer, anonymous, language, now or timezone.now())


def _build(
    conversation: Conversation,
    viewer: Member | None,
    anonymous: bool,
    language: str,
    now: datetime.datetime,
) -> Report:
    method = conversation.method
    members = list(conversation.members.order_by("invited_at", "id"))
    people = {
        member.pk: ReportMember(
            ref=f"m{index}",
            display_name=member.display_name,
            role=member.role,
            role_label=str(member.get_role_display()),
            removed=member.removed_at is not None,
            label=member_label(member, anonymous=anonymous),
        )
        for index, member in enumerate(members, start=1)
    }
    order = {member.pk: index for index, member in enumerate(members)}
    state = worksheet_state(conversation)

    def report_field(view: FieldView) -> ReportField:
        f = view.field
        value = view.value
        head = (f.key, f.kind, str(f.label), f.max_length)
        if f.kind == "matrix" and view.matrix is not None:
            return ReportField(*head, matrix=_matrix(view.matrix, people))
        if f.kind == "actions":
            actions = tuple(ReportAction(s.what, s.who, s.when) for s in view.next_steps)
            return ReportField(*head, actions=actions)
        if f.kind == "evaluations":
            evaluations = tuple(
                ReportEvaluation(people[e.member_id], e.score, e.remark)
                for e in sorted(view.evaluations, key=lambda e: order.get(e.member_id, 0))
                if e.member_id in people
            )
            return ReportField(*head, evaluations=evaluations)
        confirmed = bool(value and value.is_confirmed)
        return ReportField(
            *head,
            text=view.text,
            confirmed=confirmed,
            confirmed_by=people.get(value.confirmed_by_id) if value and confirmed else None,
        )

    steps = tuple(
        ReportStep(
            number=s.step.number,
            key=s.step.key,
            name=str(s.step.name),
            question=str(s.step.question),
            fields=tuple(report_field(view) for view in s.fields),
            planned_minutes=s.minutes,
            actual_seconds=conversation.actual_seconds(s.step.number, now),
        )
        for s in state.steps
    )
    variant = method.variant(conversation.variant)
    return Report(
        conversation_id=conversation.pk,
        title=conversation.title,
        status=conversation.status,
        status_label=str(conversation.get_status_display()),
        variant=conversation.variant,
        variant_label=str(variant.label) if variant else conversation.variant,
        current_step=conversation.current_step,
        planned_at=conversation.planned_at,
        created_at=conversation.created_at,
        generated_at=now,
        confidentiality=conversation.confidentiality,
        confidentiality_label=str(conversation.get_confidentiality_display()),
        language=language,
        anonymous=anonymous,
        method_name=str(method.name),
        method_slug=method.slug,
        method_version=method.version,
        method_data=method.raw,  # in the schema's order, whatever order the database kept
        members=tuple(people[m.pk] for m in members),
        steps=steps,
        preparation=_preparation(conversation, viewer),
    )


def _matrix(view: MatrixView, people: dict[str, ReportMember]) -> ReportMatrix:
    rows = tuple(ReportRowLabel(r.key, str(r.label)) for r in view.matrix.rows)
    columns = []
    for index, column_view in enumerate(view.columns):
        cells = tuple(
            ReportCell(
                row_key=row.row.key,
                row_label=str(row.row.label),
                cards=tuple(
                    ReportCard(
                        text=card.text,
                        anonymous=card.anonymous,
                        # An anonymous card never carries its author, in any format.
                        author=None if card.anonymous else people.get(card.author_id),
                    )
                    for card in row.cells[index].cards
                ),
            )
            for row in view.rows
        )
        grounds = column_view.woo_grounds if view.taggable else []
        columns.append(
            ReportColumn(
                mark=column_view.mark,
                heading=column_view.heading,
                name=column_view.column.name,
                cells=cells,
                woo_grounds=tuple(
                    ReportWooGround(g.key, str(g.cite), str(g.label)) for g in grounds
                ),
            )
        )
    return ReportMatrix(
        key=view.matrix.key, corner=str(view.matrix.corner), rows=rows, columns=tuple(columns)
    )


def _preparation(conversation: Conversation, viewer: Member | None) -> ReportPreparation | None:
    if viewer is not None and not can(viewer, Perm.VIEW_PREPARATION, conversation):
        return None
    preparation = Preparation.objects.filter(conversation=conversation).first()
    if preparation is None:
        return None
    method = conversation.method
    kinds = {kind.key: kind for kind in method.dilemma_kinds}
    return ReportPreparation(
        shared=preparation.share_in_report,
        answers=tuple(
            ReportAnswer(q.key, q.group, str(q.label), preparation.answers.get(q.key, ""))
            for q in method.preparation.questions
        ),
        dilemma_kinds=tuple(
            ReportDilemmaKind(key, str(kinds[key].label))
            for key in preparation.dilemma_kinds
            if key in kinds
        ),
    )
