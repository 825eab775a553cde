"""Small helpers the document exporters share."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

# Characters XML 1.0 cannot hold at all (the C0 controls but tab and newline, lone surrogates,
# U+FFFE and U+FFFF). Stored text never has the controls (lib.text.clean_text refuses them),
# but a document must not fail on the rest either.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_DOCUMENT_LANGUAGES = {"nl": "nl-NL", "en": "en-GB"}


def xml_safe(text: str) -> str:
    """`text` with every character XML cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def document_language(language: str) -> str:
    """The language tag a document declares, e.g. "nl-NL" for Dutch."""
    return _DOCUMENT_LANGUAGES.get(language.split("-")[0].lower(), "nl-NL")


def page_of_pages() -> str:
    """The page footer's text; %(page)s and %(pages)s become the page fields."""
    return _("Page %(page)s of %(pages)s")
