#!/usr/bin/env python3
"""Fill Dutch translations into locale/nl django.po from a small table, and drop fuzzy flags
on the entries it fills. Used while developing: `scripts/fill-po.py TABLE.json`."""

import json
import re
import sys
from pathlib import Path

PO = Path(__file__).resolve().parent.parent / "dilemmagesprek/locale/nl/LC_MESSAGES/django.po"


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def unquote_block(lines: list[str]) -> str:
    return "".join(json.loads(line) for line in lines)


def main() -> None:
    table = json.loads(Path(sys.argv[1]).read_text())
    entries = PO.read_text().split("\n\n")
    filled = 0
    for index, entry in enumerate(entries):
        lines = entry.split("\n")
        try:
            start = next(i for i, line in enumerate(lines) if line.startswith("msgid "))
        except StopIteration:
            continue
        end = start + 1
        while end < len(lines) and lines[end].startswith('"'):
            end += 1
        msgid = unquote_block([lines[start][6:]] + lines[start + 1 : end])
        if msgid not in table:
            continue
        value = table[msgid]
        head = [line for line in lines[:start] if not line.startswith("#|")]
        head = [re.sub(r"#, fuzzy, ?", "#, ", line) if line.startswith("#, fuzzy,") else line
                for line in head if line != "#, fuzzy"]
        body = [lines[start]] + lines[start + 1 : end]
        rest = lines[end:]
        if rest and rest[0].startswith("msgid_plural"):
            plural_end = 1
            while plural_end < len(rest) and rest[plural_end].startswith('"'):
                plural_end += 1
            body += rest[:plural_end]
            singular, plural = value
            body += [f"msgstr[0] {quote(singular)}", f"msgstr[1] {quote(plural)}"]
        else:
            body += [f"msgstr {quote(value)}"]
        entries[index] = "\n".join(head + body)
        filled += 1
    PO.write_text("\n\n".join(entries))
    print(f"filled {filled} of {len(table)}")


if __name__ == "__main__":
    main()
