"""The translation catalogues are complete, current, compiled, and the templates use them.

Source strings are English; locale/nl holds the Dutch texts and locale/en mirrors every msgid
(written by scripts/sync-english-po). When one of these tests fails, regenerate with:

    cd dilemmagesprek && dilemmagesprek makemessages -l nl --ignore=.venv --ignore=tests
    (translate the new Dutch entries; remove every `fuzzy` flag)
    cd .. && scripts/sync-english-po
    cd dilemmagesprek && dilemmagesprek compilemessages

Everything here is pure Python: no polib, and gettext's msgfmt only where it is installed.
"""

from __future__ import annotations

import ast
import re
import shutil
import struct
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.template.base import Lexer, TokenType
from django.utils.translation.template import templatize

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = REPO_ROOT / "dilemmagesprek"
LOCALE = PACKAGE / "locale"
LANGUAGES = ("nl", "en")
REGENERATE = (
    "regenerate: cd dilemmagesprek && dilemmagesprek makemessages -l nl --ignore=.venv "
    "--ignore=tests, translate, then scripts/sync-english-po and compilemessages"
)


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.po"


# --- a tiny .po reader ---------------------------------------------------------------------


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)

    def __str__(self) -> str:
        return f"line {self.line}: {self.msgid!r}"


ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")\s*$")


def unquote(quoted: str) -> str:
    assert quoted.startswith('"') and quoted.endswith('"'), quoted
    return re.sub(r"\\(.)", lambda match: ESCAPES[match.group(1)], quoted[1:-1])


def read_po(path: Path) -> list[Entry]:
    """Every live entry (the header included, obsolete `#~` entries left out)."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] | None = None
    pending_flags: set[str] = set()
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or (line.startswith("#") and not line.startswith("#,")):
            target = None
            continue
        if line.startswith("#,"):
            pending_flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        match = KEYWORD.match(line)
        if match:
            keyword, index, quoted = match.groups()
            if keyword in ("msgctxt", "msgid") and (entry is None or entry.msgstr):
                entry = Entry(line=number, flags=pending_flags)
                entries.append(entry)
                pending_flags = set()
            name = "msgstr" if keyword.startswith("msgstr") else keyword
            target = (name, int(index or 0))
            store(entry, target, unquote(quoted))
        elif line.startswith('"') and entry is not None and target is not None:
            store(entry, target, unquote(line), append=True)
        else:
            raise AssertionError(f"{path}:{number}: cannot read {raw!r}")
    return entries


def store(entry: Entry, target: tuple[str, int], text: str, append: bool = False) -> None:
    name, index = target
    if name == "msgstr":
        entry.msgstr[index] = entry.msgstr.get(index, "") + text if append else text
    else:
        setattr(entry, name, (getattr(entry, name) or "") + text if append else text)


def messages(language: str) -> list[Entry]:
    return [entry for entry in read_po(po_path(language)) if entry.msgid]


def header(language: str) -> Entry:
    return next(entry for entry in read_po(po_path(language)) if not entry.msgid)


# --- (a) complete: nothing untranslated or fuzzy ---------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_complete(language: str) -> None:
    entries = messages(language)
    assert entries, f"{po_path(language)} has no messages"
    untranslated = [
        str(entry)
        for entry in entries
        if not entry.msgstr
        or not all(entry.msgstr.values())
        or len(entry.msgstr) != (2 if entry.msgid_plural else 1)
    ]
    fuzzy = [str(entry) for entry in entries if "fuzzy" in entry.flags]
    assert not untranslated, f"untranslated in {language}: {untranslated}"
    assert not fuzzy, f"fuzzy in {language} (check the text, then drop the flag): {fuzzy}"
    assert "fuzzy" not in header(language).flags, f"the {language} header is still fuzzy"


def test_header_names_the_languages() -> None:
    for language in LANGUAGES:
        text = header(language).msgstr[0]
        assert f"Language: {language}\n" in text
        assert "charset=UTF-8" in text
        assert "Plural-Forms: nplurals=2; plural=(n != 1);" in text


PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def placeholders(text: str) -> Counter[str]:
    return Counter(spec for spec in PLACEHOLDER.findall(text) if spec != "%%")


def test_dutch_keeps_every_placeholder() -> None:
    wrong = []
    for entry in messages("nl"):
        sources = [entry.msgid, entry.msgid_plural] if entry.msgid_plural else [entry.msgid]
        for index, source in enumerate(sources):
            if placeholders(entry.msgstr.get(index, "")) != placeholders(source):
                wrong.append(f"{entry} msgstr[{index}]={entry.msgstr.get(index)!r}")
    assert not wrong, f"placeholders changed in the Dutch text: {wrong}"


def test_english_is_every_msgid_itself() -> None:
    different = []
    for entry in messages("en"):
        expected = {0: entry.msgid}
        if entry.msgid_plural:
            expected[1] = entry.msgid_plural
        if entry.msgstr != expected:
            different.append(str(entry))
    assert not different, f"English msgstr differs from msgid: {different}"
    dutch = {entry.key for entry in messages("nl")}
    english = {entry.key for entry in messages("en")}
    assert dutch == english, (
        f"en and nl list different messages (run scripts/sync-english-po): "
        f"only nl {sorted(map(str, dutch - english))}, only en {sorted(map(str, english - dutch))}"
    )


def test_sync_english_po_reports_up_to_date() -> None:
    script = REPO_ROOT / "scripts" / "sync-english-po"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is not installed")
@pytest.mark.parametrize("language", LANGUAGES)
def test_msgfmt_accepts_catalogue(language: str) -> None:
    """msgfmt --check: format strings agree, plural forms and header are sound."""
    result = subprocess.run(
        ["msgfmt", "--check", "--output-file=/dev/null", str(po_path(language))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# --- (b) current: every translatable string in the source is in the catalogue --------------

GETTEXT_ARGS = {
    # function: the positions of (context, singular, plural); None where there is none
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "_": (None, 0, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}
Key = tuple[str | None, str, str | None]


def call_key(call: ast.Call, function: str) -> Key | None:
    """The (context, msgid, plural) of a gettext call with literal arguments."""
    positions = GETTEXT_ARGS[function]
    values: list[str | None] = []
    for position in positions:
        if position is None:
            values.append(None)
            continue
        if len(call.args) <= position:
            return None
        argument = call.args[position]
        if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
            return None  # a variable: nothing to extract, as for xgettext
        values.append(argument.value)
    context, singular, plural = values
    assert singular is not None
    return (context, singular, plural)


def python_keys(path: Path) -> set[Key]:
    """Literal gettext calls in a module, also inside f-strings (which xgettext skips)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    aliases = {"_": "_"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            for name in node.names:
                if name.name in GETTEXT_ARGS:
                    aliases[name.asname or name.name] = name.name
    keys = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name) and node.func.id in aliases:
            function = aliases[node.func.id]
        elif isinstance(node.func, ast.Attribute) and node.func.attr in GETTEXT_ARGS:
            function = node.func.attr
        else:
            continue
        key = call_key(node, function)
        if key is not None:
            keys.add(key)
    return keys


