"""The conversations of a report test module, built once, and their exports, rendered once.

Rendering a PDF takes a while; the contract tests read the same few documents many times.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dilemmagesprek.reports.exporters import EXPORTERS
from dilemmagesprek.reports.report import Report, build_report
from tests.reports import builders


@dataclass
class World:
    built: dict[str, builders.Built]
    reports: dict[str, Report]
    _rendered: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def render(self, name: str, fmt: str) -> bytes:
        key = (name, fmt)
        if key not in self._rendered:
            self._rendered[key] = EXPORTERS[fmt].render(self.reports[name])
        return self._rendered[key]


def make_world(**builders_by_name: Callable[[], builders.Built]) -> World:
    built = {name: make() for name, make in builders_by_name.items()}
    reports = {
        name: build_report(b.refresh(), language="nl", now=builders.MADE_AT)
        for name, b in built.items()
    }
    return World(built, reports)
