"""Footage that used to be dropped unseen (issue 24): animations, second video streams, long files.

* An animated GIF, WebP or APNG is checked as a video: every frame at its
  own time (Pillow's frame delays, browsers' rule for tiny ones), its real
  duration. Made here with Pillow from frames ffmpeg cuts out of a sample
  reference, after half a second of other footage (so the first frame is
  not the footage).
* A container with two video streams: the one marked default is examined,
  the other is named in a warning. Made here with ffmpeg's ``-map`` and
  ``-disposition``.
* ``index add`` of a file longer than what is examined warns, and the
  reference records the seconds stored, never the file's whole length.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import cli_here, ffmpeg, lavfi_clip
from PIL import Image

REF = "street_cyclists.mp4"
#: The part of the reference the animations carry (its slow second half: fast motion at 2 frames/s
#: between reference samples is its own matter, docs/design.md "Fast footage").
REF_START_S, REF_SECONDS = 4.0, 5.0


def _rgb_frames(src: Path, *, start: float, seconds: float, fps: float, size: tuple[int, int]) -> list[np.ndarray]:
    """RGB frames of `src` cut by ffmpeg (raw video on a pipe)."""
    w, h = size
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", f"{start}", "-t", f"{seconds}", "-i", str(src),
         "-vf", f"fps={fps},scale={w}:{h}", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:"],
        capture_output=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    n = len(raw) // (w * h * 3)
    return [np.frombuffer(raw[i * w * h * 3 : (i + 1) * w * h * 3], np.uint8).reshape(h, w, 3) for i in range(n)]


def _animation(out: Path, frames: list[np.ndarray], delay_ms: int, fmt: str) -> Path:
    images = [Image.fromarray(f) for f in frames]
    extra = {"lossless": False, "quality": 80} if fmt == "WEBP" else {}
    images[0].save(out, fmt, save_all=True, append_images=images[1:], duration=delay_ms, loop=0, **extra)
    return out


@pytest.fixture(scope="module")
def lead_in(media_dir: Path) -> Path:
    """Half a second of other footage (a Mandelbrot zoom) before the indexed footage."""
    return lavfi_clip(media_dir / "lead_in.mp4", "mandelbrot=s=320x136:r=10", seconds=0.5)


@pytest.fixture(scope="module", params=[("GIF", 100), ("WEBP", 100), ("PNG", 100), ("GIF", 10)])
def animation(request: pytest.FixtureRequest, media_dir: Path, sample_refs: Path, lead_in: Path) -> Path:
    """0.5 s of Mandelbrot then 5 s of street_cyclists, as an animated GIF, WebP or APNG at 10 frames/s.

    The GIF at 10 ms per frame is played by browsers (and checked) at 100 ms per frame.
    """
    fmt, delay = request.param
    size = (320, 136)
    frames = _rgb_frames(lead_in, start=0, seconds=0.5, fps=10, size=size)
    frames += _rgb_frames(sample_refs / REF, start=REF_START_S, seconds=REF_SECONDS, fps=10, size=size)
    suffix = {"GIF": ".gif", "WEBP": ".webp", "PNG": ".png"}[fmt]
    return _animation(media_dir / f"anim_{delay}ms{suffix}", frames, delay, fmt)


def test_an_animation_is_probed_as_a_video_of_its_real_length(animation: Path) -> None:
    run = cli_here("probe", animation)
    assert run.code == 0, run.stderr
    facts = json.loads(run.stdout)
    assert facts["kind"] == "video"
    assert facts["duration_s"] == pytest.approx(5.5, abs=0.11)
    assert facts["fps"] == pytest.approx(10, abs=0.5)


def test_an_animation_of_indexed_footage_matches_it(animation: Path, sample_index_file: Path) -> None:
    run = cli_here("check", animation, "--index", sample_index_file)
    assert run.code == 0, run.stderr
    assert run.stderr == ""
    report = json.loads(run.stdout)
    assert report["input"]["duration_s"] == pytest.approx(5.5, abs=0.11)
    assert report["matches"], report["verdict"]
    best = report["matches"][0]
    assert Path(best["reference"]["path"]).name == REF
    # the clip's 0.5-5.5 s is the reference's 4-9 s: the offset says so within a sample
    assert best["offset_s"] == pytest.approx(REF_START_S - 0.5, abs=0.5)


def test_an_animation_is_indexed_over_all_its_frames(animation: Path, tmp_path: Path) -> None:
    index = tmp_path / "i.sqlite"
    run = cli_here("index", "add", "--format", "json", animation, "--index", index)
    assert run.code == 0, run.stderr
    ref = json.loads(run.stdout)["items"][0]["reference"]
    assert ref["kind"] == "video" and ref["duration_s"] == pytest.approx(5.5, abs=0.11)
    assert ref["frames"] >= 10  # 2 frames/s over 5.5 s, not the first frame alone


def test_frames_of_an_animation_include_the_footage(animation: Path, tmp_path: Path) -> None:
    run = cli_here("frames", animation, "-o", tmp_path / "shots")
    assert run.code == 0, run.stderr
    keyframes = [Path(line) for line in run.stdout.splitlines() if Path(line).name.startswith("shot0")]
    times = sorted(float(p.stem.split("_t")[1]) for p in keyframes)
    assert len(times) >= 2 and times[-1] > 0.5  # the lead-in and the footage are two shots


def test_a_one_frame_gif_is_still_a_still(tmp_path: Path) -> None:
    path = tmp_path / "one.gif"
    Image.fromarray((np.random.default_rng(1).random((64, 64, 3)) * 255).astype(np.uint8)).save(path)
    assert json.loads(cli_here("probe", path).stdout)["kind"] == "image"


# -- a second video stream ------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_streams(media_dir: Path, sample_refs: Path) -> Path:
    """An MP4 whose first video stream is other footage and whose second, marked default, is street_cyclists."""
    other = lavfi_clip(media_dir / "other_stream.mp4", "testsrc2=s=320x240:r=25", seconds=10)
    out = media_dir / "two_streams.mp4"
    ffmpeg(
        "-i", other, "-i", sample_refs / REF, "-map", "0:v", "-map", "1:v", "-c", "copy",
        "-disposition:v:0", "0", "-disposition:v:1", "default", out,
    )  # fmt: skip
    return out


def test_the_default_video_stream_is_examined_and_the_other_named(
    two_streams: Path, sample_index_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    facts = json.loads(cli_here("probe", two_streams).stdout)
    assert facts["video_stream"] == 1 and facts["other_video_streams"] == [0]
    for decoder in ("libav", "ffmpeg"):
        monkeypatch.setenv("PROVENANCE_DECODER", decoder)
        run = cli_here("check", two_streams, "--index", sample_index_file)
        assert run.code == 0, run.stderr
        report = json.loads(run.stdout)
        assert report["matches"] and Path(report["matches"][0]["reference"]["path"]).name == REF, decoder
        said = [w for w in report["warnings"] if "video stream" in w]
        assert said and "#0" in said[0] and "#1" in said[0] and "-map 0:0" in said[0], report["warnings"]


def test_index_add_of_two_streams_stores_the_default_one_and_warns(two_streams: Path, tmp_path: Path) -> None:
    run = cli_here("index", "add", two_streams, "--index", tmp_path / "i.sqlite")
    assert run.code == 0, run.stderr
    assert "warning" in run.stderr and "#0" in run.stderr
    same = cli_here("check", "--format", "json", two_streams, "--index", tmp_path / "i.sqlite")
    assert json.loads(same.stdout)["matches"]


# -- files longer than what is examined -------------------------------------------------------


def test_index_add_of_a_file_longer_than_examined_warns_and_records_what_was_stored(
    tmp_path: Path,
) -> None:
    """Ten hours of one detailed frame, 2 kB: a file is examined only as far as its bytes could hold
    real video (`decode.held_by`, 60 s here); the reference says how far, and the file's length apart."""
    clip = tmp_path / "ten_hours.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=160x120:r=1/36000:d=36000",
        "-c:v", "libx264", "-preset", "ultrafast", clip,
    )  # fmt: skip
    run = cli_here("index", "add", "--format", "json", clip, "--index", tmp_path / "i.sqlite")
    assert run.code == 0, run.stderr
    item = json.loads(run.stdout)["items"][0]
    ref = item["reference"]
    assert item["file_duration_s"] == pytest.approx(36000, abs=60)
    assert 0 < ref["duration_s"] < 36000  # the seconds stored, never the file's length
    assert any("examined" in w for w in item["warnings"])
    shown = cli_here("index", "show", str(ref["id"]), "--index", tmp_path / "i.sqlite")
    assert f"{ref['duration_s']}" in shown.stdout and "36000" in shown.stdout
    text = cli_here("index", "add", clip, "--index", tmp_path / "j.sqlite")
    assert "warning" in text.stderr and "examined" in text.stderr


