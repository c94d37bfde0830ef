"""Shared fixtures: test media made by ffmpeg, the bundled samples, and indexes.

Every clip is made once per session (ffmpeg's lavfi sources or an edit of a
file in samples/) and each fixture's docstring says what is special about it.
Featureless frames (flat colour) are skipped by the hasher, so every clip
meant to be hashed is textured and moving.

`index_url` runs a test once per index backend: SQLite always (a file in
``tmp_path``), PostgreSQL when ``PROVENANCE_TEST_POSTGRES`` names a server
where tests may create and drop databases (each test gets its own database).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from hypothesis import settings

# CI runs the property tests on Hypothesis's fixed examples (the same every run, so a
# submission lands or fails on its code, not on the draw); elsewhere every run draws anew,
# which is how new failures are found. `HYPOTHESIS_PROFILE=ci` gives CI's draw locally.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("HYPOTHESIS_PROFILE") == "ci" or os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
DOCS = ROOT / "docs"
BAD_DIR = ROOT / "bench" / "data" / "bad"
POSTGRES_ENV = "PROVENANCE_TEST_POSTGRES"


# -- helpers -------------------------------------------------------------------


def ffmpeg(*args: str | Path) -> None:
    """Run ffmpeg quietly (a test helper, not the library's confined runner)."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *map(str, args)],
        check=True,
        timeout=120,
    )


@dataclass
class Run:
    """What a CLI invocation left: exit code, stdout and stderr."""

    code: int
    stdout: str
    stderr: str


def _sigint_as_a_terminal_sends_it() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def started(argv: list[str], **kwargs: Any) -> Iterator[subprocess.Popen[bytes]]:
    """A child process for the tests that stop one, killed and reaped however the test ends.

    Its SIGINT is at the default (Python turns it into Ctrl-C) even when the
    tests themselves run in the background, where the shell ignores SIGINT
    and every child would inherit that; and a test that fails while the
    child runs leaves no process, or open pipe, to the tests after it.
    """
    proc = subprocess.Popen(argv, preexec_fn=_sigint_as_a_terminal_sends_it, **kwargs)  # noqa: PLW1509
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def cli_here(*args: str | Path) -> Run:
    """``provenance ARGS`` in this process (click's CliRunner)."""
    from click.testing import CliRunner

    from provenance.cli import main

    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="provenance")
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += f"\nTraceback (escaped the CLI): {result.exception!r}"
    return Run(result.exit_code, result.stdout, stderr)


def lavfi_clip(out: Path, source: str, *, seconds: float, extra: tuple[str, ...] = ()) -> Path:
    """Encode `seconds` of a lavfi source to H.264 MP4 with the moov atom first."""
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        source,
        "-t",
        f"{seconds}",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "25",
        "-movflags",
        "+faststart",
        *extra,
        out,
    )
    return out


def mp4_boxes(path: Path) -> dict[str, tuple[int, int]]:
    """Top-level MP4 boxes as {type: (offset, size)} (enough to cut files at known places)."""
    data = path.read_bytes()
    boxes: dict[str, tuple[int, int]] = {}
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size < 8:
            break
        boxes.setdefault(kind.decode("latin-1"), (pos, size))
        pos += size
    return boxes


def assert_same_reading(a: Any, b: Any) -> None:
    """Two `MediaFacts` of one file agree, apart from what two libav versions read differently and no
    rule uses: ffprobe 5.1 names a zero QuickTime vendor ("[0][0][0][0]") that the worker's libav
    leaves out, and takes a file's duration (so its bit rate) from the movie header, in milliseconds
    (docs/design.md, "One reading of a file"): durations agree within 2 ms, bit rates within 0.5%."""

    def read(facts: Any) -> dict[str, Any]:
        out = facts.to_dict()
        for stream in out.get("streams", []):
            if stream.get("tags", {}).get("vendor_id") == "[0][0][0][0]":
                del stream["tags"]["vendor_id"]
        out.pop("duration_s"), out.pop("bit_rate")
        return dict(out)

    assert read(a) == read(b)
    assert abs(a.duration_s - b.duration_s) <= 0.002
    assert (a.bit_rate is None) == (b.bit_rate is None)
    assert a.bit_rate is None or abs(a.bit_rate - b.bit_rate) <= 0.005 * a.bit_rate


