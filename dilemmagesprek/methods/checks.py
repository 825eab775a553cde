"""System checks: refuse to start with a broken or missing method file.

A method file is edited by people; checking it at `check` time (and so at `migrate` and
`runserver`) turns a typo into a clear start-up error instead of a broken live conversation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error

from . import loader

INVALID_METHOD_FILE = "methods.E001"
NO_METHOD_FILES = "methods.E002"
INVALID_WOO_FILE = "methods.E003"


def check_method_files(
    app_configs: Iterable[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """One error per invalid method file, read fresh from disk (never from the cache)."""
    if app_configs is not None and not any(config.label == "methods" for config in app_configs):
        return []
    methods, errors = loader.load_methods()
    messages: list[CheckMessage] = [
        Error(
            # Django prints obj first, so the message reads "FILE: (methods.E001) KEY.PATH: …".
            f"{error.path}: {error.problem}" if error.path else error.problem,
            hint="Fix the key named above; check a file with `dilemmagesprek method validate "
            "FILE`. The format is described in docs/method-format.md.",
            obj=error.source,
            id=INVALID_METHOD_FILE,
        )
        for error in errors
    ]
    if not methods and not errors:
        messages.append(
            Error(
                f"No method files found in {loader.METHOD_FILES_DIR}.",
                hint="A conversation needs at least one method (*.toml) in that directory.",
                id=NO_METHOD_FILES,
            )
        )
    return messages


def check_woo_reference(
    app_configs: Iterable[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """The Woo reference (woo.toml) shown in the weighing step must read cleanly."""
    if app_configs is not None and not any(config.label == "methods" for config in app_configs):
        return []
    from .woo import WooFileError, load

    try:
        load()
    except WooFileError as error:
        return [
            Error(
                str(error),
                hint="Fix the key named above in dilemmagesprek/methods/woo.toml.",
                id=INVALID_WOO_FILE,
            )
        ]
    return []
