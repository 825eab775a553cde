"""JSON export → import → export gives the same document, and a bad file imports nothing.

Only the keys the schema marks volatile (document.VOLATILE: a new id and the moments of making)
may differ after a round trip.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation

from dilemmagesprek.conversations.models import Conversation, Event, Member
from dilemmagesprek.lib import ids
from dilemmagesprek.reports.document import VOLATILE, to_document, without_volatile
from dilemmagesprek.reports.exporters import EXPORTERS
from dilemmagesprek.reports.importing import (
    MAX_DOCUMENT_BYTES,
    InvalidDocument,
    import_document,
    read_document,
)
from dilemmagesprek.reports.report import build_report
from dilemmagesprek.worksheets.models import Card, Column
from tests.factories import log_in, make_facilitator
from tests.reports import builders

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """The messages are compared with their English source texts."""
    with translation.override("en"):
        yield


def export(conversation: Conversation) -> dict[str, Any]:
    report = build_report(conversation, language="nl")
    return json.loads(EXPORTERS["json"].render(report))


def counts() -> tuple[int, int, int]:
    return Conversation.objects.count(), Member.objects.count(), Card.objects.count()


@pytest.fixture
def document() -> dict[str, Any]:
    return export(builders.filled().conversation)


def test_it_gives_the_same_document_after_a_round_trip(document: dict[str, Any]) -> None:
    user = make_facilitator("importeur")

    imported = import_document(copy.deepcopy(document), user=user).conversation
    again = export(imported)

    assert without_volatile(again) == without_volatile(document)
    assert again["conversation"]["id"] != document["conversation"]["id"]
    assert json.dumps(without_volatile(again), ensure_ascii=False, indent=2) == json.dumps(
        without_volatile(document), ensure_ascii=False, indent=2
    )


def test_it_keeps_the_woo_grounds_of_the_options(document: dict[str, Any]) -> None:
    assert [c["woo_grounds"] for c in document["matrices"]["options"]] == [
        ["5.1-2-e", "5.2"],
        [],
    ]

    imported = import_document(copy.deepcopy(document)).conversation

    tagged = Column.objects.filter(conversation=imported, matrix="options").order_by("position")
    assert [c.woo_grounds for c in tagged] == [["5.1-2-e", "5.2"], []]
    assert export(imported)["matrices"] == document["matrices"]


def version_1(document: dict[str, Any]) -> dict[str, Any]:
    """`document` as the app wrote it before version 2: no Woo grounds on the columns."""
    old = copy.deepcopy(document)
    old["version"] = 1
    for columns in old["matrices"].values():
        for column in columns:
            del column["woo_grounds"]
    return old


def test_it_still_imports_a_version_1_document(document: dict[str, Any]) -> None:
    imported = import_document(version_1(document)).conversation
    again = export(imported)

    assert again["version"] == 2
    assert Column.objects.filter(conversation=imported).exclude(woo_grounds=[]).count() == 0
    untagged = copy.deepcopy(document)
    for column in untagged["matrices"]["options"]:
        column["woo_grounds"] = []
    assert without_volatile(again) == without_volatile(untagged)


def test_it_refuses_woo_grounds_in_a_version_1_document(document: dict[str, Any]) -> None:
    old = version_1(document)
    old["matrices"]["options"][0]["woo_grounds"] = ["5.2"]
    before = counts()

    with pytest.raises(InvalidDocument, match=r"matrices\.options\[0\]: has unknown keys"):
        import_document(old)

    assert counts() == before


def test_it_marks_only_ids_and_moments_as_volatile() -> None:
    assert VOLATILE == ("exported_at", "conversation.id", "conversation.created_at")


def test_it_round_trips_the_large_and_the_hostile_conversation() -> None:
    for built in (builders.large(), builders.hostile(9)):
        document = export(built.conversation)

        imported = import_document(copy.deepcopy(document)).conversation

        assert without_volatile(export(imported)) == without_volatile(document)


def test_it_round_trips_measured_step_times(document: dict[str, Any]) -> None:
    document["conversation"]["step_seconds"] = {"1": 840, "2": 2130}

    imported = import_document(copy.deepcopy(document)).conversation
    report = build_report(imported)

    assert export(imported)["conversation"]["step_seconds"] == {"1": 840, "2": 2130}
    assert [s.actual_minutes for s in report.steps] == [14, 36, None, None, None]


def test_it_makes_the_importing_account_the_facilitator(document: dict[str, Any]) -> None:
    user = make_facilitator("importeur")

    result = import_document(document, user=user)

    facilitator = result.conversation.members.get(user=user)
    assert facilitator.role == Member.Role.FACILITATOR
    assert facilitator.display_name == document["members"][0]["display_name"]
    assert not result.conversation.members.exclude(pk=facilitator.pk).filter(user__isnull=False)
    events = Event.objects.filter(conversation=result.conversation)
    assert [(e.seq, e.type) for e in events] == [(1, "conversation.imported")]


def test_it_imports_through_the_upload_form(document: dict[str, Any], client: Client) -> None:
    user = make_facilitator("importeur")
    log_in(client, user)
    upload = json.dumps(document).encode()

    response = client.post(
        "/gesprekken/importeren/",
        {"file": SimpleUploadedFile("gesprek.json", upload, "application/json")},
    )

    imported = Conversation.objects.get(members__user=user)
    assert response.status_code == 303
    assert response["Location"] == f"/g/{imported.pk}/"
    assert without_volatile(export(imported)) == without_volatile(document)


def test_it_shows_what_is_wrong_with_an_uploaded_file(client: Client) -> None:
    log_in(client, make_facilitator("importeur"))
    before = counts()
    response = client.post(
        "/gesprekken/importeren/",
        {"file": SimpleUploadedFile("gesprek.json", b'{"format": "iets anders"}')},
    )

    assert response.status_code == 422
    assert "format" in response.content.decode()
    assert counts() == before


def test_it_imports_and_exports_on_the_command_line(
    document: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "gesprek.json"
    source.write_text(json.dumps(document), encoding="utf-8")
    make_facilitator("importeur")

    call_command("import", str(source), "--user", "importeur")
    conversation_id = capsys.readouterr().out.split()[0]
    target = tmp_path / "terug.json"
    call_command("export", conversation_id, "--format", "json", "--output", str(target))

    again = json.loads(target.read_text(encoding="utf-8"))
    assert without_volatile(again) == without_volatile(document)


def test_a_new_id_never_begins_with_a_hyphen(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command line would read such an id as an option; CI once drew one (1 in 64)."""
    drawn = iter(["-looksLikeOpt", "_fineAsIs123"])
    monkeypatch.setattr(ids.secrets, "token_urlsafe", lambda _nbytes: next(drawn))

    assert ids.new_public_id() == "_fineAsIs123"


