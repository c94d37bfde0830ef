"""Stage report: the self-contained HTML report and the `report` / `check --format` commands.

Most tests render reports built in memory (tests/report_samples.py): no media
needed, which is also the promise of ``provenance report REPORT.json``. The
end-to-end ones check the sample clip and a clip whose reference has gone.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_samples import HOSTILE, jpeg_thumb, keyframes_for, make_match, make_reference, make_report

from provenance.cli import main
from provenance.evidence import REFERENCE_MISSING, Keyframes, MatchFrames, Thumbnail
from provenance.match import Alteration
from provenance.report import Report, render
from provenance.report.html import CSP, render_html


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Tags:
    p = Tags()
    p.feed(html)
    return p


def test_page_is_self_contained_and_script_free() -> None:
    html = render_html(make_report())
    doc = parse(html)
    names = [t for t, _ in doc.tags]
    assert "script" not in names and "link" not in names and "iframe" not in names and "object" not in names
    csp = [a for t, a in doc.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and csp[0]["content"] == CSP
    assert "default-src 'none'" in CSP and "img-src data:" in CSP
    images = [a for t, a in doc.tags if t == "img"]
    assert len(images) == 2 + 3 * 2  # two shots, three aligned pairs
    assert all((a["src"] or "").startswith("data:image/jpeg;base64,") for a in images)
    # No attribute or style may point anywhere: no URLs other than links the reader clicks.
    for tag, attrs in doc.tags:
        for key, value in attrs.items():
            if key in ("src", "srcset", "poster", "data", "background", "action", "formaction"):
                assert (value or "").startswith("data:"), (tag, key, value)
    assert "url(" not in html and "@import" not in html
    assert "on" + "error=" not in html.lower()


def test_verdict_and_evidence_come_first() -> None:
    html = render_html(make_report())
    assert html.index('id="verdict"') < html.index('id="claim"') < html.index('id="matches"')
    assert html.index('id="matches"') < html.index('id="metadata"') < html.index('id="reproducibility"')
    assert "<h1>Footage seen before</h1>" in html
    assert "query 2.0-7.0 s matches reference #3" in html


def test_every_untrusted_string_is_escaped() -> None:
    ref = make_reference(title=HOSTILE, publisher=HOSTILE, source_url="javascript:alert(3)", licence=HOSTILE)
    match = make_match(
        ref,
        alterations=(Alteration("cropped", HOSTILE, {"box_in_reference_px": [48, 20, 592, 252], HOSTILE: HOSTILE}),),
    )
    report = make_report(
        (match,),
        warnings=(HOSTILE,),
        metadata={"probe": {"tags": {HOSTILE: HOSTILE}}},
        input=make_report().input.__class__(**{**make_report().input.__dict__, "path": f"/x/{HOSTILE}.mp4"}),
    )
    html = render_html(report)
    doc = parse(html)
    assert [t for t, _ in doc.tags].count("img") == 8  # only ours
    assert "<script" not in html and "javascript:" not in [a.get("href") for _, a in doc.tags]
    assert not any(k.startswith("on") for _, a in doc.tags for k in a)
    text = "".join(doc.text)
    assert "<script>alert(1)</script>" in text  # shown, as text
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 5


def test_links_only_for_http_urls() -> None:
    good = render_html(make_report())
    assert '<a href="https://archive.example.org/watch/street-2021-0912" rel="noopener noreferrer nofollow">' in good
    bad = render_html(make_report((make_match(make_reference(source_url='https://x.example/"onmouseover="a')),)))
    assert "onmouseover" not in [k for _, a in parse(bad).tags for k in a]
    assert "<a href" not in bad.split('id="matches"')[1].split("</article>")[0]


def test_rerender_from_json_is_identical() -> None:
    report = make_report()
    again = Report.from_dict(json.loads(render(report, "json")))
    assert again == report
    assert render_html(again) == render_html(report)


def test_diagnosis_is_drawn_on_the_frames() -> None:
    match = make_match(
        mirrored=True,
        alterations=(
            Alteration("mirrored", "The picture is mirrored left to right.", {"operation": "mirror"}),
            Alteration("cropped", "Cropped to 85%.", {"box_in_reference_px": [48, 20, 592, 252]}),
            Alteration("reframed", "Inside padding.", {"content_box_fraction": [0.0, 0.25, 1.0, 0.75]}),
            Alteration("rotated", "Turned.", {"angle_deg_clockwise": 90}),
        ),
    )
    html = render_html(make_report((match,)))
    # crop box on the reference: 48/640 = 7.5 %, 20/272 = 7.35 %, 544/640 = 85 %, 232/272 = 85.3 %
    assert 'x="7.5" y="7.35" width="85.0" height="85.3"' in html
    # content box on the clip
    assert 'x="0.0" y="25.0" width="100.0" height="50.0"' in html
    assert "mirrored ⇋" in html and "turned 90° clockwise" in html
    assert "part shown in the clip" in html and "footage inside padding" in html


def test_overlay_boxes_are_drawn_and_a_crop_given_twice_once() -> None:
    match = make_match(
        alterations=(
            Alteration(
                "cropped",
                "Part of the reference.",
                {
                    "box_in_reference_fraction": [0.075, 0.0735, 0.925, 0.9265],
                    "box_in_reference_px": [48, 20, 592, 252],
                },
            ),
            Alteration(
                "overlay",
                "Text added (top, bottom-right corner).",
                {"boxes_query_fraction": [[0.1, 0.04, 0.9, 0.14], [0.8, 0.85, 0.95, 0.95]], "locations": ["top"]},
            ),
        )
    )
    html = render_html(make_report((match,)))
    # One box per reference frame (three aligned pairs), each an outline and a dashed stroke: 6, not 12.
    assert html.count('x="7.5" y="7.35" width="85.0" height="85.3"') == 6
    assert 'x="10.0" y="4.0" width="80.0" height="10.0"' in html
    assert 'x="80.0" y="85.0" width="15.0" height="10.0"' in html


def test_picture_in_picture_rect_in_other_shapes() -> None:
    match = make_match(
        alterations=(
            Alteration(
                "picture_in_picture",
                "Shown inside other footage.",
                {"inner_rect": {"x": 0.5, "y": 0.5, "w": 0.4, "h": 0.4}},
            ),
        )
    )
    html = render_html(make_report((match,)))
    assert 'x="50.0" y="50.0" width="40.0" height="40.0"' in html and "inner picture" in html


def test_match_without_diagnosis_fields_renders() -> None:
    """A match record from before the matcher diagnosed alterations: only `mirrored`."""
    data = make_match(mirrored=True).to_dict()
    for key in ("alterations", "query_variant", "reference_variant"):
        data.pop(key, None)
    html = render_html(make_report((make_match(mirrored=True),)))
    assert "mirrored" in html and "<svg" not in html.split('id="match-1"')[1].split("</article>")[0]
    old = Report.from_dict({**make_report().to_dict(), "matches": [data]})
    assert "mirrored" in render_html(old)


def test_timeline_shows_query_and_reference_spans() -> None:
    m1 = make_match(make_reference(3), q0=0.0, q1=4.0)
    m2 = make_match(make_reference(5, title="Other"), q0=4.0, q1=8.0)
    html = render_html(make_report((m1, m2)))
    assert 'class="timeline"' in html
    assert "left:0.00%;width:50.00%" in html and "left:50.00%;width:50.00%" in html  # clip track, 8 s
    assert "left:10.00%;width:40.00%" in html  # reference 1.0-5.0 of 10 s
    assert html.count('class="seg"') == 4


def test_missing_reference_is_said_not_broken() -> None:
    match = make_match()
    note = "reference #3 is no longer at its indexed path /archive/refs/ref3.mp4: its frames cannot be shown"
    kf = keyframes_for((match,), status=REFERENCE_MISSING, note=note)
    html = render_html(make_report((match,), keyframes=kf))
    assert note in html
    assert html.count('class="frame missing"') == 3
    assert "reference missing: no frame" in html


def test_damaged_thumbnail_is_left_out() -> None:
    bad = Thumbnail(1.0, 160, 90, "not base64 <img>")
    not_jpeg = Thumbnail(1.0, 160, 90, "aGVsbG8=")
    kf = Keyframes((bad, not_jpeg, jpeg_thumb(2.0)), (MatchFrames(0, 3, "ok", ()),))
    html = render_html(make_report(keyframes=kf))
    assert html.count("<img ") == 1


def test_report_without_keyframes_or_matches() -> None:
    html = render_html(make_report((), keyframes=None))
    assert "not found in this index" in html and "<img" not in html
    html = render_html(make_report(keyframes=None))
    assert "carries no keyframes" in html


def test_claim_and_findings_are_shown_when_present() -> None:
    from provenance.claims import Claim
    from provenance.metadata import Finding

    claim = Claim.from_dict(
        {
            "text": HOSTILE + " police flee rioters",
            "date": "2024-01-17",
            "place": {
                "query": "Baymak",
                "name": "Baymak",
                "kind": "city",
                "country": "Russia",
                "latitude": 52.59,
                "longitude": 58.31,
            },
            "platforms": ["Telegram", "X"],
            "source": "https://news.example.com/a",
            "article_date": "2024-01-19",
            "origin": ["article:a.txt"],
            "dates": [{"text": "on Wednesday", "date": "2024-01-17", "rule": "weekday", "sentence": ""}],
            "warnings": [HOSTILE],
        }
    )
    findings = (Finding("reencoded_by_ffmpeg", "notice", "Last written by FFmpeg " + HOSTILE, {"encoder": HOSTILE}),)
    html = render_html(make_report(claim=claim, findings=findings))
    section = html.split('id="claim"')[1].split("</section>")[0]
    assert "2024-01-17" in section and "Baymak, Russia (52.5900, 58.3100)" in section
    assert "does not fit" in section and "2.3 years before the claimed date" in section  # as the verdict says it
    assert "Telegram, X" in section
    assert "Claim read from article:a.txt" in section and "“on Wednesday” → 2024-01-17" in section
    metadata = html.split('id="metadata"')[1].split("</section>")[0]
    assert "reencoded_by_ffmpeg" in metadata and 'class="sev notice"' in metadata
    assert "<script" not in html


def test_report_without_claim_support_still_renders() -> None:
    """Reports written before the claims stage existed have neither field."""
    data = make_report().to_dict()
    data.pop("claim", None)
    data.pop("findings", None)
    html = render_html(Report.from_dict(data))
    assert "No claim was given" in html and "encoder" in html


def test_size_of_ten_matches_is_small() -> None:
    matches = tuple(make_match(make_reference(i), q0=i * 6.0, q1=i * 6.0 + 6.0) for i in range(10))
    html = render_html(make_report(matches))
    assert html.count("<img ") == 2 + 10 * 3 * 2
    assert len(html.encode()) < 3_000_000


# -- commands ------------------------------------------------------------------------


def test_report_command_renders_every_format_without_media(tmp_path: Path) -> None:
    saved = tmp_path / "report.json"
    saved.write_text(render(make_report(), "json"), encoding="utf-8")
    runner = CliRunner()
    publisher = ["--org-name", "Example Fact Desk", "--review-url", "https://desk.example.org/fc/1"]
    for fmt in ("json", "md", "html", "claimreview"):
        out = tmp_path / f"out.{fmt}"
        flags = publisher if fmt == "claimreview" else []
        result = runner.invoke(main, ["report", str(saved), "--format", fmt, "-o", str(out), *flags])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 500
    assert Report.from_dict(json.loads((tmp_path / "out.json").read_text())) == make_report()
    assert (tmp_path / "out.html").read_text().startswith("<!DOCTYPE html>")
    md_files = sorted(p.name for p in (tmp_path / "out_files").iterdir())
    assert len(md_files) == 2 + 3 * 2
    default = runner.invoke(main, ["report", str(saved)])
    assert default.exit_code == 0 and default.output.startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"schema": "other/1"}', "not a provenance.report/1 report"),
        ("[]", "not a provenance"),
    ],
)
def test_report_command_refuses_what_is_not_a_report(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(bad), "--format", "html"])
    assert result.exit_code == 2
    assert message in result.output
    missing = CliRunner().invoke(main, ["report", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "cannot be read" in missing.output


def test_check_writes_html_with_aligned_frames(tmp_path: Path, sample_index: Path, excerpt_query: Path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(
        main, ["check", str(excerpt_query), "--index", str(sample_index), "--format", "html", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Footage seen before" in html or "footage" in html.split("<h1>")[1].lower()
    doc = parse(html)
    srcs = [a["src"] for t, a in doc.tags if t == "img"]
    assert len(srcs) >= 2 + 2 and all((s or "").startswith("data:image/jpeg;base64,") for s in srcs)
    assert "Animated" in html or "animated" in html.lower()
    assert re.search(r"clip \d+\.\d\d? s ↔ reference \d+\.\d\d? s", html)  # seconds as words.seconds says them


def test_check_survives_a_reference_that_has_gone(tmp_path: Path, sample_refs: Path, excerpt_query: Path) -> None:
    """The reference is indexed, then moved away: the check still reports the match and says why no frames."""
    from provenance.index import open_index
    from provenance.ingest import add_paths
    from provenance.pipeline import check

    refs = tmp_path / "refs"
    refs.mkdir()
    for name in ("animated_dinner.mp4", "animated_dinner.info.json", "tree_window.mp4"):
        shutil.copy(sample_refs / name, refs / name)
    url = f"sqlite:///{tmp_path / 'idx.sqlite'}"
    with open_index(url, create=True) as idx:
        add_paths([refs], idx)
    (refs / "animated_dinner.mp4").unlink()
    report = check(excerpt_query, url)
    assert report.matches, report.verdict
    assert report.keyframes is not None
    mf = report.keyframes.for_match(0)
    assert mf is not None and mf.reference_status == REFERENCE_MISSING
    assert all(p.reference is None and p.query is not None for p in mf.pairs)
    assert any("no longer at its indexed path" in w for w in report.warnings)
    html = render_html(report)
    assert "no longer at its indexed path" in html and html.count('class="frame missing"') == len(mf.pairs)


def test_check_can_skip_keyframes(sample_index: Path, excerpt_query: Path) -> None:
    from provenance.pipeline import check

    report = check(excerpt_query, f"sqlite:///{sample_index}", keyframes=False)
    assert report.keyframes is None and report.to_dict()["keyframes"] is None


@pytest.mark.parametrize("decoder", ["libav", "ffmpeg"])
def test_check_decodes_the_clip_once(
    sample_index: Path, excerpt_query: Path, monkeypatch: pytest.MonkeyPatch, decoder: str
) -> None:
    """The clip's thumbnails are its colour samples: the clip is decoded once, the reference once.

    (The text stage grabs its own frames at 1280 px, a second pass over the
    clip measured in docs/design.md; it is off here.)
    """
    from provenance import tools
    from provenance.decode import libav
    from provenance.decode.protocol import SampleRequest
    from provenance.pipeline import check

    monkeypatch.setenv("PROVENANCE_DECODER", decoder)
    opened: list[str] = []
    real = tools.run_ffmpeg
    real_sample = libav.sample

    def counting(args: list[str], **kw: object) -> tools.ToolResult:
        opened.extend(a for a in args if a.startswith("file:") and not a.endswith(".rgb"))
        return real(args, **kw)  # type: ignore[arg-type]

    def counting_sample(req: SampleRequest, **kw: object) -> libav.Sampled:
        opened.append(f"file:{req.path}")
        return real_sample(req, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(tools, "run_ffmpeg", counting)
    monkeypatch.setattr(libav, "sample", counting_sample)
    report = check(excerpt_query, f"sqlite:///{sample_index}", text=False)
    assert report.matches and report.keyframes is not None
    query_opens = [a for a in opened if a == f"file:{excerpt_query.resolve()}"]
    assert len(query_opens) == 1, opened
    mf = report.keyframes.for_match(0)
    assert mf is not None and all(p.query is not None and p.reference is not None for p in mf.pairs)
    assert report.keyframes.query and all(max(s.width, s.height) == 320 for s in report.keyframes.query)