def sqlite_fingerprint(path: Path) -> str:
    """SHA-256 over every row of every table of an SQLite file, read-only."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        digest = hashlib.sha256()
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        for table in tables:
            digest.update(table.encode())
            for row in sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr):
                digest.update(repr(row).encode())
        return digest.hexdigest()
    finally:
        conn.close()


def index_fingerprint(url: str) -> str:
    """A content hash of an index through the backend interface (any backend)."""
    from provenance.index import open_index

    digest = hashlib.sha256()
    with open_index(url) as idx:
        for ref in idx.references():
            digest.update(json.dumps(ref.to_dict(), sort_keys=True).encode())
            fh = idx.frame_hashes(ref.id)
            digest.update(fh.times.tobytes() + fh.variants.tobytes() + fh.hashes.tobytes())
        stats = idx.stats()
        digest.update(f"{stats['references']}/{stats['hashes']}".encode())
    return digest.hexdigest()


# -- index backends --------------------------------------------------------------


def _postgres_url_for(base: str, database: str) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the test server, dropped afterwards.

    Each test gets a uniquely named database, so tests never see each other's
    tables and a failed test leaves nothing behind for the next.
    """
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set (a postgresql:// URL where tests may create databases)")
    try:
        import importlib

        importlib.import_module("provenance.index.postgres")
    except ModuleNotFoundError as exc:
        if exc.name != "provenance.index.postgres":
            raise
        pytest.skip("the PostgreSQL backend (provenance/index/postgres.py) is not written yet")
    import psycopg

    name = f"provenance_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _postgres_url_for(base, name)
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def index_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, not yet created index, once per backend.

    ``sqlite``: a file in the test's tmp_path. ``postgresql``: a database of
    its own on the server named by ``PROVENANCE_TEST_POSTGRES`` (skipped when
    that variable is unset).
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.sqlite'}"
    return str(request.getfixturevalue("postgres_database"))


# -- synthetic clips (lavfi) --------------------------------------------------------


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for every clip made in this session."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def testsrc_clip(media_dir: Path) -> Path:
    """4 s of testsrc2 (moving colour pattern), 320x240, 25 fps, H.264, faststart.

    Carries a container ``title`` tag ("testsrc title") and a known layout:
    moov before mdat, so it can be cut at exact places.
    """
    return lavfi_clip(
        media_dir / "testsrc.mp4",
        "testsrc2=size=320x240:rate=25",
        seconds=4,
        extra=("-metadata", "title=testsrc title"),
    )


@pytest.fixture(scope="session")
def testsrc_long_clip(media_dir: Path) -> Path:
    """8 s of testsrc2, 320x240, 25 fps: long enough to cut in half and keep 4 s that decode."""
    return lavfi_clip(media_dir / "testsrc_long.mp4", "testsrc2=size=320x240:rate=25", seconds=8)


@pytest.fixture(scope="session")
def frame_counter_clip(media_dir: Path) -> Path:
    """4 s at 25 fps, lossless grey (FFV1 in Matroska), every pixel of frame N equal to 2N.

    Decoding a sample tells exactly which source frame it came from.
    """
    out = media_dir / "frame_counter.mkv"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "nullsrc=s=64x64:r=25:d=4,format=gray,geq=lum='N*2'",
        "-c:v",
        "ffv1",
        "-pix_fmt",
        "gray",
        out,
    )
    return out


@pytest.fixture(scope="session")
def mandelbrot_clip(media_dir: Path) -> Path:
    """6 s of a continuous Mandelbrot zoom, 640x360: footage that is in no index."""
    return lavfi_clip(media_dir / "mandelbrot.mp4", "mandelbrot=size=640x360:rate=25", seconds=6)


