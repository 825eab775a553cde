"""Reading every export format back as text, the way a person or another tool would.

`text_of(fmt, content)` returns the document's visible text; `squeeze` removes what layout adds
(line breaks, hyphenation, spacing), so a test can ask "is this card's text in the PDF?".
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

import docx
import odfdo
from lxml import etree
from pypdf import PdfReader

# What only the layout adds: WeasyPrint's hyphenation character (U+2010) and list bullets,
# which a PDF draws on their own (pypdf may read them out between the lines of a list item).
_LAYOUT = re.compile(r"[\s\u2010\u2022\u202c\u2069]+")


def squeeze(text: str) -> str:
    """`text` without white space, layout hyphens, bullets and the bidi terminators documents
    add (outline.close_bidi): compares content, not layout."""
    return _LAYOUT.sub("", text)


def pdf_text(content: bytes, *, furniture: bool = True) -> str:
    """The text of every page; without `furniture`, the page header and footer are left out
    (they would otherwise interrupt a text that runs on to the next page)."""
    reader = PdfReader(io.BytesIO(content))
    if furniture:
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    parts: list[str] = []
    for page in reader.pages:
        height = float(page.mediabox.height)

        def visit(
            text: str, cm: list[float], tm: list[float], *_: Any, top: float = height - 40
        ) -> None:
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            if 30 <= y <= top:  # the margin boxes sit outside this band
                parts.append(text)

        page.extract_text(visitor_text=visit)
        parts.append("\n")
    return "".join(parts)


def body_text(fmt: str, content: bytes) -> str:
    """Like `text_of`, but a PDF without its page headers and footers."""
    return pdf_text(content, furniture=False) if fmt == "pdf" else text_of(fmt, content)


def bidi_visual(text: str) -> str:
    """How a run after U+202E (right-to-left override) shows: reversed, brackets mirrored."""
    head, _override, tail = text.partition("\u202e")
    mirrored = tail[::-1].translate(str.maketrans("()[]{}<>", ")(][}{><"))
    return head + mirrored


_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


def _odf_text(element: etree._Element) -> str:
    """The text of an ODF element as a reader sees it: spaces, tabs and line breaks expanded."""
    parts = [element.text or ""]
    for child in element:
        name = etree.QName(child).localname if isinstance(child.tag, str) else ""
        if name == "line-break":
            parts.append("\n")
        elif name == "tab":
            parts.append("\t")
        elif name == "s":
            parts.append(" " * int(child.get(f"{{{_TEXT_NS}}}c", "1")))
        else:
            parts.append(_odf_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def odt_text(content: bytes) -> str:
    odfdo.Document(io.BytesIO(content))  # opens in odfdo
    lines = []
    for part in ("content.xml", "styles.xml"):
        root = etree.fromstring(zip_member(content, part).encode("utf-8"))
        for paragraph in root.iter(f"{{{_TEXT_NS}}}p", f"{{{_TEXT_NS}}}h"):
            lines.append(_odf_text(paragraph))
    return "\n".join(lines)


def docx_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    parts += [p.text for p in document.sections[0].header.paragraphs]
    return "\n".join(parts)


_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def md_text(content: bytes) -> str:
    """Markdown as a renderer shows it: escapes removed, our own <br> a line break."""
    text = content.decode("utf-8").replace("<br>", "\n").replace("\\\n", "\n")
    return _MD_ESCAPE.sub(r"\1", text)


def json_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in json_strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in json_strings(item)]
    return []


def json_text(content: bytes) -> str:
    return "\n".join(json_strings(json.loads(content.decode("utf-8"))))


READERS = {"pdf": pdf_text, "odt": odt_text, "docx": docx_text, "md": md_text, "json": json_text}


def text_of(fmt: str, content: bytes) -> str:
    return READERS[fmt](content)


def zip_names(content: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.namelist()


def zip_member(content: bytes, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.read(name).decode("utf-8")
