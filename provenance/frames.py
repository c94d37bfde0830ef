"""Stage 3, frames: sample a clip into small grey frames with timestamps.

The file is decoded once, sampled at a fixed rate and scaled inside a
libavfilter chain, by the libav worker (`provenance.libav`) or by one ffmpeg
command (filter graph built with ffmpeg-python, ``PROVENANCE_DECODER=ffmpeg``),
so Python only ever sees small arrays::

    >>> frames = extract_frames("samples/viral.mp4", facts=probe("samples/viral.mp4"), fps=4)
    >>> frames.images.shape[1:], frames.times[:3]
    ((128, 72), array([0.  , 0.25, 0.5 ]))

Still images give one frame at t = 0. `shot_keyframes` picks one frame per
shot from the sampled frames; `write_keyframes` writes them as JPEG.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import libav, tools
from .errors import BadInputError, ProcessingError
from .probe import MediaFacts, probe

#: Long side of the sampled frames, in pixels. Enough for a 32x32 pHash of a
#: region as small as a 50% picture-in-picture, small enough that an hour of
#: reference at 2 frames/s fits in ~100 MB.
WORK_SIZE = 128
#: Most footage examined in one call, seconds; longer files are cut with a warning.
MAX_DURATION_S = 4 * 3600.0
#: Fewest bytes a second of real video takes. The cheapest encoding measured
#: here, one static 320x240 frame a second in x264, takes 37 B/s. A file that
#: declares more seconds than its size can hold (a 1.5 kB MP4 showing one
#: black frame for 10 hours) is examined only as far as its bytes reach, so a
#: tiny file cannot buy hours of decoding.
MIN_BYTES_PER_S = 25.0
#: Examined whatever the file's size, seconds.
MIN_EXAMINED_S = 60.0
#: Largest decoded frame accepted, in pixels (width x height as declared).
MAX_FRAME_PIXELS = tools.MAX_FRAME_PIXELS
#: Decoding must run at least this many times faster than real time.
MIN_DECODE_SPEED = 2.0
#: Fixed part of the decode time limit, seconds.
DECODE_TIMEOUT_BASE_S = 60.0
#: Mean absolute grey difference (0-255) between sampled frames that starts a new shot.
SHOT_CHANGE_THRESHOLD = 28.0
#: Longest clip whose colour samples `extract_frames(colour_long_side=...)`
#: keeps beside the grey ones, seconds (2 min at 4 frames/s and 320x180 is
#: ~83 MB). Longer clips have their few report frames grabbed afterwards.
COLOUR_MAX_S = 120.0
#: The AVDiscard values accepted for ``-skip_frame`` (``all`` would leave no
#: frame) and for ``-skip_loop_filter``.
SKIP_FRAME_VALUES = frozenset({"default", "noref", "bidir", "nointra", "nokey"})
SKIP_LOOP_FILTER_VALUES = SKIP_FRAME_VALUES | {"all"}


@dataclass(frozen=True)
class Decoding:
    """How the decoder may save work while sampling (ffmpeg input options).

    `skip_frame`: frames it may skip, an AVDiscard value (``noref``: frames
    nothing refers to; ``bidir``). `threads`: decoder threads (``-threads``),
    ffmpeg's default when None. `skip_loop_filter`: frames whose in-loop
    deblocking filter it may skip, an AVDiscard value: ``all`` (the block
    edges it would smooth are averaged away when frames are scaled down, but
    every later frame that refers to an unfiltered one inherits the
    difference) or ``noref`` (only frames nothing refers to, so no
    difference propagates). `skip_unsampled`: the libav decoder
    (`provenance.libav`) also skips frames nothing refers to that are no
    sample, so the samples are those of a full decode at less cost; the
    ffmpeg command line, which cannot, decodes them. The default decodes
    every frame in full.
    """

    skip_frame: str | None = None
    threads: int | None = None
    skip_loop_filter: str | None = None
    skip_unsampled: bool = False

    def __post_init__(self) -> None:
        if self.skip_frame is not None and self.skip_frame not in SKIP_FRAME_VALUES:
            raise ValueError(f"unknown skip_frame value {self.skip_frame!r}")  # AVDiscard: "noref", not "nonref"
        if self.skip_loop_filter is not None and self.skip_loop_filter not in SKIP_LOOP_FILTER_VALUES:
            raise ValueError(f"unknown skip_loop_filter value {self.skip_loop_filter!r}")

    def args(self) -> list[str]:
        """The ffmpeg options, to go before the input."""
        out = ["-skip_frame", self.skip_frame] if self.skip_frame else []
        if self.threads is not None:
            out += ["-threads", str(int(self.threads))]
        if self.skip_loop_filter:
            out += ["-skip_loop_filter", self.skip_loop_filter]
        return out


@dataclass(frozen=True)
class Frames:
    """Frames sampled from one file: timestamps (s) and grey images (N, H, W) uint8.

    `unreadable` lists (start_s, end_s) spans that could not be decoded;
    `decode_errors` counts the decoder's error messages.
    """

    times: np.ndarray
    images: np.ndarray
    fps: float
    duration_s: float
    unreadable: tuple[tuple[float, float], ...] = ()
    decode_errors: int = 0
    warnings: tuple[str, ...] = field(default=())
    #: The same samples in colour (N, h, w, 3) RGB, when asked for and the clip is short enough.
    colour: np.ndarray | None = None

    def colour_at(self, t: float) -> np.ndarray | None:
        """The colour sample nearest time `t`, or None when colour samples were not kept."""
        if self.colour is None or len(self.colour) == 0:
            return None
        if self.fps <= 0:
            return self.colour[0]
        i = int(round(float(t) * self.fps))
        return self.colour[min(max(i, 0), len(self.colour) - 1)]

    def __len__(self) -> int:
        return len(self.times)


def decoder(*, still: bool = False) -> str:
    """Which decoder samples frames, with its version, for reports.

    ``libav 8.1.2 (PyAV 18.1.0)`` for the worker (`provenance.libav`),
    ``ffmpeg 5.1.9-0+deb12u1 command line``, or for a still image
    (`still`) ``Pillow 13.0.0``.
    """
    if still:
        from importlib.metadata import version

        return f"Pillow {version('pillow')}"
    if libav.available():
        v = libav.versions()
        return f"libav {v['libav']} (PyAV {v['pyav']})"
    return f"ffmpeg {tools.ffmpeg_version()} command line"


def work_size(width: int, height: int, long_side: int = WORK_SIZE) -> tuple[int, int]:
    """(w, h) of the sampled frames for a display size, keeping its aspect, even numbers."""
    if width <= 0 or height <= 0:
        raise ValueError("frame size must be positive")
    scale = long_side / max(width, height)
    w = max(2, int(round(width * scale / 2)) * 2)
    h = max(2, int(round(height * scale / 2)) * 2)
    return w, h


def _decode_timeout(duration_s: float) -> float:
    return DECODE_TIMEOUT_BASE_S + duration_s / MIN_DECODE_SPEED


def extract_frames(
    path: Path | str,
    *,
    fps: float,
    facts: MediaFacts | None = None,
    long_side: int = WORK_SIZE,
    decoding: Decoding = Decoding(),
    max_duration_s: float = MAX_DURATION_S,
    colour_long_side: int | None = None,
) -> Frames:
    """Sample grey frames at a fixed rate.

    Args:
        path: video or still image.
        fps: samples per second.
        facts: the file's probe result (probed here when not given).
        long_side: long side of the sampled frames in pixels.
        decoding: what the decoder may skip, and its threads (`Decoding`).
        max_duration_s: most seconds examined; longer files are cut with a warning.
        colour_long_side: also keep every sample in colour (RGB) at this long
            side, from the same decode, when the clip is at most `COLOUR_MAX_S`
            long (`Frames.colour`); the report's thumbnails then need no
            second decode.

    Returns:
        The sampled `Frames`.

    Raises:
        BadInputError: the file does not decode at all, or is absurdly large.
        ProcessingError: ffmpeg failed or exceeded its time limit.
    """
    facts = facts or probe(path)
    if facts.kind == "image":
        return _image_frames(Path(path), long_side)
    plan = _plan(path, facts, fps, long_side, max_duration_s, colour_long_side)
    if libav.available():
        got = libav.sample(
            tools.regular_file(path),
            fps=fps,
            size=plan.size,
            cap_s=plan.duration + 1,
            max_frames=plan.expected,
            rotation=facts.rotation,
            decoding=decoding,
            format_whitelist=tools.FORMAT_WHITELIST,
            max_pixels=MAX_FRAME_PIXELS,
            colour_size=plan.colour_size,
            timeout=_decode_timeout(plan.duration),
        )
        return _frames(path, facts, plan, fps, _Raw.of(got, plan.colour_size))
    return _frames(path, facts, plan, fps, _ffmpeg_samples(path, fps, plan, decoding))


@dataclass(frozen=True)
class _Plan:
    """What one sampling run is asked for, from the media facts."""

    size: tuple[int, int]
    duration: float  # seconds examined
    colour_size: tuple[int, int] | None
    expected: int  # most samples
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class _Raw:
    """What a decoder returned: samples as bytes, its error count and last message."""

    count: int
    grey: bytes
    errors: int
    reason: str
    stopped: str = ""
    colour: np.ndarray | None = None

    @classmethod
    def of(cls, got: libav.Sampled, colour_size: tuple[int, int] | None) -> _Raw:
        colour = None
        if got.colour is not None and colour_size is not None and got.count:
            cw, ch = colour_size
            colour = np.frombuffer(got.colour, dtype=np.uint8).reshape(got.count, ch, cw, 3)
        return cls(got.count, got.grey, got.errors, got.last_error, "", colour)


def _held_by(size_bytes: int) -> float:
    """Most seconds of video a file of `size_bytes` is examined for (`MIN_BYTES_PER_S`, `MIN_EXAMINED_S`)."""
    return max(MIN_EXAMINED_S, size_bytes / MIN_BYTES_PER_S)


def _plan(
    path: Path | str,
    facts: MediaFacts,
    fps: float,
    long_side: int,
    max_duration_s: float,
    colour_long_side: int | None,
) -> _Plan:
    if facts.width * facts.height > MAX_FRAME_PIXELS:
        raise BadInputError(
            f"{path}: declared frame size {facts.width}x{facts.height} is larger than the "
            f"{MAX_FRAME_PIXELS} pixels accepted; the file is damaged or hostile"
        )
    disp_w, disp_h = facts.display_size
    by_size = _held_by(facts.size_bytes)
    limit = min(max_duration_s, by_size)
    duration = min(facts.duration_s, limit)
    warnings = []
    if facts.duration_s > limit:
        why = f": {facts.size_bytes} bytes cannot hold {facts.duration_s:.0f} s of video" if limit == by_size else ""
        warnings.append(f"only the first {limit:.0f} s of {facts.duration_s:.0f} s were examined{why}")
    keep_colour = colour_long_side is not None and 0 < duration <= COLOUR_MAX_S
    return _Plan(
        size=work_size(disp_w, disp_h, long_side),
        duration=duration,
        colour_size=work_size(disp_w, disp_h, colour_long_side) if keep_colour and colour_long_side else None,
        expected=int(math.ceil((duration + 1) * fps)) + 2,
        warnings=tuple(warnings),
    )


def _frames(path: Path | str, facts: MediaFacts, plan: _Plan, fps: float, raw: _Raw) -> Frames:
    """`Frames` from a decoder's samples, with the warnings and unreadable spans they show."""
    w, h = plan.size
    count, duration, warnings = raw.count, plan.duration, list(plan.warnings)
    if count == 0:
        raise BadInputError(
            f"{path}: no frame could be decoded ({raw.reason or 'no frame decoded'}); the file is damaged or not a video"
        )
    if raw.stopped:
        warnings.append(f"ffmpeg stopped early: {raw.stopped}")
    images = np.frombuffer(raw.grey[: count * w * h], dtype=np.uint8).reshape(count, h, w)
    times = np.arange(count, dtype=np.float64) / fps
    unreadable: list[tuple[float, float]] = []
    last = float(times[-1]) + 1.0 / fps
    if facts.duration_s > 0 and last < min(duration, facts.duration_s) - 1.0:
        unreadable.append((round(last, 3), round(min(duration, facts.duration_s), 3)))
        warnings.append(f"seconds {last:.1f}-{min(duration, facts.duration_s):.1f} could not be decoded")
    if raw.errors:
        warnings.append(f"the decoder reported {raw.errors} error(s); some frames may be damaged")
    colour = raw.colour
    return Frames(
        times=times,
        images=images,
        fps=fps,
        duration_s=facts.duration_s,
        unreadable=tuple(unreadable),
        decode_errors=raw.errors,
        warnings=tuple(warnings),
        colour=colour if colour is not None and len(colour) >= count else None,
    )


