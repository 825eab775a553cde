"""The JSON form of a conversation: complete, versioned, and importable again.

docs/report-json-schema.md describes every key. References between parts ("m1" for a member)
are local to the document, so exporting an imported conversation gives the same document again;
only the keys in VOLATILE (new on import, or the moment of export) differ.
"""

from __future__ import annotations

import datetime
from typing import Any

from .report import Report, ReportField, ReportMatrix

FORMAT = "dilemmagesprek.conversation"
# 2: every column carries "woo_grounds" (docs/report-json-schema.md says what changed from 1).
VERSION = 2
# Key paths whose values an import does not keep: a new id, and the moments of making.
VOLATILE = ("exported_at", "conversation.id", "conversation.created_at")


def to_document(report: Report) -> dict[str, Any]:
    """The report as the plain data of the JSON export (version `VERSION`)."""
    fields = [f for step in report.steps for f in step.fields]
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": isoformat(report.generated_at),
        "conversation": {
            "id": report.conversation_id,
            "title": report.title,
            "status": report.status,
            "variant": report.variant,
            "current_step": report.current_step,
            "planned_at": isoformat(report.planned_at) if report.planned_at else None,
            "confidentiality": report.confidentiality,
            "created_at": isoformat(report.created_at),
            "step_seconds": {
                str(s.number): s.actual_seconds
                for s in report.steps
                if s.actual_seconds is not None
            },
        },
        "method": report.method_data,
        "members": [
            {
                "ref": m.ref,
                "display_name": m.display_name,
                "role": m.role,
                "removed": m.removed,
            }
            for m in report.members
        ],
        "fields": {f.key: _text_field(f) for f in fields if f.kind == "text"},
        "matrices": {
            f.matrix.key: _matrix(f.matrix) for f in fields if f.kind == "matrix" and f.matrix
        },
        "next_steps": {
            f.key: [{"what": a.what, "who": a.who, "when": a.when} for a in f.actions]
            for f in fields
            if f.kind == "actions"
        },
        "evaluations": {
            f.key: [
                {"member": e.member.ref, "score": e.score, "remark": e.remark}
                for e in f.evaluations
            ]
            for f in fields
            if f.kind == "evaluations"
        },
        "preparation": None
        if report.preparation is None
        else {
            "share_in_report": report.preparation.shared,
            "answers": {a.key: a.text for a in report.preparation.answers if a.text},
            "dilemma_kinds": [k.key for k in report.preparation.dilemma_kinds],
        },
    }


def without_volatile(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of `document` without the VOLATILE keys: what a round trip keeps exactly."""
    copy = {**document}
    for path in VOLATILE:
        *parents, last = path.split(".")
        target = copy
        for parent in parents:
            target[parent] = target = {**target[parent]}
        target.pop(last, None)
    return copy


def isoformat(moment: datetime.datetime) -> str:
    """UTC, to the second: the one way a moment is written in the document."""
    return moment.astimezone(datetime.UTC).replace(microsecond=0).isoformat()


def _text_field(field: ReportField) -> dict[str, Any]:
    return {
        "text": field.text,
        "confirmed": field.confirmed,
        "confirmed_by": field.confirmed_by.ref if field.confirmed_by else None,
    }


def _matrix(matrix: ReportMatrix) -> list[dict[str, Any]]:
    return [
        {
            "name": column.name,
            "cards": {
                cell.row_key: [
                    {
                        "text": card.text,
                        "anonymous": card.anonymous,
                        "author": card.author.ref if card.author else None,
                    }
                    for card in cell.cards
                ]
                for cell in column.cells
            },
            "woo_grounds": [ground.key for ground in column.woo_grounds],
        }
        for column in matrix.columns
    ]
