"""Three-way merge of two edits of one text, when they do not touch the same words."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

# Words, runs of white space and single punctuation marks: merging whole words keeps a
# merge from stitching half a word of one person to half a word of another.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _changes(base: list[str], edited: list[str]) -> list[tuple[int, int, list[str]]]:
    """The edits that turn `base` into `edited`: (start, end, replacement) in base tokens."""
    matcher = SequenceMatcher(None, base, edited, autojunk=False)
    return [
        (i1, i2, edited[j1:j2])
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def merge(base: str, theirs: str, mine: str) -> str | None:
    """Both edits applied to `base`, or None when they overlap (the user must choose).

    Two changes conflict when their ranges in the base overlap or touch, and also when both
    insert at the same place: then the order of the two is a human decision.
    """
    if theirs == base or mine == theirs:
        return mine
    if mine == base:
        return theirs
    tokens = _tokens(base)
    changes = sorted(
        [(start, end, text, 0) for start, end, text in _changes(tokens, _tokens(theirs))]
        + [(start, end, text, 1) for start, end, text in _changes(tokens, _tokens(mine))]
    )
    reach = {0: -1, 1: -1}  # how far each side's changes reach so far
    for start, end, _text, who in changes:
        if start <= reach[1 - who]:
            return None
        reach[who] = max(reach[who], end)
    result: list[str] = []
    position = 0
    for start, end, text, _who in changes:
        result.extend(tokens[position:start])
        result.extend(text)
        position = end
    result.extend(tokens[position:])
    return "".join(result)
