"""Stage report: Markdown that is inert but readable, with keyframes as files next to it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from report_samples import HOSTILE, make_match, make_reference, make_report

from provenance.cli import main
from provenance.report import RenderOptions, render, render_assets
from provenance.report.markdown import render_markdown
from provenance.report.text import md


def test_md_leaves_ordinary_text_alone() -> None:
    for text in ("0.1.0", "street_cyclists.mp4", "2021-09-12", "https://archive.example.org/watch?v=1&t=2", "a > b"):
        assert md(text) == text


def test_md_makes_markup_inert() -> None:
    assert md("<script>alert(1)</script>") == "\\<script>alert(1)\\</script>"
    assert md("[click](https://evil.example)") == "\\[click\\](https://evil.example)"
    assert md("![x](y)") == "!\\[x\\](y)"
    assert md("*bold* _em_ a|b `code` ~~s~~") == "\\*bold\\* \\_em\\_ a\\|b \\`code\\` \\~\\~s\\~\\~"
    assert md("&lt;b&gt;") == "\\&lt;b\\&gt;"
    assert md("back\\slash") == "back\\\\slash"


def test_md_escapes_block_markers_at_the_start() -> None:
    assert md("# heading") == "\\# heading"
    assert md("- item") == "\\- item"
    assert md("> quote") == "\\> quote"
    assert md("12. item") == "12\\. item"
    assert md("1) item") == "1\\) item"
    assert md("2024 was") == "2024 was"


def test_md_one_line_without_controls() -> None:
    assert md("a\n\n# b\r\n\x1b[31mred\u202e") == "a # b \\[31mred"


def test_markdown_has_the_same_sections_as_html() -> None:
    text = render_markdown(make_report(), assets_dir="r_files")
    order = ["**Verdict: Footage seen before**", "## The claim and the evidence", "## Matches", "## Metadata findings"]
    positions = [text.index(s) for s in order + ["## Checked file", "## Reproducibility"]]
    assert positions == sorted(positions)
    assert "| Clip | Reference |" in text
    assert "![clip at 2.0 s](r_files/match01_1_query_t0002.000.jpg)" in text


def test_markdown_escapes_hostile_sidecar_and_claim_text() -> None:
    report = make_report((make_match(make_reference(title=HOSTILE, publisher=HOSTILE, source_url=HOSTILE)),))
    text = render_markdown(report, assets_dir="r_files")
    for line in text.splitlines():
        # any '<' in the output is escaped; images and links are only ours
        assert "<" not in line.replace("\\<", "").replace("<br>", "")
    assert text.count("](") == text.count("](r_files/") + text.count("\\](")


def test_assets_match_the_links(tmp_path: Path) -> None:
    report = make_report()
    options = RenderOptions(assets_dir="r_files")
    text = render(report, "md", options)
    assets = render_assets(report, "md", options)
    assert assets and all(name.startswith("r_files/") for name in assets)
    for name in assets:
        assert f"({name})" in text
    assert all(data[:3] == b"\xff\xd8\xff" for data in assets.values())
    assert render_assets(report, "html", options) == {}


def test_markdown_on_stdout_has_no_image_links() -> None:
    text = render_markdown(make_report())
    assert "![" not in text and "written as files when the report is saved with -o" in text


def test_cli_writes_markdown_and_its_keyframes(tmp_path: Path) -> None:
    saved = tmp_path / "r.json"
    saved.write_text(render(make_report(), "json"), encoding="utf-8")
    out = tmp_path / "ticket" / "case 12.md"
    out.parent.mkdir()
    result = CliRunner().invoke(main, ["report", str(saved), "--format", "md", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    folder = out.parent / "case 12_files"
    files = sorted(folder.iterdir())
    assert len(files) == 8
    for f in files:
        assert f"case%2012_files/{f.name}" in text


def test_a_match_says_whether_it_is_the_same_moment() -> None:
    """The relation (verify) is written in words on the match, with its reason; a same scene says it dates nothing."""
    from report_samples import make_match, make_report

    from provenance.relation import Relation, Verification
    from provenance.report import render

    v = Verification(Relation.SAME_SCENE, 12, 0.14, 0.11, "the still background agrees but what moves does not")
    text = render(make_report((make_match(verification=v),)), "md")
    assert "Same place, its moment not shown: this does not date the clip" in text
    assert "what moves does not" in text
    assert "same_scene" not in text.split("## Matches", 1)[1].split("## Metadata", 1)[0]
