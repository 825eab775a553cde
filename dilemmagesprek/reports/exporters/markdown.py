"""Markdown (CommonMark with GitHub's tables), for pasting into other tools.

Every text from the conversation is escaped, so whatever a renderer does with the file, a
`<script>` or a `[link](…)` typed on a card stays text: its characters are backslash-escaped,
which CommonMark allows before any punctuation and prints without the backslash.
"""

from __future__ import annotations

import re

from ..outline import BulletList, Heading, Paragraph, Table, outline
from ..report import Report

# Characters with a meaning anywhere in a line ("&" starts entities such as &lt;).
_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")
# Characters with a meaning at the start of a line: headings, quotes, lists, rules, setext.
_LINE_START = re.compile(r"^(\s*)([#>+=-])")
_ORDERED = re.compile(r"^(\s*\d+)([.)])")


def escape(text: str) -> str:
    """One line of conversation text as inert Markdown."""
    text = _INLINE.sub(r"\\\1", text)
    text = _LINE_START.sub(r"\1\\\2", text)
    return _ORDERED.sub(r"\1\\\2", text)


def _lines(text: str) -> list[str]:
    # Leading spaces would turn a line into code; a renderer drops them anyway.
    return [escape(line.strip()) for line in text.split("\n")]


def _paragraphs(text: str) -> str:
    """Multi-line text: blank lines separate paragraphs, other line breaks are kept (\\)."""
    chunks = re.split(r"\n\s*\n", text)
    return "\n\n".join(
        "\\\n".join(line for line in _lines(chunk) if line) for chunk in chunks if chunk.strip()
    )


def _cell(text: str) -> str:
    return "<br>".join(line for line in _lines(text) if line) or " "


def render(report: Report) -> bytes:
    out: list[str] = [f"**{escape(report.confidentiality_label)}**"]
    for block in outline(report):
        if isinstance(block, Heading):
            out.append("#" * min(block.level, 6) + " " + escape(" ".join(block.text.split())))
        elif isinstance(block, Paragraph):
            text = _paragraphs(block.text)
            if block.kind == "label":
                text = f"**{text}**"
            elif block.kind in ("note", "empty"):
                text = f"*{text}*"
            out.append(text)
        elif isinstance(block, BulletList):
            items = []
            for item in block.items:
                text = "\\\n  ".join(line for line in _lines(item.text) if line)
                if item.note:
                    text += f" — *{escape(item.note)}*"
                items.append(f"- {text}")
            out.append("\n".join(items))
        elif isinstance(block, Table):
            if block.kind == "facts":
                out.append("\n".join(f"- **{escape(k)}:** {_cell(v)}" for k, v in block.rows))
                continue
            lines = [
                "| " + " | ".join(escape(h) for h in block.head) + " |",
                "|" + "|".join(" --- " for _ in block.head) + "|",
            ]
            lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in block.rows]
            out.append("\n".join(lines))
    return ("\n\n".join(out) + "\n").encode("utf-8")
