"""Cleaning user text before it is stored: one place decides what is acceptable."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Control characters other than newline and tab have no place in a conversation's text; the
# bidirectional overrides are kept (they are legitimate in Arabic or Hebrew names) and are
# rendered inert by escaping, so only the C0/C1 controls are refused.
_ALLOWED_CONTROLS = {"\n", "\t"}


def clean_text(
    value: object, max_length: int, *, required: bool = False, field: str = "text"
) -> str:
    """Normalise line endings and surrounding white space; refuse what cannot be stored.

    Raises ValidationError keyed by `field`, with a message a user understands.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({field: _("This must be text.")})
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    text = unicodedata.normalize("NFC", text)
    if "\x00" in text or any(
        unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS for ch in text
    ):
        raise ValidationError({field: _("The text contains characters that cannot be stored.")})
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise ValidationError({field: _("The text contains characters that cannot be stored.")})
    if required and not text:
        raise ValidationError({field: _("This field is required.")})
    if len(text) > max_length:
        raise ValidationError(
            {
                field: _("At most %(max)d characters, you typed %(count)d.")
                % {"max": max_length, "count": len(text)}
            }
        )
    return text
