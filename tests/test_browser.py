"""Stage report: the HTML report looked at in a real browser (headless Chromium).

The sample case (samples/viral.mp4 with samples/claim.yml against
samples/refs) is checked, rendered to HTML and opened in Debian's Chromium,
driven over the DevTools protocol (tests/chromium.py). The page must show
the verdict in the first screen, load every image, fetch nothing, fit a
phone's width and print; a sidecar title ``<script>alert(1)</script>`` must
appear as text. Skipped only when Chromium is not installed (CI installs it).

``PROVENANCE_UPDATE_DOCS=1 pytest tests/test_browser.py`` also refreshes
docs/screenshot-sample-report.png from the sample report.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromium import Chromium, Page, chromium_path

from provenance.report import Report
from provenance.report.html import render_html

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "docs" / "screenshot-sample-report.png"
HOSTILE_TITLE = "<script>alert(1)</script>"

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="chromium is not installed (apt-get install chromium; .ci/run installs it)"
)


def _check_sample(refs: Path, index_path: Path, viral: Path) -> Report:
    from provenance.claims import build_claim
    from provenance.index import open_index
    from provenance.ingest import add_paths
    from provenance.pipeline import check

    url = f"sqlite:///{index_path}"
    with open_index(url, create=True) as idx:
        add_paths([refs], idx)
    return check(viral, url, build_claim(file=viral.parent / "claim.yml"))


@pytest.fixture(scope="module")
def sample_html(tmp_path_factory: pytest.TempPathFactory, sample_refs: Path, viral_clip: Path) -> Path:
    """The sample report as HTML, as the README's demo writes it."""
    out = tmp_path_factory.mktemp("sample_html")
    with contextlib.chdir(ROOT):  # paths in the report as the README's demo writes them
        report = _check_sample(sample_refs.relative_to(ROOT), out / "idx.sqlite", viral_clip.relative_to(ROOT))
    assert report.matches, report.verdict
    page = out / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    return page


@pytest.fixture(scope="module")
def hostile_html(tmp_path_factory: pytest.TempPathFactory, sample_refs: Path, viral_clip: Path) -> Path:
    """The sample case with the matched reference's sidecar title set to <script>alert(1)</script>."""
    out = tmp_path_factory.mktemp("hostile_html")
    refs = out / "refs"
    shutil.copytree(sample_refs, refs)
    sidecar = refs / "street_cyclists.info.json"
    data = json.loads(sidecar.read_text(encoding="utf-8"))
    data["title"] = HOSTILE_TITLE
    data["uploader"] = '"><img src=x onerror=alert(2)>'
    sidecar.write_text(json.dumps(data), encoding="utf-8")
    report = _check_sample(refs, out / "idx.sqlite", viral_clip)
    assert any(m.reference.source.title == HOSTILE_TITLE for m in report.matches)
    page = out / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    return page


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with Chromium() as b:
        yield b


def _fetched(page: Page) -> list[str]:
    """Everything the page asked for besides itself and data: URIs."""
    return [u for u in page.requests if u != page.url and not u.startswith("data:")]


def _images(page: Page) -> list[dict[str, object]]:
    return list(
        page.evaluate(
            "[...document.images].map(i => ({src: i.currentSrc.slice(0, 30), complete: i.complete, "
            "w: i.naturalWidth, h: i.naturalHeight}))"
        )
    )


