"""The libav decoder (provenance.decode.libav) and its worker: same samples as ffmpeg, less work, same bounds."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import lavfi_clip, libav_sample
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance import decode, tools
from provenance.decode import DECODER_ENV, Decoding, Plan, choose_decoder, extract_frames, libav, protocol
from provenance.decode import worker as worker_script
from provenance.decode.ffmpeg import FfmpegDecoder
from provenance.decode.libav import LibavDecoder
from provenance.decode.protocol import Message
from provenance.errors import BadInputError, ProcessingError
from provenance.pipeline import QUERY_DECODING
from provenance.probe import probe

#: Largest grey-level difference between the two decoders' grey samples: both
#: decode with libavcodec and scale with the same filter chain, but Debian's
#: libswscale (5.1) and PyAV's (8.x) round area scaling to grey differently
#: (measured: at most 2 on the 111 development queries and 33 references;
#: the colour samples came out identical).
SCALER_ROUNDING = 2


@pytest.fixture(scope="module")
def bframes_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s of moving test pattern at 25 fps, x264 with 3 B-frames at 150 kb/s (many unreferenced frames)."""
    out = tmp_path_factory.mktemp("bframes") / "bframes.mp4"
    return lavfi_clip(out, "testsrc2=size=320x240:rate=25", seconds=3, extra=("-b:v", "150k", "-bf", "3"))