def test_index_add_of_a_folder_takes_its_animations(tmp_path: Path, testsrc_clip: Path) -> None:
    """A folder walk picks GIFs and APNGs by their suffix too (they are footage now, not skipped)."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    frames = _rgb_frames(testsrc_clip, start=0, seconds=3, fps=5, size=(160, 120))
    _animation(folder / "loop.gif", frames, 200, "GIF")
    _animation(folder / "loop.apng", frames[::-1], 200, "PNG")
    run = cli_here("index", "add", "-q", folder, "--index", tmp_path / "i.sqlite")
    assert run.code == 0, run.stderr
    assert run.stdout.startswith("2 added"), run.stdout


def test_check_of_a_file_longer_than_examined_reports_the_examined_span(
    tmp_path: Path, sample_index_file: Path
) -> None:
    clip = tmp_path / "ten_hours.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x120:r=1/36000:d=36000", "-c:v", "libx264", "-preset", "ultrafast", clip)
    run = cli_here("check", clip, "--index", sample_index_file)
    assert run.code == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["input"]["duration_s"] == pytest.approx(36000, abs=60)
    assert 0 < report["input"]["examined_s"] < 3600
    assert any("examined" in w for w in report["warnings"])


def test_an_animation_of_too_many_tiny_frames_is_refused_as_a_bomb(tmp_path: Path) -> None:
    """70,000 frames of 2x2 pixels (1.7 MB): each frame counts as at least 256x256, so the decoded-pixel
    budget refuses it as a bomb (past ~61,000 frames) instead of sampling it for hours of frames."""
    two = tmp_path / "two.gif"
    first, second = Image.new("RGB", (2, 2), (255, 0, 0)), Image.new("RGB", (2, 2), (0, 0, 255))
    first.save(two, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    data = two.read_bytes()
    gce = b"\x21\xf9\x04"
    start = data.index(gce)
    frame = data[start : data.index(gce, start + 1)]  # one frame: its control extension, descriptor and pixels
    many = tmp_path / "many.gif"
    many.write_bytes(data[:start] + frame * 70_000 + b";")
    run = cli_here("probe", many)
    assert run.code == 2 and "decompression bomb" in run.stderr, run.stderr
