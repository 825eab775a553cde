"""Download names derived from a conversation's title, safe for any file system and header.

The title never becomes a path on our side (exports are rendered in memory); this only decides
the name a browser offers to save the file under.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.http import content_disposition_header

MAX_STEM = 80  # with the extension the name stays well under 100 characters
FALLBACK = "verslag"
# Names Windows reserves for devices, with or without an extension.
_RESERVED = {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(1, 10)}
_RESERVED |= {f"lpt{i}" for i in range(1, 10)}


def safe_stem(title: str) -> str:
    """The title as a plain ASCII file name stem: "Woo-verzoek: de 'nota'" → "Woo-verzoek-de-nota".

    Accents lose their marks, everything but letters, digits, "-" and "_" becomes one "-", and
    path separators, control and bidirectional characters disappear with the rest.
    """
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^A-Za-z0-9_]+", "-", ascii_text).strip("-_")
    stem = stem[:MAX_STEM].rstrip("-_")
    if not stem:
        return FALLBACK
    if stem.lower() in _RESERVED:
        stem = f"_{stem}"
    return stem


def download_name(title: str, extension: str) -> str:
    return f"{safe_stem(title)}.{extension}"


def attachment_header(title: str, extension: str) -> str:
    """The Content-Disposition value: always an attachment, with the server's extension."""
    header = content_disposition_header(True, download_name(title, extension))
    assert header is not None
    return header