def test_sample_report_in_chromium(browser: Chromium, sample_html: Path) -> None:
    page = browser.open(sample_html.as_uri(), width=1000, height=800)
    verdict = page.evaluate(
        "(() => { const h = document.querySelector('#verdict h1'); const r = h.getBoundingClientRect();"
        " const s = getComputedStyle(h);"
        " return {text: h.innerText, top: r.top, bottom: r.bottom, h: r.height, vis: s.visibility, disp: s.display,"
        " vh: innerHeight}; })()"
    )
    assert verdict["text"] in ("Footage predates claim", "Footage seen before", "Altered copy of known footage")
    assert verdict["vis"] == "visible" and verdict["disp"] != "none"
    assert 0 <= verdict["top"] < verdict["bottom"] <= verdict["vh"] and verdict["h"] > 10
    images = _images(page)
    assert len(images) >= 2 + 2  # the clip's shots and at least one aligned pair
    broken = [i for i in images if not i["complete"] or not i["w"] or not i["h"]]
    assert broken == []
    assert all(str(i["src"]).startswith("data:image/jpeg;base64,") for i in images)
    assert _fetched(page) == []
    assert not [c for c in page.console if "Content Security Policy" in c or "Refused" in c], page.console
    assert page.evaluate("document.scripts.length") == 0
    assert page.evaluate("document.querySelectorAll('.pair').length") >= 1


def test_sample_report_fits_a_phone(browser: Chromium, sample_html: Path) -> None:
    page = browser.new_page()
    page.set_viewport(390, 844, mobile=True, scale=2)
    page.call("Page.navigate", {"url": sample_html.as_uri()})
    browser.wait_event("Page.loadEventFired", page.session)
    page.url = sample_html.as_uri()
    width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], width  # no sideways scrolling
    top = page.evaluate("document.querySelector('#verdict .summary').getBoundingClientRect().bottom")
    assert top < 844  # the verdict and its summary are on the first screen
    assert _fetched(page) == []


def test_hostile_title_appears_as_text(browser: Chromium, hostile_html: Path) -> None:
    page = browser.open(hostile_html.as_uri())
    assert page.evaluate("document.scripts.length") == 0
    text = page.evaluate("document.body.innerText")
    assert HOSTILE_TITLE in text
    assert '"><img src=x onerror=alert(2)>' in text
    assert page.evaluate("[...document.images].every(i => i.src.startsWith('data:image/jpeg;base64,'))")
    assert page.evaluate("document.querySelectorAll('[onerror]').length") == 0
    assert _fetched(page) == []


def test_the_network_check_would_see_a_fetch(browser: Chromium, tmp_path: Path) -> None:
    """The monitor is not blind: a page that asks for a remote image is caught, with or without a CSP."""
    plain = tmp_path / "plain.html"
    plain.write_text('<!DOCTYPE html><img src="http://127.0.0.1:9/x.png">', encoding="utf-8")
    page = browser.open(plain.as_uri())
    assert _fetched(page) == ["http://127.0.0.1:9/x.png"]
    guarded = tmp_path / "guarded.html"
    guarded.write_text(
        '<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:">'
        '<img src="http://127.0.0.1:9/y.png">',
        encoding="utf-8",
    )
    page = browser.open(guarded.as_uri())
    assert "http://127.0.0.1:9/y.png" in _fetched(page)
    assert any("Content Security Policy" in c for c in page.console)


def test_sample_report_prints(browser: Chromium, sample_html: Path) -> None:
    page = browser.open(sample_html.as_uri())
    pdf = page.pdf()
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000


def test_sample_report_screenshot(browser: Chromium, sample_html: Path, tmp_path: Path) -> None:
    """A full-page screenshot at laptop width; with PROVENANCE_UPDATE_DOCS=1 it replaces the one in docs/."""
    from PIL import Image

    page = browser.open(sample_html.as_uri(), width=1000, height=900)
    shot = page.screenshot(tmp_path / "sample.png")
    with Image.open(shot) as img:
        assert img.width == 1000 and img.height > 1500
        assert len(img.convert("L").resize((50, 100)).getcolors(5000) or ()) > 20  # not blank
    if os.environ.get("PROVENANCE_UPDATE_DOCS") == "1":
        with Image.open(shot) as img:  # 256 colours: a quarter of the bytes, still sharp text
            img.convert("RGB").quantize(256, dither=Image.Dither.FLOYDSTEINBERG).save(SCREENSHOT, optimize=True)
    assert SCREENSHOT.is_file(), "docs/screenshot-sample-report.png is missing: run with PROVENANCE_UPDATE_DOCS=1"
