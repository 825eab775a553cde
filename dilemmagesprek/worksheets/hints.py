"""Hints for wording the shared question, shown live while the group types.

The rules come from the Rijksoverheid's "stappenplan bij morele vragen" (Dialoog & Ethiek,
step 1): at most 15 words; no comma (it hints at two questions); do not start with "hoe";
preferably start with kunnen, willen, moeten, durven or mogen; do not steer towards a
conclusion. They are hints, never a block: the group decides.

`question_hints` is the rule book; the page hands the same word lists to the small script
(`question-hints.js`) as data, so the browser and the server judge a text alike.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# The method's fields that hold a question the group words together.
QUESTION_FIELDS = frozenset({"shared_question"})

MAX_WORDS = 15
# A question that starts like this asks for a plan, not for a choice.
AVOID_FIRST = ("hoe", "how")
# The verbs a moral question preferably starts with, in every form a question starts with
# (Dutch, and English for groups who write in English).
PREFER_FIRST = (
    "kunnen", "kan", "kun", "kunt", "kon", "konden",
    "willen", "wil", "wilt", "wilde", "wilden", "wou",
    "moeten", "moet", "moest", "moesten",
    "durven", "durf", "durft", "durfde", "durfden", "dorst",
    "mogen", "mag", "mocht", "mochten",
    "can", "could", "may", "might", "must", "should", "shall", "dare", "dares", "will",
    "would", "want", "wants",
)
# Words that already carry a judgement and so steer towards an answer.
STEERING = (
    "te veel", "te weinig", "te laat", "te vroeg", "niet eerlijk", "oneerlijk", "onterecht",
    "toch", "natuurlijk", "eindelijk", "gewoon", "uiteraard",
    "too much", "too many", "too little", "too late", "unfair", "not fair", "of course",
    "finally", "obviously", "surely",
)

MESSAGES = {
    "too_long": _("Make it shorter: at most 15 words."),
    "comma": _("Leave out the comma: a comma often hides two questions."),
    "starts_with_how": _("Do not start with “how”: that asks for a plan, not for a choice."),
    "no_preferred_verb": _("If you can, start with can, want, must, dare or may."),
    "steering": _("Avoid words that already give an answer, such as “too much” or “unfair”."),
}
GOOD = _("This question follows the tips.")

_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


@dataclass(frozen=True)
class Hint:
    code: str
    message: str


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def question_hints(text: str) -> list[Hint]:
    """The hints for a shared question; none for an empty text or a question that fits."""
    found = words(text)
    if not found:
        return []
    codes = []
    if len(found) > MAX_WORDS:
        codes.append("too_long")
    if "," in text:
        codes.append("comma")
    if found[0] in AVOID_FIRST:
        codes.append("starts_with_how")
    elif found[0] not in PREFER_FIRST:
        codes.append("no_preferred_verb")
    joined = " ".join(found)
    if any(re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", joined) for phrase in STEERING):
        codes.append("steering")
    return [Hint(code, str(MESSAGES[code])) for code in codes]


def rules_json() -> str:
    """The rules as data for the browser script."""
    return json.dumps(
        {
            "max_words": MAX_WORDS,
            "avoid_first": AVOID_FIRST,
            "prefer_first": PREFER_FIRST,
            "steering": STEERING,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
