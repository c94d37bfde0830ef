"""Hostile output folders and report files (issue 24): nothing written outside, nothing read without end.

A folder unpacked from an archive may hold symlinks where the tool writes
(`report.md`, `report_files/`, a keyframe's name, an export's name); each is
refused with a one-line error (exit 2) and the file it points to is left
byte for byte. A report given to ``provenance report`` that is a named pipe,
``/dev/zero``, too large, too many values or of the wrong types is refused
with exit 2 naming the file, within seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import cli_here

from provenance.report import MAX_REPORT_BYTES, MAX_REPORT_ITEMS

VICTIM_BYTES = b"the analyst's own file, not the tool's\n"


@pytest.fixture(scope="module")
def saved_report(tmp_path_factory: pytest.TempPathFactory, sample_index_file: Path, viral_clip: Path) -> Path:
    """A JSON report of the viral sample against the samples index: it has keyframes, so Markdown has assets."""
    out = tmp_path_factory.mktemp("saved") / "report.json"
    run = cli_here("check", viral_clip, "--index", sample_index_file, "-o", out)
    assert run.code == 0, run.stderr
    assert json.loads(out.read_text())["keyframes"]
    return out


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file outside the output folder that a planted symlink points at."""
    path = tmp_path / "outside" / "victim.txt"
    path.parent.mkdir()
    path.write_bytes(VICTIM_BYTES)
    return path


