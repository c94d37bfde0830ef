"""Reference ingest under pressure: parallel workers, concurrent writers, kill -9, Ctrl-C.

Each test runs real ``provenance index add`` processes on a folder of small
lavfi clips and then checks the index through the backend interface: every
file stored exactly once, every stored reference whole (its frame count
matches its hashes), and a re-run completing what an interrupted one left.
Writers claim a file by its SHA-256 before decoding it: two writers over
overlapping folders decode each file once, a writer waits for a file another
one holds, and a claim left by a crashed writer is taken over.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import lavfi_clip, started

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scale.ingest_pair import probe_counter  # noqa: E402
from provenance.cli import main  # noqa: E402
from provenance.index import ClaimOwner, open_index  # noqa: E402
from provenance.index.sqlite import path_from_url  # noqa: E402
from provenance.ingest import IngestItem, add_paths, prepare_file, sha256_of  # noqa: E402
from provenance.progress import IngestProgress  # noqa: E402

CLIPS = 6


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six distinct 1-1.5 s testsrc2 clips (different lengths, so different bytes), 160x120."""
    folder = tmp_path_factory.mktemp("clips")
    for n in range(CLIPS):
        lavfi_clip(folder / f"clip{n:02d}.mp4", "testsrc2=size=160x120:rate=25", seconds=1.0 + n / 10)
    return folder