@dataclass(frozen=True)
class Unprobed:
    """Samples taken before the file was probed, with what the decoder assumed (`sample_unprobed`)."""

    path: str
    fps: float
    long_side: int
    max_duration_s: float
    colour_long_side: int | None
    sampled: libav.Sampled


def sample_unprobed(
    path: Path | str,
    *,
    fps: float,
    long_side: int = WORK_SIZE,
    decoding: Decoding = Decoding(),
    max_duration_s: float = MAX_DURATION_S,
    colour_long_side: int | None = None,
) -> Unprobed:
    """Sample a video with the libav worker before ffprobe has described it (run the probe meanwhile).

    The worker takes the display size, rotation and duration from the stream
    itself; `frames_from` then checks them against the probe's facts. For
    `provenance check`, which would otherwise wait for ffprobe before decoding.

    Raises:
        BadInputError, ProcessingError: as `extract_frames`.
    """
    file = tools.regular_file(path)
    limit = min(max_duration_s, _held_by(file.stat().st_size))
    got = libav.sample(
        file,
        fps=fps,
        size=None,
        cap_s=limit + 1,
        max_frames=int(math.ceil((limit + 1) * fps)) + 2,
        rotation=0.0,
        decoding=decoding,
        format_whitelist=tools.FORMAT_WHITELIST,
        max_pixels=MAX_FRAME_PIXELS,
        colour_size=None,
        timeout=_decode_timeout(limit),
        timeout_for=_decode_timeout,
        plan={
            "long_side": long_side,
            "colour_long_side": colour_long_side,
            "colour_max_s": COLOUR_MAX_S,
            "limit_s": limit,
        },
    )
    return Unprobed(str(path), fps, long_side, max_duration_s, colour_long_side, got)


