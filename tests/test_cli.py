"""Stage cli: every command in every format, and every exit code (CliRunner).

Exit codes: 0 done (whatever the verdict), 1 processing failure, 2 bad input
or usage, 3 missing tool or unusable index. Every failure is one line on
stderr naming the file, with no traceback, and leaves the index as it was.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from conftest import BAD_DIR, DOCS, index_fingerprint, sqlite_fingerprint

from provenance import __version__
from provenance.cli import main
from provenance.index import SCHEMA_VERSION


def invoke(*args: Any, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


def assert_one_line_error(result: Result, code: int, *needles: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def all_commands(group: click.Group = main, prefix: str = "provenance") -> Iterator[tuple[str, click.Command]]:
    """Every command name with its object, groups included ("provenance index add", ...)."""
    yield prefix, group
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", cmd


@pytest.fixture
def unchanged(sample_index: Path) -> Iterator[Path]:
    """The samples index; the test fails if its rows changed by the end of the test."""
    before = sqlite_fingerprint(sample_index)
    yield sample_index
    assert sqlite_fingerprint(sample_index) == before


# -- help and docs ------------------------------------------------------------------------


def test_every_command_and_option_has_help() -> None:
    for name, cmd in all_commands():
        assert cmd.help and cmd.help.strip(), f"{name} has no help text"
        assert cmd.get_short_help_str(), name
        for param in cmd.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.opts} has no help text"
        result = invoke(*name.split()[1:], "--help")
        assert result.exit_code == 0, name
        assert "Usage:" in result.stdout


def test_docs_mention_every_command_and_option() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for name, cmd in all_commands():
        assert name in text, f"docs/cli.md does not mention '{name}'"
        for param in cmd.params:
            if isinstance(param, click.Option):
                assert any(opt in text for opt in param.opts), f"docs/cli.md does not mention {name} {param.opts}"
    for code in ("0", "1", "2", "3"):
        assert re.search(rf"\b{code}\b", text)


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and __version__ in result.stdout


# -- check -------------------------------------------------------------------------------------


def test_check_json_on_stdout(unchanged: Path, excerpt_query: Path) -> None:
    result = invoke("check", excerpt_query, "--index", unchanged)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["schema"] == "provenance.report/1"
    assert report["verdict"]["code"] not in {"no_prior_match_in_index", "insufficient_evidence"}
    assert Path(report["matches"][0]["reference"]["path"]).name == "animated_dinner.mp4"


def _choices(command: click.Command, name: str) -> list[str]:
    param = next(p for p in command.params if p.name == name)
    assert isinstance(param.type, click.Choice)
    return [str(c) for c in param.type.choices]


@pytest.mark.parametrize("fmt", _choices(main.commands["check"], "fmt"))
def test_check_in_every_format(unchanged: Path, excerpt_query: Path, fmt: str) -> None:
    publisher = ("--org-name", "Example Fact Desk", "--review-url", "https://desk.example.org/fc/1")
    result = invoke(
        "check", excerpt_query, "--index", unchanged, "--format", fmt, *(publisher if fmt == "claimreview" else ())
    )
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.strip()
    if fmt == "json":
        assert json.loads(out)["matches"]
    elif fmt == "md":
        assert out.startswith("# Provenance report")
        assert "## Matches" in out and "animated" in out.lower()
    elif fmt == "html":
        assert "<html" in out.lower() and "</html>" in out.lower()
    elif fmt == "claimreview":
        assert "ClaimReview" in json.dumps(json.loads(out))


def test_check_writes_to_a_file(unchanged: Path, mandelbrot_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = invoke("check", mandelbrot_clip, "--index", unchanged, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert f"wrote {out}" in result.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["verdict"]["code"] == "no_prior_match_in_index"  # exit 0 whatever the verdict
    assert report["matches"] == []


def test_check_uses_provenance_index_variable(unchanged: Path, mandelbrot_clip: Path) -> None:
    result = invoke("check", mandelbrot_clip, env={"PROVENANCE_INDEX": f"sqlite:///{unchanged}"})
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["index"]["references"] == 4


def test_check_clip_that_decodes_in_part(unchanged: Path, half_clip: Path) -> None:
    result = invoke("check", half_clip, "--index", unchanged)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["input"]["duration_s"] == pytest.approx(8.0, abs=0.1)
    ((start, end),) = report["input"]["unreadable"]
    assert 2.0 <= start <= 6.0 and end == pytest.approx(8.0, abs=0.1)
    assert any(f"seconds {start:.1f}-{end:.1f} could not be decoded" in w for w in report["warnings"])
    assert report["input"]["frames_sampled"] == pytest.approx(start * 4, abs=1)


# -- probe and frames ---------------------------------------------------------------------------


def test_probe_prints_media_facts(testsrc_clip: Path) -> None:
    result = invoke("probe", testsrc_clip)
    assert result.exit_code == 0, result.stderr
    facts = json.loads(result.stdout)
    assert (facts["kind"], facts["width"], facts["height"]) == ("video", 320, 240)
    assert facts["tags"]["title"] == "testsrc title"


def test_probe_still_image(still_jpeg: Path) -> None:
    result = invoke("probe", still_jpeg)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["tags"]["Image Make"] == "TestCam"


def test_frames_writes_one_jpeg_per_shot(cut_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "shots"
    result = invoke("frames", cut_clip, "-o", out)
    assert result.exit_code == 0, result.stderr
    listed = [Path(line) for line in result.stdout.splitlines()]
    assert all(p.parent == out and p.is_file() for p in listed)
    assert sorted(out.iterdir()) == sorted(listed)
    listing = json.loads((out / "shots.json").read_text(encoding="utf-8"))
    assert [s["transition"] for s in listing["shots"]] == [None, "cut"]
    files = [k["file"] for s in listing["shots"] for k in s["keyframes"]]
    assert sorted(files) == sorted(p.name for p in listed if p.name.startswith("shot0"))
    assert {"shots.json", "contact_sheet.jpg"} <= {p.name for p in listed}


def test_frames_into_a_folder_that_is_not_empty_exits_2(cut_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "shots"
    out.mkdir()
    (out / "earlier.jpg").write_bytes(b"keep me")
    assert_one_line_error(invoke("frames", cut_clip, "-o", out), 2, f"-o {out}", "not empty")
    assert [p.name for p in out.iterdir()] == ["earlier.jpg"]


def test_frames_needs_an_output_folder(cut_clip: Path) -> None:
    result = invoke("frames", cut_clip)
    assert result.exit_code == 2
    assert "-o" in result.stderr


def test_frames_onto_a_file_exits_2_naming_it(cut_clip: Path, tmp_path: Path) -> None:
    taken = tmp_path / "notes.txt"
    taken.write_text("keep me", encoding="utf-8")
    assert_one_line_error(invoke("frames", cut_clip, "-o", taken), 2, f"-o {taken}", "not a folder")
    assert taken.read_text(encoding="utf-8") == "keep me"
    deeper = taken / "shots"  # a folder inside a file cannot be made either
    assert_one_line_error(invoke("frames", cut_clip, "-o", deeper), 2, str(deeper), str(taken))


def test_frames_makes_missing_folders_and_removes_them_when_it_fails(cut_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "case" / "shots"
    assert invoke("frames", cut_clip, "-o", out).exit_code == 0
    assert len(list(out.glob("shot*.jpg"))) >= 2
    gone = tmp_path / "other" / "shots"
    assert invoke("frames", tmp_path / "missing.mp4", "-o", gone).exit_code == 2
    assert not (tmp_path / "other").exists()


# -- every command's output path -------------------------------------------------------------------------

PUBLISHER = ("--org-name", "Example Fact Desk", "--review-url", "https://desk.example.org/fc/1")


def test_outputs_into_missing_folders_are_written(unchanged: Path, mandelbrot_clip: Path, tmp_path: Path) -> None:
    report = tmp_path / "missing" / "deeper" / "x.json"
    result = invoke("check", mandelbrot_clip, "--index", unchanged, "-o", report)
    assert result.exit_code == 0, result.output
    assert json.loads(report.read_text(encoding="utf-8"))["schema"] == "provenance.report/1"
    for fmt, name in [("html", "r.html"), ("md", "r.md"), ("claimreview", "r.jsonld"), ("json", "r.json")]:
        out = tmp_path / "renders" / fmt / name
        flags = PUBLISHER if fmt == "claimreview" else ()
        rendered = invoke("report", report, "--format", fmt, "-o", out, *flags)
        assert rendered.exit_code == 0, rendered.output
        assert out.stat().st_size > 100 and f"wrote {out}" in rendered.stderr
    exported = tmp_path / "exports" / "today" / "index.jsonl"
    assert invoke("index", "export", exported, "--index", unchanged).exit_code == 0
    assert exported.is_file()


def test_markdown_is_taken_for_md(unchanged: Path, mandelbrot_clip: Path, tmp_path: Path) -> None:
    """A user typed ``--format markdown``; it was refused with "not one of json, md, html, claimreview"."""
    report = tmp_path / "x.json"
    assert invoke("check", mandelbrot_clip, "--index", unchanged, "-o", report).exit_code == 0
    out = tmp_path / "r.md"
    rendered = invoke("report", report, "--format", "markdown", "-o", out)
    assert rendered.exit_code == 0, rendered.output
    assert out.read_text(encoding="utf-8").startswith("# Provenance report")
    assert invoke("report", report, "--format", "markdwn").exit_code == 2


@pytest.mark.parametrize("command", ["check", "report"])
def test_outputs_that_cannot_be_written_exit_2_before_any_work(unchanged: Path, tmp_path: Path, command: str) -> None:
    """The clip does not exist: an error about it would mean the check ran before -o was looked at."""
    taken = tmp_path / "afile"
    taken.write_text("", encoding="utf-8")
    folder = tmp_path / "folder"
    folder.mkdir()
    source = tmp_path / "never-downloaded.mp4" if command == "check" else tmp_path / "never-saved.json"
    args = (command, source, *(("--index", unchanged) if command == "check" else ()))
    for output, needles in [
        (taken / "x.html", (str(taken), "not a folder")),
        (folder, (str(folder), "a folder is there")),
        (tmp_path / ("n" * 300 + ".html"), ("cannot be written there",)),
    ]:
        result = invoke(*args, "-o", output)
        assert_one_line_error(result, 2, "-o", *needles)
        assert "never-" not in result.stderr
    left = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("samples.sqlite"))
    assert left == ["afile", "folder"] and not any(folder.iterdir())


def test_failed_check_leaves_no_output_folder(unchanged: Path, tmp_path: Path) -> None:
    result = invoke(
        "check", tmp_path / "never-downloaded.mp4", "--index", unchanged, "-o", tmp_path / "a" / "b" / "r.json"
    )
    assert_one_line_error(result, 2, "no such file")
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("command", ["check", "report"])
def test_claimreview_needs_the_review_url_and_the_organisation(unchanged: Path, tmp_path: Path, command: str) -> None:
    """Refused before the check runs (the clip does not exist), one line naming the flag; URLs are validated."""
    source = tmp_path / "never-downloaded.mp4" if command == "check" else tmp_path / "never-saved.json"
    args = (command, source, *(("--index", unchanged) if command == "check" else ()), "--format", "claimreview")
    for flags, needle in [
        ((), "--review-url"),
        (("--org-name", "Desk"), "--review-url"),
        (("--review-url", "https://desk.example.org/fc/1"), "--org-name"),
        (("--org-name", "Desk", "--review-url", "notaurl"), "--review-url 'notaurl'"),
        (("--org-name", "Desk", "--review-url", "ftp://desk.example.org/fc"), "--review-url"),
        ((*PUBLISHER, "--org-url", "desk.example.org"), "--org-url"),
    ]:
        result = invoke(*args, *flags)
        assert_one_line_error(result, 2, needle)
        assert "never-" not in result.stderr and result.stdout == ""
    # a URL given to another format is checked too
    assert_one_line_error(invoke(command, source, "--format", "json", "--review-url", "notaurl"), 2, "--review-url")


# -- index add / list / show / remove / stats ----------------------------------------------------


def test_index_add_text(tmp_path: Path, testsrc_clip: Path, life_clip: Path) -> None:
    index = tmp_path / "i.sqlite"
    result = invoke("index", "add", testsrc_clip, life_clip, "--index", index)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "2 added, 0 already present, 0 failed"
    assert "added" in result.stderr and "testsrc.mp4" in result.stderr  # progress on stderr
    again = invoke("index", "add", testsrc_clip, "--index", index)
    assert again.exit_code == 0
    assert again.stdout.strip() == "0 added, 1 already present, 0 failed"


def test_index_add_json_with_flags(tmp_path: Path, testsrc_clip: Path) -> None:
    index = f"sqlite:///{tmp_path / 'i.sqlite'}"
    result = invoke(
        "index",
        "add",
        testsrc_clip,
        "--index",
        index,
        "--source-url",
        "https://news.example/v/1",
        "--publisher",
        "Desk",
        "--first-seen",
        "2021-09-12",
        "--title",
        "A title",
        "--licence",
        "CC0",
        "--note",
        "from the archive",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["added"], data["present"], data["failed"]) == (1, 0, 0)
    ref = data["items"][0]["reference"]
    assert ref["source_url"] == "https://news.example/v/1"
    assert (ref["publisher"], ref["first_seen"], ref["title"]) == ("Desk", "2021-09-12", "A title")
    assert (ref["licence"], ref["notes"]) == ("CC0", "from the archive")


def test_index_add_that_adds_nothing_leaves_no_index(tmp_path: Path, zero_byte_file: Path) -> None:
    """An empty folder, or only failures, into a new index: the same message and exit code, and no file left."""
    empty = tmp_path / "empty"
    empty.mkdir()
    index = tmp_path / "new" / "place" / "i.sqlite"
    assert_one_line_error(invoke("index", "add", empty, "--index", index), 2, str(empty), "no video or image")
    assert not index.exists() and not (tmp_path / "new").exists()
    failed = invoke("index", "add", zero_byte_file, "--index", f"sqlite:///{index}")
    assert failed.exit_code == 2 and "0 added, 0 already present, 1 failed" in failed.stdout
    assert not index.exists() and not (tmp_path / "new").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_index_add_keeps_an_index_that_was_there(tmp_path: Path, testsrc_clip: Path) -> None:
    index = tmp_path / "i.sqlite"
    assert invoke("index", "add", testsrc_clip, "--index", index).exit_code == 0
    assert invoke("index", "remove", "1", "--index", index).exit_code == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    assert invoke("index", "add", empty, "--index", index).exit_code == 2
    assert index.is_file()  # it existed before: an empty index someone made stays
    again = invoke("index", "add", testsrc_clip, "--index", tmp_path / "second.sqlite")
    assert again.exit_code == 0 and (tmp_path / "second.sqlite").is_file()


def test_index_add_refuses_a_bad_date(tmp_path: Path, testsrc_clip: Path) -> None:
    index = tmp_path / "i.sqlite"
    result = invoke("index", "add", testsrc_clip, "--index", index, "--first-seen", "last tuesday")
    assert_one_line_error(result, 2, "--first-seen", "YYYY-MM-DD")
    assert not index.exists()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_index_list_show_stats(sample_index: Path, fmt: str) -> None:
    listed = invoke("index", "list", "--index", sample_index, "--format", fmt)
    assert listed.exit_code == 0
    shown = invoke("index", "show", "1", "--index", sample_index, "--format", fmt)
    assert shown.exit_code == 0
    stats = invoke("index", "stats", "--index", sample_index, "--format", fmt)
    assert stats.exit_code == 0
    if fmt == "json":
        refs = json.loads(listed.stdout)
        names = sorted(Path(r["path"]).name for r in refs)
        assert names == ["animated_dinner.mp4", "storm_road_panzoom.mp4", "street_cyclists.mp4", "tree_window.mp4"]
        assert json.loads(shown.stdout)["id"] == 1
        data = json.loads(stats.stdout)
        assert data["references"] == 4 and data["hashes"] > 0 and data["schema_version"] == SCHEMA_VERSION
    else:
        assert len(listed.stdout.strip().splitlines()) == 4
        assert "2021-09-12" in listed.stdout
        assert re.search(r"^sha256\s+[0-9a-f]{64}$", shown.stdout, re.MULTILINE)
        assert re.search(r"^references\s+4$", stats.stdout, re.MULTILINE)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_index_remove(sample_index: Path, fmt: str) -> None:
    result = invoke("index", "remove", "2", "--index", sample_index, "--format", fmt)
    assert result.exit_code == 0, result.stderr
    if fmt == "json":
        assert json.loads(result.stdout)["removed"]["id"] == 2
    else:
        assert result.stdout.startswith("removed #2")
    listed = json.loads(invoke("index", "list", "--index", sample_index, "--format", "json").stdout)
    assert [r["id"] for r in listed] == [1, 3, 4]
    missing = invoke("index", "show", "2", "--index", sample_index)
    assert_one_line_error(missing, 2, "no reference with id 2")


def test_index_commands_over_each_backend(index_url: str, testsrc_clip: Path, mandelbrot_clip: Path) -> None:
    added = invoke("index", "add", testsrc_clip, "--index", index_url, "--format", "json")
    assert added.exit_code == 0, added.stderr
    ref_id = json.loads(added.stdout)["items"][0]["reference"]["id"]
    listed = json.loads(invoke("index", "list", "--index", index_url, "--format", "json").stdout)
    assert [r["id"] for r in listed] == [ref_id]
    report = json.loads(invoke("check", mandelbrot_clip, "--index", index_url).stdout)
    assert report["verdict"]["code"] == "no_prior_match_in_index"
    assert report["index"]["references"] == 1
    before = index_fingerprint(index_url)
    failed = invoke("index", "remove", str(ref_id + 100), "--index", index_url)
    assert_one_line_error(failed, 2, str(ref_id + 100))
    assert index_fingerprint(index_url) == before
    assert invoke("index", "remove", str(ref_id), "--index", index_url).exit_code == 0
    stats = json.loads(invoke("index", "stats", "--index", index_url, "--format", "json").stdout)
    assert stats["references"] == 0 and stats["hashes"] == 0


# -- exit code 2: bad input and usage ----------------------------------------------------------------

BAD_INPUTS = [
    ("zero_byte_file", "empty file"),
    ("text_as_mp4", "not a video"),
    ("header_overwritten", "not a video"),
    ("moov_lost_clip", "not a video"),
    ("truncated_before_first_frame", "no frame could be decoded"),
]


@pytest.mark.parametrize(("fixture", "message"), BAD_INPUTS)
def test_check_bad_input_exits_2(request: pytest.FixtureRequest, unchanged: Path, fixture: str, message: str) -> None:
    path: Path = request.getfixturevalue(fixture)
    result = invoke("check", path, "--index", unchanged)
    assert_one_line_error(result, 2, str(path), message)
    assert result.stdout == ""


@pytest.mark.parametrize(("fixture", "message"), BAD_INPUTS)
def test_index_add_bad_input_exits_2(
    request: pytest.FixtureRequest, unchanged: Path, fixture: str, message: str
) -> None:
    path: Path = request.getfixturevalue(fixture)
    result = invoke("index", "add", path, "--index", unchanged)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"failed   {path}" in result.stderr and message in result.stderr
    assert "0 added, 0 already present, 1 failed" in result.stdout


def test_missing_file_exits_2(unchanged: Path, tmp_path: Path) -> None:
    missing = tmp_path / "never-downloaded.mp4"
    assert_one_line_error(invoke("check", missing, "--index", unchanged), 2, str(missing), "no such file")
    assert_one_line_error(invoke("probe", missing), 2, str(missing))
    assert_one_line_error(invoke("frames", missing, "-o", tmp_path / "o"), 2, str(missing))
    assert_one_line_error(invoke("index", "add", missing, "--index", unchanged), 2, str(missing), "no such file")


def test_folder_with_no_media_exits_2(unchanged: Path, tmp_path: Path) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "notes.txt").write_text("nothing here", encoding="utf-8")
    assert_one_line_error(invoke("index", "add", folder, "--index", unchanged), 2, str(folder), "no video or image")
    assert_one_line_error(invoke("check", folder, "--index", unchanged), 2, str(folder))


def test_bad_file_in_a_batch_exits_2_and_adds_the_rest(
    tmp_path: Path, testsrc_clip: Path, zero_byte_file: Path
) -> None:
    index = tmp_path / "i.sqlite"
    result = invoke("index", "add", testsrc_clip, zero_byte_file, "--index", index, "--format", "json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert (data["added"], data["failed"]) == (1, 1)
    listed = json.loads(invoke("index", "list", "--index", index, "--format", "json").stdout)
    assert [Path(r["path"]).name for r in listed] == ["testsrc.mp4"]


def test_usage_errors_exit_2(unchanged: Path, testsrc_clip: Path) -> None:
    assert invoke("check").exit_code == 2
    assert invoke("check", testsrc_clip, "--format", "pdf", "--index", unchanged).exit_code == 2
    assert invoke("index", "show", "abc", "--index", unchanged).exit_code == 2
    assert invoke("frobnicate").exit_code == 2
    assert invoke("check", testsrc_clip, "--index", "mysql://db/x").exit_code == 2


@pytest.mark.skipif(not BAD_DIR.is_dir(), reason="bench/data/bad is built by the benchmark's data script")
@pytest.mark.parametrize(
    ("name", "code"),
    [("zero-bytes.mp4", 2), ("truncated.mp4", 2), ("header-zeroed.mp4", 2), ("middle-corrupted.mp4", 0)],
)
def test_benchmark_bad_files(unchanged: Path, name: str, code: int) -> None:
    path = BAD_DIR / name
    if not path.is_file():
        pytest.skip(f"{path} not built")
    result = invoke("check", path, "--index", unchanged)
    assert result.exit_code == code, result.output
    if code:
        assert_one_line_error(result, code, str(path))


# -- exit code 3: missing tools and unusable indexes ------------------------------------------------


@pytest.mark.parametrize("variable", ["PROVENANCE_FFPROBE", "PROVENANCE_FFMPEG"])
def test_missing_ffmpeg_exits_3(unchanged: Path, testsrc_clip: Path, tmp_path: Path, variable: str) -> None:
    env = {variable: str(tmp_path / "no" / variable.lower())}
    result = invoke("check", testsrc_clip, "--index", unchanged, env=env)
    assert_one_line_error(result, 3, variable)
    # Indexing runs ffmpeg only when it decodes with the command line (libav decodes in its worker).
    added = invoke("index", "add", testsrc_clip, "--index", unchanged, env={**env, "PROVENANCE_DECODER": "ffmpeg"})
    assert added.exit_code == 3, added.output
    assert variable in added.stderr


def test_index_add_with_libav_needs_no_ffmpeg_binary(sample_index: Path, testsrc_clip: Path, tmp_path: Path) -> None:
    env = {"PROVENANCE_FFMPEG": str(tmp_path / "no" / "ffmpeg"), "PROVENANCE_DECODER": "libav"}
    added = invoke("index", "add", testsrc_clip, "--index", sample_index, env=env)
    assert added.exit_code == 0, added.output
    assert "1 added" in added.output


def test_ffmpeg_not_on_path_exits_3(
    unchanged: Path, testsrc_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROVENANCE_FFPROBE", raising=False)
    monkeypatch.delenv("PROVENANCE_FFMPEG", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    result = invoke("check", testsrc_clip, "--index", unchanged)
    assert_one_line_error(result, 3, "not found on PATH", "apt-get install ffmpeg")
    assert invoke("probe", testsrc_clip).exit_code == 3
    assert invoke("frames", testsrc_clip, "-o", tmp_path / "o").exit_code == 3
    assert invoke("index", "add", testsrc_clip, "--index", unchanged).exit_code == 3


def test_index_that_is_not_sqlite_exits_3(tmp_path: Path, testsrc_clip: Path) -> None:
    notes = tmp_path / "notes.sqlite"
    notes.write_text("not a database\n" * 200, encoding="utf-8")
    before = notes.read_bytes()
    for args in (
        ("check", testsrc_clip),
        ("index", "add", testsrc_clip),
        ("index", "list"),
        ("index", "show", "1"),
        ("index", "remove", "1"),
        ("index", "stats"),
    ):
        assert_one_line_error(invoke(*args, "--index", notes), 3, str(notes))
    assert notes.read_bytes() == before


def test_index_with_newer_schema_exits_3(sample_index: Path, testsrc_clip: Path) -> None:
    conn = sqlite3.connect(sample_index)
    with conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.close()
    before = sqlite_fingerprint(sample_index)
    assert_one_line_error(invoke("index", "add", testsrc_clip, "--index", sample_index), 3, "newer")
    assert_one_line_error(invoke("check", testsrc_clip, "--index", sample_index), 3, "newer")
    assert sqlite_fingerprint(sample_index) == before


def test_missing_index_exits_3_and_is_not_created(tmp_path: Path, testsrc_clip: Path) -> None:
    missing = tmp_path / "nowhere.sqlite"
    assert_one_line_error(invoke("check", testsrc_clip, "--index", missing), 3, str(missing), "index add")
    assert_one_line_error(invoke("index", "list", "--index", missing), 3, str(missing))
    assert not missing.exists()


# -- exit code 1, and tracebacks only on request ------------------------------------------------------


def test_unexpected_error_exits_1(monkeypatch: pytest.MonkeyPatch, testsrc_clip: Path) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("provenance.probe.probe", explode)
    result = invoke("probe", testsrc_clip)
    assert_one_line_error(result, 1, "RuntimeError", "simulated bug", "PROVENANCE_DEBUG=1")
    debug = invoke("probe", testsrc_clip, env={"PROVENANCE_DEBUG": "1"})
    assert debug.exit_code == 1
    assert "Traceback" in debug.stderr


def test_debug_shows_traceback_for_expected_errors(zero_byte_file: Path) -> None:
    quiet = invoke("probe", zero_byte_file)
    assert "Traceback" not in quiet.stderr
    loud = invoke("probe", zero_byte_file, env={"PROVENANCE_DEBUG": "1"})
    assert loud.exit_code == 2
    assert "Traceback" in loud.stderr and "BadInputError" in loud.stderr


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_index_check(unchanged: Path, fmt: str, tmp_path: Path) -> None:
    result = invoke("index", "check", "--index", unchanged, "--format", fmt)
    assert result.exit_code == 0, result.output
    if fmt == "json":
        assert isinstance(json.loads(result.stdout), dict)
    notes = tmp_path / "notes.sqlite"
    notes.write_text("not a database\n" * 200, encoding="utf-8")
    assert invoke("index", "check", "--index", notes, "--format", fmt).exit_code == 3
