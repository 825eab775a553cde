"""A draft for "Samenvatting", written from what the group filled in.

The draft is a starting point that the group edits in step 5; it is never saved by itself, and
the report prints whatever summary the group saved.
"""

from __future__ import annotations

from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .report import Report, ReportField

# The field the draft is written for; a method without it offers no draft.
SUMMARY_FIELD = "summary"
DEFAULT_LIMIT = 4000


def draft_summary(report: Report) -> str:
    """The draft summary of `report`, in the report's language, within the field's limit.

    One line per part, in the order a reader needs them: the dilemma, the shared question, the
    options weighed, the conclusion and the choice, the next steps, how satisfied people were.
    Parts the group left empty are left out.
    """
    with translation.override(report.language):
        lines = [line for line in _lines(report) if line]
    text = "\n".join(lines)
    limit = _limit(report)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _lines(report: Report) -> list[str]:
    return [
        _text_line(report.field("dilemma"), _("Dilemma")),
        _text_line(report.field("shared_question"), _("Shared question")),
        _options_line(report.field("options")),
        _text_line(report.field("conclusion"), _("Conclusion")),
        _text_line(report.field("choice"), _("Choice")),
        _actions_line(report.field("next_steps")),
        _satisfaction_line(report.field("satisfaction")),
    ]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _text_line(field: ReportField | None, name: str) -> str:
    if field is None or not field.text:
        return ""
    return f"{name}: {_one_line(field.text)}"


def _options_line(field: ReportField | None) -> str:
    if field is None or field.matrix is None:
        return ""
    weighed = []
    for column in field.matrix.columns:
        counts = ", ".join(
            f"{len(cell.cards)} {cell.row_label.lower()}" for cell in column.cells if cell.cards
        )
        if not (column.name or counts):
            continue  # an option nobody wrote anything about was not weighed
        weighed.append(f"{_one_line(column.title)} ({counts})" if counts else column.title)
    if not weighed:
        return ""
    return _("Options weighed: %(options)s") % {"options": "; ".join(weighed)}


def _actions_line(field: ReportField | None) -> str:
    if field is None or not field.actions:
        return ""
    actions = []
    for action in field.actions:
        detail = ", ".join(part for part in (action.who, action.when) if part)
        what = _one_line(action.what)
        actions.append(f"{what} ({_one_line(detail)})" if detail else what)
    return _("Next steps: %(actions)s") % {"actions": "; ".join(actions)}


def _satisfaction_line(field: ReportField | None) -> str:
    if field is None or field.average_score is None:
        return ""
    count = len(field.evaluations)
    return ngettext(
        "Satisfaction: on average %(average)s out of 5 (%(count)d answer).",
        "Satisfaction: on average %(average)s out of 5 (%(count)d answers).",
        count,
    ) % {"average": formats.number_format(field.average_score, 1), "count": count}


def _limit(report: Report) -> int:
    field = report.field(SUMMARY_FIELD)
    return field.max_length if field else DEFAULT_LIMIT
