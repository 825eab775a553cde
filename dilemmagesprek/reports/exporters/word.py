"""DOCX (Word): real headings, tables and lists, document language nl-NL.

python-docx's blank document provides the styles ("Heading 1", "List Bullet", "Table Grid");
we set the language on the document defaults, repeat each table's header row on every page, and
put the marking and the title in the page header and "Pagina X van Y" in the footer.
"""

from __future__ import annotations

import io
import re

import docx
from docx.document import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, RGBColor
from docx.text.paragraph import Paragraph as DocxParagraph

from ..outline import BulletList, Heading, Paragraph, Table, outline
from ..report import Report
from .common import document_language, page_of_pages, xml_safe

MUTED = RGBColor(0x54, 0x54, 0x54)


def render(report: Report) -> bytes:
    document = docx.Document()
    language = document_language(report.language)
    _set_language(document, language)
    properties = document.core_properties
    properties.title = xml_safe(report.title)
    properties.subject = xml_safe(report.method_name)
    properties.language = language
    properties.author = ""
    properties.last_modified_by = ""
    properties.comments = ""
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(20))
    _header_and_footer(document, report)

    for block in outline(report):
        if isinstance(block, Heading):
            document.add_heading(xml_safe(block.text), level=min(block.level, 9))
        elif isinstance(block, Paragraph):
            paragraph = document.add_paragraph()
            run = paragraph.add_run(xml_safe(block.text))
            run.bold = block.kind == "label"
            if block.kind in ("note", "empty"):
                run.italic = True
                run.font.color.rgb = MUTED
        elif isinstance(block, BulletList):
            for item in block.items:
                paragraph = document.add_paragraph(style="List Bullet")
                paragraph.add_run(xml_safe(item.text))
                if item.note:
                    note = paragraph.add_run(xml_safe(f" — {item.note}"))
                    note.italic = True
                    note.font.color.rgb = MUTED
        elif isinstance(block, Table):
            _table(document, block)
    output = io.BytesIO()
    document.save(output)
    return output.getvalue()


def _table(document: Document, block: Table) -> None:
    width = len(block.head) or max((len(row) for row in block.rows), default=1)
    rows = ([block.head] if block.head else []) + list(block.rows)
    table = document.add_table(rows=len(rows), cols=width)
    table.style = "Table Grid"
    for row_index, values in enumerate(rows):
        is_head = bool(block.head) and row_index == 0
        row = table.rows[row_index]
        if is_head:
            # Repeat the header row at the top of every page the table runs onto.
            marker = OxmlElement("w:tblHeader")
            marker.set(qn("w:val"), "true")
            row._tr.get_or_add_trPr().append(marker)
        for column_index, text in enumerate(values):
            paragraph = row.cells[column_index].paragraphs[0]
            run = paragraph.add_run(xml_safe(text))
            run.bold = is_head or (block.row_headers and column_index == 0)
    document.add_paragraph()


def _set_language(document: Document, language: str) -> None:
    """Declare `language` on the document defaults and the Normal style."""
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    targets = [document.styles["Normal"].element.get_or_add_rPr()]
    if defaults is not None:
        run_defaults = defaults.find(qn("w:rPrDefault"))
        if run_defaults is not None and run_defaults.find(qn("w:rPr")) is not None:
            targets.append(run_defaults.find(qn("w:rPr")))
    for properties in targets:
        lang = properties.find(qn("w:lang"))
        if lang is None:
            lang = OxmlElement("w:lang")
            properties.append(lang)
        lang.set(qn("w:val"), language)


def _header_and_footer(document: Document, report: Report) -> None:
    section = document.sections[0]
    header = section.header.paragraphs[0]
    marking = header.add_run(xml_safe(report.confidentiality_label))
    marking.bold = True
    header.add_run(xml_safe(f" · {report.title}"))
    footer = section.footer.paragraphs[0]
    for part in re.split(r"(%\(page\)s|%\(pages\)s)", page_of_pages()):
        if part == "%(page)s":
            _field(footer, "PAGE")
        elif part == "%(pages)s":
            _field(footer, "NUMPAGES")
        elif part:
            footer.add_run(part)


def _field(paragraph: DocxParagraph, instruction: str) -> None:
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)
