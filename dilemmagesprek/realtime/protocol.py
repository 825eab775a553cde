"""The live protocol: the closed set of messages on the conversation socket.

docs/live-protocol.md describes it for people. Most writes are ordinary HTTP posts (CSRF,
sessions, forms); the most frequent one, saving a text, may also travel over the socket
(`save`), through the same action function, so the page need not wait for a request.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from dilemmagesprek.conversations.events import OPERATION_ID
from dilemmagesprek.conversations.models import Event

# The largest client message is a `save` of a text field: at most 4,000 characters (the
# method's limit), up to 4 bytes each in UTF-8, escaped in JSON. Anything beyond is refused.
MAX_MESSAGE_BYTES = 32768
# A client further behind than this reloads its state instead of replaying event by event.
MAX_REPLAY = 500

# Client → server: type → the exact set of fields it carries (besides "type").
CLIENT_MESSAGES: dict[str, dict[str, type]] = {
    "hello": {"last_seq": int},  # "this is the newest event I have; send me what came after"
    "ping": {},
    "typing": {"form": str},  # "I am typing in this form" (the id of its box on the page)
    # "store this text in this field; I started from this version" (see worksheets/live_writes)
    "save": {"op": str, "field": str, "text": str, "version": int},
    # "store this new wording of this card"
    "save_card": {"op": str, "card": str, "text": str},
}
FORM_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
# What a string field must look like; a text is checked by the action that stores it.
STRING_FORMS: dict[str, re.Pattern[str] | None] = {
    "form": FORM_ID,
    "field": FORM_ID,
    "card": FORM_ID,
    "op": OPERATION_ID,
    "text": None,
}


class ProtocolError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ClientMessage:
    type: str
    fields: dict[str, Any]


def parse_client_message(text: str | None, raw_bytes: bytes | None = None) -> ClientMessage:
    """Validate one frame from a client, or raise ProtocolError with a Dutch message."""
    if text is None or raw_bytes is not None:
        raise ProtocolError("bad_frame", _("Only text messages are accepted."))
    if len(text.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
        raise ProtocolError("too_large", _("The message is too large."))
    try:
        data = json.loads(text)
    except ValueError:
        raise ProtocolError("bad_json", _("The message is not valid JSON.")) from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError("bad_message", _("A message is an object with a type."))
    kind = data.pop("type")
    expected = CLIENT_MESSAGES.get(kind)
    if expected is None:
        raise ProtocolError("unknown_type", _("Unknown message type."))
    if set(data) != set(expected):
        raise ProtocolError("bad_fields", _("The message has missing or extra fields."))
    for name, wanted in expected.items():
        value = data[name]
        # bool is an int in Python; a sequence number never is.
        if not isinstance(value, wanted) or isinstance(value, bool):
            raise ProtocolError("bad_fields", _("A field of the message has the wrong type."))
        if wanted is int and not 0 <= value < 2**53:
            raise ProtocolError("bad_fields", _("A field of the message is out of range."))
        pattern = STRING_FORMS.get(name) if wanted is str else None
        if pattern is not None and not pattern.match(value):
            raise ProtocolError("bad_fields", _("A field of the message is out of range."))
    return ClientMessage(kind, data)


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def event_frame(event: Event) -> str:
    """The one encoding of an event, made once and sent as is to every socket."""
    return encode(
        {
            "type": "event",
            "seq": event.seq,
            "event": event.type,
            "data": event.data,
            "actor": event.actor_id,
            # The operation id the write came with: the page that sent it knows it, and
            # where its own answer already showed the change it fetches nothing more.
            "op": event.op,
        }
    )


def error_frame(error: ProtocolError) -> str:
    return encode({"type": "error", "code": error.code, "message": error.message})