@pytest.fixture(scope="session")
def life_clip(media_dir: Path) -> Path:
    """3 s of Conway's game of life, 320x240, grey cells: unrelated, textured, a second distinct file."""
    return lavfi_clip(
        media_dir / "life.mp4",
        "life=size=320x240:rate=25:mold=10:ratio=0.5:seed=7:life_color=#e0e0e0:death_color=#202020",
        seconds=3,
    )


@pytest.fixture(scope="session")
def cut_clip(media_dir: Path) -> Path:
    """testsrc2 for 3 s, then a hard cut to a Mandelbrot zoom for 3 s: exactly two shots, cut at 3.0 s."""
    out = media_dir / "cut.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=3",
        "-f",
        "lavfi",
        "-i",
        "mandelbrot=size=320x240:rate=25",
        "-filter_complex",
        "[1:v]trim=duration=3,setpts=PTS-STARTPTS[m];[0:v][m]concat=n=2:v=1:a=0,format=yuv420p[v]",
        "-map",
        "[v]",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        out,
    )
    return out


@pytest.fixture(scope="session")
def rotated_clip(media_dir: Path, testsrc_clip: Path) -> Path:
    """testsrc_clip remuxed with a 90° display matrix: stored 320x240, shown 240x320 (portrait phone video)."""
    out = media_dir / "rotated.mp4"
    ffmpeg("-i", testsrc_clip, "-c", "copy", "-metadata:s:v:0", "rotate=90", out)
    return out


@pytest.fixture(scope="session")
def audio_only_file(media_dir: Path) -> Path:
    """2 s of a sine tone in AAC/MP4: a real media file with no video stream."""
    out = media_dir / "tone.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac", out)
    return out


@pytest.fixture(scope="session")
def still_jpeg(media_dir: Path) -> Path:
    """A textured 640x480 JPEG (a testsrc2 frame) with EXIF camera make, model and DateTimeOriginal."""
    from PIL import Image

    png = media_dir / "still_src.png"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=640x480", "-frames:v", "1", png)
    out = media_dir / "still.jpg"
    with Image.open(png) as img:
        exif = Image.Exif()
        exif[0x010F] = "TestCam"  # Make
        exif[0x0110] = "Model 7"  # Model
        exif.get_ifd(0x8769)[0x9003] = "2021:09:12 10:11:12"  # DateTimeOriginal
        img.convert("RGB").save(out, quality=90, exif=exif)
    return out


# -- damaged and non-media files --------------------------------------------------------


@pytest.fixture(scope="session")
def zero_byte_file(media_dir: Path) -> Path:
    """An empty file named .mp4 (a download that never started)."""
    out = media_dir / "empty.mp4"
    out.write_bytes(b"")
    return out


@pytest.fixture(scope="session")
def text_as_mp4(media_dir: Path) -> Path:
    """A plain text file named .mp4 (an error page saved under the clip's name)."""
    out = media_dir / "notes.mp4"
    out.write_text("<html><body>404 Not Found</body></html>\n", encoding="utf-8")
    return out


@pytest.fixture(scope="session")
def truncated_before_first_frame(media_dir: Path, testsrc_clip: Path) -> Path:
    """testsrc_clip cut 100 bytes into its mdat: the header probes fine but no frame decodes."""
    start, _ = mp4_boxes(testsrc_clip)["mdat"]
    out = media_dir / "truncated_before_first_frame.mp4"
    out.write_bytes(testsrc_clip.read_bytes()[: start + 8 + 100])
    return out


@pytest.fixture(scope="session")
def header_overwritten(media_dir: Path, testsrc_clip: Path) -> Path:
    """testsrc_clip with its first 4 KiB (ftyp and moov) overwritten by zeros: nothing can be read."""
    data = bytearray(testsrc_clip.read_bytes())
    data[:4096] = bytes(4096)
    out = media_dir / "header_overwritten.mp4"
    out.write_bytes(bytes(data))
    return out


