"""Importing a conversation from its JSON export: check everything first, then write it all.

A document that does not fit the schema (docs/report-json-schema.md) is refused with the key
path and the problem, e.g. "members[2].role: unknown role 'baas'"; nothing is written until the
whole document has been checked, and the writing is one transaction.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from typing import Any, NoReturn

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dilemmagesprek.accounts.models import User
from dilemmagesprek.conversations.actions import NAME_MAX, TITLE_MAX
from dilemmagesprek.conversations.events import record
from dilemmagesprek.conversations.models import Conversation, Member
from dilemmagesprek.lib.text import clean_text
from dilemmagesprek.methods.loader import MethodError, parse_method
from dilemmagesprek.methods.schema import Method
from dilemmagesprek.methods.woo import woo_reference
from dilemmagesprek.preparations.models import Preparation
from dilemmagesprek.worksheets.actions import COLUMN_NAME_MAX, WHEN_MAX, WHO_MAX
from dilemmagesprek.worksheets.models import Card, Column, Evaluation, FieldValue, NextStep

from .document import FORMAT, VERSION

# Version 1 is version 2 without "woo_grounds" on the columns: its columns import untagged.
READABLE_VERSIONS = (1, VERSION)

# A large conversation exports to well under 1 MB; ten times that is no conversation.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_MEMBERS = 200
MAX_CARDS_PER_CELL = 500
MAX_ACTIONS = 500
_REF_RE = re.compile(r"m[1-9][0-9]{0,5}")


class InvalidDocument(ValueError):
    """The document does not fit the schema: where (a key path) and what is wrong."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path = path
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}" if self.path else self.problem


@dataclass
class _Plan:
    """The checked document, ready to be written."""

    method: Method
    conversation: dict[str, Any]
    members: list[dict[str, Any]]
    fields: dict[str, dict[str, Any]]
    matrices: dict[str, list[dict[str, Any]]]
    next_steps: dict[str, list[dict[str, str]]]
    evaluations: dict[str, list[dict[str, Any]]]
    preparation: dict[str, Any] | None
    refs: dict[str, int] = field(default_factory=dict)  # member ref → index in members


@dataclass(frozen=True)
class ImportResult:
    conversation: Conversation
    facilitator: Member  # the facilitator the importing account became, or who gets a link


