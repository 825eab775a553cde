"""PDF: a landscape overview in the worksheet's layout, then portrait pages with everything.

Rendered by WeasyPrint from a Django template, tagged as PDF/UA-1, hyphenated in the report's
language. Fonts come from the system (fontconfig: Noto Sans from Debian's fonts-noto-core, else
DejaVu Sans). The renderer fetches nothing: `DenyAllFetcher` refuses every URL, and our template
contains none, so user text such as `<img src=file:///etc/passwd>` is escaped and printed.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from ..outline import DASH, average_line, card_note, close_bidi, long_date, made_on, outline
from ..report import Report, ReportColumn, ReportField, ReportStep
from .common import page_of_pages, xml_safe

# What page 1 shows of each text before it cuts off; the detail pages show everything.
OVERVIEW_TEXT = 600
OVERVIEW_CARD = 160
OVERVIEW_ACTIONS = 6
OVERVIEW_GROUNDS = 3  # Woo articles under an option's name
GAP_PERCENT = 1  # between the steps of a band


class DenyAllFetcher(URLFetcher):
    """Refuses every URL WeasyPrint asks for, and remembers them (tests read `refused`)."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=())
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
        self.refused.append(url)
        raise ValueError("the report renderer fetches nothing")


@dataclass
class OverviewCell:
    cards: list[tuple[str, str]]  # (text, note) of the cards shown
    more: int  # cards left out on page 1


@dataclass
class OverviewField:
    field: ReportField
    text: str = ""
    rows: list[tuple[str, list[OverviewCell]]] = field(default_factory=list)
    columns: list[tuple[str, str]] = field(default_factory=list)  # (title, Woo grounds)
    actions: list[tuple[str, str, str]] = field(default_factory=list)
    more_actions: int = 0
    average: str = ""
    scores: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class OverviewStep:
    step: ReportStep
    fields: list[OverviewField]
    wide: bool  # holds a matrix: it gets twice the room


@dataclass
class OverviewBand:
    steps: list[OverviewStep]

    def placed(self) -> list[tuple[OverviewStep, str]]:
        """Each step with its width in percent: a step with a matrix gets twice the room.

        Plain floats with widths worked out here: a CSS grid would make WeasyPrint measure
        every word on the page first (docs/performance.md).
        """
        parts = [2 if s.wide else 1 for s in self.steps]
        room = 100 - GAP_PERCENT * (len(self.steps) - 1)
        return [(s, f"{room * p / sum(parts):.2f}") for s, p in zip(self.steps, parts, strict=True)]


def woo_cites(column: ReportColumn) -> str:
    """An option's Woo grounds as page 1 shows them: articles only, "Woo: 5.1 lid 2 e, 5.2"."""
    if not column.woo_grounds:
        return ""
    cites = ", ".join(g.cite for g in column.woo_grounds[:OVERVIEW_GROUNDS])
    more = len(column.woo_grounds) - OVERVIEW_GROUNDS
    if more > 0:
        cites += f" + {more}"
    return _("Woo: %(cites)s") % {"cites": cites}


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def overview(report: Report) -> list[OverviewBand]:
    """Page 1: the steps two by two in bands, as on the paper worksheet (1–2, 3–4, 5)."""
    steps = [
        OverviewStep(s, [_overview_field(f) for f in s.fields], any(f.matrix for f in s.fields))
        for s in report.steps
    ]
    return [OverviewBand(steps[i : i + 2]) for i in range(0, len(steps), 2)]


def _overview_field(report_field: ReportField) -> OverviewField:
    view = OverviewField(report_field)
    if report_field.kind == "matrix" and report_field.matrix is not None:
        matrix = report_field.matrix
        shown = 3 if len(matrix.columns) <= 4 else 2 if len(matrix.columns) <= 8 else 1
        view.columns = [(c.title, woo_cites(c)) for c in matrix.columns]
        view.rows = [
            (
                row.label,
                [
                    OverviewCell(
                        [(clip(c.text, OVERVIEW_CARD), card_note(c)) for c in cell.cards[:shown]],
                        max(0, len(cell.cards) - shown),
                    )
                    for cell in cells
                ],
            )
            for row, cells in matrix.grid()
        ]
    elif report_field.kind == "actions":
        view.actions = [
            (clip(a.what, OVERVIEW_CARD), clip(a.who, 60), clip(a.when, 40))
            for a in report_field.actions[:OVERVIEW_ACTIONS]
        ]
        view.more_actions = max(0, len(report_field.actions) - OVERVIEW_ACTIONS)
    elif report_field.kind == "evaluations":
        view.average = average_line(report_field)
        view.scores = [(close_bidi(e.member.label), e.score) for e in report_field.evaluations]
    else:
        view.text = clip(report_field.text, OVERVIEW_TEXT)
    return view


def css_string(text: str) -> str:
    """`text` as a CSS string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")
    return f'"{escaped}"'


def page_counter_css() -> str:
    """The footer's "Pagina X van Y" as a CSS content value, from the translated text."""
    parts = []
    for part in re.split(r"(%\(page\)s|%\(pages\)s)", page_of_pages()):
        if part == "%(page)s":
            parts.append("counter(page)")
        elif part == "%(pages)s":
            parts.append("counter(pages)")
        elif part:
            parts.append(css_string(part))
    return " ".join(parts)


def html(report: Report) -> str:
    """The HTML the PDF is made from (tests and the design work read it too)."""
    return render_to_string(
        "reports/pdf.html",
        {
            "report": report,
            "bands": overview(report),
            "blocks": outline(report),
            "date": long_date(report),
            "made_on": made_on(report),
            "dash": DASH,
            "continued": _("Everything in full from page 2 on."),
        },
    )


def render(report: Report) -> bytes:
    return render_html(html(report))


def render_html(source: str, fetcher: URLFetcher | None = None) -> bytes:
    """Any HTML through our PDF settings: our stylesheet, no fetching, PDF/UA-1."""
    fetcher = fetcher or DenyAllFetcher()
    fonts, stylesheet = _kept(
        render_to_string("reports/pdf.css", {"page_counter": page_counter_css()})
    )
    document = HTML(string=xml_safe(source), base_url=None, url_fetcher=fetcher)
    result = document.write_pdf(stylesheets=[stylesheet], font_config=fonts, pdf_variant="pdf/ua-1")
    assert result is not None
    return result


_thread = threading.local()


def _kept(stylesheet: str) -> tuple[FontConfiguration, CSS]:
    """The font configuration and our parsed stylesheet, made once per thread and kept.

    A new FontConfiguration makes Pango load and measure every font again, and parsing the
    stylesheet is work of its own: together 6 % of a large report's render (docs/performance.md).
    Pango's objects must not be shared between threads, hence one set per thread. The stylesheet
    differs per language (the page footer), so it is kept per text.
    """
    if not hasattr(_thread, "fonts"):
        _thread.fonts = FontConfiguration()
        _thread.stylesheets = {}
    if stylesheet not in _thread.stylesheets:
        # Our stylesheet holds no URL; should one slip in, its own fetcher refuses it.
        _thread.stylesheets[stylesheet] = CSS(
            string=stylesheet, font_config=_thread.fonts, url_fetcher=DenyAllFetcher()
        )
    return _thread.fonts, _thread.stylesheets[stylesheet]
