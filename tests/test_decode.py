"""Stage decode: fixed-rate grey samples, colour frames at given times, partial and failed decodes.

Every test here runs once per decoder: the libav worker (the default) and
the ffmpeg command line (``PROVENANCE_DECODER=ffmpeg``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import lavfi_clip

from provenance.decode import (
    WORK_SIZE,
    Decoding,
    Media,
    Plan,
    Sparse,
    choose_decoder,
    extract_frames,
    grab_frame,
    work_size,
)
from provenance.decode.ffmpeg import FfmpegDecoder
from provenance.decode.libav import LibavDecoder
from provenance.errors import BadInputError
from provenance.evidence import grab_frames
from provenance.probe import probe
from provenance.query import REF_DECODING


@pytest.fixture(autouse=True, params=["libav", "ffmpeg"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The decoder `extract_frames` uses in this test."""
    monkeypatch.setenv("PROVENANCE_DECODER", request.param)
    return str(request.param)


def test_work_size_keeps_aspect_with_even_sides() -> None:
    assert work_size(1920, 1080) == (WORK_SIZE, 72)
    assert work_size(1080, 1920) == (72, WORK_SIZE)
    assert work_size(640, 270) == (128, 54)
    w, h = work_size(5000, 3)
    assert w == WORK_SIZE and h % 2 == 0 and h >= 2
    with pytest.raises(ValueError):
        work_size(0, 10)


def test_fixed_rate_samples(testsrc_clip: Path) -> None:
    frames = extract_frames(testsrc_clip, fps=4.0)
    assert len(frames) == 16
    assert frames.images.shape == (16, 96, 128)
    assert frames.images.dtype == np.uint8
    assert np.allclose(frames.times, np.arange(16) * 0.25)
    assert frames.fps == 4.0
    assert frames.duration_s == pytest.approx(4.0, abs=0.1)
    assert frames.unreadable == () and frames.decode_errors == 0 and frames.warnings == ()
    # The pattern moves: consecutive samples differ.
    assert np.abs(np.diff(frames.images.astype(np.int16), axis=0)).mean() > 1.0


@pytest.mark.parametrize("fps", [1.0, 2.0, 4.0])
def test_sample_times_are_the_source_frame_times(frame_counter_clip: Path, fps: float) -> None:
    # The sample labelled t is the source frame at (or, between frames, just before) t:
    # never the half-period-late frame the fps filter gives with round=near.
    frames = extract_frames(frame_counter_clip, fps=fps, long_side=64)
    assert len(frames) == int(4 * fps)
    source_t = frames.images.reshape(len(frames), -1).mean(axis=1) / 2 / 25
    assert np.all(source_t <= frames.times + 1e-6)
    assert np.all(source_t > frames.times - 0.04 - 1e-6)


def test_rates_agree_where_their_ticks_meet(testsrc_clip: Path) -> None:
    # References (2/s) and queries (4/s) must see the same frame at the same time.
    slow = extract_frames(testsrc_clip, fps=2.0)
    fast = extract_frames(testsrc_clip, fps=4.0)
    assert np.array_equal(slow.images, fast.images[::2])


def test_rate_and_size_are_choices(testsrc_clip: Path) -> None:
    frames = extract_frames(testsrc_clip, fps=1.0, long_side=64)
    assert len(frames) == 4
    assert frames.images.shape[1:] == (48, 64)


def test_frames_follow_the_display_rotation(rotated_clip: Path) -> None:
    frames = extract_frames(rotated_clip, fps=2.0)
    assert frames.images.shape[1:] == (WORK_SIZE, 96)  # portrait, as a viewer sees it


def test_still_image_is_one_frame(still_jpeg: Path) -> None:
    frames = extract_frames(still_jpeg, fps=4.0)
    assert len(frames) == 1
    assert frames.times.tolist() == [0.0]
    assert frames.images.shape == (1, 96, 128)


def test_grab_frame_in_colour(testsrc_clip: Path, still_jpeg: Path) -> None:
    rgb = grab_frame(testsrc_clip, 1.0, facts=probe(testsrc_clip), long_side=160)
    assert rgb.shape == (120, 160, 3) and rgb.dtype == np.uint8
    assert rgb.std() > 20  # colour bars and a moving pattern, not a blank frame
    still = grab_frame(still_jpeg, 0.0, facts=probe(still_jpeg), long_side=320)
    assert still.shape == (240, 320, 3)


