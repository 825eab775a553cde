"""One exporter per format, each rendering the same report object to bytes.

An exporter is a module with a `render(report) -> bytes` function, named here by its dotted
path and imported on first use: the PDF engine's libraries are loaded only when a PDF is made.
tests/test_reports_exporters.py runs one contract test class against every entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils import translation
from django.utils.module_loading import import_string

from ..report import Report


@dataclass(frozen=True)
class Exporter:
    format: str  # the name in URLs and on the command line
    label: str  # the name people know the format by
    extension: str
    content_type: str
    path: str  # dotted path of the render function

    def render(self, report: Report) -> bytes:
        """The document, rendered in the report's own language."""
        render: Callable[[Report], bytes] = import_string(self.path)
        with translation.override(report.language):
            return render(report)


EXPORTERS: dict[str, Exporter] = {
    exporter.format: exporter
    for exporter in (
        Exporter("pdf", "PDF", "pdf", "application/pdf", f"{__name__}.pdf.render"),
        Exporter(
            "odt",
            "ODT (OpenDocument)",
            "odt",
            "application/vnd.oasis.opendocument.text",
            f"{__name__}.odt.render",
        ),
        Exporter(
            "docx",
            "Word (DOCX)",
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            f"{__name__}.word.render",
        ),
        Exporter(
            "md", "Markdown", "md", "text/markdown; charset=utf-8", f"{__name__}.markdown.render"
        ),
        Exporter("json", "JSON", "json", "application/json", f"{__name__}.jsonfile.render"),
    )
}


def get_exporter(fmt: str) -> Exporter:
    """The exporter for `fmt`; KeyError for a format we do not make."""
    return EXPORTERS[fmt]