def _one_line_error(run: Any, code: int, *needles: str) -> None:
    assert run.code == code, (run.code, run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def _outside_untouched(victim: Path) -> None:
    assert victim.read_bytes() == VICTIM_BYTES
    assert sorted(p.name for p in victim.parent.iterdir()) == ["victim.txt"]


# -- planted symlinks ------------------------------------------------------------


def test_a_symlink_at_the_report_name_is_refused_not_followed(saved_report: Path, tmp_path: Path, victim: Path) -> None:
    out = tmp_path / "unpacked"
    out.mkdir()
    (out / "report.md").symlink_to(victim)
    run = cli_here("report", saved_report, "--format", "md", "-o", out / "report.md")
    _one_line_error(run, 2, str(out / "report.md"), "symbolic link")
    _outside_untouched(victim)
    assert not (out / "report_files").exists(), "nothing is written beside a refused report"


@pytest.mark.parametrize("name", ["report.md.tmp", ".report.md.tmp"])
def test_a_symlink_at_the_old_temporary_name_is_never_written(
    saved_report: Path, tmp_path: Path, victim: Path, name: str
) -> None:
    out = tmp_path / "unpacked"
    out.mkdir()
    (out / name).symlink_to(victim)
    run = cli_here("report", saved_report, "--format", "md", "-o", out / "report.md")
    assert run.code == 0, run.stderr
    _outside_untouched(victim)
    assert (out / name).is_symlink() and (out / "report.md").is_file() and not (out / "report.md").is_symlink()


def test_a_symlinked_keyframe_folder_is_refused(saved_report: Path, tmp_path: Path, victim: Path) -> None:
    out = tmp_path / "unpacked"
    out.mkdir()
    (out / "report_files").symlink_to(victim.parent, target_is_directory=True)
    run = cli_here("report", saved_report, "--format", "md", "-o", out / "report.md")
    _one_line_error(run, 2, str(out / "report_files"), "symbolic link")
    _outside_untouched(victim)
    assert not (out / "report.md").exists()


def test_a_symlink_at_a_keyframe_name_is_refused(saved_report: Path, tmp_path: Path, victim: Path) -> None:
    first = tmp_path / "first"
    assert cli_here("report", saved_report, "--format", "md", "-o", first / "report.md").code == 0
    names = sorted(p.name for p in (first / "report_files").iterdir())
    assert names and all(n.endswith(".jpg") for n in names)
    out = tmp_path / "unpacked"
    (out / "report_files").mkdir(parents=True)
    (out / "report_files" / names[-1]).symlink_to(victim)
    run = cli_here("report", saved_report, "--format", "md", "-o", out / "report.md")
    _one_line_error(run, 2, names[-1], "symbolic link")
    _outside_untouched(victim)


def test_frames_refuses_symlinks_at_keyframe_names(cut_clip: Path, tmp_path: Path, victim: Path) -> None:
    first = tmp_path / "first"
    run = cli_here("frames", cut_clip, "-o", first)
    assert run.code == 0, run.stderr
    names = sorted(p.name for p in first.iterdir())
    out = tmp_path / "unpacked"
    out.mkdir()
    for name in names:
        (out / name).symlink_to(victim)
    run = cli_here("frames", cut_clip, "-o", out)
    _one_line_error(run, 2, "symbolic link")
    assert any(f"/{name}:" in run.stderr for name in names), run.stderr  # it names the planted link it met
    _outside_untouched(victim)


def test_frames_runs_again_into_its_own_folder_and_refuses_a_folder_of_other_files(
    cut_clip: Path, tmp_path: Path
) -> None:
    out = tmp_path / "shots"
    assert cli_here("frames", cut_clip, "-o", out).code == 0
    again = cli_here("frames", cut_clip, "-o", out)
    assert again.code == 0, again.stderr
    assert sorted(Path(line).name for line in again.stdout.splitlines()) == sorted(p.name for p in out.iterdir())
    other = tmp_path / "holiday"
    other.mkdir()
    (other / "beach.jpg").write_bytes(b"not ours")
    run = cli_here("frames", cut_clip, "-o", other)
    _one_line_error(run, 2, str(other), "beach.jpg", "not keyframes")
    assert sorted(p.name for p in other.iterdir()) == ["beach.jpg"]


def test_index_export_refuses_a_symlink_at_its_name(sample_index: Path, tmp_path: Path, victim: Path) -> None:
    out = tmp_path / "unpacked"
    out.mkdir()
    (out / "refs.jsonl").symlink_to(victim)
    (out / "refs.jsonl.part").symlink_to(victim)
    run = cli_here("index", "export", out / "refs.jsonl", "--index", sample_index)
    _one_line_error(run, 2, str(out / "refs.jsonl"), "symbolic link")
    _outside_untouched(victim)


def test_write_file_leaves_nothing_behind_when_the_write_fails(tmp_path: Path) -> None:
    from provenance.files import atomic_writer

    with pytest.raises(RuntimeError), atomic_writer(tmp_path / "out.json") as handle:
        handle.write(b"half")
        raise RuntimeError("stopped half way")
    assert list(tmp_path.iterdir()) == []


# -- reports that never end, are too large or malformed --------------------------------


def _report_run(path: Path) -> tuple[int, str, float]:
    """`provenance report PATH` in a real process, with a hard limit: (exit code, stderr, seconds)."""
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "provenance", "report", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    return proc.returncode, proc.stderr, time.monotonic() - start


def test_report_of_a_named_pipe_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "report.json"
    os.mkfifo(fifo)
    code, stderr, seconds = _report_run(fifo)
    assert code == 2 and seconds < 15, (code, stderr, seconds)
    assert stderr.count("\n") == 1 and str(fifo) in stderr and "not a regular file" in stderr


def test_report_of_dev_zero_is_refused_at_once() -> None:
    code, stderr, seconds = _report_run(Path("/dev/zero"))
    assert code == 2 and seconds < 15, (code, stderr, seconds)
    assert "/dev/zero" in stderr and "not a regular file" in stderr


def test_report_larger_than_the_limit_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with open(big, "wb") as handle:
        handle.truncate(MAX_REPORT_BYTES + 1)  # sparse: no disk, and never read
    code, stderr, _ = _report_run(big)
    assert code == 2 and str(big) in stderr and "larger than" in stderr


def test_report_of_too_many_values_is_refused_before_parsing(tmp_path: Path) -> None:
    many = tmp_path / "many.json"
    many.write_bytes(b"[" + b"{}," * (MAX_REPORT_ITEMS // 2) + b"{}]")
    code, stderr, _ = _report_run(many)
    assert code == 2 and str(many) in stderr and "JSON values" in stderr, stderr


def _malformed(report: dict[str, Any], case: str) -> str:
    data = json.loads(json.dumps(report))
    if case == "string duration":
        data["input"]["duration_s"] = "ten"
        return json.dumps(data)
    if case == "NaN width":
        data["input"]["width"] = float("nan")
        return json.dumps(data)  # json.dumps writes the non-standard NaN
    if case == "5000-digit integer":
        return json.dumps(data).replace('"duration_s": ', '"duration_s": ' + "9" * 5000 + ', "was": ', 1)
    if case == "list for a match":
        data["matches"] = [[1, 2, 3]]
        return json.dumps(data)
    if case == "number for the verdict":
        data["verdict"] = 7
        return json.dumps(data)
    if case == "missing input":
        del data["input"]
        return json.dumps(data)
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "string duration",
        "NaN width",
        "5000-digit integer",
        "list for a match",
        "number for the verdict",
        "missing input",
    ],
)
def test_a_malformed_report_is_exit_2_naming_the_file(saved_report: Path, tmp_path: Path, case: str) -> None:
    bad = tmp_path / f"{case.replace(' ', '_')}.json"
    bad.write_text(_malformed(json.loads(saved_report.read_text()), case), encoding="utf-8")
    for fmt in ("html", "md", "json"):
        run = cli_here("report", bad, "--format", fmt)
        _one_line_error(run, 2, str(bad))
        assert "unexpected" not in run.stderr


def test_the_saved_report_itself_still_renders(saved_report: Path) -> None:
    for fmt in ("html", "md", "json"):
        run = cli_here("report", saved_report, "--format", fmt)
        assert run.code == 0, run.stderr