def read_document(content: bytes | str) -> dict[str, Any]:
    """Parse the bytes of a JSON export; refuse what is no JSON object."""
    if isinstance(content, bytes):
        if len(content) > MAX_DOCUMENT_BYTES:
            _fail("", _("The file is larger than %(max)d MB.") % {"max": _megabytes()})
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            _fail("", _("The file is not UTF-8 text."))
    elif len(content) > MAX_DOCUMENT_BYTES:
        _fail("", _("The file is larger than %(max)d MB.") % {"max": _megabytes()})
    try:
        data = json.loads(content, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except InvalidDocument:
        raise
    except RecursionError:
        _fail("", _("The JSON is nested too deeply."))
    except ValueError as error:
        _fail("", _("The file is not valid JSON (%(error)s).") % {"error": error})
    if not isinstance(data, dict):
        _fail("", _("The file must hold one JSON object."))
    return data


def import_document(data: dict[str, Any], user: User | None = None) -> ImportResult:
    """Check `data` completely, then create the conversation it describes in one transaction.

    With `user`, that account becomes the first facilitator of the document, so the conversation
    shows up in their list. The importer always starts with one event, "conversation.imported".
    """
    plan = _check(data)
    with transaction.atomic():
        return _write(plan, user)


# --- checking --------------------------------------------------------------------------------


def _fail(path: str, problem: str) -> NoReturn:
    raise InvalidDocument(path, problem)


def _megabytes() -> int:
    return MAX_DOCUMENT_BYTES // (1024 * 1024)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            _fail("", _("The key “%(key)s” appears twice in one object.") % {"key": key})
        result[key] = value
    return result


def _no_constant(name: str) -> NoReturn:
    _fail("", _("%(name)s is not a number JSON allows.") % {"name": name})


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _object(value: Any, path: str, required: tuple[str, ...]) -> dict[str, Any]:
    """An object with exactly the keys `required`: a missing or unknown key is an error."""
    if not isinstance(value, dict):
        _fail(path, _("must be an object, not %(kind)s.") % {"kind": _kind(value)})
    missing = [key for key in required if key not in value]
    if missing:
        _fail(path, _("is missing %(keys)s.") % {"keys": ", ".join(missing)})
    unknown = sorted(set(value) - set(required))
    if unknown:
        _fail(path, _("has unknown keys: %(keys)s.") % {"keys": ", ".join(unknown)})
    return value


def _mapping(value: Any, path: str, allowed: list[str]) -> dict[str, Any]:
    """An object whose keys must come from `allowed` (all optional)."""
    if not isinstance(value, dict):
        _fail(path, _("must be an object, not %(kind)s.") % {"kind": _kind(value)})
    for key in value:
        if key not in allowed:
            _fail(
                _join(path, key),
                _("is not part of this method (expected one of: %(keys)s).")
                % {"keys": ", ".join(allowed) or "—"},
            )
    return value


def _list(value: Any, path: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        _fail(path, _("must be a list, not %(kind)s.") % {"kind": _kind(value)})
    if len(value) > limit:
        _fail(path, _("has more than %(max)d items.") % {"max": limit})
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        _fail(path, _("must be true or false, not %(kind)s.") % {"kind": _kind(value)})
    return value


def _int(value: Any, path: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        _fail(path, _("must be a whole number, not %(kind)s.") % {"kind": _kind(value)})
    if not low <= value <= high:
        _fail(path, _("must be from %(low)d to %(high)d.") % {"low": low, "high": high})
    return value


def _text(value: Any, path: str, max_length: int, *, required: bool = False) -> str:
    if not isinstance(value, str):
        _fail(path, _("must be text, not %(kind)s.") % {"kind": _kind(value)})
    try:
        return clean_text(value, max_length, required=required, field=path)
    except ValidationError as error:
        _fail(path, " ".join(str(m) for e in error.error_dict.values() for m in e[0].messages))


def _choice(value: Any, path: str, choices: list[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        _fail(
            path,
            _("must be one of %(choices)s, not %(value)s.")
            % {"choices": ", ".join(choices), "value": json.dumps(value, ensure_ascii=False)},
        )
    return value


def _moment(value: Any, path: str, *, optional: bool = False) -> datetime.datetime | None:
    if value is None and optional:
        return None
    if isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment
    _fail(path, _("must be a date and time with a time zone, e.g. 2026-03-01T09:30:00+00:00."))


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return _("true or false")
    if isinstance(value, int | float):
        return _("a number")
    if isinstance(value, str):
        return _("text")
    if isinstance(value, list):
        return _("a list")
    if isinstance(value, dict):
        return _("an object")
    return _("null")


TOP_KEYS = (
    "format",
    "version",
    "exported_at",
    "conversation",
    "method",
    "members",
    "fields",
    "matrices",
    "next_steps",
    "evaluations",
    "preparation",
)


def _check(data: Any) -> _Plan:
    if not isinstance(data, dict):
        _fail("", _("The file must hold one JSON object."))
    # Format and version first: a document of another kind gets that message, not a list of
    # keys it lacks.
    if data.get("format") != FORMAT:
        _fail(
            "format",
            _("must be “%(format)s”: this is no conversation export.") % {"format": FORMAT},
        )
    version = data.get("version")
    # `true` and `1.0` equal 1 in Python, but they are no version.
    if type(version) is not int or version not in READABLE_VERSIONS:
        _fail(
            "version",
            _("version %(version)s cannot be read; this app reads versions %(supported)s.")
            % {
                "version": json.dumps(version),
                "supported": ", ".join(str(v) for v in READABLE_VERSIONS),
            },
        )
    _object(data, "", TOP_KEYS)
    _moment(data["exported_at"], "exported_at")
    try:
        method = parse_method(data["method"], source="method")
    except MethodError as error:
        _fail(_join("method", error.path) if error.path else "method", error.problem)

    conversation = _conversation(data["conversation"], method)
    members, refs = _members(data["members"])
    plan = _Plan(
        method=method,
        conversation=conversation,
        members=members,
        fields={},
        matrices={},
        next_steps={},
        evaluations={},
        preparation=None,
        refs=refs,
    )
    plan.fields = _fields(data["fields"], method, refs)
    plan.matrices = _matrices(data["matrices"], method, refs, version)
    plan.next_steps = _next_steps(data["next_steps"], method)
    plan.evaluations = _evaluations(data["evaluations"], method, refs)
    plan.preparation = _preparation(data["preparation"], method)
    return plan


def _conversation(value: Any, method: Method) -> dict[str, Any]:
    path = "conversation"
    keys = ("id", "title", "status", "variant", "current_step", "planned_at")
    value = _object(value, path, (*keys, "confidentiality", "created_at", "step_seconds"))
    _text(value["id"], _join(path, "id"), 100)
    _moment(value["created_at"], _join(path, "created_at"))
    steps = [step.number for step in method.steps]
    current_step = _int(value["current_step"], _join(path, "current_step"), 1, max(steps))
    if current_step not in steps:
        _fail(_join(path, "current_step"), _("is not a step of the method."))
    return {
        "title": _text(value["title"], _join(path, "title"), TITLE_MAX, required=True),
        "status": _choice(value["status"], _join(path, "status"), Conversation.Status.values),
        "variant": _choice(
            value["variant"], _join(path, "variant"), [v.key for v in method.variants]
        ),
        "current_step": current_step,
        "planned_at": _moment(value["planned_at"], _join(path, "planned_at"), optional=True),
        "confidentiality": _choice(
            value["confidentiality"],
            _join(path, "confidentiality"),
            Conversation.Confidentiality.values,
        ),
        "step_seconds": _step_seconds(value["step_seconds"], _join(path, "step_seconds"), steps),
    }


def _step_seconds(value: Any, path: str, steps: list[int]) -> dict[str, int]:
    numbers = [str(number) for number in steps]
    seconds = _mapping(value, path, numbers)
    # A week per step is no conversation any more.
    return {
        key: _int(seconds[key], _join(path, key), 0, 7 * 24 * 3600)
        for key in numbers
        if key in seconds
    }


def _members(value: Any) -> tuple[list[dict[str, Any]], dict[str, int]]:
    members = []
    refs: dict[str, int] = {}
    for index, item in enumerate(_list(value, "members", MAX_MEMBERS)):
        path = _join("members", index)
        item = _object(item, path, ("ref", "display_name", "role", "removed"))
        ref = item["ref"]
        if not isinstance(ref, str) or not _REF_RE.fullmatch(ref):
            _fail(_join(path, "ref"), _("must look like m1, m2, m3 …"))
        if ref in refs:
            _fail(_join(path, "ref"), _("%(ref)s is used twice.") % {"ref": ref})
        refs[ref] = index
        members.append(
            {
                "display_name": _text(
                    item["display_name"], _join(path, "display_name"), NAME_MAX, required=True
                ),
                "role": _choice(item["role"], _join(path, "role"), Member.Role.values),
                "removed": _bool(item["removed"], _join(path, "removed")),
            }
        )
    present = [m for m in members if not m["removed"]]
    if not any(m["role"] == Member.Role.FACILITATOR for m in present):
        _fail("members", _("needs at least one facilitator who was not removed."))
    if sum(m["role"] == Member.Role.OWNER for m in present) > 1:
        _fail("members", _("has more than one dilemma owner."))
    return members, refs


def _ref(value: Any, path: str, refs: dict[str, int], *, optional: bool = True) -> int | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or value not in refs:
        _fail(
            path,
            _("refers to %(ref)s, which is not in members.")
            % {"ref": json.dumps(value, ensure_ascii=False)},
        )
    return refs[value]


def _fields(value: Any, method: Method, refs: dict[str, int]) -> dict[str, dict[str, Any]]:
    fields = {f.key: f for f in method.fields("text")}
    result = {}
    for key, item in _mapping(value, "fields", list(fields)).items():
        path = _join("fields", key)
        item = _object(item, path, ("text", "confirmed", "confirmed_by"))
        text = _text(item["text"], _join(path, "text"), fields[key].max_length)
        confirmed = _bool(item["confirmed"], _join(path, "confirmed"))
        if confirmed and not fields[key].owner_confirms:
            _fail(_join(path, "confirmed"), _("this field is never confirmed."))
        if confirmed and not text:
            _fail(_join(path, "confirmed"), _("an empty text cannot be confirmed."))
        by = _ref(item["confirmed_by"], _join(path, "confirmed_by"), refs)
        if by is not None and not confirmed:
            _fail(_join(path, "confirmed_by"), _("must be null when the text is not confirmed."))
        result[key] = {"text": text, "confirmed": confirmed, "confirmed_by": by}
    return result


def _matrices(
    value: Any, method: Method, refs: dict[str, int], version: int
) -> dict[str, list[dict[str, Any]]]:
    fields = {f.matrix: f for f in method.fields("matrix")}
    keys = ("name", "cards") if version == 1 else ("name", "cards", "woo_grounds")
    result = {}
    for key, columns in _mapping(value, "matrices", list(fields)).items():
        matrix = method.matrices[key]
        path = _join("matrices", key)
        rows = [row.key for row in matrix.rows]
        checked = []
        for index, column in enumerate(_list(columns, path, matrix.max_count)):
            column_path = _join(path, index)
            column = _object(column, column_path, keys)
            cards = {}
            cells = _mapping(column["cards"], _join(column_path, "cards"), rows)
            for row, items in cells.items():
                row_path = _join(_join(column_path, "cards"), row)
                cards[row] = [
                    _card(card, _join(row_path, n), fields[key].max_length, refs)
                    for n, card in enumerate(_list(items, row_path, MAX_CARDS_PER_CELL))
                ]
            name = _text(column["name"], _join(column_path, "name"), COLUMN_NAME_MAX)
            grounds = column.get("woo_grounds", [])  # absent only in version 1
            grounds = _woo_grounds(grounds, _join(column_path, "woo_grounds"), key)
            checked.append({"name": name, "cards": cards, "woo_grounds": grounds})
        result[key] = checked
    return result


def _woo_grounds(value: Any, path: str, matrix: str) -> list[str]:
    """Keys of Woo grounds, each once; only the options (woo.toml's tag_matrices) have any."""
    reference = woo_reference()
    known = [ground.key for ground in reference.grounds]
    keys = _list(value, path, len(known))
    if keys and matrix not in reference.tag_matrices:
        _fail(
            path,
            _("only the columns of %(matrices)s can have Woo grounds; use an empty list here.")
            % {"matrices": ", ".join(reference.tag_matrices)},
        )
    seen: list[str] = []
    for index, key in enumerate(keys):
        key = _choice(key, _join(path, index), known)
        if key in seen:
            _fail(_join(path, index), _("%(kind)s is listed twice.") % {"kind": key})
        seen.append(key)
    # Stored in the law's order, as the worksheet stores them.
    return [ground.key for ground in reference.in_order(seen)]


def _card(value: Any, path: str, max_length: int, refs: dict[str, int]) -> dict[str, Any]:
    value = _object(value, path, ("text", "anonymous", "author"))
    anonymous = _bool(value["anonymous"], _join(path, "anonymous"))
    author = _ref(value["author"], _join(path, "author"), refs)
    if anonymous and author is not None:
        _fail(_join(path, "author"), _("an anonymous card has no author: use null."))
    return {
        "text": _text(value["text"], _join(path, "text"), max_length, required=True),
        "anonymous": anonymous,
        "author": author,
    }


def _next_steps(value: Any, method: Method) -> dict[str, list[dict[str, str]]]:
    fields = {f.key: f for f in method.fields("actions")}
    result = {}
    for key, items in _mapping(value, "next_steps", list(fields)).items():
        path = _join("next_steps", key)
        checked = []
        for index, item in enumerate(_list(items, path, MAX_ACTIONS)):
            item_path = _join(path, index)
            item = _object(item, item_path, ("what", "who", "when"))
            checked.append(
                {
                    "what": _text(
                        item["what"],
                        _join(item_path, "what"),
                        fields[key].max_length,
                        required=True,
                    ),
                    "who": _text(item["who"], _join(item_path, "who"), WHO_MAX),
                    "when": _text(item["when"], _join(item_path, "when"), WHEN_MAX),
                }
            )
        result[key] = checked
    return result


def _evaluations(
    value: Any, method: Method, refs: dict[str, int]
) -> dict[str, list[dict[str, Any]]]:
    fields = {f.key: f for f in method.fields("evaluations")}
    result = {}
    for key, items in _mapping(value, "evaluations", list(fields)).items():
        path = _join("evaluations", key)
        checked = []
        seen: set[int] = set()
        for index, item in enumerate(_list(items, path, MAX_MEMBERS)):
            item_path = _join(path, index)
            item = _object(item, item_path, ("member", "score", "remark"))
            member = _ref(item["member"], _join(item_path, "member"), refs, optional=False)
            if member in seen:
                _fail(_join(item_path, "member"), _("this member already answered."))
            seen.add(member)
            checked.append(
                {
                    "member": member,
                    "score": _int(item["score"], _join(item_path, "score"), 1, 5),
                    "remark": _text(
                        item["remark"], _join(item_path, "remark"), fields[key].max_length
                    ),
                }
            )
        result[key] = checked
    return result


def _preparation(value: Any, method: Method) -> dict[str, Any] | None:
    if value is None:
        return None
    path = "preparation"
    value = _object(value, path, ("share_in_report", "answers", "dilemma_kinds"))
    questions = {q.key: q for q in method.preparation.questions}
    answers = {}
    for key, text in _mapping(value["answers"], _join(path, "answers"), list(questions)).items():
        answer = _text(text, _join(_join(path, "answers"), key), questions[key].max_length)
        if answer:
            answers[key] = answer
    kinds_path = _join(path, "dilemma_kinds")
    known = [kind.key for kind in method.dilemma_kinds]
    kinds = []
    for index, kind in enumerate(_list(value["dilemma_kinds"], kinds_path, len(known))):
        kind = _choice(kind, _join(kinds_path, index), known)
        if kind in kinds:
            _fail(_join(kinds_path, index), _("%(kind)s is listed twice.") % {"kind": kind})
        kinds.append(kind)
    return {
        "share_in_report": _bool(value["share_in_report"], _join(path, "share_in_report")),
        "answers": answers,
        "dilemma_kinds": kinds,
    }


# --- writing ---------------------------------------------------------------------------------


def _write(plan: _Plan, user: User | None) -> ImportResult:
    method = plan.method
    info = plan.conversation
    conversation = Conversation.objects.create(
        title=info["title"],
        method_slug=method.slug,
        method_snapshot=method.raw,
        variant=info["variant"],
        planned_at=info["planned_at"],
        status=info["status"],
        current_step=info["current_step"],
        confidentiality=info["confidentiality"],
        step_seconds=info["step_seconds"],
        created_by=user,
    )
    now = timezone.now()
    lead_index = next(
        i
        for i, m in enumerate(plan.members)
        if m["role"] == Member.Role.FACILITATOR and not m["removed"]
    )
    members = []
    for index, item in enumerate(plan.members):
        is_lead = index == lead_index and user is not None
        member = Member.objects.create(
            conversation=conversation,
            user=user if is_lead else None,
            display_name=item["display_name"],
            role=item["role"],
            joined_at=now if is_lead else None,
            removed_at=now if item["removed"] else None,
        )
        # The order of the members is the order of the document: make it explicit, because
        # rows created within the same microsecond would otherwise tie.
        invited_at = now + datetime.timedelta(microseconds=index)
        Member.objects.filter(pk=member.pk).update(invited_at=invited_at)
        members.append(member)

    for key, item in plan.fields.items():
        if not item["text"]:
            continue
        by = members[item["confirmed_by"]] if item["confirmed_by"] is not None else None
        FieldValue.objects.create(
            conversation=conversation,
            key=key,
            text=item["text"],
            version=1,
            confirmed_version=1 if item["confirmed"] else None,
            confirmed_by=by,
        )

    cards = []
    for key, columns in plan.matrices.items():
        for position, item in enumerate(columns):
            column = Column.objects.create(
                conversation=conversation,
                matrix=key,
                position=position,
                name=item["name"],
                woo_grounds=item["woo_grounds"],
            )
            for row, row_cards in item["cards"].items():
                cards.extend(
                    Card(
                        conversation=conversation,
                        column=column,
                        row=row,
                        text=card["text"],
                        anonymous=card["anonymous"],
                        author=members[card["author"]] if card["author"] is not None else None,
                        position=index,
                    )
                    for index, card in enumerate(row_cards)
                )
    Card.objects.bulk_create(cards)

    NextStep.objects.bulk_create(
        NextStep(conversation=conversation, field_key=key, position=index, **item)
        for key, items in plan.next_steps.items()
        for index, item in enumerate(items)
    )
    Evaluation.objects.bulk_create(
        Evaluation(
            conversation=conversation,
            field_key=key,
            member=members[item["member"]],
            score=item["score"],
            remark=item["remark"],
        )
        for key, items in plan.evaluations.items()
        for item in items
    )
    if plan.preparation is not None:
        Preparation.objects.create(
            conversation=conversation,
            answers=plan.preparation["answers"],
            dilemma_kinds=plan.preparation["dilemma_kinds"],
            share_in_report=plan.preparation["share_in_report"],
        )
    lead = members[lead_index]
    record(conversation, lead, "conversation.imported", {"title": conversation.title})
    return ImportResult(conversation=conversation, facilitator=lead)
