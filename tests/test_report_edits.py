"""Stage report: what the report says about ffmpeg edits of the sample footage, read as a desk editor would.

Each edit is made here with ffmpeg from samples/refs and checked against an
index of samples/refs (conftest's `sample_index_file`, whose sidecars give
each reference its facts): a still picture cut from a reference, the
footage played backwards, at twice its speed, and mirrored. The Markdown,
HTML (in headless Chromium where the look matters) and ClaimReview forms
must then say what is so: a still is a picture at a time in its
reference, a reversed copy is "played backwards", the speeds searched are
stated where speed matters, frame counts count what they say, each source
fact says where it came from, and a mirrored copy's reference frames are
shown as the copy shows them, with a label and a toggle.

The stills' times are spread over the references (street footage at
3.0 s and 7.0 s; the panning storm footage at 4.6 s is held out: the
wording was written on the street footage alone). A still cut from the
street footage's fast first seconds between two stored frames (2.5 s)
is not found at all: the index stores 2 frames/s, and that is the match
stage's business, not the report's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from chromium import Chromium, chromium_path
from conftest import ffmpeg

from provenance.pipeline import check
from provenance.report import RenderOptions, Report, render
from provenance.report.words import frames_sentence

OPTIONS = RenderOptions(organisation="Desk", review_url="https://desk.example.org/fact-checks/1")


def _public(doc: Any) -> str:
    """Every string of a ClaimReview document, joined (what a reader of the page may see, and more)."""
    if isinstance(doc, dict):
        return " ".join(_public(v) for v in doc.values())
    if isinstance(doc, list):
        return " ".join(_public(v) for v in doc)
    return doc if isinstance(doc, str) else ""


@pytest.fixture(scope="module")
def edits(tmp_path_factory: pytest.TempPathFactory, sample_refs: Path) -> dict[str, Path]:
    """The edits, made once: stills at known times, reversed, twice as fast, mirrored."""
    out = tmp_path_factory.mktemp("edits")
    street, storm = sample_refs / "street_cyclists.mp4", sample_refs / "storm_road_panzoom.mp4"
    made: dict[str, Path] = {}
    for name, source, at in (("still_3.0", street, 3.0), ("still_7.0", street, 7.0), ("still_storm_4.6", storm, 4.6)):
        made[name] = out / f"{name}.jpg"
        ffmpeg("-ss", str(at), "-i", source, "-frames:v", "1", "-q:v", "3", made[name])
    for name, vf in (("reversed", "reverse"), ("double", "setpts=0.5*PTS"), ("mirrored", "hflip")):
        made[name] = out / f"{name}.mp4"
        ffmpeg("-i", street, "-vf", vf, "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", made[name])
    return made


@pytest.fixture(scope="module")
def reports(edits: dict[str, Path], sample_index_file: Path) -> dict[str, Report]:
    """Each edit checked against the samples index, with the frames the report shows."""
    return {name: check(path, f"sqlite:///{sample_index_file}") for name, path in edits.items()}


# -- stills ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "title", "at", "pinned"),
    [
        ("still_3.0", "City traffic", 3.0, True),
        ("still_7.0", "City traffic", 7.0, True),
        # A pan over a photograph: every frame holding that part of it fits the picture (the zoom makes
        # a crop of one frame another frame whole), so the frame is told only "about".
        ("still_storm_4.6", "Storm", 4.6, False),
    ],
)
def test_a_still_is_reported_as_a_picture_at_its_time(
    reports: dict[str, Report], name: str, title: str, at: float, pinned: bool
) -> None:
    report = reports[name]
    assert report.input.kind == "image" and report.matches, report.verdict
    m = report.matches[0]
    assert str(m.reference.source.title).startswith(title)
    assert abs(m.reference_start_s - at) <= 1.0, m  # the frame's time in the reference, within 1 s
    assert not {a.code for a in m.alterations} & {"trimmed", "embedded", "speed_changed", "reversed"}
    md = render(report, "md")
    html = render(report, "html")
    minutes = f"0:{int(m.reference_start_s):02d}"
    frame = f"the frame at {minutes}" if pinned else f"a frame about {minutes}"
    assert f"The picture matches {frame}" in md
    assert f"The picture matches {frame}" in html
    assert ("not pinned" in md) is not pinned and ("not pinned" in html) is not pinned
    for text in (md, html, report.verdict.summary, " ".join(report.verdict.evidence)):
        for wrong in ("Trimmed", "trimmed", "offset", "speed ×", "Checked clip", "0.0–0.0 s", "0.0-0.0 s", "Duration"):
            assert wrong not in text, (wrong, text[:2000])
    assert report.verdict.summary.startswith("The picture ")
    public = _public(json.loads(render(report, "claimreview", OPTIONS)))
    assert f"The picture is {frame}" in public and ("not pinned" in public) is not pinned
    assert "Seconds" not in public and "The video" not in public


# -- speed ---------------------------------------------------------------------------------------


def test_a_reversed_copy_is_played_backwards_in_every_form(reports: dict[str, Report]) -> None:
    report = reports["reversed"]
    (m,) = report.matches
    assert m.speed < 0 and "reversed" in {a.code for a in m.alterations}
    md, html = render(report, "md"), render(report, "html")
    public = _public(json.loads(render(report, "claimreview", OPTIONS)))
    for text in (md, html):
        assert "played backwards" in text
        assert "Speeds searched: ×0.25 to ×4, forwards and backwards" in text or "speeds searched: ×0.25 to ×4" in text
        assert "×-" not in text and "\\-1 s" not in text
    assert "played backwards" in public and "reversed" not in public
    assert "(played backwards)" in report.verdict.summary


def test_twice_as_fast_states_its_speed_and_the_range_searched(reports: dict[str, Report]) -> None:
    report = reports["double"]
    assert report.matches
    m = report.matches[0]
    assert abs(m.speed - 2.0) <= 0.2, m.speed  # within 10%
    codes = {a.code for a in m.alterations}
    assert "speed_changed" in codes and "embedded" not in codes
    md, html = render(report, "md"), render(report, "html")
    assert "- Speeds searched: ×0.25 to ×4, forwards and backwards" in md
    assert "speeds searched: ×0.25 to ×4, forwards and backwards" in html
    assert "searched speed range 0.25 and 4" not in md and "at range edge" not in md
    public = _public(json.loads(render(report, "claimreview", OPTIONS)))
    assert re.search(r"played at about (1\.[89]\d*|2(\.\d+)?) times the original speed", public), public


def test_a_clip_not_found_states_the_speeds_searched(tmp_path: Path, sample_index_file: Path) -> None:
    clip = tmp_path / "life.mp4"
    ffmpeg("-f", "lavfi", "-i", "life=s=320x240:r=25:seed=7", "-t", "4", "-c:v", "libx264", "-pix_fmt", "yuv420p", clip)
    report = check(clip, f"sqlite:///{sample_index_file}", keyframes=False)
    assert not report.matches
    assert "Speeds searched: ×0.25 to ×4, forwards and backwards" in render(report, "md")


# -- frame counts ----------------------------------------------------------------------------


def test_frame_counts_count_what_they_say(reports: dict[str, Report]) -> None:
    """ "N of M" counts the frames aligned in the span; those too far from a stored frame are said apart."""
    for name in ("reversed", "double", "mirrored"):
        report = reports[name]
        m = report.matches[0]
        aligned = len(m.pairs)
        above = sum(1 for _, _, d in m.pairs if d > 12)
        assert aligned >= m.frames_total >= m.frames_matched
        assert aligned - m.frames_matched == above  # every aligned frame not matched is above the distance
        sentence = frames_sentence(m, report)
        assert sentence.startswith(
            f"{m.frames_matched} of the {aligned} clip frames aligned in this span are within 12"
        )
        apart = aligned - m.frames_total
        if apart:
            assert f"{apart} fall{'s' * (apart == 1)} between the reference's stored frames (2 per second)" in sentence
        missed = m.frames_total - m.frames_matched
        if missed:
            assert f"{missed} {'was' if missed == 1 else 'were'} compared and did not match" in sentence
        assert sentence in render(report, "md")


# -- where facts came from ----------------------------------------------------------------------


def test_each_source_fact_says_where_it_came_from(reports: dict[str, Report]) -> None:
    report = reports["mirrored"]
    ref = report.matches[0].reference
    origin = ref.source.origin("first_seen")
    assert (
        origin is not None
        and origin.kind == "sidecar"
        and origin.detail == "street_cyclists.info.json, field upload_date"
    )
    day = origin.recorded_at[:10]
    md, html = render(report, "md"), render(report, "html")
    said = f"read from the sidecar street_cyclists.info.json, field upload_date, on {day}"
    assert f"- First seen: 2021-09-12 ({said}" in md
    assert said in html and "read from the sidecar street_cyclists.info.json, field webpage_url" in html
    assert "(according to the sidecar street_cyclists.info.json, field upload_date)" in " ".join(
        report.verdict.evidence
    )
    public = _public(json.loads(render(report, "claimreview", OPTIONS)))
    assert (
        "sidecar" not in public
        and ".info.json" not in public
        and (not origin.recorded_by or origin.recorded_by not in public)
    )


# -- mirrored references ---------------------------------------------------------------------


def test_markdown_labels_the_reference_of_a_mirrored_copy_as_stored(reports: dict[str, Report], tmp_path: Path) -> None:
    report = reports["mirrored"]
    assert report.matches[0].mirrored
    md = render(report, "md", RenderOptions(assets_dir="files"))
    assert "| Clip | Reference (as stored; the clip is its mirror image) |" in md
    plain = render(reports["reversed"], "md", RenderOptions(assets_dir="files"))
    assert "| Clip | Reference |" in plain


@pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (apt-get install chromium)")
def test_html_shows_a_mirrored_copys_reference_mirrored_with_a_toggle(
    reports: dict[str, Report], tmp_path: Path
) -> None:
    """In the browser: the reference frames of a mirrored copy are drawn mirrored and labelled so; the toggle
    shows them as stored; a copy that is not mirrored has no toggle and nothing flipped."""
    mirrored, plain = tmp_path / "mirrored.html", tmp_path / "plain.html"
    mirrored.write_text(render(reports["mirrored"], "html"), encoding="utf-8")
    plain.write_text(render(reports["reversed"], "html"), encoding="utf-8")
    flipped = "[...document.querySelectorAll('.pairs img')].map(i => getComputedStyle(i.parentElement).transform)"
    labels = "[...document.querySelectorAll('.pairs .side')].map(s => s.innerText)"
    with Chromium() as browser:
        page = browser.open(mirrored.resolve().as_uri())
        transforms = page.evaluate(flipped)
        assert transforms[1::2] and all(t == "matrix(-1, 0, 0, 1, 0, 0)" for t in transforms[1::2]), transforms
        assert all(t == "none" for t in transforms[0::2])  # the clip's own frames as they are
        assert all("reference mirrored to match the clip" in s for s in page.evaluate(labels)[1::2])
        page.evaluate("document.querySelector('input.as-stored').click()")
        assert all(t == "none" for t in page.evaluate(flipped))
        assert all(re.match(r"reference as stored \d", s) for s in page.evaluate(labels)[1::2]), page.evaluate(labels)
        page = browser.open(plain.resolve().as_uri())
        assert page.evaluate("document.querySelectorAll('input.as-stored, .flip').length") == 0
        assert all(t == "none" for t in page.evaluate(flipped))


@pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (apt-get install chromium)")
def test_box_labels_cover_nothing_they_mark(tmp_path: Path, sample_index_file: Path, viral_clip: Path) -> None:
    """The sample's caption box is labelled outside the box, so the caption's words stay readable."""
    report = check(viral_clip, f"sqlite:///{sample_index_file}")
    page_file = tmp_path / "viral.html"
    page_file.write_text(render(report, "html"), encoding="utf-8")
    overlap = """[...document.querySelectorAll('.frame')].flatMap(f => {
        const rects = [...f.querySelectorAll('svg.overlay rect[stroke="#ffd43b"]')].map(r => r.getBoundingClientRect());
        return [...f.querySelectorAll('.box-label')].filter(l => getComputedStyle(l).display !== 'none').map(l => {
            const a = l.getBoundingClientRect();
            return rects.some(b => a.left < b.right && a.right > b.left && a.top < b.bottom - 1 && a.bottom > b.top + 1
                                   && b.height < f.getBoundingClientRect().height * 0.5);
        });
    })"""
    with Chromium() as browser:
        page = browser.open(page_file.resolve().as_uri())
        page.set_viewport(900, 900)
        found = page.evaluate(overlap)
    assert found and not any(found), found