@pytest.fixture(scope="module")
def counter_bframes_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s at 25 fps, frame N grey level ~2N, x264 near lossless with 3 B-frames: every frame differs."""
    out = tmp_path_factory.mktemp("counter") / "counter.mp4"
    return lavfi_clip(
        out,
        "nullsrc=s=64x64:r=25:d=4,format=gray,geq=lum='N*2'",
        seconds=4,
        extra=("-crf", "1", "-bf", "3", "-x264-params", "b-adapt=0"),
    )


def _both(path: Path, **kw: object) -> tuple[decode.Frames, decode.Frames]:
    ours = extract_frames(path, decoder=choose_decoder("libav"), **kw)  # type: ignore[arg-type]
    theirs = extract_frames(path, decoder=choose_decoder("ffmpeg"), **kw)  # type: ignore[arg-type]
    return ours, theirs


@pytest.mark.parametrize("clip", ["testsrc_clip", "rotated_clip", "bframes_clip", "half_clip", "frame_counter_clip"])
@pytest.mark.parametrize("fps", [2.0, 4.0])
def test_libav_and_ffmpeg_take_the_same_samples(clip: str, fps: float, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue(clip)
    ours, theirs = _both(path, fps=fps, decoding=QUERY_DECODING, colour_long_side=96)
    assert len(ours) == len(theirs) > 0
    assert ours.images.shape == theirs.images.shape
    assert np.abs(ours.images.astype(int) - theirs.images.astype(int)).max() <= SCALER_ROUNDING
    assert ours.colour is not None and theirs.colour is not None
    assert np.array_equal(ours.colour, theirs.colour)
    assert ours.unreadable == theirs.unreadable


def test_skipping_unsampled_frames_keeps_every_sample_exact(counter_bframes_clip: Path) -> None:
    clip = counter_bframes_clip
    facts = probe(clip)
    kw = dict(fps=4.0, size=(64, 64), cap_s=facts.duration_s + 1, max_frames=100, timeout=60.0)
    full = libav_sample(clip, decoding=Decoding(threads=1), **kw)
    lean = libav_sample(clip, decoding=Decoding(threads=1, skip_unsampled=True), **kw)
    dropped = libav_sample(clip, decoding=Decoding(skip_frame="noref", threads=1), **kw)
    assert full.count == lean.count == dropped.count == 16
    assert full.decoded == 100  # 4 s at 25 fps
    assert lean.grey == full.grey  # bit for bit: no sample lost its frame
    assert lean.decoded < full.decoded  # and unsampled, unreferenced frames were skipped
    assert dropped.grey != full.grey  # control: skipping every unreferenced frame moves samples


def test_worker_address_space_is_capped() -> None:
    libav.versions()  # the worker is up
    limits = Path(f"/proc/{libav._worker.proc.pid}/limits").read_text()  # type: ignore[union-attr]
    line = next(x for x in limits.splitlines() if x.startswith("Max address space"))
    assert line.split()[3] == str(libav.WORKER_MEMORY_BYTES)


def test_time_limit_kills_the_worker_and_the_next_file_decodes(
    testsrc_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    libav.versions()  # the worker is up
    before = libav._worker
    monkeypatch.setattr(libav, "decode_timeout", lambda duration: 0.001)
    with pytest.raises(ProcessingError, match=r"testsrc\.mp4: decoding did not finish within"):
        extract_frames(testsrc_clip, fps=2.0)
    assert before is not None and before.proc.poll() is not None  # killed, not left running
    monkeypatch.undo()
    assert len(extract_frames(testsrc_clip, fps=2.0)) == 8


def test_a_worker_that_died_is_replaced(testsrc_clip: Path) -> None:
    libav.versions()  # the worker is up
    worker = libav._worker
    assert worker is not None
    os.kill(worker.proc.pid, signal.SIGKILL)
    worker.proc.wait(timeout=10)
    assert len(extract_frames(testsrc_clip, fps=2.0)) == 8
    assert libav._worker is not worker


def test_worker_crash_mid_file_is_an_error_not_an_empty_result(
    testsrc_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    libav.versions()  # the worker is up
    worker = libav._worker
    assert worker is not None
    real = worker._read_message

    def die_then_read(timeout: float, what: str) -> Message:
        if what == "decoding":
            os.kill(worker.proc.pid, signal.SIGSEGV)  # what a decoder bug on hostile input looks like
            time.sleep(0.2)
        return real(timeout, what)

    monkeypatch.setattr(worker, "_read_message", die_then_read)
    with pytest.raises(ProcessingError, match=r"testsrc\.mp4: the decoder crashed on this file"):
        extract_frames(testsrc_clip, fps=2.0)


def test_worker_cpu_is_counted() -> None:
    libav.versions()  # the worker has imported libav by now
    assert libav.worker_cpu_seconds() > 0.0


def test_unknown_decoder_name_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DECODER_ENV, "gstreamer")
    with pytest.raises(BadInputError, match="PROVENANCE_DECODER='gstreamer'"):
        choose_decoder()
    monkeypatch.setenv(DECODER_ENV, "ffmpeg")
    assert not isinstance(choose_decoder(), LibavDecoder)
    assert choose_decoder().describe().startswith("ffmpeg ")
    monkeypatch.setenv(DECODER_ENV, "libav")
    assert isinstance(choose_decoder(), LibavDecoder) and choose_decoder().describe().startswith("libav ")


def test_a_file_libav_cannot_open_is_bad_input(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 4096)
    with pytest.raises(BadInputError, match=r"junk\.mp4: no frame could be decoded"):
        libav_sample(junk, size=(64, 48), cap_s=3.0, max_frames=10)


@pytest.mark.parametrize("clip", ["testsrc_clip", "rotated_clip", "half_clip"])
def test_sampling_before_the_probe_gives_what_extract_frames_gives(clip: str, request: pytest.FixtureRequest) -> None:
    # `provenance check` samples while ffprobe runs; the worker reads the
    # display size, rotation and duration from the stream itself.
    path = request.getfixturevalue(clip)
    decoder = LibavDecoder()
    early = decoder.sample_unprobed(path, Plan(4.0, decoding=QUERY_DECODING, colour_long_side=96))
    facts = probe(path)
    got = decoder.frames_from(early, facts)
    want = extract_frames(path, fps=4.0, facts=facts, decoding=QUERY_DECODING, colour_long_side=96)
    assert got is not None
    assert np.array_equal(got.images, want.images)
    assert got.colour is not None and want.colour is not None and np.array_equal(got.colour, want.colour)
    assert got.unreadable == want.unreadable and got.warnings == want.warnings


def test_samples_taken_on_other_facts_than_the_probe_are_not_used(rotated_clip: Path) -> None:
    decoder = LibavDecoder()
    early = decoder.sample_unprobed(rotated_clip, Plan(4.0))
    facts = probe(rotated_clip)
    assert decoder.frames_from(early, facts) is not None
    assert decoder.frames_from(early, replace(facts, rotation=0.0)) is None
    # A probe that says the clip is shorter cuts the samples sooner: those taken are not the same.
    assert decoder.frames_from(early, replace(facts, duration_s=facts.duration_s - 2.0)) is None
    # One that says it is longer cuts them later, but the stream ends first: the samples are the same.
    longer = replace(facts, duration_s=facts.duration_s + 2.0)
    kept = decoder.frames_from(early, longer)
    assert kept is not None and np.array_equal(kept.images, decoder.sample(rotated_clip, Plan(4.0), longer).images)


@pytest.fixture(scope="module")
def tagged_clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Clips whose facts a rule reads: QuickTime tags (dates, a place, a make), sound beside the
    picture, another container, a cover picture beside the video."""
    d = tmp_path_factory.mktemp("tagged")
    src = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440"]
    tags = ["-metadata", "creation_time=2021-03-04T05:06:07Z", "-metadata", "location=+48.8577+002.2950/",
            "-metadata", "make=Apple", "-metadata", "model=iPhone 12", "-metadata", "title=ünïcödé <b>&</b>"]  # fmt: skip
    out = []
    for name, extra in (
        ("phone.mov", ["-c:v", "libx264", "-c:a", "aac", *tags, "-movflags", "+use_metadata_tags"]),
        ("sound.mkv", ["-c:v", "libx264", "-c:a", "libopus", *tags]),
        ("web.webm", ["-c:v", "libvpx-vp9", "-b:v", "200k", "-c:a", "libopus"]),
        ("old.avi", ["-c:v", "mpeg4", "-c:a", "mp3"]),
    ):
        path = d / name
        tools.run_ffmpeg(
            [*src, "-t", "2", "-pix_fmt", "yuv420p", *extra, "-y", str(path)], timeout=120, max_stdout=1 << 16
        )
        out.append(path)
    return out