def _provenance(*args: str) -> list[str]:
    return [sys.executable, "-m", "provenance", *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PROVENANCE_DEBUG", None)
    return env


def _check_whole(url: str) -> list[str]:
    """The SHA-256 of every stored reference, after checking each one is whole."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(path_from_url(url))
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            conn.close()
    with open_index(url) as idx:
        refs = idx.references()
        for ref in refs:
            assert len(idx.frame_hashes(ref.id)) == ref.frames > 0
        return [r.sha256 for r in refs]


def _expected(folder: Path) -> set[str]:
    return {sha256_of(p) for p in folder.glob("*.mp4")}


def test_concurrent_writers_add_every_file_once(index_url: str, clip_folder: Path) -> None:
    """Two processes on one SQLite file; three (as three machines would) on one PostgreSQL database."""
    # Create the index first, as a desk would; concurrent creation is tested for PostgreSQL separately.
    open_index(index_url, create=True).close()
    writers = 3 if index_url.startswith("postgresql") else 2
    procs = [
        subprocess.Popen(
            _provenance("index", "add", str(clip_folder), "--index", index_url, "-q", "-j", "1"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
        )
        for _ in range(writers)
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
    added = sum(int(out.decode().split()[0]) for out, _ in outputs)
    assert added == CLIPS
    shas = _check_whole(index_url)
    assert sorted(shas) == sorted(_expected(clip_folder))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_two_writers_over_overlapping_folders_decode_each_file_once(
    index_url: str, clip_folder: Path, tmp_path: Path, jobs: str
) -> None:
    """Folders A (clips 0-3) and B (copies of clips 2-5) at once: clips 2 and 3 are met by both writers."""
    open_index(index_url, create=True).close()
    folders = [tmp_path / "a", tmp_path / "b"]
    for folder, names in zip(folders, (range(0, 4), range(2, CLIPS)), strict=True):
        folder.mkdir()
        for n in names:
            shutil.copy(clip_folder / f"clip{n:02d}.mp4", folder / f"clip{n:02d}.mp4")
    wrapper, log = probe_counter(tmp_path)
    env = {**_env(), "PROVENANCE_FFPROBE": str(wrapper)}
    procs = [
        subprocess.Popen(
            _provenance("index", "add", str(f), "--index", index_url, "-q", "-j", jobs, "--format", "json"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for f in folders
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, (err + out).decode()
    results = [json.loads(out) for out, _ in outputs]
    assert [len(r["items"]) for r in results] == [4, 4]
    assert sum(r["added"] for r in results) == CLIPS
    assert sum(r["present"] for r in results) == 2 and all(r["failed"] == 0 for r in results)
    assert all(r["added_by_others"] <= r["present"] for r in results)
    shas = _check_whole(index_url)
    assert sorted(shas) == sorted(_expected(clip_folder))  # every file, each once
    probed = Counter(sha256_of(Path(line.removeprefix("file:"))) for line in log.read_text().split())
    assert sorted(probed) == sorted(_expected(clip_folder)) and set(probed.values()) == {1}, probed


def test_a_file_another_writer_holds_is_waited_for(tmp_path: Path, clip_folder: Path) -> None:
    """The batch meets a file claimed by a live writer elsewhere: it waits, and reports it present once stored."""
    url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    clip = clip_folder / "clip03.mp4"
    sha = sha256_of(clip)
    other = ClaimOwner("other-writer", "desk-7", 4242)
    with open_index(url, create=True) as idx:
        assert idx.claim(sha, other, 600) is None

    def other_writer_finishes() -> None:
        time.sleep(1.5)
        prepared = prepare_file(clip)
        assert prepared.reference is not None and prepared.hashes is not None
        with open_index(url) as theirs:
            theirs.add(prepared.reference, prepared.hashes, facts=prepared.facts)
            theirs.release_claim(sha, other)

    helper = threading.Thread(target=other_writer_finishes)
    helper.start()
    try:
        with open_index(url) as idx:
            result = add_paths([clip_folder / "clip00.mp4", clip], idx)
    finally:
        helper.join()
    assert [i.status for i in result.items] == ["added", "present"]
    assert result.items[1].added_by == "process 4242 on desk-7"
    assert result.to_dict()["added_by_others"] == 1
    assert sorted(_check_whole(url)) == sorted(sha256_of(p) for p in (clip_folder / "clip00.mp4", clip))


@pytest.mark.parametrize("jobs", [1, 2])
def test_claims_left_by_crashed_writers_are_taken_over(tmp_path: Path, clip_folder: Path, jobs: int) -> None:
    """One claim's holder was a process of this host that died (kill -9); another's expired elsewhere."""
    url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    crashed = subprocess.Popen([sys.executable, "-c", "pass"])
    crashed.wait()
    clips = [clip_folder / "clip01.mp4", clip_folder / "clip02.mp4"]
    with open_index(url, create=True) as idx:
        here = ClaimOwner.here()
        assert idx.claim(sha256_of(clips[0]), ClaimOwner("crashed", here.host, crashed.pid), 3600) is None
        assert idx.claim(sha256_of(clips[1]), ClaimOwner("silent", "desk-9", 4242), -1) is None
        started = time.monotonic()
        result = add_paths(clips, idx, jobs=jobs)
        assert time.monotonic() - started < 60
        assert [i.status for i in result.items] == ["added", "added"]
        # The batch released what it claimed: any writer may claim these files now.
        assert all(idx.claim(sha256_of(c), ClaimOwner.here(), 60) is None for c in clips)
    assert sorted(_check_whole(url)) == sorted(sha256_of(c) for c in clips)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_kill_9_during_ingest_then_rerun_completes(tmp_path: Path, clip_folder: Path, jobs: str) -> None:
    url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    open_index(url, create=True).close()
    proc = subprocess.Popen(
        _provenance("index", "add", str(clip_folder), "--index", url, "-q", "-j", jobs),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(),
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            with open_index(url) as idx:
                if idx.stats()["references"] >= 2:
                    break
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"
    partial = _check_whole(url)
    assert 2 <= len(partial) < CLIPS
    rerun = subprocess.run(
        _provenance("index", "add", str(clip_folder), "--index", url, "-j", jobs),
        capture_output=True,
        text=True,
        env=_env(),
        timeout=240,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"{CLIPS - len(partial)} added, {len(partial)} already present, 0 failed" in rerun.stdout
    assert sorted(_check_whole(url)) == sorted(_expected(clip_folder))


def test_ctrl_c_keeps_whole_references_and_says_so(tmp_path: Path, clip_folder: Path) -> None:
    url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    open_index(url, create=True).close()
    with started(
        _provenance("index", "add", str(clip_folder), "--index", url, "-q", "-j", "2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        start_new_session=True,
    ) as proc:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            with open_index(url) as idx:
                if idx.stats()["references"] >= 1:
                    break
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends the whole foreground group
        _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the batch finished before the interrupt arrived")
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert len(_check_whole(url)) < CLIPS


def test_parallel_ingest_stores_what_sequential_ingest_stores(tmp_path: Path, clip_folder: Path) -> None:
    stored = []
    for jobs in (1, 2):
        url = f"sqlite:///{tmp_path / f'index{jobs}.sqlite'}"
        with open_index(url, create=True) as idx:
            result = add_paths([clip_folder], idx, jobs=jobs)
            assert [i.path for i in result.items] == sorted(str(p) for p in clip_folder.glob("*.mp4"))
            assert result.count("added") == CLIPS
            content = {}
            for ref in idx.references():
                fh = idx.frame_hashes(ref.id)
                content[ref.sha256] = (
                    ref.path,
                    ref.duration_s,
                    fh.times.tolist(),
                    fh.variants.tolist(),
                    fh.hashes.tolist(),
                )
            stored.append(content)
            again = add_paths([clip_folder], idx, jobs=jobs)
            assert again.count("present") == CLIPS
            assert all(i.reference is not None and i.reference.id > 0 for i in again.items)
            assert idx.stats()["references"] == CLIPS
    assert stored[0] == stored[1]


def test_failures_are_listed_at_the_end_and_the_batch_goes_on(tmp_path: Path, clip_folder: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("clip00.mp4", "clip01.mp4", "clip02.mp4"):
        (folder / name).write_bytes((clip_folder / name).read_bytes())
    (folder / "a-empty.mp4").write_bytes(b"")
    (folder / "b-text.mp4").write_text("<html>not found</html>")
    out = CliRunner().invoke(main, ["index", "add", str(folder), "--index", str(tmp_path / "i.sqlite"), "-j", "2"])
    assert out.exit_code == 2, out.output
    assert "3 added, 0 already present, 2 failed" in out.stdout
    failures = [line for line in out.stderr.splitlines() if line.startswith("failed")]
    assert len(failures) == 2 and "a-empty.mp4" in failures[0] and "b-text.mp4" in failures[1]
    assert out.stderr.rstrip().splitlines()[-2:] == failures
    assert "\r" not in out.stderr  # not a terminal: no live progress line


def test_quiet_prints_only_failures_and_the_summary(tmp_path: Path, clip_folder: Path) -> None:
    out = CliRunner().invoke(
        main, ["index", "add", str(clip_folder / "clip00.mp4"), "--index", str(tmp_path / "i.sqlite"), "--quiet"]
    )
    assert out.exit_code == 0
    assert out.stderr == ""
    assert out.stdout.strip() == "1 added, 0 already present, 0 failed"


def test_progress_line_on_a_terminal() -> None:
    stream = io.StringIO()
    progress = IngestProgress(stream, show_items=False, live=True)
    progress.start(4, 4000)
    progress.started -= 60  # a minute in
    progress.footage_s = 0.0
    item = IngestItem(path="/nonexistent/a.mp4", status="failed", error="x")
    progress.item(item)
    progress.done_bytes, progress.footage_s = 1000, 600.0
    line = progress.line()
    assert line.startswith("1/4 files, 10.0 min of footage, 10.0x real time, 1 failed, ETA 3m0")
    progress.close()
    assert stream.getvalue().startswith("\r\x1b[K0/4 files") and stream.getvalue().endswith("\n")
    assert "\r" not in _render_not_live()


def _render_not_live() -> str:
    stream = io.StringIO()
    progress = IngestProgress(stream, show_items=True)  # StringIO is not a terminal
    progress.start(1, 10)
    progress.close()
    return stream.getvalue()
