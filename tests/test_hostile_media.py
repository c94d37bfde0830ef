"""Hostile media: every file a fact-checker may be handed, built here with ffmpeg.

Each case runs through the real command line (a subprocess, as a user runs it)
and must end within its time limit with the stated exit code (2 bad input,
1 processing failure, 3 tool or index), a one-line message and no traceback,
and must leave the index's content (every row of meta, refs and hashes)
unchanged. Nothing is downloaded: the corpus is made from ffmpeg's lavfi
sources and byte surgery on the results. docs/security.md lists the cases.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import libav_sample

from provenance import tools
from provenance.errors import BadInputError, ProcessingError
from provenance.index import open_index
from provenance.ingest import add_paths

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")

#: Wall-clock limit for one command on one hostile input, seconds. Generous
#: because CI shares two cores with other work; a hang still fails it.
CASE_LIMIT_S = 45.0
#: Exit codes (provenance.errors).
OK, FAILURE, BAD_INPUT, UNAVAILABLE = 0, 1, 2, 3


# -- helpers -------------------------------------------------------------------


def ffmpeg(*args: str) -> None:
    """Run ffmpeg to build a sample (trusted arguments, our own lavfi sources)."""
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *args], check=True, timeout=120)


@dataclass
class Run:
    """One finished command: exit code, output and how long it took."""

    code: int
    stdout: str
    stderr: str
    seconds: float


def cli(*args: str | Path, cwd: Path | None = None, limit: float = CASE_LIMIT_S) -> Run:
    """Run ``python -m provenance ARGS`` as a user would, killed after `limit` seconds."""
    env = {k: v for k, v in os.environ.items() if k != "PROVENANCE_DEBUG"}
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "provenance", *map(str, args)],
        capture_output=True,
        timeout=limit,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    return Run(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
        time.monotonic() - start,
    )


def cli_here(*args: str | Path, cwd: Path | None = None) -> Run:
    """The same command in this process (click's CliRunner): faster, for the bulk of the matrix.

    An exception that escapes the command's own error handling is reported
    as a traceback in `stderr`, so `assert_clean` fails on it.
    """
    from click.testing import CliRunner

    from provenance.cli import main

    old = Path.cwd()
    start = time.monotonic()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = CliRunner().invoke(main, [str(a) for a in args], prog_name="provenance")
    finally:
        os.chdir(old)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += f"\nTraceback (escaped the CLI): {result.exception!r}"
    return Run(result.exit_code, result.stdout, stderr, time.monotonic() - start)


def assert_clean(run: Run, code: int, fragment: str | None = None, *, limit: float = CASE_LIMIT_S) -> None:
    """The run ended with `code` in time; an error is one line naming the problem, never a traceback."""
    detail = f"exit {run.code}, {run.seconds:.1f} s\nstdout: {run.stdout[-2000:]}\nstderr: {run.stderr[-2000:]}"
    assert run.code == code, detail
    assert run.seconds < limit, detail
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout, detail
    assert "unexpected" not in run.stderr, detail
    if code != OK:
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1, detail
        assert lines[0].startswith(("error: ", "failed ")), detail
        if fragment is not None:
            assert fragment.lower() in lines[0].lower(), detail


def index_digest(path: Path) -> str:
    """SHA-256 over every row of meta, refs and hashes (the index's content)."""
    digest = hashlib.sha256()
    con = sqlite3.connect(str(path))
    try:
        for table, order in (("meta", "key"), ("refs", "id"), ("hashes", "ref_id, t_ms, variant, h")):
            for row in con.execute(f"SELECT * FROM {table} ORDER BY {order}"):
                digest.update(repr(row).encode())
    finally:
        con.close()
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def patch_avi_size(src: Path, dst: Path, width: int, height: int, fourcc: bytes | None = None) -> None:
    """Copy an AVI with its declared frame size (avih, strf) and optionally its codec replaced."""
    data = bytearray(src.read_bytes())
    avih = data.find(b"avih")
    data[avih + 8 + 32 : avih + 8 + 40] = struct.pack("<II", width, height)
    strf = data.find(b"strf")
    data[strf + 12 : strf + 20] = struct.pack("<ii", width, height)
    if fourcc is not None:
        data[strf + 24 : strf + 28] = fourcc
        strh = data.find(b"strh")
        data[strh + 12 : strh + 16] = fourcc
    dst.write_bytes(bytes(data))


# -- the corpus ------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """Reference clips, an index of them, and the hostile files."""

    root: Path
    ref_a: Path
    ref_b: Path
    index: Path

    def __getitem__(self, name: str) -> Path:
        return self.root / "cases" / name


def _build_cases(root: Path, ref_a: Path) -> None:
    cases = root / "cases"
    cases.mkdir()
    work = root / "work"
    work.mkdir()
    rng = random.Random(7)

    (cases / "zero-bytes.mp4").write_bytes(b"")

    # A 6 s clip with the moov atom at the end (ffmpeg's default) and one with it first.
    plain, fast = work / "plain.mp4", work / "fast.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x240:r=25:d=4",
        "-c:v",
        "libx264",
        "-g",
        "25",
        "-pix_fmt",
        "yuv420p",
        str(plain),
    )
    ffmpeg("-i", str(plain), "-c", "copy", "-movflags", "+faststart", str(fast))
    data = plain.read_bytes()
    (cases / "moov-missing.mp4").write_bytes(data[: len(data) // 2])
    data = fast.read_bytes()
    (cases / "cut-in-half.mp4").write_bytes(data[: len(data) // 2])
    damaged = bytearray(data)
    for i in range(len(data) * 35 // 100, len(data) * 55 // 100):
        damaged[i] = rng.randrange(256)
    (cases / "damaged-stream.mp4").write_bytes(bytes(damaged))

    (cases / "text.mp4").write_text("These are not the frames you are looking for.\n" * 50)
    (cases / "page.mp4").write_text(
        "<!doctype html><html><head><title>Video</title></head>"
        '<body><video src="clip.mp4" autoplay></video><script>alert(1)</script></body></html>\n'
    )
    with zipfile.ZipFile(cases / "archive.mp4", "w") as z:
        z.writestr("clip.mp4", ref_a.read_bytes())

    # Declared frame sizes: rawvideo and an unknown codec in AVI, patched in the headers.
    raw = work / "raw8.avi"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=16x16:r=1:d=2", "-c:v", "rawvideo", "-pix_fmt", "gray", str(raw))
    patch_avi_size(raw, cases / "dims-30000-unknown-codec.avi", 30000, 30000, b"ZZZZ")
    patch_avi_size(raw, cases / "dims-30000-rawvideo.avi", 30000, 30000)
    patch_avi_size(raw, cases / "dims-16000-rawvideo.avi", 16000, 16000)

    # One black frame shown for ten hours: 1.5 kB that declares 36000 s.
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=black:s=64x64:r=1/36000:d=36000",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(cases / "black-10h.mp4"),
    )

    ffmpeg("-f", "lavfi", "-i", "sine=d=3", "-c:a", "aac", str(cases / "audio-only.mp4"))
    ffmpeg("-f", "lavfi", "-i", "sine=d=3", "-c:a", "libmp3lame", str(cases / "audio-only.mkv"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """Two synthetic references (lavfi testsrc2 and life), their index, and every hostile file."""
    root = tmp_path_factory.mktemp("hostile")
    refs = root / "refs"
    refs.mkdir()
    ref_a, ref_b = refs / "testsrc2.mp4", refs / "life.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x240:r=25:d=5",
        "-c:v",
        "libx264",
        "-g",
        "25",
        "-pix_fmt",
        "yuv420p",
        str(ref_a),
    )
    ffmpeg(
        "-f", "lavfi", "-i", "life=s=320x240:mold=10:r=25:ratio=0.1:seed=4:death_color=#C83232:life_color=#00ff00",
        "-t", "5", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(ref_b),
    )  # fmt: skip
    index = root / "index.sqlite"
    with open_index(index, create=True) as idx:
        result = add_paths([refs], idx)
    assert result.count("added") == 2
    _build_cases(root, ref_a)
    return Corpus(root, ref_a, ref_b, index)


@pytest.fixture
def index_copy(corpus: Corpus, tmp_path: Path) -> Path:
    """A private copy of the corpus index, for commands that may write."""
    dst = tmp_path / "index.sqlite"
    shutil.copy(corpus.index, dst)
    return dst


# -- the cases -----------------------------------------------------------------------

#: name -> {command: (exit code, fragment of the one-line message)}; a command
#: left out is not applicable (it succeeds and is tested separately).
REFUSED: dict[str, dict[str, tuple[int, str]]] = {
    "zero-bytes.mp4": {c: (BAD_INPUT, "empty file") for c in ("check", "probe", "add")},
    "moov-missing.mp4": {c: (BAD_INPUT, "moov atom not found") for c in ("check", "probe", "add")},
    "text.mp4": {c: (BAD_INPUT, "not a video") for c in ("check", "probe", "add")},
    "page.mp4": {c: (BAD_INPUT, "not a video") for c in ("check", "probe", "add")},
    "archive.mp4": {c: (BAD_INPUT, "not a video") for c in ("check", "probe", "add")},
    # A steady tone is sound, but nothing that changes: it is checked (and found insufficient), never indexed.
    "audio-only.mp4": {"add": (BAD_INPUT, "steady")},
    "audio-only.mkv": {"add": (BAD_INPUT, "steady")},
    "dims-30000-unknown-codec.avi": {
        "check": (BAD_INPUT, "30000x30000"),
        "add": (BAD_INPUT, "30000x30000"),
    },
    "dims-30000-rawvideo.avi": {c: (BAD_INPUT, "frame size") for c in ("check", "probe", "add")},
    "dims-16000-rawvideo.avi": {c: (BAD_INPUT, "frame size") for c in ("check", "probe", "add")},
    "black-10h.mp4": {"add": (BAD_INPUT, "enough detail")},
}


def _command(command: str, path: Path, index: Path) -> list[str | Path]:
    if command == "check":
        return ["check", path, "--index", index]
    if command == "probe":
        return ["probe", path]
    return ["index", "add", "-q", path, "--index", index]


@pytest.mark.parametrize(
    ("name", "command"),
    [(name, command) for name, expected in REFUSED.items() for command in expected],
)
def test_hostile_file_is_refused_cleanly(corpus: Corpus, name: str, command: str) -> None:
    code, fragment = REFUSED[name][command]
    before = index_digest(corpus.index)
    # check runs as a real process (what a user runs); probe and add in this process, which is faster.
    run = (cli if command == "check" else cli_here)(*_command(command, corpus[name], corpus.index))
    assert_clean(run, code, fragment)
    assert name in run.stderr  # the message names the file
    assert index_digest(corpus.index) == before


def test_cut_in_half_reports_what_decodes(corpus: Corpus) -> None:
    """A download that stopped halfway (moov first): a report on the first half, the rest listed as unreadable."""
    before = index_digest(corpus.index)
    run = cli("check", corpus["cut-in-half.mp4"], "--index", corpus.index)
    assert_clean(run, OK)
    report = json.loads(run.stdout)
    assert report["input"]["duration_s"] == pytest.approx(4.0, abs=0.1)
    (start, end), *_ = report["input"]["unreadable"]
    assert 0.5 < start < 3.5 and end == pytest.approx(4.0, abs=0.1)
    assert any("could not be decoded" in w for w in report["warnings"])
    assert index_digest(corpus.index) == before


def test_damaged_stream_reports_decoder_errors(corpus: Corpus) -> None:
    """Garbage over a fifth of the stream: a report, with the damage counted in it."""
    before = index_digest(corpus.index)
    run = cli("check", corpus["damaged-stream.mp4"], "--index", corpus.index)
    assert_clean(run, OK)
    report = json.loads(run.stdout)
    assert report["input"]["frames_sampled"] > 0
    assert report["warnings"], "damage must be reported, not dropped silently"
    assert index_digest(corpus.index) == before


def test_ten_hour_black_frame_finishes_quickly(corpus: Corpus) -> None:
    """1.5 kB declaring 36000 s of one black frame: no hours of decoding, no gigabytes; insufficient evidence."""
    before = index_digest(corpus.index)
    run = cli("check", corpus["black-10h.mp4"], "--index", corpus.index, limit=60)
    assert_clean(run, OK, limit=30)
    report = json.loads(run.stdout)
    assert report["verdict"]["code"] == "insufficient_evidence"
    assert report["input"]["duration_s"] == pytest.approx(36000, rel=0.01)
    assert report["input"]["frames_sampled"] < 2000
    assert any("examined" in w for w in report["warnings"])
    assert index_digest(corpus.index) == before
    probe = cli("probe", corpus["black-10h.mp4"])
    assert_clean(probe, OK)
    assert json.loads(probe.stdout)["duration_s"] == pytest.approx(36000, rel=0.01)


def test_reported_huge_size_is_refused_before_decoding(corpus: Corpus) -> None:
    """ffprobe believes the AVI header (30000x30000, unknown codec); the decoder is never started."""
    run = cli("probe", corpus["dims-30000-unknown-codec.avi"])
    assert_clean(run, OK)
    facts = json.loads(run.stdout)
    assert (facts["width"], facts["height"]) == (30000, 30000)


# -- names ----------------------------------------------------------------------------

HOSTILE_NAMES = (
    "clip with  spaces.mp4",
    "clíp ünïcödé 视频 🎥.mp4",
    "clip\nwith\nnewlines.mp4",
    "-leading-dash.mp4",
    "clip%03d.mp4",
    "http:clip.mp4",
)


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=lambda n: n.encode("unicode_escape").decode())
def test_hostile_names_are_read_as_names(corpus: Corpus, name: str, tmp_path: Path) -> None:
    """Spaces, Unicode, newlines, a leading dash, an image2 pattern and a protocol-like prefix name a file, nothing else."""
    clip = tmp_path / name
    shutil.copy(corpus.ref_a, clip)
    # Names the shell could mangle go through a real process; the others in this process, faster.
    run = (cli if name[0] == "-" or "\n" in name else cli_here)(
        "check", "--index", corpus.index, "--", name, cwd=tmp_path
    )
    assert_clean(run, OK)
    report = json.loads(run.stdout)
    assert report["input"]["path"] == name
    assert report["input"]["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert report["input"]["frames_sampled"] >= 16  # 5 s at 4 frames/s: the file itself was decoded


def test_index_add_takes_hostile_names(corpus: Corpus, index_copy: Path, tmp_path: Path) -> None:
    """A folder of hostile names (distinct files: remuxed with a different comment) is ingested whole."""
    folder = tmp_path / "names"
    folder.mkdir()
    for n, name in enumerate(HOSTILE_NAMES):
        ffmpeg("-i", str(corpus.ref_b), "-c", "copy", "-metadata", f"comment=copy {n}", "-f", "mp4", str(folder / name))
    add = cli_here("index", "add", "-q", "-j", "1", "--index", index_copy, folder)
    assert_clean(add, OK)
    assert add.stdout.startswith(f"{len(HOSTILE_NAMES)} added"), add
    listing = cli_here("index", "list", "--index", index_copy)
    assert_clean(listing, OK)
    assert len(listing.stdout.strip().splitlines()) == 2 + len(HOSTILE_NAMES)  # one line per reference
    assert_clean(cli_here("probe", "--", "-leading-dash.mp4", cwd=folder), OK)


def test_name_that_is_not_utf8(corpus: Corpus, index_copy: Path, tmp_path: Path) -> None:
    """A file name with bytes that are not UTF-8 is stored, printed and reported (shown as \\xff)."""
    name = os.fsdecode(b"clip-\xff\xfe.mp4")
    ffmpeg("-i", str(corpus.ref_b), "-c", "copy", "-metadata", "comment=bytes", str(tmp_path / name))
    add = cli_here("index", "add", "-q", "--index", index_copy, tmp_path / name)
    assert_clean(add, OK)
    listing = cli_here("index", "list", "--index", index_copy, "--format", "json")
    assert_clean(listing, OK)
    assert json.loads(listing.stdout)[-1]["path"].endswith("clip-\\xff\\xfe.mp4")
    for fmt in ("json", "html"):
        out = tmp_path / f"report.{fmt}"
        assert_clean(cli_here("check", tmp_path / name, "--index", index_copy, "--format", fmt, "-o", out), OK)
        assert out.read_text(encoding="utf-8")


def test_leading_dash_without_separator_is_a_usage_error(corpus: Corpus, tmp_path: Path) -> None:
    shutil.copy(corpus.ref_a, tmp_path / "-x.mp4")
    run = cli("check", "-x.mp4", "--index", corpus.index, cwd=tmp_path)
    assert run.code == BAD_INPUT and "Traceback" not in run.stderr


def test_error_message_for_a_newline_name_stays_on_one_line(corpus: Corpus, tmp_path: Path) -> None:
    bad = tmp_path / "bad\nname\r\x1b[31m.mp4"
    bad.write_bytes(b"")
    for args in (
        ["check", bad, "--index", corpus.index],
        ["probe", bad],
        ["index", "add", "-q", bad, "--index", corpus.index],
    ):
        run = (cli if args[0] == "check" else cli_here)(*args)
        assert_clean(run, BAD_INPUT, "empty file")
        assert "\x1b" not in run.stderr and "\r" not in run.stderr


# -- folders given to index add -----------------------------------------------------------


def _hostile_folder(root: Path) -> Path:
    """A folder whose entries cannot be ingested, even by root.

    - ``loop-a.mp4`` and ``loop-b.mp4``: symlinks to each other (ELOOP on stat);
    - ``sub/up``: a symlink to its grandparent folder (a directory loop);
    - ``dead.mp4``: a symlink to nothing;
    - ``fifo.mp4``: a named pipe (opening it for reading would block for ever);
    - ``mem.mp4``: a symlink to /proc/self/mem, a regular file whose read fails
      with EIO (root reads every ordinary file, this one it cannot).
    """
    folder = root / "folder"
    (folder / "sub").mkdir(parents=True)
    os.symlink("loop-b.mp4", folder / "loop-a.mp4")
    os.symlink("loop-a.mp4", folder / "loop-b.mp4")
    os.symlink("../..", folder / "sub" / "up")
    os.symlink("/nonexistent/clip.mp4", folder / "dead.mp4")
    os.mkfifo(folder / "fifo.mp4")
    os.symlink("/proc/self/mem", folder / "mem.mp4")
    return folder


def test_index_add_folder_of_unreadable_entries(corpus: Corpus, tmp_path: Path) -> None:
    folder = _hostile_folder(tmp_path)
    before = index_digest(corpus.index)
    run = cli("index", "add", "-q", folder, "--index", corpus.index)
    detail = f"{run}"
    assert run.code == BAD_INPUT, detail
    assert run.seconds < CASE_LIMIT_S and "Traceback" not in run.stderr, detail
    failed = [line for line in run.stderr.splitlines() if line.startswith("failed")]
    assert len(failed) == len(run.stderr.strip().splitlines()), detail
    for name in ("loop-a.mp4", "loop-b.mp4", "dead.mp4", "fifo.mp4", "mem.mp4", "up"):
        assert any(name in line for line in failed), f"{name} not reported: {detail}"
    assert run.stdout.startswith("0 added"), detail
    assert index_digest(corpus.index) == before


def test_index_add_folder_keeps_the_good_files(corpus: Corpus, index_copy: Path, tmp_path: Path) -> None:
    folder = _hostile_folder(tmp_path)
    ffmpeg("-i", str(corpus.ref_b), "-t", "3", "-c:v", "libx264", "-crf", "33", str(folder / "sub" / "good.mp4"))
    run = cli_here("index", "add", "-q", folder, "--index", index_copy)
    assert run.code == BAD_INPUT and "Traceback" not in run.stderr, run
    assert run.stdout.startswith("1 added"), run
    with open_index(index_copy) as idx:
        assert [Path(r.path).name for r in idx.references()][-1] == "good.mp4"
        assert idx.integrity().ok


def test_fifo_given_directly_does_not_hang(corpus: Corpus, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    for args in (
        ["check", fifo, "--index", corpus.index],
        ["probe", fifo],
        ["index", "add", "-q", fifo, "--index", corpus.index],
    ):
        assert_clean(cli_here(*args), BAD_INPUT, "not a regular file", limit=20)


# -- playlists and lists that name other files: the canary ---------------------------------


@contextmanager
def canary_fifo(path: Path, payload: bytes) -> Iterator[threading.Event]:
    """A named pipe that records whether anyone opened it for reading.

    A writer thread blocks in open() until a reader arrives; if that happens
    before the test releases it, the event is set and the reader is fed
    `payload` (a distinct video, so a reader that got it would show it).
    """
    os.mkfifo(path)
    opened, releasing = threading.Event(), threading.Event()

    def writer() -> None:
        fd = os.open(path, os.O_WRONLY)
        try:
            if not releasing.is_set():
                opened.set()
                os.write(fd, payload)
        except OSError:
            pass
        finally:
            os.close(fd)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        yield opened
    finally:
        releasing.set()
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # lets the writer's open() return
        thread.join(timeout=10)
        os.close(fd)


def _playlists(folder: Path) -> dict[str, str]:
    return {
        "playlist.mp4": (
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
            "#EXTINF:3.0,\ncanary.mp4\n#EXT-X-ENDLIST\n"
        ),
        "concat.mp4": "ffconcat version 1.0\nfile canary.mp4\n",
    }


@pytest.fixture(scope="module")
def canary_video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A distinct video (176x144 testsrc), the payload a reader of the canary would receive."""
    path = tmp_path_factory.mktemp("canary") / "canary.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=176x144:r=10:d=3", "-c:v", "libx264", "-movflags", "+faststart", str(path))
    return path.read_bytes()


@pytest.mark.parametrize("kind", ["playlist.mp4", "concat.mp4"])
def test_canary_proves_the_unconfined_ffprobe_would_read_it(tmp_path: Path, canary_video: bytes, kind: str) -> None:
    """Control: with ``-protocol_whitelist file`` alone (DESIGN.md's measurement) ffprobe opens the canary."""
    (tmp_path / kind).write_text(_playlists(tmp_path)[kind])
    with canary_fifo(tmp_path / "canary.mp4", canary_video) as opened:
        result = tools.run(
            [
                tools.ffprobe_path(),
                "-v",
                "error",
                "-protocol_whitelist",
                "file",
                "-show_streams",
                "-of",
                "json",
                f"file:{tmp_path / kind}",
            ],
            timeout=20,
            max_stdout=1 << 20,
        )
        assert opened.wait(5), "the control did not open the canary: the canary test proves nothing"
    assert b'"width": 176' in result.stdout


@pytest.mark.parametrize("kind", ["playlist.mp4", "concat.mp4"])
def test_playlist_disguised_as_video_never_reads_the_canary(
    corpus: Corpus, tmp_path: Path, canary_video: bytes, kind: str
) -> None:
    (tmp_path / kind).write_text(_playlists(tmp_path)[kind])
    before = index_digest(corpus.index)
    with canary_fifo(tmp_path / "canary.mp4", canary_video) as opened:
        for args in (
            ["check", tmp_path / kind, "--index", corpus.index],
            ["probe", tmp_path / kind],
            ["frames", tmp_path / kind, "-o", tmp_path / "frames"],
            ["index", "add", "-q", tmp_path / kind, "--index", corpus.index],
        ):
            run = cli(*args, limit=20) if args[0] == "check" else cli_here(*args)
            assert_clean(run, BAD_INPUT, "not an accepted", limit=20)
        # The library's own ffmpeg calls, below the probe.
        result = tools.run_ffmpeg(
            [*tools.input_args(tmp_path / kind), "-f", "null", "-"], timeout=20, max_stdout=1 << 20
        )
        assert result.returncode != 0 and "not on whitelist" in result.stderr
        # And the libav worker's, below the probe too.
        with pytest.raises(BadInputError, match="no frame could be decoded"):
            libav_sample(tmp_path / kind, size=(176, 144), cap_s=4.0, max_frames=10, timeout=20.0)
        time.sleep(0.2)
        assert not opened.is_set(), "the canary was opened"
    assert index_digest(corpus.index) == before


# -- the tools module's promises, with real ffmpeg ------------------------------------------


def test_input_args_confine_to_one_regular_file(tmp_path: Path) -> None:
    clip = tmp_path / "-i.mp4"
    clip.write_bytes(b"x")
    args = tools.input_args(clip)
    assert args[args.index("-protocol_whitelist") + 1] == "file"
    allowed = set(args[args.index("-format_whitelist") + 1].split(","))
    assert {"mov", "mp4", "matroska"} <= allowed
    assert not allowed & {"hls", "concat", "image2", "tty", "lavfi", "rawvideo", "data", "subviewer", "ffmetadata"}
    assert int(args[args.index("-max_pixels") + 1]) > 0
    assert args[-2:] == ["-i", f"file:{clip.resolve()}"]
    with pytest.raises(BadInputError):
        tools.input_args(tmp_path)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(BadInputError):
        tools.input_args(tmp_path / "fifo")


def test_run_enforces_the_time_limit() -> None:
    start = time.monotonic()
    with pytest.raises(ProcessingError, match="did not finish within"):
        tools.run_ffmpeg(["-re", "-f", "lavfi", "-i", "testsrc", "-f", "null", "-"], timeout=1.0, max_stdout=1 << 20)
    assert time.monotonic() - start < 5


def test_run_bounds_stdout_and_stderr() -> None:
    start = time.monotonic()
    with pytest.raises(ProcessingError, match="more than"):
        tools.run_ffmpeg(["-f", "lavfi", "-i", "testsrc", "-f", "rawvideo", "pipe:"], timeout=30, max_stdout=1 << 20)
    assert time.monotonic() - start < 10
    noisy = tools.run(
        [tools.ffmpeg_path(), "-nostdin", "-v", "debug", "-f", "lavfi", "-i", "testsrc=d=5", "-f", "null", "-"],
        timeout=30,
        max_stdout=1 << 20,
    )
    assert noisy.returncode == 0
    assert len(noisy.stderr.encode()) <= tools.STDERR_TAIL_BYTES + 4096


def test_max_pixels_stops_the_decoder(corpus: Corpus, tmp_path: Path) -> None:
    """The decode-time cap holds even when the header lies small and the stream is large."""
    big = tmp_path / "big.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x480:d=1", "-c:v", "libx264", str(big))
    args = tools.input_args(big)
    args[args.index("-max_pixels") + 1] = "10000"
    result = tools.run_ffmpeg([*args, "-f", "null", "-"], timeout=30, max_stdout=1 << 20)
    assert result.returncode != 0 and "max pixel" in result.stderr


# -- the index file itself ---------------------------------------------------------------


def _corrupt_pages(src: Path, dst: Path, first_page: int) -> None:
    data = bytearray(src.read_bytes())
    page = struct.unpack(">H", data[16:18])[0] or 65536
    rng = random.Random(11)
    for i in range(first_page * page, len(data)):
        data[i] = rng.randrange(256)
    dst.write_bytes(bytes(data))


def _bad_indexes(corpus: Corpus, folder: Path) -> dict[str, Path]:
    out = {}
    out["not-sqlite"] = folder / "random.sqlite"
    out["not-sqlite"].write_bytes(random.Random(5).randbytes(40_000))
    out["text"] = folder / "notes.sqlite"
    out["text"].write_text("not an index\n" * 100)
    out["corrupt-schema"] = folder / "schema.sqlite"
    data = bytearray(corpus.index.read_bytes())
    data[100:4096] = random.Random(6).randbytes(3996)
    out["corrupt-schema"].write_bytes(bytes(data))
    out["corrupt-data"] = folder / "data.sqlite"
    _corrupt_pages(corpus.index, out["corrupt-data"], 1)
    out["newer-schema"] = folder / "newer.sqlite"
    shutil.copy(corpus.index, out["newer-schema"])
    con = sqlite3.connect(out["newer-schema"])
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    out["other-sqlite"] = folder / "other.sqlite"
    con = sqlite3.connect(out["other-sqlite"])
    con.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
    con.commit()
    con.close()
    return out


INDEX_CASES = ("not-sqlite", "text", "corrupt-schema", "corrupt-data", "newer-schema", "other-sqlite")


@pytest.mark.parametrize("case", INDEX_CASES)
def test_unusable_index_is_refused_and_left_alone(corpus: Corpus, tmp_path: Path, case: str) -> None:
    path = _bad_indexes(corpus, tmp_path)[case]
    before = file_digest(path)
    expected = "newer" if case == "newer-schema" else None
    for args in (
        ["check", corpus.ref_a, "--index", path],
        ["index", "add", "-q", corpus["cut-in-half.mp4"], "--index", path],
        ["index", "list", "--index", path],
        ["index", "check", "--index", path],
    ):
        run = cli(*args) if args[0] == "check" else cli_here(*args)
        assert_clean(run, UNAVAILABLE, expected)
        assert str(path.name) in run.stderr
    assert file_digest(path) == before
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
