"""The worksheet as it stands, read in a fixed handful of queries and shaped by the method.

The page, the projector and the report all start from `worksheet_state`, so what one shows
the others show too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import timezone

from dilemmagesprek.conversations.models import Conversation, Member
from dilemmagesprek.methods.schema import Field, Matrix, MatrixRow, Step
from dilemmagesprek.methods.woo import Ground, woo_reference

from .actions import UNDO_WINDOW
from .hints import GOOD, MESSAGES, QUESTION_FIELDS, Hint, question_hints, rules_json, words
from .models import Card, Column, Evaluation, FieldValue, NextStep, RemovedCard


@dataclass
class ColumnView:
    column: Column
    mark: str  # "A" or "1"
    heading: str  # "Speler A"
    is_first: bool = False
    is_last: bool = False

    @property
    def title(self) -> str:
        name = self.column.name
        return f"{self.heading}: {name}" if name else self.heading

    @property
    def woo_grounds(self) -> list[Ground]:
        """The Woo grounds the group tagged this option with, in the order of the law."""
        return woo_reference().in_order(self.column.woo_grounds or [])


@dataclass
class CellView:
    column: ColumnView
    row: MatrixRow
    cards: list[Card]


@dataclass
class RowView:
    row: MatrixRow
    cells: list[CellView]


@dataclass
class MatrixView:
    matrix: Matrix
    columns: list[ColumnView]
    rows: list[RowView]
    # Cards the viewer removed a moment ago and may still put back ("undo").
    removed: list[RemovedCard] = field(default_factory=list)

    @property
    def taggable(self) -> bool:
        """Whether the group can tag these columns (options) with Woo grounds."""
        return self.matrix.key in woo_reference().tag_matrices

    @property
    def is_full(self) -> bool:
        return len(self.columns) >= self.matrix.max_count


@dataclass
class FieldView:
    field: Field
    value: FieldValue | None = None
    locked: bool = False  # by the facilitator: only they change it now
    closed: bool = False  # locked, and the viewer is not the facilitator
    matrix: MatrixView | None = None
    next_steps: list[NextStep] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    my_evaluation: Evaluation | None = None

    @property
    def text(self) -> str:
        return self.value.text if self.value else ""

    @property
    def version(self) -> int:
        return self.value.version if self.value else 0

    @property
    def is_question(self) -> bool:
        """A question the group words together: the page gives live hints on it."""
        return self.field.key in QUESTION_FIELDS

    @property
    def hints(self) -> list[Hint]:
        return question_hints(self.text) if self.is_question else []

    @property
    def hint_items(self) -> list[tuple[str, str, bool]]:
        """Every hint as (code, message, shown now); the page's script shows and hides them."""
        codes = {hint.code for hint in self.hints}
        items = [(code, str(message), code in codes) for code, message in MESSAGES.items()]
        return items + [("good", str(GOOD), bool(words(self.text)) and not codes)]

    @property
    def hint_rules(self) -> str:
        return rules_json()

    @property
    def my_score(self) -> str:
        return str(self.my_evaluation.score) if self.my_evaluation else ""

    @property
    def my_remark(self) -> str:
        return self.my_evaluation.remark if self.my_evaluation else ""

    @property
    def average_score(self) -> float | None:
        if not self.evaluations:
            return None
        return round(sum(e.score for e in self.evaluations) / len(self.evaluations), 1)


@dataclass
class TimerView:
    planned_seconds: int  # the time box plus the minutes the facilitator added
    elapsed_seconds: int
    running: bool

    @property
    def planned_minutes(self) -> int:
        return self.planned_seconds // 60

    @property
    def remaining_seconds(self) -> int:
        return self.planned_seconds - self.elapsed_seconds

    @property
    def is_over(self) -> bool:
        return self.remaining_seconds <= 0


@dataclass
class StepView:
    step: Step
    fields: list[FieldView]
    is_current: bool
    minutes: int
    timer: TimerView | None = None  # only for the current step
    actual_seconds: int | None = None
    hidden_cards: int = 0  # written alone by others, not yet revealed
    locked: bool = False
    private: bool = False
    anonymous: bool = False

    @property
    def has_matrix(self) -> bool:
        return any(f.matrix is not None for f in self.fields)