def frames_from(unprobed: Unprobed, facts: MediaFacts) -> Frames | None:
    """The `Frames` of `sample_unprobed`, once the probe's `facts` are known.

    None when the decoder's reading of the stream (display size, rotation,
    seconds examined, colour samples) differs from what `extract_frames`
    would have asked for with `facts`: sample again with `extract_frames`.

    Raises:
        BadInputError: no frame decoded.
    """
    got = unprobed.sampled
    plan = _plan(
        unprobed.path, facts, unprobed.fps, unprobed.long_side, unprobed.max_duration_s, unprobed.colour_long_side
    )
    chose = got.plan
    if chose is None:
        return _frames(unprobed.path, facts, plan, unprobed.fps, _Raw.of(got, None)) if got.count == 0 else None
    clockwise = round(-facts.rotation / 90.0) % 4 * 90
    agrees = (
        tuple(chose.get("size") or ()) == plan.size
        and tuple(chose.get("display") or ()) == facts.display_size
        and int(chose.get("clockwise", -1)) == clockwise
        and abs(float(chose.get("examined_s", -1.0)) - plan.duration) < 1e-3
        and (tuple(chose["colour"]) if chose.get("colour") else None) == plan.colour_size
    )
    if not agrees:
        return None
    return _frames(unprobed.path, facts, plan, unprobed.fps, _Raw.of(got, plan.colour_size))