def test_clip_cut_halfway_keeps_what_decodes(half_clip: Path) -> None:
    frames = extract_frames(half_clip, fps=4.0)
    assert frames.duration_s == pytest.approx(8.0, abs=0.1)
    decoded_until = float(frames.times[-1]) + 0.25
    assert 2.0 <= decoded_until <= 6.0
    assert len(frames.unreadable) == 1
    start, end = frames.unreadable[0]
    assert start == pytest.approx(decoded_until, abs=0.01)
    assert end == pytest.approx(8.0, abs=0.1)
    assert any(f"seconds {start:.1f}-{end:.1f} could not be decoded" in w for w in frames.warnings)


def test_clip_cut_before_its_first_frame_is_refused(truncated_before_first_frame: Path) -> None:
    with pytest.raises(BadInputError, match="no frame could be decoded") as info:
        extract_frames(truncated_before_first_frame, fps=4.0)
    assert str(truncated_before_first_frame) in str(info.value)


@pytest.mark.parametrize("clip", ["testsrc_clip", "rotated_clip"])
def test_colour_samples_come_from_the_same_decode(clip: str, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue(clip)
    grey_only = extract_frames(path, fps=4.0)
    both = extract_frames(path, fps=4.0, colour_long_side=160)
    # The grey samples (and so every hash) are the same with or without the colour branch.
    assert np.array_equal(grey_only.images, both.images)
    assert grey_only.colour is None
    assert both.colour is not None and both.colour.shape[0] == len(both)
    disp_w, disp_h = probe(path).display_size
    assert both.colour.shape[1:] == (*reversed(work_size(disp_w, disp_h, 160)), 3)
    # Each colour sample is the grey sample's frame: its luma, scaled down, agrees.
    for i in (0, len(both) // 2, len(both) - 1):
        rgb = both.colour_at(float(both.times[i]))
        assert rgb is not None
        luma = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), both.images.shape[:0:-1], interpolation=cv2.INTER_AREA)
        others = [j for j in range(len(both)) if abs(j - i) > 2]
        own = np.abs(luma.astype(int) - both.images[i]).mean()
        assert own < 8.0
        assert own < min(np.abs(luma.astype(int) - both.images[j]).mean() for j in others)


def test_colour_samples_are_red_for_a_red_clip(tmp_path: Path) -> None:
    clip = lavfi_clip(tmp_path / "red.mp4", "color=c=red:s=320x240:r=25", seconds=2)
    rgb = extract_frames(clip, fps=2.0, colour_long_side=64).colour_at(1.0)
    assert rgb is not None
    r, g, b = rgb.reshape(-1, 3).mean(axis=0)
    assert r > 200 and g < 40 and b < 40


def test_long_clips_keep_no_colour_samples(testsrc_clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import provenance.decode as decode

    monkeypatch.setattr(decode, "COLOUR_MAX_S", 1.0)
    frames = extract_frames(testsrc_clip, fps=4.0, colour_long_side=160)
    assert frames.colour is None and frames.colour_at(0.0) is None
    assert len(frames) == 16


@pytest.fixture(scope="module")
def low_bitrate_bframes_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s of moving test pattern at 25 fps, x264 with B-frames at 150 kb/s: heavy deblocking."""
    out = tmp_path_factory.mktemp("lowrate") / "lowrate.mp4"
    return lavfi_clip(out, "testsrc2=size=320x240:rate=25", seconds=3, extra=("-b:v", "150k", "-bf", "3"))


def _frame_types(path: Path) -> list[str]:
    """pict_type of every frame, in presentation order (ffprobe)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "frame=pict_type", "-of", "csv=p=0", path],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return [line.strip().strip(",") for line in out.splitlines() if line.strip()]


