"""ODT (OpenDocument Text): real headings, tables and lists, document language nl-NL.

Built on odfdo's blank text document, with two fixes from docs/reports.md: its headings carry an
outline numbering ("1.", "1.1.") that we clear, and its bullets have no indent, so we add a list
style of our own. The page header holds the marking and the title; the footer "Pagina X van Y".
"""

from __future__ import annotations

import io
import re

from django.utils.translation import gettext as _
from odfdo import (
    Cell,
    Document,
    Element,
    Header,
    HeaderRows,
    List,
    ListItem,
    Paragraph,
    Row,
    Span,
    Style,
    Table,
    VarPageCount,
    VarPageNumber,
)

from ..outline import BulletList, Heading, outline
from ..outline import Paragraph as ParagraphBlock
from ..outline import Table as TableBlock
from ..report import Report
from .common import document_language, page_of_pages, xml_safe

LIST_STYLE = "DG_20_Bullets"
PARAGRAPH_STYLES = {"text": "Text_20_body", "label": "DG_20_Label", "note": "DG_20_Note"}
PARAGRAPH_STYLES["empty"] = "DG_20_Note"
CELL_STYLE = "DG_20_Cell"
_LIST_STYLE_XML = (
    f'<text:list-style style:name="{LIST_STYLE}" style:display-name="DG Bullets">'
    '<text:list-level-style-bullet text:level="1" text:bullet-char="•">'
    '<style:list-level-properties text:list-level-position-and-space-mode="label-alignment">'
    '<style:list-level-label-alignment text:label-followed-by="listtab" '
    'text:list-tab-stop-position="0.635cm" fo:text-indent="-0.635cm" fo:margin-left="0.635cm"/>'
    "</style:list-level-properties></text:list-level-style-bullet></text:list-style>"
)


def render(report: Report) -> bytes:
    document = Document("text")
    document.set_language(document_language(report.language))
    document.meta.set_title(xml_safe(report.title))
    document.meta.set_subject(xml_safe(report.method_name))
    _prepare_styles(document)
    _page_header_and_footer(document, report)
    body = document.body
    body.clear()
    tables = 0
    for block in outline(report):
        if isinstance(block, Heading):
            # Headings never number themselves: "2. Verkennen" carries its own number.
            body.append(Header(min(block.level, 10), xml_safe(block.text)))
        elif isinstance(block, ParagraphBlock):
            body.append(_paragraph(block.text, PARAGRAPH_STYLES[block.kind]))
        elif isinstance(block, BulletList):
            items = []
            for item in block.items:
                entry = ListItem()
                paragraph = _paragraph(item.text, "List_20_Contents")
                if item.note:
                    paragraph.append(Span(xml_safe(f" — {item.note}"), style="DG_20_Emphasis"))
                entry.append(paragraph)
                items.append(entry)
            body.append(List(items, style=LIST_STYLE))
        elif isinstance(block, TableBlock):
            tables += 1
            table = _("Table")  # outside the f-string, where makemessages (xgettext) finds it
            body.append(_table(block, f"{table} {tables}"))
    output = io.BytesIO()
    document.save(output)
    return output.getvalue()


def _paragraph(text: str, style: str) -> Paragraph:
    # formatted=True turns line breaks, tabs and runs of spaces into their ODF elements.
    return Paragraph(xml_safe(text), style=style, formatted=True)


def _table(block: TableBlock, name: str) -> Table:
    width = len(block.head) or max((len(row) for row in block.rows), default=1)
    table = Table(name, style=None)
    for _column in range(width):
        table.append(Element.from_tag("<table:table-column/>"))
    if block.head:
        head_row = Row()
        for text in block.head:
            cell = Cell(style=CELL_STYLE)
            cell.append(_paragraph(text, "Table_20_Heading"))
            head_row.append(cell)
        header = HeaderRows()
        header.append(head_row)
        table.append(header)
    for values in block.rows:
        row = Row()
        for index, text in enumerate(values):
            cell = Cell(style=CELL_STYLE)
            heading = block.row_headers and index == 0
            cell.append(_paragraph(text, "Table_20_Heading" if heading else "Table_20_Contents"))
            row.append(cell)
        table.append(row)
    return table


def _prepare_styles(document: Document) -> None:
    styles = document.get_part("styles.xml")
    # The blank template numbers every heading through its outline style.
    for level in styles.get_elements("//text:outline-level-style"):
        for attribute in ("style:num-format", "style:num-suffix", "loext:num-list-format"):
            level.del_attribute(attribute)
        level.set_attribute("style:num-format", "")
    document.insert_style(Element.from_tag(_LIST_STYLE_XML))
    document.insert_style(
        Style(
            "paragraph",
            name="DG_20_Label",
            display_name="DG Label",
            parent_style="Text_20_body",
            bold=True,
        )
    )
    document.insert_style(
        Style(
            "paragraph",
            name="DG_20_Note",
            display_name="DG Note",
            parent_style="Text_20_body",
            italic=True,
            color="#545454",
        )
    )
    document.insert_style(
        Style(
            "text", name="DG_20_Emphasis", display_name="DG Emphasis", italic=True, color="#545454"
        )
    )
    for name, parent, bold in (
        ("Table_20_Contents", "Standard", False),
        ("Table_20_Heading", "Table_20_Contents", True),
        ("List_20_Contents", "Standard", False),
    ):
        document.insert_style(
            Style(
                "paragraph",
                name=name,
                display_name=name.replace("_20_", " "),
                parent_style=parent,
                bold=bold,
            )
        )
    document.insert_style(
        Style("table-cell", name=CELL_STYLE, border="0.5pt solid #8a8a8a", padding="0.1cm"),
        automatic=True,
    )


def _page_header_and_footer(document: Document, report: Report) -> None:
    master = document.get_style("master-page", "Standard")
    header = Paragraph(xml_safe(f"{report.confidentiality_label} · {report.title}"), style="Header")
    master.set_page_header(header)
    footer = Paragraph(style="Footer")
    for part in re.split(r"(%\(page\)s|%\(pages\)s)", page_of_pages()):
        if part == "%(page)s":
            footer.append(VarPageNumber())
        elif part == "%(pages)s":
            footer.append(VarPageCount())
        elif part:
            footer.append(Span(part))
    master.set_page_footer(footer)
