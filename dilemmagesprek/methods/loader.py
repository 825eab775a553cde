"""Find, read and cache method files; the public entry point of the methods app.

A method file is TOML (read with the standard library's tomllib) and is checked by
`validation`. The validated method keeps its own plain form in `Method.raw`, regenerated from
the parsed objects so defaults are filled in and the shape is canonical. A conversation freezes
that dict and later rebuilds its method with `parse_method(raw)`, so editing a file never
changes a running or archived conversation.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import tomllib
from pathlib import Path
from typing import Any

from .schema import Method
from .validation import MethodError, plain_form, validate

__all__ = [
    "METHOD_FILES_DIR",
    "MethodError",
    "UnknownMethod",
    "available_methods",
    "clear_cache",
    "get_method",
    "load_method_file",
    "load_methods",
    "method_files",
    "parse_method",
]

METHOD_FILES_DIR = Path(__file__).resolve().parent / "files"


class UnknownMethod(KeyError):
    """No shipped method has this slug."""

    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.slug = slug

    def __str__(self) -> str:
        return f"unknown method {self.slug!r}"


def load_method_file(path: str | os.PathLike[str]) -> Method:
    """Read and validate one method file; raise MethodError naming the file on any problem."""
    path = Path(path)
    source = str(path)
    try:
        content = path.read_bytes()
    except OSError as error:
        raise MethodError(source, "", f"cannot read the file ({error.strerror or error})") from None
    try:
        data = tomllib.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        raise MethodError(source, "", "the file is not valid UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise MethodError(source, "", f"invalid TOML: {error}") from None
    return parse_method(data, source)


def parse_method(data: dict[str, Any], source: str = "<data>") -> Method:
    """Validate plain data (a parsed file, or a conversation's frozen copy) into a Method."""
    method = validate(data, source)
    return dataclasses.replace(method, raw=plain_form(method))


def method_files(directory: Path | None = None) -> list[Path]:
    """The method files in `directory` (default: the shipped files), in name order."""
    directory = METHOD_FILES_DIR if directory is None else directory
    return sorted(directory.glob("*.toml"))


def load_methods(directory: Path | None = None) -> tuple[dict[str, Method], list[MethodError]]:
    """Every method file in `directory`, read fresh: the valid methods by slug, and the errors.

    Unlike `available_methods` this never raises and never caches, so the system check and the
    CLI can report every broken file at once.
    """
    methods: dict[str, Method] = {}
    errors: list[MethodError] = []
    for path in method_files(directory):
        try:
            method = load_method_file(path)
        except MethodError as error:
            errors.append(error)
            continue
        # The file name is the slug, so two files can never claim the same slug.
        if method.slug != path.stem:
            problem = f"is {method.slug!r}, but the file is named {path.name!r}"
            errors.append(MethodError(str(path), "slug", f"{problem}; name it {method.slug}.toml"))
            continue
        methods[method.slug] = method
    return methods, errors


def available_methods() -> dict[str, Method]:
    """The shipped methods by slug (read once per process); raise MethodError if one is invalid."""
    return dict(_shipped_methods())


def get_method(slug: str) -> Method:
    """The shipped method with this slug; raise UnknownMethod (a KeyError) if there is none."""
    try:
        return _shipped_methods()[slug]
    except KeyError:
        raise UnknownMethod(slug) from None


def clear_cache() -> None:
    """Forget the shipped methods read so far (for tests that swap METHOD_FILES_DIR)."""
    _shipped_methods.cache_clear()


@functools.cache
def _shipped_methods() -> dict[str, Method]:
    methods, errors = load_methods()
    if errors:
        raise errors[0]
    return methods