@dataclass
class WorksheetView:
    conversation: Conversation
    steps: list[StepView]
    spotlight: Card | None = None

    def field(self, key: str) -> FieldView | None:
        return next((f for s in self.steps for f in s.fields if f.field.key == key), None)


def worksheet_state(conversation: Conversation, member: Member | None = None) -> WorksheetView:
    method = conversation.method
    values = {v.key: v for v in FieldValue.objects.filter(conversation=conversation)}
    columns_by_matrix: dict[str, list[Column]] = defaultdict(list)
    for column in Column.objects.filter(conversation=conversation).order_by("position"):
        columns_by_matrix[column.matrix].append(column)
    cards: dict[tuple[str, str], list[Card]] = defaultdict(list)
    hidden_counts: dict[str, int] = defaultdict(int)
    spotlight = None
    for card in Card.objects.filter(conversation=conversation).select_related("author"):
        if card.hidden and (member is None or card.author_id != member.pk):
            hidden_counts[card.column_id] += 1
            continue
        cards[(card.column_id, card.row)].append(card)
        if card.pk == conversation.spotlight_card_id:
            spotlight = card
    next_steps: dict[str, list[NextStep]] = defaultdict(list)
    for step in NextStep.objects.filter(conversation=conversation):
        next_steps[step.field_key].append(step)
    evaluations: dict[str, list[Evaluation]] = defaultdict(list)
    for evaluation in Evaluation.objects.filter(conversation=conversation).select_related("member"):
        evaluations[evaluation.field_key].append(evaluation)
    removed: dict[str, list[RemovedCard]] = defaultdict(list)
    if member is not None and conversation.is_editable:
        since = timezone.now() - UNDO_WINDOW
        for card in RemovedCard.objects.filter(
            conversation=conversation, removed_by=member, removed_at__gte=since
        ).select_related("column"):
            removed[card.column.matrix].append(card)

    def matrix_view(matrix: Matrix) -> MatrixView:
        columns = columns_by_matrix.get(matrix.key, [])
        column_views = [
            ColumnView(
                column=column,
                mark=matrix.column_mark(index),
                heading=f"{matrix.column} {matrix.column_mark(index)}",
                is_first=index == 0,
                is_last=index == len(columns) - 1,
            )
            for index, column in enumerate(columns)
        ]
        rows = [
            RowView(
                row=row,
                cells=[
                    CellView(cv, row, cards.get((cv.column.pk, row.key), [])) for cv in column_views
                ],
            )
            for row in matrix.rows
        ]
        return MatrixView(
            matrix=matrix, columns=column_views, rows=rows, removed=removed.get(matrix.key, [])
        )

    now = timezone.now()
    steps = []
    for step in method.steps:
        field_views = []
        for f in step.fields:
            locked = f.key in conversation.locked_fields or conversation.step_option(
                step.number, "locked"
            )
            view = FieldView(
                field=f,
                value=values.get(f.key),
                locked=locked,
                closed=locked and (member is None or member.role != Member.Role.FACILITATOR),
            )
            if f.kind == "matrix" and f.matrix:
                view.matrix = matrix_view(method.matrices[f.matrix])
            elif f.kind == "actions":
                view.next_steps = next_steps.get(f.key, [])
            elif f.kind == "evaluations":
                view.evaluations = evaluations.get(f.key, [])
                if member is not None:
                    view.my_evaluation = next(
                        (e for e in view.evaluations if e.member_id == member.pk), None
                    )
            field_views.append(view)
        minutes = step.timebox.get(conversation.variant, 0)
        is_current = step.number == conversation.current_step
        timer = None
        if is_current:
            timer = TimerView(
                planned_seconds=(minutes + conversation.timer_extra) * 60,
                elapsed_seconds=conversation.timer_seconds(now),
                running=conversation.timer_started_at is not None,
            )
        steps.append(
            StepView(
                step=step,
                fields=field_views,
                is_current=is_current,
                minutes=minutes,
                timer=timer,
                actual_seconds=conversation.actual_seconds(step.number, now),
                hidden_cards=sum(
                    hidden_counts.get(cv.column.pk, 0)
                    for f in field_views if f.matrix for cv in f.matrix.columns
                ),
                locked=conversation.step_option(step.number, "locked"),
                private=conversation.step_option(step.number, "private"),
                anonymous=conversation.is_anonymous_step(step.number),
            )
        )
    return WorksheetView(conversation=conversation, steps=steps, spotlight=spotlight)