def test_the_workers_reading_of_a_container_is_ffprobes(
    tagged_clips: list[Path], rotated_clip: Path, viral_clip: Path
) -> None:
    # A check reads a video's facts from the worker's reading (no ffprobe started); the metadata rules
    # see the same facts as from ffprobe: tags, streams, codecs, rates, sizes, rotation, dates, place.
    from conftest import assert_same_reading

    from provenance.probe import probe_reading
    from provenance.query import _turned

    decoder = LibavDecoder()
    for clip in [*tagged_clips, rotated_clip, viral_clip]:
        read: list[dict[str, object]] = []
        early = decoder.sample_unprobed(clip, Plan(4.0), container=read.append)
        assert len(read) == 1 and early.chosen is not None, clip
        facts = _turned(probe_reading(clip, read[0]), early.chosen.rotation)
        want = probe(clip)
        assert_same_reading(facts, want)
        assert facts.dates and facts.dates == want.dates or clip.suffix not in (".mov", ".mkv")
    assert probe(rotated_clip).rotation == 90.0


def test_the_workers_frame_size_rule_is_the_librarys() -> None:
    sizes = [
        (w, h) for w in (2, 3, 176, 320, 719, 720, 1080, 1280, 1920, 3840) for h in (2, 5, 144, 240, 405, 720, 1920)
    ]
    for long_side in (64, 128, 320):
        assert all(worker_script.work_size(w, h, long_side) == decode.work_size(w, h, long_side) for w, h in sizes)