TEMPLATIZED_CALL = re.compile(r"\b(npgettext|pgettext|ngettext|gettext|_)\(")


def template_keys(path: Path) -> set[Key]:
    """Django's own templatize (what makemessages feeds xgettext), read back with ast."""
    keys = set()
    for line in templatize(path.read_text(encoding="utf-8"), origin=str(path)).splitlines():
        for match in TEMPLATIZED_CALL.finditer(line):
            rest = line[match.start() :]
            for end in (index for index, char in enumerate(rest) if char == ")"):
                try:
                    node = ast.parse(rest[: end + 1], mode="eval").body
                except SyntaxError:
                    continue
                if isinstance(node, ast.Call):
                    key = call_key(node, match.group(1))
                    if key is not None:
                        keys.add(key)
                break
    return keys


def source_files(*suffixes: str) -> list[Path]:
    ignored = {".venv", "tests", "locale", "__pycache__", "node_modules"}
    return sorted(
        path
        for path in PACKAGE.rglob("*")
        if path.suffix in suffixes and not ignored & set(path.relative_to(PACKAGE).parts)
    )


def source_keys() -> dict[Key, Path]:
    found: dict[Key, Path] = {}
    for path in source_files(".py"):
        for key in python_keys(path):
            found.setdefault(key, path)
    for path in source_files(".html", ".txt"):
        for key in template_keys(path):
            found.setdefault(key, path)
    return found


def test_catalogue_has_every_source_string() -> None:
    found = source_keys()
    assert found, "no translatable strings found in the source: is the scan broken?"
    catalogue = {entry.key for entry in messages("nl")}
    missing = sorted(
        f"{path.relative_to(REPO_ROOT)}: {key[1]!r}"
        for key, path in found.items()
        if key not in catalogue
    )
    assert not missing, f"not in the Dutch catalogue ({REGENERATE}): {missing}"


def test_catalogue_has_no_leftover_strings() -> None:
    found = set(source_keys())
    leftover = sorted(str(entry) for entry in messages("nl") if entry.key not in found)
    assert not leftover, f"no longer in the source ({REGENERATE}): {leftover}"


