"""The Woo reference: the grounds for not disclosing information, as data (`woo.toml`).

Shown as background where people weigh (the steps and preparation questions the file names)
and used to tag an option with the grounds the group thinks are at stake. The file is read
strictly, like a method file: a typo fails at `check` time, not in a live conversation.
"""

from __future__ import annotations

import datetime
import functools
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .schema import Text

WOO_FILE = Path(__file__).resolve().parent / "woo.toml"
_TOP_KEYS = {
    "schema_version", "law_url", "checked", "title", "disclaimer",
    "show_in_steps", "show_in_preparation", "tag_matrices", "groups",
}
_GROUP_KEYS = {"key", "title", "intro", "grounds"}
_GROUND_KEYS = {"key", "cite", "label", "text"}


class WooFileError(ValueError):
    """The Woo reference file is invalid: which key, and what is wrong."""


@dataclass(frozen=True)
class Ground:
    key: str  # stable id stored on a tagged option, e.g. "5.1-2-e"
    cite: Text  # the article as the law numbers it, e.g. "5.1 lid 2 e" / "5.1(2)(e)"
    label: Text  # a few words, e.g. "Persoonlijke levenssfeer"
    text: Text  # our paraphrase


@dataclass(frozen=True)
class Group:
    key: str
    title: Text
    intro: Text
    grounds: tuple[Ground, ...]


@dataclass(frozen=True)
class WooReference:
    law_url: str
    checked: datetime.date  # when the paraphrases were last checked against the law
    title: Text
    disclaimer: Text
    show_in_steps: tuple[str, ...]
    show_in_preparation: tuple[str, ...]
    tag_matrices: tuple[str, ...]
    groups: tuple[Group, ...]

    @property
    def grounds(self) -> tuple[Ground, ...]:
        return tuple(ground for group in self.groups for ground in group.grounds)

    def ground(self, key: str) -> Ground | None:
        return next((g for g in self.grounds if g.key == key), None)

    def in_order(self, keys: Iterable[str]) -> list[Ground]:
        """The known grounds among `keys`, in the order of the law; unknown keys are dropped."""
        wanted = set(keys)
        return [ground for ground in self.grounds if ground.key in wanted]


def _fail(path: str, problem: str) -> None:
    raise WooFileError(f"{WOO_FILE.name}: {path}: {problem}")


def _keys(table: Any, allowed: set[str], path: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        _fail(path, "must be a table")
    unknown = set(table) - allowed
    missing = allowed - set(table)
    if unknown:
        _fail(path, f"unknown key(s) {sorted(unknown)}")
    if missing:
        _fail(path, f"missing key(s) {sorted(missing)}")
    return table


def _text(value: Any, path: str) -> Text:
    if not isinstance(value, dict) or set(value) != {"nl", "en"}:
        _fail(path, "must have exactly the keys nl and en")
    if not all(isinstance(v, str) and v.strip() for v in value.values()):
        _fail(path, "nl and en must be non-empty text")
    return Text(nl=value["nl"].strip(), en=value["en"].strip())


def _strings(value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        _fail(path, "must be a list of keys")
    return tuple(value)


def parse(data: dict[str, Any]) -> WooReference:
    _keys(data, _TOP_KEYS, "(top)")
    if data["schema_version"] != 1:
        _fail("schema_version", "must be 1")
    if not str(data["law_url"]).startswith("https://wetten.overheid.nl/"):
        _fail("law_url", "must link the consolidated law on wetten.overheid.nl")
    if not isinstance(data["checked"], datetime.date):
        _fail("checked", "must be a date, e.g. 2026-11-28")
    groups, seen = [], set()
    for index, group in enumerate(data["groups"]):
        path = f"groups[{index}]"
        _keys(group, _GROUP_KEYS, path)
        grounds = []
        for number, ground in enumerate(group["grounds"]):
            ground_path = f"{path}.grounds[{number}]"
            _keys(ground, _GROUND_KEYS, ground_path)
            if ground["key"] in seen:
                _fail(f"{ground_path}.key", f"{ground['key']!r} is used twice")
            seen.add(ground["key"])
            grounds.append(
                Ground(
                    key=ground["key"],
                    cite=_text(ground["cite"], f"{ground_path}.cite"),
                    label=_text(ground["label"], f"{ground_path}.label"),
                    text=_text(ground["text"], f"{ground_path}.text"),
                )
            )
        if not grounds:
            _fail(f"{path}.grounds", "a group needs at least one ground")
        groups.append(
            Group(
                key=group["key"],
                title=_text(group["title"], f"{path}.title"),
                intro=_text(group["intro"], f"{path}.intro"),
                grounds=tuple(grounds),
            )
        )
    return WooReference(
        law_url=data["law_url"],
        checked=data["checked"],
        title=_text(data["title"], "title"),
        disclaimer=_text(data["disclaimer"], "disclaimer"),
        show_in_steps=_strings(data["show_in_steps"], "show_in_steps"),
        show_in_preparation=_strings(data["show_in_preparation"], "show_in_preparation"),
        tag_matrices=_strings(data["tag_matrices"], "tag_matrices"),
        groups=tuple(groups),
    )


def load(path: Path = WOO_FILE) -> WooReference:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise WooFileError(f"{path.name}: cannot read: {error}") from None
    return parse(data)


@functools.cache
def woo_reference() -> WooReference:
    """The shipped reference, read once per process."""
    return load()