def test_sampling_before_the_probe_keeps_the_time_limit_of_the_clips_length(
    testsrc_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before the probe only the file's size bounds the length (60 s or more);
    # once the worker has read the clip's 4 s, the limit is that of 4 s.
    monkeypatch.setattr(libav, "decode_timeout", lambda seconds: 1000.0 if seconds >= 60 else 0.001)
    with pytest.raises(ProcessingError, match="did not finish within 0 s"):
        LibavDecoder().sample_unprobed(testsrc_clip, Plan(4.0))
    monkeypatch.undo()
    assert len(LibavDecoder().sample_unprobed(testsrc_clip, Plan(4.0)).raw.grey) > 0


@pytest.mark.parametrize("clip", ["bframes_clip", "rotated_clip", "counter_bframes_clip"])
def test_report_frames_from_the_worker_are_ffmpegs(clip: str, request: pytest.FixtureRequest) -> None:
    # The first frame at or after each time, in colour, byte for byte what the
    # ffmpeg grab gives (same filter chain), though unneeded unreferenced frames are skipped.
    path = request.getfixturevalue(clip)
    facts = probe(path)
    size = decode.work_size(*facts.display_size, 96)
    wanted = [0.0, 0.33, 0.5, 1.02, 1.5, 2.2, 2.2]
    ours = LibavDecoder().grab_in_worker(path, wanted, size, facts.duration_s)
    theirs = FfmpegDecoder().grab_seeking(path, wanted, size)
    assert ours is not None
    assert all(b is not None and np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True))