# --- (c) templates: no visible text outside translate tags ---------------------------------

# Names and symbols that read the same in every language.
ALLOWED_TEXT = {"Dilemmagesprek", "Nederlands", "English", "✓"}
ALLOWED_WORDS = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, ALLOWED_TEXT)) + r")(?!\w)")
# Deliberately bilingual: rendered without the i18n machinery when everything else failed.
EXEMPT_TEMPLATES = {"500.html"}
VISIBLE_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "label"}
HIDDEN_CONTENT = {"script", "style"}
SKIPPED_BLOCKS = {"blocktranslate", "blocktrans", "comment", "verbatim"}
LETTER = re.compile(r"[^\W\d_]")
# Template-tag arguments that are shown to people: `with submit_label="Save"` and the like.
VISIBLE_KWARG = re.compile(
    r"\b(\w*(?:label|title|text|heading|message|question|hint|help))=(\"[^\"]*\"|'[^']*')"
)
DEFAULT_FILTER = re.compile(r"\|default(?:_if_none)?:(\"[^\"]*\"|'[^']*')")


class VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN_CONTENT:
            self.hidden += 1
        values = dict(attrs)
        for name, value in attrs:
            # data-label-* attributes carry texts that our scripts show (live.js, app.js).
            if value and (name in VISIBLE_ATTRIBUTES or name.startswith("data-label")):
                self.texts.append(value)
        if tag == "input" and values.get("type") in ("submit", "button", "reset"):
            self.texts.append(values.get("value") or "")
        if tag == "meta" and values.get("name") == "description":
            self.texts.append(values.get("content") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN_CONTENT and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.texts.append(data)


def untranslated_text(source: str) -> list[str]:
    """Pieces of text with letters that a visitor would see untranslated."""
    skeleton: list[str] = []
    problems: list[str] = []
    inside: str | None = None  # the end tag we are waiting for
    for token in Lexer(source).tokenize():
        contents = token.contents.strip()
        name = contents.split()[0] if token.token_type == TokenType.BLOCK and contents else ""
        # Every tag and variable becomes a space: harmless both in text and inside an HTML tag.
        if inside is not None:
            if name == inside:
                inside = None
            skeleton.append(" ")
        elif token.token_type == TokenType.TEXT:
            skeleton.append(token.contents)
        elif token.token_type == TokenType.VAR:
            skeleton.append(" ")
            problems += [
                f"{{{{ {contents} }}}}"
                for value in DEFAULT_FILTER.findall(contents)
                if LETTER.search(value)
            ]
        else:
            skeleton.append(" ")
            if name in SKIPPED_BLOCKS or (name == "block" and contents.endswith("class")):
                # A `{% block body_class %}` fills an attribute, not the page.
                inside = "endblock" if name == "block" else "end" + name
            elif name not in ("translate", "trans"):
                problems += [
                    f"{{% {contents} %}}"
                    for _kwarg, value in VISIBLE_KWARG.findall(contents)
                    if LETTER.search(value)
                ]
    parser = VisibleText()
    parser.feed("".join(skeleton))
    parser.close()
    for text in parser.texts:
        piece = " ".join(text.split())
        rest = ALLOWED_WORDS.sub(" ", piece)
        if LETTER.search(rest):
            problems.append(piece)
    return problems


def untranslated_in_templates(root: Path) -> list[str]:
    """Every untranslated visible text in the templates under `root`, with its file."""
    templates = sorted(
        path
        for path in root.rglob("*")
        if path.suffix in (".html", ".txt")
        and "templates" in path.relative_to(root).parts
        and not {".venv", "tests", "locale"} & set(path.relative_to(root).parts)
    )
    assert templates, f"no templates found under {root}: is the scan broken?"
    found = []
    for path in templates:
        if path.name in EXEMPT_TEMPLATES:
            continue
        found += [
            f"{path.relative_to(root)}: {text!r}"
            for text in untranslated_text(path.read_text(encoding="utf-8"))
        ]
    return found


def test_templates_show_no_untranslated_text() -> None:
    found = untranslated_in_templates(PACKAGE)
    assert not found, f"wrap these in {{% translate %}} or {{% blocktranslate %}}: {found}"


def test_the_template_check_fails_on_a_template_with_plain_text(tmp_path: Path) -> None:
    """The same scan as above, on a synthetic app: one forgotten word makes it fail."""
    templates = tmp_path / "someapp" / "templates" / "someapp"
    templates.mkdir(parents=True)
    (templates / "fine.html").write_text(
        '{% extends "base.html" %}{% load i18n %}{% block content %}'
        '<h1>{% translate "Welcome" %}</h1><button aria-label="{% translate \'Close\' %}">✓'
        "</button>{% endblock %}",
        encoding="utf-8",
    )
    assert untranslated_in_templates(tmp_path) == []

    (templates / "forgotten.html").write_text(
        '{% load i18n %}<h1>{% translate "Welcome" %}</h1>\n<p>Vergeten te vertalen</p>'
        '<img src="x.png" alt="Een plaatje">',
        encoding="utf-8",
    )
    assert untranslated_in_templates(tmp_path) == [
        "someapp/templates/someapp/forgotten.html: 'Vergeten te vertalen'",
        "someapp/templates/someapp/forgotten.html: 'Een plaatje'",
    ]


def test_untranslated_text_check_catches_plain_text() -> None:
    """The check above must not pass merely because it sees nothing."""
    sample = (
        '{% load i18n %}<h1>Hallo</h1><p>{% translate "Fine" %} · Dilemmagesprek</p>'
        '<input placeholder="Type here" data-label-up="Up">'
        "<p>{% blocktranslate %}Also {{ x }} fine{% endblocktranslate %}</p>"
        "<script>let a = 'code';</script>{{ x|default:\"Nobody\" }}"
        '{% include "a.html" with submit_label="Send" %}'
    )
    assert untranslated_text(sample) == [
        '{{ x|default:"Nobody" }}',
        '{% include "a.html" with submit_label="Send" %}',
        "Hallo",
        "Type here",
        "Up",
    ]


# --- (d) compiled: each .mo holds exactly what its .po says --------------------------------


def read_mo(path: Path) -> dict[str, str]:
    """The catalogue of a GNU .mo file, keyed as msgfmt stores it."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">"
    _revision, count, originals, translations = struct.unpack(order + "4I", data[4:20])
    catalogue = {}
    for index in range(count):
        length, offset = struct.unpack(order + "2I", data[originals + 8 * index :][:8])
        key = data[offset : offset + length].decode("utf-8")
        length, offset = struct.unpack(order + "2I", data[translations + 8 * index :][:8])
        catalogue[key] = data[offset : offset + length].decode("utf-8")
    return catalogue


def expected_mo(language: str) -> dict[str, str]:
    catalogue = {}
    for entry in read_po(po_path(language)):
        if ("fuzzy" in entry.flags and entry.msgid) or not any(entry.msgstr.values()):
            continue  # msgfmt leaves these out
        key = entry.msgid
        if entry.msgid_plural is not None:
            key += "\x00" + entry.msgid_plural
        if entry.msgctxt is not None:
            key = entry.msgctxt + "\x04" + key
        catalogue[key] = "\x00".join(entry.msgstr[index] for index in sorted(entry.msgstr))
    return catalogue


@pytest.mark.parametrize("language", LANGUAGES)
def test_mo_is_compiled_from_current_po(language: str) -> None:
    """Compared by content, not by file times: a git checkout sets those in any order."""
    mo = po_path(language).with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run compilemessages"
    compiled, expected = read_mo(mo), expected_mo(language)
    # msgfmt leaves POT-Creation-Date out (gettext >= 0.20), and it says nothing about texts.
    for catalogue in (compiled, expected):
        catalogue[""] = re.sub(r"(?m)^POT-Creation-Date:.*\n", "", catalogue.get("", ""))
    assert compiled == expected, f"{mo} is stale: run compilemessages"


# --- and the site really speaks Dutch --------------------------------------------------------


@pytest.mark.django_db
def test_login_page_is_dutch_by_default_and_english_on_request(client, settings) -> None:
    dutch = client.get("/inloggen/").content.decode()
    assert "<h1>Inloggen</h1>" in dutch
    assert "Wachtwoord" in dutch
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get("/inloggen/").content.decode()
    assert "<h1>Log in</h1>" in english


# --- the user's choice is remembered ---------------------------------------------------------


@pytest.mark.django_db
def test_an_account_keeps_its_language_after_logging_out_and_in(settings) -> None:
    """On the account: a new browser (no cookie left: logout sends Clear-Site-Data) is English
    again as soon as the user logs in."""
    from django.test import Client

    from tests.factories import make_facilitator

    user = make_facilitator("talig")
    user.set_password("een-lang-wachtwoord-voor-de-test")
    user.save()
    first = Client()
    first.post("/inloggen/", {"username": "talig", "password": "een-lang-wachtwoord-voor-de-test"})
    response = first.post("/taal/", {"language": "en", "next": "/gesprekken/"})
    assert response.status_code == 303
    assert "<h1>My conversations</h1>" in first.get("/gesprekken/").content.decode()
    logout = first.post("/uitloggen/")
    assert "cookies" in logout["Clear-Site-Data"]

    second = Client()  # another browser, or this one after Clear-Site-Data
    assert "<h1>Inloggen</h1>" in second.get("/inloggen/").content.decode()
    second.post("/inloggen/", {"username": "talig", "password": "een-lang-wachtwoord-voor-de-test"})
    page = second.get("/gesprekken/")
    assert page["Content-Language"] == "en"
    assert "<h1>My conversations</h1>" in page.content.decode()


@pytest.mark.django_db
def test_an_invitee_keeps_the_language_in_a_cookie_that_outlives_the_session(settings) -> None:
    """Without an account the choice lives in a language cookie of a year, not in the session:
    a new session (the invitation link followed again) still gets English."""
    from tests.factories import build_cast, client_for

    cast = build_cast()
    client = client_for(cast, "participant")
    worksheet = f"/g/{cast.conversation.pk}/"
    response = client.post("/taal/", {"language": "en", "next": worksheet})
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en"
    assert int(cookie["max-age"]) >= 365 * 24 * 3600
    page = client.get(worksheet)
    assert page["Content-Language"] == "en"
    assert '<html lang="en">' in page.content.decode()

    del client.cookies[settings.SESSION_COOKIE_NAME]  # the session ends; the cookie stays
    client.get(f"/uitnodiging/{cast.token('participant')}/")
    page = client.get(worksheet)
    assert page.status_code == 200
    assert page["Content-Language"] == "en"


# --- plain language (B1) for what participants read -----------------------------------------

# Where participants and the dilemma owner read our texts (the facilitator's own screens, such
# as members, settings and the facilitator bar, may be richer).
PARTICIPANT_SOURCES = (
    "templates/base.html",
    "templates/403",
    "templates/404",
    "templates/conversations/join",
    "templates/conversations/lobby",
    "templates/pages/",
    "templates/partials/form_field.html",
    "templates/partials/woo_reference.html",
    "templates/preparations/",
    "templates/worksheets/",
    "conversations/lobby_views.py",
    "lib/text.py",
    "worksheets/actions.py",
    "worksheets/hints.py",
)
FACILITATOR_ONLY = ("templates/worksheets/facilitator_bar.html", "templates/worksheets/new.html")
# A rough B1 measure used by Dutch government writers: short sentences (a colon or semicolon
# starts a new one), and none of the officialese the "Direct duidelijk" word lists replace.
MAX_WORDS = 20
OFFICIALESE = {
    "indien": "als",
    "middels": "met",
    "reeds": "al",
    "teneinde": "om",
    "derhalve": "daarom",
    "dienen": "moeten",
    "alsmede": "en",
    "betreffende": "over",
    "sessie": "(say what it means)",
    "gearchiveerd": "(say what it means)",
    "onthulling": "laten zien",
    "functionaliteit": "(say what it does)",
}


def participant_messages() -> list[tuple[Entry, list[str]]]:
    """Dutch messages used in a place participants see, with their source references."""
    lines = po_path("nl").read_text(encoding="utf-8").splitlines()
    found = []
    for entry in messages("nl"):
        references: list[str] = []
        index = entry.line - 2
        while index >= 0 and lines[index].startswith("#"):
            if lines[index].startswith("#: "):
                references += [ref.rsplit(":", 1)[0] for ref in lines[index][3:].split()]
            index -= 1
        shown = [ref for ref in references if ref.startswith(PARTICIPANT_SOURCES)]
        if shown and not all(ref in FACILITATOR_ONLY for ref in shown):
            found.append((entry, shown))
    return found


def test_participants_read_short_sentences_in_plain_dutch() -> None:
    found = participant_messages()
    assert len(found) > 100, "the participant texts were not found: is the scan broken?"
    long, stiff = [], []
    for entry, where in found:
        for text in entry.msgstr.values():
            for sentence in re.split(r"(?<=[.?!:;])\s+", text):
                if len(sentence.split()) > MAX_WORDS:
                    long.append(f"{where[0]}: {sentence!r}")
            words = set(re.findall(r"[^\W\d_]+", text.lower()))
            stiff += [
                f"{where[0]}: {word!r} → {OFFICIALESE[word]}" for word in words & set(OFFICIALESE)
            ]
    assert not long, f"sentences of more than {MAX_WORDS} words for participants: {long}"
    assert not stiff, f"officialese in texts for participants: {stiff}"