def test_skipping_the_loop_filter_of_unreferenced_frames_changes_no_other_frame(
    low_bitrate_bframes_clip: Path,
) -> None:
    # Queries skip the deblocking filter only on frames nothing refers to
    # (pipeline.QUERY_DECODING): every I and P frame decodes
    # exactly as with the filter on. Skipping it everywhere ("all", as reference
    # ingest does) lets the difference flow into the frames that follow.
    clip = low_bitrate_bframes_clip
    types = _frame_types(clip)
    assert "B" in types
    dense = extract_frames(clip, fps=25.0, long_side=320)
    nonref = extract_frames(clip, fps=25.0, long_side=320, decoding=Decoding(skip_loop_filter="noref"))
    every = extract_frames(clip, fps=25.0, long_side=320, decoding=Decoding(skip_loop_filter="all"))
    n = min(len(dense), len(nonref), len(every), len(types))
    assert n >= 70
    anchors = [i for i in range(n) if types[i] in ("I", "P")]
    assert all(np.array_equal(dense.images[i], nonref.images[i]) for i in anchors)
    assert not all(np.array_equal(dense.images[i], every.images[i]) for i in anchors if types[i] == "P")
    # The B-frames it skipped on did change (the option took effect).
    assert not all(np.array_equal(dense.images[i], nonref.images[i]) for i in range(n) if types[i] == "B")


def test_decoder_options_are_checked() -> None:
    with pytest.raises(ValueError, match="skip_loop_filter"):
        Decoding(skip_loop_filter="nonref")
    with pytest.raises(ValueError, match="skip_frame"):
        Decoding(skip_frame="all")


def test_query_decoding_keeps_every_sample_on_its_tick(tmp_path: Path) -> None:
    # Frame N of the clip is grey level ~2N (x264, near lossless, B-frames). With the
    # query decoder options every 4/s sample is the source frame at its tick;
    # letting the decoder drop unreferenced frames (as reference ingest does)
    # would hand some ticks a frame from up to three frames earlier, and fast
    # motion then moves the hash (samples/viral.mp4's match lost its last 1.5 s).
    from provenance.pipeline import QUERY_DECODING

    clip = tmp_path / "counter.mp4"
    lavfi_clip(
        clip,
        "nullsrc=s=64x64:r=25:d=4,format=gray,geq=lum='N*2'",
        seconds=4,
        extra=("-crf", "1", "-bf", "3", "-x264-params", "b-adapt=0"),
    )
    assert "B" in _frame_types(clip)

    every = extract_frames(clip, fps=25.0, long_side=64)  # every frame: its grey level identifies it
    levels = every.images.reshape(len(every), -1).mean(axis=1)
    assert np.all(np.diff(levels) > 0.5)

    def lag(decoding: Decoding) -> np.ndarray:
        frames = extract_frames(clip, fps=4.0, long_side=64, decoding=decoding)
        sampled = frames.images.reshape(len(frames), -1).mean(axis=1)
        source = np.abs(sampled[:, None] - levels[None, :]).argmin(axis=1)
        return frames.times - every.times[source]

    query = lag(QUERY_DECODING)
    assert np.all(query >= -1e-6) and np.all(query < 0.04 - 1e-6)
    assert np.max(lag(Decoding(skip_frame="noref"))) >= 0.04 - 1e-6


def test_report_frames_one_pass_and_seeks_agree(frame_counter_clip: Path, testsrc_clip: Path) -> None:
    # The one-pass grab reads only up to just past the last wanted time; it
    # must give the same frames as seeking to each (the first frame at or after it).
    facts = probe(frame_counter_clip)
    wanted = [0.5, 1.0, 1.96, 2.0]  # 1.96 s is frame 49 exactly; the last lands on frame 50
    size = work_size(*facts.display_size, 64)
    one_pass = FfmpegDecoder().grab_sequential(frame_counter_clip, wanted, size, facts.duration_s)
    assert one_pass is not None
    seeks = FfmpegDecoder().grab_seeking(frame_counter_clip, wanted, size)
    assert all(a is not None and b is not None and np.array_equal(a, b) for a, b in zip(one_pass, seeks, strict=True))
    in_worker = LibavDecoder().grab_in_worker(frame_counter_clip, wanted, size, facts.duration_s)  # the worker's pass
    assert in_worker is not None
    assert all(a is not None and np.array_equal(a, b) for a, b in zip(in_worker, seeks, strict=True))
    levels = [round(float(f.mean()) / 2) for f in one_pass]  # frame N is grey 2N
    assert levels == [13, 25, 49, 50]  # 0.5 s falls between frames 12 and 13
    # Frames wanted late in a file go through seeks and still come back.
    late = grab_frames(choose_decoder(), testsrc_clip, [3.5, 3.9], media=Media.of(probe(testsrc_clip)))
    assert all(f is not None for f in late)


