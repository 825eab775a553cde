"""Hostile content appears literally and inertly in every format; the PDF renderer fetches nothing.

The payloads come from the bad-input catalogue (SECURITY-RELIABILITY.md §5.1, §5.8): markup,
template syntax, spreadsheet formulas, a right-to-left override, URLs pointing at a canary
server on this machine, and cards of 10,000 characters.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
from collections.abc import Iterator

import pytest
from django.db import transaction
from lxml import etree

from dilemmagesprek.reports.exporters import EXPORTERS, pdf
from dilemmagesprek.reports.exporters.pdf import DenyAllFetcher, render_html
from dilemmagesprek.reports.filenames import attachment_header, download_name
from tests.reports import builders
from tests.reports.extract import bidi_visual, body_text, squeeze, zip_member, zip_names
from tests.reports.world import World, make_world

pytestmark = pytest.mark.django_db
FORMATS = sorted(EXPORTERS)


class Canary:
    """A web server on 127.0.0.1 that counts every request it gets: it must get none."""

    def __init__(self) -> None:
        hits: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                hits.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.hits = hits
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Canary:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    with Canary() as server:
        yield server


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, canary: Canary) -> Iterator[World]:
    with django_db_blocker.unblock(), transaction.atomic():
        yield make_world(hostile=lambda: builders.hostile(canary.port))
        transaction.set_rollback(True)


@pytest.mark.parametrize("fmt", FORMATS)
def test_it_prints_every_payload_literally(world: World, fmt: str, canary: Canary) -> None:
    text = squeeze(body_text(fmt, world.render("hostile", fmt)))
    expected = world.built["hostile"].texts
    if fmt == "pdf":
        # A PDF holds glyphs in the order they are shown: the override took effect, as it
        # does in any viewer, and stayed inside its own text.
        expected = [bidi_visual(t) for t in expected]

    assert [t for t in expected if squeeze(t) not in text] == []
    assert squeeze("{{ 7*7 }} {% debug %}") in text  # template syntax was never evaluated
    assert canary.hits == []


def test_it_fetches_nothing_while_rendering_the_pdf(world: World, canary: Canary) -> None:
    fetcher = DenyAllFetcher()

    render_html(pdf.html(world.reports["hostile"]), fetcher)

    assert fetcher.refused == []  # the payloads were text: there was nothing to fetch
    assert canary.hits == []


def test_it_refuses_every_url_even_in_markup_of_its_own(canary: Canary) -> None:
    """Were markup ever to reach the renderer, the fetcher still refuses: 0 hits, no file read."""
    base = f"http://127.0.0.1:{canary.port}"
    fetcher = DenyAllFetcher()
    source = (
        f'<html lang="nl"><head><title>t</title><link rel="stylesheet" href="{base}/a.css">'
        f"<style>@import url({base}/b.css); p {{ background: url({base}/c.png) }}</style>"
        f'</head><body><p>tekst</p><img src="{base}/d.png" alt="x">'
        '<img src="file:///etc/passwd" alt="y">'
        f'<svg><image href="{base}/e.png" width="1" height="1"/></svg></body></html>'
    )

    content = render_html(source, fetcher)

    assert content.startswith(b"%PDF")
    assert canary.hits == []
    assert f"{base}/a.css" in fetcher.refused
    assert f"{base}/d.png" in fetcher.refused
    assert "file:///etc/passwd" in fetcher.refused
    assert b"root:" not in content


def test_it_makes_no_active_content_in_the_pdf(world: World) -> None:
    content = world.render("hostile", "pdf")

    for marker in (b"/JavaScript", b"/JS", b"/Launch", b"/URI", b"/SubmitForm", b"/OpenAction"):
        assert marker not in content


def test_it_makes_no_links_macros_or_formulas_in_the_odt(world: World) -> None:
    content = world.render("hostile", "odt")
    xml = zip_member(content, "content.xml")

    root = etree.fromstring(xml.encode("utf-8"))
    attributes = {etree.QName(name).localname for e in root.iter() for name in e.attrib}
    elements = {etree.QName(e).localname for e in root.iter() if isinstance(e.tag, str)}

    assert not {"formula", "value-type", "href"} & attributes  # cells are text, nothing links
    assert not {"a", "script", "event-listeners", "object", "image"} & elements
    assert not [name for name in zip_names(content) if name.startswith(("Basic/", "Scripts/"))]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in xml


def test_it_makes_no_links_or_fields_but_page_numbers_in_the_docx(world: World) -> None:
    content = world.render("hostile", "docx")
    document = zip_member(content, "word/document.xml")
    relations = "".join(
        zip_member(content, name) for name in zip_names(content) if name.endswith(".rels")
    )

    assert 'TargetMode="External"' not in relations
    assert "<w:hyperlink" not in document and "w:instrText" not in document
    footers = [name for name in zip_names(content) if name.startswith("word/footer")]
    instructions = set(re.findall(r'w:instr="([^"]*)"', zip_member(content, footers[0])))
    assert instructions == {"PAGE", "NUMPAGES"}
    assert not [name for name in zip_names(content) if "vbaProject" in name]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document


def test_it_escapes_every_payload_in_markdown(world: World) -> None:
    markdown = world.render("hostile", "md").decode("utf-8")
    raw = markdown.replace("<br>", "")

    # No tag, link, autolink or entity can start: each "<", "[" and "&" is escaped.
    assert re.findall(r"(?<!\\)[<\[&]", raw) == []
    assert "\\<script\\>alert(1)\\</script\\>" in markdown


def test_it_keeps_every_payload_exact_in_json(world: World) -> None:
    data = json.loads(world.render("hostile", "json"))
    fields = data["fields"]

    assert fields["dilemma"]["text"] == builders.PAYLOADS[0]
    cards = [
        c["text"] for column in data["matrices"]["players"] for c in column["cards"]["belangen"]
    ]
    assert [len(card) for card in cards] == [10000, 10000]
    assert data["conversation"]["title"] == world.reports["hostile"].title


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("../../etc/passwd", "etc-passwd.pdf"),
        ("..\\..\\windows\\win.ini", "windows-win-ini.pdf"),
        ("/abs/path", "abs-path.pdf"),
        ("%2e%2e%2f", "2e-2e-2f.pdf"),
        ("report.pdf\r\nSet-Cookie: a=b", "report-pdf-Set-Cookie-a-b.pdf"),
        ('a";filename="x.exe', "a-filename-x-exe.pdf"),
        ("CON", "_CON.pdf"),
        ("nul", "_nul.pdf"),
        ("Woo-verzoek: één ‘nota’", "Woo-verzoek-een-nota.pdf"),
        ("\u202efdp.exe", "fdp-exe.pdf"),
        ("🙂🙂", "verslag.pdf"),
        ("", "verslag.pdf"),
    ],
)
def test_it_derives_a_safe_download_name(title: str, expected: str) -> None:
    assert download_name(title, "pdf") == expected


def test_it_keeps_download_names_short_and_headers_whole() -> None:
    header = attachment_header("x" * 300 + "\r\nSet-Cookie: a=b", "docx")

    assert header == f'attachment; filename="{"x" * 80}.docx"'
    assert "\r" not in header and "\n" not in header
