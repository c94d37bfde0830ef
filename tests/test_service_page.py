"""Stage service: the desk page driven in real headless Chromium (tests/chromium.py), as a desk member uses it.

A clip whose file name is markup and whose claim is a script is chosen on
the upload form, the page follows the check and shows the report; the
name and the claim must appear as text everywhere and nothing may run.
A reference is added through the page's second form; another clip is dragged onto
the drop zone with DevTools' real drag events and is the one checked. The page must load
nothing but its own files. Skipped only when Chromium is not installed.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from chromium import Chromium, Page, ProtocolError, chromium_path
from test_service import Server, running

from provenance.report.summary import verdict_label

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (apt-get install chromium)")

HOSTILE_NAME = "<img src=x onerror=alert(1)>.mp4"
HOSTILE_CLAIM = '<script>alert(2)</script> & "quotes"'
HOSTILE_TITLE = "<b onmouseover=alert(3)>bold</b>"


@pytest.fixture(scope="module")
def page_desk(tmp_path_factory: pytest.TempPathFactory, sample_index_file: Path) -> Iterator[Server]:
    """A desk without tokens over a copy of the samples index, one worker."""
    tmp = tmp_path_factory.mktemp("page_desk")
    for src in sample_index_file.parent.glob(sample_index_file.name + "*"):
        shutil.copy(src, tmp / src.name)
    with running(Server(tmp, "--workers", "1", index=tmp / sample_index_file.name, name="page")) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with Chromium() as b:
        yield b


def _until(page: Page, expression: str, timeout: float = 180.0) -> Any:
    """The value of `expression` once truthy, evaluated again across the page's navigations."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = page.evaluate(expression)
        except ProtocolError:
            value = None  # between two documents
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{expression} stayed false for {timeout} s (at {page.evaluate('location.href')})")


