"""The PDF's first page, rendered to PNG, still looks like the committed reference image.

The reference is tests/reports/report-overview.png; the README shows the same file as
docs/img/report-overview.png. After an intended change of the layout, look at the new image and
update both with:

    DG_UPDATE_REPORT_IMAGE=1 .venv/bin/pytest tests/test_reports_pdf_image.py

The comparison allows small differences (anti-aliasing, a font update), not a moved band, a
lost table or text in another place.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from dilemmagesprek.reports.exporters import EXPORTERS
from dilemmagesprek.reports.report import build_report
from tests.reports import builders

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "tests" / "reports" / "report-overview.png"
README_IMAGE = REPO / "docs" / "img" / "report-overview.png"
DPI = 100
# Mean absolute difference per pixel on a 0–255 grey scale. Renders on the same fonts differ by
# 0; moving the bands by a few millimetres, or dropping a table, costs well over 3.
TOLERANCE = 1.5


def overview_png(directory: Path) -> bytes:
    report = build_report(builders.filled().conversation, language="nl", now=builders.MADE_AT)
    pdf = directory / "verslag.pdf"
    pdf.write_bytes(EXPORTERS["pdf"].render(report))
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            str(DPI),
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            pdf,
            directory / "pagina",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return (directory / "pagina.png").read_bytes()


def difference(a: Image.Image, b: Image.Image) -> float:
    return ImageStat.Stat(ImageChops.difference(a.convert("L"), b.convert("L"))).mean[0]


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None and os.environ.get("CI") != "true",
    reason="pdftoppm missing; `make test` installs poppler-utils (in CI this fails instead)",
)
def test_it_renders_page_one_like_the_reference_image(tmp_path: Path) -> None:
    png = overview_png(tmp_path)
    if os.environ.get("DG_UPDATE_REPORT_IMAGE") == "1":
        REFERENCE.write_bytes(png)
        README_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        README_IMAGE.write_bytes(png)
    rendered = Image.open(io.BytesIO(png))
    reference = Image.open(REFERENCE)

    assert rendered.size == reference.size == (1170, 827)  # A4 landscape at 100 dpi
    assert difference(rendered, reference) <= TOLERANCE


def test_it_shows_the_reference_image_in_the_readme() -> None:
    assert README_IMAGE.read_bytes() == REFERENCE.read_bytes()
    assert "docs/img/report-overview.png" in (REPO / "README.md").read_text(encoding="utf-8")