def test_an_id_that_begins_with_a_hyphen_is_read_as_an_id_after_a_double_dash(
    tmp_path: Path,
) -> None:
    """Conversations made before the rule above may have such an id; `--` still reaches them."""
    target = tmp_path / "uit.json"

    with pytest.raises(CommandError, match="no conversation with id '-oudGesprek1'"):
        call_command("export", "--format", "json", "--output", str(target), "--", "-oudGesprek1")


def test_it_prints_a_link_for_the_facilitator_without_an_account(
    document: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "gesprek.json"
    source.write_text(json.dumps(document), encoding="utf-8")

    call_command("import", str(source))

    lines = capsys.readouterr().out.splitlines()
    assert "/uitnodiging/" in lines[1]


def test_it_writes_every_format_on_the_command_line(tmp_path: Path) -> None:
    conversation = builders.filled().conversation
    for fmt, exporter in EXPORTERS.items():
        target = tmp_path / f"verslag.{fmt}"

        call_command("export", conversation.pk, "--format", fmt, "--output", str(target))

        assert target.stat().st_size > 0
        report = build_report(conversation, language="nl")
        assert target.read_bytes()[:4] == exporter.render(report)[:4]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"verslag.{f}" for f in EXPORTERS)


def test_it_refuses_an_unknown_conversation_on_the_command_line(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no conversation"):
        call_command("export", "bestaat-niet", "--format", "md", "--output", str(tmp_path / "x"))


# --- every kind of malformed document --------------------------------------------------------

Change = Callable[[dict[str, Any]], Any]


def setting(path: str, value: Any) -> Change:
    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return change


def removing(path: str) -> Change:
    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        del target[last]

    return change


def first_card(document: dict[str, Any]) -> dict[str, Any]:
    return document["matrices"]["players"][0]["cards"]["standpunten"][0]


MALFORMED: dict[str, tuple[Change, str]] = {
    "another format": (setting("format", "iets.anders"), "format:"),
    "a newer version": (setting("version", 3), "version: version 3 cannot be read"),
    "a version as text": (setting("version", "2"), 'version: version "2" cannot be read'),
    "a version as true": (setting("version", True), "version: version true cannot be read"),
    "a missing part": (removing("members"), "is missing members"),
    "an unknown part": (setting("extra", 1), "has unknown keys: extra"),
    "a broken method": (setting("method.steps", []), "method.steps"),
    "an unknown status": (setting("conversation.status", "kwijt"), "conversation.status"),
    "an unknown variant": (setting("conversation.variant", "drie-uur"), "conversation.variant"),
    "a step that does not exist": (setting("conversation.current_step", 9), "current_step"),
    "a moment without time zone": (
        setting("conversation.planned_at", "2026-03-02T09:30:00"),
        "conversation.planned_at",
    ),
    "an empty title": (setting("conversation.title", "  "), "conversation.title"),
    "a title too long": (setting("conversation.title", "x" * 201), "conversation.title"),
    "an unknown marking": (setting("conversation.confidentiality", "geheim"), "confidential"),
    "a bad step time": (setting("conversation.step_seconds", {"1": -5}), "step_seconds.1"),
    "an unknown role": (setting("members.1.role", "baas"), "members[1].role"),
    "a duplicate member": (setting("members.1.ref", "m1"), "members[1].ref"),
    "no facilitator": (setting("members.0.role", "deelnemer"), "facilitator"),
    "two owners": (setting("members.2.role", "dilemma-eigenaar"), "more than one"),
    "an unknown field": (setting("fields.wachtwoord", {}), "fields.wachtwoord"),
    "a field as a number": (setting("fields.dilemma.text", 12), "fields.dilemma.text"),
    "a control character": (setting("fields.dilemma.text", "a\x07b"), "fields.dilemma.text"),
    "a lone surrogate": (setting("fields.dilemma.text", "a\ud800b"), "fields.dilemma.text"),
    "a confirmation nobody may give": (
        setting("fields.dilemma.confirmed", True),
        "fields.dilemma.confirmed",
    ),
    "a confirmation by a stranger": (
        setting("fields.shared_question.confirmed_by", "m99"),
        "confirmed_by",
    ),
    "an unknown matrix": (setting("matrices.schurken", []), "matrices.schurken"),
    "an unknown row": (
        lambda d: d["matrices"]["players"][0]["cards"].update(geheim=[]),
        "cards.geheim",
    ),
    "an anonymous card with an author": (
        lambda d: first_card(d).update(anonymous=True, author="m1"),
        "author",
    ),
    "a card by a stranger": (lambda d: first_card(d).update(author="m42"), "m42"),
    "an empty card": (lambda d: first_card(d).update(text=""), "text"),
    "too many columns": (
        lambda d: d["matrices"]["options"].extend([{"name": "", "cards": {}}] * 20),
        "matrices.options",
    ),
    "woo grounds that are no list": (
        setting("matrices.options.0.woo_grounds", "5.2"),
        "matrices.options[0].woo_grounds: must be a list",
    ),
    "an unknown woo ground": (
        setting("matrices.options.0.woo_grounds", ["5.2", "5.9"]),
        "matrices.options[0].woo_grounds[1]: must be one of",
    ),
    "a woo ground as a number": (
        setting("matrices.options.0.woo_grounds", [5.2]),
        "matrices.options[0].woo_grounds[0]: must be one of",
    ),
    "a woo ground twice": (
        setting("matrices.options.0.woo_grounds", ["5.2", "5.2"]),
        "matrices.options[0].woo_grounds[1]: 5.2 is listed twice",
    ),
    "woo grounds on a player": (
        setting("matrices.players.0.woo_grounds", ["5.2"]),
        "matrices.players[0].woo_grounds: only the columns of options",
    ),
    "a column without woo grounds": (
        removing("matrices.options.1.woo_grounds"),
        "matrices.options[1]: is missing woo_grounds",
    ),
    "a score of 6": (setting("evaluations.satisfaction.0.score", 6), "score"),
    "a score as text": (setting("evaluations.satisfaction.0.score", "5"), "score"),
    "a score as true": (setting("evaluations.satisfaction.0.score", True), "score"),
    "two answers by one member": (
        lambda d: d["evaluations"]["satisfaction"].append(d["evaluations"]["satisfaction"][0]),
        "already answered",
    ),
    "an action without what": (setting("next_steps.next_steps.0.what", ""), "what"),
    "an unknown preparation question": (
        setting("preparation.answers.geheim", "x"),
        "preparation.answers.geheim",
    ),
    "an unknown kind of dilemma": (
        setting("preparation.dilemma_kinds", ["onbekend"]),
        "dilemma_kinds",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_it_refuses_a_malformed_document_and_imports_nothing(
    document: dict[str, Any], case: str
) -> None:
    change, message = MALFORMED[case]
    change(document)
    before = counts()

    with pytest.raises(InvalidDocument) as refused:
        import_document(document)

    assert message in str(refused.value)
    assert counts() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b"{nope", "not valid JSON"),
        (b"[1, 2]", "one JSON object"),
        (b'{"a": 1, "a": 2}', "appears twice"),
        (b'{"a": NaN}', "NaN"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b" " * (MAX_DOCUMENT_BYTES + 1), "larger than"),
    ],
)
def test_it_refuses_a_file_that_is_no_document(content: bytes, message: str) -> None:
    with pytest.raises(InvalidDocument, match=message):
        read_document(content)


def test_it_writes_nothing_when_the_import_fails_halfway(
    document: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked documents can still fail while writing (a database error): all or nothing."""
    before = counts()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Card.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        import_document(document)

    assert counts() == before


def test_it_describes_the_report_in_the_document() -> None:
    built = builders.filled()
    report = build_report(built.conversation, now=builders.MADE_AT)

    document = to_document(report)

    assert document["exported_at"] == "2026-03-02T15:30:00+00:00"
    assert document["conversation"]["planned_at"] == "2026-03-02T09:30:00+00:00"
    assert document["method"] == built.conversation.method_snapshot
    assert [m["role"] for m in document["members"]] == [
        "gespreksleider",
        "dilemma-eigenaar",
        "deelnemer",
        "deelnemer",
        "waarnemer",
    ]
    assert document["fields"]["shared_question"] == {
        "text": builders.FIELDS["shared_question"],
        "confirmed": True,
        "confirmed_by": "m2",
    }