@pytest.fixture(scope="session")
def moov_lost_clip(media_dir: Path) -> Path:
    """An MP4 written without faststart (moov at the end) cut halfway: its index is gone, nothing decodes."""
    full = media_dir / "no_faststart.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25",
        "-t",
        "4",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        full,
    )
    assert mp4_boxes(full)["moov"][0] > mp4_boxes(full)["mdat"][0]
    out = media_dir / "moov_lost.mp4"
    data = full.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    return out


@pytest.fixture(scope="session")
def half_clip(media_dir: Path, testsrc_long_clip: Path) -> Path:
    """testsrc_long_clip (8 s, faststart) cut at half its bytes: about 4 s decode, the rest is missing.

    The moov atom still declares 8 s, so the tool knows which seconds it could not read.
    """
    data = testsrc_long_clip.read_bytes()
    out = media_dir / "half.mp4"
    out.write_bytes(data[: len(data) // 2])
    return out


# -- the bundled samples --------------------------------------------------------------------


@pytest.fixture(scope="session")
def sample_refs() -> Path:
    """samples/refs: four real reference clips (10 s each) with yt-dlp sidecars (samples/README.md)."""
    return SAMPLES / "refs"


@pytest.fixture(scope="session")
def viral_clip() -> Path:
    """samples/viral.mp4: street_cyclists 2-9 s mirrored, 85% crop, captioned, 250 kb/s (truth.json)."""
    return SAMPLES / "viral.mp4"


@pytest.fixture(scope="session")
def truth() -> dict[str, object]:
    """samples/truth.json: the ground truth for viral.mp4."""
    data: dict[str, object] = json.loads((SAMPLES / "truth.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def excerpt_query(media_dir: Path, sample_refs: Path) -> Path:
    """refs/animated_dinner.mp4 seconds 3-8, mirrored, scaled to 360p, re-encoded at 200 kb/s.

    The transforms the matcher must survive by design (issue 2): excerpt,
    horizontal mirror, downscale, low bitrate. Reference span: 3.0-8.0 s.
    """
    out = media_dir / "excerpt_dinner.mp4"
    ffmpeg(
        "-ss",
        "3",
        "-t",
        "5",
        "-i",
        sample_refs / "animated_dinner.mp4",
        "-vf",
        "hflip,scale=-2:360",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-b:v",
        "200k",
        "-maxrate",
        "250k",
        "-bufsize",
        "400k",
        "-an",
        out,
    )
    return out


@pytest.fixture(scope="session")
def sample_index_file(tmp_path_factory: pytest.TempPathFactory, sample_refs: Path) -> Path:
    """An SQLite index of samples/refs built once per session with the library (copy it before changing it)."""
    from provenance.index import open_index
    from provenance.ingest import add_paths

    path = tmp_path_factory.mktemp("sample_index") / "samples.sqlite"
    with open_index(f"sqlite:///{path}", create=True) as idx:
        result = add_paths([sample_refs], idx)
    assert result.count("added") == 4, result.to_dict()
    return path


@pytest.fixture
def sample_index(tmp_path: Path, sample_index_file: Path) -> Path:
    """A private copy of the samples index for one test (safe to change)."""
    out = tmp_path / "samples.sqlite"
    for src in sample_index_file.parent.glob(sample_index_file.name + "*"):
        shutil.copy(src, tmp_path / src.name)
    return out


def libav_sample(
    path: Path, *, size: tuple[int, int], cap_s: float, max_frames: int, timeout: float = 30.0, **over: Any
) -> Any:
    """`provenance.decode.libav.sample` at 2 frames/s with the library's confinement (`over` sets any request field)."""
    from provenance import tools
    from provenance.decode import Decoding, libav
    from provenance.decode.protocol import SampleRequest

    args: dict[str, Any] = dict(
        fps=2.0,
        size=size,
        cap_s=cap_s,
        max_frames=max_frames,
        rotation=0.0,
        decoding=Decoding(),
        format_whitelist=tools.FORMAT_WHITELIST,
        max_pixels=tools.MAX_FRAME_PIXELS,
        colour=None,
    )
    args.update(over)
    return libav.sample(SampleRequest(path=str(path), **args), timeout=timeout)