def _choose_file(page: Page, selector: str, path: Path) -> None:
    root = page.call("DOM.getDocument")["root"]["nodeId"]
    node = page.call("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    page.call("DOM.setFileInputFiles", {"nodeId": node, "files": [str(path)]})


def _set(page: Page, selector: str, value: str) -> None:
    import json

    page.evaluate(f"document.querySelector({json.dumps(selector)}).value = {json.dumps(value)}")


def _dialogs(browser: Chromium) -> list[dict[str, Any]]:
    return [e for e in browser._events if e.get("method") == "Page.javascriptDialogOpening"]


def _own(page: Page, server: Server) -> Callable[[str], bool]:
    return lambda url: url.startswith(server.url + "/") or url.startswith("data:")


def test_a_clip_posted_on_the_page_shows_its_verdict_and_markup_stays_text(
    page_desk: Server, browser: Chromium, viral_clip: Path, tmp_path: Path
) -> None:
    clip = tmp_path / HOSTILE_NAME
    shutil.copy(viral_clip, clip)
    page = browser.open(page_desk.url + "/")
    assert page.evaluate("document.querySelector('#check-form input[type=file][name=file]') !== null")
    assert page.evaluate("document.querySelector('#drop') !== null")  # the drop zone
    _choose_file(page, "#file", clip)
    _set(page, "textarea[name=claim_text]", HOSTILE_CLAIM)
    _set(page, "input[name=claim_date]", "2024-01-17")
    page.evaluate("document.querySelector('#check-form button[type=submit]').click()")
    verdict = _until(page, "document.querySelector('#verdict h1') && document.querySelector('#verdict h1').textContent")
    assert verdict == "Footage predates claim"
    assert page.evaluate("location.pathname").startswith("/checks/")
    assert HOSTILE_NAME in page.evaluate("document.querySelector('#verdict .code').textContent")
    assert page.evaluate("document.querySelectorAll('img[onerror], img[src=x]').length") == 0
    body = page.evaluate("document.body.innerText")
    assert "<script>alert(2)</script>" in body
    # The desk lists the check with its name and claim as text.
    page = browser.open(page_desk.url + "/")
    row = _until(page, "document.querySelector('tr[data-job]') !== null")
    assert row
    assert page.evaluate("document.querySelector('tr[data-job] a').textContent") == HOSTILE_NAME
    assert page.evaluate("document.querySelector('tr[data-job] td:nth-child(2)').textContent") == HOSTILE_CLAIM
    assert page.evaluate("document.querySelector('tr[data-job] .verdict').textContent") == "Footage predates claim"
    assert page.evaluate("document.querySelectorAll('main script, main img, main [onerror]').length") == 0
    assert not _dialogs(browser)
    assert all(map(_own(page, page_desk), page.requests)), page.requests
    assert not [m for m in page.console if "Content Security Policy" in m], page.console


def test_a_reference_added_on_the_page_is_listed_with_its_facts(
    page_desk: Server, browser: Chromium, life_clip: Path
) -> None:
    page = browser.open(page_desk.url + "/")
    before = page.evaluate("document.querySelectorAll('tr[data-ref]').length")
    _choose_file(page, "#reference-form input[name=file]", life_clip)
    _set(page, "#reference-form input[name=title]", HOSTILE_TITLE)
    _set(page, "#reference-form input[name=first_seen]", "2019-05-01")
    _set(page, "#reference-form input[name=source_url]", "https://example.org/life")
    page.evaluate("document.querySelector('#reference-form button[type=submit]').click()")
    _until(page, f"document.querySelectorAll('tr[data-ref]').length > {before}")
    row = "document.querySelector('tr[data-ref]')"  # newest first
    assert page.evaluate(f"{row}.querySelector('td:nth-child(2)').textContent") == HOSTILE_TITLE
    assert page.evaluate(f"{row}.querySelector('td:nth-child(4)').textContent") == "2019-05-01"
    assert page.evaluate(f"{row}.querySelector('a').href") == "https://example.org/life"
    assert page.evaluate("document.querySelectorAll('main b, main [onmouseover]').length") == 0
    assert not _dialogs(browser)


def test_a_failed_check_shows_its_one_line_error_on_the_page(
    page_desk: Server, browser: Chromium, text_as_mp4: Path
) -> None:
    page = browser.open(page_desk.url + "/")
    _choose_file(page, "#file", text_as_mp4)
    page.evaluate("document.querySelector('#check-form button[type=submit]').click()")
    error = _until(page, "document.querySelector('#job-error') && document.querySelector('#job-error').textContent")
    assert error.startswith("notes.mp4: not a video") and "\n" not in error


def test_a_clip_dragged_onto_the_drop_zone_is_the_one_posted(
    page_desk: Server, browser: Chromium, excerpt_query: Path
) -> None:
    page = browser.open(page_desk.url + "/")
    box = page.evaluate(
        "(() => { const r = document.getElementById('drop').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
    )
    data = {"items": [], "files": [str(excerpt_query)], "dragOperationsMask": 1}
    for kind in ("dragEnter", "dragOver", "drop"):
        page.call("Input.dispatchDragEvent", {"type": kind, "x": box[0], "y": box[1], "data": data})
    assert page.evaluate("document.getElementById('file').files[0].name") == excerpt_query.name
    assert page.evaluate("document.querySelector('#drop span').textContent") == excerpt_query.name
    page.evaluate("document.querySelector('#check-form button[type=submit]').click()")
    verdict = _until(page, "document.querySelector('#verdict h1') && document.querySelector('#verdict h1').textContent")
    assert excerpt_query.name in page.evaluate("document.querySelector('#verdict .code').textContent")
    job_id = page.evaluate("location.pathname").rsplit("/", 1)[1]
    job = httpx.get(f"{page_desk.url}/api/v1/checks/{job_id}", timeout=60).json()
    assert verdict == verdict_label(job["report"]["verdict"]["code"])
    assert job["report"]["matches"][0]["reference"]["path"].endswith("animated_dinner.mp4")  # what was dragged