def _ffmpeg_samples(path: Path | str, fps: float, plan: _Plan, decoding: Decoding) -> _Raw:
    """Sample with one ffmpeg run."""
    import ffmpeg  # ffmpeg-python builds the filter graph; tools.run executes it

    w, h = plan.size
    duration, colour_size, expected = plan.duration, plan.colour_size, plan.expected
    # round=up: the sample for tick n/fps is the last frame at or before it. With
    # round=near the fps filter emits the last frame *before (n + 0.5)/fps*, so
    # labels ran late by half a sample period (0.24 s at 2 fps, 0.12 s at 4 fps),
    # and references and queries sampled at different rates disagreed.
    stream = ffmpeg.input("pipe:").video.filter("fps", fps=fps, round="up")
    # trim right after fps: at the end of the stream fps repeats the last frame
    # up to the declared end (36000 s of one frame = 144000 copies at 4 fps),
    # and output -t alone still lets every copy through scale first.
    stream = stream.filter("trim", duration=f"{duration + 1:.3f}")
    keep_colour = colour_size is not None
    with tempfile.TemporaryDirectory(prefix="provenance-colour-") as tmp:
        colour_file = os.path.join(tmp, "colour.rgb")
        grey_branch = stream
        if colour_size is not None:
            cw, ch = colour_size
            split = stream.split()
            grey_branch = split[0]
            colour = ffmpeg.output(
                split[1].filter("scale", cw, ch, flags="area"),
                f"file:{colour_file}", format="rawvideo", pix_fmt="rgb24", t=f"{duration + 1:.3f}",
                fs=str(cw * ch * 3 * expected),
            )  # fmt: skip
        grey = ffmpeg.output(
            grey_branch.filter("scale", w, h, flags="area").filter("format", "gray"),
            "pipe:", format="rawvideo", pix_fmt="gray", t=f"{duration + 1:.3f}",
        )  # fmt: skip
        graph = ffmpeg.merge_outputs(grey, colour) if keep_colour else grey
        out_args = graph.get_args()
        # ffmpeg-python puts "-i pipe:" first; replace it with the confined input.
        i = out_args.index("-i")
        argv = [*decoding.args(), *tools.input_args(path), *out_args[i + 2 :]]
        frame_bytes = w * h
        result = tools.run_ffmpeg(
            argv, timeout=_decode_timeout(duration), max_stdout=frame_bytes * expected + frame_bytes
        )
        colour_samples = None
        if keep_colour and os.path.isfile(colour_file):
            data = np.fromfile(colour_file, dtype=np.uint8)
            n = len(data) // (cw * ch * 3)
            colour_samples = data[: n * cw * ch * 3].reshape(n, ch, cw, 3) if n else None
    raw = result.stdout
    count = len(raw) // frame_bytes
    errors = len(re.findall(r"error|invalid|corrupt|missing", result.stderr, re.IGNORECASE))
    stopped = _last_line(result.stderr) if result.returncode != 0 and count else ""
    return _Raw(count, raw, errors, _last_line(result.stderr), stopped, colour_samples)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][-200:] if lines else ""


