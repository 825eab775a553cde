"""JSON: the complete conversation, versioned (docs/report-json-schema.md)."""

from __future__ import annotations

import json

from ..document import to_document
from ..report import Report


def render(report: Report) -> bytes:
    text = json.dumps(to_document(report), ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")