# -- the sparse second size: one pass for two channels -------------------------------------------


@pytest.fixture(scope="module")
def moving_clip_with_sound(media_dir: Path) -> Path:
    """9.5 s of 640x360 testsrc2 at 30 fps (x264 with B-frames, some unreferenced) with AAC sound."""
    out = media_dir / "moving_with_sound.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=330", "-t", "9.5", "-c:v", "libx264", "-preset", "veryfast",
         "-bf", "3", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(out)],
        check=True, timeout=120,
    )  # fmt: skip
    return out


@pytest.mark.parametrize(
    ("clip", "fps", "every", "long_side", "decoding"),
    [
        ("moving_clip_with_sound", 2.0, 2, 480, REF_DECODING),  # what a reference's ingest asks for
        ("moving_clip_with_sound", 4.0, 4, 320, Decoding()),
        ("rotated_clip", 2.0, 2, 480, REF_DECODING),
        ("frame_counter_clip", 3.0, 3, 96, Decoding()),
    ],
)
def test_sparse_frames_are_the_frames_a_pass_of_their_own_gives(
    clip: str, fps: float, every: int, long_side: int, decoding: Decoding, decoder: str, request: pytest.FixtureRequest
) -> None:
    """One pass with a sparse second size gives the samples of a pass without it and, as its sparse
    frames, exactly the frames (pixels and times) a pass at fps / every and that size gives."""
    path = request.getfixturevalue(clip)
    facts = probe(path)
    d = choose_decoder(decoder)
    both = d.sample(path, Plan(fps, decoding=decoding, sparse=Sparse(long_side, every)), facts)
    alone = d.sample(path, Plan(fps, decoding=decoding), facts)
    own = d.sample(path, Plan(fps / every, long_side=long_side, decoding=decoding), facts)
    assert np.array_equal(both.images, alone.images) and np.array_equal(both.times, alone.times)
    assert alone.sparse is None and own.sparse is None
    assert both.sparse is not None and both.sparse_times is not None
    assert len(both.sparse) == Sparse(long_side, every).count(len(both)) == len(own) >= 3
    assert both.sparse.shape[1:] == own.images.shape[1:] == tuple(reversed(work_size(*facts.display_size, long_side)))
    assert np.array_equal(both.sparse_times, own.times)
    assert np.array_equal(both.sparse, own.images)


def test_a_clip_not_yet_probed_gets_its_sparse_frames_too(moving_clip_with_sound: Path) -> None:
    facts = probe(moving_clip_with_sound)
    d = LibavDecoder()
    plan = Plan(2.0, decoding=REF_DECODING, sparse=Sparse(480, 2))
    early = d.frames_from(d.sample_unprobed(moving_clip_with_sound, plan), facts)
    late = d.sample(moving_clip_with_sound, plan, facts)
    assert early is not None and early.sparse is not None and late.sparse is not None
    assert np.array_equal(early.sparse, late.sparse) and np.array_equal(early.sparse_times, late.sparse_times)


def test_stills_and_animations_give_their_sparse_frames_from_one_read(still_jpeg: Path, media_dir: Path) -> None:
    """A still's one sparse frame is the image at that size; an animation's are the frames a plan of their own shows."""
    d = choose_decoder()
    still = d.sample(still_jpeg, Plan(2.0, sparse=Sparse(480, 2)))
    assert still.sparse is not None and still.sparse_times is not None and list(still.sparse_times) == [0.0]
    assert np.array_equal(still.sparse[0], d.sample(still_jpeg, Plan(1.0, long_side=480)).images[0])
    gif = media_dir / "sparse_anim.gif"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=5",
         "-t", "4", str(gif)],
        check=True, timeout=60,
    )  # fmt: skip
    facts = probe(gif)
    both = d.sample(gif, Plan(2.0, sparse=Sparse(240, 2)), facts)
    own = d.sample(gif, Plan(1.0, long_side=240), facts)
    assert both.sparse is not None and both.sparse_times is not None and len(both.sparse) == len(own) >= 3
    assert np.array_equal(both.sparse, own.images) and np.array_equal(both.sparse_times, own.times)