def load_image(path: Path, *, grey: bool = True) -> np.ndarray:
    """Decode a still image (EXIF orientation applied) as a grey or RGB array."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as img:
            upright = ImageOps.exif_transpose(img)
            return np.asarray(upright.convert("L" if grey else "RGB"))
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadInputError(f"{path}: image cannot be decoded ({exc}); the file is damaged") from exc


def _image_frames(path: Path, long_side: int) -> Frames:
    import cv2

    pixels = load_image(path)
    w, h = work_size(pixels.shape[1], pixels.shape[0], long_side)
    small = cv2.resize(pixels, (w, h), interpolation=cv2.INTER_AREA)
    return Frames(times=np.zeros(1), images=small[None, :, :], fps=0.0, duration_s=0.0)


@dataclass(frozen=True)
class Keyframe:
    """A representative frame of one shot: its time and the shot's span."""

    t: float
    shot_start_s: float
    shot_end_s: float

    def to_dict(self) -> dict[str, float]:
        return {"t": self.t, "shot_start_s": self.shot_start_s, "shot_end_s": self.shot_end_s}


def shot_keyframes(frames: Frames, *, threshold: float = SHOT_CHANGE_THRESHOLD) -> list[Keyframe]:
    """One keyframe per shot, found from the sampled frames (no second decode).

    A shot starts where the mean absolute grey difference between consecutive
    samples exceeds `threshold`; its keyframe is the sample nearest its middle.
    """
    if len(frames) == 0:
        return []
    imgs = frames.images.astype(np.int16)
    diffs = np.abs(np.diff(imgs, axis=0)).mean(axis=(1, 2)) if len(frames) > 1 else np.zeros(0)
    starts = [0, *(int(i) + 1 for i in np.nonzero(diffs > threshold)[0])]
    end_t = frames.duration_s if frames.duration_s > 0 else float(frames.times[-1])
    out = []
    for k, s in enumerate(starts):
        e = starts[k + 1] if k + 1 < len(starts) else len(frames)
        mid = (s + e - 1) // 2
        shot_end = float(frames.times[e]) if e < len(frames) else end_t
        out.append(Keyframe(t=float(frames.times[mid]), shot_start_s=float(frames.times[s]), shot_end_s=shot_end))
    return out