@pytest.mark.parametrize("clip", ["bframes_clip", "rotated_clip", "counter_bframes_clip"])
def test_two_sizes_grabbed_in_one_decode_are_the_frames_each_grab_gives(
    clip: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Verify's window of a reference (small, every quarter second) and the report's frames of it (larger,
    # at the pairs' times) from one pass: each set byte for byte what its own grab gives, one request.
    path = request.getfixturevalue(clip)
    media = decode.Media.of(probe(path))
    window = [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
    report = [0.33, 1.02, 1.6]
    decoder = LibavDecoder()
    alone = decoder.grab(path, window, media, 64), decoder.grab(path, report, media, 160)
    asked: list[protocol.GrabRequest] = []
    real = libav.grab
    monkeypatch.setattr(libav, "grab", lambda req, timeout: asked.append(req) or real(req, timeout=timeout))
    both = decoder.grab_both(path, window, media, 64, report, 160)
    assert len(asked) == 1 and len(asked[0].more) == 1
    for one, other in zip(alone, both, strict=True):
        assert len(one) == len(other)
        assert all(a is not None and b is not None and np.array_equal(a, b) for a, b in zip(one, other, strict=True))
    assert [max(x[0].shape[:2]) for x in both if x[0] is not None] == [64, 160]
    # The command-line decoder takes each set on its own: the same frames.
    ffmpeg = FfmpegDecoder().grab_both(path, window, media, 64, report, 160)
    assert [len(x) for x in ffmpeg] == [len(window), len(report)]
    assert all(f is not None for f in ffmpeg[0] + ffmpeg[1])


@pytest.fixture(scope="module")
def twelve_second_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s of a moving test pattern, a keyframe every second: frames deep into a file to seek to."""
    return lavfi_clip(tmp_path_factory.mktemp("seek") / "twelve.mp4", "testsrc2=size=320x240:rate=25", seconds=12)


def _worker_grab(path: Path, targets: list[float]) -> tuple[tuple[float, ...], list[bytes]]:
    # The worker script loads its own copy of the protocol module (it runs as a file of its own).
    wire = worker_script.protocol
    reply, parts = worker_script.grab(
        wire.GrabRequest(str(path), tuple(targets), (64, 48), tools.FORMAT_WHITELIST, 1 << 22)
    )
    assert isinstance(reply, wire.GrabReply)
    return reply.found, parts


def test_frames_deep_into_a_file_are_grabbed_from_the_keyframe_before_them(
    twelve_second_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Targets past `SEEK_FROM_S` start at the keyframe before the first (verify's window and the
    # report's frames deep into a long reference): the same frames, byte for byte, as a decode
    # from the file's start, which reaches (and decodes) every earlier frame to get there.
    targets = [7.3, 7.32, 9.0, 11.96]
    seen: list[float] = []
    real_seek = worker_script._seek
    monkeypatch.setattr(worker_script, "_seek", lambda c, s, at: seen.append(at) or real_seek(c, s, at))
    found, parts = _worker_grab(twelve_second_clip, targets)
    assert seen == [7.3 - worker_script.SEEK_BACK_S]
    monkeypatch.setattr(worker_script, "SEEK_FROM_S", 1e9)
    assert _worker_grab(twelve_second_clip, targets) == (found, parts)
    assert found == tuple(targets)


def test_a_seek_that_lands_past_the_first_target_decodes_from_the_start(
    twelve_second_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An index that misleads (the seek lands after the frame a target needs) must not give a
    # later frame for that target: the grab starts again from the file's start.
    targets = [6.5, 8.0]
    real_seek = worker_script._seek
    monkeypatch.setattr(worker_script, "_seek", lambda c, s, at: real_seek(c, s, at + 3.0))
    misled = _worker_grab(twelve_second_clip, targets)
    monkeypatch.setattr(worker_script, "SEEK_FROM_S", 1e9)
    assert misled == _worker_grab(twelve_second_clip, targets)


@settings(max_examples=60, deadline=None)
@given(
    targets=st.lists(st.floats(min_value=0, max_value=1e5, allow_nan=False), max_size=8),
    size=st.tuples(st.integers(2, 8192), st.integers(2, 8192)),
    fps=st.floats(min_value=0.1, max_value=120),
    threads=st.none() | st.integers(1, 16),
    skip=st.sampled_from([None, "noref", "bidir"]),
)
def test_protocol_messages_round_trip(
    targets: list[float], size: tuple[int, int], fps: float, threads: int | None, skip: str | None
) -> None:
    decoding = Decoding(skip_frame=skip, threads=threads, skip_unsampled=True)  # type: ignore[arg-type]
    messages = [
        protocol.GrabRequest("/a b/ü.mp4", tuple(targets), size, "mov,mp4", 1 << 26),
        protocol.SampleRequest("/x.mp4", fps, 40, "avi", 100, decoding, size=size, colour=size, cap_s=9.5),
        protocol.SampleRequest("/x.mp4", fps, 40, "avi", 100, decoding, plan=protocol.UnprobedPlan(128, None, 120, 60)),
        protocol.SampleReply(3, True, 1, 9, "x", protocol.ChosenPlan(size, size, None, 90, 4.0, 4.04)),
        # The sparse second size (a reference's features frames) in each message that carries it.
        protocol.SampleRequest("/x.mp4", fps, 40, "avi", 100, decoding, size=size, sparse_size=size, sparse_every=2),
        protocol.SampleRequest(
            "/x.mp4",
            fps,
            40,
            "avi",
            100,
            decoding,
            plan=protocol.UnprobedPlan(128, None, 120, 60, None, protocol.Sparse(480, 2)),
        ),  # fmt: skip
        protocol.SampleReply(
            3, False, 0, 9, "", protocol.ChosenPlan(size, size, None, 0, 4.0, 4.0, 0, None, (), size), (), 2
        ),
        protocol.GrabReply(tuple(targets)),
        protocol.GrabRequest("/x.mp4", tuple(targets), size, "mp4", 1 << 26, 1, ((tuple(targets), size), ((), size))),
        protocol.GrabReply(tuple(targets), (tuple(targets), ())),
        protocol.Refusal(protocol.ErrorKind.BAD_INPUT, "no video stream with a frame size"),
        protocol.Examined(fps),
        protocol.Examined(fps, {"format": {"format_name": "mov,mp4", "tags": {"ü": "x"}}, "streams": []}),
        protocol.SampleReply(
            1, False, 0, 1, "", protocol.ChosenPlan(size, size, None, 270, 1.0, 1.0, 0, rotation=90.0)
        ),
        protocol.Ready("18.1.0", "8.1.2"),
    ]
    for message in messages:
        line = protocol.encode(message)
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        assert protocol.decode(line) == message


def test_a_sparse_request_needs_a_size_and_a_step() -> None:
    decoding = Decoding()
    with pytest.raises(ValueError, match="sparse frames"):
        protocol.SampleRequest("/x.mp4", 2.0, 40, "avi", 100, decoding, size=(128, 72), sparse_size=(480, 270))
    with pytest.raises(ValueError, match="sparse frames"):
        protocol.SampleRequest("/x.mp4", 2.0, 40, "avi", 100, decoding, size=(128, 72), sparse_every=2)
    with pytest.raises(ValueError, match="not a sparse plan"):
        protocol.Sparse(480, 0)
    assert [protocol.Sparse(480, 2).count(n) for n in (0, 1, 2, 3, 241)] == [0, 1, 1, 2, 121]


def test_the_worker_refuses_a_malformed_request_as_such() -> None:
    import io

    out = io.BytesIO()
    worker_script.serve(io.BytesIO(b'{"type": "grab", "path": "/x.mp4"}\n[1]\n'), out)
    ready, *replies = [protocol.decode(line) for line in out.getvalue().splitlines()]
    assert isinstance(ready, protocol.Ready)
    assert [r.kind for r in replies] == [protocol.ErrorKind.REQUEST] * 2  # type: ignore[union-attr]


def test_a_clip_whose_container_and_ffprobe_disagree_by_a_frame_is_sampled_once(tmp_path: Path) -> None:
    """A stream starting at 0.066 s: PyAV's container says 6.0 s, ffprobe 6.067 s. The early samples
    are those `sample` gives once probed (both caps let the same ticks through), so they are kept."""
    import subprocess

    from provenance.query import Role, plan_for

    clip = tmp_path / "late_start.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15", "-t", "6",
         "-c:v", "libx264", "-preset", "veryfast", "-output_ts_offset", "0.066", str(clip)],
        check=True, timeout=60,
    )  # fmt: skip
    facts = probe(clip)
    d = LibavDecoder()
    plan = plan_for(Role.QUERY, keyframes=160)
    early = d.sample_unprobed(clip, plan)
    assert early.chosen is not None and abs(early.chosen.examined_s - facts.duration_s) > 1e-3
    kept = d.frames_from(early, facts)
    assert kept is not None
    again = d.sample(clip, plan, facts)
    assert np.array_equal(kept.images, again.images) and np.array_equal(kept.times, again.times)
    assert kept.colour is not None and again.colour is not None and np.array_equal(kept.colour, again.colour)


def test_a_window_deep_in_a_long_reference_is_one_pass_of_the_worker(
    twelve_second_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Verify's window 460-486 s into a 500 s reference: the worker seeks to the keyframe before it,
    # so one pass pays; judged from the file's start it did not (105 frames, 4 s each, < 486 s), and
    # each frame was an ffmpeg seek of its own (a 600 s file's window: 5.1 -> 0.54 CPU s).
    from conftest import ffmpeg

    long = tmp_path / "long.mp4"
    ffmpeg("-stream_loop", "41", "-i", twelve_second_clip, "-c", "copy", long)
    media = decode.Media.of(probe(long))
    assert media.duration_s > 490
    wanted = [460 + k / 4 for k in range(105)]

    def no_seeking(*args: object, **kwargs: object) -> None:
        raise AssertionError("grabbed by seeking to each frame")

    monkeypatch.setattr(FfmpegDecoder, "grab_seeking", no_seeking)
    frames = LibavDecoder().grab(long, wanted, media, 64)
    assert len(frames) == 105 and all(f is not None for f in frames)
