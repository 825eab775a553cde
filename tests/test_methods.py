"""The method as data: the shipped method file, strict validation, the check and the CLI."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tomllib
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core import checks
from django.core.management import CommandError, call_command
from django.utils import translation

from dilemmagesprek.methods import loader
from dilemmagesprek.methods.checks import INVALID_METHOD_FILE, NO_METHOD_FILES, check_method_files
from dilemmagesprek.methods.loader import (
    MethodError,
    UnknownMethod,
    available_methods,
    get_method,
    load_method_file,
    parse_method,
)

SLUG = "als-openbaarheid-schuurt"
SHIPPED = loader.METHOD_FILES_DIR / f"{SLUG}.toml"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def data() -> dict[str, Any]:
    """A fresh, mutable copy of the shipped method file's data."""
    with SHIPPED.open("rb") as handle:
        return tomllib.load(handle)


@pytest.fixture
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty method files directory standing in for the shipped one."""
    monkeypatch.setattr(loader, "METHOD_FILES_DIR", tmp_path)
    loader.clear_cache()
    yield tmp_path
    loader.clear_cache()


def to_toml(data: dict[str, Any]) -> str:
    """Just enough TOML writing for test files (the standard library only reads TOML)."""

    def value(item: Any) -> str:
        if isinstance(item, dict):
            return "{ " + ", ".join(f"{k} = {value(v)}" for k, v in item.items()) + " }"
        if isinstance(item, list):
            return "[" + ", ".join(value(v) for v in item) + "]"
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, int):
            return str(item)
        return json.dumps(item, ensure_ascii=False)

    return "\n".join(f"{key} = {value(item)}" for key, item in data.items()) + "\n"


def error_for(data: dict[str, Any]) -> MethodError:
    with pytest.raises(MethodError) as caught:
        parse_method(data, "test.toml")
    return caught.value


# --- The shipped method -----------------------------------------------------------------------


def test_it_loads_the_shipped_method():
    method = get_method(SLUG)
    assert method.schema_version == 1
    assert method.slug == SLUG
    assert method.version
    assert method.default_variant == "lang"
    assert available_methods()[SLUG] == method
    assert [step.number for step in method.steps] == [1, 2, 3, 4, 5]
    assert [step.key for step in method.steps] == [
        "kennismaken",
        "verkennen",
        "afwegen",
        "kiezen",
        "afronden",
    ]


def test_it_uses_the_worksheet_labels_verbatim():
    method = get_method(SLUG)
    assert [step.name.nl for step in method.steps] == [
        "Kennismaken",
        "Verkennen",
        "Afwegen",
        "Kiezen",
        "Afronden",
    ]
    placement = {
        step.number: [(f.key, f.kind, f.label.nl) for f in step.fields] for step in method.steps
    }
    assert placement == {
        1: [
            ("dilemma", "text", "Wat is het dilemma?"),
            ("urgency", "text", "Waarom is het gesprek nú nodig?"),
        ],
        2: [
            ("players", "matrix", "Verkenning"),
            ("shared_question", "text", "Wat is de gedeelde vraag?"),
        ],
        3: [
            ("options", "matrix", "Afwegingen"),
            ("conclusion", "text", "Wat is de conclusie?"),
        ],
        4: [
            ("choice", "text", "Wat is de keuze?"),
            ("needs", "text", "Wat heeft wie nodig?"),
            ("next_steps", "actions", "Hoe nu verder?"),
        ],
        5: [
            ("satisfaction", "evaluations", "Zijn we tevreden?"),
            ("summary", "text", "Samenvatting"),
        ],
    }
    assert method.step(2).question.nl == "Wat is de vraag en wie doen ertoe?"
    assert method.field("dilemma").label.en == "What is the dilemma?"
    assert {f.key for f in method.fields() if f.owner_confirms} == {"shared_question", "choice"}


def test_it_defines_the_two_matrices():
    method = get_method(SLUG)
    players, options = method.matrices["players"], method.matrices["options"]
    assert method.field("players").matrix == "players"
    assert method.field("options").matrix == "options"
    assert (players.corner.nl, players.column.nl, players.numbering) == (
        "Verkenning",
        "Speler",
        "letters",
    )
    assert (players.start_count, players.max_count) == (3, 12)
    assert [(row.key, row.label.nl) for row in players.rows] == [
        ("standpunten", "Standpunten en emoties"),
        ("belangen", "Belangen en waarden"),
        ("rechten", "Rechten en voorkeuren"),
    ]
    assert (options.corner.nl, options.column.nl, options.numbering) == (
        "Afwegingen",
        "Optie",
        "numbers",
    )
    assert (options.start_count, options.max_count) == (2, 10)
    assert [(row.key, row.label.nl) for row in options.rows] == [
        ("voordelen", "Voordelen"),
        ("nadelen", "Nadelen"),
    ]
    assert [players.column_mark(i) for i in range(3)] == ["A", "B", "C"]
    assert [options.column_mark(i) for i in range(2)] == ["1", "2"]


def test_it_has_time_boxes_that_fill_each_variant():
    method = get_method(SLUG)
    assert [(v.key, v.label.nl, v.minutes) for v in method.variants] == [
        ("lang", "Twee uur", 120),
        ("kort", "Eén uur (korte versie)", 60),
    ]
    assert [step.timebox["lang"] for step in method.steps] == [15, 35, 35, 20, 15]
    assert [step.timebox["kort"] for step in method.steps] == [7, 18, 15, 12, 8]
    for variant in method.variants:
        assert sum(step.timebox[variant.key] for step in method.steps) == variant.minutes


def test_it_has_preparation_and_dilemma_kinds():
    method = get_method(SLUG)
    questions = method.preparation.questions
    assert [(q.group, q.key) for q in questions] == [
        ("analysis", "facts"),
        ("analysis", "why_dilemma"),
        ("analysis", "dream_outcome"),
        ("self", "want"),
        ("self", "dare"),
        ("self", "can"),
        ("self", "may"),
    ]
    assert [q.label.nl for q in questions if q.group == "self"] == [
        "A. Wat wil ik?",
        "B. Wat durf ik?",
        "C. Wat kan ik?",
        "D. Wat mag ik?",
    ]
    assert all(2 <= len(q.prompts) <= 4 for q in questions)
    assert [(k.key, k.label.nl) for k in method.dilemma_kinds] == [
        ("relaties", "Relaties en vertrouwen"),
        ("rechten", "Rechten"),
        ("financien", "Financiën"),
        ("ethiek", "Ethische vragen"),
    ]


def test_it_shows_texts_in_the_active_language():
    method = get_method(SLUG)
    with translation.override("en"):
        assert str(method.step(1).name) == "Getting acquainted"
    with translation.override("nl"):
        assert str(method.step(1).name) == "Kennismaken"


def test_it_round_trips_the_raw_form():
    method = get_method(SLUG)
    # What a conversation stores is JSON: the frozen copy must survive that trip unchanged.
    stored = json.loads(json.dumps(method.raw))
    again = parse_method(stored)
    assert again == method
    assert again.raw == method.raw


def test_it_fills_in_defaults_in_the_raw_form(data):
    assert "max_length" not in data["steps"][0]["fields"][0]
    method = parse_method(data)
    raw_field = method.raw["steps"][0]["fields"][0]
    assert raw_field["max_length"] == 4000
    assert raw_field["owner_confirms"] is False
    assert "matrix" not in raw_field
    assert method.raw["steps"][1]["fields"][1]["max_length"] == 500


def test_it_raises_a_key_error_for_an_unknown_slug():
    with pytest.raises(KeyError):
        get_method("bestaat-niet")
    with pytest.raises(UnknownMethod, match="bestaat-niet"):
        get_method("bestaat-niet")


# --- Invalid methods --------------------------------------------------------------------------


def test_it_reports_an_unknown_key_at_the_top(data):
    data["colour"] = "blue"
    error = error_for(data)
    assert (error.source, error.path) == ("test.toml", "colour")
    assert "unknown key" in error.problem
    assert str(error).startswith("test.toml: colour: unknown key")


def test_it_reports_an_unknown_key_in_a_step(data):
    data["steps"][2]["purpse"] = {"nl": "x", "en": "x"}
    error = error_for(data)
    assert error.path == "steps[2].purpse"
    assert "did you mean 'purpose'?" in error.problem


def test_it_reports_an_unknown_key_in_a_field(data):
    data["steps"][1]["fields"][0]["placeholder"] = "…"
    assert error_for(data).path == "steps[1].fields[0].placeholder"


def test_it_reports_a_missing_key(data):
    del data["steps"][3]["guidance"]
    error = error_for(data)
    assert error.path == "steps[3].guidance"
    assert error.problem == "missing required key"


def test_it_reports_a_wrong_type(data):
    data["matrices"][0]["start_count"] = "3"
    error = error_for(data)
    assert error.path == "matrices[0].start_count"
    assert "expected an integer, got a string" in error.problem


def test_it_does_not_take_a_boolean_for_a_number(data):
    data["variants"][0]["minutes"] = True
    assert error_for(data).path == "variants[0].minutes"


def test_it_reports_an_empty_text(data):
    data["steps"][2]["fields"][0]["label"]["nl"] = "  "
    error = error_for(data)
    assert error.path == "steps[2].fields[0].label.nl"
    assert error.problem == "must not be empty"


def test_it_reports_a_missing_translation(data):
    del data["steps"][2]["fields"][0]["label"]["en"]
    error = error_for(data)
    assert error.path == "steps[2].fields[0].label.en"
    assert "English" in error.problem


def test_it_reports_a_bad_field_kind(data):
    data["steps"][3]["fields"][2]["kind"] = "action"
    error = error_for(data)
    assert error.path == "steps[3].fields[2].kind"
    assert "'action' is not one of" in error.problem


def test_it_reports_an_unknown_matrix(data):
    data["steps"][1]["fields"][0]["matrix"] = "spelers"
    error = error_for(data)
    assert error.path == "steps[1].fields[0].matrix"
    assert "unknown matrix 'spelers'" in error.problem


def test_it_reports_a_matrix_used_twice(data):
    data["steps"][2]["fields"][0]["matrix"] = "players"
    error = error_for(data)
    assert error.path == "steps[2].fields[0].matrix"
    assert "already used at steps[1].fields[0]" in error.problem


def test_it_reports_a_matrix_on_a_text_field(data):
    data["steps"][0]["fields"][0]["matrix"] = "players"
    assert error_for(data).path == "steps[0].fields[0].matrix"


def test_it_reports_a_duplicate_field_key(data):
    data["steps"][4]["fields"][1]["key"] = "dilemma"
    error = error_for(data)
    assert error.path == "steps[4].fields[1].key"
    assert "duplicate field key 'dilemma' (also used at steps[0].fields[0].key)" in error.problem


def test_it_reports_a_timebox_that_does_not_add_up(data):
    data["steps"][4]["timebox"]["kort"] = 7
    error = error_for(data)
    assert error.path == "variants[1].minutes"
    assert "add up to 59 (7 + 18 + 15 + 12 + 7)" in error.problem


def test_it_reports_a_timebox_for_an_unknown_variant(data):
    data["steps"][0]["timebox"]["middel"] = 10
    assert error_for(data).path == "steps[0].timebox.middel"


def test_it_reports_a_timebox_missing_a_variant(data):
    del data["steps"][0]["timebox"]["kort"]
    assert error_for(data).path == "steps[0].timebox.kort"


def test_it_reports_steps_out_of_order(data):
    data["steps"][1]["number"] = 3
    error = error_for(data)
    assert error.path == "steps[1].number"
    assert "expected 2, got 3" in error.problem


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.update(default_variant="middel"), "default_variant"),
        (lambda d: d.update(schema_version=2), "schema_version"),
        (lambda d: d.update(slug="Met Spaties"), "slug"),
        (lambda d: d["matrices"][0].update(numbering="roman"), "matrices[0].numbering"),
        (lambda d: d["matrices"][1].update(start_count=11), "matrices[1].start_count"),
        (
            lambda d: d["matrices"][0]["rows"][1].update(key="standpunten"),
            "matrices[0].rows[1].key",
        ),
        (lambda d: d["variants"][1].update(key="lang"), "variants[1].key"),
        (
            lambda d: d["steps"][0]["fields"][0].update(max_length=0),
            "steps[0].fields[0].max_length",
        ),
        (
            lambda d: d["steps"][0]["fields"][0].update(max_length=10001),
            "steps[0].fields[0].max_length",
        ),
        (
            lambda d: d["steps"][0]["fields"][0].update(owner_confirms="ja"),
            "steps[0].fields[0].owner_confirms",
        ),
        (lambda d: d["steps"][1]["fields"][0].pop("matrix"), "steps[1].fields[0].matrix"),
        (lambda d: d["steps"][0].update(key="Stap 1"), "steps[0].key"),
        (
            lambda d: d["preparation"]["questions"][0].update(group="other"),
            "preparation.questions[0].group",
        ),
        (
            lambda d: d["preparation"]["questions"][3].update(prompts=[]),
            "preparation.questions[3].prompts",
        ),
        (lambda d: d["dilemma_kinds"][1].update(key="relaties"), "dilemma_kinds[1].key"),
        (lambda d: d.update(name="Dilemmagesprek"), "name"),
        (lambda d: d.update(steps=[]), "steps"),
    ],
)
def test_it_reports_other_invalid_values(data, change, path):
    change(data)
    assert error_for(data).path == path


def test_it_reports_an_unused_matrix(data):
    extra = copy.deepcopy(data["matrices"][1])
    extra["key"] = "spare"
    data["matrices"].append(extra)
    error = error_for(data)
    assert error.path == "matrices[2]"
    assert "not used by any field" in error.problem


def test_it_reports_a_toml_syntax_error_with_the_file_name(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('schema_version = 1\nslug = "broken\n', encoding="utf-8")
    with pytest.raises(MethodError) as caught:
        load_method_file(path)
    assert caught.value.source == str(path)
    assert caught.value.path == ""
    assert str(caught.value).startswith(f"{path}: invalid TOML: ")
    assert "line 2" in str(caught.value)


def test_it_reports_a_missing_file(tmp_path):
    with pytest.raises(MethodError, match="cannot read the file"):
        load_method_file(tmp_path / "missing.toml")


def test_it_loads_a_file_it_can_write_back(tmp_path, data):
    path = tmp_path / "copy.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    assert load_method_file(path) == get_method(SLUG)


# --- The system check -------------------------------------------------------------------------


def test_it_passes_the_check_with_the_shipped_files():
    assert check_method_files() == []


def test_it_fails_the_check_for_an_invalid_shipped_file(files_dir, data):
    data["steps"][0]["fields"][0]["kind"] = "essay"
    (files_dir / f"{SLUG}.toml").write_text(to_toml(data), encoding="utf-8")
    # Through the registry, as `manage.py check` runs it.
    messages = checks.run_checks(tags=["methods"])
    assert [message.id for message in messages] == [INVALID_METHOD_FILE]
    assert messages[0].is_serious()
    assert messages[0].obj == str(files_dir / f"{SLUG}.toml")
    assert messages[0].msg.startswith("steps[0].fields[0].kind: 'essay' is not one of")
    with pytest.raises(MethodError):
        available_methods()


def test_it_fails_the_check_for_a_file_not_named_after_its_slug(files_dir, data):
    (files_dir / "other-name.toml").write_text(to_toml(data), encoding="utf-8")
    messages = check_method_files()
    assert [message.id for message in messages] == [INVALID_METHOD_FILE]
    assert messages[0].msg.startswith("slug: is 'als-openbaarheid-schuurt'")


def test_it_fails_the_check_without_method_files(files_dir):
    assert [message.id for message in check_method_files()] == [NO_METHOD_FILES]


# --- The `method` command ---------------------------------------------------------------------


def test_it_validates_a_good_file():
    out = StringIO()
    call_command("method", "validate", str(SHIPPED), "--language", "en", stdout=out)
    output = out.getvalue()
    assert f"{SHIPPED}: valid" in output
    assert "(als-openbaarheid-schuurt 1.0)" in output
    assert "5 steps, 11 fields, 2 matrices" in output
    assert "lang 120 min" in output
    assert "kort 60 min" in output


def test_it_rejects_an_invalid_file(tmp_path, data):
    data["steps"][1]["fields"][0]["matrix"] = "spelers"
    path = tmp_path / "bad.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("method", "validate", str(path), stdout=StringIO())
    assert caught.value.returncode == 1
    assert str(caught.value).startswith(f"{path}: steps[1].fields[0].matrix: unknown matrix")


def test_it_exits_non_zero_without_a_traceback(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("schema_version = 1\nslug = \n", encoding="utf-8")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dilemmagesprek.settings",
        "DILEMMAGESPREK_DATA_DIR": str(tmp_path / "data"),
        "SECRET_KEY": "test-only",
    }
    result = subprocess.run(
        [sys.executable, "-m", "django", "method", "validate", str(path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"{path}: invalid TOML" in result.stderr
    assert "Traceback" not in result.stderr


def test_it_shows_a_method_as_json():
    out = StringIO()
    call_command("method", "show", SLUG, "--json", stdout=out)
    shown = json.loads(out.getvalue())
    assert shown == get_method(SLUG).raw
    assert parse_method(shown) == get_method(SLUG)


def test_it_shows_an_outline_in_the_chosen_language():
    out = StringIO()
    call_command("method", "show", SLUG, "--language", "nl", stdout=out)
    assert "2. Verkennen (35 / 18 min)" in out.getvalue()
    assert "Wat is de gedeelde vraag?" in out.getvalue()
    out = StringIO()
    call_command("method", "show", SLUG, "--language", "en", stdout=out)
    assert "2. Exploring (35 / 18 min)" in out.getvalue()


def test_it_refuses_to_show_an_unknown_method():
    with pytest.raises(CommandError, match="bestaat-niet"):
        call_command("method", "show", "bestaat-niet", stdout=StringIO())


def test_it_lists_the_shipped_methods():
    out = StringIO()
    call_command("method", "list", stdout=out)
    assert out.getvalue().startswith(f"{SLUG}\t")