def grab_frame(path: Path | str, t: float, *, facts: MediaFacts, long_side: int = 360) -> np.ndarray:
    """One colour frame (RGB, uint8) at time `t`, scaled to `long_side`.

    Raises:
        ProcessingError: when no frame can be decoded at `t`.
    """
    if facts.kind == "image":
        import cv2

        rgb = load_image(Path(path), grey=False)
        w, h = work_size(rgb.shape[1], rgb.shape[0], long_side)
        return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
    disp_w, disp_h = facts.display_size
    w, h = work_size(disp_w, disp_h, long_side)
    argv = [
        *tools.input_args(path, seek_s=max(0.0, t)),
        "-frames:v",
        "1",
        "-vf",
        f"scale={w}:{h}:flags=area",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "pipe:",
    ]
    result = tools.run_ffmpeg(argv, timeout=60, max_stdout=w * h * 3 + 1)
    if len(result.stdout) < w * h * 3:
        raise ProcessingError(f"{path}: no frame could be decoded at {t:.2f} s")
    return np.frombuffer(result.stdout[: w * h * 3], dtype=np.uint8).reshape(h, w, 3)


def write_keyframes(
    path: Path | str, out_dir: Path | str, *, facts: MediaFacts | None = None, fps: float = 2.0
) -> list[Path]:
    """Write one JPEG per shot into `out_dir`, named by time (``shot003_t12.500.jpg``).

    Returns:
        The written files, in time order.
    """
    import cv2

    facts = facts or probe(path)
    frames = extract_frames(path, fps=fps, facts=facts)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for n, key in enumerate(shot_keyframes(frames)):
        rgb = grab_frame(path, key.t, facts=facts, long_side=640)
        target = out / f"shot{n:03d}_t{key.t:08.3f}.jpg"
        cv2.imwrite(str(target), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
        written.append(target)
    return written
